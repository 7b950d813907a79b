"""`lab release --out DIR`: the student edition of the course.

What a learner gets: the labs (starter code, tasks, public tests), the notebooks, the
docs, and the checker with the hidden checks they may run. Left out: solutions/, the
project's own tests (scenarios show the fixes), the instructor side
(``checker/grading``), benchmarks and CI, every ``[[bugs]]`` table of every lab.toml
(their mutations spell out the fixes), and every check marked
``visibility = "after_grading"``: its manifest entry and its test file. Those run only
under `lab grade`, with the instructor's own checker.

The files come from ``git ls-files`` when the course is a git checkout (so nothing
untracked, generated or secret leaks), else from a walk that skips state and caches.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Catalog, Lab, load_lab
from ..errors import UsageError

#: Top-level paths that never ship (instructor material).
LEFT_OUT_TOP = ("solutions", "tests", "benchmarks", ".ci", ".github", "test-artifacts")
#: Paths inside the course that never ship.
LEFT_OUT_PATHS = ("checker/grading",)
SKIP_PARTS = {".lab", ".venv", "venv", "__pycache__", ".git", ".pytest_cache", ".ruff_cache",
              "site", "build", "dist", ".ipynb_checkpoints"}  # fmt: skip
_HEADER = re.compile(r"^\s*\[")


@dataclass
class Release:
    out: Path
    files: int = 0
    labs: list[str] = field(default_factory=list)
    bugs_removed: int = 0
    hidden_checks: dict[str, list[str]] = field(default_factory=dict)  # lab -> check ids
    removed_check_files: list[str] = field(default_factory=list)


def _tracked(root: Path) -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, check=True, timeout=60,
        ).stdout  # fmt: skip
        files = [Path(p.decode()) for p in out.split(b"\0") if p]
        return [p for p in files if (root / p).is_file()]
    except (OSError, subprocess.CalledProcessError):
        return [p.relative_to(root) for p in root.rglob("*") if p.is_file()]


def _ships(rel: Path) -> bool:
    parts = rel.parts
    if not parts or parts[0] in LEFT_OUT_TOP or SKIP_PARTS & set(parts):
        return False
    posix = rel.as_posix()
    if any(posix == p or posix.startswith(p + "/") for p in LEFT_OUT_PATHS):
        return False
    return not (rel.suffix in (".pyc", ".key") or rel.name.startswith(".env"))


def checks_of_file(path: Path) -> set[str]:
    """The check ids a hidden-check file implements: ``test_<id>`` functions, or a
    ``@pytest.mark.check("<id>")`` marker (the same rule the pytest plugin uses)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    ids: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test_"
        ):
            marked = None
            for dec in node.decorator_list:
                call = dec if isinstance(dec, ast.Call) else None
                if (call and isinstance(call.func, ast.Attribute) and call.func.attr == "check"
                        and call.args and isinstance(call.args[0], ast.Constant)):  # fmt: skip
                    marked = str(call.args[0].value)
            ids.add(marked or node.name.removeprefix("test_"))
    return ids


def _multiline_state(line: str, quote: str | None) -> str | None:
    """The multi-line string (\'\'\' or \"\"\") open after ``line``, given the one open
    before it: a line like ``["a", "b"]`` inside a mutation's text is no table header."""
    i = 0
    while i < len(line):
        if quote is None and line[i] == "#":
            break
        for q in ("'''", '"""'):
            if line.startswith(q, i) and quote in (None, q):
                quote = None if quote else q
                i += 2
                break
        i += 1
    return quote


def student_manifest(text: str, hidden: set[str]) -> tuple[str, int]:
    """lab.toml without its [[bugs]] tables and without the hidden checks' [[checks]]
    tables; comments directly above a removed table go with it. Returns (text, bugs)."""
    blocks: list[list[str]] = [[]]
    quote: str | None = None  # the multi-line string we are inside, if any
    for line in text.splitlines(keepends=True):
        starts_table = quote is None and _HEADER.match(line)
        quote = _multiline_state(line, quote)
        if starts_table:
            current = blocks[-1]
            lead: list[str] = []
            while current and (current[-1].strip() == "" or current[-1].lstrip().startswith("#")):
                lead.insert(0, current.pop())
            blocks.append(lead + [line])
        else:
            blocks[-1].append(line)
    kept, bugs = [blocks[0]], 0
    for block in blocks[1:]:
        header = next(line for line in block if _HEADER.match(line)).strip()
        body = "".join(line for line in block if not line.lstrip().startswith("#"))
        if header == "[[bugs]]":
            bugs += 1
            continue
        if header == "[[checks]]":
            data = tomllib.loads(body.replace("[[checks]]", "", 1))
            if data.get("id") in hidden:
                continue
        kept.append(block)
    out = "".join("".join(b) for b in kept).rstrip() + "\n"
    return out, bugs


def release(root: Path, out: Path, *, force: bool = False) -> Release:
    root = root.resolve()
    out = out.resolve()
    if out == root:
        raise UsageError("--out must be a new folder, not the course itself.")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise UsageError(f"--out {out} exists and is not empty (add --force to replace it).")
        shutil.rmtree(out)
    catalog = Catalog(root)
    labs = catalog.labs  # validates every manifest first: a broken lab never ships
    rel_out = None
    if root in out.parents:
        rel_out = out.relative_to(root)
    rep = Release(out=out, labs=[lab.id for lab in labs])

    checks_src = root / "checker" / "checks"
    drop: set[Path] = set()
    for lab in labs:
        hidden = {c.id for c in lab.checks if c.visibility == "after_grading"}
        if not hidden:
            continue
        rep.hidden_checks[lab.id] = sorted(hidden)
        folder = checks_src / lab.id.replace("-", "_")
        for f in sorted(folder.glob("test_*.py")):
            ids = checks_of_file(f)
            if ids and ids <= hidden:
                drop.add(f.relative_to(root))
                rep.removed_check_files.append(f.relative_to(root).as_posix())
            elif ids & hidden:
                raise UsageError(
                    f"{f.relative_to(root)} mixes grading-only checks "
                    f"({', '.join(sorted(ids & hidden))}) with visible ones "
                    f"({', '.join(sorted(ids - hidden))}): put the grading-only checks in a "
                    "file of their own, so the student edition can leave it out."
                )

    manifests = {lab.manifest.relative_to(root): lab for lab in labs}
    out.mkdir(parents=True, exist_ok=True)
    for rel in _tracked(root):
        if rel_out is not None and (rel == rel_out or rel_out in rel.parents):
            continue
        if not _ships(rel) or rel in drop:
            continue
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel in manifests:
            lab = manifests[rel]
            hidden = set(rep.hidden_checks.get(lab.id, ()))
            text, bugs = student_manifest((root / rel).read_text(encoding="utf-8"), hidden)
            dest.write_text(text, encoding="utf-8")
            rep.bugs_removed += bugs
        else:
            shutil.copy2(root / rel, dest)
        rep.files += 1
    _verify(out, labs)
    return rep


def _verify(out: Path, labs: list[Lab]) -> None:
    """The edition's manifests load, keep every visible check, and name no hidden one."""
    for lab in labs:
        shipped = load_lab(out / "labs" / lab.dirname, out)
        visible = [c.id for c in lab.checks if c.visibility != "after_grading"]
        if [c.id for c in shipped.checks] != visible or shipped.bugs:
            raise AssertionError(f"release: {lab.dirname}/lab.toml was not rewritten correctly")
