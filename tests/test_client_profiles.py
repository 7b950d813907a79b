"""The hidden checks' HTTP clients look like real ones (checker/pytest_plugin.py): each
sends what the client it claims to be sends, so no header set marks a request as a
check's (a "curl" with httpx's Accept-Encoding and Connection was one)."""

from __future__ import annotations

import httpx
import pytest

from checker import pytest_plugin
from checker.pytest_plugin import CLIENTS, as_client


def _sent(agent: str, profile, headers: dict[str, str] | None = None) -> list[tuple[str, str]]:
    request = httpx.Client(base_url="http://shop.test").build_request(
        "POST", "/orders", json={"book_id": 1}, headers=headers
    )
    as_client(request, agent, profile)
    return list(request.headers.multi_items())


@pytest.mark.parametrize(("agent", "profile"), CLIENTS, ids=[a[:20] for a, _ in CLIENTS])
def test_each_client_sends_its_own_headers(agent, profile):
    sent = _sent(agent, profile)
    names = [n for n, _ in sent]
    wanted = [n for n, v in profile if v is not None]
    # The client's headers, in its order, then the request's own (body headers).
    assert names[: len(wanted)] == wanted, names
    assert not {n for n, v in profile if v is None} & set(names), names
    got = dict(sent)
    assert got["content-type"] == "application/json"
    assert got["user-agent"] == agent


@pytest.mark.parametrize(("agent", "profile"), CLIENTS, ids=[a[:20] for a, _ in CLIENTS])
def test_a_checks_own_headers_are_kept(agent, profile):
    got = dict(_sent(agent, profile, {"Accept": "application/json", "Authorization": "Bearer t",
                                      "Accept-Encoding": "identity"}))  # fmt: skip
    assert got["accept"] == "application/json"
    assert got["authorization"] == "Bearer t"
    assert got["accept-encoding"] == "identity"


def test_no_client_asks_for_what_changes_an_answer():
    """A check's verdict must not depend on the client drawn: no Cache-Control, no
    encoding httpx cannot decode."""
    for _, profile in CLIENTS:
        headers = dict(profile)
        assert "cache-control" not in headers
        assert set((headers.get("accept-encoding") or "gzip").split(", ")) <= {
            "gzip",
            "deflate",
            "br",
        }


def test_hardened_clients_use_the_profiles(monkeypatch):
    monkeypatch.setenv("LAB_SEED", "7")
    monkeypatch.setattr(httpx.Client, "__init__", httpx.Client.__init__)
    monkeypatch.setattr(httpx.Client, "_lab_hardened", False, raising=False)
    pytest_plugin._harden_httpx()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    agents = set()
    for _ in range(40):
        with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x") as c:
            c.get("/")
    for request in seen:
        agents.add(request.headers["user-agent"])
        profile = dict(next(p for a, p in CLIENTS if request.headers["user-agent"].startswith(a)))
        for name, value in profile.items():
            if value is None:
                assert name not in request.headers
    assert len(agents) > 3


def test_no_agent_names_the_checker():
    """Nothing in a User-Agent says "a check is asking" (tests/test_hostile.py's
    detect_checker tries exactly that)."""
    for agent, _ in CLIENTS:
        assert "httpx" not in agent and "check" not in agent.lower() and "lab" not in agent.lower()
