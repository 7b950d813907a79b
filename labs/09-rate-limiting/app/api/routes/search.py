from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import text
from sqlmodel import select

from app.api.deps import SessionDep, enforce_quota
from app.api.errors import problems
from app.models import Book, SearchResults

router = APIRouter(prefix="/search", tags=["search"])

# The document each book is searched in: the expression of the index book_search_idx,
# word for word, so that PostgreSQL can use the index.
DOCUMENT = "to_tsvector('english', title || ' ' || author || ' ' || blurb)"
QUERY = "websearch_to_tsquery('english', :q)"


@router.get(
    "",
    dependencies=[Depends(enforce_quota)],
    responses=problems(401, 429),
)
def search(
    session: SessionDep,
    # Query text as a user types it: words, "a phrase", -excluded (websearch syntax).
    q: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00]+$")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchResults:
    statement = (
        select(Book)
        .where(text(f"{DOCUMENT} @@ {QUERY}"))
        .order_by(text(f"ts_rank({DOCUMENT}, {QUERY}) DESC"), Book.id)
        .limit(limit)
        .params(q=q)
    )
    books = session.exec(statement).all()
    return SearchResults(query=q, count=len(books), results=books)
