"""The course catalog: every lab found by its ``labs/*/lab.toml``, validated.

The manifest is the single source of truth for a lab (order, checks, points, hints); its
planted bugs live beside the solution, in ``solutions/NN-id/bugs.toml``. Both follow the
schema in ``checker.manifest``: a file that breaks it is refused with the file, line and
field named, never half-read.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import manifest as schema
from .errors import ManifestError, UnknownLab
from .manifest import (  # noqa: F401 (re-exported: the catalog's public names)
    FAULTS,
    FORMAT_VERSIONS,
    SERVICES,
    VISIBILITIES,
    Bug,
    Check,
    Mutation,
)
from .paths import checks_dir, course_root


@dataclass(frozen=True)
class Lab:
    id: str
    title: str
    order: int
    summary: str
    concepts: tuple[str, ...]
    services: tuple[str, ...]
    minutes: int
    app: str
    health: str
    checks: tuple[Check, ...]
    bugs: tuple[Bug, ...]
    path: Path  # the starter: labs/NN-id
    root: Path  # the course root
    template_sql: tuple[str, ...] = field(default=())
    migrations: str = ""  # an alembic.ini in the workspace: applied before the service starts
    sinks: tuple[str, ...] = field(default=())  # provider sinks run for it (checker.sinks)
    worker_queues: tuple[str, ...] = field(default=("default",))  # [worker] queues
    worker_imports: tuple[str, ...] = field(default=())  # [worker] imports, loaded once
    faults: tuple[str, ...] = field(default=())  # links the checks can cut (checker.faults)
    instances: int = 1  # service processes per run, on one database and Redis (session.py)
    receivers: tuple[str, ...] = field(default=())  # webhook receivers (sidecars/receivers.py)
    collector: bool = False  # an OTLP/HTTP receiver for exported spans (sidecars/collector.py)
    #: lab.toml [env]: (name, value) pairs for the service, its worker and the checks
    env: tuple[tuple[str, str], ...] = field(default=())

    @property
    def dirname(self) -> str:
        return self.path.name

    @property
    def manifest(self) -> Path:
        return self.path / "lab.toml"

    @property
    def solution_path(self) -> Path:
        return self.root / "solutions" / self.dirname

    @property
    def checks_package(self) -> str:
        return schema.checks_package(self.id)

    @property
    def checks_path(self) -> Path:
        return checks_dir() / self.checks_package

    @property
    def bugs_path(self) -> Path:
        return self.solution_path / schema.BUGS_FILE

    def solution_files(self) -> list[Path]:
        """The files of the solution overlay (its bugs.toml is authors' data, not code)."""
        base = self.solution_path
        return sorted(
            p for p in base.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p != self.bugs_path
        )  # fmt: skip

    @property
    def notebook_path(self) -> Path:
        return self.root / "notebooks" / f"{self.dirname}.ipynb"

    @property
    def max_score(self) -> int:
        return sum(c.points for c in self.checks)

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def expected_starter_failures(self) -> set[str]:
        """What the starter must fail: every bug's checks, and the bonus checks."""
        failing = {cid for bug in self.bugs for cid in bug.checks}
        return failing | {c.id for c in self.checks if c.bonus}


# ------------------------------------------------------------------ loading


def load_lab(lab_dir: Path, root: Path | None = None) -> Lab:
    """The lab in ``lab_dir`` (labs/NN-id), with its planted bugs from
    ``solutions/NN-id/bugs.toml`` when the course has solutions (a student edition has
    none, so its labs have no bugs)."""
    path = lab_dir / "lab.toml"
    spec = schema.parse(path, schema.LabSpec)
    if not lab_dir.name.endswith(f"-{spec.id}"):
        raise schema.refuse(
            path, None, ("id",), f"{spec.id!r} does not match its folder name {lab_dir.name!r}"
        )
    root = (root or lab_dir.parent.parent).resolve()
    bugs = _load_bugs(root / "solutions" / lab_dir.name / schema.BUGS_FILE, spec)
    worker = spec.worker or schema.WorkerSpec()
    own = {name: getattr(spec, name) for name in type(spec).model_fields if name not in _NOT_COPIED}
    lab = Lab(
        **own,
        bugs=bugs,
        path=lab_dir.resolve(),
        root=root,
        worker_queues=worker.queues,
        worker_imports=worker.imports,
        env=tuple(spec.env.items()),
    )
    return _without_absent_grading_only(lab)


#: LabSpec fields that Lab does not take by the same name.
_NOT_COPIED = {"format_version", "worker", "env"}


def _load_bugs(path: Path, spec: schema.LabSpec) -> tuple[Bug, ...]:
    if not path.is_file():
        return ()
    bugs = schema.parse(path, schema.BugsFile).bugs
    check_ids = {c.id for c in spec.checks}
    for i, bug in enumerate(bugs):
        for name in bug.checks:
            if name not in check_ids:
                raise schema.refuse(
                    path, None, ("bugs", i, "checks"),
                    f"names {name!r}, which is not a check of lab {spec.id!r}",
                )  # fmt: skip
    return bugs


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


def implemented_checks(lab: Lab) -> set[str]:
    """The check ids the installed hidden checks of ``lab`` implement."""
    ids: set[str] = set()
    for f in sorted(lab.checks_path.glob("test_*.py")):
        ids |= checks_of_file(f)
    return ids


def _without_absent_grading_only(lab: Lab) -> Lab:
    """A student edition ships a grading-only check's manifest entry (its name and
    points) but not its test: such a check is not part of the edition's own runs."""
    hidden = [c.id for c in lab.checks if c.visibility == "after_grading"]
    if not hidden or not lab.checks_path.is_dir():
        return lab
    present = implemented_checks(lab)
    absent = {cid for cid in hidden if cid not in present}
    if not absent:
        return lab
    return replace(lab, checks=tuple(c for c in lab.checks if c.id not in absent))


class Catalog:
    """All labs of a course, sorted by their ``order``."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or course_root()).resolve()
        self._labs: list[Lab] | None = None

    @property
    def labs(self) -> list[Lab]:
        if self._labs is None:
            labs = [load_lab(p.parent, self.root) for p in (self.root / "labs").glob("*/lab.toml")]
            ids: dict[str, Path] = {}
            orders: dict[int, Path] = {}
            for lab in sorted(labs, key=lambda lab: lab.path):
                if lab.id in ids:
                    raise ManifestError(
                        lab.manifest, "id", f"{lab.id!r} is also the id of {ids[lab.id]}"
                    )
                if lab.order in orders:
                    raise ManifestError(
                        lab.manifest,
                        "order",
                        f"{lab.order} is also the order of {orders[lab.order]}",
                    )
                ids[lab.id] = orders[lab.order] = lab.manifest
            self._labs = sorted(labs, key=lambda lab: (lab.order, lab.id))
        return self._labs

    def ids(self) -> list[str]:
        return [lab.id for lab in self.labs]

    def get(self, lab_id: str) -> Lab:
        for lab in self.labs:
            if lab.id == lab_id:
                return lab
        raise UnknownLab(lab_id, self.ids())
