"""`lab new <id>`: every folder of a new lab, from ``template/``.

The template's paths hold ``__folder__`` (NN-id), ``__id__`` and ``__package__`` (the
checks' package); its texts hold ``{{id}}``, ``{{title}}``, ``{{order}}``, ``{{order2}}``
and ``{{folder}}``. The skeleton passes its own self-verification as written: one
planted bug caught by its check, a smoke check, a known-wrong and a valid scenario.
"""

from __future__ import annotations

from pathlib import Path

from .. import manifest
from ..catalog import Catalog
from ..errors import UsageError

TEMPLATE = Path(__file__).resolve().parent / "template"


def new_lab(root: Path, lab_id: str, *, title: str | None = None,
            order: int | None = None) -> list[Path]:  # fmt: skip
    """Write the new lab's files under ``root``; returns them (relative to ``root``)."""
    if title is not None and (not title.strip() or set(title) & {'"', "\\", "\n"}):
        raise UsageError("--title must be one line of text without quotes or backslashes.")
    if not manifest.LAB_ID.match(lab_id):
        raise UsageError(
            f"{lab_id!r} is not a lab id: use lowercase letters, digits and dashes, "
            "starting with a letter (e.g. rate-limits)."
        )
    catalog = Catalog(root)
    labs = catalog.labs
    if lab_id in catalog.ids():
        raise UsageError(f"There is already a lab called {lab_id!r}.")
    order = order if order is not None else max((lab.order for lab in labs), default=0) + 1
    if order < 1:
        raise UsageError("--order must be 1 or more.")
    if taken := [lab.id for lab in labs if lab.order == order]:
        raise UsageError(f"Order {order} is taken by lab {taken[0]!r}; pick another --order.")
    folder = manifest.folder_name(order, lab_id)
    words = {
        "{{id}}": lab_id,
        "{{title}}": title or lab_id.replace("-", " ").capitalize(),
        "{{order}}": str(order),
        "{{order2}}": f"{order:02d}",
        "{{folder}}": folder,
    }
    names = {"__folder__": folder, "__id__": lab_id, "__package__": manifest.checks_package(lab_id)}
    plan: list[tuple[Path, str]] = []
    for src in sorted(p for p in TEMPLATE.rglob("*") if p.is_file()):
        if "__pycache__" in src.parts:
            continue
        rel = src.relative_to(TEMPLATE).as_posix()
        for key, value in names.items():
            rel = rel.replace(key, value)
        text = src.read_text(encoding="utf-8")
        for key, value in words.items():
            text = text.replace(key, value)
        plan.append((Path(rel), text))
    clash = [rel for rel, _ in plan if (root / rel).exists()]
    if clash:
        raise UsageError(f"{clash[0]} already exists: lab new never overwrites a file.")
    for rel, text in plan:
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
    return [rel for rel, _ in plan]
