"""The checks that wait on the service's clock: Retry-After, and a window's edge.

Each runs as a *phase* in a thread started with the run (``conftest.py``), and its
test, in the manifest's order, judges what the phase found. A phase raises the
check's failure itself (``checker.verdict.fail``); the test re-raises it.
"""

from __future__ import annotations

import os
import random
import time

import psycopg
from _helpers import (
    PATIENCE,
    POLICY,
    Q,
    W,
    address,
    answer,
    client,
    new_partner,
    no_server_errors,
    refill,
    reset_fell_inside,
    reset_in,
    search,
    shown,
    since_sent,
    statuses,
)

from checker.verdict import fail

PROBLEM_JSON = "application/problem+json"


def _rng(check_id: str) -> random.Random:
    # As the `rng` fixture draws: the run's seed and the check's id.
    return random.Random(f"{os.environ.get('LAB_SEED') or '0'}:{check_id}")


def _db():
    return psycopg.connect(os.environ["LAB_RUN_DATABASE_URL"], autocommit=True)


def _base_url() -> str:
    return os.environ["LAB_SERVICE_URL"].rstrip("/")


def until_refused(send, limit: int) -> list:
    answers = []
    for _ in range(limit):
        a = answer(send())
        answers.append(a)
        if not a.allowed:
            break
    return answers


# ---------------------------------------------------------------- Retry-After


def over_quota_429_retry_after() -> str:
    rng = _rng("over_quota_429_retry_after")
    with _db() as db, client(_base_url()) as c:
        for attempt in range(2):
            key, hop = new_partner(db, rng), address(rng)
            answers = until_refused(lambda: search(c, rng, key=key, hop=hop), PATIENCE)  # noqa: B023
            no_server_errors(answers, f"{len(answers)} searches in a row with one API key")
            allowed = sum(a.allowed for a in answers)
            refused = not answers[-1].allowed
            too_many = not refused or allowed > Q + refill(since_sent(answers[0], answers[-1]))
            if (too_many or allowed < Q) and attempt == 0 and reset_fell_inside(answers):
                continue  # the service's own window reset meanwhile: a fresh one, once more
            if not refused:
                fail("never-refused", f"{len(answers)} searches in a row with one API key "
                     f"all answered 200; expected a 429 once the quota was used "
                     f"(the policy: {Q} searches per {W} s).")  # fmt: skip
            if allowed < Q:
                fail("refused-too-early", f"Searches in a row with one new API key answered "
                     f"{statuses(answers)}; expected {Q} allowed before the first 429.")  # fmt: skip
            if too_many:
                fail("too-many-allowed", f"Searches in a row with one API key answered "
                     f"{statuses(answers)}; expected the {Q + 1}th refused, give or take what "
                     "the policy refills meanwhile.")  # fmt: skip
            break
        refusal = answers[-1]
        ctype = refusal.headers.get("content-type", "")
        if not ctype.startswith(PROBLEM_JSON):
            fail("not-problem-json", f"The 429 came as {ctype or 'no Content-Type'}; expected "
                 f"{PROBLEM_JSON} (RFC 9457), like every other error.")  # fmt: skip
        if not isinstance(refusal.body, dict) or refusal.body.get("status") != 429:
            fail("not-problem-json", f"The 429's body is {shown(refusal.body)}; expected "
                 'problem details with "status": 429.')  # fmt: skip
        value = refusal.headers.get("retry-after")
        if value is None:
            fail("no-retry-after", "The 429 has no Retry-After header; expected the seconds "
                 "to wait before the next search (RFC 6585 section 4).")  # fmt: skip
        if not value.strip().isdigit():
            fail("retry-after-not-seconds", f"The 429 says Retry-After: {value}; expected a "
                 f"whole number of seconds (delta-seconds, RFC 9110 section 10.2.3).")  # fmt: skip
        wait = int(value)
        if wait > W:
            hint = " That looks like milliseconds." if wait >= 1000 else ""
            fail("retry-after-ms" if wait >= 1000 else "retry-after-too-long",
                 f"The 429 says Retry-After: {wait}; expected a number of seconds between 1 "
                 f"and the window ({W} s): no client of a {W}-second window need wait "
                 f"{wait} s.{hint}")  # fmt: skip
        if wait < 1:
            fail("retry-after-zero", "The 429 says Retry-After: 0; expected the seconds until "
                 "a search is allowed again, at least 1 (a client told 0 retries at once).")  # fmt: skip
        time.sleep(max(0.0, refusal.at + wait + 0.15 - time.monotonic()))
        again = answer(search(c, rng, key=key, hop=hop))
        if not again.allowed:
            fail("still-refused", f"After a 429 with Retry-After: {wait}, the client waited "
                 f"{wait} s and searched again: {again.status}; expected 200. Retry-After "
                 "must be honest: round the wait up, never down.")  # fmt: skip
        return f"Retry-After: {wait} after {Q} searches; the search after it answered 200."


