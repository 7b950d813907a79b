"""mitmproxy's view of lab 13's services, beside the checks' verdicts.

    .venv/bin/python benchmarks/resilience_verify.py [--no-checks] [--json]

The resilience checks make provider faults with our own sinks (checker/sidecars/sinks.py):
a bug in a sink could make the checks agree with themselves. This replays four of their
scenarios with a fault injector we did not write: the reference solution and the starter
(composed as `lab check` composes them, on a database of the embedded PostgreSQL from a
``checker.session.Session``) reach their three providers through ``mitmdump`` in
reverse-proxy mode, in front of a trivial upstream (``http.server``, here); a few-line
addon (benchmarks/resilience_mitm_addon.py) holds, delays or answers the flows, and
counts them. The scenarios, each beside the check it mirrors:

  hang      every provider accepts the call and never answers: each endpoint answers
            503/504 problem+json within the 1 s budget   (hung_provider_times_out)
  retries   shipping answers 503 twice, then 200: 200 after exactly 3 calls; a 400
            gets one call                                (transient_failures_retried)
  bulkhead  shipping takes 0.8 s a call, 50 requests at once: at most 10 calls in
            flight at the proxy                          (bulkhead_limits_slow_provider)
  breaker   shipping down: after 5 failed calls, requests get 503 + Retry-After without
            reaching the proxy                           (breaker_opens)

The checks' verdicts come from `lab check resilience [--solution] --json` (run for real;
`--no-checks` takes them from the lab's definition instead: the starter fails its
bugs' checks, the solution passes them all).

mitmproxy is not a dev extra: every release pins h11<=0.14, and the project's httpx
(through httpcore 1.0.9 and httpcore2) needs h11>=0.16, so pip cannot put both in one
environment. mitmdump runs as a program anyway, so it gets a virtualenv of its own:
$LAB_MITMDUMP, or a mitmdump on PATH, or .cache/mitmproxy (made on first use, MITMPROXY
pinned below).
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

LAB = "resilience"
MITMPROXY = "mitmproxy==11.0.2"  # the newest on PyPI for Python 3.11 (12.x needs 3.12)
ADDON = Path(__file__).with_name("resilience_mitm_addon.py")
PROVIDERS = ("shipping", "payments", "warehouse")
#: Each scenario and the check it mirrors.
SCENARIOS = {
    "hang": "hung_provider_times_out",
    "retries": "transient_failures_retried",
    "bulkhead": "bulkhead_limits_slow_provider",
    "breaker": "breaker_opens",
}
# The README's policy (as the checks hold it: checker/checks/resilience/_helpers.py).
BUDGET_S = 1.0
SLACK_S = 0.75  # scheduling slack on a busy machine, as the check allows
GIVE_UP_S = BUDGET_S + 2.5
BREAKER_FAILURES = 5
MAX_IN_FLIGHT = 10
STORM = 50
SLOW_S = 0.8
BOOKS = list(range(1, 20))
HEALTH_BOOK = 20


# ---------------------------------------------------------------- mitmdump


def mitmdump_binary() -> str:
    """$LAB_MITMDUMP, a mitmdump on PATH, or the one in .cache/mitmproxy (installed from
    PyPI into a virtualenv of its own on first use: it can't share the project's)."""
    found = os.environ.get("LAB_MITMDUMP") or shutil.which("mitmdump")
    if found:
        return found
    venv = ROOT / ".cache" / "mitmproxy"
    binary, done = venv / "bin" / "mitmdump", venv / f"{MITMPROXY}.installed"
    if not done.exists():  # a half-made one (interrupted) is made again
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        print(f"Installing {MITMPROXY} into {venv} (once)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", MITMPROXY],
                       check=True, timeout=600)  # fmt: skip
        done.write_text(MITMPROXY + "\n")
    return str(binary)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Upstream:
    """The providers behind the proxy: any call answers 200 {"id": "<name>_<n>"}; every
    call counted by path."""

    def __init__(self, name: str) -> None:
        self.name, self.calls, self.lock = name, [], threading.Lock()
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                with upstream.lock:
                    upstream.calls.append(self.path)
                    n = len(upstream.calls)
                body = json.dumps({"id": f"{upstream.name}_{n}", "status": "delivered"}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, path: str) -> int:
        with self.lock:
            return sum(p.split("?")[0] == path for p in self.calls)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Proxy:
    """One mitmdump, one reverse-proxy mode (its own port) per provider, the addon loaded."""

    def __init__(self, log: Path) -> None:
        self.upstreams = {name: Upstream(name) for name in PROVIDERS}
        self.ports = {name: free_port() for name in PROVIDERS}
        modes = [a for name in PROVIDERS for a in (
            "--mode", f"reverse:{self.upstreams[name].url}@{self.ports[name]}")]  # fmt: skip
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [mitmdump_binary(), *modes, "--listen-host", "127.0.0.1", "-s", str(ADDON),
             "--set", "connection_strategy=lazy", "--set", "termlog_verbosity=warn",
             "--set", "flow_detail=0", "--set", f"confdir={log.parent / 'mitmproxy-conf'}"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.http = httpx.Client(timeout=5)
        deadline = time.monotonic() + 30
        for name in PROVIDERS:
            while True:
                try:
                    self.stats(name)
                    break
                except httpx.TransportError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.close()
                        raise RuntimeError(f"mitmdump did not start: see {log}") from None
                    time.sleep(0.1)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def _call(self, name: str, path: str, body: dict | None = None) -> dict:
        r = self.http.request("GET" if body is None else "POST", self.url(name) + path,
                              json=body)  # fmt: skip
        r.raise_for_status()
        return r.json()

    def fault(self, name: str, **order: Any) -> None:
        self._call(name, "/_fault", order)

    def recover(self, *names: str) -> None:
        for name in names or PROVIDERS:
            self._call(name, "/_recover", {})

    def reset(self, *names: str) -> None:
        for name in names or PROVIDERS:
            self._call(name, "/_reset", {})
            self.upstreams[name].calls.clear()

    def stats(self, name: str) -> dict:
        return self._call(name, "/_stats")

    def flows(self, name: str, path: str | None = None) -> list[dict]:
        got = self.stats(name)["flows"]
        return [f for f in got if path is None or f["path"].split("?")[0] == path]

    def close(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        for upstream in self.upstreams.values():
            upstream.close()


# ---------------------------------------------------------------- the service


@contextlib.contextmanager
def service(solution: bool, proxy: Proxy, run_dir: Path, bug: str | None = None) -> Iterator[str]:
    """The starter or the reference solution (with one planted ``bug`` of bugs.toml
    re-planted, if given), composed as `lab check` composes it, on a fresh database of
    the embedded PostgreSQL, its providers reached through ``proxy`` (the lab's own
    sinks are not started): its base URL."""
    from checker.catalog import Catalog
    from checker.paths import state_dir
    from checker.session import Session
    from checker.workspace import compose

    lab = Catalog(ROOT).get(LAB)
    mutations = next(b.mutations for b in lab.bugs if b.id == bug) if bug else ()
    with (
        compose(lab, solution=solution, mutations=mutations) as ws,
        Session(
            lab,
            ws.path,
            state=state_dir(ROOT),
            run_dir=run_dir,
            zygote=False,
            db_label="resv",
            without=frozenset({"sinks"}),
        ) as session,  # fmt: skip
    ):
        session.provision()
        session.service_env.update(
            {f"{name.upper()}_PROVIDER_URL": proxy.url(name) for name in PROVIDERS}
        )
        session.start_services(timeout=60)
        yield session.service.url


# ---------------------------------------------------------------- scenarios

Result = tuple[httpx.Response | Exception, float]


def together(calls: list[Callable[[httpx.Client], httpx.Response]], base_url: str,
             timeout: float) -> list[Result]:  # fmt: skip
    """Each call on a connection of its own, all released at one instant."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    limits = httpx.Limits(max_connections=len(calls), max_keepalive_connections=0)
    with httpx.Client(base_url=base_url, timeout=timeout, limits=limits) as client:

        def one(i: int) -> None:
            barrier.wait()
            t0 = time.perf_counter()
            try:
                results[i] = (calls[i](client), time.perf_counter() - t0)
            except httpx.HTTPError as exc:
                results[i] = (exc, time.perf_counter() - t0)

        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(calls))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout + 5)
    return results


