"""A shopper's journey through Folio's storefront, for locust.

    locust -f labs/08-load-testing/locustfile.py --host http://127.0.0.1:8000

Shoppers browse far more than they buy: the weights say how often each step happens
relative to the others, and the pause between steps is the time a person spends
reading a page. Every book has its own URL, so `name=` groups them into one row.
"""

import random

from locust import HttpUser, between, task

BOOKS = 5000  # ids 1..5000 in the seeded catalog


class Shopper(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self):
        self.seen = []  # ISBNs of books this shopper looked at

    @task(4)
    def browse(self):
        page = random.randint(0, 20)
        self.client.get(f"/books?offset={page * 20}&limit=20", name="/books?offset=[n]")

    @task(6)
    def view_book(self):
        book_id = random.randint(1, BOOKS)
        with self.client.get(f"/books/{book_id}", name="/books/[id]", catch_response=True) as r:
            if r.status_code == 200:
                self.seen.append(r.json()["isbn"])

    @task(3)
    def check_stock(self):
        if self.seen:
            self.client.get(f"/stock/{random.choice(self.seen)}", name="/stock/[isbn]")

    @task(1)
    def buy(self):
        book_id = random.randint(1, BOOKS)
        self.client.post("/orders", json={"book_id": book_id, "quantity": 1})
