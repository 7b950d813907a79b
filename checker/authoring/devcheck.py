"""`lab dev check [<id>]`: the fast, static part of the self-verification, in seconds.

For each lab: its manifest and bugs.toml follow the schema; every check has a hidden
test and a hint, and every hidden test belongs to a check; every planted bug names
checks of the lab and each of its mutations' ``find`` occurs exactly once in the
composed solution; the notebook parses; the docs page and scenarios exist; every
scenario's golden names every check. Nothing is run: tests/test_selfcheck.py does that.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Lab, implemented_checks, load_lab
from ..errors import ManifestError, UnknownLab

#: The self-verification wants at least this many scenarios of each kind per lab.
MIN_SCENARIOS = {"wrong": 4, "cheat": 3, "valid": 2}


@dataclass
class Report:
    lab: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # to do, but not wrong

    @property
    def ok(self) -> bool:
        return not self.problems


def dev_check(root: Path, lab_ids: list[str] | None = None) -> list[Report]:
    """One report per lab (all, or those of ``lab_ids``), in folder order."""
    root = root.resolve()
    folders = sorted(p.parent for p in (root / "labs").glob("*/lab.toml"))
    reports: list[Report] = []
    labs: list[Lab] = []
    for folder in folders:
        try:
            labs.append(load_lab(folder, root))
        except ManifestError as exc:  # the lab's own report says why; the others go on
            reports.append(Report(folder.name, [exc.message]))
    if lab_ids:
        known = sorted({lab.id for lab in labs} | {r.lab for r in reports})
        for lab_id in lab_ids:
            if not any(k == lab_id or k.endswith(f"-{lab_id}") for k in known):
                raise UnknownLab(lab_id, [lab.id for lab in labs])
        reports = [r for r in reports if any(r.lab.endswith(f"-{i}") for i in lab_ids)]
        labs = [lab for lab in labs if lab.id in lab_ids]
    reports.extend(_check_lab(lab) for lab in labs)
    return reports


def _check_lab(lab: Lab) -> Report:
    rep = Report(lab.id)
    root = lab.root
    declared = [c.id for c in lab.checks]
    if not lab.checks_path.is_dir():
        rep.problems.append(f"no hidden checks folder {_rel(lab.checks_path, root)}")
    else:
        try:
            tested = implemented_checks(lab)
        except SyntaxError as exc:
            tested = set()
            rep.problems.append(f"a hidden check does not parse: {exc}")
        for cid in declared:
            if cid not in tested:
                rep.problems.append(f"check {cid!r} has no test in {_rel(lab.checks_path, root)}")
        for cid in sorted(tested - set(declared)):
            rep.problems.append(
                f"a hidden test implements {cid!r}, which lab.toml does not declare"
            )
    for check in lab.checks:
        if not check.hint.strip():
            rep.problems.append(f"check {check.id!r} has no hint")
    _check_bugs(lab, rep)
    _check_notebook(lab, rep)
    page = root / "docs" / "labs" / f"{lab.id}.md"
    if not page.is_file():
        rep.problems.append(f"no docs page {_rel(page, root)}")
    _check_scenarios(lab, rep)
    if not (lab.path / "README.md").is_file():
        rep.problems.append(f"no task statement {_rel(lab.path / 'README.md', root)}")
    return rep


def _composed_text(lab: Lab, file: str) -> str | None:
    """``file`` as the composed solution has it: the overlay's copy, else the starter's."""
    for base in (lab.solution_path, lab.path):
        path = base / file
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


def _check_bugs(lab: Lab, rep: Report) -> None:
    if not lab.solution_path.is_dir():
        rep.problems.append(f"no solution overlay {_rel(lab.solution_path, lab.root)}")
        return
    if not lab.bugs:
        rep.problems.append(f"no planted bug in {_rel(lab.bugs_path, lab.root)}")
    texts: dict[str, str | None] = {}
    for bug in lab.bugs:
        for m in bug.mutations:
            if m.file not in texts:
                texts[m.file] = _composed_text(lab, m.file)
            text = texts[m.file]
            if text is None:
                rep.problems.append(
                    f"bug {bug.id!r}: {m.file} is in neither the solution nor the starter"
                )
                continue
            count = text.count(m.find)
            if count != 1:
                rep.problems.append(
                    f"bug {bug.id!r}: its mutation's find text occurs {count} times in the "
                    f"solution's {m.file} (it must occur exactly once)"
                )
        if not (lab.path / bug.file).is_file():
            rep.problems.append(f"bug {bug.id!r}: its file {bug.file} is not in the starter")


def _check_notebook(lab: Lab, rep: Report) -> None:
    path = lab.notebook_path
    if not path.is_file():
        rep.problems.append(f"no notebook {_rel(path, lab.root)}")
        return
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        rep.problems.append(f"the notebook is not valid JSON: {exc}")
        return
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        rep.problems.append("the notebook is not an nbformat 4 notebook")
        return
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") == "code":
            source = "".join(cell.get("source", []))
            try:
                compile("\n".join(line for line in source.splitlines()
                                  if not line.lstrip().startswith(("%", "!"))), f"cell {i}", "exec")  # fmt: skip
            except SyntaxError as exc:
                rep.problems.append(
                    f"notebook cell {i} does not parse: {exc.msg} (line {exc.lineno})"
                )


def _check_scenarios(lab: Lab, rep: Report) -> None:
    folder = lab.root / "tests" / "scenarios" / lab.id
    if not folder.is_dir():
        rep.problems.append(f"no scenarios folder {_rel(folder, lab.root)}")
        return
    declared = {c.id for c in lab.checks}
    kinds = dict.fromkeys(MIN_SCENARIOS, 0)
    for spec_path in sorted(folder.glob("*/scenario.toml")):
        name = spec_path.parent.name
        try:
            spec = tomllib.loads(spec_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            rep.problems.append(f"scenario {name}: not valid TOML ({exc})")
            continue
        kind = spec.get("kind")
        if kind not in kinds:
            rep.problems.append(
                f"scenario {name}: kind must be 'wrong', 'cheat' or 'valid', not {kind!r}"
            )
            continue
        kinds[kind] += 1
        expected = spec.get("expected", {})
        if set(expected) != declared:
            missing, extra = sorted(declared - set(expected)), sorted(set(expected) - declared)
            rep.problems.append(
                f"scenario {name}: its golden must name every check"
                + (f" (missing: {', '.join(missing)})" if missing else "")
                + (f" (not checks: {', '.join(extra)})" if extra else "")
            )
        for e in spec.get("edits", []):
            base = lab.solution_path if spec.get("base", "solution") == "solution" else lab.path
            path = base / e.get("file", "")
            if not path.is_file():
                path = lab.path / e.get("file", "")
            if path.is_file() and path.read_text(encoding="utf-8").count(e.get("find", "")) != 1:
                rep.problems.append(
                    f"scenario {name}: an edit's find text does not occur exactly once in {e.get('file')}"
                )
    for kind, least in MIN_SCENARIOS.items():
        if kinds[kind] < least:
            rep.notes.append(
                f"{kinds[kind]} {kind} scenarios: the self-verification wants {least} or more"
            )


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
