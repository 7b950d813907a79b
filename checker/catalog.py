"""The course catalog: every lab found by its ``labs/*/lab.toml``, validated.

The manifest is the single source of truth for a lab (order, checks, points, hints,
planted bugs). Its format is versioned (``format_version``); a manifest that breaks the
format is refused with the file and the field named, never half-read.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ManifestError, UnknownLab
from .paths import checks_dir, course_root

FORMAT_VERSIONS = {1}
SERVICES = {"postgres", "redis", "worker"}
#: visible: ships in the student edition; after_grading: only `lab grade` runs it, and
#: the student sees its name and verdict once graded, never its code.
VISIBILITIES = ("visible", "after_grading")
FAULTS = {"redis"}  # what the checks can break mid-run (checker.faults)
_ID = re.compile(r"^[a-z][a-z0-9-]*$")
_CHECK_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_KIND = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # a failure kind (checker.verdict)


@dataclass(frozen=True)
class Mutation:
    file: str
    find: str
    replace: str


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    points: int
    hints: tuple[str, ...]
    bonus: bool = False
    visibility: str = "visible"
    #: [checks.kind_hints]: failure kind (checker.verdict) -> its hints, first to last.
    kind_hints: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def hint(self) -> str:
        return self.hints[0] if self.hints else ""

    def hints_for(self, kind: str = "") -> tuple[str, ...]:
        """The hints for a failure of this kind: its own if the manifest maps it, else the
        check's default ``hint``/``hints``."""
        return self.kind_hints.get(kind) or self.hints

    def hint_for(self, kind: str = "") -> str:
        hints = self.hints_for(kind)
        return hints[0] if hints else ""


@dataclass(frozen=True)
class Bug:
    id: str
    checks: tuple[str, ...]
    file: str
    summary: str
    mutations: tuple[Mutation, ...]


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
    def checks_path(self) -> Path:
        return checks_dir() / self.id.replace("-", "_")

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


# ------------------------------------------------------------------ parsing


_KIND_NAMES = {
    int: "an integer",
    str: "a string",
    list: "a list",
    bool: "true or false",
    dict: "a table",
}


