"""MkDocs hook: the lab pages are built from the labs' own files.

The lab manifests (``labs/*/lab.toml``) and task statements (``labs/*/README.md``) are
the single source of truth for the course; the docs never copy them. A page asks for
them with markers, each alone on its line (markers inside fenced code blocks are left
alone, so pages can show them):

``<!-- lab:readme ID -->``  the lab's README.md (its first ``#`` heading dropped, the
                            other headings nested under the marker's section, links
                            into the lab folder turned into plain paths)
``<!-- lab:checks ID -->``  a table of the lab's checks, with points and bonus notes
``<!-- lab:facts ID -->``   an admonition: services needed, expected minutes, concepts
``<!-- lab:index -->``      a table of every lab, in course order

The hook also fills the ``Labs`` section of the nav with every lab that has a page
(``docs/labs/ID.md``), in course order, so adding a lab never touches mkdocs.yml.

Boundaries: this file reads TOML and Markdown files and nothing else. It never imports
the ``checker`` package (the docs build must work without it), and it validates only
the fields it reads; ``checker/catalog.py`` is the full validator. A problem in a lab's
files fails the build with a ``PluginError`` that names the file.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

SUPPORTED_FORMAT = 1
DEFAULT_MINUTES = 30  # as in checker/catalog.py, which this file must not import
SERVICE_NAMES = {"postgres": "PostgreSQL", "redis": "Redis", "worker": "an RQ worker"}

_MARKER = re.compile(
    r"^(?P<indent>[ \t]*)<!--\s*lab:(?P<kind>[a-z]+)(?:\s+(?P<arg>[^\s>]+))?\s*-->[ \t]*$"
)
_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})(?=[ \t]|$)")
_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    points: int
    bonus: bool


@dataclass(frozen=True)
class Lab:
    id: str
    title: str
    order: int
    summary: str
    concepts: tuple[str, ...]
    services: tuple[str, ...]
    minutes: int
    checks: tuple[Check, ...]
    folder: str  # relative to the repository root, posix: "labs/01-crud"


class _State:
    root: Path = Path.cwd()
    docs: str = "docs"  # the docs folder, relative to the root, to name pages in errors
    labs: dict[str, Lab] = {}


_state = _State()


# ------------------------------------------------------------------ mkdocs events


def on_config(config: Any) -> None:
    """Read every lab.toml (so a broken one fails any build) and fill the Labs nav."""
    _state.root = Path(config.config_file_path).resolve().parent
    docs_dir = Path(config.docs_dir).resolve()
    with contextlib.suppress(ValueError):
        _state.docs = docs_dir.relative_to(_state.root).as_posix()
    _state.labs = load_labs(_state.root)
    _fill_nav(config)


def _fill_nav(config: Any) -> None:
    """Put every lab that has a page into the nav's ``Labs`` section, in course order."""
    docs_dir = Path(config.docs_dir)
    pages = [
        {f"{lab.order:02d} · {lab.title}": f"labs/{lab.id}.md"}
        for lab in _state.labs.values()
        if (docs_dir / "labs" / f"{lab.id}.md").is_file()
    ]
    for item in config.nav or []:
        if isinstance(item, dict) and "Labs" in item:
            item["Labs"] = pages


def on_serve(server: Any, config: Any, builder: Any) -> None:
    """Rebuild when a lab's manifest or task changes (not on every save of its code)."""
    for lab in _state.labs.values():
        for name in ("lab.toml", "README.md"):
            path = _state.root / lab.folder / name
            if path.is_file():
                server.watch(str(path))


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    src = page.file.src_uri
    out: list[str] = []
    fence: str | None = None
    section_level = 0
    for line in markdown.split("\n"):
        if fence is not None:
            out.append(line)
            m = _FENCE.match(line)
            if m and m["fence"][0] == fence[0] and len(m["fence"]) >= len(fence):
                fence = None
            continue
        m = _FENCE.match(line)
        if m:
            fence = m["fence"]
            out.append(line)
            continue
        h = _HEADING.match(line)
        if h:
            section_level = len(h["hashes"])
        m = _MARKER.match(line)
        if not m:
            out.append(line)
            continue
        block = _render(m["kind"], m["arg"], src=src, files=files, section_level=section_level)
        indent = m["indent"]
        out.extend(indent + b if b else b for b in block.split("\n"))
    return "\n".join(out)


# ------------------------------------------------------------------ reading labs


def load_labs(root: Path) -> dict[str, Lab]:
    """Every lab under ``root/labs``, by id, in course order."""
    labs: dict[str, Lab] = {}
    seen_order: dict[int, str] = {}
    for manifest in sorted((root / "labs").glob("*/lab.toml")):
        rel = manifest.relative_to(root).as_posix()
        lab = _parse_manifest(manifest, rel)
        if lab.id in labs:
            raise PluginError(
                f"{rel}: lab id {lab.id!r} is already used by {labs[lab.id].folder}/lab.toml"
            )
        if lab.order in seen_order:
            raise PluginError(
                f"{rel}: order {lab.order} is already used by {seen_order[lab.order]}"
            )
        seen_order[lab.order] = rel
        labs[lab.id] = lab
    return dict(sorted(labs.items(), key=lambda item: item[1].order))


