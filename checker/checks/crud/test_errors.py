"""Every error is problem details: application/problem+json (RFC 9457)."""

from _helpers import MISSING_ID, problem_issue, said

from checker.verdict import expect


def test_errors_are_problem_details(http, books):
    taken = books.create()
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
            lambda: http.post("/books", json=books.payload(isbn=taken["isbn"])),
        ),
        ("GET /books/abc (not an id)", lambda: http.get("/books/abc")),
        (f"GET /books/{MISSING_ID} (no such book)", lambda: http.get(f"/books/{MISSING_ID}")),
        ("GET /no-such-page", lambda: http.get("/no-such-page")),
        (
            f"PUT /books/{taken['id']} (a method the service does not offer)",
            lambda: http.put(f"/books/{taken['id']}", json=books.payload()),
        ),
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
    expect(
        not wrong,
        "not-problem-json",
        "Every error should be application/problem+json with status (the HTTP status), "
        f"title and detail, as RFC 9457 describes. Instead: {'; '.join(wrong)}.",
    )
    # A 405 must say which methods the resource does offer (RFC 9110, section 15.5.6).
    offered = {f"/books/{taken['id']}": {"GET", "PATCH", "DELETE"}, "/books": {"GET", "POST"}}
    for path, methods in offered.items():
        response = http.put(path, json=books.payload())
        allow = {m.strip().upper() for m in response.headers.get("allow", "").split(",")}
        expect(
            response.status_code == 405 and methods <= allow and "PUT" not in allow,
            "allow-header",
            f"PUT {path} answered {said(response)} with Allow: "
            f"{response.headers.get('allow', '(none)')}; expected 405 Method Not Allowed "
            f"with an Allow header listing the methods {path} offers "
            f"({', '.join(sorted(methods))}).",
        )
