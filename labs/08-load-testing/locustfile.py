"""Your load test of Folio's storefront: write it here, run it with

    locust -f labs/08-load-testing/locustfile.py --host http://127.0.0.1:8000

(or from the notebook). `lab check load-testing` runs it too, to see that it is a
realistic journey: see the README for what that means.
"""

import random

from locust import HttpUser, task


class Shopper(HttpUser):
    # TODO: this "shopper" hammers one page with no pause, and each book id gets a row
    # of its own in locust's statistics.
    @task
    def view_book(self):
        self.client.get(f"/books/{random.randint(1, 2000)}")