def _parse_manifest(path: Path, rel: str) -> Lab:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PluginError(f"{rel}: cannot be read as TOML ({exc})") from exc

    version = data.get("format_version")
    if version != SUPPORTED_FORMAT:
        raise PluginError(
            f"{rel}: format_version is {version!r}; this docs build reads "
            f"format_version = {SUPPORTED_FORMAT}"
        )
    raw_checks = _field(data, "checks", list, rel)
    checks = []
    for n, raw in enumerate(raw_checks, start=1):
        where = f"{rel}: checks #{n}"
        if not isinstance(raw, dict):
            raise PluginError(f"{where} must be a [[checks]] table")
        bonus = raw.get("bonus", False)
        if not isinstance(bonus, bool):
            raise PluginError(f"{where}: 'bonus' must be true or false")
        points = _field(raw, "points", int, where)
        if points < 0:
            raise PluginError(f"{where}: 'points' must not be negative")
        checks.append(
            Check(
                id=_field(raw, "id", str, where),
                title=_field(raw, "title", str, where),
                points=points,
                bonus=bonus,
            )
        )
    if not checks:
        raise PluginError(f"{rel}: a lab needs at least one [[checks]] entry")

    services = tuple(_strings(data, "services", rel, default=[]))
    unknown = [s for s in services if s not in SERVICE_NAMES]
    if unknown:
        raise PluginError(
            f"{rel}: unknown service {unknown[0]!r} (known: {', '.join(SERVICE_NAMES)})"
        )
    minutes = _field(data, "minutes", int, rel, default=DEFAULT_MINUTES)
    if minutes <= 0:
        raise PluginError(f"{rel}: 'minutes' must be a positive number")
    return Lab(
        id=_field(data, "id", str, rel),
        title=_field(data, "title", str, rel),
        order=_field(data, "order", int, rel),
        summary=_field(data, "summary", str, rel, default=""),
        concepts=tuple(_strings(data, "concepts", rel, default=[])),
        services=services,
        minutes=minutes,
        checks=tuple(checks),
        folder=posixpath.dirname(rel),
    )


def _field(data: dict[str, Any], key: str, kind: type, where: str, default: Any = ...) -> Any:
    if key not in data:
        if default is not ...:
            return default
        raise PluginError(f"{where}: missing required key {key!r}")
    value = data[key]
    # bool is an int in Python; `points = true` is still a mistake.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = {str: "a string", int: "an integer", list: "a list"}
        raise PluginError(
            f"{where}: {key!r} must be {names.get(kind, kind.__name__)}, got {value!r}"
        )
    return value


def _strings(data: dict[str, Any], key: str, where: str, default: Any = ...) -> list[str]:
    values = _field(data, key, list, where, default)
    if not all(isinstance(v, str) for v in values):
        raise PluginError(f"{where}: {key!r} must be a list of strings")
    return values


def _lab(lab_id: str | None, kind: str, src: str) -> Lab:
    if not lab_id:
        raise PluginError(f"{_state.docs}/{src}: the marker lab:{kind} needs a lab id")
    try:
        return _state.labs[lab_id]
    except KeyError:
        known = ", ".join(_state.labs) or "none"
        raise PluginError(
            f"{_state.docs}/{src}: unknown lab {lab_id!r} in lab:{kind} "
            f'(no labs/*/lab.toml has id = "{lab_id}"; known labs: {known})'
        ) from None


# ------------------------------------------------------------------ rendering


def _render(kind: str, arg: str | None, *, src: str, files: Any, section_level: int) -> str:
    if kind == "index":
        return _index(src, files)
    if kind not in ("readme", "checks", "facts"):
        raise PluginError(
            f"{_state.docs}/{src}: unknown marker lab:{kind} (known: readme, checks, facts, index)"
        )
    lab = _lab(arg, kind, src)
    if kind == "readme":
        return _readme(lab, src, files, section_level)
    if kind == "checks":
        return _checks(lab)
    return _facts(lab, src, files)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no column breaks, no raw HTML.

    Only the text outside code spans is escaped: inside one, the tables extension
    already keeps ``|`` and Markdown shows ``<`` as typed (escapes would show as is).
    """
    parts = re.split(r"(`+[^`]*`+)", text)
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(parts)


def _link_from(src: str, target: str) -> str:
    """The relative URL from page ``src`` to docs file ``target`` (both docs-relative)."""
    return posixpath.relpath(target, posixpath.dirname(src) or ".")


def _index(src: str, files: Any) -> str:
    if not _state.labs:
        return "*No labs yet.*"
    rows = ["| # | Lab | Id | What it is about | Minutes |", "|---|---|---|---|---|"]
    for lab in _state.labs.values():
        title = _cell(lab.title)
        page = f"labs/{lab.id}.md"
        if files.get_file_from_path(page) is not None:
            title = f"[{title}]({_link_from(src, page)})"
        rows.append(
            f"| {lab.order:02d} | {title} | `{lab.id}` | {_cell(lab.summary)} | {lab.minutes} |"
        )
    return "\n".join(rows)


def points_line(lab: Lab) -> str:
    """``"10 points, 2 of them bonus"``: the summary under a lab's checks table."""
    total = sum(c.points for c in lab.checks)
    bonus = sum(c.points for c in lab.checks if c.bonus)
    return f"{total} points, {bonus or 'none'} of them bonus"


