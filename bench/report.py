"""Figures, their targets and verdicts; the JSON file, the table and one SVG chart per figure."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path


@dataclass
class Figure:
    key: str
    title: str
    unit: str
    target: float | None  # None: reported, no target
    higher_is_better: bool = False
    source: str = ""  # what the target stands for
    value: float | None = None
    runs: list[float] = field(default_factory=list)
    note: str = ""
    detail: dict = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "—"
        if self.target is None:
            return "info"
        ok = self.value >= self.target if self.higher_is_better else self.value <= self.target
        return "PASS" if ok else "FAIL"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "—"
        return f"{'≥' if self.higher_is_better else '≤'} {_num(self.target)} {self.unit}".strip()

    @property
    def value_text(self) -> str:
        if self.value is None:
            return self.note or "not measured"
        return f"{_num(self.value)} {self.unit}".strip()


def _num(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "target", "verdict")]
    rows += [(f.title, f.value_text, f.target_text, f.verdict) for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(figures: list[Figure], meta: dict) -> str:
    out = [
        f"# Benchmark results ({meta['mode']})",
        "",
        f"{meta['generated_at']} · {meta['machine']} · scale {meta['scale']}",
        "",
        "| figure | value | target | verdict | runs |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        runs = ", ".join(_num(r) for r in f.runs) if f.runs else ""
        out.append(f"| {f.title} | {f.value_text} | {f.target_text} | {f.verdict} | {runs} |")
    out.append("")
    for f in figures:
        if f.detail:
            out.append(f"- **{f.title}**: " + ", ".join(f"{k} {v}" for k, v in f.detail.items()))
    return "\n".join(out) + "\n"


def svg(figure: Figure) -> str:
    """A small horizontal bar chart: the measured value (each run as a tick) against the target."""
    width, bar_h, left = 560, 26, 150
    colour = {"PASS": "#1a7f37", "FAIL": "#cf222e"}.get(figure.verdict, "#57606a")
    values = [v for v in (figure.value, figure.target, *figure.runs) if v is not None]
    scale_max = max(values) * 1.15 if values and max(values) > 0 else 1.0

    def x(v: float) -> float:
        return left + (width - left - 20) * v / scale_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="130" '
        f'viewBox="0 0 {width} 130" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(figure.title)}</title>",
        f'<text x="10" y="18" font-size="14" font-weight="600">{escape(figure.title)}</text>',
    ]
    if figure.value is None:
        parts.append(f'<text x="10" y="60" fill="#57606a">{escape(figure.value_text)}</text>')
    else:
        parts += [
            '<text x="10" y="52">measured (median)</text>',
            f'<rect x="{left}" y="36" width="{x(figure.value) - left:.1f}" height="{bar_h}" '
            f'fill="{colour}" rx="3"/>',
            f'<text x="{x(figure.value) + 6:.1f}" y="54">{escape(figure.value_text)}</text>',
        ]
        for run in figure.runs:
            parts.append(
                f'<line x1="{x(run):.1f}" x2="{x(run):.1f}" y1="34" y2="{36 + bar_h + 2}" '
                'stroke="#24292f" stroke-width="1" opacity="0.5"/>'
            )
        if figure.target is not None:
            parts += [
                '<text x="10" y="92">target</text>',
                f'<rect x="{left}" y="76" width="{x(figure.target) - left:.1f}" '
                f'height="{bar_h}" fill="#d0d7de" rx="3"/>',
                f'<text x="{x(figure.target) + 6:.1f}" y="94">{escape(figure.target_text)}</text>',
            ]
        parts.append(
            f'<text x="10" y="122" fill="{colour}" font-weight="600">{figure.verdict}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(figures: list[Figure], *, out_dir: Path, mode: str, scale: dict) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "charts").mkdir(exist_ok=True)
    meta = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "scale": scale,
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}",
    }
    document = {
        **meta,
        "figures": [
            {**asdict(f), "verdict": f.verdict, "value_text": f.value_text} for f in figures
        ],
    }
    (out_dir / "results.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    (out_dir / "results.md").write_text(markdown(figures, meta))
    for f in figures:
        (out_dir / "charts" / f"{f.key}.svg").write_text(svg(f))
    return document