def said(r: httpx.Response | Exception) -> str:
    return str(r.status_code) if isinstance(r, httpx.Response) else type(r).__name__


def retry_after(r: httpx.Response | Exception) -> str | None:
    return r.headers.get("retry-after") if isinstance(r, httpx.Response) else None


def healthy(http: httpx.Client) -> None:
    """One good quote first (a breaker an earlier scenario opened closes in its 1 s)."""
    deadline = time.monotonic() + 5
    while http.get(f"/books/{HEALTH_BOOK}/delivery").status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("the service gives no quote with healthy providers")
        time.sleep(0.05)


def hang(http: httpx.Client, proxy: Proxy) -> tuple[bool, str]:
    healthy(http)
    order = http.post("/orders", json={"book_id": 2, "quantity": 1})
    if order.status_code != 201:
        return False, f"a checkout with healthy providers answered {order.status_code}"
    proxy.reset()
    for name in PROVIDERS:
        proxy.fault(name, mode="hang")
    calls = {
        "delivery": lambda c: c.get("/books/3/delivery"),
        "checkout": lambda c: c.post("/orders", json={"book_id": 3, "quantity": 1}),
        "pick": lambda c: c.post(f"/orders/{order.json()['id']}/pick"),
    }
    try:
        results = together(list(calls.values()), str(http.base_url), GIVE_UP_S)
    finally:
        reached = {name: len(proxy.flows(name)) for name in PROVIDERS}
        proxy.recover()
    ok, parts = True, []
    for what, (r, took), name in zip(calls, results, PROVIDERS, strict=True):
        problem = isinstance(r, httpx.Response) and r.headers.get(
            "content-type", "").startswith("application/problem+json")  # fmt: skip
        good = (isinstance(r, httpx.Response) and r.status_code in (503, 504) and problem
                and took <= BUDGET_S + SLACK_S and reached[name] >= 1)  # fmt: skip
        ok &= good
        parts.append(f"{what} {said(r)} {took:.2f}s ({reached[name]} held)")
    return ok, "; ".join(parts)


