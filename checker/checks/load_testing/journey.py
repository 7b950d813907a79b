"""The hidden checks' own locustfile: run by locust in a process of its own, never
imported by the checks (importing locust monkey-patches the interpreter).

Two journeys, picked with ``LAB_JOURNEY``:

``shop``  mostly stock checks (the warehouse call), some book pages: what the throughput
          and latency checks measure.
``db``    book pages and orders only, every request reads or writes the database: what
          the connection check measures (no warehouse call, so a blocked event loop
          elsewhere cannot hide how connections are handled).

``LAB_THINK_S``: each user's pause between requests (0 = none). With a pause, users
also start at random moments within the first pause, as real visitors arrive, rather
than all in the same millisecond.

``LAB_USER_AGENT``: the browser the users say they are (drawn per run by the checks), so
a service cannot tell the load test from its customers.
"""

import os
import random
import time  # patched by locust's gevent: sleeping here lets the other users run

from locust import HttpUser, constant, task

BOOKS = 5000
JOURNEY = os.environ.get("LAB_JOURNEY", "shop")
THINK_S = float(os.environ.get("LAB_THINK_S", "0"))


def isbn_of(n: int) -> str:
    """The ISBN-13 of seeded book n (as seed.sql builds them)."""
    first12 = f"978{n:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


class Shopper(HttpUser):
    wait_time = constant(THINK_S)

    def on_start(self):
        self.client.headers["User-Agent"] = os.environ.get("LAB_USER_AGENT", "Mozilla/5.0")
        if THINK_S:
            time.sleep(random.uniform(0, THINK_S))

    @task(4 if JOURNEY == "shop" else 0)
    def stock(self):
        self.client.get(f"/stock/{isbn_of(random.randint(1, BOOKS))}", name="/stock/[isbn]")

    @task(1 if JOURNEY == "shop" else 3)
    def book(self):
        self.client.get(f"/books/{random.randint(1, BOOKS)}", name="/books/[id]")

    @task(0 if JOURNEY == "shop" else 1)
    def order(self):
        self.client.post(
            "/orders", json={"book_id": random.randint(1, BOOKS), "quantity": 1}, name="/orders"
        )
