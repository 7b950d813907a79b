"""Helpers for the transactions checks: the shop's rows as the checker makes and reads
them (straight from the tables, never from the service's answers), requests fired
together, answers worded for the learner.

Every check makes its own books, wallets and coupons, so checks never see each other's
orders or transfers. A wallet is made the way the shop makes one: its balance, and an
``opening`` ledger line for it (a balance always equals the sum of its ledger lines).
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections import Counter
from typing import Any

import httpx
import psycopg

from checker.people import People
from checker.verdict import fail

#: The checks' books, wallets and coupons look like any shop's: titles, owners and codes
#: in the shapes real ones have, drawn per run (no shape marks a row as the checks').
TITLE_WORDS = ("River", "Winter", "Silent", "Garden", "Copper", "Harbor", "Lantern",
               "Orchard", "Glass", "Northern", "Salt", "Paper", "Hollow", "Ember", "Tide")  # fmt: skip
TITLE_NOUNS = ("Road", "Letters", "Crown", "Island", "Daughter", "Clock", "Sea", "House",
               "Machine", "Atlas", "Song", "Stranger", "Orchard", "Signal", "Bridge")  # fmt: skip
COUPON_WORDS = ("SALE", "WELCOME", "SPRING", "SUMMER", "READ", "BOOKS", "FALL", "VIP",
                "THANKS", "HOLIDAY", "STUDENT", "CLUB")  # fmt: skip


def said(response: httpx.Response | None) -> str:
    if response is None:
        return "no answer"
    return f"{response.status_code} {response.reason_phrase or ''}".strip()


def shown(response: httpx.Response) -> str:
    try:
        text = json.dumps(response.json())
    except ValueError:
        text = response.text or "an empty body"
    return text if len(text) <= 160 else text[:157] + "..."


def is_problem(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/problem+json":
        return False
    try:
        return response.json().get("status") == response.status_code
    except (ValueError, AttributeError):
        return False


def tally(answers: list) -> str:
    """``201 x1, 409 x29`` (``no answer`` for requests that got none)."""
    counts = Counter(
        a.status_code if isinstance(a, httpx.Response) else "no answer" for a in answers
    )
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))


class Shop:
    """The run's database as the checker sees it (the admin's connection)."""

    def __init__(self, db: psycopg.Connection) -> None:
        self.db = db
        self.people = People(random.Random(secrets.randbits(64)))

    def one(self, sql: str, params: Any = None) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return row[0] if row else None

    def book(self, *, stock: int, price_cents: int) -> int:
        return self.one(
            "INSERT INTO books (title, price_cents, stock) VALUES (%s, %s, %s) RETURNING id",
            (self._title(), price_cents, stock),
        )

    def wallet(self, balance_cents: int) -> int:
        with self.db.transaction():
            wallet_id = self.one(
                "INSERT INTO wallets (owner, balance_cents) VALUES (%s, %s) RETURNING id",
                (self.people.email(), balance_cents),
            )
            self.db.execute(
                "INSERT INTO ledger (wallet_id, amount_cents, kind) VALUES (%s, %s, 'opening')",
                (wallet_id, balance_cents),
            )
        return wallet_id

    def wallets(self, n: int, balance_cents: int) -> list[int]:
        """n wallets, each with its opening ledger line, in one round trip."""
        rows = self.db.execute(
            "WITH made AS (INSERT INTO wallets (owner, balance_cents)"
            " SELECT owner, %s FROM unnest(%s::text[]) AS owner"
            " RETURNING id, balance_cents),"
            " opened AS (INSERT INTO ledger (wallet_id, amount_cents, kind)"
            " SELECT id, balance_cents, 'opening' FROM made)"
            " SELECT id FROM made ORDER BY id",
            (balance_cents, [self.people.email() for _ in range(n)]),
        ).fetchall()
        return [r[0] for r in rows]

    def top_up(self, wallet_id: int, amount_cents: int) -> None:
        with self.db.transaction():
            self.db.execute(
                "UPDATE wallets SET balance_cents = balance_cents + %s WHERE id = %s",
                (amount_cents, wallet_id),
            )
            self.db.execute(
                "INSERT INTO ledger (wallet_id, amount_cents, kind) VALUES (%s, %s, 'opening')",
                (wallet_id, amount_cents),
            )

    def coupon(self, *, uses: int, credit_cents: int) -> str:
        code = self._coupon_code()
        self.db.execute(
            "INSERT INTO coupons (code, credit_cents, uses_left) VALUES (%s, %s, %s)",
            (code, credit_cents, uses),
        )
        return code

    def _title(self) -> str:
        r = secrets.SystemRandom()
        word, noun = r.choice(TITLE_WORDS), r.choice(TITLE_NOUNS)
        return r.choice((f"The {word} {noun}", f"{word} {noun}", f"A {noun} of {word}",
                         f"{noun}s of the {word} {r.choice(TITLE_NOUNS)}"))  # fmt: skip

    @staticmethod
    def _coupon_code() -> str:
        """A code in one of the shapes shops give theirs, unique within the run."""
        r = secrets.SystemRandom()
        word, n = r.choice(COUPON_WORDS), r.randrange(10**6)
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        return r.choice((
            f"{word}{r.choice((5, 10, 15, 20, 25))}-{n:06d}",
            "".join(r.choice(alphabet) for _ in range(r.randint(10, 14))),
            f"{word}-{r.randint(2024, 2027)}-{n:06d}",
            f"{word.lower()}{n}",
        ))  # fmt: skip

    # ------------------------------------------------------------ reading the tables

    def stock(self, book_id: int) -> int:
        return self.one("SELECT stock FROM books WHERE id = %s", (book_id,))

    def sold(self, book_id: int) -> int:
        return int(
            self.one(
                "SELECT coalesce(sum(quantity), 0) FROM order_items WHERE book_id = %s", (book_id,)
            )
        )

    def balances(self, wallet_ids: list[int]) -> dict[int, int]:
        rows = self.db.execute(
            "SELECT id, balance_cents FROM wallets WHERE id = ANY(%s)", (wallet_ids,)
        ).fetchall()
        return dict(rows)

    def ledger_totals(self, wallet_ids: list[int]) -> dict[int, int]:
        rows = self.db.execute(
            "SELECT wallet_id, sum(amount_cents) FROM ledger WHERE wallet_id = ANY(%s) GROUP BY wallet_id",
            (wallet_ids,),
        ).fetchall()
        return {w: int(t) for w, t in rows}

    def orders_of(self, wallet_ids: list[int]) -> list[tuple[int, int, int]]:
        """(order id, wallet id, total) of every order these wallets made."""
        return self.db.execute(
            "SELECT id, wallet_id, total_cents FROM orders WHERE wallet_id = ANY(%s) ORDER BY id",
            (wallet_ids,),
        ).fetchall()

    def items_of(self, order_id: int) -> list[tuple[int, int, int]]:
        return self.db.execute(
            "SELECT book_id, quantity, price_cents FROM order_items WHERE order_id = %s ORDER BY book_id",
            (order_id,),
        ).fetchall()

    def transfers_among(self, wallet_ids: list[int]) -> list[tuple[int, int, int]]:
        return self.db.execute(
            "SELECT from_wallet_id, to_wallet_id, amount_cents FROM transfers"
            " WHERE from_wallet_id = ANY(%s) OR to_wallet_id = ANY(%s)",
            (wallet_ids, wallet_ids),
        ).fetchall()


class Volley:
    """Requests sent together: each on a connection of its own, released by one barrier
    (``calls``: (base URL, path, JSON body)); ``join()`` gives the answers in order, an
    exception for a request that got none."""

    def __init__(self, calls: list[tuple[str, str, dict]], timeout: float = 20) -> None:
        self.answers: list[Any] = [None] * len(calls)
        limits = httpx.Limits(max_connections=len(calls), max_keepalive_connections=0)
        self.clients = {
            url: httpx.Client(base_url=url, timeout=timeout, limits=limits)
            for url in {c[0] for c in calls}
        }
        barrier = threading.Barrier(len(calls))

        def one(i: int) -> None:
            url, path, body = calls[i]
            barrier.wait()
            try:
                self.answers[i] = self.clients[url].post(path, json=body)
            except httpx.HTTPError as exc:
                self.answers[i] = exc

        self.threads = [
            threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(calls))
        ]
        for t in self.threads:
            t.start()

    def join(self, timeout: float = 30) -> list[Any]:
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        for client in self.clients.values():
            client.close()
        return self.answers


def spread(base_urls: list[str], n: int) -> list[str]:
    """n requests spread over every instance of the service, in turn."""
    return [base_urls[i % len(base_urls)] for i in range(n)]


def no_server_errors(answers: list, what: str) -> None:
    broken = [a for a in answers if not isinstance(a, httpx.Response)]
    if broken:
        fail(
            "no-answer",
            f"{len(broken)} of the {what} got no answer ({type(broken[0]).__name__}); "
            f"answers: {tally(answers)}.",
        )
    errors = [a for a in answers if a.status_code >= 500]
    if errors:
        fail(
            "server-error",
            f"{len(errors)} of the {what} answered {said(errors[0])} ({shown(errors[0])}); "
            f"answers: {tally(answers)}. A request that lost a race must still get an answer "
            "the client can act on (409 when nothing is left), never a server error.",
        )


class CycleWatch:
    """Watches pg_locks while requests run: did two of the service's sessions ever wait
    for each other (a deadlock, before PostgreSQL broke it)?"""

    def __init__(self, url: str) -> None:
        self.seen = False
        self._stop = threading.Event()
        self._conn = psycopg.connect(url, autocommit=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rows = self._conn.execute(
                "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchall()
            blockers = {pid: set(b) for pid, b in rows}
            if any(pid in blockers.get(other, ()) for pid, bs in blockers.items() for other in bs):
                self.seen = True
            self._stop.wait(0.02)

    def stop(self) -> bool:
        self._stop.set()
        self._thread.join(5)
        self._conn.close()
        return self.seen
