"""The checks' side of a sink (see ``checker.sidecars.sinks``): what it received, and
faults.

A check gets one ``Sink`` per name the lab declares, through the ``sinks`` fixture,
already reset (no calls, no faults)::

    def test_retries_until_delivered(http, sinks):
        email = sinks["email"]
        email.fail_next(2)                       # the next two calls answer 503
        http.post("/orders", json={...})
        assert email.wait_for_count("42") == 1   # delivered once, after the retries
        assert len(email.calls(key="42")) == 3

A *call* is every request the learner's code made; a *delivery* is a call that did the
work (answered 200, or a ``timeout`` fault ordered with ``deliver=True``). Calls are
keyed by the ``Idempotency-Key`` header, else the body's ``idempotency_key``,
``order_id`` or ``id``.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from typing import Any

import httpx

from checker.observe import tls


class Sink:
    def __init__(self, name: str, url: str, *, timeout: float = 5.0) -> None:
        self.name, self.url = name, url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, timeout=timeout, verify=tls())

    def __repr__(self) -> str:
        return f"Sink({self.name!r}, {self.url!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _control(self, action: str, payload: dict[str, Any] | None = None) -> Any:
        if payload is None and action in ("health", "calls", "stats"):
            r = self._client.get(f"/_sink/{action}")
        else:
            r = self._client.post(f"/_sink/{action}", json=payload or {})
        r.raise_for_status()
        return r.json()

    # -- what it received ----------------------------------------------------------
    def calls(self, key: str | None = None) -> list[dict[str, Any]]:
        """Every call, oldest first (each a dict: n, method, path, key, headers (lower
        case), raw_headers (``[name, value]`` as sent), body, raw_b64, at, answered_at
        (wall-clock seconds), in_flight, outcome ``ok|error|timeout|slow|hang|redirect|
        respond|replay``, delivered), or only those with ``key``."""
        calls = self._control("calls")
        return calls if key is None else [c for c in calls if c["key"] == str(key)]

    @staticmethod
    def raw(call: dict[str, Any]) -> bytes:
        """A call's body exactly as it arrived (to verify a signature over it)."""
        return base64.b64decode(call["raw_b64"])

    def stats(self) -> dict[str, int]:
        """``calls``, ``in_flight`` now and ``max_in_flight``: the most calls it held at
        once since the last reset (a bulkhead or a concurrency limit shows here)."""
        return self._control("stats")

    def max_in_flight(self) -> int:
        return int(self.stats()["max_in_flight"])

    def deliveries(self, key: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.calls(key) if c["delivered"]]

    def count(self, key: str) -> int:
        """How many times the work for ``key`` was done."""
        return len(self.deliveries(key))

    def counts(self) -> Counter[str | None]:
        """Deliveries per key."""
        return Counter(c["key"] for c in self.deliveries())

    # -- faults -----------------------------------------------------------------
    def fail_next(
        self,
        n: int = 1,
        mode: str = "error",
        *,
        status: int = 503,
        delay: float | None = None,
        deliver: bool = False,
        retry_after: int | None = None,
        per_key: int | None = None,
    ) -> None:
        """The next ``n`` calls fail: ``error`` answers ``status`` at once (with a
        ``Retry-After: <retry_after>`` header if given); ``timeout`` holds the call
        ``delay`` seconds (default: longer than any caller waits) and then answers 504;
        ``hang`` holds it until ``release()``. None does the work, unless ``deliver``
        (the provider did it, but its answer was lost). ``per_key=k``: only a key's first
        ``k`` calls spend them (its later calls pass): ``n / k`` clients fail k times each."""
        self._control("fail", {"n": n, "mode": mode, "status": status, "delay": delay,
                               "deliver": deliver, "retry_after": retry_after,
                               "per_key": per_key})  # fmt: skip

    def hang_next(self, n: int = 1, *, deliver: bool = False) -> None:
        """The next ``n`` calls hang until ``release()`` (then answer 504)."""
        self.fail_next(n, "hang", deliver=deliver)

    def redirect_next(self, location: str, *, n: int = 1, status: int = 302) -> None:
        """The next ``n`` calls answer a redirect to ``location``."""
        self._control("fail", {"n": n, "mode": "redirect", "location": location,
                               "status": status})  # fmt: skip

    def respond_next(self, body: bytes | str, *, content_type: str, status: int = 200,
                     n: int = 1, always: bool = False, repeat: int = 1) -> None:  # fmt: skip
        """The next ``n`` calls (or all, ``always``) answer these bytes, this type;
        ``repeat`` sends the body that many times over (a huge answer, e.g. 50 MB, from
        a small order: the control channel takes at most 1 MB)."""
        data = body.encode() if isinstance(body, str) else body
        self._control("fail", {"n": n, "always": always, "mode": "respond", "status": status,
                               "content_type": content_type, "repeat": repeat,
                               "body_b64": base64.b64encode(data).decode()})  # fmt: skip

    def set_latency(self, seconds: float) -> None:
        """Hold every call ``seconds`` before answering (until ``reset()``)."""
        self._control("config", {"latency": seconds})

    def release(self) -> None:
        """Answer the calls held now (``hang``, ``timeout``, ``slow``); queued faults stay."""
        self._control("release")

    def slow_next(self, n: int = 1, *, delay: float) -> None:
        """The next ``n`` calls are held ``delay`` seconds, then succeed as usual: a slow
        provider, so calls made in parallel overlap for certain."""
        self._control("fail", {"n": n, "mode": "slow", "delay": delay})

    def fail_always(self, mode: str = "error", *, status: int = 503,
                    delay: float | None = None) -> None:  # fmt: skip
        """Every call fails until ``recover()``."""
        self._control("fail", {"always": True, "mode": mode, "status": status, "delay": delay})

    def honour_idempotency_keys(self, on: bool = True) -> None:
        """Behave like a provider that deduplicates: a call whose idempotency key (the
        ``Idempotency-Key`` header, or the body's ``idempotency_key``) was already
        delivered is answered like the first and recorded as a ``replay``, not delivered
        again. Off by default (and after ``reset()``): every call counts."""
        self._control("config", {"idempotency": on})

    def recover(self) -> None:
        """Drop the faults still queued and answer held calls now."""
        self._control("recover")

    def reset(self) -> None:
        """``recover()``, no latency, and forget every call (and the in-flight peak)."""
        self._control("reset")

    # -- waiting ----------------------------------------------------------------
    def wait_for_count(self, key: str, n: int = 1, *, timeout: float = 10.0) -> int:
        """Wait until ``key`` was delivered ``n`` times (or ``timeout`` passed); returns
        the count then. It can exceed ``n``: pair it with ``settle`` to see duplicates."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.count(key)
            if got >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.05)

    def settle(self, quiet: float = 0.5, *, timeout: float = 10.0) -> int:
        """Wait until no new call arrived for ``quiet`` seconds; returns the call count."""
        deadline = time.monotonic() + timeout
        seen, since = len(self.calls()), time.monotonic()
        while time.monotonic() - since < quiet and time.monotonic() < deadline:
            time.sleep(0.05)
            now = len(self.calls())
            if now != seen:
                seen, since = now, time.monotonic()
        return seen
