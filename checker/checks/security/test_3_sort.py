"""sort names a documented column, or the request is refused."""

from _helpers import make_book, said, shown, word

from checker.verdict import fail

ALWAYS = ("(CASE WHEN 1=1 THEN title ELSE price END)", "price;--")
MORE = (
    "(CASE WHEN 1=1 THEN title ELSE author END)",
    "price_cents;--",
    "title; SELECT pg_sleep(0)--",
    "(SELECT email FROM users LIMIT 1)",
    "id",
    "1",
    "title DESC, price_cents",
    "-(price_cents)",
    "published_year NULLS FIRST",
)


def test_sort_allowlisted(http, db, rng):
    stem = word(rng)
    prices = rng.sample(range(100, 9000), 4)
    books = {make_book(db, f"{stem} volume {i}", price=p): p for i, p in enumerate(prices)}
    for sort, reverse in (("price_cents", False), ("-price_cents", True)):
        r = http.get("/books/search", params={"q": stem, "sort": sort})
        want = sorted(books, key=books.get, reverse=reverse)
        got = [b.get("id") for b in r.json()] if r.status_code == 200 else None
        if got != want:
            fail("wrong-order", f"GET /books/search?q={stem}&sort={sort} answered {said(r)} "
                                f"{shown(r)}; expected 200 with the books {want} in that order.")  # fmt: skip
    probes = [*ALWAYS, *rng.sample(MORE, 4)]
    for sort in probes:
        r = http.get("/books/search", params={"q": stem, "sort": sort})
        if r.status_code >= 500:
            fail("server-error", f"GET /books/search?sort={sort} answered {said(r)}; expected 422: "
                                 "only the documented sort values are allowed.")  # fmt: skip
        if r.status_code != 422:
            fail("accepted", f"GET /books/search?sort={sort} answered {said(r)} {shown(r)}; "
                             "expected 422: it is not one of the documented sort values.")  # fmt: skip
