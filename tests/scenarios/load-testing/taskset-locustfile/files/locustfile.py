"""A shopper's journey written with a TaskSet: the steps live in a class of their own,
and the user runs it."""

import random

from locust import HttpUser, TaskSet, between, task


class Browse(TaskSet):
    @task(5)
    def list_page(self):
        page = random.randint(0, 20)
        self.client.get(f"/books?offset={page * 20}&limit=20", name="/books?offset=[n]")

    @task(8)
    def book_page(self):
        book_id = random.randint(1, 5000)
        with self.client.get(f"/books/{book_id}", name="/books/[id]", catch_response=True) as r:
            if r.status_code == 200:
                self.user.isbns.append(r.json()["isbn"])

    @task(3)
    def stock(self):
        if self.user.isbns:
            isbn = random.choice(self.user.isbns)
            self.client.get(f"/stock/{isbn}", name="/stock/[isbn]")

    @task(1)
    def order(self):
        self.client.post("/orders", json={"book_id": random.randint(1, 5000), "quantity": 1})


class Shopper(HttpUser):
    wait_time = between(0.5, 2)
    tasks = [Browse]

    def on_start(self):
        self.isbns = []
