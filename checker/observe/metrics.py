"""Prometheus's text exposition format (version 0.0.4), read strictly.

A service's ``/metrics`` is what Prometheus scrapes: a line it cannot parse fails the
whole scrape, so the checks read it as strictly as Prometheus does, with a parser of
their own (the checker never imports the learner's metrics library)::

    exposition = parse(http.get("/metrics").text)
    family = exposition.families["http_server_request_duration_seconds"]
    family.type                                 # "histogram"
    exposition.histogram_counts(family.name)    # {(("http_route", "/books/{book_id}"), ...): 3.0}

The format (https://prometheus.io/docs/instrumenting/exposition_formats/): one sample
per line, ``name{label="value",...} value [timestamp]``; ``# HELP name text`` and
``# TYPE name counter|gauge|histogram|summary|untyped`` before a family's samples;
other ``#`` lines are comments. Label values escape ``\\``, ``"`` and newlines. A
histogram ``x`` has ``x_bucket`` samples (one per ``le``, cumulative, ending with
``+Inf``), ``x_count`` and ``x_sum`` per label set; prometheus_client also writes
``x_created`` (the OpenMetrics habit), accepted here.

``MetricsFormatError`` says which line broke which rule. This module depends on
nothing of the engine (observe/ never does).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
#: The suffixes a family's samples may carry, by type ("" is the family's own name).
SUFFIXES = {
    "counter": ("", "_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "untyped": ("",),
}

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs: hashable


class MetricsFormatError(ValueError):
    """The text is not valid exposition format: ``line`` (1-based) and why."""

    def __init__(self, line: int, reason: str, text: str = "") -> None:
        shown = text if len(text) <= 120 else text[:117] + "..."
        super().__init__(f"line {line}: {reason}" + (f": {shown!r}" if text else ""))
        self.line, self.reason, self.text = line, reason, text


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Labels
    value: float

    def label(self, name: str) -> str | None:
        return dict(self.labels).get(name)


@dataclass
class Family:
    name: str
    type: str = "untyped"
    help: str | None = None
    samples: list[Sample] = field(default_factory=list)


@dataclass
class Exposition:
    families: dict[str, Family]

    def samples(self) -> list[Sample]:
        return [s for f in self.families.values() for s in f.samples]

    def series(self) -> set[tuple[str, Labels]]:
        """Every series: (sample name, labels)."""
        return {(s.name, s.labels) for s in self.samples()}

    def histogram_counts(self, name: str) -> dict[Labels, float]:
        """A histogram's ``_count`` per label set."""
        family = self.families.get(name)
        if family is None or family.type != "histogram":
            return {}
        return {s.labels: s.value for s in family.samples if s.name == f"{name}_count"}

    def histogram_sums(self, name: str) -> dict[Labels, float]:
        family = self.families.get(name)
        if family is None or family.type != "histogram":
            return {}
        return {s.labels: s.value for s in family.samples if s.name == f"{name}_sum"}


def parse(text: str) -> Exposition:
    """Parse an exposition; raise MetricsFormatError at the first line that breaks it."""
    families: dict[str, Family] = {}
    finished: set[str] = set()  # families whose samples ended (they may not come back)
    current: Family | None = None
    seen: set[tuple[str, Labels]] = set()
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line[1:].strip().split(None, 2)
            if len(parts) >= 2 and parts[0] in ("HELP", "TYPE"):
                kind, name = parts[0], parts[1]
                if not NAME.fullmatch(name):
                    raise MetricsFormatError(number, "not a valid metric name", line)
                family = families.get(name)
                if family is not None and (name in finished or family.samples):
                    if kind == "TYPE":
                        raise MetricsFormatError(number, "TYPE after the family's samples", line)
                    if family.help is not None:
                        raise MetricsFormatError(number, "a second HELP for one family", line)
                if family is None:
                    family = families[name] = Family(name)
                if current is not None and current is not family:
                    finished.add(current.name)
                current = family
                if kind == "TYPE":
                    value = parts[2].strip() if len(parts) > 2 else ""
                    if value not in TYPES:
                        raise MetricsFormatError(number, f"unknown type {value!r}", line)
                    family.type = value
                else:
                    family.help = parts[2] if len(parts) > 2 else ""
            continue
        sample = _sample(line, number)
        family = _family_of(sample.name, current, families)
        if family is None:
            family = families[sample.name] = Family(sample.name)
        if family.name in finished and family is not current:
            raise MetricsFormatError(number, "a family's samples are not all together", line)
        if current is not None and current is not family:
            finished.add(current.name)
        current = family
        key = (sample.name, sample.labels)
        if key in seen:
            raise MetricsFormatError(number, "the same series twice", line)
        seen.add(key)
        family.samples.append(sample)
    exposition = Exposition(families)
    for family in families.values():
        if family.type == "histogram":
            _check_histogram(family)
    return exposition


