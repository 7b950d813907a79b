"""The dashboard on a large generated gradebook: every page's time, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/dashboard.py [--students 500] [--labs 16] [--attempts 5]
        [--backend sqlite|postgres|both] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
        [--rounds 5] [--serve SECONDS]

Generates a class (seeded, so every run makes the same gradebook): each student has an
ability, each lab a difficulty, each check two or three ways to fail (a failure kind, or
none and a message carrying values), and later attempts pass more. Results are signed
with a throwaway key and recorded in bulk (``Gradebook.record_many``), into a SQLite file
in a temporary folder and into a database of its own on the PostgreSQL server given by
``--pg`` (created, then dropped). `lab dashboard` then serves it on 127.0.0.1, and
each page is fetched over HTTP: one warm-up, then ``--rounds`` times; the median and the
worst are printed, against the 300 ms target. Exit 1 if a median misses it.

``--serve N`` keeps the SQLite dashboard up for N seconds after measuring (it prints the
URL and the instructor password), to look at the generated class in a browser.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from checker.grading.dashboard import instructor_password, student_token  # noqa: E402
from checker.grading.gradebook import Gradebook  # noqa: E402
from checker.grading.signing import load_key, sign  # noqa: E402

TARGET_MS = 300
LAB_IDS = [
    "crud", "auth", "indexing", "n-plus-one", "caching", "queues", "idempotency",
    "load-testing", "pagination", "search", "uploads", "migrations", "observability",
    "rate-limiting", "transactions", "deployment",
]  # fmt: skip
FAILURES = [  # (kind, message template): kind "" means the check named no kind
    ("wrong-status", "expected {a} Created, got {b}"),
    ("missing-header", "the answer has no {q} header"),
    ("", "expected {a} items on page {b}, got {c}"),
    ("", "GET /items/{id} answered {b} instead of {a}"),
    ("stale-read", "read '{q}' {a} ms after the write, still the old value"),
    ("too-many-queries", "{a} statements for one request; at most {b} expected"),
    ("", "the job for order {id} ran {a} times"),
]


def generate(students: int, labs: int, attempts: int, seed: int = 19):
    """Yield unsigned result documents: students x labs x attempts (a few students hand
    in fewer attempts or skip a lab, as real classes do)."""
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    lab_ids = (LAB_IDS * (labs // len(LAB_IDS) + 1))[:labs]
    lab_ids = [lid if i < len(LAB_IDS) else f"{lid}-{i}" for i, lid in enumerate(lab_ids)]
    specs = []
    for li, lab in enumerate(lab_ids):
        n = rng.randint(6, 12)
        checks = []
        for ci in range(n):
            ways = rng.sample(FAILURES, rng.randint(1, 3))
            checks.append((f"check_{ci + 1:02d}", f"{lab} behaves, part {ci + 1}",
                           rng.randint(1, 3), ways, rng.uniform(0.05, 0.5)))  # fmt: skip
        specs.append((lab, li, checks))
    for si in range(students):
        student = f"student-{si + 1:03d}"
        ability = rng.uniform(0.2, 1.0)
        for lab, li, checks in specs:
            if rng.random() < 0.03:
                continue  # never handed in
            n_attempts = attempts if rng.random() > 0.1 else rng.randint(1, attempts)
            for a in range(n_attempts):
                when = start + timedelta(days=li * 2 + a // 2, hours=a % 2 * 5 + rng.randint(0, 4),
                                         minutes=rng.randint(0, 59))  # fmt: skip
                doc = {
                    "schema": 1, "lab": lab, "target": f"{student}:{lab}",
                    "started_at": when.isoformat(timespec="seconds"),
                    "duration_s": round(rng.uniform(0.8, 3.0), 3), "student": student,
                    "error": None, "measurements": {},
                }  # fmt: skip
                if rng.random() < 0.02:
                    doc.update(status="error", score=0, checks=[],
                               max_score=sum(p for _, _, p, _, _ in checks),
                               error={"kind": "service_start_failed",
                                      "message": f"the service exited with code {rng.randint(1, 3)} "
                                                 "before it answered /health", "log_tail": ""})  # fmt: skip
                    yield doc
                    continue
                out = []
                for cid, title, points, ways, difficulty in checks:
                    p_pass = min(0.98, ability * (1 - difficulty) + 0.12 * a)
                    if rng.random() < p_pass:
                        out.append({"id": cid, "title": title, "status": "pass",
                                    "points": points, "message": "", "hint": "",
                                    "duration_s": 0.02})  # fmt: skip
                        continue
                    kind, template = ways[min(len(ways) - 1, int(rng.random() * len(ways)))]
                    msg = template.format(a=rng.choice([201, 204, 3, 5, 20]),
                                          b=rng.choice([200, 500, 1, 2, 12]), c=rng.randint(0, 9),
                                          q=rng.choice(["Location", "ETag", "name"]),
                                          id=secrets.token_hex(6))  # fmt: skip
                    out.append({"id": cid, "title": title, "status": "fail", "points": points,
                                "message": msg, "hint": f"Hint for {cid}: think about {kind or 'the values'}.",
                                "duration_s": 0.02, **({"kind": kind} if kind else {})})  # fmt: skip
                score = sum(c["points"] for c in out if c["status"] == "pass")
                doc.update(checks=out, score=score, max_score=sum(c["points"] for c in out),
                           status="pass" if all(c["status"] == "pass" for c in out) else "fail")  # fmt: skip
                yield doc


def fill(book: Gradebook, args: argparse.Namespace, key: bytes) -> tuple[int, float]:
    t0 = time.perf_counter()
    docs = (sign(d, key) for d in generate(args.students, args.labs, args.attempts))
    n = book.record_many("bench", docs)
    return n, time.perf_counter() - t0


def serve(url: str, port: int, log: Path) -> subprocess.Popen:
    """`lab dashboard` itself, in a process of its own (so the measuring client does not
    share its interpreter), on 127.0.0.1."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "checker", "dashboard", "--port", str(port), "--db", url],
            cwd=ROOT, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"the dashboard did not start:\n{log.read_text()}") from None
            time.sleep(0.2)


