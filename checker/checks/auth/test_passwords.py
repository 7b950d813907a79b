"""Stored password hashes: argon2id, OWASP's minimum parameters, a salt of their own."""

import re
from concurrent.futures import ThreadPoolExecutor

from _helpers import fail
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from checker.verdict import fail as fail_kind

MIN = {"m": 19456, "t": 2, "p": 1}
ARGON2 = re.compile(r"^\$argon2id\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+$")


def stored_hash(db, email: str) -> str:
    with db.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'users' AND (column_name LIKE '%%hash%%' "
            "OR column_name LIKE '%%password%%') ORDER BY column_name LIKE '%%hash%%' DESC"
        )
        columns = [row[0] for row in cur.fetchall()]
        if not columns:
            fail(
                "The users table has no column for the password hash; expected one "
                "(hashed_password, as the README says)."
            )
        cur.execute(f'SELECT "{columns[0]}" FROM users WHERE lower(email) = lower(%s)', [email])
        row = cur.fetchone()
    if row is None:
        fail(f"No row in the users table has the email {email} that was just registered.")
    return str(row[0])


def test_passwords_argon2id(accounts, db):
    emails = []
    password = accounts.people.password()
    with ThreadPoolExecutor(2) as pool:  # the same password, twice, side by side
        registered = list(pool.map(lambda _: accounts.register(password), range(2)))
    for response, email, _ in registered:
        assert response.is_success, (
            f"POST /auth/register answered {response.status_code}; this check needs "
            "registering to work."
        )
        emails.append(email)
    first, second = (stored_hash(db, email) for email in emails)
    assert password not in first, (
        "The users table holds the password itself; anyone who reads the table (a "
        "backup, a leak, a curious colleague) can log in as every user."
    )
    match = ARGON2.match(first)
    if match is None:
        kind = (
            "a 64-digit hex string (SHA-256?)"
            if re.fullmatch(r"[0-9a-f]{64}", first)
            else (f"something starting {first[:10]!r}")
        )
        fail(
            f"The stored password hash is {kind}, not an argon2id hash "
            "($argon2id$v=19$m=...,t=...,p=...$salt$hash). A fast hash lets a stolen users "
            "table be cracked at billions of guesses per second."
        )
    # The form is right; is it really an argon2id hash of the password? (A decoy: a fast
    # hash dressed in argon2's format.) Verify it the way any argon2 library would.
    try:
        real = PasswordHasher().verify(first, password)
    except (VerificationError, InvalidHashError):
        real = False
    if not real:
        fail_kind(
            "not-argon2",
            "The stored hash looks like argon2id ($argon2id$v=19$m=...,t=...,p=...$salt$hash), "
            "but it is not an argon2id hash of the password: argon2 itself does not verify "
            "it. Only a real argon2id hash costs an attacker what its parameters promise.",
        )
    params = dict(zip("mtp", map(int, match.groups()), strict=True))
    weak = [f"{k}={params[k]} (at least {MIN[k]})" for k in "mtp" if params[k] < MIN[k]]
    assert not weak, (
        f"The argon2id hash uses {', '.join(weak)}: below OWASP's minimum, each guess costs "
        "an attacker less than it should."
    )
    assert first != second, (
        "Two users with the same password got the same stored hash: there is no salt, so "
        "one cracked hash gives away everyone who shares the password."
    )