def retries(http: httpx.Client, proxy: Proxy) -> tuple[bool, str]:
    healthy(http)
    proxy.reset("shipping")
    shipping = proxy.upstreams["shipping"]
    proxy.fault("shipping", mode="error", status=503, n=2, stage="upstream")
    r = http.get("/books/4/delivery")
    flows, upstream = len(proxy.flows("shipping", "/quotes/4")), shipping.count("/quotes/4")
    proxy.fault("shipping", mode="error", status=400, n=1, stage="upstream")
    r4 = http.get("/books/5/delivery")
    flows4 = len(proxy.flows("shipping", "/quotes/5"))
    proxy.recover("shipping")
    ok = r.status_code == 200 and flows == upstream == 3 and flows4 == 1
    return ok, (f"503,503,200: {r.status_code} after {flows} flows ({upstream} upstream); "
                f"400: {r4.status_code} after {flows4}")  # fmt: skip


def bulkhead(http: httpx.Client, proxy: Proxy) -> tuple[bool, str]:
    healthy(http)
    proxy.reset("shipping")
    proxy.fault("shipping", mode="slow", delay=SLOW_S, n=None)
    try:
        results = together([lambda c, b=b: c.get(f"/books/{b}/delivery")
                            for b in (BOOKS * 3)[:STORM]], str(http.base_url), 10)  # fmt: skip
    finally:
        stats = proxy.stats("shipping")
        proxy.recover("shipping")
    answers: dict[str, int] = {}
    for r, _ in results:
        key = said(r) + ("+RA" if retry_after(r) else "")
        answers[key] = answers.get(key, 0) + 1
    peak, flows = stats["peak"], len(stats["flows"])
    ok = 0 < peak <= MAX_IN_FLIGHT
    shown = ", ".join(f"{n}x{k}" for k, n in sorted(answers.items()))
    return ok, f"peak {peak} in flight of {flows} flows; answers {shown}"


def breaker(http: httpx.Client, proxy: Proxy) -> tuple[bool, str]:
    healthy(http)
    proxy.reset("shipping")
    proxy.fault("shipping", mode="error", status=503, n=None, stage="proxy")
    made, r = 0, None
    for i in range(BREAKER_FAILURES + 3):
        before = len(proxy.flows("shipping"))
        r = http.get(f"/books/{BOOKS[i]}/delivery")
        made = len(proxy.flows("shipping"))
        if made == before:
            break
    # Judged while the breaker is open (1 s from the last failed call): on a busy machine
    # the requests may outlast it, and a trial call after it is legitimate.
    opened = max((f["at"] for f in proxy.flows("shipping")), default=time.time())
    later = [r]
    for b in BOOKS[10:15]:
        if time.time() > opened + 0.9:
            break
        later.append(http.get(f"/books/{b}/delivery"))
    early = sum(opened < f["at"] < opened + 0.95 for f in proxy.flows("shipping"))
    proxy.recover("shipping")
    refused = [x for x in later if x.status_code == 503 and retry_after(x)]
    ok = made == BREAKER_FAILURES and len(refused) == len(later) and not early
    return ok, (f"stopped after {made} flows; the next {len(later)} answered "
                f"{sorted({said(x) + ('+RA' if retry_after(x) else '') for x in later})}, "
                f"{early} reached the proxy within the open second")  # fmt: skip


