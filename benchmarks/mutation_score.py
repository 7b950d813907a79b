"""How many mutants of each reference solution the hidden checks kill.

    .venv/bin/python benchmarks/mutation_score.py --lab caching --max-mutants 20

For each lab, the lines the solution changes (its files compared with the starter's;
a file the starter lacks counts whole) are mutated one at a time by a small AST
mutator, and the lab's checks run on each mutant exactly as the self-verification runs
them (real PostgreSQL, Redis, workers, sinks). A mutant is *killed* when some check
fails or errs, or the run cannot judge it (the service does not start); it *survives*
when every check passes. Operators:

``negate``   ``if c:`` / ``while c:`` / ``assert c`` -> ``not (c)``
``compare``  ``==`` <-> ``!=``, ``<`` <-> ``>=``, ``>`` <-> ``<=``, ``is`` <-> ``is not``, ``in`` <-> ``not in``
``boolop``   ``and`` <-> ``or``
``const``    an integer n -> n + 1 (0 -> 1), a float x -> x * 2 (0.0 -> 1.0), True <-> False
``drop``     a statement (a call, an assignment, a return, a raise) -> ``pass``
``kwarg``    a call loses one keyword argument (``ex=ttl``, ``job_id=...``, ``retry=...``)
``fstring``  an f-string loses one of its ``{...}`` parts (a cache key that ignores one)

What only documents the API (a route's ``responses=``, ``openapi_extra=``,
``description=``, parameters kept out of the schema, module constants named in
``DOC_NAMES``) is not mutated: no check of behaviour can see it (tests/test_schemathesis.py
does). Survivors are printed with their place and operator; the ones judged equivalent (no
behaviour the task asks for changes) are listed in ``EQUIVALENT`` with the reason, and
left out of the score. Survivors that do change what the task cares about, but that no
check can see without a fault it cannot inject or a timing it cannot trust, are listed in
``KNOWN_SURVIVORS``: they still count as survivors, printed with the reason.
``--max-mutants`` draws that many (seeded: ``--seed``), so a bounded run is still spread
over every file.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOC_KWARGS = {"responses", "openapi_extra", "include_in_schema", "description", "summary",
              "tags", "examples", "title"}  # fmt: skip
DOC_NAMES = {"IDEMPOTENCY_KEY_PARAMETER"}

#: (lab, file, line, operator) -> why the mutant cannot be told apart from the solution.
#: Where one line has several constants, ``const:<value>`` names the one meant.
EQUIVALENT: dict[tuple[str, str, int, str], str] = {
    # crud
    ("crud", "app/api/conditional.py", 12, "const"): "a longer prefix of the same hash: "
    "still one strong ETag per version",
    ("crud", "app/api/deps.py", 14, "kwarg:ge"): "an id of 0 or below is no book's: 404 "
    "instead of 422, both the client's error, never a 500",
    ("crud", "app/api/deps.py", 20, "kwarg:detail"): "a 404's detail text only (the default "
    "'Not Found' is still a text)",
    ("crud", "app/api/deps.py", 21, "fstring:book_id"): "a 404's detail text only",
    **{
        ("crud", "app/api/errors.py", line, "drop"): "the Problem model only documents the "
        "OpenAPI schema (tests/test_schemathesis.py checks it)"
        for line in (23, 24, 25, 26, 27)
    },
    ("crud", "app/api/errors.py", 33, "drop"): "problem_responses only documents the "
    "OpenAPI schema",
    ("crud", "app/api/errors.py", 96, "drop"): "the answer to a crash: the reference has "
    "none to answer (schemathesis: 0 server errors)",
    ("crud", "app/api/errors.py", 96, "const"): "the answer to a crash: the reference has "
    "none to answer",
    ("crud", "app/main.py", 27, "drop"): "the handler of a crash: the reference has none to handle",
    ("crud", "app/api/errors.py", 87, "kwarg:errors"): "the 422's list of fields is an "
    "extension member the README allows, not one it asks for",
    ("crud", "app/api/errors.py", 66, "boolop"): "Starlette's 405 always carries its own "
    "Allow header, so headers is never empty there",
    ("crud", "app/api/errors.py", 49, "const"): "the 422's title becomes Python 3.11's name "
    "for the same status, Unprocessable Entity",
    ("crud", "app/api/routes/books.py", 30, "drop"): "an ETag on the 201: the README "
    "promises one on GET only",
    ("crud", "app/api/routes/books.py", 85, "drop"): "an ETag on the PATCH's 200: the "
    "README promises one on GET only",
    **{
        ("crud", "app/api/routes/books.py", line, "kwarg:response_model"): "the table model "
        "serializes the same fields as BookPublic"
        for line in (15, 52, 64)
    },
    ("crud", "app/api/routes/books.py", 42, "const:20"): "another default page size (the "
    "README leaves it to the service, at most 100)",
    ("crud", "app/api/routes/books.py", 39, "const:0"): "offset=0 refused: no link the "
    "service hands out carries it, and the README leaves the URL's parameters to it",
    ("crud", "app/api/routes/books.py", 45, "const"): "one more row fetched to see whether a "
    "next page exists: the same pages and links",
    ("crud", "app/api/routes/books.py", 47, "kwarg:limit"): "the request's own URL already "
    "carries its limit (include_query_params keeps it)",
    ("crud", "app/api/routes/books.py", 59, "kwarg:headers"): "the README asks of a 304 its "
    "status and no body",
    ("crud", "app/api/routes/books.py", 77, "kwarg:detail"): "a 412's detail text only",
    ("crud", "app/api/routes/books.py", 101, "kwarg:detail"): "a 409's detail text only",
    ("crud", "app/api/routes/books.py", 101, "fstring:isbn"): "a 409's detail text only",
    ("crud", "app/models.py", 67, "fstring:name"): "a 422's message text only",
    ("crud", "app/crud.py", 42, "drop"): "the request's session ends right after the 409, "
    "and ending it rolls back",
    ("crud", "app/crud.py", 47, "drop"): "attributes expired by the commit reload when read",
    # auth
    ("auth", "app/api/deps.py", 23, "kwarg:detail"): "a 401's detail text only",
    ("auth", "app/models.py", 32, "kwarg:sa_type"): "SQLModel 0.0.50 maps a datetime field "
    "to a timezone-aware column by itself (UTCDateTime): the same TIMESTAMP WITH TIME ZONE "
    "(compiled DDL compared)",
    ("auth", "app/api/routes/auth.py", 38, "kwarg:response_model"): "the route returns a "
    "TokenPair already",
    **{
        ("auth", "app/core/security.py", 21, op): "argon2id costs above OWASP's minimum "
        "(pwdlib's defaults, or one more): the README asks for at least m=19456, t=2, p=1"
        for op in ("const", "kwarg:memory_cost", "kwarg:time_cost", "kwarg:parallelism")
    },
    ("auth", "app/core/security.py", 73, "const"): "6 s of clock drift instead of 5: still "
    "'a few seconds'",
    ("auth", "app/crud.py", 116, "drop"): "the token was loaded by this session: it is in "
    "it already, and its change is flushed all the same",
    **{
        ("auth", "app/crud.py", line, "drop"): "the user was loaded by this session: add() "
        "changes nothing"
        for line in (71, 76)
    },
    ("auth", "app/crud.py", 77, "drop"): "the refresh token's commit, later in the same "
    "request and session, commits the reset count too",
    ("auth", "app/crud.py", 31, "const"): "a lockout of 61 s: still 'for a minute'",
    ("auth", "app/crud.py", 66, "const"): "Retry-After one second longer",
    # indexing: CONCURRENTLY is a README tip, not a promise; the same indexes result.
    **{
        ("indexing", "migrations/versions/0002_indexes.py", line, op): "CONCURRENTLY only "
        "changes how the index is built (the README's tip, not its contract): the same "
        "schema results"
        for line, op in [
            (n, "kwarg:postgresql_concurrently") for n in (22, 30, 37, 44, 49, 50, 53, 56)
        ]
        + [(n, "const") for n in (26, 34, 41, 44, 49, 51, 54, 56)]
    },
    **{
        ("indexing", "migrations/versions/0002_indexes.py", line, "kwarg:table_name"): "an "
        "index name is unique in the schema: PostgreSQL's DROP INDEX needs no table"
        for line in (44, 50, 53, 56)
    },
    **{
        ("indexing", "migrations/versions/0002_indexes.py", line, "drop"): "Alembic reads "
        "a missing branch_labels or depends_on as None"
        for line in (12, 13)
    },
    # idempotency
    **{
        ("idempotency", "app/api/routes/payments.py", 27, op): "the route answers a "
        "JSONResponse of its own, status and body included"
        for op in ("kwarg:status_code", "kwarg:response_model")
    },
    ("idempotency", "app/api/routes/payments.py", 16, "kwarg:alias"): "FastAPI reads the "
    "parameter idempotency_key from the Idempotency-Key header by itself",
    **{
        ("idempotency", "app/api/routes/payments.py", 16, op): "the README sets no length "
        "for a key (only the OpenAPI documents 255)"
        for op in ("kwarg:max_length", "const")
    },
    **{
        ("idempotency", "app/api/routes/payments.py", line, "kwarg:detail"): "an error's "
        "detail text only"
        for line in (45, 59, 78)
    },
    ("idempotency", "app/api/routes/payments.py", 64, "kwarg:headers"): "Idempotent-Replayed "
    "is an extra: the README promises the first status and body",
    ("idempotency", "app/api/routes/payments.py", 85, "drop"): "without the re-raise, "
    "`payment` is unbound two lines later: the same 500, after the same release",
    # n-plus-one
    ("n-plus-one", "app/crud.py", 47, "drop"): "a page without books asks for the ratings of "
    "none: one statement more, still at most 3, the same answer",
    ("caching", "app/core/cache.py", 31, "kwarg:retry"): "redis-py 8.2's default Retry adds "
    "no time on a refused, frozen or unreachable Redis (measured: the same 0.0 / 0.25 / "
    "0.29 s to give up as with Retry(NoBackoff(), 0))",
    ("caching", "app/core/cache.py", 39, "const"): "followers wait up to 6 s for a leader "
    "instead of 3: the README sets no bound, and a leader takes milliseconds",
    ("caching", "app/core/cache.py", 35, "const"): "one immediate retry of a Redis call: the "
    "same answers, still well within the outage bound",
    ("caching", "app/core/cache.py", 53, "drop"): "a hit falls through to the leader's "
    "double check, which returns the same hit (two more Redis calls, no SQL)",
    ("caching", "app/core/cache.py", 94, "drop"): "a log line only",
    ("caching", "app/core/cache.py", 70, "drop"): "a log line only",
    ("caching", "app/core/cache.py", 76, "drop"): "a log line only",
    ("caching", "app/core/cache.py", 38, "const"): "a lock that lives 1 ms longer",
    ("caching", "app/core/cache.py", 65, "const"): "a follower polls every 40 ms instead of "
    "20: the same answer, at most 20 ms later",
    **{
        ("caching", "app/core/cache.py", line, "const"): "a 0.5 s timeout is still the "
        "README's short one: a Redis outage still costs each request well under a second"
        for line in (33, 34)
    },
    # queues
    **{
        ("queues", "app/api/routes/reports.py", 24, op): "the README sets no retention for a "
        "finished report's status: rq's default keeps it 500 s, longer than a client polls"
        for op in ("kwarg:result_ttl", "const")
    },
    ("queues", "app/jobs.py", 38, "drop"): "the pause stands for rendering the file (the "
    "starter's stand-in for real work): a report without it is the same report, sooner",
    ("queues", "app/jobs.py", 37, "fstring:month"): "the failure's text only: it still says "
    "there were no sales, and the status carries it",
    ("load-testing", "app/api/routes/books.py", 13, "kwarg:response_model"): "Book and "
    "BookPublic have the same fields: the same JSON (only the OpenAPI's schema changes)",
    ("load-testing", "locustfile.py", 26, "drop"): "no list step: the journey still reaches "
    "3 endpoints (a book, its stock, an order), what the README asks",
    ("load-testing", "locustfile.py", 18, "const"): "a longer pause between pages",
    ("load-testing", "locustfile.py", 30, "const"): "another weight: the weights still differ",
    ("load-testing", "locustfile.py", 35, "const"): "another weight: the weights still differ",
    ("load-testing", "locustfile.py", 33, "drop"): "no stock step: the journey still reaches "
    "the 3 endpoints the task asks for (list, book, order)",
    ("load-testing", "locustfile.py", 38, "drop"): "no stock step: the journey still reaches "
    "the 3 endpoints the task asks for (list, book, order)",
    ("idempotency", "app/api/routes/payments.py", 54, "kwarg:detail"): "the 422's detail "
    "text only (the status and problem+json shape stay)",
}


#: Mutants that change behaviour the task cares about, but that no check can see without
#: a fault it cannot inject or a timing it cannot trust: they count as survivors (the
#: score is not flattered), and are printed with why they are still alive.
KNOWN_SURVIVORS: dict[tuple[str, str, int, str], str] = {
    ("caching", "app/core/cache.py", 49, "fstring:key"): "one lock for every "
    "key: other keys wait for /stats's leader; the bonus asks single flight of /stats "
    "alone, and a valid fix that single-flights only /stats computes other keys per "
    "request too, so no count tells them apart, only timing",
    ("caching", "app/core/cache.py", 55, "kwarg:px"): "a lock without a TTL "
    "matters only when its leader dies mid-computation; no check kills the service",
    ("caching", "app/core/cache.py", 58, "drop"): "the leader's second read "
    "saves a computation only when another leader stored the entry between this "
    "request's miss and its lock, a window of microseconds no gate can hold open",
    ("caching", "app/core/cache.py", 60, "drop"): "the leader's second-read branch: the "
    "same microsecond window as line 58",
    ("caching", "app/core/cache.py", 61, "drop"): "the leader's second-read branch: the "
    "same microsecond window as line 58",
    ("caching", "app/core/cache.py", 65, "drop"): "a follower polls Redis without pausing: "
    "the same answers; its command rate is capped by the service's and the proxy's CPU "
    "(2 cores, 30 requests), so it is only a few times a 20 ms poll's (estimated, not "
    "measured): too close for a verdict that must never flip",
}

_COMPARE = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt,
    ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.In: ast.NotIn, ast.NotIn: ast.In,
}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    file: str  # relative to the lab folder
    line: int
    operator: str
    start: int  # character offsets of the replaced source
    end: int
    replacement: str
    shown: str  # what changed, for the report

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.file, self.line, self.operator)


def changed_lines(starter: Path, solution: Path) -> set[int]:
    """1-based lines of ``solution`` that the starter's version does not have."""
    new = solution.read_text(encoding="utf-8").splitlines()
    if not starter.is_file():
        return set(range(1, len(new) + 1))
    old = starter.read_text(encoding="utf-8").splitlines()
    lines: set[int] = set()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            lines.update(range(j1 + 1, j2 + 1))
    return lines