def measure(
    base: str, key: bytes, book: Gradebook, rounds: int
) -> list[tuple[str, float, float, int]]:
    groups = book.failure_groups(names=1)
    big = max(groups, key=lambda g: g.count)
    lab = big.lab
    student = "student-001"
    pages = [
        ("class (heatmap, charts)", "/"),
        ("class sorted by total", "/?sort=total&desc=1"),
        ("class filtered: lab + failing", f"/?lab={lab}&status=fail"),
        ("class, 200 a page", "/?per=200"),
        ("class, page 3", "/?page=3"),
        ("failures, every lab", "/failures"),
        ("failures, one lab", f"/failures?lab={lab}"),
        ("failure group", f"/failures/{big.id}"),
        ("failure group as CSV", f"/failures/{big.id}.csv"),
        ("a student", f"/students/{student}"),
        ("a student's lab", f"/students/{student}/labs/{lab}"),
    ]
    out = []
    with httpx.Client(base_url=base, timeout=30) as c:
        c.post("/login", data={"secret": instructor_password(key)})
        for name, path in pages:
            out.append((name, *time_page(c, path, rounds)))
    with httpx.Client(base_url=base, timeout=30) as c:
        c.post("/login", data={"secret": student_token(key, student)})
        out.append(("student's own view", *time_page(c, "/", rounds)))
    return out


def time_page(c: httpx.Client, path: str, rounds: int) -> tuple[float, float, int]:
    r = c.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = c.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    return statistics.median(times), min(times), max(times), len(r.content)


def report(backend: str, rows: list[tuple[str, float, float, float, int]]) -> bool:
    ok = True
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{backend} (load average {load} on {os.cpu_count()} cores)")
    print("  page                                  median      best     worst      size")
    for name, med, best, worst, size in rows:
        flag = "ok" if med <= TARGET_MS else "SLOW"
        ok &= med <= TARGET_MS
        print(
            f"  {name:<36} {med:7.1f} ms {best:6.1f} ms {worst:6.1f} ms {size / 1024:6.0f} KB  {flag}"
        )
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", type=int, default=500)
    ap.add_argument("--labs", type=int, default=16)
    ap.add_argument("--attempts", type=int, default=5)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument(
        "--pg",
        default=os.environ.get("LAB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--serve", type=float, default=0)
    args = ap.parse_args()
    ok = True
    print(
        f"gradebook: {args.students} students x {args.labs} labs x up to {args.attempts} attempts"
    )
    with tempfile.TemporaryDirectory(prefix="lab-dashboard-bench-") as tmp:
        os.environ["LAB_INSTRUCTOR_HOME"] = str(Path(tmp) / "instructor")
        key = load_key()  # a throwaway key in the temporary folder, as `lab dashboard` reads it
        backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
        for backend in backends:
            if backend == "sqlite":
                url, drop = f"sqlite:///{Path(tmp) / 'gradebook.db'}", None
            else:
                url, drop = pg_database(args.pg)
            try:
                book = Gradebook(url)
                n, secs = fill(book, args, key)
                print(f"{backend}: recorded {n} runs in {secs:.1f} s")
                from checker.services.base import free_port

                port = free_port()
                server = serve(url, port, Path(tmp) / f"dashboard-{backend}.log")
                try:
                    ok &= report(
                        backend, measure(f"http://127.0.0.1:{port}", key, book, args.rounds)
                    )
                    if args.serve and backend == "sqlite":
                        print(f"\nserving http://127.0.0.1:{port}/ for {args.serve:.0f} s; "
                              f"instructor password: {instructor_password(key)}")  # fmt: skip
                        time.sleep(args.serve)
                finally:
                    server.terminate()
                    server.wait(timeout=10)
                    book.close()
            finally:
                if drop:
                    drop()
    print("\nevery page within", TARGET_MS, "ms" if ok else "ms: NO, see SLOW above")
    return 0 if ok else 1


def pg_database(admin: str):
    """A database of our own on the server at ``admin`` (created here, dropped by the
    returned function): never anyone else's."""
    import psycopg

    from checker.services.databases import with_database

    name = f"lab_dashboard_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return with_database(admin, name), drop


if __name__ == "__main__":
    sys.exit(main())
