"""A checkout behind a stuck admin session, run in the background from the start of the
run (see conftest.py) and judged by test_stuck_lock.py."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import httpx

#: The README's lock_timeout.
LOCK_TIMEOUT_S = 3.0
#: How late a 503 may come on a busy machine, beyond the lock_timeout.
SLACK_S = 2.0
#: How long the admin session would hold the row; the checker stops waiting well before
#: (its verdict is known once the answer is later than the lock_timeout allows).
HOLD_S = 15.0
GIVE_UP_S = 8.0


class StuckCheckout:
    def __init__(self, shop, locks, base_url: str, rng: random.Random) -> None:
        self.shop = shop
        self.stock = rng.randint(3, 9)
        self.price = rng.randint(500, 2500)
        self.balance = self.price * 4
        self.book = shop.book(stock=self.stock, price_cents=self.price)
        self.wallet = shop.wallet(self.balance)
        self.cart = {"wallet_id": self.wallet, "items": [{"book_id": self.book, "quantity": 1}]}
        self.base_url = base_url
        self.answer: httpx.Response | None = None
        self.error: Exception | None = None
        self.took = 0.0
        self.held_s = 0.0
        # The admin's transaction: the book's row, locked FOR UPDATE, held open.
        self._hold = locks.hold("SELECT 1 FROM books WHERE id = %s FOR UPDATE", [self.book])
        self._held = self._hold.__enter__()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        t0 = time.monotonic()
        try:
            with httpx.Client(base_url=self.base_url, timeout=GIVE_UP_S) as client:
                self.answer = client.post("/checkout", json=self.cart)
        except httpx.HTTPError as exc:
            self.error = exc
        finally:
            self.took = time.monotonic() - t0
            # The answer (or the give-up) is in: the admin session ends now, not at 15 s.
            self.held_s = self.took
            self._hold.__exit__(None, None, None)
            self._done.set()

    def result(self) -> dict[str, Any]:
        self._done.wait(GIVE_UP_S + 5)
        return {"answer": self.answer, "error": self.error, "took": self.took}

    def close(self) -> None:
        self._done.wait(GIVE_UP_S + 5)
        self._thread.join(1)
