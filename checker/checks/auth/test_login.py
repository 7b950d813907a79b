"""Login: no user enumeration; refresh rotation; roles never from the request; lockout."""

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from _helpers import json_of, said

from checker.observe.races import at_once, writes_held
from checker.verdict import expect


def _timed_login(accounts, email, password):
    t0 = time.perf_counter()
    response = accounts.login_response(email, password)
    return response, time.perf_counter() - t0


def _comparable(response):
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def test_login_same_answer(accounts):
    target = accounts.create(login=False)
    wrong, unknown = [], []
    for _ in range(3):  # below any sensible lockout threshold
        guess = accounts.people.wrong_password(target.password)
        wrong.append(_timed_login(accounts, target.email, guess))
        unknown.append(_timed_login(accounts, accounts.people.email(), guess))
    w, u = wrong[0][0], unknown[0][0]
    expect(
        w.status_code == 401 and u.status_code == 401,
        "server-error" if max(w.status_code, u.status_code) >= 500 else "not-refused",
        f"POST /auth/login with a wrong password answered {said(w)}, and with an unknown "
        f"email {said(u)}; expected both to be refused with 401 Unauthorized: the client "
        "made a mistake (a crash is a 500, and a 500 is the server's).",
    )
    assert _comparable(w) == _comparable(u), (
        f"POST /auth/login answers an unknown email with {said(u)} {u.text[:120]!r} but a "
        f"wrong password with {said(w)} {w.text[:120]!r}. The difference tells an "
        "attacker which emails have accounts here; expected one answer for both."
    )
    t_wrong = statistics.median(t for _, t in wrong)
    t_unknown = statistics.median(t for _, t in unknown)
    assert t_unknown >= 0.3 * t_wrong or t_wrong - t_unknown < 0.015, (
        f"POST /auth/login takes about {t_unknown * 1000:.0f} ms for an unknown email and "
        f"{t_wrong * 1000:.0f} ms for a wrong password: the same answer, but the timing "
        "still tells which emails have accounts. Expected about the same time for both."
    )


def test_refresh_rotation(http, accounts, alice):
    accounts.login(alice)  # a fresh login: a family of its own
    first = alice.refresh_token
    assert first, "POST /auth/login answered no refresh_token; expected one."
    response = http.post("/auth/refresh", json={"refresh_token": first})
    assert response.status_code == 200, (
        f"POST /auth/refresh with the refresh token from a login answered {said(response)}; "
        "expected 200 OK with a new pair of tokens."
    )
    body = json_of(response)
    second = body.get("refresh_token") if isinstance(body, dict) else None
    assert second and second != first, (
        "POST /auth/refresh answered without a new refresh_token (or with the same one); "
        "expected a fresh one each time: rotation."
    )
    me = http.get("/users/me", headers={"Authorization": f"Bearer {body.get('access_token')}"})
    assert me.status_code == 200, (
        f"GET /users/me with the access token from /auth/refresh answered {said(me)}; expected 200."
    )
    replay = http.post("/auth/refresh", json={"refresh_token": first})
    assert replay.status_code in (400, 401), (
        f"POST /auth/refresh with a refresh token that was already traded in answered "
        f"{said(replay)}; expected 401. A stolen refresh token keeps minting access "
        "tokens for weeks."
    )
    after = http.post("/auth/refresh", json={"refresh_token": second})
    assert after.status_code in (400, 401), (
        f"After an old refresh token was replayed, its successor still works "
        f"({said(after)}); expected 401. A replay means two parties hold tokens of this "
        "login and the service can't tell the thief: expected the whole family revoked."
    )


def test_roles_not_from_request(http, accounts):
    response, email, password = accounts.register(role="moderator")
    if response.status_code == 422:
        return  # refusing unknown fields is fine too
    assert response.status_code == 201, (
        f"POST /auth/register with a role field answered {said(response)}; expected "
        "201 (the role ignored) or 422 (the field refused)."
    )
    body = json_of(response)
    shown = body.get("role") if isinstance(body, dict) else None
    assert shown in (None, "reader"), (
        'POST /auth/register with "role": "moderator" created an account with role '
        f"{shown!r}. Anyone can sign up with whatever rights they ask for."
    )
    login = accounts.login_response(email, password)
    assert login.status_code == 200, f"POST /auth/login answered {said(login)}; expected 200."
    token = json_of(login)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = http.post("/reviews", json={"book_title": "Emma", "rating": 3}, headers=headers)
    review_id = json_of(created).get("id")
    response = http.post(f"/moderation/reviews/{review_id}/publish", headers=headers)
    assert response.status_code == 403, (
        'An account registered with "role": "moderator" in its request body published a '
        f"review as a moderator ({said(response)}); expected 403. Roles must come from the "
        "database, never from what a client sends."
    )


