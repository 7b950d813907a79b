"""Helpers for the security checks: the check's own users, sessions, books and canary
files, and answers worded for the learner.

Every check makes its own rows (users with a random email, books with a random word in
the title) and files (canaries with random names and contents), so checks never disturb
each other and a service cannot know them in advance.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from checker.people import FIRST, LAST, People

WORDS = ("quartz", "lantern", "meridian", "saffron", "tundra", "harbor", "cobalt", "juniper",
         "marble", "orchid", "falcon", "ember", "willow", "glacier", "comet", "aurora")  # fmt: skip
STOREFRONT = "https://shop.folio.test"


def said(response: httpx.Response) -> str:
    phrase = "Unprocessable Content" if response.status_code == 422 else response.reason_phrase
    return f"{response.status_code} {phrase or ''}".strip()


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def shown(response: httpx.Response, limit: int = 160) -> str:
    text = json.dumps(body_of(response)) if response.content else "an empty body"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def word(rng) -> str:
    return f"{rng.choice(WORDS)}{rng.randint(1000, 9999)}"


def full_name(r) -> str:
    return f"{r.choice(FIRST).capitalize()} {r.choice(LAST).capitalize()}"


def make_user(db, rng, *, admin: bool = False, balance: int = 0) -> tuple[int, str, str]:
    """A user of the check's own, signed in: (id, email, session token). It looks like
    any customer (or staff member) the shop has: an email, a name and a real scrypt hash
    of a password of its own, drawn per run, so no column marks it as the checks'."""
    people = People(rng)
    email = people.email()
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(people.password().encode(), salt=salt, n=2**14, r=8, p=1)
    row = db.execute(
        "INSERT INTO users (email, password_hash, display_name, is_admin, role, "
        "wallet_balance_cents, email_verified) VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "RETURNING id",
        (email, f"scrypt${salt.hex()}${digest.hex()}", full_name(rng), admin,
         "staff" if admin else "customer", balance, rng.random() < 0.8),
    ).fetchone()  # fmt: skip
    token = secrets.token_urlsafe(24)
    db.execute(
        "INSERT INTO sessions (token_sha256, user_id) VALUES (%s, %s)",
        (hashlib.sha256(token.encode()).hexdigest(), row[0]),
    )
    return row[0], email, token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_book(db, title: str, *, price: int = 1000, author: str | None = None,
              year: int | None = None) -> int:  # fmt: skip
    r = secrets.SystemRandom()  # an author and a year like any book's
    author, year = author or full_name(r), year or r.randint(1850, 2025)
    return db.execute(
        "INSERT INTO books (title, author, price_cents, published_year) VALUES (%s, %s, %s, %s) "
        "RETURNING id",
        (title, author, price, year),
    ).fetchone()[0]


def user_row(db, user_id: int) -> dict[str, Any]:
    cur = db.execute(
        "SELECT display_name, bio, is_admin, role, wallet_balance_cents, email_verified "
        "FROM users WHERE id = %s",
        (user_id,),
    )
    names = [c.name for c in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def code_dir(workspace: Path) -> Path:
    """Where the service runs from (the sandbox's copy of the workspace, if it has one)."""
    return Path(os.environ.get("LAB_LEARNER_CODE") or workspace)


def raw_get(base_url: str, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET a path exactly as written: no client normalises ../ or %2e away."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
