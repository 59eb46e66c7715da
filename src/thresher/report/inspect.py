"""``thresher inspect RUN_DIR``: why a document was kept or dropped, examples of one rule's removals, and the
funnel as a table, in the terminal.

    thresher inspect RUN_DIR --stats                   the funnel, drop reasons and languages as tables
    thresher inspect RUN_DIR --id ID                   one document: status, reason, signals, meta, text
                                                       with its removed lines and the rule of each; for a
                                                       duplicate, the document it matched, side by side
    thresher inspect RUN_DIR --reason RULE --sample N  N random documents (or removed lines) of one rule

Finding a document by id scans kept/ then rejected/ (see ``thresher.report.data.find_doc``).
"""

from __future__ import annotations

import argparse
import difflib
import os
import shlex
import shutil
import sys
import unicodedata
from itertools import zip_longest
from pathlib import Path
from typing import Any

import orjson

from thresher.document import MetaKey
from thresher.report.data import (
    find_doc,
    find_docs,
    funnel,
    load_plan,
    load_summary,
    reader_drops,
    reason_key,
    sample_reason,
    sample_removed_lines,
    step_order,
)


class Style:
    """ANSI styles on a terminal (unless NO_COLOR is set); plain text otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def bold(self, t: str) -> str:
        return self._wrap("1", t)

    def dim(self, t: str) -> str:
        return self._wrap("2", t)

    def red(self, t: str) -> str:
        return self._wrap("31", t)

    def green(self, t: str) -> str:
        return self._wrap("32", t)

    def yellow(self, t: str) -> str:
        return self._wrap("33", t)


# Control characters of document text (ESC, CSI, BEL, backspace, carriage return, ...) would be obeyed by
# the terminal: a page could set the window title or clear the screen. They are shown as \xNN instead;
# newlines and tabs are laid out as before.
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in "\n\t"}


def printable(value: Any) -> Any:
    """``value`` (a document, or any part of one) with the control characters of every string escaped."""
    if isinstance(value, str):
        return value.translate(_CONTROL)
    if isinstance(value, list):
        return [printable(v) for v in value]
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    return value


def _width() -> int:
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def _cells(text: str) -> int:
    """Terminal cells a string takes (East Asian wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> list[str]:
    """Wrap one line of text into pieces of at most ``width`` cells."""
    if not text:
        return [""]
    out, cur, used = [], [], 0
    for word in text.replace("\t", "    ").split(" "):
        w = _cells(word)
        while w > width:  # a word longer than the column: cut it
            if cur:
                out.append(" ".join(cur))
                cur, used = [], 0
            cut, acc = 0, 0
            while cut < len(word) and acc + _cells(word[cut]) <= width:
                acc += _cells(word[cut])
                cut += 1
            out.append(word[:cut])
            word, w = word[cut:], _cells(word[cut:])
        if cur and used + 1 + w > width:
            out.append(" ".join(cur))
            cur, used = [], 0
        cur.append(word)
        used += w + (1 if len(cur) > 1 else 0)   # leading spaces (empty words) count too
    if cur:
        out.append(" ".join(cur))
    return out or [""]


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _cells(text))


def _table(rows: list[list[str]], head: list[str], right: set[int]) -> list[str]:
    widths = [max(_cells(str(r[i])) for r in [head, *rows]) for i in range(len(head))]

    def fmt(r: list[str]) -> str:
        return "  ".join(str(c).rjust(widths[i]) if i in right else _pad(str(c), widths[i])
                         for i, c in enumerate(r)).rstrip()

    return [fmt(head), "  ".join("-" * w for w in widths), *map(fmt, rows)]


