from collections.abc import Iterator

from sqlmodel import Session, create_engine

from app.core.config import settings


# TODO: under load, PostgreSQL sees a brand-new connection for every single request.
def get_session() -> Iterator[Session]:
    # A fresh engine for each request, disposed of afterwards: nothing is shared between
    # requests, so nothing can leak from one to the next.
    engine = create_engine(str(settings.DATABASE_URL))
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


# Used once at start-up, to create the tables.
engine = create_engine(str(settings.DATABASE_URL))
