"""Helpers for the rate-limiting checks: callers as the service sees them, searches as
the trusted proxy forwards them, and the policy's arithmetic.

Every check registers partners (API keys) of its own, drawn per run, and draws the
addresses its anonymous callers come from, so checks never share a counter. The
checker plays the one trusted proxy of the README: every request carries
``X-Forwarded-For: <whatever the client sent>, <the hop the proxy saw>``.
"""

from __future__ import annotations

import math
import os
import re
import string
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from checker.verdict import fail

#: The README's policy: Q searches per W seconds, per API key (anonymous: per address).
Q = 10
W = 5
POLICY = "search"

#: Words of the seeded catalogue: every one finds books.
WORDS = ["river", "tower", "garden", "engine", "letter", "map", "winter", "city", "voyage",
         "machine", "forest", "dragons", "robots", "detectives", "sailors", "storms",
         "secrets", "islands", "silent", "hidden", "Shelley", "Chiang", "Verne"]  # fmt: skip

#: What scrapers send: they pretend to be browsers.
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)


#: How many searches in a row a check sends before it says "never refused": enough for a
#: token bucket to run dry even on a machine so busy that each search takes 0.3 s.
PATIENCE = 2 * Q + 5


def refill(seconds: float) -> int:
    """Searches the policy gives back over ``seconds`` (a token bucket's refill; a
    window-based limiter gives back less)."""
    return math.floor(max(0.0, seconds) * Q / W)


def new_partner(db, rng, name: str = "partner") -> str:
    """A partner of this check's own, registered in the database: its API key."""
    alphabet = string.ascii_letters + string.digits
    prefix = rng.choice(["", "sk_", "live_", "k-", "api."])
    key = prefix + "".join(rng.choice(alphabet) for _ in range(rng.randint(20, 40)))
    db.execute(
        "INSERT INTO partner (name, api_key) VALUES (%s, %s)",
        [f"{name} {rng.randint(1000, 9999)}", key],
    )
    return key


def seeded_partners(db, rng, n: int) -> list[str]:
    """``n`` of the partners the catalogue was seeded with (not ones a check registered)."""
    keys = [r[0] for r in db.execute("SELECT api_key FROM partner ORDER BY id LIMIT 20")]
    return rng.sample(keys, n)


def address(rng) -> str:
    """A public IPv4 address, drawn per run."""
    first = rng.choice([n for n in range(11, 224) if n not in (100, 127, 169, 172, 192)])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def client(base_url: str, timeout: float = 5.0) -> httpx.Client:
    # No keep-alive: after an unhandled error uvicorn resets a reused connection.
    limits = httpx.Limits(max_keepalive_connections=0)
    return httpx.Client(base_url=base_url, timeout=timeout, limits=limits)


def search(c: httpx.Client, rng, *, key: str | None = None, hop: str, spoof: list[str] = (),
           agent: str | None = None, q: str | None = None) -> httpx.Response:  # fmt: skip
    """One search as the proxy forwards it: ``spoof`` is what the client wrote into
    X-Forwarded-For itself, ``hop`` the address the proxy saw."""
    headers = {"X-Forwarded-For": ", ".join([*spoof, hop])}
    if key is not None:
        headers["X-API-Key"] = key
    if agent is not None:
        headers["User-Agent"] = agent
    return c.get("/search", params={"q": q or rng.choice(WORDS)}, headers=headers)


@dataclass
class Answer:
    status: int
    at: float  # monotonic, when the answer arrived
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    sent: float = 0.0  # monotonic, when the request was sent

    def __post_init__(self) -> None:
        self.sent = self.sent or self.at

    @property
    def allowed(self) -> bool:
        return self.status == 200

    @property
    def state(self) -> dict[str, int] | None:
        return ratelimit_state(self.headers)


def answer(r: httpx.Response) -> Answer:
    try:
        body = r.json()
    except ValueError:
        body = r.text[:200]
    at = time.monotonic()
    headers = {k.lower(): v for k, v in r.headers.items()}
    return Answer(r.status_code, at, headers, body, at - r.elapsed.total_seconds())


def since_sent(first: Answer, last: Answer) -> float:
    """Seconds from when ``first`` was sent to when ``last`` was answered: at least the
    time the service had to refill in, between counting the two."""
    return last.at - first.sent


