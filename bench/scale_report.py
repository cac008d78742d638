#!/usr/bin/env python3
"""The catalog-at-scale figures (tests/e2e/scale.rs writes them as JSON) as a Markdown table on
stdout and a small hand-written SVG plot: latency and DynamoDB calls against catalog size, one line
per request. Standard library only.

usage: bench/scale_report.py figures.json plot.svg
"""
import json
import math
import sys

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
# Dashed lines for the searches, whose calls are equal: both stay visible where they overlap.
DASHES = ["", "", "6 3", "2 3"]


def normalise(figures):
    """Milliseconds and read units from the test's integers (microseconds, half units)."""
    for size in figures["sizes"]:
        for row in size["rows"]:
            if "median_us" in row:
                row["median_ms"] = row.pop("median_us") / 1000
            if "read_half_units" in row:
                row["read_units"] = row.pop("read_half_units") / 2
    return figures


def table(figures):
    lines = [
        "| products | request | median latency | DynamoDB calls | read capacity (RCU) | items |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for size in figures["sizes"]:
        for row in size["rows"]:
            items = f"{row['items']}{' + cursor' if row['has_next'] else ''}"
            lines.append(
                f"| {size['size']:,} | {row['name']} (`{row['path']}`) | {row['median_ms']:.1f} ms "
                f"| {row['calls']} | {row['read_units']:.1f} | {items} |"
            )
    seeding = ", then ".join(f"to {s['size']:,} in {s['seeding_s']:.0f} s" for s in figures["sizes"])
    lines.append("")
    lines.append(f"Seeded through the store port {seeding}. Median of {figures['runs']} warm runs.")
    return "\n".join(lines)


def panel(x0, title, unit, sizes, series, value):
    """One chart 300 wide, 220 high, at x0: log-scaled size on x, linear value on y."""
    w, h, left, top, bottom = 300, 220, 50, 30, 40
    pw, ph = w - left - 10, h - top - bottom
    highest = max(value(r) for s in series for r in s) or 1
    scale = 10 ** math.floor(math.log10(highest))
    top_value = next(f * scale for f in (1, 2, 2.5, 5, 10) if f * scale >= highest)
    lo, hi = math.log10(min(sizes)), math.log10(max(sizes))
    span = (hi - lo) or 1

    def px(size):
        return x0 + left + (math.log10(size) - lo) / span * pw if hi > lo else x0 + left + pw / 2

    def py(v):
        return top + ph - v / top_value * ph

    out = [f'<text x="{x0 + left + pw / 2}" y="18" text-anchor="middle" font-weight="bold">{title}</text>']
    out.append(f'<line x1="{x0 + left}" y1="{top + ph}" x2="{x0 + left + pw}" y2="{top + ph}" stroke="#333"/>')
    out.append(f'<line x1="{x0 + left}" y1="{top}" x2="{x0 + left}" y2="{top + ph}" stroke="#333"/>')
    for i in range(5):
        v = top_value * i / 4
        out.append(f'<line x1="{x0 + left - 4}" y1="{py(v):.1f}" x2="{x0 + left + pw}" y2="{py(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 + left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    out.append(f'<text x="{x0 + 12}" y="{top + ph / 2}" transform="rotate(-90 {x0 + 12} {top + ph / 2})" text-anchor="middle">{unit}</text>')
    for size in sizes:
        out.append(f'<text x="{px(size):.1f}" y="{top + ph + 16}" text-anchor="middle">{size:,}</text>')
    out.append(f'<text x="{x0 + left + pw / 2}" y="{h - 4}" text-anchor="middle">products (log scale)</text>')
    for colour, dash, rows in zip(COLOURS, DASHES, series):
        points = " ".join(f"{px(s):.1f},{py(value(r)):.1f}" for s, r in zip(sizes, rows))
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dashed}/>')
        for s, r in zip(sizes, rows):
            out.append(f'<circle cx="{px(s):.1f}" cy="{py(value(r)):.1f}" r="3" fill="{colour}"/>')
    return out


def svg(figures):
    sizes = [s["size"] for s in figures["sizes"]]
    names = [r["name"] for r in figures["sizes"][0]["rows"]]
    series = [[s["rows"][i] for s in figures["sizes"]] for i in range(len(names))]
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="640" height="290" font-family="sans-serif" font-size="11">']
    parts.append('<rect width="640" height="290" fill="white"/>')
    parts += panel(0, "median latency", "ms", sizes, series, lambda r: r["median_ms"])
    parts += panel(320, "DynamoDB calls", "calls", sizes, series, lambda r: r["calls"])
    for i, (colour, name) in enumerate(zip(COLOURS, names)):
        x = 20 + i * 155
        parts.append(f'<rect x="{x}" y="266" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="276">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    figures_path, svg_path = sys.argv[1:3]
    with open(figures_path) as f:
        figures = normalise(json.load(f))
    with open(svg_path, "w") as f:
        f.write(svg(figures))
    print(table(figures))


if __name__ == "__main__":
    main()
