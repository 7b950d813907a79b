"""/books without a version in the path: the client's Accept header picks one.

`Accept: application/vnd.folio.book.v2+json` gets v2; `application/json`, `*/*` or no
Accept at all gets v1 (what clients written before v2 expect). The answer depends on
Accept, so it says `Vary: Accept`: without it, a shared cache could hand a v1 body to
a v2 client (RFC 9110 s12.5.5).
"""

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response

from app import services
from app.api import v1, v2
from app.api.deps import SessionDep
from app.api.errors import problem, problems
from app.api.versioning import V2_TYPE, etag, negotiate

router = APIRouter(tags=["negotiated"])

TYPES = {"v1": "application/json", "v2": V2_TYPE}
OFFERED = f"{TYPES['v1']} (v1) or {V2_TYPE} (v2)"


def _answer(version: str | None, v1_answer, v2_answer, tag=None) -> Response:  # noqa: ANN001
    if version is None:
        answer: Response = problem(406, f"This resource is available as {OFFERED}.")
    else:
        body = (v2_answer if version == "v2" else v1_answer)()
        answer = JSONResponse(body.model_dump(mode="json"), media_type=TYPES[version])
        if tag is not None:
            answer.headers["ETag"] = tag(version)
    answer.headers["Vary"] = "Accept"
    return answer


@router.get("/books", responses={**problems(406), 200: {"content": {V2_TYPE: {}}}})
def list_books(
    session: SessionDep,
    accept: Annotated[str | None, Header()] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=50)] = 20,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    return _answer(
        negotiate(accept),
        lambda: v1.list_books(session, page, per_page),
        lambda: v2.list_books(session, limit, cursor),
    )


@router.get("/books/{book_id}", responses={**problems(404, 406), 200: {"content": {V2_TYPE: {}}}})
def read_book(
    session: SessionDep, book_id: v1.BookId, accept: Annotated[str | None, Header()] = None
) -> Response:
    version = negotiate(accept)
    book = services.get(session, book_id) if version else None
    return _answer(version, lambda: v1.to_v1(book), lambda: v2.to_v2(book), lambda v: etag(book, v))
