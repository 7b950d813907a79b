"""One customer, registered on first use and shared by the checks that only need
someone logged in (a registration and a login cost a password hash each). The checks
about passwords and the smoke check register their own."""

from __future__ import annotations

import os
import random

import httpx
import pytest
from _helpers import Customer


@pytest.fixture(scope="session")
def shopper(base_url: str):
    made: list[Customer] = []
    # No keep-alive: a service that crashes mid-request resets the connection.
    client = httpx.Client(base_url=base_url, timeout=10,
                          limits=httpx.Limits(max_keepalive_connections=0))  # fmt: skip

    def get() -> Customer:
        if not made:
            made.append(
                Customer(client, random.Random(f"{os.environ.get('LAB_SEED', '0')}:shopper"))
            )
        return made[0]

    try:
        yield get
    finally:
        client.close()
