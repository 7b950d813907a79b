"""squawk's opinion of lab 12's revisions, beside the checks' verdicts.

    .venv/bin/python benchmarks/squawk_verify.py [--no-checks]

squawk (PyPI: squawk-cli, a dev dependency) lints PostgreSQL migrations from their SQL.
For the starter and the reference solution of zero-downtime-migrations, this prints the
SQL each revision would send (`alembic upgrade 0001:expand --sql`, then
`expand:contract`), squawk's findings on it, and the verdicts of `lab check` (run for
real; `--no-checks` takes them from the lab's definition instead: the starter fails
every check, the solution passes them all), each check beside the squawk rules that
speak about the same thing.

squawk reads SQL; the checks watch PostgreSQL while the revisions run. Where they
disagree, this says which one saw what: see docs/labs/zero-downtime-migrations.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAB = "zero-downtime-migrations"
#: Each check, and the squawk rules (per revision) that judge the same thing from the SQL.
RELATED = {
    "v1_keeps_answering": {"expand": ["ban-drop-column", "renaming-column"]},
    "names_in_sync": {},
    "backfill_in_batches": {},
    "no_rewrite_not_null_proven": {
        rev: ["adding-not-nullable-field", "adding-required-field", "changing-column-type",
              "constraint-missing-not-valid"] for rev in ("expand", "contract")},
    "index_built_concurrently": {"expand": ["require-concurrent-index-creation"]},
    "expand_gives_up_on_locks": {"expand": ["require-lock-timeout", "require-statement-timeout"]},
    "contract_cleans_up": {"contract": ["ban-drop-column", "ban-drop-function"]},
    "foreign_key_not_valid_first": {
        "expand": ["adding-foreign-key-constraint", "constraint-missing-not-valid"]},
}  # fmt: skip
REVISIONS = (("expand", "0001:expand"), ("contract", "expand:contract"))


def squawk_binary() -> str:
    found = shutil.which("squawk") or str(Path(sys.executable).with_name("squawk"))
    if not Path(found).exists():
        raise SystemExit("squawk is not installed: pip install squawk-cli (a dev dependency)")
    return found


def offline_sql(workspace: Path, span: str) -> str:
    """The SQL `alembic upgrade <span> --sql` prints (nothing is run, no database)."""
    env = {**os.environ, "DATABASE_URL": "postgresql://offline@localhost/offline"}
    out = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", "alembic.ini", "upgrade", span, "--sql"],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return out.stdout


def squawk(sql_files: list[Path]) -> list[dict]:
    out = subprocess.run(
        [squawk_binary(), "--reporter", "json", "--pg-version", "15", *map(str, sql_files)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return json.loads(out.stdout or "[]")


def findings(workspace: Path, scratch: Path) -> dict[str, list[dict]]:
    """squawk's findings per revision of ``workspace``: rule, line, message."""
    got: dict[str, list[dict]] = {}
    for name, span in REVISIONS:
        path = scratch / f"{name}.sql"
        path.write_text(offline_sql(workspace, span))
        got[name] = [
            {"rule": f["rule_name"], "line": f["line"], "message": f["message"]}
            for f in squawk([path])
        ]
    return got


def verdicts(solution: bool, run: bool) -> dict[str, str]:
    from checker.catalog import Catalog

    lab = Catalog(ROOT).get(LAB)
    if not run:
        return {c.id: "pass" if solution else "fail" for c in lab.checks}
    cmd = [sys.executable, "-m", "checker", "check", LAB, "--json"] + (
        ["--solution"] if solution else []
    )
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return {c["id"]: c["status"] for c in json.loads(out.stdout)["checks"]}


def compare(run_checks: bool = True) -> dict:
    """{edition: {"squawk": {revision: [...]}, "checks": {id: status}}}."""
    import tempfile

    from checker.catalog import Catalog
    from checker.workspace import compose

    lab = Catalog(ROOT).get(LAB)
    report = {}
    for edition, solution in (("starter", False), ("solution", True)):
        with compose(lab, solution=solution) as ws, tempfile.TemporaryDirectory() as tmp:
            report[edition] = {"squawk": findings(ws.path, Path(tmp))}
        report[edition]["checks"] = verdicts(solution, run_checks)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-checks", action="store_true", help="don't run lab check")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = compare(not args.no_checks)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for edition, got in report.items():
        print(f"\n{edition}: squawk found " + ", ".join(
            f"{rev}: {sorted({f['rule'] for f in found}) or 'nothing'}"
            for rev, found in got["squawk"].items()))  # fmt: skip
        print(f"  {'check':30} {'verdict':8} squawk, on the same revision and subject")
        for check, related in RELATED.items():
            said = [f"{rev}: {f['rule']}" for rev, rules in related.items()
                    for f in got["squawk"].get(rev, []) if f["rule"] in rules]  # fmt: skip
            quiet = "(no rule for this)" if not related else "(silent)"
            print(
                f"  {check:30} {got['checks'].get(check, '?'):8} "
                f"{', '.join(sorted(set(said))) or quiet}"
            )


if __name__ == "__main__":
    main()