def _offsets(source: str) -> list[int]:
    starts, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line.encode("utf-8"))
        starts.append(total)
    return starts


def _is_docstring(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    return (
        isinstance(parent, ast.Expr)
        and isinstance(node, ast.Constant)
        and isinstance(node.value, str)
    )


def mutants_of(rel: str, source: str, lines: set[int]) -> Iterator[Mutant]:
    """Every mutant of the statements and expressions that start on ``lines``."""
    tree = ast.parse(source)
    raw = source.encode("utf-8")
    starts = _offsets(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def span(node: ast.AST) -> tuple[int, int]:
        a = starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        b = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        return a, b

    def make(node: ast.AST, operator: str, new: ast.AST | str) -> Mutant:
        a, b = span(node)
        before = raw[a:b].decode("utf-8")
        text = new if isinstance(new, str) else ast.unparse(new)
        if isinstance(node, ast.stmt) and "\n" in text:
            indent = " " * node.col_offset
            text = text.replace("\n", "\n" + indent)
        shown = f"{before.splitlines()[0][:70]}  ->  {text.splitlines()[0][:70]}"
        return Mutant(rel, node.lineno, operator, a, b, text, shown)  # type: ignore[attr-defined]

    def documents(node: ast.AST) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.keyword) and node.arg in DOC_KWARGS:
                return True
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in DOC_NAMES for t in node.targets
            ):
                return True
        return False

    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line not in lines or documents(node):
            continue
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in DOC_NAMES for t in node.targets
        ):
            continue
        if (
            isinstance(node, (ast.If, ast.While))
            and not isinstance(node.test, ast.Constant)
            or isinstance(node, ast.Assert)
        ):
            yield make(node.test, "negate", ast.UnaryOp(ast.Not(), node.test))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            new = copy.deepcopy(node)
            new.ops = [_COMPARE[type(node.ops[0])]()]
            yield make(node, "compare", new)
        if isinstance(node, ast.BoolOp):
            new = copy.deepcopy(node)
            new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            yield make(node, "boolop", new)
        if isinstance(node, ast.Constant) and not _is_docstring(node, parents):
            v = node.value
            if isinstance(v, bool):
                yield make(node, "const", ast.Constant(not v))
            elif isinstance(v, int):
                yield make(node, "const", ast.Constant(v + 1))
            elif isinstance(v, float):
                yield make(node, "const", ast.Constant(v * 2 if v else 1.0))
        if isinstance(
            node, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Raise)
        ) and not (  # fmt: skip
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        ):
            yield make(node, "drop", "pass")
        if isinstance(node, ast.Call):
            for i, kw in enumerate(node.keywords):
                if kw.arg is None or kw.arg in DOC_KWARGS:
                    continue
                new = copy.deepcopy(node)
                del new.keywords[i]
                yield Mutant(
                    rel, node.lineno, f"kwarg:{kw.arg}", *span(node), ast.unparse(new),
                    f"{ast.unparse(node)[:70]}  ->  without {kw.arg}=",
                )  # fmt: skip
        if isinstance(node, ast.JoinedStr):
            parts = [v for v in node.values if isinstance(v, ast.FormattedValue)]
            for part in parts:
                new = copy.deepcopy(node)
                new.values = [v for v in new.values if ast.dump(v) != ast.dump(part)]
                yield make(node, f"fstring:{ast.unparse(part.value)}", new)