# -- --stats ------------------------------------------------------------------------------------------------
def show_stats(run_dir: Path, st: Style) -> list[str]:
    summary = load_summary(run_dir)
    plan = load_plan(run_dir)
    rows = funnel(summary, plan)
    read = summary.get("read", 0)
    out = [st.bold(f"run {run_dir}  ·  pipeline {summary.get('pipeline') or plan.get('pipeline_name', '?')}"
                   + ("" if summary.get("complete", True) else "  ·  INCOMPLETE")), ""]
    at_read = reader_drops(summary)
    table = [["(read)", f"{read:,}", f"{at_read:,}" if at_read else "", f"{read - at_read:,}" if at_read else "",
              f"{100 * at_read / read:.1f}%" if at_read and read else "", "", ""]]
    for r in rows:
        pct = 100 * r["dropped"] / r["in"] if r["in"] else 0.0
        share = 100 * r["out"] / read if read else 0.0
        table.append([r["step"], f"{r['in']:,}", f"{r['dropped']:,}", f"{r['out']:,}", f"{pct:.1f}%",
                      f"{share:.1f}%", f"{r['seconds']:,.2f}"])
    table.append(["(kept)", "", "", f"{summary.get('kept', 0):,}", "",
                  f"{100 * summary.get('kept', 0) / read:.1f}%" if read else "", ""])
    out += _table(table, ["step", "in", "dropped", "out", "dropped%", "out/read", "seconds"], {1, 2, 3, 4, 5, 6})
    mark = "ok" if summary.get("ok", summary.get("reconciled") and not summary.get("errors")) else "FAILED"
    out += ["", f"read {read:,} = kept {summary.get('kept', 0):,} + rejected {summary.get('rejected', 0):,} "
            f"+ errors {summary.get('errors', 0):,}  [{mark}]"]
    rank = {name: i for i, name in enumerate(step_order(summary, plan))}   # reader drops first
    reasons = sorted(summary.get("reasons", {}).items(),
                     key=lambda kv: (rank.get(kv[0].split(".")[0], -1), -kv[1]))
    if reasons:
        total = sum(v for _, v in reasons) or 1
        out += ["", st.bold("drop reasons")]
        out += _table([[k, f"{v:,}", f"{100 * v / total:.1f}%"] for k, v in reasons],
                      ["step.rule", "documents", "of drops"], {1, 2})
    langs = sorted(summary.get("languages", {}).items(), key=lambda kv: -kv[1])
    if langs:
        kept = summary.get("kept", 0) or 1
        shown = langs[:10]
        line = ", ".join(f"{k} {v:,} ({100 * v / kept:.1f}%)" for k, v in shown)
        more = f", +{len(langs) - 10} more" if len(langs) > 10 else ""
        out += ["", st.bold("languages of kept documents: ") + line + more]
    return out


# -- --id ---------------------------------------------------------------------------------------------------
def _reason_line(reason: dict[str, Any]) -> str:
    parts = [reason_key(reason)]
    for key in ("value", "threshold", "duplicate_of", "similarity"):
        if reason.get(key) is not None:
            parts.append(f"{key}={reason[key]}")
    return "  ".join(parts)


