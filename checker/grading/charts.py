"""Small SVG charts for the dashboard, drawn on the server (no JavaScript, no chart library).

Every chart is an ``<svg role="img">`` with a ``<title>`` that says in words what it shows,
so a screen reader hears the numbers the picture carries. Colours come from one ramp,
``HEAT``, chosen so that its text colour (dark on the light steps, white on the dark ones)
keeps a contrast of at least 4.5:1 (WCAG AA) on every step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

# 11 steps: 0-9 %, 10-19 %, ..., 90-99 %, 100 % of the points. Light red (nothing) to dark
# teal (full marks): readable in grey scale too, and every cell also prints its score.
HEAT = [
    "#fde2e1", "#fbe3cf", "#fcefc7", "#f3f4c8", "#dcefc4", "#bfe3c0",
    "#86c9a9", "#3f9f85", "#237a6a", "#135c52", "#0b3d38",
]  # fmt: skip
DARK_FROM = 8  # steps from here on carry white text


def step(ratio: float) -> int:
    """The heat step (0-10) of a score ratio: 10 only for full marks."""
    if ratio >= 1:
        return 10
    return max(0, min(9, int(ratio * 10)))


def histogram(lab: str, counts: Sequence[int], width: int = 220, height: int = 64) -> Markup:
    """Best scores of one lab as 11 bars (0-9 % ... 100 %): ``counts`` of students."""
    top = max(counts) or 1
    bw = width / 11
    bars = []
    for i, n in enumerate(counts):
        h = round((height - 14) * n / top, 1)
        label = "100 %" if i == 10 else f"{i * 10}-{i * 10 + 9} %"
        bars.append(
            f'<rect x="{i * bw + 1:.1f}" y="{height - 12 - h:.1f}" width="{bw - 2:.1f}" '
            f'height="{h}" fill="{HEAT[i]}" stroke="#57606a" stroke-width="0.5">'
            f"<title>{label}: {n}</title></rect>"
        )
    full = counts[10]
    none = counts[0]
    summary = (
        f"{lab}: best scores of {sum(counts)} students; {full} with full marks, "
        f"{none} under 10 %, the most ({top}) in one bar"
    )
    axis = (
        f'<line x1="0" y1="{height - 12}" x2="{width}" y2="{height - 12}" stroke="#57606a"/>'
        f'<text x="0" y="{height - 1}" class="tick">0 %</text>'
        f'<text x="{width}" y="{height - 1}" class="tick" text-anchor="end">100 %</text>'
    )
    return Markup(
        f'<svg class="hist" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(summary)}"><title>{escape(summary)}</title>'
        + "".join(bars)
        + axis
        + "</svg>"
    )


def daily(days: Sequence[tuple[str, int, int]], width: int = 720, height: int = 200) -> Markup:
    """Runs per day as bars (left axis) and the share of them that passed as a line (right
    axis, 0-100 %)."""
    if not days:
        return Markup('<p class="muted">No runs yet.</p>')
    days = _fill_gaps(days)
    left, right, top_pad, bottom = 44, 44, 10, 34
    pw, ph = width - left - right, height - top_pad - bottom
    most = max(n for _, n, _ in days) or 1
    bw = pw / len(days)
    barw = min(bw * 0.7, 36)
    parts = []
    # grid and axes
    for frac in (0, 0.5, 1):
        y = top_pad + ph * (1 - frac)
        runs = most * frac
        label = str(round(runs)) if most >= 10 or runs == int(runs) else ""  # no "0.5 runs"
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{label}</text>'
            f'<text x="{left + pw + 6}" y="{y + 4:.1f}" class="tick">{round(frac * 100)} %</text>'
        )
    points = []
    label_every = max(1, len(days) // 8)
    for i, (day, n, passed) in enumerate(days):
        x = left + i * bw
        h = ph * n / most
        rate = passed / n if n else 0
        parts.append(
            f'<rect x="{x + (bw - barw) / 2:.1f}" y="{top_pad + ph - h:.1f}" width="{barw:.1f}" '
            f'height="{h:.1f}" class="bar"><title>{day}: {n} runs, {passed} passed '
            f"({rate:.0%})</title></rect>"
        )
        points.append(f"{x + bw / 2:.1f},{top_pad + ph * (1 - rate):.1f}")
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bw / 2:.1f}" y="{height - bottom + 16}" class="tick" '
                f'text-anchor="middle">{day[5:]}</text>'
            )
    parts.append(f'<polyline points="{" ".join(points)}" class="rate"/>')
    for p in points if len(points) <= 60 else []:
        x, y = p.split(",")
        parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" class="rate-dot"/>')
    total = sum(n for _, n, _ in days)
    passed = sum(p for _, _, p in days)
    summary = (
        f"Runs per day from {days[0][0]} to {days[-1][0]}: {total} runs, {passed} passed "
        f"({passed / total:.0%}); the busiest day had {most} runs"
    )
    legend = (
        f'<g transform="translate({left},{height - 6})">'
        '<rect x="0" y="-9" width="10" height="10" class="bar"/>'
        '<text x="14" y="0" class="tick">runs per day (left)</text>'
        '<line x1="150" y1="-4" x2="168" y2="-4" class="rate"/>'
        '<text x="172" y="0" class="tick">share of runs that passed (right)</text></g>'
    )
    return Markup(
        f'<svg class="daily" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(summary)}"><title>{escape(summary)}</title>'
        + "".join(parts)
        + legend
        + "</svg>"
    )


def _fill_gaps(days: Sequence[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Days without a run, between the first and the last, as zeros (so the x axis is
    time); left as they are if the days are not ISO dates or span more than a year."""
    try:
        first, last = date.fromisoformat(days[0][0]), date.fromisoformat(days[-1][0])
    except ValueError:
        return list(days)
    if (last - first).days > 366:
        return list(days)
    have = {d: (n, p) for d, n, p in days}
    out = []
    for i in range((last - first).days + 1):
        d = (first + timedelta(days=i)).isoformat()
        n, p = have.get(d, (0, 0))
        out.append((d, n, p))
    return out
