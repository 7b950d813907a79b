"""q is a value, never SQL (CWE-89)."""

from _helpers import make_book, make_user, said, shown, word

from checker.verdict import fail

UNION_FORMS = ("UNION SELECT", "uNiOn/**/SeLeCt", "UNION ALL SELECT", "union\tselect")


def _search(http, q: str):
    r = http.get("/books/search", params={"q": q})
    if r.status_code >= 500:
        fail("server-error", f"GET /books/search with q={q!r} answered {said(r)}; expected 200 "
                             "(or 422): a character of the search text must never break the query.")  # fmt: skip
    return r


def _ids(r) -> list:
    return [b.get("id") for b in r.json()] if r.status_code == 200 else [r.status_code]


def test_search_query_bound(http, db, rng, statements):
    stem = word(rng).capitalize()
    title = f"{stem}'s Garden"
    book = make_book(db, title)
    _, email, _ = make_user(db, rng)

    # A lone quote: 200 or 422, never a 500.
    _search(http, "'")
    with statements.capture() as got:
        forms = list(UNION_FORMS)
        rng.shuffle(forms)
        for form in forms:
            q = f"{word(rng)}%' {form} id, email, email, 0, 0 FROM users -- "
            r = _search(http, q)
            if email in r.text:
                fail("union-leak", f"GET /books/search with q={q!r} answered with a customer's "
                                   "email address; expected no email ever: q must never "
                                   "become SQL.")  # fmt: skip
        # Boolean pairs: if q were SQL, the true and false forms would differ.
        for true_form, false_form in (
            (f"{stem}%' AND '1%'='1", f"{stem}%' AND '1%'='2"),
            (f"{stem}' AND '1'='1", f"{stem}' AND '1'='2"),
            (f"{stem}%' AND 1=1 -- ", f"{stem}%' AND 1=2 -- "),
        ):
            yes, no = _search(http, true_form), _search(http, false_form)
            if _ids(yes) != _ids(no):
                fail("boolean-injection",
                     f"GET /books/search with q={true_form!r} answered {shown(yes)}, with "
                     f"q={false_form!r} {shown(no)}; expected the same answer: they differ only "
                     "in SQL, which q must never be.")  # fmt: skip
    # A title with an apostrophe is found: quotes are characters.
    r = _search(http, f"{stem}'s")
    if r.status_code != 200 or book not in _ids(r):
        fail("not-found", f"GET /books/search?q={stem}'s answered {said(r)} {shown(r)}; expected "
                          f"200 with the book {title!r} (id {book}).")  # fmt: skip
    users = got.touching("users")
    if users:
        fail("reads-users", "While answering searches, your service ran statements on the users "
                            f"table: {users.describe()}. A search reads books only.")  # fmt: skip