# ---------------------------------------------------------------- the window's edge


def _reported_reset(c, db, rng, key: str, hop: str):
    """Open the key's window with one search; when does its quota reset, by the
    service's own word? (monotonic time, the opening answer)"""
    opening = answer(search(c, rng, key=key, hop=hop))
    t = reset_in(opening)
    if t is not None:
        return opening.at + t, opening
    # No `t` on an allowed answer: a partner opened at the same moment, pushed to its
    # 429, tells when its window (so this one's) resets.
    probe, probe_hop = new_partner(db, rng, "probe"), address(rng)
    answers = until_refused(lambda: search(c, rng, key=probe, hop=probe_hop), PATIENCE)
    last = answers[-1]
    t = reset_in(last)
    if t is None and last.headers.get("retry-after", "").isdigit():
        t = float(last.headers["retry-after"])
    if last.allowed or t is None or t > W:
        return opening.at + W, opening
    return last.at + t, opening


def _answers(results: list, what: str) -> list:
    lost = [r for r in results if not hasattr(r, "status")]
    if lost:
        fail("no-answer", f"{len(lost)} of {len(results)} {what} got no answer "
             f"({type(lost[0]).__name__}); expected 200 or 429 for each.")  # fmt: skip
    return sorted(results, key=lambda a: a.at)


#: How long before the reported reset the first burst starts: `t` is in whole seconds,
#: so the real reset may come up to 1 s before the one reported.
LEAD_S = 1.3


def _until_allowed(c, rng, key: str, hop: str, until: float) -> list:
    """Single searches until one is allowed again (the window's edge, if it has one)."""
    polls: list = []
    while time.monotonic() < until:
        polls.append(answer(search(c, rng, key=key, hop=hop)))
        if polls[-1].allowed:
            break
        time.sleep(0.05)
    return polls


def no_double_burst_at_window_edge() -> str:
    rng = _rng("no_double_burst_at_window_edge")
    with _db() as db, client(_base_url()) as c:
        hop, waited, before, polls = address(rng), False, None, []

        def burst(key: str) -> list:
            # One after the other: this check is about the window, not about races.
            return [answer(search(c, rng, key=key, hop=hop)) for _ in range(Q - 1)]

        for attempt in range(4):
            key = new_partner(db, rng)
            reset, opening = _reported_reset(c, db, rng, key, hop)
            if waited and reset - opening.at < LEAD_S + 0.5:
                # Opened right after a reset, and yet the quota is whole again within a
                # second or so: a token bucket, no long window to wait for.
                before = burst(key)
                polls = _until_allowed(c, rng, key, hop, reset + 1.5)
                break
            if reset - time.monotonic() < LEAD_S + 0.4:
                # Too close to the edge to fit a burst before it: wait for a fresh window.
                time.sleep(max(0.0, reset - time.monotonic()) + 0.1)
                waited = True
                continue
            time.sleep(max(0.0, reset - LEAD_S - time.monotonic()))
            before = burst(key)
            polls = _until_allowed(c, rng, key, hop, reset + 1.5)
            if not polls or not polls[0].allowed or attempt == 3:
                break  # the burst ended before the edge (a refusal came first), or no edge
            # Allowed at once: the window had already reset during the burst. Another one.
            time.sleep(max(0.0, reset - time.monotonic()) + 0.1)
            waited = True
        if before is None:  # never far enough from an edge: judge what a burst does now
            before = burst(key)
            polls = _until_allowed(c, rng, key, hop, reset + 1.5)
        after = burst(key)
        everything = before + polls + after
        no_server_errors(everything, "searches at a window's edge")
        allowed = sum(a.allowed for a in everything)
        # The most any algorithm of the policy allows here: the quota, what it refills
        # while each burst runs, and the one search the wait for the edge let through
        # (plus one for rounding). The wait itself refills nothing the polls didn't take.
        took = since_sent(before[0], before[-1]) + since_sent(after[0], after[-1])
        bound = Q + refill(took) + 2
        span = everything[-1].at - before[0].at
        if allowed > bound:
            fail("double-burst", f"{Q - 1} searches just before the reported reset, then "
                 f"{Q - 1} right after it (one more search had opened the window): "
                 f"{allowed} of {len(everything)} answered 200 within {span:.1f} s "
                 f"({statuses(everything)}); at most {bound} fit the policy \"{POLICY}\" of "
                 f"{Q} per {W} s. A fixed window forgets everything at its edge.")  # fmt: skip
        return f"{allowed} of {len(everything)} searches allowed across the reset, within {span:.1f} s."


#: check id -> its phase, run from the start of the run.
PHASES = {
    "over_quota_429_retry_after": over_quota_429_retry_after,
    "no_double_burst_at_window_edge": no_double_burst_at_window_edge,
}
