"""The lab manifest's schema: what ``labs/NN-id/lab.toml`` and ``solutions/NN-id/bugs.toml``
may say, as typed models where an unknown key is an error.

This module only parses and validates text; it knows nothing of the file system beyond
the path it names in errors (``checker.catalog`` finds the files and builds a ``Lab``).
A mistake is refused as a ``ManifestError`` naming the file, the line, the field and,
for a misspelt key, the key that was probably meant.

Adding a key: add a field (with its type and default) to the model of the table it lives
in: ``LabSpec`` for a top-level key, ``Check`` for a key of ``[[checks]]``, ``Bug`` for
one of ``[[bugs]]``, ``WorkerSpec`` for ``[worker]``. A top-level key also needs the
attribute of the same name on ``catalog.Lab`` (it is copied across by name). Then
document it in docs/authoring.md.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass as pydantic_dataclass

from .errors import ManifestError

FORMAT_VERSIONS = {1}
SERVICES = ("postgres", "redis", "worker")
#: visible: ships in the student edition; after_grading: only `lab grade` runs it, and
#: the student sees its name and verdict once graded, never its code.
VISIBILITIES = ("visible", "after_grading")
FAULTS = ("redis",)  # what the checks can break mid-run (checker.faults)
LAB_ID = re.compile(r"^[a-z][a-z0-9-]*$")
CHECK_ID = re.compile(r"^[a-z][a-z0-9_]*$")
KIND = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # a failure kind (checker.verdict)
BUGS_FILE = "bugs.toml"


# ------------------------------------------------------------------ names


def folder_name(order: int, lab_id: str) -> str:
    """A lab's folder under labs/, solutions/ and notebooks/: ``NN-id``."""
    return f"{order:02d}-{lab_id}"


def checks_package(lab_id: str) -> str:
    """The Python package of a lab's hidden checks (and its template database's stem):
    ``load-testing`` -> ``load_testing``."""
    return lab_id.replace("-", "_")


# ------------------------------------------------------------------ models