RUN = {"hang": hang, "retries": retries, "bulkhead": bulkhead, "breaker": breaker}


def by_mitmproxy(solution: bool, scratch: Path, bug: str | None = None) -> dict[str, dict]:
    """{scenario: {"verdict": "pass"|"fail", "detail": ..., "seconds": ...}} for one edition."""
    edition = bug or ("solution" if solution else "starter")
    proxy = Proxy(scratch / f"mitmdump-{edition}.log")
    try:
        with service(solution, proxy, scratch / edition, bug) as url, \
                httpx.Client(base_url=url, timeout=GIVE_UP_S + 2) as http:  # fmt: skip
            got = {}
            for name, run in RUN.items():
                t0 = time.perf_counter()
                ok, detail = run(http, proxy)
                got[name] = {"verdict": "pass" if ok else "fail", "detail": detail,
                             "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
            return got
    finally:
        proxy.close()


def verdicts(solution: bool, run: bool) -> dict[str, str]:
    from checker.catalog import Catalog

    lab = Catalog(ROOT).get(LAB)
    if not run:
        failing = set() if solution else lab.expected_starter_failures()
        return {c.id: "fail" if c.id in failing else "pass" for c in lab.checks}
    cmd = [sys.executable, "-m", "checker", "check", LAB, "--json"] + (
        ["--solution"] if solution else []
    )
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    return {c["id"]: c["status"] for c in json.loads(out.stdout)["checks"]}


def compare(run_checks: bool = True) -> dict:
    """{edition: {"mitmproxy": {scenario: {...}}, "checks": {id: status}}}."""
    report = {}
    with tempfile.TemporaryDirectory(prefix="resilience-verify-") as tmp:
        for edition, solution in (("solution", True), ("starter", False)):
            report[edition] = {"mitmproxy": by_mitmproxy(solution, Path(tmp))}
    for edition, solution in (("solution", True), ("starter", False)):
        report[edition]["checks"] = verdicts(solution, run_checks)
    return report


def planted(names: list[str] | None = None) -> dict:
    """The solution with each planted bug of bugs.toml alone (all, or ``names``), through
    mitmproxy: {bug: {"checks": [the checks that must catch it], "mitmproxy": {...}}}."""
    from checker.catalog import Catalog

    lab = Catalog(ROOT).get(LAB)
    report = {}
    with tempfile.TemporaryDirectory(prefix="resilience-verify-") as tmp:
        for bug in lab.bugs:
            if names and bug.id not in names:
                continue
            report[bug.id] = {"checks": list(bug.checks),
                              "mitmproxy": by_mitmproxy(True, Path(tmp), bug.id)}  # fmt: skip
    return report


def print_planted(report: dict) -> None:
    print(
        f"\n{'planted bug':26} | {'the checks that catch it':30} | mitmproxy's scenarios that fail"
    )
    for bug, got in report.items():
        failed = [s for s, r in got["mitmproxy"].items() if r["verdict"] != "pass"]
        print(f"{bug:26} | {', '.join(got['checks']):30} | {', '.join(failed) or '(none)'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-checks", action="store_true", help="don't run lab check")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--bugs", nargs="*", metavar="BUG",
                        help="also the solution with each planted bug (all, or these) alone")  # fmt: skip
    args = parser.parse_args()
    report = compare(not args.no_checks)
    if args.bugs is not None:
        report["bugs"] = planted(args.bugs)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    sol, sta = report["solution"], report["starter"]
    print(f"{'scenario':9} | {'solution by mitmproxy':21} | {'starter by mitmproxy':20} | "
          f"{'check':29} | {'on solution':11} | on starter")  # fmt: skip
    for scenario, check in SCENARIOS.items():
        print(f"{scenario:9} | {sol['mitmproxy'][scenario]['verdict']:21} | "
              f"{sta['mitmproxy'][scenario]['verdict']:20} | {check:29} | "
              f"{sol['checks'].get(check, '?'):11} | {sta['checks'].get(check, '?')}")  # fmt: skip
    for edition in ("solution", "starter"):
        print(f"\n{edition}, what mitmproxy saw:")
        for scenario, got in report[edition]["mitmproxy"].items():
            print(f"  {scenario:9} {got['verdict']:4} {got['seconds']:5.2f}s  {got['detail']}")
    if "bugs" in report:
        print_planted(report["bugs"])


if __name__ == "__main__":
    main()
