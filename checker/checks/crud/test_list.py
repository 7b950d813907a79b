"""Listing books in pages: a cap, Link rel="next" (RFC 8288), a stable order."""

from collections import Counter

import httpx
import pytest
from _helpers import PG_INT_MAX, next_link, said

from checker.verdict import expect, fail

#: The largest page the README promises.
MAX_PAGE = 100


def test_list_page_size_capped(http, books, rng):
    books.ensure_at_least(MAX_PAGE + 1)
    default_page = books.items(http.get("/books"))
    expect(
        len(default_page) <= MAX_PAGE,
        "page-too-big",
        f"GET /books answered {len(default_page)} books in one page; expected a default "
        f"page size of at most {MAX_PAGE}.",
    )
    for asked in (1000, MAX_PAGE + 1):
        response = http.get("/books", params={"limit": asked})
        if response.status_code in (400, 422):
            continue  # refusing an oversized page is as good as trimming it
        page = books.items(response)
        expect(
            len(page) <= MAX_PAGE,
            "page-too-big",
            f"GET /books?limit={asked} answered {len(page)} books; expected at most "
            f"{MAX_PAGE} (a smaller page, or 422 refusing the request).",
        )
    # The bound is the README's: a page of 100 is allowed, and given when asked for.
    response = http.get("/books", params={"limit": MAX_PAGE})
    expect(
        response.status_code < 400 or response.status_code >= 500,
        "cap-too-small",
        f"GET /books?limit={MAX_PAGE} answered {said(response)}; expected a page of "
        f"{MAX_PAGE} books: the README allows pages of up to {MAX_PAGE}.",
    )
    full = books.items(response)
    expect(
        len(full) == MAX_PAGE,
        "cap-too-small",
        f"GET /books?limit={MAX_PAGE} answered {len(full)} books, with more than "
        f"{MAX_PAGE} in the catalog; expected a page of {MAX_PAGE}: the README allows "
        f"pages of up to {MAX_PAGE}.",
    )
    # Every size the README allows is the page's size: the bounds, and one drawn per run.
    for asked in (1, rng.randint(2, MAX_PAGE - 1)):
        response = http.get("/books", params={"limit": asked})
        got = books.items(response) if response.status_code == 200 else None
        expect(
            got is not None and len(got) == asked,
            "wrong-page-size",
            f"GET /books?limit={asked} answered {said(response)}"
            f"{f' with {len(got)} books' if got is not None else ''}, with more than "
            f"{MAX_PAGE} books in the catalog; expected a page of {asked}: the README "
            f"allows any limit from 1 to {MAX_PAGE}.",
        )
    # Whatever a client sends, the answer is never a 500: sizes below the smallest page.
    for asked in (0, -1, -rng.randint(2, 10**6), -(2**63) - rng.randint(1, 99)):
        response = http.get("/books", params={"limit": asked})
        expect(
            response.status_code < 500,
            "server-error",
            f"GET /books?limit={asked} answered {said(response)}; expected a 4xx refusing "
            "the request (or a page): whatever a client sends, the answer is never a 500.",
        )


def walk_ids(http, books, limit):
    """Every id met by following the next links from the first page (bounded)."""
    url, ids = f"/books?limit={limit}", []
    for _ in range(books.count_all() + 5):
        response = http.get(url)
        ids += [item["id"] for item in books.items(response)]
        url = next_link(response)
        if not url:
            return ids
    fail("endless-walk", f'Following rel="next" links from GET /books?limit={limit} never ended.')


@pytest.mark.check("list_link_next")
def test_list_sees_writes(http, books, rng):
    """A list answered from a copy taken earlier (a snapshot, a cache never refreshed)
    misses what changed since: write, then walk the list again."""
    limit = rng.choice([7, 10, 25])
    # Without next links there is no walk to judge: say what is missing, not "a copy".
    first = http.get("/books", params={"limit": limit})
    total = books.count_all()
    expect(
        bool(next_link(first)) or len(books.items(first)) >= total,
        "no-next-link",
        f"GET /books?limit={limit} answered {len(books.items(first))} of the {total} books "
        'and no Link header with rel="next"; expected a link to the next page (RFC 8288).',
    )
    walk_ids(http, books, limit)
    added = books.create(title="Brand New Arrival")
    gone = books.create(title="Soon Gone")
    expect(http.delete(f"/books/{gone['id']}").status_code < 300, "delete-failed",
           f"DELETE /books/{gone['id']} failed; this check needs it.")  # fmt: skip
    ids = walk_ids(http, books, limit)
    expect(
        added["id"] in ids and gone["id"] not in ids,
        "stale-after-write",
        f"After a book was added (id {added['id']}) and another deleted (id {gone['id']}), "
        f"walking GET /books?limit={limit} page by page "
        + ("missed the new book" if added["id"] not in ids else "still listed the deleted one")
        + ": expected the list to show the catalog as it is now, not a copy of it.",
    )


