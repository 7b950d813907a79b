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

Boundaries: lab.toml is read by the checker's catalog (``checker/catalog.py``), the one
reader and validator of manifests; this file only renders. A problem in a lab's files
fails the build with a ``PluginError`` that names the file and the field.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

from checker.catalog import Catalog, Lab
from checker.errors import ManifestError

SERVICE_NAMES = {"postgres": "PostgreSQL", "redis": "Redis", "worker": "an RQ worker"}

_MARKER = re.compile(
    r"^(?P<indent>[ \t]*)<!--\s*lab:(?P<kind>[a-z]+)(?:\s+(?P<arg>[^\s>]+))?\s*-->[ \t]*$"
)
_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})(?=[ \t]|$)")
_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


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
            path = _state.root / _folder(lab) / name
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
    """Every lab under ``root/labs``, by id, in course order, read and validated by the
    checker's own catalog (one reader of lab.toml for the checker and the site)."""
    try:
        return {lab.id: lab for lab in Catalog(root).labs}
    except ManifestError as exc:
        raise PluginError(exc.message) from None


def _folder(lab: Lab) -> str:
    """The lab's folder relative to the repository root, posix: "labs/01-crud"."""
    return lab.path.relative_to(lab.root).as_posix()


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
    rel = f"{_folder(lab)}/README.md"
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
    resolved = posixpath.normpath(posixpath.join(_folder(lab), path))
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