def mutate(text: str, m: Mutant) -> str:
    raw = text.encode("utf-8")
    return (raw[: m.start] + m.replacement.encode("utf-8") + raw[m.end :]).decode("utf-8")


def lab_mutants(lab) -> list[Mutant]:
    out: list[Mutant] = []
    for path in sorted(lab.solution_path.rglob("*.py")):
        rel = str(path.relative_to(lab.solution_path))
        lines = changed_lines(lab.path / rel, path)
        out.extend(mutants_of(rel, path.read_text(encoding="utf-8"), lines))
    # One mutant per place and operator (a line with two equal nodes gives one).
    unique: dict[tuple, Mutant] = {}
    for m in out:
        unique.setdefault((m.file, m.start, m.end, m.replacement), m)
    return list(unique.values())


def run_mutant(lab, m: Mutant, state: Path) -> tuple[bool, list[str]]:
    """(killed, the checks that failed) for one mutant."""
    from checker import runner
    from checker.workspace import compose

    with compose(lab) as ws:
        target = ws.path / m.file
        target.write_text(mutate(target.read_text(encoding="utf-8"), m), encoding="utf-8")
        try:
            compile(target.read_text(encoding="utf-8"), str(target), "exec")
        except SyntaxError:
            return True, ["(does not compile)"]
        result = runner.run(lab, ws, state=state)
    failing = [c.id for c in result.checks if c.status != "pass"]
    if result.error is not None:
        failing.insert(0, f"(run error: {result.error.kind})")
    return bool(failing), failing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", action="append", help="a lab id (repeatable; default: all)")
    parser.add_argument("--max-mutants", type=int, default=0, help="per lab (0: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--list", action="store_true", help="only list the mutants")
    opts = parser.parse_args()

    from checker.catalog import Catalog

    catalog = Catalog(ROOT)
    labs = [catalog.get(i) for i in opts.lab] if opts.lab else catalog.labs
    scores: list[tuple[str, int, int, int, int]] = []
    with tempfile.TemporaryDirectory(prefix="lab-mutation-") as tmp:
        import os

        os.environ.setdefault("LAB_HOME", tmp)
        state = Path(os.environ["LAB_HOME"])
        for lab in labs:
            mutants = lab_mutants(lab)
            total = len(mutants)
            if opts.max_mutants and len(mutants) > opts.max_mutants:
                mutants = random.Random(f"{opts.seed}:{lab.id}").sample(mutants, opts.max_mutants)
                mutants.sort(key=lambda m: (m.file, m.start))
            print(f"\n== {lab.id}: {len(mutants)} of {total} mutants", flush=True)
            if opts.list:
                for m in mutants:
                    print(f"   {m.file}:{m.line} {m.operator}: {m.shown}")
                continue
            killed = survived = equivalent = 0
            for m in mutants:
                t0 = time.monotonic()
                dead, why = run_mutant(lab, m, state)
                original = m.shown.split("  ->  ")[0].strip()
                eq = EQUIVALENT.get((lab.id, m.file, m.line, f"{m.operator}:{original}"))
                eq = eq or EQUIVALENT.get((lab.id, *m.key))
                if dead:
                    killed += 1
                    verdict = "killed by " + ", ".join(why[:3])
                elif eq:
                    equivalent += 1
                    verdict = f"survived, equivalent: {eq}"
                else:
                    survived += 1
                    known = KNOWN_SURVIVORS.get((lab.id, *m.key))
                    verdict = f"SURVIVED (known: {known})" if known else "SURVIVED"
                print(f"   {m.file}:{m.line} {m.operator}: {m.shown}\n"
                      f"      {verdict} ({time.monotonic() - t0:.0f} s)", flush=True)  # fmt: skip
            scores.append((lab.id, len(mutants), killed, survived, equivalent))
        if not opts.list:
            import subprocess

            subprocess.run([sys.executable, "-m", "checker", "services", "down"], cwd=ROOT,
                           capture_output=True, timeout=120)  # fmt: skip
    if scores:
        print("\nlab              mutants  killed  survived  equivalent  score")
        for lab_id, n, k, s, e in scores:
            judged = n - e
            score = f"{100 * k / judged:.0f}%" if judged else "-"
            print(f"{lab_id:<16} {n:>7} {k:>7} {s:>9} {e:>11}  {score:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
