"""PATCH changes only the fields sent (RFC 5789; RFC 7396 for null)."""

from _helpers import FIELDS, json_of, new_isbn, said, shown, status_kind

from checker.verdict import expect


def read_back(http, book_id):
    response = http.get(f"/books/{book_id}")
    expect(
        response.status_code == 200,
        status_kind(response),
        f"GET /books/{book_id} after a PATCH answered {said(response)}; expected 200 OK.",
    )
    got = json_of(response)
    return got if isinstance(got, dict) else {}


def differences(got, expected):
    return [
        f"{f} is {shown(got.get(f))}, expected {shown(expected[f])}"
        for f in FIELDS
        if got.get(f) != expected[f]
    ]


def new_value(field, rng):
    """A fresh value for one field, drawn per run."""
    return {
        "title": lambda: rng.choice(["Solaris", "Kindred", "Middlemarch"]) + f" {rng.randint(2, 99)}",
        "author": lambda: rng.choice(["Octavia E. Butler", "George Eliot", "Stanisław Lem"]),
        "isbn": new_isbn,
        "price_cents": lambda: rng.randint(100, 99_999),
        "published_year": lambda: rng.randint(1800, 2025),
    }[field]()  # fmt: skip


def patch_and_check(http, books, url, book_id, changes, expected, what):
    response = http.patch(url, json=changes)
    expect(
        response.status_code == 200,
        status_kind(response),
        f"PATCH {url} with {what} answered {said(response)}; expected 200 OK with the "
        "updated book.",
    )
    expected.update(changes)
    wrong = differences(read_back(http, book_id), expected)
    if not wrong:
        # The answer may come from memory; the row is what the next reader gets.
        wrong = differences(books.row(book_id) or {}, expected)
        wrong = [f"in the database, {w}" for w in wrong]
    expect(
        not wrong,
        "other-fields-changed" if any(f not in changes for f in _fields(wrong)) else "not-changed",
        f"After PATCH {url} sent {what}, the book reads back with {'; '.join(wrong)}. "
        f"Expected only {', '.join(changes)} to change.",
    )


def _fields(wrong):
    return {w.split(" is ")[0].removeprefix("in the database, ") for w in wrong}


def test_patch_is_partial(http, books, rng):
    book = books.create(price_cents=1500, published_year=1951)
    url = f"/books/{book['id']}"
    expected = {field: book[field] for field in FIELDS}

    # Every field on its own, in an order drawn per run, then two at once.
    for field in rng.sample(FIELDS, len(FIELDS)):
        change = {field: new_value(field, rng)}
        patch_and_check(http, books, url, book["id"], change, expected, f"only a new {field}")
    pair = rng.sample(["title", "author", "price_cents"], 2)
    change = {f: new_value(f, rng) for f in pair}
    patch_and_check(http, books, url, book["id"], change, expected, f"{' and '.join(pair)}")

    change = {"published_year": None}
    patch_and_check(
        http, books, url, book["id"], change, expected, "published_year null (to clear it)"
    )