def _checks(lab: Lab) -> str:
    has_bonus = any(c.bonus for c in lab.checks)
    if has_bonus:
        rows = ["| Check | Points | Note |", "|---|---:|---|"]
    else:
        rows = ["| Check | Points |", "|---|---:|"]
    for check in lab.checks:
        row = f"| {_cell(check.title)} | {check.points} |"
        if has_bonus:
            row += " bonus |" if check.bonus else "  |"
        rows.append(row)
    rows += ["", f"**{points_line(lab)}.**"]
    if has_bonus:
        rows.append(
            "Bonus checks go beyond the planted bugs: the starter fails them too, and "
            "fixing the bugs alone does not make them pass."
        )
    return "\n".join(rows)


def _facts(lab: Lab, src: str, files: Any) -> str:
    services = ", ".join(SERVICE_NAMES[s] for s in lab.services) or "nothing beyond Python"
    if lab.services and files.get_file_from_path("services.md") is not None:
        services += f" ([provided for you]({_link_from(src, 'services.md')}))"
    lines = [
        '!!! abstract "At a glance"',
        "",
        f"    - **Needs:** {services}",
        f"    - **Expected time:** about {lab.minutes} minutes",
    ]
    if lab.concepts:
        lines.append(f"    - **Concepts:** {', '.join(lab.concepts)}")
    lines.append(f"    - **Check it with:** `lab check {lab.id}`")
    return "\n".join(lines)


def _readme(lab: Lab, src: str, files: Any, section_level: int) -> str:
    rel = f"{lab.folder}/README.md"
    try:
        text = (_state.root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PluginError(f"{rel}: cannot be read ({exc}), needed by {_state.docs}/{src}") from exc

    lines = text.strip("\n").split("\n")
    # The page has its own title; the README's top heading would repeat it.
    if lines and re.match(r"^#[ \t]", lines[0]):
        lines = lines[1:]
        while lines and not lines[0].strip():
            lines.pop(0)

    levels = [len(h["hashes"]) for _, h in _outside_fences(lines, _HEADING)]
    shift = max(0, section_level + 1 - min(levels)) if levels else 0
    for i, h in _outside_fences(lines, _HEADING):
        level = min(6, len(h["hashes"]) + shift)
        lines[i] = "#" * level + lines[i][h.end() :]
    for i, _ in _outside_fences(lines, _LINK):
        lines[i] = _LINK.sub(lambda m: _relink(m, lab, src, files), lines[i])
    return "\n".join(lines)


def _outside_fences(lines: list[str], pattern: re.Pattern[str]):
    """(index, match) for lines outside fenced code blocks that ``pattern`` matches."""
    found = []
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is not None:
            if m and m["fence"][0] == fence[0] and len(m["fence"]) >= len(fence):
                fence = None
            continue
        if m:
            fence = m["fence"]
            continue
        hit = pattern.search(line) if pattern is _LINK else pattern.match(line)
        if hit:
            found.append((i, hit))
    return found


def _relink(m: re.Match[str], lab: Lab, src: str, files: Any) -> str:
    """A README link, which is relative to the lab folder, made right for the site.

    Links to the web stay. Links into docs/ become links between pages. Links to the
    lab's own files (app/main.py) cannot point anywhere on the site: they become the
    file's path from the repository root, which is what the learner's editor shows.
    """
    target = m["target"]
    if _SCHEME.match(target) or target.startswith(("#", "/")):
        return m[0]
    path, _, anchor = target.partition("#")
    resolved = posixpath.normpath(posixpath.join(lab.folder, path))
    if resolved.startswith("docs/"):
        doc = resolved.removeprefix("docs/")
        if files.get_file_from_path(doc) is not None:
            url = _link_from(src, doc) + (f"#{anchor}" if anchor else "")
            return f"{m['bang']}[{m['text']}]({url})"
    shown = f"`{resolved}`"
    text = m["text"].strip()
    if not text or text.strip("`") in (path, resolved, posixpath.basename(path)):
        return shown
    return f"{text} ({shown})"