def statuses(answers: list[Answer]) -> str:
    """``200 x10, 429 x3`` in order of arrival, runs folded."""
    runs: list[list[int]] = []
    for a in answers:
        if runs and runs[-1][0] == a.status:
            runs[-1][1] += 1
        else:
            runs.append([a.status, 1])
    return ", ".join(f"{s} x{n}" if n > 1 else str(s) for s, n in runs)


def no_server_errors(answers: list[Answer], what: str) -> None:
    bad = [a for a in answers if a.status >= 500]
    if bad:
        fail("server-error", f"{what}: {len(bad)} of {len(answers)} searches answered "
             f"{bad[0].status}; expected 200 or 429 only ({statuses(answers)}).")  # fmt: skip
    odd = [a for a in answers if a.status not in (200, 429)]
    if odd:
        fail("unexpected-status", f"{what}: a search answered {odd[0].status} "
             f"{shown(odd[0].body)}; expected 200 or 429 ({statuses(answers)}).")  # fmt: skip


def shown(body: Any) -> str:
    text = repr(body)
    return text if len(text) <= 160 else text[:157] + "..."


# ---------------------------------------------------------------- the fields


_ITEM = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[A-Za-z*][A-Za-z0-9_\-.:%*/]*)\s*((?:;[^,;]*)*)')


def parse_items(value: str) -> list[tuple[str, dict[str, str]]]:
    """A structured-field list (RFC 9651) of items with parameters, read leniently:
    ``"search";q=10;w=5`` -> [("search", {"q": "10", "w": "5"})]."""
    items = []
    for part in value.split(","):
        m = _ITEM.fullmatch(part.strip())
        if not m:
            continue
        name = m.group(1).strip('"')
        params = {}
        for p in m.group(2).split(";")[1:]:
            k, _, v = p.strip().partition("=")
            params[k.strip()] = v.strip()
        items.append((name, params))
    return items


def _int(v: str | None) -> int | None:
    return int(v) if v is not None and re.fullmatch(r"-?\d+", v) else None


def ratelimit_policy(headers: dict[str, str]) -> dict[str, dict[str, int | None]]:
    """RateLimit-Policy as {name: {"q": .., "w": ..}}."""
    return {name: {"q": _int(p.get("q")), "w": _int(p.get("w"))}
            for name, p in parse_items(headers.get("ratelimit-policy", ""))}  # fmt: skip


def ratelimit_state(headers: dict[str, str]) -> dict[str, int] | None:
    """The RateLimit item for the search policy (or the only one) as {"r", "t"}."""
    items = parse_items(headers.get("ratelimit", ""))
    chosen = next((p for n, p in items if n == POLICY), items[0][1] if len(items) == 1 else None)
    if chosen is None:
        return None
    r, t = _int(chosen.get("r")), _int(chosen.get("t"))
    return None if r is None else {"r": r, "t": t if t is not None else -1}


def reset_in(a: Answer) -> float | None:
    """Seconds until the quota resets, as this answer said (None if it did not say)."""
    st = a.state
    return float(st["t"]) if st and st["t"] >= 0 else None


def reset_fell_inside(answers: list[Answer]) -> bool:
    """Whether, by the service's own word (its first answer's ``t``), a window may have
    reset while these searches ran: then a window-based limiter rightly allowed more."""
    if not answers:
        return False
    t = reset_in(answers[0])
    span = since_sent(answers[0], answers[-1])
    return t is None or t <= span + 1.0


def env(name: str) -> str:
    return os.environ[name]


def together(base_urls: list[str], n: int, send) -> list:
    """``n`` requests, each on its own connection (spread over ``base_urls``), released
    together by a barrier: ``send(client, i)`` makes the i-th. Answers (or the
    ``httpx.HTTPError`` a request raised), in the order they were made."""
    import threading

    barrier = threading.Barrier(n)
    results: list = [None] * n
    # One client per instance, one connection per request (no keep-alive).
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    clients = [httpx.Client(base_url=u, timeout=20, limits=limits) for u in base_urls]

    def one(i: int) -> None:
        barrier.wait()
        try:
            results[i] = answer(send(clients[i % len(clients)], i))
        except httpx.HTTPError as exc:
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        for c in clients:
            c.close()
    return results