Text = Annotated[StrictStr, Field(min_length=1)]
Points = Annotated[StrictInt, Field(ge=0)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Mutation:
    """Re-plants a bug into the solution: ``find`` must occur exactly once in ``file``."""

    file: StrictStr
    find: Text
    replace: StrictStr


class Check(_Table):
    """One ``[[checks]]`` table: a hidden check, its points and its hints."""

    id: StrictStr
    title: Text
    points: Points
    hints: tuple[Text, ...] = ()  # ``hint = "..."`` in the file is the first of them
    bonus: StrictBool = False
    visibility: Literal["visible", "after_grading"] = "visible"
    #: The verdict depends on elapsed time: the check compares durations, latencies or
    #: throughput (ratios included), waits on a timer or deadline the service must meet
    #: (timeouts, retry gaps, backoff, rate-limit windows, TTLs, Retry-After), samples
    #: something over time (lock timelines) or runs load. A busy CPU could flip it, so
    #: the project's self-verification never runs it beside another case. When in doubt,
    #: timed.
    timed: StrictBool = False
    #: ``[checks.kind_hints]``: failure kind (checker.verdict) -> its hints, first to last
    #: (one hint or a list); a kind it does not map falls back to ``hints``.
    kind_hints: dict[StrictStr, tuple[Text, ...]] = {}

    @field_validator("kind_hints", mode="before")
    @classmethod
    def _kind_hints(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        out = {}
        for kind, hints in v.items():
            if not KIND.match(str(kind)):
                raise ValueError(f"failure kind {kind!r} must be kebab-case (checker.verdict)")
            out[kind] = [hints] if isinstance(hints, str) else hints
        return out

    def hints_for(self, kind: str = "") -> tuple[str, ...]:
        """The hints for a failure of this kind: its own if the manifest maps it, else the
        check's default ``hint``/``hints``."""
        return self.kind_hints.get(kind) or self.hints

    def hint_for(self, kind: str = "") -> str:
        hints = self.hints_for(kind)
        return hints[0] if hints else ""

    @model_validator(mode="before")
    @classmethod
    def _fold_hint(cls, data: Any) -> Any:
        if isinstance(data, dict) and "hint" in data:
            data = dict(data)
            hint = data.pop("hint")
            rest = data.get("hints", [])
            data["hints"] = [hint, *rest] if isinstance(rest, list) else rest
        return data

    @field_validator("id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if not CHECK_ID.match(v):
            raise ValueError(f"{v!r} must be lowercase letters, digits and underscores")
        return v

    @property
    def hint(self) -> str:
        return self.hints[0] if self.hints else ""


class Bug(_Table):
    """One planted bug (``[[bugs]]`` in solutions/NN-id/bugs.toml): the checks that must
    catch it and the mutations that re-plant it into the solution."""

    id: Text
    checks: tuple[StrictStr, ...] = Field(min_length=1)
    file: Text
    summary: StrictStr = ""
    mutations: tuple[Mutation, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _gather_mutations(cls, data: Any) -> Any:
        # ``mutation = {...}`` and ``mutations = [...]`` both feed ``mutations``; a
        # mutation's file defaults to the bug's.
        if not isinstance(data, dict) or not ({"mutation", "mutations"} & set(data)):
            return data
        data = dict(data)
        found: list[Any] = []
        if "mutation" in data:
            found.append(data.pop("mutation"))
        extra = data.get("mutations", [])
        found.extend(extra if isinstance(extra, list) else [extra])
        data["mutations"] = [
            {"file": data.get("file", ""), **m} if isinstance(m, dict) else m for m in found
        ]
        return data


class BugsFile(_Table):
    """solutions/NN-id/bugs.toml."""

    format_version: StrictInt
    bugs: tuple[Bug, ...] = ()

    @field_validator("format_version")
    @classmethod
    def _version(cls, v: int) -> int:
        return _supported(v)

    @model_validator(mode="after")
    def _unique(self) -> BugsFile:
        _no_twice([b.id for b in self.bugs], "bugs")
        return self


#: an [env] variable's name, and the names the checker sets itself
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
ENGINE_ENV = {"DATABASE_URL", "REDIS_URL", "PATH", "HOME", "PYTHONPATH"}


class WorkerSpec(_Table):
    """``[worker]``: what the lab's RQ worker listens to and loads once."""

    queues: tuple[Text, ...] = ("default",)
    imports: tuple[Text, ...] = ()


class LabSpec(_Table):
    """labs/NN-id/lab.toml: everything a learner's copy of the course may know."""

    format_version: StrictInt
    id: StrictStr
    title: Text
    order: StrictInt
    summary: StrictStr = ""
    concepts: tuple[StrictStr, ...] = ()
    services: tuple[Literal["postgres", "redis", "worker"], ...] = ()
    minutes: StrictInt = 30
    app: Text = "app.main:app"
    health: Text = "/health"
    template_sql: tuple[Text, ...] = ()
    migrations: StrictStr = ""  # an alembic.ini in the workspace, applied before the start
    sinks: tuple[StrictStr, ...] = ()  # provider sinks run for it (checker.sinks)
    faults: tuple[Literal["redis"], ...] = ()  # links the checks can cut (checker.faults)
    worker: WorkerSpec | None = None
    #: service processes per run, on one database and Redis (checker/session.py)
    instances: int = Field(default=1, ge=1, le=8, strict=True)
    receivers: tuple[StrictStr, ...] = ()  # webhook receivers (checker/sidecars/receivers.py)
    collector: StrictBool = False  # an OTLP/HTTP receiver (checker/sidecars/collector.py)
    #: [env]: configuration given to the service and its worker (and to the checks)
    env: dict[StrictStr, StrictStr] = {}
    checks: tuple[Check, ...] = Field(min_length=1)

    @field_validator("format_version")
    @classmethod
    def _version(cls, v: int) -> int:
        return _supported(v)

    @field_validator("id")
    @classmethod
    def _lab_id(cls, v: str) -> str:
        if not LAB_ID.match(v):
            raise ValueError(f"{v!r} must be lowercase letters, digits and dashes")
        return v

    @field_validator("sinks", "receivers")
    @classmethod
    def _sinks(cls, v: tuple[str, ...], info: Any) -> tuple[str, ...]:
        for s in v:
            if not CHECK_ID.match(s):
                raise ValueError(f"{s!r} must be lowercase letters, digits and underscores")
        if len(set(v)) != len(v):
            raise ValueError(f"names a {info.field_name.removesuffix('s')} twice")
        return v

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v:
            if not ENV_NAME.match(name):
                raise ValueError(f"{name!r} must be upper-case letters, digits and underscores")
            if name in ENGINE_ENV or name.startswith("LAB_") or name.endswith("_PROVIDER_URL"):
                raise ValueError(f"{name!r} is set by the checker itself")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> LabSpec:
        for f in self.faults:
            if f not in self.services:
                raise _At(("faults",), f"{f!r} needs {f!r} in services")
        if self.worker is not None and "worker" not in self.services:
            raise _At(("worker",), "is set, but 'worker' is not in services")
        _no_twice([c.id for c in self.checks], "checks")
        return self


def _supported(version: int) -> int:
    if version not in FORMAT_VERSIONS:
        raise ValueError(
            f"{version} is not supported by this checker (supported: "
            f"{sorted(FORMAT_VERSIONS)}); update Backend Lab"
        )
    return version


class _At(ValueError):
    """A cross-field problem that belongs to one field (``loc``), not the whole table."""

    def __init__(self, loc: tuple[str | int, ...], problem: str) -> None:
        super().__init__(problem)
        self.loc, self.problem = loc, problem


def _no_twice(ids: list[str], table: str) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise _At((table, i, "id"), f"{x!r} is declared twice")
        seen.add(x)


# ------------------------------------------------------------------ parsing

M = TypeVar("M", bound=BaseModel)

_MOVED = {
    "bugs": "planted bugs live beside the solution, in solutions/NN-id/bugs.toml, never in "
    "the learner's folder (their mutations spell out the fixes)"
}


def parse(path: Path, model: type[M], text: str | None = None) -> M:
    """Read ``path`` (or ``text``, naming ``path``) as ``model``; ManifestError if it
    is not valid TOML or breaks the schema."""
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
    except FileNotFoundError:
        raise ManifestError(path, None, "file not found") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, None, f"is not valid TOML ({exc})") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, text, model, exc) from None


def refuse(path: Path, text: str | None, loc: tuple[str | int, ...], problem: str) -> ManifestError:
    """A ManifestError at ``loc`` of the file (with its line when it can be found)."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = ""
    line = locate(text, loc)
    where = f"{path}:{line}" if line else str(path)
    return ManifestError(where, dotted(loc) or None, problem)


def dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _explain(path: Path, text: str, model: type[BaseModel], exc: ValidationError) -> ManifestError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-"))
    kind, ctx = err["type"], err.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, _At):
        return refuse(path, text, cause.loc, cause.problem)
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        key = str(loc[-1])
        known = _fields_at(model, loc[:-1])
        if len(loc) == 1 and key in _MOVED and model is LabSpec:
            problem = f"is not a key of lab.toml: {_MOVED[key]}"
        else:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            guess = f" Did you mean {close[0]!r}?" if close else ""
            problem = f"is not a known key here.{guess} Known keys: {', '.join(known)}."
    elif kind == "missing":
        problem = "is required but missing"
    elif kind == "int_type":
        problem = f"must be an integer, not {_show(err['input'])}"
    elif kind == "string_type":
        problem = f"must be a string, not {_show(err['input'])}"
    elif kind == "bool_type":
        problem = f"must be true or false, not {_show(err['input'])}"
    elif kind in ("tuple_type", "list_type"):
        problem = f"must be a list, not {_show(err['input'])}"
    elif kind in ("model_type", "dataclass_type", "model_attributes_type", "dict_type"):
        problem = f"must be a table, not {_show(err['input'])}"
    elif kind == "string_too_short":
        problem = "must not be empty"
    elif kind == "too_short":
        problem = {
            "checks": "a lab needs at least one check",
            "mutations": "a bug needs a mutation that re-plants it in the solution",
        }.get(str(loc[-1]), "must not be empty")
        if str(loc[-1]) == "checks" and len(loc) > 1:
            problem = "a bug must name the checks that catch it"
    elif kind == "greater_than_equal":
        problem = "must not be negative"
    elif kind == "literal_error":
        field = str(next((p for p in reversed(loc) if isinstance(p, str)), ""))
        what = {"services": "service", "faults": "fault"}.get(field, "value")
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        close = difflib.get_close_matches(str(err["input"]), choices, n=1, cutoff=0.6)
        guess = f" Did you mean {close[0]!r}?" if close else ""
        problem = f"unknown {what} {_show(err['input'])}.{guess} Known: {', '.join(choices)}."
        if field == "visibility":
            problem = f"{_show(err['input'])} is not one of {list(VISIBILITIES)}"
    elif kind == "value_error":
        problem = str(cause or err["msg"]).removeprefix("Value error, ")
    else:
        problem = err["msg"]
    while (
        loc
        and isinstance(loc[-1], int)
        and kind not in ("extra_forbidden", "unexpected_keyword_argument")
    ):
        loc = loc[:-1]  # services[1] -> services: the line of the list
    return refuse(path, text, loc, problem)


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _fields_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The keys the table at ``loc`` accepts (for a 'did you mean')."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = _field_types(current)
        current = _inner_model(fields.get(part))
        if current is None:
            return []
    names = list(_field_types(current))
    if current is Check:
        names.insert(names.index("hints"), "hint")
    if current is Bug:
        names.insert(names.index("mutations"), "mutation")
    return names


def _field_types(model: Any) -> dict[str, Any]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {name: f.annotation for name, f in model.model_fields.items()}
    fields = getattr(model, "__pydantic_fields__", None)
    return {name: f.annotation for name, f in (fields or {}).items()}


def _inner_model(annotation: Any) -> Any:
    """The model inside ``X``, ``X | None``, ``tuple[X, ...]``."""
    if annotation is None:
        return None
    if isinstance(annotation, type) and (
        issubclass(annotation, BaseModel) or hasattr(annotation, "__pydantic_fields__")
    ):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")


def locate(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the key at ``loc`` in a TOML text (best effort: tables,
    arrays of tables and keys; a key inside an inline table gives the table's line)."""
    lines = text.splitlines()
    headers = []  # (line index, name, is_array)
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if m:
            headers.append((i, m.group(2).replace('"', "").replace("'", ""), m.group(1) == "[["))
    start, end = 0, headers[0][0] if headers else len(lines)
    rest = list(loc)
    if rest and isinstance(rest[0], str):
        name = rest[0]
        tables = [h for h in headers if h[1] == name]
        if tables:
            rest.pop(0)
            pick = 0
            if rest and isinstance(rest[0], int):
                pick = rest.pop(0)
            if pick >= len(tables):
                return None
            start = tables[pick][0]
            following = [h[0] for h in headers if h[0] > start]
            end = following[0] if following else len(lines)
            if not rest or not isinstance(rest[0], str):
                return start + 1
    # The most specific key first: ("mutations", 0, "fle") is found at ``fle``.
    for part in reversed([p for p in rest if isinstance(p, str)]):
        for name in (part, *_SPELLED.get(part, ())):
            key = re.compile(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*=")
            inline = re.compile(rf"[{{,]\s*[\"']?{re.escape(name)}[\"']?\s*=")
            for pattern in (key, inline):
                for i in range(start, end):
                    if pattern.search(lines[i]):
                        return i + 1
    return start + 1 if start else None


#: Keys the file may spell otherwise than the model (folded by a validator).
_SPELLED = {"mutations": ("mutation",), "hints": ("hint",)}
