from collections.abc import Iterator

from sqlmodel import Session, create_engine

from app.core.config import settings

# A sale day sends dozens of checkouts at once: enough connections kept open for all of
# them, so none waits for the pool (or for a new connection) while another holds a lock.
engine = create_engine(
    str(settings.DATABASE_URL),
    pool_size=30,
    max_overflow=10,
    # Never wait forever for a lock: behind a stuck session (an admin's open transaction,
    # a long migration) every checkout of that book would hang, holding a thread and a
    # connection each. After this long PostgreSQL gives up with 55P03 (lock_not_available),
    # which the API answers 503 + Retry-After (app/api/errors.py).
    connect_args={"options": f"-c lock_timeout={settings.LOCK_TIMEOUT_SECONDS}s"},
)


def get_session() -> Iterator[Session]:
    # One session per request, closed when the response is done, even on an error.
    # Closing rolls back whatever was not committed: an error half-way changes nothing.
    with Session(engine) as session:
        yield session
