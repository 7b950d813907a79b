from typing import Annotated, Any

from fastapi import APIRouter, Query

from app import crud
from app.api.deps import SessionDep
from app.models import AuthorPage

router = APIRouter(prefix="/authors", tags=["authors"])


@router.get("", response_model=AuthorPage)
def read_authors(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    # Ids are PostgreSQL integers: a bound keeps a larger number from failing in the
    # database (a 500) when it can only mean "no such author" (a 422 says so).
    after: Annotated[
        int, Query(ge=0, le=2_147_483_647, description="The last author id of the previous page")
    ] = 0,
) -> Any:
    # One author more than the page: if it exists, there is a next page.
    authors = crud.list_authors(session=session, after=after, limit=limit + 1)
    page = authors[:limit]
    next_after = page[-1].id if len(authors) > limit else None
    return AuthorPage(items=page, next_after=next_after)