class _Reader:
    """Reads one table of a manifest, naming the file and field in every error."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def fail(self, key: str, problem: str) -> ManifestError:
        return ManifestError(self.path, f"{self.prefix}{key}", problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "is required but missing")
            return default
        value = self.data[key]
        if kind is int and isinstance(value, bool):
            raise self.fail(key, f"must be an integer, not {str(value).lower()}")
        if not isinstance(value, kind):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            names = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            raise self.fail(key, f"must be {names}, not {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, str, default)
        if isinstance(value, str) and not value.strip() and default is ...:
            raise self.fail(key, "must not be empty")
        return value

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(key, list, default)
        if not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)


def load_lab(lab_dir: Path, root: Path | None = None) -> Lab:
    path = lab_dir / "lab.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(path, None, "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, None, f"is not valid TOML ({exc})") from None
    r = _Reader(path, data)

    version = r.get("format_version", int)
    if version not in FORMAT_VERSIONS:
        raise r.fail(
            "format_version",
            f"{version} is not supported by this checker (supported: "
            f"{sorted(FORMAT_VERSIONS)}); update Backend Lab",
        )
    lab_id = r.text("id")
    if not _ID.match(lab_id):
        raise r.fail("id", f"{lab_id!r} must be lowercase letters, digits and dashes")
    if not lab_dir.name.endswith(f"-{lab_id}"):
        raise r.fail("id", f"{lab_id!r} does not match its folder name {lab_dir.name!r}")
    services = r.strings("services", ())
    for s in services:
        if s not in SERVICES:
            raise r.fail("services", f"unknown service {s!r} (known: {sorted(SERVICES)})")
    sinks = r.strings("sinks", ())
    for s in sinks:
        if not _CHECK_ID.match(s):
            raise r.fail("sinks", f"{s!r} must be lowercase letters, digits and underscores")
    if len(set(sinks)) != len(sinks):
        raise r.fail("sinks", "names a sink twice")
    receivers = r.strings("receivers", ())
    for s in receivers:
        if not _CHECK_ID.match(s):
            raise r.fail("receivers", f"{s!r} must be lowercase letters, digits and underscores")
    if len(set(receivers)) != len(receivers):
        raise r.fail("receivers", "names a receiver twice")
    faults = r.strings("faults", ())
    for f in faults:
        if f not in FAULTS:
            raise r.fail("faults", f"unknown fault {f!r} (known: {sorted(FAULTS)})")
        if f not in services:
            raise r.fail("faults", f"{f!r} needs {f!r} in services")
    worker = _Reader(path, r.get("worker", dict, {}), "worker.")
    worker_queues = worker.strings("queues", ("default",))
    worker_imports = worker.strings("imports", ())
    if worker.data and "worker" not in services:
        raise r.fail("worker", "is set, but 'worker' is not in services")
    order = r.get("order", int)
    minutes = r.get("minutes", int, 30)
    instances = r.get("instances", int, 1)
    if not 1 <= instances <= 8:
        raise r.fail("instances", f"must be between 1 and 8, not {instances}")

    checks: list[Check] = []
    raw_checks = r.get("checks", list)
    if not raw_checks:
        raise r.fail("checks", "a lab needs at least one check")
    for i, raw in enumerate(raw_checks):
        if not isinstance(raw, dict):
            raise r.fail(f"checks[{i}]", "must be a table ([[checks]])")
        c = _Reader(path, raw, f"checks[{i}].")
        cid = c.text("id")
        if not _CHECK_ID.match(cid):
            raise c.fail("id", f"{cid!r} must be lowercase letters, digits and underscores")
        if any(x.id == cid for x in checks):
            raise c.fail("id", f"{cid!r} is declared twice")
        points = c.get("points", int)
        if points < 0:
            raise c.fail("points", "must not be negative")
        hints = c.strings("hints", ())
        visibility = c.text("visibility", "visible")
        if visibility not in VISIBILITIES:
            raise c.fail("visibility", f"{visibility!r} is not one of {list(VISIBILITIES)}")
        if "hint" in raw:
            hints = (c.text("hint"), *hints)
        kind_hints: dict[str, tuple[str, ...]] = {}
        k = _Reader(path, c.get("kind_hints", dict, {}), f"checks[{i}].kind_hints.")
        for kind, value in k.data.items():
            if not _KIND.match(kind):
                raise k.fail(kind, "a failure kind must be kebab-case (checker.verdict)")
            got = [value] if isinstance(value, str) else value
            if (
                not isinstance(got, list)
                or not got
                or not all(isinstance(v, str) and v.strip() for v in got)
            ):
                raise k.fail(kind, "must be a hint or a list of hints, none empty")
            kind_hints[kind] = tuple(got)
        checks.append(
            Check(
                id=cid,
                title=c.text("title"),
                points=points,
                hints=hints,
                bonus=c.get("bonus", bool, False),
                visibility=visibility,
                kind_hints=kind_hints,
            )
        )
    check_ids = {c.id for c in checks}

    bugs: list[Bug] = []
    for i, raw in enumerate(r.get("bugs", list, [])):
        if not isinstance(raw, dict):
            raise r.fail(f"bugs[{i}]", "must be a table ([[bugs]])")
        b = _Reader(path, raw, f"bugs[{i}].")
        bid = b.text("id")
        if any(x.id == bid for x in bugs):
            raise b.fail("id", f"{bid!r} is declared twice")
        names = b.strings("checks")
        if not names:
            raise b.fail("checks", "a bug must name the checks that catch it")
        for name in names:
            if name not in check_ids:
                raise b.fail("checks", f"names {name!r}, which is not a check of this lab")
        file = b.text("file")
        mutations: list[Mutation] = []
        if "mutation" in raw:
            m = _Reader(path, b.get("mutation", dict), f"bugs[{i}].mutation.")
            mutations.append(Mutation(m.text("file", file), m.text("find"), m.get("replace", str)))
        for j, raw_m in enumerate(b.get("mutations", list, [])):
            if not isinstance(raw_m, dict):
                raise b.fail(f"mutations[{j}]", "must be a table")
            m = _Reader(path, raw_m, f"bugs[{i}].mutations[{j}].")
            mutations.append(Mutation(m.text("file", file), m.text("find"), m.get("replace", str)))
        if not mutations:
            raise b.fail("mutation", "a bug needs a mutation that re-plants it in the solution")
        bugs.append(
            Bug(
                id=bid,
                checks=names,
                file=file,
                summary=b.text("summary", ""),
                mutations=tuple(mutations),
            )
        )

    return Lab(
        id=lab_id,
        title=r.text("title"),
        order=order,
        summary=r.text("summary", ""),
        concepts=r.strings("concepts", ()),
        services=services,
        minutes=minutes,
        app=r.text("app", "app.main:app"),
        health=r.text("health", "/health"),
        checks=tuple(checks),
        bugs=tuple(bugs),
        path=lab_dir.resolve(),
        root=(root or lab_dir.parent.parent).resolve(),
        template_sql=r.strings("template_sql", ()),
        migrations=r.text("migrations", ""),
        sinks=sinks,
        worker_queues=worker_queues,
        worker_imports=worker_imports,
        faults=faults,
        instances=instances,
        receivers=receivers,
    )


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
