"""``report.html``: one self-contained page (inline CSS and SVG, no script, nothing fetched) that shows what
a run did: the funnel of documents through each step, drop reasons, text length before and after,
languages, duplicate cluster sizes, the sites that lost most documents, and samples of what was removed.

Charts are drawn here as plain SVG. Every bar carries its number in ``data-*`` attributes
(``data-chart`` on the chart, ``data-key``/``data-value`` on each bar), so tests and scripts can read the
figures back from the page and compare them with ``stats/summary.json``.
"""

from __future__ import annotations

import time
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from thresher.document import MetaKey
from thresher.report.data import (
    Samples,
    bucket_low,
    cluster_histogram,
    collect_samples,
    funnel,
    load_plan,
    load_summary,
    reader_drops,
)
from thresher.rundir import tokens_line

# One colour per chart (tests look for them in a screenshot: keep them distinct and opaque).
COLORS = {
    "funnel": "#4c78a8",      # documents that went on
    "dropped": "#e45756",     # documents a step dropped
    "reasons": "#e45756",
    "extracted": "#f58518",   # length before filtering
    "kept": "#4c78a8",        # length after
    "languages": "#54a24b",
    "clusters": "#b279a2",
    "sites": "#9d755d",
}

WIDTH = 560          # SVG user units; the SVG scales to its card
LABEL_W = 190
ROW_H = 24
FONT = 13

CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
       color:var(--ink); background:var(--bg); }
