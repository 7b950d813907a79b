"""What several verbs share: finding a lab the way the learner names it."""

from __future__ import annotations

from ..catalog import Catalog, Lab


def canonical_id(catalog: Catalog, name: str) -> str:
    """The lab's id for what the learner typed: its id in any letter case, its number as
    `lab list` shows it (``01`` or ``1``), or its folder (``01-crud``). Anything else is
    returned as typed, for the catalog's "no lab called ..." answer."""
    typed = name.strip().lower().replace("_", "-").rstrip("/")
    typed = typed.removeprefix("labs/")
    for lab in catalog.labs:
        if typed in (lab.id, lab.dirname.lower()):
            return lab.id
    if typed.isdigit():
        for lab in catalog.labs:
            if lab.order == int(typed):
                return lab.id
    return name


def find_lab(name: str, catalog: Catalog | None = None) -> Lab:
    catalog = catalog or Catalog()
    return catalog.get(canonical_id(catalog, name))
