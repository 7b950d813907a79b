from collections.abc import Iterator

from sqlmodel import Session, create_engine

from app.core.config import settings

# A sale day sends dozens of checkouts at once: enough connections kept open for all of
# them, so none waits for the pool (or for a new connection) while another holds a lock.
# TODO: a checkout of a book that a stuck admin session has locked never answers: the
# request (and its thread, and its connection) waits as long as that session does.
engine = create_engine(str(settings.DATABASE_URL), pool_size=30, max_overflow=10)


def get_session() -> Iterator[Session]:
    # One session per request, closed when the response is done, even on an error.
    # Closing rolls back whatever was not committed: an error half-way changes nothing.
    with Session(engine) as session:
        yield session