def _family_of(name: str, current: Family | None, families: dict[str, Family]) -> Family | None:
    """The family a sample belongs to: the one whose name plus a suffix of its type
    gives the sample's name (the family being read first)."""
    candidates = [current] if current is not None else []
    candidates += [f for f in families.values() if f is not current]
    for family in candidates:
        for suffix in SUFFIXES[family.type]:
            if name == family.name + suffix:
                return family
    return None


def _sample(line: str, number: int) -> Sample:
    match = NAME.match(line)
    if match is None:
        raise MetricsFormatError(number, "a sample must start with a metric name", line)
    name, rest = match.group(), line[match.end() :]
    labels: dict[str, str] = {}
    if rest.startswith("{"):
        rest = _labels(rest[1:], labels, line, number)
    if not rest.startswith((" ", "\t")):
        raise MetricsFormatError(number, "expected a space, then the value", line)
    fields = rest.split()
    if not 1 <= len(fields) <= 2:
        raise MetricsFormatError(number, "expected a value and at most a timestamp", line)
    value = _float(fields[0], line, number)
    if len(fields) == 2 and not re.fullmatch(r"-?[0-9]+", fields[1]):
        raise MetricsFormatError(number, "a timestamp is an integer (milliseconds)", line)
    return Sample(name, tuple(sorted(labels.items())), value)


def _labels(rest: str, labels: dict[str, str], line: str, number: int) -> str:
    """Read ``name="value",...}`` into labels; return what follows the brace."""
    while True:
        rest = rest.lstrip()
        if rest.startswith("}"):
            return rest[1:]
        match = LABEL_NAME.match(rest)
        if match is None:
            raise MetricsFormatError(number, "expected a label name", line)
        label = match.group()
        rest = rest[match.end() :].lstrip()
        if not rest.startswith('="') and not rest.startswith("="):
            raise MetricsFormatError(number, f"expected = after label {label!r}", line)
        rest = rest[1:].lstrip()
        if not rest.startswith('"'):
            raise MetricsFormatError(number, f"label {label!r}: the value must be quoted", line)
        value, i = [], 1
        while True:
            if i >= len(rest):
                raise MetricsFormatError(number, f"label {label!r}: unterminated value", line)
            c = rest[i]
            if c == "\\":
                nxt = rest[i + 1 : i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise MetricsFormatError(number, f"label {label!r}: bad escape", line)
                value.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                break
            else:
                value.append(c)
                i += 1
        if label in labels:
            raise MetricsFormatError(number, f"label {label!r} given twice", line)
        labels[label] = "".join(value)
        rest = rest[i + 1 :].lstrip()
        if rest.startswith(","):
            rest = rest[1:]
        elif not rest.startswith("}"):
            raise MetricsFormatError(number, "expected , or } after a label", line)


def _float(text: str, line: str, number: int) -> float:
    special = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan, "Inf": math.inf}
    if text in special:
        return special[text]
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise MetricsFormatError(number, f"not a number: {text!r}", line)
    return float(text)


def _check_histogram(family: Family) -> None:
    """Each label set: buckets with distinct ``le``, cumulative, +Inf last and equal to
    ``_count``; a ``_count`` and a ``_sum``."""
    groups: dict[Labels, dict[str, list]] = {}
    for s in family.samples:
        if s.name == family.name + "_bucket":
            le = s.label("le")
            if le is None:
                raise MetricsFormatError(0, f"{family.name}: a bucket without le", s.name)
            base = tuple(p for p in s.labels if p[0] != "le")
            groups.setdefault(base, {"buckets": [], "count": [], "sum": []})["buckets"].append(
                (_float(le, s.name, 0), s.value)
            )
        elif s.name in (family.name + "_count", family.name + "_sum"):
            kind = s.name[len(family.name) + 1 :]
            groups.setdefault(s.labels, {"buckets": [], "count": [], "sum": []})[kind].append(
                s.value
            )
    for labels, g in groups.items():
        where = f"{family.name}{{{', '.join(f'{k}={v!r}' for k, v in labels)}}}"
        if not g["buckets"] or not g["count"] or not g["sum"]:
            raise MetricsFormatError(0, f"{where}: a histogram needs buckets, _count and _sum")
        bounds = sorted(g["buckets"])
        if bounds[-1][0] != math.inf:
            raise MetricsFormatError(0, f'{where}: no le="+Inf" bucket')
        counts = [c for _, c in bounds]
        if any(b < a for a, b in zip(counts, counts[1:], strict=False)):
            raise MetricsFormatError(0, f"{where}: buckets are not cumulative")
        if counts[-1] != g["count"][0]:
            raise MetricsFormatError(0, f"{where}: the +Inf bucket differs from _count")
