"""The limiter's Redis: one atomic step under concurrency, keys that expire, and what
happens when Redis is gone."""

from __future__ import annotations

import re
import threading
import time

import httpx
from _helpers import (
    WORDS,
    Q,
    W,
    address,
    answer,
    client,
    new_partner,
    no_server_errors,
    refill,
    reset_in,
    search,
    statuses,
)

from checker.services.redis_lease import LEASE_KEY
from checker.verdict import fail

ROUNDS, AT_ONCE = 5, 8  # 40 searches: 5 rounds of 8 at once, 4 to each instance
DELAY_MS = 20  # added to every round trip to Redis while they run


def _in_rounds(base_urls: list[str], key: str, hop: str, words: list[str]) -> list:
    """ROUNDS rounds; in each, AT_ONCE searches released by a barrier at the same instant,
    half to each instance. A lock inside one process can't order them: in every round,
    a search on each instance reads the count before the other writes it back, whatever
    the threads' timing."""
    barrier = threading.Barrier(AT_ONCE)
    results: list = []
    limits = httpx.Limits(max_keepalive_connections=0)
    clients = [httpx.Client(base_url=u, timeout=20, limits=limits) for u in base_urls[:2]]

    def side(i: int) -> None:
        for n in range(ROUNDS):
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                return
            try:
                r = clients[i % 2].get("/search", params={"q": words[AT_ONCE * n + i]},
                                   headers={"X-API-Key": key, "X-Forwarded-For": hop})  # fmt: skip
                results.append(answer(r))
            except httpx.HTTPError as exc:
                results.append(exc)
                barrier.abort()
                return

    threads = [threading.Thread(target=side, args=(i,), daemon=True) for i in range(AT_ONCE)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for c in clients:
            c.close()
    return results


def _explain(commands: list[list[str]]) -> str:
    """What the Redis record says the service did (to explain, never to decide)."""
    names = {c[0].upper() for c in commands if c}
    atomic = names & {"EVAL", "EVALSHA", "FCALL", "INCR", "INCRBY", "MULTI", "ZADD"}
    if "GET" in names and names & {"SET", "SETEX", "PSETEX"} and not atomic:
        return (" Redis saw GET, then SET, for each search: a count read, compared in "
                "Python and written back is two steps: searches sent together read the "
                "same count before any wrote it back.")  # fmt: skip
    return " The count was read and written back in more than one step."


def test_atomic_under_concurrency(base_urls, db, rng, redis_link):
    assert len(base_urls) >= 2, "The run started one instance of the service; expected two."
    words = [rng.choice(WORDS) for _ in range(ROUNDS * AT_ONCE)]
    for attempt in range(2):
        key, hop = new_partner(db, rng), address(rng)
        redis_link.delay(DELAY_MS)
        try:
            with redis_link.recording() as commands:
                started = time.monotonic()
                results = _in_rounds(base_urls, key, hop, words)
        finally:
            redis_link.delay(0)
        lost = [r for r in results if not hasattr(r, "status")]
        if lost:
            fail("no-answer", f"A search of {ROUNDS * AT_ONCE} sent in rounds got no answer "
                 f"({type(lost[0]).__name__ if lost[0] else 'timeout'}); expected 200 or "
                 "429 for each.")  # fmt: skip
        results.sort(key=lambda a: a.at)
        no_server_errors(results, f"{ROUNDS * AT_ONCE} searches with one API key, in rounds")
        allowed = sum(a.allowed for a in results)
        took = results[-1].at - started
        bound = Q + refill(took)
        if allowed > bound and attempt == 0:
            resets = [t for a in results if (t := reset_in(a)) is not None]
            if resets and min(resets) <= took + 1.0:
                continue  # a window may have reset meanwhile: once more, in a fresh one
        break
    if allowed > bound:
        fail("too-many-allowed", f"{ROUNDS * AT_ONCE} searches with one API key, in {ROUNDS} rounds of "
             f"{AT_ONCE} sent at the same instant, half to each instance (Redis "
             f"{DELAY_MS} ms slower per round trip): {allowed} "
             f"answered 200; expected at most {bound} (the quota, {Q}, plus what the "
             f"policy gives back in the {took:.1f} s they took).{_explain(commands)}")  # fmt: skip
    if allowed < Q:
        fail("too-few-allowed", f"{ROUNDS * AT_ONCE} searches with one new API key, in rounds: only "
             f"{allowed} answered 200 ({statuses(results)}); expected the quota, {Q}.")  # fmt: skip


#: The README's bound: a limiter key lives at most two windows.
MAX_TTL_MS = 2 * W * 1000


def _names(redis) -> set[str]:
    return {n for n in redis.scan_iter(count=1000) if n != LEASE_KEY}


def test_keys_expire(base_url, db, rng, redis):
    before = _names(redis)
    key = new_partner(db, rng)
    with client(base_url) as c:
        answers = [answer(search(c, rng, key=key, hop=address(rng))) for _ in range(3)]
        hop = address(rng)
        answers += [answer(search(c, rng, hop=hop)) for _ in range(3)]
    no_server_errors(answers, "A partner's and an anonymous caller's searches")
    new = _names(redis) - before
    if not new:
        fail("no-keys-in-redis", "A partner and an anonymous caller searched 3 times each, "
             "and no new key appeared in Redis; expected the limiter to count there, where "
             "every instance counts the same searches.")  # fmt: skip
    for name in sorted(new):
        ttl = redis.pttl(name)
        if ttl == -1:
            fail("key-never-expires", f"After a few searches, Redis holds the key {name!r} "
                 "with no expiry: a key per caller (per window) that stays forever, and "
                 f"Redis only grows. Expected every limiter key to expire within "
                 f"{2 * W} s (twice the window).")  # fmt: skip
        if ttl > MAX_TTL_MS:
            fail("ttl-too-long", f"Redis holds the limiter key {name!r} for {ttl / 1000:.0f} "
                 f"s; expected at most {2 * W} s (twice the window): nothing older than "
                 "the window is needed.")  # fmt: skip


OUTAGE_MAX_S = 2.0
WARNING = re.compile(r"warn", re.IGNORECASE)


def _warned(logs, mark) -> bool:
    deadline = time.monotonic() + 1.0
    while True:
        for line in logs.lines(mark):
            level = str(
                (line.record or {}).get("level") or (line.record or {}).get("levelname") or ""
            )
            if WARNING.search(level) or WARNING.search(line.text):
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_fails_open_when_redis_down(base_url, db, rng, redis_link, logs):
    key, hop = new_partner(db, rng), address(rng)
    with client(base_url, timeout=OUTAGE_MAX_S + 2) as c:
        for mode, how in (("refuse", "stopped"), ("hang", "frozen (it accepts, never answers)")):
            mark = logs.mark()
            with redis_link.outage(mode):
                for caller in ({"key": key}, {}):  # a partner, and an anonymous caller
                    t0 = time.monotonic()
                    try:
                        a = answer(search(c, rng, hop=hop, **caller))
                    except httpx.TimeoutException:
                        fail("outage-hang", f"With Redis {how}, a search got no answer in "
                             f"{OUTAGE_MAX_S + 2:.0f} s; expected 200 within {OUTAGE_MAX_S:.0f} "
                             "s: search goes on without the limiter (the README's choice).")  # fmt: skip
                    took = time.monotonic() - t0
                    if a.status != 200:
                        fail("outage-error", f"With Redis {how}, a search answered {a.status}; "
                             "expected 200: when the limiter can't reach Redis, search goes "
                             "on without a limit (fail open, as the README documents).")  # fmt: skip
                    if took > OUTAGE_MAX_S:
                        fail("outage-slow", f"With Redis {how}, a search answered 200 but took "
                             f"{took:.1f} s; expected under {OUTAGE_MAX_S:.0f} s: each search "
                             "waits for Redis before going on without it.")  # fmt: skip
            if not _warned(logs, mark):
                fail("outage-silent", f"With Redis {how}, searches went on without a limit, "
                     "and the service logged no warning; expected one (WARNING): nobody "
                     "knows the scrapers are unlimited.")  # fmt: skip
