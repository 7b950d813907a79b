"""The logs: one JSON object per line, one access line per request, the request's id on
every line of it, and no secrets."""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest
from _helpers import (
    ACCESS_FIELDS,
    BOOKS,
    Customer,
    access_lines,
    card_number,
    card_numbers_in,
    is_access,
    malformed_request,
    request_id,
    said,
    settle,
    shown,
    spaced,
    stray_shown,
    token_of,
    wait_access,
)

from checker.verdict import fail

SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
AT_ONCE = 20


def _requests_of_every_kind(
    http, sinks, rng, customer
) -> list[tuple[str, str, int, httpx.Response]]:
    """A 200, a 404 from a route, a 404 no route matched, a 422, a 401, a 201 and a 500:
    (request id, method, expected status, response)."""
    payments = sinks["payments"]
    sent = []

    def go(method: str, path: str, expected: int, **kw) -> None:
        rid = request_id(rng, "logs")
        headers = {**kw.pop("headers", {}), "X-Request-ID": rid}
        sent.append((rid, method, expected, http.request(method, path, headers=headers, **kw)))

    go("GET", f"/books/{rng.choice(BOOKS)}", 200)
    go("GET", f"/books/{rng.randint(10_000, 90_000)}", 404)
    go("GET", f"/{token_of(rng, 8)}/{token_of(rng, 5)}", 404)
    go("POST", "/login", 422, json={"email": customer.email})
    go("POST", "/orders", 401, json={"book_id": 1, "card_number": card_number(rng)})
    auth = customer.auth()
    go(
        "POST",
        "/orders",
        201,
        headers=auth,
        json={"book_id": rng.choice(BOOKS), "card_number": card_number(rng)},
    )
    payments.fail_next(1, status=503)
    go(
        "POST",
        "/orders",
        500,
        headers=auth,
        json={"book_id": rng.choice(BOOKS), "card_number": card_number(rng)},
    )
    return sent


def test_logs_are_json(http, base_url, sinks, logs, rng, shopper):
    customer = shopper()
    mark = logs.mark()
    sent = _requests_of_every_kind(http, sinks, rng, customer)
    malformed_request(base_url)
    logs.wait_for("Invalid HTTP request", since=mark, timeout=1.0)
    wait_access(logs, mark, [rid for rid, *_ in sent])
    settle(http, logs, mark, rng)
    for _rid, method, expected, r in sent:
        if r.status_code != expected:
            fail(
                "unexpected-status",
                f"{method} {r.request.url.path} answered {said(r)}; expected {expected} here.",
            )
    stray = logs.stray(since=mark)
    if stray:
        fail("not-json", f"{len(stray)} line(s) the service wrote are not one JSON object each: "
             f"{stray_shown(stray)}")  # fmt: skip
    records = logs.records(since=mark)
    for rid, method, _expected, r in sent:
        lines = access_lines(records, rid)
        what = f"{method} {r.request.url.path} (answered {r.status_code}, X-Request-ID {rid})"
        if not lines:
            fail("no-access-line", f"{what} left no access line: expected one JSON line with "
                 f"{', '.join(ACCESS_FIELDS)} and request_id {rid!r}.")  # fmt: skip
        if len(lines) > 1:
            fail("many-access-lines", f"{what} logged {len(lines)} access lines; expected one.")
        line = lines[0]
        problems = []
        if line.get("method") != method:
            problems.append(f"method {line.get('method')!r}, expected {method!r}")
        if not isinstance(line.get("route"), str) or not line.get("route"):
            problems.append(f"route {line.get('route')!r}, expected the route (a string)")
        if line.get("status") != r.status_code or isinstance(line.get("status"), bool):
            problems.append(f"status {line.get('status')!r}, expected the number {r.status_code}")
        duration = line.get("duration_ms")
        if not isinstance(duration, int | float) or isinstance(duration, bool) or duration < 0:
            problems.append(f"duration_ms {duration!r}, expected a number of milliseconds")
        if problems:
            fail("access-line-fields", f"The access line of {what} has {'; '.join(problems)}: "
                 f"{shown(line, 300)}")  # fmt: skip