def test_list_link_next(http, books):
    books.ensure_at_least(5)
    total = books.count_all()
    limit = min(MAX_PAGE, max(2, total // 3))
    response = http.get("/books", params={"limit": limit})
    page = books.items(response)
    assert len(page) <= limit, (
        f"GET /books?limit={limit} answered {len(page)} books; expected at most {limit}: "
        "limit sets the page size."
    )
    url = next_link(response)
    assert url, (
        f"GET /books?limit={limit} answered {len(page)} of the {total} books and no Link "
        'header with rel="next"; expected a link to the next page (RFC 8288).'
    )
    seen_urls = {str(response.url)}
    while url:
        assert url not in seen_urls, (
            f"The next link {url} points back at a page already read; expected each "
            'rel="next" to lead further, and the last page to have none.'
        )
        seen_urls.add(url)
        assert len(seen_urls) <= total + 2, (
            f'Following rel="next" links from GET /books?limit={limit} went on for '
            f"{len(seen_urls)} pages with only {total} books; expected the last page to have "
            "no next link."
        )
        response = http.get(url)
        assert response.status_code == 200, (
            f"Following the next link {url} answered {said(response)}; expected 200 OK with "
            "the next page."
        )
        page = books.items(response)
        url = next_link(response)
        assert page or not url, (
            f"GET {response.url.raw_path.decode()} answered an empty page that still "
            'links to a next one; expected the last page to have no rel="next" link.'
        )


@pytest.mark.check("list_link_next")
def test_next_link_edited(http, books, rng):
    """A client may edit the URL a next link gave it: whatever it sends, never a 500."""
    books.ensure_at_least(5)
    response = http.get("/books", params={"limit": 2})
    url = next_link(response)
    expect(
        bool(url),
        "no-next-link",
        f"GET /books?limit=2 answered {said(response)} with no Link header with "
        'rel="next", with more than 2 books in the catalog; expected a link to the next page.',
    )
    link = httpx.URL(url)
    numbers = [(k, v) for k, v in link.params.multi_items() if v.lstrip("-").isdigit()]
    probes = [
        -1,
        -rng.randint(2, 10**6),
        PG_INT_MAX + 1,
        2**63 + rng.randint(0, 99),
        -(2**63) - rng.randint(1, 99),
        "abc",
    ]
    crashed = []
    for name, _ in numbers:
        for value in probes:
            edited = link.copy_set_param(name, str(value))
            answer = http.get(edited)
            if answer.status_code >= 500:
                crashed.append(f"{name}={value} answered {said(answer)}")
    expect(
        not crashed,
        "server-error",
        f"The next link of GET /books?limit=2 is {link.raw_path.decode()}. A client that "
        f"edits it gets a crash: {'; '.join(crashed)}. Expected a 4xx refusing the value "
        "(or a page): whatever a client sends, the answer is never a 500. Bound the "
        "parameters the way the columns are bounded.",
    )


def test_list_walk_stable(http, books):
    # Books that tie on every field a list could be sorted by, except id and created_at.
    for _ in range(12):
        books.create(title="A Walk in the Park", author="Sam Same", price_cents=1000)
    at_start = books.all_ids()
    limit = 10
    url = f"/books?limit={limit}"
    returned: list[int] = []
    pages = 0
    while url:
        response = http.get(url)
        page = books.items(response)
        returned += [item["id"] for item in page]
        pages += 1
        next_url = next_link(response)
        if pages == 1:
            assert next_url or len(page) >= len(at_start), (
                f"GET {url} answered {len(page)} of the {len(at_start)} books and no Link "
                'header with rel="next"; expected a link to the next page (RFC 8288).'
            )
        assert page or not next_url, (
            f"GET {response.url.raw_path.decode()} answered an empty page that still "
            'links to a next one; expected the last page to have no rel="next" link.'
        )
        assert pages <= len(at_start) + 20, (
            f'Following rel="next" links from GET /books?limit={limit} went on for {pages} '
            f"pages with about {len(at_start)} books; expected the walk to end."
        )
        # Meanwhile, other clients edit every book shown so far and add a new one,
        # titled to sort before the others.
        books.query("UPDATE book SET price_cents = price_cents + 1 WHERE id = ANY(%s)", [returned])
        books.create(title=f"1001 Nights, volume {pages}")
        url = next_url
    twice = sorted(book_id for book_id, n in Counter(returned).items() if n > 1)
    missed = sorted(at_start - set(returned))
    problems = []
    if twice:
        problems.append(f"{len(twice)} books came twice (ids {_some(twice)})")
    if missed:
        problems.append(f"{len(missed)} books never came (ids {_some(missed)})")
    assert not problems, (
        f'Walking GET /books?limit={limit} by its rel="next" links, while other clients '
        f"edited and added books, {' and '.join(problems)}. Expected every book that "
        "existed at the start exactly once: pages need a stable order."
    )


def _some(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:5])
    return shown + (", ..." if len(ids) > 5 else "")