def _short_json(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header(doc: dict[str, Any], found_in: Path, st: Style) -> list[str]:
    reason = doc.get("reason")
    status = st.red("DROPPED  " + _reason_line(reason)) if reason else st.green("KEPT")
    out = [st.bold(f"document {doc.get('id')}"), f"  status  {status}"]
    for key in ("url", "source"):
        if doc.get(key):
            out.append(f"  {key:<7} {doc[key]}")
    out.append(f"  file    {found_in.parent.name}/{found_in.name}")
    return out


def _signals_meta(doc: dict[str, Any], width: int, st: Style) -> list[str]:
    out = []
    signals = doc.get("signals") or {}
    if signals:
        out += ["", st.bold("signals")]
        key_w = min(32, max(len(k) for k in signals))
        out += [f"  {k:<{key_w}}  {_short_json(v, width - key_w - 6)}" for k, v in sorted(signals.items())]
    meta = {k: v for k, v in (doc.get("meta") or {}).items() if k not in (MetaKey.REMOVED_LINES, MetaKey.CLEAN_LINES)}
    if meta:
        out += ["", st.bold("meta")]
        key_w = min(24, max(len(k) for k in meta))
        out += [f"  {k:<{key_w}}  {_short_json(v, width - key_w - 6)}" for k, v in sorted(meta.items())]
    return out


def _text_with_removed(doc: dict[str, Any], width: int, st: Style, max_lines: int | None) -> list[str]:
    """The text; with the clean step's labels, every line in page order, the removed ones marked with their
    label; otherwise the text, then the lines other steps removed, each with its rule."""
    meta = doc.get("meta") or {}
    labelled = meta.get(MetaKey.CLEAN_LINES)
    body_w = width - 4
    out: list[str] = []
    if labelled:
        out += ["", st.bold("page lines (clean step labels; '-' = not kept as body, with its label)")]
        for label, line in labelled:
            if label == "body":
                out += ["  │ " + piece for piece in _fit(line, body_w)]
            else:
                tag = f"[{label}] "
                pieces = _fit(tag + line, body_w)
                out += [st.red("- │ " + piece) for piece in pieces]
    text = doc.get("text") or ""
    out += ["", st.bold(f"text ({len(text):,} chars)" + (" as kept" if not doc.get("reason") else " when dropped"))]
    lines = text.split("\n")
    shown = lines if max_lines is None else lines[:max_lines]
    for line in shown:
        out += ["  │ " + piece for piece in _fit(line, body_w)]
    if len(shown) < len(lines):
        out.append(st.dim(f"  … {len(lines) - len(shown)} more lines (--full shows all)"))
    return out + _removed_block(doc, width, st)


def _removed_block(doc: dict[str, Any], width: int, st: Style) -> list[str]:
    """The lines steps removed (``meta.removed_lines``), each with its rule; blank ones only counted."""
    out: list[str] = []
    meta = doc.get("meta") or {}
    removed = [x for x in meta.get(MetaKey.REMOVED_LINES) or [] if isinstance(x, dict) and "line" in x]
    blank = sum(1 for x in removed if not str(x["line"]).strip())
    removed = [x for x in removed if str(x["line"]).strip()]
    if removed or blank:
        more = f", plus {blank} blank" if blank else ""
        out += ["", st.bold(f"removed lines: {len(removed)}{more}; each with the rule that removed it")]
    if removed:
        rule_w = max(len(f"{x.get('step')}.{x.get('rule')}") for x in removed)
        for x in removed:
            rule = f"{x.get('step')}.{x.get('rule')}"
            pieces = _fit(str(x["line"]), max(20, width - rule_w - 6))
            out.append(st.red(f"- {rule:<{rule_w}}  {pieces[0]}"))
            out += [st.red(f"  {'':<{rule_w}}  {p}") for p in pieces[1:]]
    return out


def side_by_side(left: str, right: str, left_title: str, right_title: str, width: int, st: Style) -> list[str]:
    """Two texts in two columns, lines aligned by a line diff; differing lines marked '≠', lines only on
    one side marked '<' or '>'."""
    col = (width - 5) // 2
    a, b = left.split("\n"), right.split("\n")
    out = [st.bold(_pad(left_title[:col], col)) + "  │ " + st.bold(right_title[:col]),
           "-" * col + "--+-" + "-" * col]
    n_diff = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        mark = {"equal": " ", "replace": "≠", "delete": "<", "insert": ">"}[tag]
        if tag != "equal":
            n_diff += max(i2 - i1, j2 - j1)
        for la, lb in zip_longest(a[i1:i2], b[j1:j2]):
            pa = _fit(la, col) if la is not None else []
            pb = _fit(lb, col) if lb is not None else []
            for ca, cb in zip_longest(pa, pb, fillvalue=""):
                row = _pad(ca, col) + f" {mark}│ " + cb
                out.append(row if tag == "equal" else st.yellow(row))
    out.append(st.dim(f"{n_diff} differing lines" if n_diff else "the texts are identical line by line"))
    return out


def show_doc(run_dir: Path, doc_id: str, st: Style, full: bool = False, nth: int = 1) -> tuple[list[str], int]:
    found = [(printable(d), p) for d, p in find_docs(run_dir, doc_id)]
    if not found:
        return [f"thresher inspect: no document with id {doc_id!r} in {run_dir}/kept or rejected"], 1
    if not 1 <= nth <= len(found):
        return [f"thresher inspect: --nth {nth}: {len(found)} documents have id {doc_id!r}"], 1
    doc, path = found[nth - 1]
    width = _width()
    out = _header(doc, path, st)
    if len(found) > 1:
        where = ", ".join(f"#{i} {p.parent.name}/{p.name}" + (" (dropped)" if d.get("reason") else " (kept)")
                          for i, (d, p) in enumerate(found, 1))
        out.append(st.yellow(f"  note    {len(found)} documents have this id (the input repeats it): {where}; "
                             f"showing #{nth} (--nth N shows another)"))
    reason = doc.get("reason") or {}
    match_id = reason.get("duplicate_of")
    if match_id is not None:
        match = find_doc(run_dir, match_id)
        match = (printable(match[0]), match[1]) if match is not None else None
        out += _signals_meta(doc, width, st)
        if match is None:
            out += ["", st.red(f"the matched document {match_id!r} is not in kept/ or rejected/")]
            out += _text_with_removed(doc, width, st, None if full else 40)
        else:
            mdoc, mpath = match
            where = "kept" if not mdoc.get("reason") else f"dropped later: {reason_key(mdoc['reason'])}"
            sim = f"  similarity {reason['similarity']}" if reason.get("similarity") is not None else ""
            out += ["", st.bold(f"duplicate of {match_id} ({where}, {mpath.parent.name}/{mpath.name}){sim}")]
            if mdoc.get("url"):
                out.append(f"  matched url  {mdoc['url']}")
            out.append("")
            text_a, text_b = doc.get("text") or "", mdoc.get("text") or ""
            if not full:
                text_a, text_b = ("\n".join(t.split("\n")[:60]) for t in (text_a, text_b))
            out += side_by_side(text_a, text_b, f"this document: {doc.get('id')}", f"matched: {match_id}",
                                width, st)
            out += _removed_block(doc, width, st)
        return out, 0
    out += _signals_meta(doc, width, st)
    out += _text_with_removed(doc, width, st, None if full else 60)
    return out, 0


# -- --reason -----------------------------------------------------------------------------------------------
def show_reason(run_dir: Path, rule: str, n: int, seed: int, st: Style) -> tuple[list[str], int]:
    width = _width()
    docs, total = sample_reason(run_dir, rule, n, seed)
    docs = printable(docs)
    out: list[str] = []
    if total:
        out.append(st.bold(f"{len(docs)} of {total:,} documents dropped by {rule!r} (uniform sample, seed {seed})"))
        for doc in docs:
            out += ["", st.red(f"● {doc.get('id')}  {_reason_line(doc.get('reason') or {})}")]
            if doc.get("url"):
                out.append(f"  {doc['url']}")
            lines = (doc.get("text") or "").split("\n")
            for line in lines[:8]:
                out += ["  │ " + p for p in _fit(line, width - 4)[:3]]
            if len(lines) > 8:
                out.append(st.dim(f"  … {len(lines) - 8} more lines: thresher inspect {shlex.quote(str(run_dir))} --id {shlex.quote(str(doc.get('id')))}"))
    # a full "step.rule" key of a document drop names no line rule: skip the scan of kept/ for lines
    doc_rule = "." in rule and rule in load_summary(run_dir).get("reasons", {})
    lines_found, n_lines = ([], 0) if doc_rule else sample_removed_lines(run_dir, rule, n, seed)
    lines_found = printable(lines_found)
    if n_lines:
        out += ["", st.bold(f"{len(lines_found)} of {n_lines:,} lines removed by {rule!r} (uniform sample, "
                            f"seed {seed})")]
        id_w = min(28, max(len(str(x.get("id"))) for x in lines_found))
        for x in lines_found:
            rule_name = f"{x.get('step')}.{x.get('rule')}"
            pieces = _fit(str(x["line"]), max(20, width - id_w - len(rule_name) - 6))
            out.append(f"  {str(x.get('id'))[:id_w]:<{id_w}}  {st.red(rule_name)}  {pieces[0]}")
            out += [f"  {'':<{id_w}}  {'':<{len(rule_name)}}  {p}" for p in pieces[1:]]
    if not total and not n_lines:
        summary = load_summary(run_dir)
        known = sorted(summary.get("reasons", {}))
        return [f"thresher inspect: no document or line removed by {rule!r}; drop reasons in this run: "
                + (", ".join(known) or "none")], 1
    return out, 0


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="thresher inspect", description=(
        "Why a document was kept or dropped, examples of one rule's removals, or the funnel as a table. "
        "Looking a document up by id scans the run's output files (kept/, then rejected/)."))
    parser.add_argument("run_dir", metavar="RUN_DIR")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--id", help="show one document: status, reason, signals, meta, text with removed lines; "
                      "a duplicate side by side with the document it matched")
    what.add_argument("--reason", metavar="RULE", help="show examples of one rule's removals: 'step.rule', "
                      "a rule name, or a step name (documents and removed lines)")
    what.add_argument("--stats", action="store_true", help="the funnel, drop reasons and languages as tables")
    parser.add_argument("--sample", type=int, default=5, metavar="N", help="with --reason: how many (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="with --reason: the sample's random seed")
    parser.add_argument("--full", action="store_true", help="with --id: the whole text, not its first lines")
    parser.add_argument("--nth", type=int, default=1, metavar="K",
                        help="with --id, when the input repeats an id: show the K-th document (default 1)")
    parser.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    args = parser.parse_args(argv)

    run_dir = Path(args.run_dir)
    if not (run_dir / "stats").is_dir():
        print(f"thresher inspect: {run_dir} is not a run directory (no stats/)", file=sys.stderr)
        return 2
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    st = Style(color)
    if args.stats:
        lines, rc = show_stats(run_dir, st), 0
    elif args.id is not None:
        lines, rc = show_doc(run_dir, args.id, st, args.full, args.nth)
    else:
        lines, rc = show_reason(run_dir, args.reason, max(1, args.sample), args.seed, st)
    try:
        print("\n".join(lines), file=sys.stdout if rc == 0 else sys.stderr)
        sys.stdout.flush()
    except BrokenPipeError:   # `thresher inspect ... | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return rc


__all__ = ["cli", "side_by_side", "show_doc", "show_reason", "show_stats"]
