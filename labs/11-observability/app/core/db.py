from collections.abc import Iterator

from sqlmodel import Session, create_engine

from app.core.config import settings

# A request holds its connection while it waits on the payment provider: the pool is
# sized for the requests one process serves at once (uvicorn's 40 threads, at most).
engine = create_engine(str(settings.DATABASE_URL), pool_size=20, max_overflow=20)


def get_session() -> Iterator[Session]:
    # One session per request, closed when the response is done, even on an error.
    with Session(engine) as session:
        yield session