def test_lockout_per_account(accounts):
    with ThreadPoolExecutor(2) as pool:
        victim, bystander = pool.map(lambda _: accounts.create(login=False), range(2))
    for _ in range(5):
        accounts.login_response(victim.email, accounts.people.wrong_password(victim.password))
    response = accounts.login_response(victim.email, victim.password)
    assert response.status_code == 429, (
        f"After 5 failed logins in a row, the right password answered {said(response)}; "
        "expected 429 Too Many Requests while the account is locked. Without a lockout, "
        "a password can be guessed at full speed."
    )
    retry = response.headers.get("retry-after", "")
    assert retry.isdigit() and int(retry) > 0, (
        f"The 429 answer has Retry-After {retry or 'missing'}; expected a number of "
        "seconds after which the account may try again."
    )
    other = accounts.login_response(bystander.email, bystander.password)
    assert other.status_code == 200, (
        f"While one account was locked, another account logging in from the same client "
        f"answered {said(other)}; expected 200. Lock the account under attack, not the "
        "address: attackers have many, and everyone behind one office NAT would be locked."
    )


@pytest.mark.check("lockout_per_account")
def test_lockout_counts_failures_in_a_row(accounts):
    """5 failures *in a row*: a success in between starts the count again, and 4 never
    lock. Someone who mistypes now and then must not be locked out in the end."""
    user = accounts.create(login=False)
    for round_ in (1, 2):
        for _ in range(4):
            accounts.login_response(user.email, accounts.people.wrong_password(user.password))
        response = accounts.login_response(user.email, user.password)
        expect(
            response.status_code == 200,
            "counts-all-failures" if round_ == 2 else "locks-too-soon",
            (
                "After 4 failed logins, then a successful one, then 4 failed ones again"
                if round_ == 2
                else "After 4 failed logins in a row"
            )
            + f", the right password answered {said(response)}; expected 200 OK: the "
            "account locks after 5 failed logins in a row, and a successful login starts "
            "the count again.",
        )


RACERS = 3


@pytest.mark.check("refresh_rotation")
def test_refresh_race(base_url, accounts, alice, db):
    """One refresh token, traded in by several clients at the same moment (a thief and
    the user): at most one gets new tokens. Checking "used?" and then marking it used, in
    two steps, lets every racer through."""
    accounts.login(alice)  # a fresh family of its own
    token = alice.refresh_token
    expect(token, "no-refresh-token", "POST /auth/login answered no refresh_token; expected one.")
    calls = [("POST", "/auth/refresh", {"refresh_token": token})] * RACERS
    table = db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        " AND table_name LIKE '%%refresh%%' ORDER BY table_name LIMIT 1"
    ).fetchone()
    if table is None:  # no table of refresh tokens: nothing to hold, send them together
        answers = at_once(base_url, calls, release=lambda: None)
    else:
        with writes_held(table[0]) as open_when:
            # Every racer reads the token before any can mark it used.
            answers = at_once(base_url, calls, release=lambda: open_when(RACERS))
    codes = [r.status_code if r is not None else 0 for r in answers]
    expect(
        all(0 < c < 500 for c in codes),
        "race-server-error",
        f"{RACERS} clients traded in the same refresh token at the same moment; the answers "
        f"were {sorted(codes)} (0: no answer). Expected one 200 and 401 for the others.",
    )
    expect(
        codes.count(200) <= 1,
        "race-reused",
        f"{RACERS} clients traded in the same refresh token at the same moment and "
        f"{codes.count(200)} of them got new tokens. A refresh token is good for one use: "
        "expected at most one 200, and 401 for the others.",
    )
