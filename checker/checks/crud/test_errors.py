"""Every error is problem details: application/problem+json (RFC 9457)."""

from _helpers import MISSING_ID, problem_issue, said


def test_errors_are_problem_details(http, books):
    taken = books.create()["isbn"]
    cases = [
        (
            "POST /books with a price that is not a number",
            lambda: http.post("/books", json=books.payload(price_cents="abc")),
        ),
        (
            "POST /books with a body that is not JSON",
            lambda: http.post(
                "/books", content=b"{not json", headers={"content-type": "application/json"}
            ),
        ),
        (
            "POST /books with an ISBN already in the catalog",
            lambda: http.post("/books", json=books.payload(isbn=taken)),
        ),
        ("GET /books/abc (not an id)", lambda: http.get("/books/abc")),
        (f"GET /books/{MISSING_ID} (no such book)", lambda: http.get(f"/books/{MISSING_ID}")),
        ("GET /no-such-page", lambda: http.get("/no-such-page")),
    ]
    wrong = []
    for what, call in cases:
        response = call()
        if response.status_code < 400:
            wrong.append(f"{what} answered {said(response)}, not an error")
            continue
        issue = problem_issue(response)
        if issue:
            wrong.append(f"{what} answered {said(response)}, but {issue}")
    assert not wrong, (
        "Every error should be application/problem+json with status (the HTTP status), "
        f"title and detail, as RFC 9457 describes. Instead: {'; '.join(wrong)}."
    )
