"""Three weighted tasks with journey-like names, think time, grouped URLs: but every one
of them requests the same list page."""

import random

from locust import HttpUser, between, task


class Shopper(HttpUser):
    wait_time = between(0.5, 2)

    @task(5)
    def browse(self):
        self.client.get(f"/books?offset={random.randint(0, 20) * 20}", name="/books?offset=[n]")

    @task(3)
    def view_book(self):
        self.client.get("/books?limit=1", name="/books (one)")

    @task(1)
    def buy(self):
        self.client.get("/books?limit=2", name="/books (two)")
