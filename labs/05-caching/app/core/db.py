from collections.abc import Iterator

from sqlmodel import Session, create_engine

from app.core.config import settings

engine = create_engine(str(settings.DATABASE_URL))


def get_session() -> Iterator[Session]:
    # One session per request. A session opens a connection only when it first runs a
    # statement, so a request answered from the cache never touches the database.
    with Session(engine) as session:
        yield session
