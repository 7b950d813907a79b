"""Who is counted: partners by API key, anonymous callers by the proxy's hop, and the
same count on every instance of the service."""

from __future__ import annotations

from _helpers import (
    BROWSERS,
    PATIENCE,
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
    seeded_partners,
    since_sent,
    statuses,
)
from _timed import until_refused

from checker.verdict import fail


def _refused_burst(send, what: str, kind: str, why: str) -> list:
    """Searches until the first 429 (a window reset meanwhile: once more)."""
    for attempt in range(2):
        answers = until_refused(send, PATIENCE)
        no_server_errors(answers, what)
        if not answers[-1].allowed:
            return answers
        if attempt == 0 and reset_fell_inside(answers):
            continue
        fail(kind, f"{what}: {len(answers)} in a row all answered 200; expected a "
             f"429 once the quota ({Q}) was used. {why}")  # fmt: skip
    raise AssertionError("unreachable")


#: Searches of a refused partner from new addresses.
MOVED = 6


def test_limits_per_api_key(base_url, db, rng):
    office = address(rng)
    with client(base_url) as c:
        # A partner from the seeded catalogue, at the office's address, uses its quota;
        # then the same key calls from new addresses (a new X-Forwarded-For, a new hop).
        for attempt, a_key in enumerate(seeded_partners(db, rng, 2)):
            spent = _refused_burst(lambda: search(c, rng, key=a_key, hop=office),  # noqa: B023
                                   "Searches with one partner's API key", "key-never-limited",
                                   "The quota applies to every partner's key.")  # fmt: skip
            moved = [answer(search(c, rng, key=a_key, hop=address(rng), spoof=[address(rng)]))
                     for _ in range(MOVED)]  # fmt: skip
            no_server_errors(moved, "The same API key from new addresses")
            # All the key's searches, wherever from, within what the policy refills.
            got = sum(a.allowed for a in spent + moved)
            if got <= Q + refill(since_sent(spent[0], moved[-1])):
                break
            t = reset_in(spent[-1])
            if attempt == 0 and (t is None or spent[-1].at + t - 1.0 <= moved[-1].at):
                continue  # the window may have reset in between: once more, another partner
            fail("key-escapes-by-address", f"A partner whose key had just been refused "
                 f"searched again from {MOVED} new addresses (new X-Forwarded-For): "
                 f"{statuses(moved)}; expected 429: its quota belongs to its key.")  # fmt: skip
        # Another partner, same address: untouched.
        other = answer(search(c, rng, key=new_partner(db, rng), hop=office))
        if not other.allowed:
            fail("keys-share-a-counter", f"Partner A used up its quota; partner B, calling "
                 f"from the same address, then got {other.status} on its first search; "
                 "expected 200: B has a quota of its own.")  # fmt: skip

        # An anonymous scraper behind one hop, writing a new X-Forwarded-For each time.
        scraper, agent = address(rng), rng.choice(BROWSERS)

        def scrape():
            spoof = [address(rng) for _ in range(rng.randint(1, 2))]
            return search(c, rng, hop=scraper, spoof=spoof, agent=agent)

        for _ in range(2):
            answers = until_refused(scrape, PATIENCE)
            no_server_errors(answers, "Anonymous searches")
            if not answers[-1].allowed or not reset_fell_inside(answers):
                break  # refused, or allowed with no window reset to explain it
        if answers[-1].allowed:
            # Told apart: does an anonymous caller that does not lie get limited?
            honest = address(rng)
            plain = until_refused(lambda: search(c, rng, hop=honest, agent=agent), PATIENCE)
            if plain[-1].allowed:
                fail("anonymous-unlimited", f"Anonymous searches from one address: "
                     f"{statuses(plain)}; expected a 429 once the quota (10) was used: callers "
                     "without an API key get the same quota, by address.")  # fmt: skip
            fail("anonymous-by-leftmost", f"An anonymous caller searched {len(answers)} "
                 f"times through our proxy (always the same last X-Forwarded-For hop, "
                 f"{scraper}), writing a new first entry each time: {statuses(answers)}; "
                 f"expected a 429 once the quota (10) was used. The entries before the proxy's hop are "
                 "whatever the client wrote.")  # fmt: skip
        # Another anonymous caller, at another hop, pretending to be the first one.
        other = answer(search(c, rng, hop=address(rng), spoof=[scraper], agent=agent))
        if not other.allowed:
            fail("anonymous-share-a-counter", f"After one anonymous caller was refused, "
                 f"another one, at another hop of the proxy, got {other.status}; expected "
                 "200: anonymous callers are counted each by the hop the proxy added.")  # fmt: skip


#: Alternating searches: 7 on each instance. Counted per instance, all 14 pass.
SEARCHES = 14


def test_shared_across_instances(base_urls, db, rng):
    assert len(base_urls) >= 2, "The run started one instance of the service; expected two."
    clients = [client(u) for u in base_urls[:2]]
    try:
        for who in ("partner", "anonymous caller"):
            for attempt in range(2):
                key = new_partner(db, rng) if who == "partner" else None
                hop = address(rng)
                answers = [answer(search(clients[i % 2], rng, key=key, hop=hop))
                           for i in range(SEARCHES)]  # fmt: skip
                no_server_errors(answers, f"Searches of one {who}, alternating instances")
                allowed = sum(a.allowed for a in answers)
                bound = Q + refill(since_sent(answers[0], answers[-1]))
                if allowed > bound and attempt == 0 and reset_fell_inside(answers):
                    continue
                break
            if allowed > bound:
                each = [sum(a.allowed for a in answers[i::2]) for i in (0, 1)]
                fail("per-instance-counters", f"{SEARCHES} searches of one {who}, alternating "
                     f"between our two instances: {allowed} answered 200 (instance 1: "
                     f"{each[0]}, instance 2: {each[1]}); expected at most {bound} for the "
                     f"pair ({Q} per {W} s). Each instance counts on its own.")  # fmt: skip
            if allowed < Q:
                fail("too-few-allowed", f"{SEARCHES} searches of one new {who}, alternating "
                     f"instances: only {allowed} answered 200 ({statuses(answers)}); "
                     f"expected the quota, {Q}.")  # fmt: skip
    finally:
        for c in clients:
            c.close()
