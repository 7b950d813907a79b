"""Helpers for the observability checks: a customer of the shop, the service's log lines
read as a log shipper reads them, its /metrics read as Prometheus reads it, and W3C
trace context.

What the README promises, and these checks hold the service to: every line on stdout
or stderr is one JSON object; each request writes one access line with `method`,
`route`, `status`, `duration_ms`, `request_id` (and `trace_id`); the request duration
histogram is labelled by method, route template and status.

Every check uses its own customer, books, ids and probe values (drawn from ``rng``),
and reads only the log lines written since its own mark.
"""

from __future__ import annotations

import contextlib
import re
import socket
import string
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

from checker.observe.metrics import Exposition, MetricsFormatError, parse
from checker.people import People
from checker.verdict import fail

BOOKS = list(range(1, 21))  # the seeded catalogue
ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "request_id")
ROUTE_TEMPLATES = ("/books/{book_id}", "/orders", "/login", "/users")


def said(response: httpx.Response) -> str:
    phrase = "Unprocessable Content" if response.status_code == 422 else response.reason_phrase
    return f"{response.status_code} {phrase or ''}".strip()


def shown(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def token_of(rng, n: int = 12) -> str:
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def request_id(rng, prefix: str = "req") -> str:
    return f"{prefix}-{token_of(rng, 16)}"


# -- the shop, as a customer uses it ------------------------------------------------
_emails: set[str] = set()  # checks sharing a check id share rng draws too
_first_order: list[float] = []  # when this run's first order was answered 201 (monotonic)


def first_order_answered() -> float | None:
    """When the first order of this run (any check's) was answered 201, or None."""
    return _first_order[0] if _first_order else None


class Customer:
    """A new customer, registered and logged in. Email and password are drawn per run
    in the shapes real ones have (``checker.people``): nothing in them marks the checks'
    own customers, so masking "passwords that look like the checks'" cannot pass."""

    def __init__(self, http: httpx.Client, rng) -> None:
        self.http = http
        people = People(rng)
        while (email := people.email()) in _emails:
            pass
        _emails.add(email)
        self.email = email
        self.password = people.password()
        r = http.post("/users", json={"email": self.email, "password": self.password})
        if r.status_code != 201:
            fail("shop-broken", f"POST /users (a new customer) answered {said(r)}; expected 201")
        r = http.post("/login", json={"email": self.email, "password": self.password})
        if r.status_code != 200 or "access_token" not in _json(r):
            fail(
                "shop-broken", f"POST /login answered {said(r)}; expected 200 with an access_token"
            )
        self.token = _json(r)["access_token"]

    def auth(self, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **headers}

    def order(self, book_id: int, card: str, *, note: str | None = None, quantity: Any = 1,
              headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
        body = {"book_id": book_id, "quantity": quantity, "card_number": card}
        if note is not None:
            body["note"] = note
        r = self.http.post("/orders", json=body, headers=self.auth(**(headers or {})))
        if r.status_code == 201 and not _first_order:
            _first_order.append(time.monotonic())
        return r


def _json(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return {}


# -- cards ----------------------------------------------------------------------------
def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_number(rng) -> str:
    """A Luhn-valid number of a test range: Visa, Mastercard, Amex or Discover."""
    prefix, length = rng.choice([("4", 16), ("4", 13), ("51", 16), ("55", 16), ("37", 15),
                                 ("34", 15), ("6011", 16), ("4", 19)])  # fmt: skip
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


def spaced(card: str, sep: str) -> str:
    return sep.join(card[i : i + 4] for i in range(0, len(card), 4))


_JOIN = re.compile(r"(?<=\d)[ -](?=\d)")
_RUN = re.compile(r"(?<![\w.])([2-6]\d{12,18})(?![\w]|\.\d)")


def card_numbers_in(text: str) -> list[str]:
    """Luhn-valid runs of 13-19 digits (spaces or dashes between digits ignored) that
    start as card numbers do (2 to 6). A decimal fraction, a hex id, a timestamp in
    milliseconds (it starts with 1) are not taken for one."""
    return [m for m in _RUN.findall(_JOIN.sub("", text)) if luhn_ok(m)]


# -- log lines --------------------------------------------------------------------------
def is_access(record: dict[str, Any]) -> bool:
    return all(k in record for k in ("method", "route", "status"))


def access_lines(records: Iterable[dict[str, Any]], rid: str) -> list[dict[str, Any]]:
    return [r for r in records if is_access(r) and r.get("request_id") == rid]


def wait_access(logs, mark, rids: Iterable[str], *, settle: float = 0.0,
                timeout: float = 4.0) -> None:  # fmt: skip
    """Wait (a little) until each request id has its access line: a line is written
    after the response is sent; then ``settle`` s more, for lines that may follow it
    (a traceback logged by the server after the response)."""
    pending, n = set(rids), len(set(rids))
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        lines = [r for r in logs.records(since=mark) if is_access(r)]
        pending -= {r.get("request_id") for r in lines}
        if pending and len(lines) < n:  # as many lines as requests: some carry wrong ids
            time.sleep(0.02)
        else:
            break
    time.sleep(settle)


def settle(http: httpx.Client, logs, mark, rng, most: float = 0.2) -> None:
    """Wait for the lines that may follow a request's access line (a traceback the server
    logs after sending the 500): one more request, sent now that every earlier one was
    answered, and its access line awaited. The service writes what it had to write for
    the earlier requests before it gets to this one; at most ``most`` s, for a service
    whose access lines this one does not reach."""
    rid = request_id(rng, "settle")
    http.get("/health/live", headers={"X-Request-ID": rid})
    logs.wait_for(lambda r: is_access(r) and r.get("request_id") == rid, since=mark,
                  timeout=most)  # fmt: skip


def stray_shown(lines: list[str], n: int = 4) -> str:
    return "; ".join(shown(line, 120) for line in lines[:n]) + (" ..." if len(lines) > n else "")


def malformed_request(base_url: str) -> None:
    """Bytes that are not HTTP: uvicorn answers 400 itself and logs a warning (a line
    written by uvicorn's logger, not the app's)."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=3) as s:
        s.sendall(b"NOT HTTP AT ALL\x00\r\n\r\n")
        with contextlib.suppress(OSError):
            s.recv(1024)


# -- metrics ----------------------------------------------------------------------------
METHOD_LABELS = ("http_request_method", "method", "http_method", "request_method")
ROUTE_LABELS = ("http_route", "route", "handler", "path_template", "endpoint", "path")
STATUS_LABELS = ("http_response_status_code", "status", "status_code", "http_status_code",
                 "http_status", "code")  # fmt: skip


class Histogram:
    """The request-duration histogram and which of its labels says what."""

    def __init__(self, name: str, method: str, route: str, status: str) -> None:
        self.name, self.method, self.route, self.status = name, method, route, status

    def key(self, labels) -> tuple[str, str, str]:
        d = dict(labels)
        return (d.get(self.method, "").upper(), d.get(self.route, ""), d.get(self.status, ""))

    def counts(self, exposition: Exposition) -> dict[tuple[str, str, str], float]:
        out: dict[tuple[str, str, str], float] = {}
        for labels, value in exposition.histogram_counts(self.name).items():
            k = self.key(labels)
            out[k] = out.get(k, 0.0) + value
        return out


def scrape(http: httpx.Client) -> Exposition:
    r = http.get("/metrics")
    if r.status_code != 200:
        fail("unparsable", f"GET /metrics answered {said(r)}; expected 200 with the metrics")
    try:
        return parse(r.text)
    except MetricsFormatError as exc:
        fail("unparsable", f"GET /metrics is not valid Prometheus text format 0.0.4: {exc}")
    raise AssertionError("unreachable")


def duration_histogram(exposition: Exposition) -> Histogram:
    """The histogram of request durations in seconds, labelled by method, route and
    status (any of the usual label names)."""
    found = []
    for family in exposition.families.values():
        if family.type != "histogram" or "duration" not in family.name:
            continue
        if not family.name.endswith("seconds"):
            continue
        names = {n for s in family.samples for n, _ in s.labels}
        roles = [next((n for n in options if n in names), None)
                 for options in (METHOD_LABELS, ROUTE_LABELS, STATUS_LABELS)]  # fmt: skip
        if all(roles):
            found.append(Histogram(family.name, *roles))  # type: ignore[arg-type]
    if not found:
        names = sorted(f"{f.name} ({f.type})" for f in exposition.families.values()
                       if "duration" in f.name or "latency" in f.name)  # fmt: skip
        fail("no-histogram",
             "GET /metrics has no histogram of request durations in seconds labelled by "
             "method, route and status (expected http_server_request_duration_seconds with "
             "http_request_method, http_route, http_response_status_code)"
             + (f"; found {', '.join(names)}" if names else ""))  # fmt: skip
    # prefer the semconv name, then any
    found.sort(key=lambda h: h.name != "http_server_request_duration_seconds")
    return found[0]


def status_matches(label: str, status: int) -> bool:
    """`404` or, as some libraries group them, `4xx`."""
    return label == str(status) or label.lower() == f"{str(status)[0]}xx"


def deltas(before: dict, after: dict) -> dict:
    keys = set(before) | set(after)
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in keys
            if after.get(k, 0.0) != before.get(k, 0.0)}  # fmt: skip


def is_metrics_route(route: str) -> bool:
    return "metrics" in route


def scrape_until(http: httpx.Client, done, timeout: float = 0.75,
                 histogram: Histogram | None = None) -> Exposition:  # fmt: skip
    """Scrape until ``done(exposition)`` or ``timeout``: some libraries record a request
    just after its response is sent, so the last one may reach /metrics a moment late.

    With ``histogram``, and a service that counts its /metrics requests too, it stops as
    soon as two of its own scrapes are counted: they were sent after the requests being
    counted were answered, so whatever those requests were to record is recorded by then,
    and what is missing will not come."""
    deadline = time.monotonic() + timeout
    first = None
    while True:
        exposition = scrape(http)
        if done(exposition) or time.monotonic() > deadline:
            return exposition
        if histogram is not None:
            scrapes = sum(v for k, v in histogram.counts(exposition).items()
                          if is_metrics_route(k[1]))  # fmt: skip
            if first is None:
                first = scrapes
            elif scrapes >= first + 2:
                return exposition
        time.sleep(0.05)


# -- W3C Trace Context ------------------------------------------------------------------
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def parse_traceparent(value: str | None) -> tuple[str, str, str] | None:
    """(trace-id, parent-id, flags) of a valid version-00 header, else None."""
    m = TRACEPARENT.fullmatch(value or "")
    if m is None or m.group(1) == "0" * 32 or m.group(2) == "0" * 16:
        return None
    return m.group(1), m.group(2), m.group(3)


def hexid(rng, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))