@pytest.mark.check("request_id_propagates")
def test_request_id_serial(http, sinks, logs, rng, shopper):
    """One request at a time: the id echoed, and on every
    line written meanwhile (the 500's traceback included)."""
    customer = shopper()
    payments = sinks["payments"]
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:"
    probes = [
        ("GET", f"/books/{rng.choice(BOOKS)}", None, 200),
        ("POST", "/orders", "ok", 201),
        ("POST", "/orders", "fail", 500),
    ]
    for i, (method, path, kind, _expected) in enumerate(probes):
        # the longest id the contract allows, then shorter ones
        length = 128 if i == 0 else rng.randint(8, 60)
        rid = "".join(rng.choice(alphabet) for _ in range(length))
        mark = logs.mark()
        if kind == "fail":
            payments.fail_next(1, status=503)
        if kind is None:
            r = http.get(path, headers={"X-Request-ID": rid})
        else:
            r = customer.order(rng.choice(BOOKS), card_number(rng), headers={"X-Request-ID": rid})
        what = f"{method} {path} (answered {r.status_code})"
        if r.headers.get("x-request-id") != rid:
            fail("not-echoed", f"{what} with X-Request-ID {shown(rid, 60)!r} answered X-Request-ID "
                 f"{shown(r.headers.get('x-request-id'), 60)!r}; expected the same id back.")  # fmt: skip
        # A line that comes after the access line is read in the next probe's window
        # (it starts where this one ends): only the last probe waits for late lines.
        wait_access(logs, mark, [rid], settle=0.15 if i == len(probes) - 1 else 0.0)
        records = logs.records(since=mark)
        if not access_lines(records, rid):
            fail("missing-id-on-line", f"{what} with X-Request-ID {shown(rid, 60)!r}: no access line "
                 "carries that request_id.")  # fmt: skip
        others = [rec for rec in records if rec.get("request_id") != rid]
        if others:
            fail("missing-id-on-line", f"While {what} was served (and nothing else), {len(others)} "
                 f"line(s) were written without its request_id {shown(rid, 40)!r}: "
                 f"{shown(others[0], 300)}")  # fmt: skip


@pytest.mark.check("request_id_propagates")
def test_request_id_made_or_replaced(http, logs, rng):
    """No id, or one that is not safe to log: a new one."""
    book = rng.choice(BOOKS)
    unsafe = [
        "x" * 129,  # one past the limit
        "a" * 10_240,  # 10 kB
        f'{token_of(rng, 6)}" {token_of(rng, 4)}',  # a quote and a space
        f"{token_of(rng, 6)}%0D%0Alevel=ERROR",  # an encoded CR/LF
        f"{token_of(rng, 5)}\t{token_of(rng, 5)}",
    ]
    cases = [None, None, unsafe[1], *rng.sample(unsafe[:1] + unsafe[2:], 2)]
    made = []
    for sent in cases:
        mark = logs.mark()
        headers = {} if sent is None else {"X-Request-ID": sent}
        r = http.get(f"/books/{book}", headers=headers)
        echoed = r.headers.get("x-request-id")
        label = "without X-Request-ID" if sent is None else f"with X-Request-ID {shown(sent, 40)!r}"
        if sent is not None and echoed == sent:
            fail("unsafe-kept", f"GET /books/{book} {label} echoed it as it came; expected it "
                 "replaced by an id of the service's own (it is not 1-128 letters, digits, - _ . :).")  # fmt: skip
        if not echoed or not SAFE_ID.fullmatch(echoed):
            fail("not-unique", f"GET /books/{book} {label} answered X-Request-ID {shown(echoed, 60)!r}; "
                 "expected a new id (1-128 letters, digits, - _ . :).")  # fmt: skip
        wait_access(logs, mark, [echoed])
        if not access_lines(logs.records(since=mark), echoed):
            fail("missing-id-on-line", f"GET /books/{book} {label} was given the id {echoed!r}, "
                 "but no access line carries it.")  # fmt: skip
        made.append(echoed)
    if len(set(made)) != len(made):
        fail("not-unique", f"{len(made)} requests without a usable X-Request-ID got only "
             f"{len(set(made))} distinct ids: {made}; expected a new one each.")  # fmt: skip