main { max-width:1240px; margin:0 auto; padding:20px 24px 40px; }
h1 { font-size:22px; margin:0 0 4px; }
h2 { font-size:16px; margin:0 0 10px; }
.sub { color:var(--muted); margin:0 0 16px; word-break:break-all; }
.tiles { display:flex; flex-wrap:wrap; gap:10px; margin-bottom:10px; }
.tile { background:#fff; border:1px solid var(--line); border-radius:8px; padding:8px 14px; min-width:120px; }
.tile b { display:block; font-size:20px; }
.tile span { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.ok { color:#2f855a; } .bad { color:#c53030; }
.grid { display:grid; grid-template-columns:repeat(auto-fit,minmax(540px,1fr)); gap:16px; margin:16px 0; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 16px; min-width:0; }
.card p.note { color:var(--muted); font-size:12px; margin:6px 0 0; }
svg { width:100%; height:auto; display:block; }
svg text { font-family:inherit; fill:var(--ink); }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { text-align:left; padding:4px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
code, .mono { font-family:ui-monospace,"DejaVu Sans Mono",monospace; font-size:12px; }
.mono { overflow-wrap:anywhere; }
table.samples { table-layout:fixed; }
table.samples td { overflow-wrap:anywhere; }
.dist { display:grid; grid-template-columns:repeat(auto-fill,minmax(360px,1fr)); gap:12px; }
.dist .card h3 { font-size:13px; margin:0 0 4px; font-weight:600; }
.snippet { white-space:pre-wrap; word-break:break-word; max-height:9em; overflow:hidden; color:#3e4c59; }
details summary { cursor:pointer; color:var(--muted); }
details .full { white-space:pre-wrap; word-break:break-word; max-height:30em; overflow:auto;
                background:var(--bg); padding:8px; }
.rule { display:inline-block; background:#fde8e8; color:#9b2c2c; border-radius:4px; padding:0 6px;
        font-family:ui-monospace,monospace; font-size:12px; }
.legend span { display:inline-block; width:10px; height:10px; margin:0 4px 0 12px; border-radius:2px; }
.empty { color:var(--muted); padding:20px 0; }
section.wide { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 16px;
               margin:16px 0; }
"""


# -- SVG primitives -----------------------------------------------------------------------------------------
def _fmt(n: float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.2f}"


def _num(value: Any) -> str:
    """A figure as a person reads it: integers with separators, other numbers to 3 significant digits
    (0.123, 12.3, 1,234), anything else as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _bar_w(value: float, top: float, room: float) -> float:
    """Bar width; a non-zero value always shows (at least 2 units)."""
    if value <= 0 or top <= 0:
        return 0.0
    return max(2.0, room * value / top)


def hbar_chart(chart: str, rows: list[tuple], color: str, unit: str = "") -> str:
    """Horizontal bars with labels on the left and values on the right. A row is (label, value) or
    (label, value, key) where ``key`` (default: the label) goes to ``data-key``; a row whose value is
    None is a group heading."""
    if not rows:
        return f'<div class="empty" data-chart="{chart}">no data</div>'
    top = max(r[1] for r in rows if r[1] is not None)
    room = WIDTH - LABEL_W - 80
    height = len(rows) * ROW_H + 6
    out = [f'<svg data-chart="{chart}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{chart}">']
    for i, row in enumerate(rows):
        label, value = row[0], row[1]
        key = row[2] if len(row) > 2 else label
        y = 3 + i * ROW_H
        if value is None:
            out.append(f'<text x="8" y="{y + ROW_H / 2 + 4:.1f}" font-size="{FONT}" font-weight="600">'
                       f'{escape(_short(label, 60))}</text>')
            continue
        w = _bar_w(value, top, room)
        out.append(
            f'<g data-key="{escape(key)}" data-value="{value}">'
            f'<title>{escape(key)}: {_fmt(value)}{unit}</title>'
            f'<text x="{LABEL_W - 8}" y="{y + ROW_H / 2 + 4:.1f}" text-anchor="end" font-size="{FONT}">'
            f'{escape(_short(label))}</text>'
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{w:.1f}" height="{ROW_H - 6}" rx="2" fill="{color}"/>'
            f'<text x="{LABEL_W + w + 6:.1f}" y="{y + ROW_H / 2 + 4:.1f}" font-size="{FONT}">'
            f'{_fmt(value)}{unit}</text></g>')
    out.append("</svg>")
    return "".join(out)


def funnel_chart(rows: list[dict[str, Any]], read: int, kept: int, at_read: int = 0) -> str:
    """One bar per step, as wide as the documents that entered it: the part that went on in blue, the part
    the step dropped in red. The first bar is every record read, with what the reader itself dropped."""
    if not rows:
        return '<div class="empty" data-chart="funnel">no steps</div>'
    top = max([read] + [r["in"] for r in rows]) or 1
    label_w = 140   # step names are short; the room goes to "in → out (−x%)"
    room = WIDTH - label_w - 200
    lines = [("read", read, at_read, "read")] + [(r["step"], r["in"], r["dropped"], "step") for r in rows]
    lines.append(("kept", kept, 0, "kept"))
    height = len(lines) * ROW_H + 6
    out = [f'<svg data-chart="funnel" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="funnel">']
    for i, (name, n_in, n_drop, kind) in enumerate(lines):
        y = 3 + i * ROW_H
        w_in = _bar_w(n_in, top, room)
        w_drop = _bar_w(n_drop, top, room) if n_drop else 0.0
        w_out = max(0.0, w_in - w_drop)
        pct = 100 * n_drop / n_in if n_in else 0.0
        value = f"{_fmt(n_in)} → {_fmt(n_in - n_drop)}" + (f"  (−{pct:.1f}%)" if n_drop else "")
        if kind == "step":
            attrs = f'data-key="{escape(name)}" data-in="{n_in}" data-dropped="{n_drop}"'
        else:
            value = value if n_drop else _fmt(n_in)
            attrs = f'data-key="({kind})" data-value="{n_in}" data-dropped="{n_drop}"'
        label_weight = ' font-weight="600"' if kind != "step" else ""
        out.append(
            f'<g {attrs}><title>{escape(name)}: in {_fmt(n_in)}, dropped {_fmt(n_drop)}</title>'
            f'<text x="{label_w - 8}" y="{y + ROW_H / 2 + 4:.1f}" text-anchor="end" font-size="{FONT}"'
            f'{label_weight}>{escape(_short(name))}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w_out:.1f}" height="{ROW_H - 6}" fill="{COLORS["funnel"]}"/>'
            + (f'<rect x="{label_w + w_out:.1f}" y="{y + 3}" width="{w_drop:.1f}" height="{ROW_H - 6}" '
               f'fill="{COLORS["dropped"]}"/>' if w_drop else "")
            + f'<text x="{label_w + w_in + 6:.1f}" y="{y + ROW_H / 2 + 4:.1f}" font-size="{FONT}">{value}</text>'
            "</g>")
    out.append("</svg>")
    return "".join(out)


def _bucket_label(label: str) -> str:
    low = bucket_low(label)
    for div, suffix in ((1 << 20, "M"), (1 << 10, "k")):
        if low >= div:
            return f"{low // div}{suffix}"
    return str(low)


def column_chart(chart: str, buckets: list[str], series: list[tuple[str, str, dict[str, int]]],
                 x_title: str, label_of=None) -> str:
    """Vertical bars per bucket, one bar per series side by side. ``series``: (name, colour, counts)."""
    if not buckets:
        return f'<div class="empty" data-chart="{chart}">no data</div>'
    label_of = label_of or (lambda b: b)
    height, left, bottom, top_pad = 240, 46, 42, 14
    plot_h = height - bottom - top_pad
    plot_w = WIDTH - left - 10
    top = max(max(counts.values(), default=0) for _, _, counts in series) or 1
    slot = plot_w / len(buckets)
    bar = max(2.0, min(28.0, (slot - 4) / len(series)))
    out = [f'<svg data-chart="{chart}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{chart}">']
    ticks = [0, top // 2, top] if top >= 4 else [0, top]   # whole numbers only: these are counts
    for tick in ticks:
        y = top_pad + plot_h * (1 - tick / top)
        out.append(f'<line x1="{left}" x2="{WIDTH - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{_fmt(tick)}</text>')
    for i, b in enumerate(buckets):
        x0 = left + i * slot + (slot - bar * len(series)) / 2
        for j, (name, color, counts) in enumerate(series):
            v = counts.get(b, 0)
            h = plot_h * v / top if v else 0.0
            if v:
                h = max(h, 2.0)
            out.append(f'<rect data-series="{escape(name)}" data-key="{escape(b)}" data-value="{v}" '
                       f'x="{x0 + j * bar:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                       f'height="{h:.1f}" fill="{color}"><title>{escape(name)} {escape(b)}: {_fmt(v)}</title></rect>')
        if len(buckets) <= 16 or i % 2 == 0:
            out.append(f'<text x="{left + (i + 0.5) * slot:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                       f'font-size="11">{escape(label_of(b))}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="12" '
               f'fill="#616e7c">{escape(x_title)}</text></svg>')
    return "".join(out)


def _legend(items: list[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(
        f'<span style="background:{c}"></span>{escape(n)}' for n, c in items) + "</div>"


# -- sections ---------------------------------------------------------------------------------------------
def _tiles(summary: dict[str, Any]) -> str:
    read = summary.get("read", 0)
    kept = summary.get("kept", 0)
    tiles = [("read", read), ("kept", kept), ("rejected", summary.get("rejected", 0)),
             ("errors", summary.get("errors", 0))]
    out = ['<div class="tiles">']
    for name, value in tiles:
        out.append(f'<div class="tile" data-stat="{name}" data-value="{value}"><b>{_fmt(value)}</b>'
                   f'<span>{name}</span></div>')
    share = f"{100 * kept / read:.1f}%" if read else "–"
    out.append(f'<div class="tile"><b>{share}</b><span>kept of read</span></div>')
    if "wall_seconds" in summary:
        out.append(f'<div class="tile"><b>{summary["wall_seconds"]:,.1f} s</b><span>wall time</span></div>')
    out.append("</div>")
    ok = summary.get("reconciled")
    mark = '<b class="ok">reconciled</b>' if ok else '<b class="bad">counts do not reconcile</b>'
    out.append(f'<p>read {_fmt(read)} = kept {_fmt(kept)} + rejected {_fmt(summary.get("rejected", 0))} '
               f'+ errors {_fmt(summary.get("errors", 0))}: {mark}'
               + ("" if summary.get("complete", True) else ' · <b class="bad">run incomplete</b>') + "</p>")
    if tokens_line(summary):   # only runs with a ``tokens`` step count tokens
        out.append(f'<p data-stat="tokens">{escape(tokens_line(summary))}</p>')
    return "".join(out)


def _funnel_card(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    table = ['<table><tr><th>step</th><th class="n">in</th><th class="n">dropped</th><th class="n">out</th>'
             '<th class="n">dropped %</th><th class="n">seconds</th></tr>']
    at_read = reader_drops(summary)
    if at_read:
        rows = [{"step": "(reader)", "in": summary.get("read", 0), "dropped": at_read,
                 "out": summary.get("read", 0) - at_read, "seconds": 0.0}] + rows
    for r in rows:
        pct = 100 * r["dropped"] / r["in"] if r["in"] else 0.0
        table.append(f'<tr><td><code>{escape(r["step"])}</code></td><td class="n">{_fmt(r["in"])}</td>'
                     f'<td class="n">{_fmt(r["dropped"])}</td><td class="n">{_fmt(r["out"])}</td>'
                     f'<td class="n">{pct:.1f}</td><td class="n">'
                     f'{"–" if r["step"] == "(reader)" else format(r["seconds"], ",.2f")}</td></tr>')
    table.append("</table>")
    return ('<div class="card"><h2>Documents through each step</h2>'
            + funnel_chart([r for r in rows if r["step"] != "(reader)"], summary.get("read", 0),
                           summary.get("kept", 0), at_read)
            + _legend([("went on", COLORS["funnel"]), ("dropped by the step", COLORS["dropped"])])
            + "".join(table)
            + (f'<p class="note">records that failed (see errors/), counted in no step: {_fmt(summary["errors"])}</p>'
               if summary.get("errors") else "")
            + _tokens_by_step(summary, rows) + "</div>")


def _tokens_by_step(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """Tokens dropped by each step, for runs with a ``tokens`` step (documents dropped before it: none)."""
    steps = summary.get("steps", {})
    dropped = [(r["step"], steps.get(r["step"], {}).get("tokens_dropped")) for r in rows]
    dropped = [(name, n) for name, n in dropped if n]
    if not summary.get("tokens") or not dropped:
        return ""
    return ('<p class="note" data-stat="tokens_dropped">tokens dropped, by step: '
            + ", ".join(f"<code>{escape(name)}</code> {_fmt(n)}" for name, n in dropped) + "</p>")


def _reasons_card(summary: dict[str, Any], order: list[str]) -> str:
    rank = {name: i for i, name in enumerate(order)}   # reader drops ("read.*") come first
    reasons = sorted(summary.get("reasons", {}).items(),
                     key=lambda kv: (rank.get(kv[0].split(".")[0], -1), -kv[1], kv[0]))
    rows: list[tuple] = []
    for key, n in reasons:
        step, _, rule = key.partition(".")
        if not rows or rows[-1][-1].partition(".")[0] != step:
            rows.append((step if step in rank else f"{step} (before the first step)", None, step + "."))
        rows.append((rule, n, key))
    return ('<div class="card"><h2>Drop reasons, by step</h2>'
            + hbar_chart("reasons", rows, COLORS["reasons"])
            + '<p class="note">documents dropped per rule, steps in pipeline order</p></div>')


def _length_card(summary: dict[str, Any]) -> str:
    hist = summary.get("length_hist", {})
    before, after = hist.get("extracted", {}), hist.get("kept", {})
    buckets = sorted(set(before) | set(after), key=bucket_low)
    series = [("kept", COLORS["kept"], after)]
    legend = [("kept (after)", COLORS["kept"])]
    if before:
        series.insert(0, ("extracted", COLORS["extracted"], before))
        legend.insert(0, ("extracted (before filtering)", COLORS["extracted"]))
    return ('<div class="card"><h2>Text length before and after</h2>'
            + column_chart("length", buckets, series, "characters (log2 buckets, lower bound)", _bucket_label)
            + _legend(legend) + "</div>")


def _languages_card(summary: dict[str, Any], top: int = 12) -> str:
    langs = sorted(summary.get("languages", {}).items(), key=lambda kv: (-kv[1], kv[0]))
    rows = langs[:top]
    rest = sum(v for _, v in langs[top:])
    if rest:
        rows.append(("(other)", rest))
    return ('<div class="card"><h2>Languages of kept documents</h2>'
            + hbar_chart("languages", rows, COLORS["languages"]) + "</div>")


def _by_language_card(summary: dict[str, Any], top: int = 40) -> str:
    """Kept, dropped and the main drop reasons per language (summary.json's ``by_language``)."""
    langs = sorted(summary.get("by_language", {}).items(),
                   key=lambda kv: (-(kv[1].get("kept", 0) + kv[1].get("rejected", 0)), kv[0]))
    if len(langs) < 2:
        return ""
    rows = []
    for code, c in langs[:top]:
        reasons = sorted(c.get("reasons", {}).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        total = c.get("kept", 0) + c.get("rejected", 0)
        rows.append(f"<tr><td>{escape(code)}</td><td class=\"n\">{_fmt(c.get('kept', 0))}</td>"
                    f"<td class=\"n\">{_fmt(c.get('rejected', 0))}</td>"
                    f"<td class=\"n\">{c.get('kept', 0) / total:.0%}</td>"
                    f"<td>{escape(', '.join(f'{k} {n}' for k, n in reasons))}</td></tr>")
    return ('<div class="card"><h2>Per language: kept, dropped, main drop reasons</h2>'
            '<table><tr><th>language</th><th class="n">kept</th><th class="n">dropped</th><th class="n">kept %</th>'
            '<th>main drop reasons</th></tr>' + "".join(rows) + "</table></div>")


def _clusters_card(samples: Samples) -> str:
    hist = cluster_histogram(samples.clusters)
    n_clusters = len(samples.clusters)
    n_dups = sum(samples.clusters.values())
    note = (f"{_fmt(n_clusters)} clusters; {_fmt(n_dups)} duplicates removed, one copy of each kept"
            if n_clusters else "no duplicates found")
    if not samples.rejected_scan_complete:
        note += f" (counted over the first {_fmt(samples.rejected_scanned)} rejected documents only)"
    biggest = samples.clusters.most_common(5)
    table = ""
    if biggest:
        table = ('<table><tr><th>kept document</th><th class="n">cluster size</th></tr>'
                 + "".join(f'<tr><td class="mono">{escape(str(k))}</td><td class="n">{v + 1}</td></tr>'
                           for k, v in biggest) + "</table>")
    return ('<div class="card"><h2>Duplicate cluster sizes</h2>'
            + column_chart("clusters", list(hist), [("clusters", COLORS["clusters"], hist)],
                           "documents per cluster (kept copy + duplicates)")
            + f'<p class="note" data-clusters="{n_clusters}" data-duplicates="{n_dups}">{note}</p>'
            + table + "</div>")


def _sites_card(summary: dict[str, Any], top: int = 15) -> str:
    sites = sorted(summary.get("removed_by_site", {}).items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return ('<div class="card"><h2>Top sites by removed documents</h2>'
            + hbar_chart("sites", sites, COLORS["sites"]) + "</div>")


def _snippet(text: str, limit: int = 400) -> str:
    text = text or ""
    short = escape(text[:limit] + ("…" if len(text) > limit else ""))
    cap = 5000   # keeps the page light; the rest is one `thresher inspect --id` away
    more = f"\n… {len(text) - cap:,} more characters" if len(text) > cap else ""
    full = (f'<details><summary>full text ({len(text):,} chars)</summary><div class="full">'
            f'{escape(text[:cap] + more)}</div></details>') if len(text) > limit else ""
    return f'<div class="snippet">{short}</div>{full}'


def _reason_detail(reason: dict[str, Any]) -> str:
    parts = []
    if reason.get("value") is not None:
        parts.append(f"value {escape(_num(reason['value']))}")
    if reason.get("threshold") is not None:
        parts.append(f"threshold {escape(_num(reason['threshold']))}")
    if reason.get("duplicate_of") is not None:
        parts.append(f"duplicate of <code>{escape(str(reason['duplicate_of']))}</code>")
    if reason.get("similarity") is not None:
        parts.append(f"similarity {_num(reason['similarity'])}")
    return "<br>".join(parts)


def _removed_docs_section(samples: Samples, run_dir: Path) -> str:
    if not samples.removed:
        return '<section class="wide"><h2>Removed documents</h2><div class="empty">none</div></section>'
    rows = []
    for key, docs in samples.removed.items():
        for doc in docs:
            reason = doc.get("reason") or {}
            url = doc.get("url") or ""
            rows.append(f'<tr data-rule="{escape(key)}"><td><span class="rule">{escape(key)}</span><br>'
                        f'<span class="mono">{escape(str(doc.get("id")))}</span>'
                        + (f'<br><span class="mono">{escape(_short(url, 60))}</span>' if url else "")
                        + f'</td><td>{_reason_detail(reason)}</td><td>{_snippet(doc.get("text", ""))}</td></tr>')
    return ('<section class="wide"><h2>Removed documents: a sample per rule</h2>'
            f'<p class="note">more: <code>thresher inspect {escape(str(run_dir))} --reason RULE --sample N</code>'
            ', one document: <code>--id ID</code></p>'
            '<table class="samples"><tr><th style="width:24%">rule · id · url</th><th style="width:18%">why</th>'
            '<th>text</th></tr>' + "".join(rows) + "</table></section>")


def _removed_lines_section(samples: Samples) -> str:
    counts = samples.removed_line_counts
    scope = ("every document" if samples.lines_scan_complete
             else f"the rejected documents and the first {samples.docs_scanned_for_lines:,} kept documents")
    head = '<section class="wide"><h2>Removed lines</h2>'
    if not counts:
        return (head + '<div class="empty">no removed lines recorded. Steps that remove lines keep them in '
                '<code>meta.removed_lines</code> when asked to (<code>keep_removed: true</code>).</div></section>')
    count_rows = "".join(f'<tr><td><span class="rule">{escape(k)}</span></td><td class="n">{_fmt(v)}</td></tr>'
                         for k, v in counts.most_common())
    line_rows = "".join(
        f'<tr><td><span class="rule">{escape(str(x.get("step")))}.{escape(str(x.get("rule")))}</span></td>'
        f'<td class="mono">{escape(str(x.get("id")))}</td><td>{escape(_short(str(x.get("line", "")), 300))}</td></tr>'
        for x in samples.removed_lines)
    return (head + f'<p class="note">non-blank lines, counted over {scope}</p>'
            '<table style="width:auto;min-width:320px"><tr><th>rule</th><th class="n">lines removed</th></tr>'
            + count_rows + '</table><h2 style="margin-top:14px">A sample of removed lines</h2>'
            '<table class="samples"><tr><th style="width:22%">rule</th><th style="width:18%">document</th><th>line</th></tr>'
            + line_rows + "</table></section>")


def signal_chart(rule: str, signal: str, values: list[float], threshold: float, drops_below: bool,
                 bins: int = 30) -> str:
    """The distribution of a rule's signal (a histogram of ``values``), the threshold as a dashed line, the
    bars on the side the rule drops in red. The top 1% of values is gathered in the last bar."""
    arr = np.asarray(values, dtype=float)
    lo = min(float(arr.min()), threshold)
    hi = max(float(np.quantile(arr, 0.99)), threshold)
    if hi <= lo:
        hi = lo + 1.0
    counts, edges = np.histogram(np.clip(arr, lo, hi), bins=bins, range=(lo, hi))
    height, left, bottom, top_pad = 170, 46, 34, 22
    plot_w, plot_h = WIDTH - left - 12, height - bottom - top_pad
    top = int(counts.max()) or 1
    slot = plot_w / bins
    out = [f'<svg data-chart="signal" data-rule="{escape(rule)}" data-signal="{escape(signal)}" '
           f'data-threshold="{threshold}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(rule)}">']
    for tick in (0, top):
        y = top_pad + plot_h * (1 - tick / top)
        out.append(f'<line x1="{left}" x2="{WIDTH - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{_fmt(tick)}</text>')
    for i, n in enumerate(counts.tolist()):
        mid = (edges[i] + edges[i + 1]) / 2
        dropped = mid < threshold if drops_below else mid > threshold
        h = max(2.0, plot_h * n / top) if n else 0.0
        out.append(f'<rect data-lo="{edges[i]:.6g}" data-value="{n}" x="{left + i * slot + 0.5:.1f}" '
                   f'y="{top_pad + plot_h - h:.1f}" width="{max(1.0, slot - 1):.1f}" height="{h:.1f}" '
                   f'fill="{COLORS["dropped"] if dropped else COLORS["funnel"]}">'
                   f'<title>{_num(edges[i])} to {_num(edges[i + 1])}: {_fmt(n)}</title></rect>')
    x = left + plot_w * (threshold - lo) / (hi - lo)
    anchor = "end" if x > left + plot_w * 0.7 else "start"
    out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top_pad - 6}" y2="{top_pad + plot_h}" stroke="#1f2933" '
               f'stroke-width="1.5" stroke-dasharray="4 3"/>'
               f'<text x="{x + (-4 if anchor == "end" else 4):.1f}" y="{top_pad - 9}" text-anchor="{anchor}" '
               f'font-size="11">threshold {escape(_num(threshold))}</text>')
    for value, at in ((lo, "start"), (hi, "end")):
        tx = left if at == "start" else WIDTH - 12
        label = _num(value) + ("+" if at == "end" and float(arr.max()) > hi else "")
        out.append(f'<text x="{tx}" y="{height - bottom + 15}" text-anchor="{at}" font-size="11">{escape(label)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="11" '
               f'fill="#616e7c">{escape(signal)}</text></svg>')
    return "".join(out)


def _signals_section(summary: dict[str, Any], samples: Samples, order: list[str]) -> str:
    rank = {name: i for i, name in enumerate(order)}
    rules = sorted((k for k in samples.rule_signal if samples.values.get(samples.rule_signal[k])),
                   key=lambda k: (rank.get(k.split(".")[0], -1), k))
    head = '<section class="wide"><h2>Signals against their thresholds</h2>'
    if not rules:
        return head + '<div class="empty">no rule dropped a document on a numeric signal</div></section>'
    cards = []
    for key in rules:
        signal = samples.rule_signal[key]
        threshold, below = samples.rule_threshold[key]
        values = samples.values[signal]
        step = key.split(".")[0]
        entered = summary.get("steps", {}).get(step, {}).get("in", 0)
        dropped = summary.get("reasons", {}).get(key, 0)
        share = 100 * dropped / entered if entered else 0.0
        cards.append(
            f'<div class="card" data-rule="{escape(key)}" data-share="{share:.4f}"><h3><span class="rule">'
            f'{escape(key)}</span></h3>' + signal_chart(key, signal, values, threshold, below)
            + f'<p class="note">drops {escape(signal)} {"&lt;" if below else "&gt;"} {escape(_num(threshold))}: '
            f'<b>{share:.1f}%</b> of the {_fmt(entered)} documents that reached <code>{escape(step)}</code> '
            f'({_fmt(dropped)}); histogram of {_fmt(len(values))} documents</p></div>')
    return (head + '<p class="note">red: the side of the threshold the rule drops. Each histogram counts the '
            'documents that carry the signal (those that reached its step), kept and dropped.</p>'
            '<div class="dist">' + "".join(cards) + "</div></section>")


def _kept_section(samples: Samples) -> str:
    head = '<section class="wide"><h2>Kept documents: a sample</h2>'
    if not samples.kept:
        return head + '<div class="empty">none</div></section>'
    rows = []
    for doc in samples.kept:
        meta, url = doc.get("meta") or {}, doc.get("url") or ""
        about = [f"{_fmt(len(doc.get('text') or ''))} chars"]
        if meta.get(MetaKey.LANGUAGE):
            about.append(f"{escape(str(meta[MetaKey.LANGUAGE]))} {_num(meta.get(MetaKey.LANGUAGE_SCORE, ''))}")
        if meta.get(MetaKey.TITLE):
            about.append(escape(_short(str(meta[MetaKey.TITLE]), 80)))
        rows.append(f'<tr data-kept="{escape(str(doc.get("id")))}"><td><span class="mono">'
                    f'{escape(str(doc.get("id")))}</span>'
                    + (f'<br><span class="mono">{escape(_short(url, 60))}</span>' if url else "")
                    + f'</td><td>{"<br>".join(about)}</td><td>{_snippet(doc.get("text", ""))}</td></tr>')
    return (head + '<p class="note">a uniform sample of what the run keeps, to read next to what it drops '
            '(below)</p><table class="samples"><tr><th style="width:24%">id · url</th>'
            '<th style="width:18%">about</th><th>text</th></tr>' + "".join(rows) + "</table></section>")


def _rate(n: float, seconds: float) -> str:
    return _num(round(n / seconds, 1)) if seconds > 0 and n else "–"


def _throughput_section(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    labels = summary.get("phase_labels", {})
    walls = summary.get("phase_wall_seconds", {})
    mb = 1 << 20
    phase_rows = []
    for name, ph in sorted(summary.get("phases", {}).items(), key=lambda kv: (int(kv[0][1:]), kv[0])):
        label = labels.get(name, name)
        size = (ph.get("input_bytes") or ph.get("read_bytes") or 0) / mb
        secs, wall = ph.get("seconds", 0.0), walls.get(label, 0.0)
        phase_rows.append(
            f'<tr data-phase="{escape(name)}"><td>{escape(label)}</td><td class="n">{_fmt(ph.get("read", 0))}</td>'
            f'<td class="n">{_num(round(size, 2))}</td><td class="n">{_num(round(secs, 2))}</td>'
            f'<td class="n">{_rate(ph.get("read", 0), secs)}</td><td class="n">{_rate(size, secs)}</td>'
            f'<td class="n">{_num(round(wall, 2)) if wall else "–"}</td>'
            f'<td class="n">{_rate(ph.get("read", 0), wall)}</td></tr>')
    step_rows = []
    for r in rows:
        st = summary.get("steps", {}).get(r["step"], {})
        size = st.get("bytes", 0) / mb
        step_rows.append(
            f'<tr data-step="{escape(r["step"])}"><td><code>{escape(r["step"])}</code></td>'
            f'<td class="n">{_fmt(r["in"])}</td><td class="n">{_num(round(size, 2))}</td>'
            f'<td class="n">{_num(round(r["seconds"], 2))}</td><td class="n">{_rate(r["in"], r["seconds"])}</td>'
            f'<td class="n">{_rate(size, r["seconds"])}</td></tr>')
    return ('<section class="wide"><h2>Throughput</h2>'
            '<p class="note">seconds: time in tasks, summed over workers, so rates are per core; wall: the '
            'phase from start to end in this invocation. MB: input for the first phase, text (or HTML not yet '
            'extracted) for the others and for steps.</p>'
            '<table><tr><th>phase</th><th class="n">documents</th><th class="n">MB</th><th class="n">seconds</th>'
            '<th class="n">docs/s per core</th><th class="n">MB/s per core</th><th class="n">wall s</th>'
            '<th class="n">docs/s wall</th></tr>' + "".join(phase_rows) + "</table>"
            '<table style="margin-top:12px"><tr><th>step</th><th class="n">documents</th><th class="n">MB</th>'
            '<th class="n">seconds</th><th class="n">docs/s</th><th class="n">MB/s</th></tr>'
            + "".join(step_rows) + "</table></section>")


def rule_signals(plan: dict[str, Any]) -> dict[str, str]:
    """"step.rule" -> the signal the rule tests, as the run's steps declare them (``Step.rule_signals``)."""
    try:
        from thresher.pipeline import pipeline_from_spec

        steps = pipeline_from_spec(plan["pipeline"]).steps
    except Exception:  # noqa: BLE001 - a plan without a pipeline, or one naming a step no longer installed
        return {}
    return {f"{s.name}.{rule}": signal for s in steps for rule, signal in s.rule_signals().items()}


def render(run_dir: str | Path, summary: dict[str, Any] | None = None, samples: Samples | None = None) -> str:
    """The report page of a run directory, as a string."""
    run_dir = Path(run_dir)
    summary = summary if summary is not None else load_summary(run_dir)
    plan = load_plan(run_dir)
    samples = samples if samples is not None else collect_samples(run_dir, rule_signals=rule_signals(plan))
    rows = funnel(summary, plan)
    order = [r["step"] for r in rows]
    name = summary.get("pipeline") or plan.get("pipeline_name") or "custom"
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>thresher report: {escape(run_dir.name)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>thresher run report</h1><p class=\"sub\">{escape(str(run_dir.resolve()))} · pipeline "
        f"<b>{escape(str(name))}</b> ({' → '.join(escape(s) for s in order)}) · "
        f"{escape(time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))}</p>",
        _tiles(summary),
        '<div class="grid">',
        _funnel_card(summary, rows),
        _reasons_card(summary, order),
        _length_card(summary),
        _languages_card(summary),
        _by_language_card(summary),
        _clusters_card(samples),
        _sites_card(summary),
        "</div>",
        _signals_section(summary, samples, order),
        _kept_section(samples),
        _removed_docs_section(samples, run_dir),
        _removed_lines_section(samples),
        _throughput_section(summary, rows),
        "</main></body></html>\n",
    ]
    return "".join(parts)


def write_report(run_dir: str | Path) -> Path:
    """Write ``RUN_DIR/report.html`` (atomically) and return its path."""
    run_dir = Path(run_dir)
    path = run_dir / "report.html"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render(run_dir), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = ["render", "write_report", "COLORS"]
