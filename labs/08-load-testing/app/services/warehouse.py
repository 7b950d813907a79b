"""Folio's warehouse API: how many copies of a book are on the shelf.

The real warehouse answers over the network in about 100 ms. Here it is simulated,
with the same wait, so the lab runs anywhere: the waiting is the part that matters.
Like most HTTP client libraries (httpx, for one), it offers the call two ways.
"""

import asyncio
import hashlib
import time

from pydantic import BaseModel

#: How long the warehouse takes to answer.
LATENCY_S = 0.1


class Stock(BaseModel):
    isbn: str
    available: int
    ships_in_days: int


def _shelf(isbn: str) -> Stock:
    # The same ISBN always has the same stock, so answers are easy to compare.
    digest = hashlib.sha256(isbn.encode()).digest()
    return Stock(isbn=isbn, available=digest[0] % 12, ships_in_days=1 + digest[1] % 4)


def stock_level(isbn: str) -> Stock:
    """Ask the warehouse, blocking the calling thread until it answers."""
    time.sleep(LATENCY_S)
    return _shelf(isbn)


async def stock_level_async(isbn: str) -> Stock:
    """Ask the warehouse; while waiting for the answer, the event loop serves others."""
    await asyncio.sleep(LATENCY_S)
    return _shelf(isbn)