@pytest.mark.check("request_id_propagates")
def test_request_ids_at_once(base_url, http, sinks, logs, rng, shopper):
    """20 orders held together at the payment provider,
    then let go: each keeps its own id on its lines."""
    customer = shopper()
    payments = sinks["payments"]
    rids = [request_id(rng, f"c{i}") for i in range(AT_ONCE)]
    barrier = threading.Barrier(AT_ONCE)
    answers: list[httpx.Response | Exception | None] = [None] * AT_ONCE
    payments.slow_next(AT_ONCE, delay=15)
    mark = logs.mark()

    # One client for all (thread-safe), with a connection each: no keep-alive to reuse.
    limits = httpx.Limits(max_connections=AT_ONCE + 5, max_keepalive_connections=0)
    client = httpx.Client(base_url=base_url, timeout=30, limits=limits)

    def one(i: int) -> None:
        body = {"book_id": rng_books[i], "card_number": cards[i]}
        barrier.wait(timeout=20)
        try:
            answers[i] = client.post("/orders", json=body,
                                     headers=customer.auth(**{"X-Request-ID": rids[i]}))  # fmt: skip
        except httpx.HTTPError as exc:
            answers[i] = exc

    rng_books = [rng.choice(BOOKS) for _ in range(AT_ONCE)]
    cards = [card_number(rng) for _ in range(AT_ONCE)]
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(AT_ONCE)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 15
    while payments.stats()["in_flight"] < AT_ONCE and time.monotonic() < deadline:
        time.sleep(0.05)
    held = payments.stats()["in_flight"]
    payments.release()
    for t in threads:
        t.join(30)
    client.close()
    if held < AT_ONCE:
        fail("not-concurrent", f"Only {held} of {AT_ONCE} orders sent at once reached the payment "
             "provider together; the service must serve them concurrently.")  # fmt: skip
    for rid, r in zip(rids, answers, strict=True):
        if not isinstance(r, httpx.Response) or r.status_code != 201:
            fail("unexpected-status", f"One of {AT_ONCE} orders sent at once got "
                 f"{said(r) if isinstance(r, httpx.Response) else repr(r)}; expected 201.")  # fmt: skip
        if r.headers.get("x-request-id") != rid:
            fail("not-echoed", f"Of {AT_ONCE} orders sent at once, the one with X-Request-ID {rid!r} "
                 f"got back {r.headers.get('x-request-id')!r}; expected its own id.")  # fmt: skip
    wait_access(logs, mark, rids)
    records = logs.records(since=mark)
    got = sorted(
        r.get("request_id")
        for r in records
        if is_access(r) and r.get("route") and "order" in str(r.get("route"))
    )
    if got != sorted(rids):
        seen = {g: got.count(g) for g in got}
        doubled = [g for g, n in seen.items() if n > 1]
        missing = [r for r in rids if r not in seen]
        fail("wrong-id-on-line", f"{AT_ONCE} orders were in flight at once, each with its own "
             f"X-Request-ID; their access lines carry {len(seen)} distinct ids"
             + (f", {doubled[0]!r} on {seen[doubled[0]]} lines" if doubled else "")
             + (f", and {len(missing)} ids on none" if missing else "")
             + ": a line got the id of another request.")  # fmt: skip
    for rec in records:
        rid = rec.get("request_id")
        if rid not in rids:
            fail("wrong-id-on-line", f"A line written while the {AT_ONCE} orders were served carries "
                 f"request_id {rid!r}, not one of theirs: {shown(rec, 200)}")  # fmt: skip
    # The 20 requests are alike: each wrote as many lines as any other, under its own id.
    per_id = {rid: sum(1 for rec in records if rec.get("request_id") == rid) for rid in rids}
    if len(set(per_id.values())) != 1:
        most = max(per_id, key=per_id.get)
        fail("wrong-id-on-line", f"{AT_ONCE} identical orders were in flight at once; their log "
             f"lines carry their ids unevenly ({per_id[most]} lines carry {most!r}, "
             f"{min(per_id.values())} carry another): lines got the id of another request.")  # fmt: skip


def test_no_secrets_in_logs(http, sinks, logs, rng):
    payments = sinks["payments"]
    mark = logs.mark()
    customer = Customer(http, rng)  # registration and login: the password
    forged = token_of(rng, 43)
    cards = [card_number(rng) for _ in range(7)]
    rids = []

    def rid() -> dict[str, str]:
        rids.append(request_id(rng, "sec"))
        return {"X-Request-ID": rids[-1]}

    book = rng.choice(BOOKS)
    sent = [
        http.post(
            "/login",
            json={"email": customer.email, "password": customer.password + "x"},
            headers=rid(),
        ),
        http.post("/login", json={"password": customer.password}, headers=rid()),  # 422
        http.post(
            "/users", json={"email": "not-an-email", "password": customer.password}, headers=rid()
        ),
        customer.order(
            book,
            cards[0],
            note=f"Gift wrap please. Backup card {spaced(cards[1], ' ')}",
            headers=rid(),
        ),
        customer.order(
            book,
            cards[2],
            quantity=0,
            note=f"use {spaced(cards[3], '-')} if that fails",
            headers=rid(),
        ),
        customer.order(
            book, "12", note=f"card: {cards[4]}", headers=rid()
        ),  # 422: not a card number
        http.post(
            "/orders",
            json={"book_id": book, "card_number": cards[5]},
            headers={"Authorization": f"Bearer {forged}", **rid()},
        ),  # fmt: skip
    ]
    payments.fail_next(1, status=503)
    sent.append(customer.order(book, cards[6], note=f"{cards[6]}", headers=rid()))  # 500
    expected = [401, 422, 422, 201, 422, 422, 401, 500]
    for r, status in zip(sent, expected, strict=True):
        if r.status_code != status:
            fail(
                "unexpected-status",
                f"{r.request.method} {r.request.url.path} answered {said(r)}; expected {status} here.",
            )
    wait_access(logs, mark, rids)
    settle(http, logs, mark, rng)
    text = "\n".join(line.text for line in logs.lines(since=mark))
    if customer.password in text:
        fail("password-logged", "A customer's password appears in the service's log lines "
             "(sent to POST /users and POST /login, including requests refused with 422).")  # fmt: skip
    for token, what in ((customer.token, "the session token a login returned"),
                        (forged, "a Bearer token a client sent")):  # fmt: skip
        if token in text:
            fail("token-logged", f"{what.capitalize()} appears in the service's log lines.")
    squashed = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
    for card in cards:
        if card in squashed:
            fail("card-logged", f"A card number sent to POST /orders ({card[:4]}...{card[-4:]}, in "
                 "card_number or in the free-text note) appears in the service's log lines.")  # fmt: skip
    found = card_numbers_in(text)
    if found:
        fail("card-logged", f"The service's log lines hold {len(found)} Luhn-valid card-like "
             f"number(s) ({found[0][:4]}...{found[0][-4:]}).")  # fmt: skip
