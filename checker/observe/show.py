"""HTML for notebooks: statements per request as bars, a plan as a tree.

Plain HTML and inline styles, no JavaScript and no plotting library: it renders the same
in JupyterLab, in an executed notebook file, and in the docs site offline.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from .postgres import Plan, PlanNode

_SCAN_COLOURS = {"Seq Scan": "#cf222e", "Parallel Seq Scan": "#cf222e"}


def bars_html(
    title: str, series: Mapping[str, Sequence[tuple[int | str, float]]], unit: str = ""
) -> str:
    """Horizontal bars, one group per x value, one bar per series (e.g. 'your service',
    'reference'): ``{"yours": [(5, 23), (50, 205)], "reference": [(5, 3), (50, 3)]}``."""
    e = html.escape
    peak = max((v for points in series.values() for _, v in points), default=1) or 1
    colours = ["#cf222e", "#1a7f37", "#0969da", "#9a6700"]
    rows = []
    xs = list(dict.fromkeys(x for points in series.values() for x, _ in points))
    for x in xs:
        for i, (name, points) in enumerate(series.items()):
            value = dict(points).get(x)
            if value is None:
                continue
            width = max(1.0, 100.0 * value / peak)
            rows.append(
                f"<tr><td style='text-align:right;padding-right:8px'>{e(str(x))}</td>"
                f"<td style='padding-right:8px'>{e(name)}</td><td style='width:60%'>"
                f"<div style='background:{colours[i % 4]};width:{width:.1f}%;height:12px'>"
                f"</div></td><td style='text-align:right'>{value:g} {e(unit)}</td></tr>"
            )
    return f"<p><b>{e(title)}</b></p><table>{''.join(rows)}</table>"


def plan_html(plan: Plan, title: str = "", *, hide_index_names: bool = False) -> str:
    """The plan as a nested list: each node with rows returned, rows read, time.
    ``hide_index_names``: say "an index" (to show a reference plan without its answer)."""
    e = html.escape

    def node(n: PlanNode) -> str:
        colour = _SCAN_COLOURS.get(n.node_type, "#1a7f37" if n.index else "#24292f")
        label = (
            n.label().replace(f" using {n.index} ", " using an index ")
            if (hide_index_names and n.index)
            else n.label()
        )
        facts = [f"rows {n.actual_rows:g}"]
        if n.is_scan:
            facts.append(f"<b>read {n.rows_read:,.0f}</b>")
        if n.loops > 1:
            facts.append(f"loops {n.loops:g}")
        facts.append(f"{n.total_ms:.3f} ms")
        children = "".join(node(c) for c in n.children)
        inner = f"<ul style='margin:0'>{children}</ul>" if children else ""
        return (
            f"<li><span style='color:{colour};font-weight:bold'>{e(label)}</span> "
            f"<span style='color:#57606a'>({', '.join(facts)})</span>{inner}</li>"
        )

    head = f"<p><b>{e(title)}</b></p>" if title else ""
    return (
        f"{head}<ul style='font-family:monospace'>{node(plan.root)}</ul>"
        f"<p>Execution time: <b>{plan.execution_ms:.3f} ms</b>, rows read: "
        f"<b>{plan.rows_read():,}</b>, pages touched: <b>{plan.buffers:,}</b></p>"
    )
