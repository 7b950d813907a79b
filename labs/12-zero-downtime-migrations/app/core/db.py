from collections.abc import Iterator

from sqlmodel import Session, create_engine

from app.core.config import settings

engine = create_engine(str(settings.DATABASE_URL))


def get_session() -> Iterator[Session]:
    # One session per request, closed when the response is done, even on an error.
    with Session(engine) as session:
        yield session
