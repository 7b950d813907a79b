from collections.abc import Iterator

from sqlmodel import Session, create_engine

from app.core.config import settings

# One engine for the whole process: it owns a pool of connections (SQLAlchemy's
# default: 5 kept open, up to 10 more at busy moments) that requests borrow and return.
# Opening a PostgreSQL connection costs a new server process; borrowing one costs nothing.
engine = create_engine(str(settings.DATABASE_URL))


def get_session() -> Iterator[Session]:
    # One session per request, closed when the response is done: its connection goes
    # back to the pool, open and ready for the next request.
    with Session(engine) as session:
        yield session
