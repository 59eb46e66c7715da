"""The rule steps against their own earlier implementation: exactly the same decisions, and how much faster.

    python bench/bench_rules.py [--data ../shared/data] [--out bench/out/rules] [--rounds 3] [--limit N]
                                [--baseline COMMIT]

The baseline is the rule code as it was at ``COMMIT`` (default: the commit before issue 17), read from git
(``git show COMMIT:src/thresher/filters/*.py``) into a temporary package, so no frozen copy lives in the
repository; the ``Document``/``Step`` classes are today's (their interfaces did not change).

Corpus: bench/bench_filters.py's (every WCXB dev page as main-content and whole-page text, plus the HPLT
crawl sample's warc2text texts: 3,194 documents, cached in OUT/corpus.jsonl).

Parity: each step runs on its own fresh copy of every document, baseline and current; a document agrees when
the reason (step, rule, value, threshold), every signal and the text it leaves are equal.

Speed: CPU time (``time.process_time``) of each step over all documents, in rounds that alternate which side
runs first; one process, so both sides see the same machine. Two settings:

- ``alone``: the step on fresh documents (it pays for the tokenisation it needs);
- ``chain``: the FineWeb filter chain (Gopher repetition -> Gopher quality -> C4 in FineWeb's setting ->
  FineWeb quality) as a pipeline runs it, in batches of 32 documents, each step's time counted apart: the
  old code's 16-entry statistics cache made Gopher quality tokenise again what Gopher repetition had.

Results: a markdown table on stdout, OUT/results.{md,json}.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_filters import build_corpus  # noqa: E402
from common import fmt_table  # noqa: E402

from thresher.document import Document  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "45acdcffd6163820c6a63b617dc39993eb16763e"  # main before issue 17
MODULES = ("text", "gopher", "c4", "fineweb", "refinedweb")
# (name in the table, module, class, parameters)
STEPS = [
    ("gopher_repetition", "gopher", "GopherRepetition", {}),
    ("gopher_quality", "gopher", "GopherQuality", {}),
    ("c4_lines (C4)", "c4", "C4Lines", {}),
    ("c4_lines (FineWeb)", "c4", "C4Lines", {"filter_no_terminal_punct": False}),
    ("fineweb_quality", "fineweb", "FineWebQuality", {}),
    ("refinedweb_quality", "refinedweb", "RefinedWebQuality", {}),
    ("refinedweb_lines", "refinedweb", "RefinedWebLines", {}),
]
CHAIN = [0, 1, 3, 4]  # indexes into STEPS: FineWeb's filter chain
BATCH = 32


def load_baseline(commit: str, tmp: Path) -> dict[str, object]:
    """The rule modules as they were at ``commit``, importable as ``thresher_baseline.<module>``."""
    pkg = tmp / "thresher_baseline"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in MODULES:
        src = subprocess.run(["git", "show", f"{commit}:src/thresher/filters/{name}.py"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        (pkg / f"{name}.py").write_text(src.replace("thresher.filters.", "thresher_baseline."))
    sys.path.insert(0, str(tmp))
    return {name: importlib.import_module(f"thresher_baseline.{name}") for name in MODULES}


def current() -> dict[str, object]:
    return {name: importlib.import_module(f"thresher.filters.{name}") for name in MODULES}


def make_steps(modules: dict[str, object]) -> list:
    return [getattr(modules[mod], cls)(**params) for _, mod, cls, params in STEPS]


def fresh(docs: list[dict]) -> list[Document]:
    return [Document(id=d["id"], text=d["text"]) for d in docs]


def outcome(doc: Document) -> tuple:
    reason = doc.reason.to_dict() if doc.reason else None
    return reason, json.dumps(doc.signals, sort_keys=True), doc.text


def parity(docs: list[dict], old: list, new: list) -> list[list[object]]:
    rows = []
    for (name, *_), a, b in zip(STEPS, old, new, strict=True):
        same = dropped_old = dropped_new = 0
        for d in docs:
            x, y = outcome(a.process(fresh([d])[0])), outcome(b.process(fresh([d])[0]))
            same += x == y
            dropped_old += x[0] is not None
            dropped_new += y[0] is not None
        rows.append([name, len(docs), same, f"{same / len(docs):.2%}", dropped_old, dropped_new])
    chain_same = 0
    old_out, new_out = run_chain(docs, [old[i] for i in CHAIN]), run_chain(docs, [new[i] for i in CHAIN])
    for x, y in zip(old_out[1], new_out[1], strict=True):
        chain_same += outcome(x) == outcome(y)
    rows.append(["FineWeb chain", len(docs), chain_same, f"{chain_same / len(docs):.2%}",
                 sum(d.reason is not None for d in old_out[1]), sum(d.reason is not None for d in new_out[1])])
    return rows


def time_alone(step, docs: list[dict]) -> float:
    batch = fresh(docs)
    start = time.process_time()
    for doc in batch:
        step.process(doc)
    return time.process_time() - start


def run_chain(docs: list[dict], steps: list) -> tuple[list[float], list[Document]]:
    """Batches of 32 through the steps in turn, as the engine does; CPU seconds per step, documents out."""
    seconds = [0.0] * len(steps)
    out = fresh(docs)
    for lo in range(0, len(out), BATCH):
        live = out[lo:lo + BATCH]
        for i, step in enumerate(steps):
            start = time.process_time()
            for doc in live:
                step.process(doc)
            seconds[i] += time.process_time() - start
            live = [doc for doc in live if doc.reason is None]
    return seconds, out


def speed(docs: list[dict], old: list, new: list, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """{setting/step: [(baseline s, current s) per round]}."""
    times: dict[str, list[tuple[float, float]]] = {}
    for r in range(rounds):
        sides = [("old", old), ("new", new)] if r % 2 == 0 else [("new", new), ("old", old)]
        got: dict[str, dict[str, float]] = {"old": {}, "new": {}}
        for side, steps in sides:
            for (name, *_), step in zip(STEPS, steps, strict=True):
                got[side][f"alone: {name}"] = time_alone(step, docs)
            secs, _ = run_chain(docs, [steps[i] for i in CHAIN])
            for i, s in zip(CHAIN, secs, strict=True):
                got[side][f"chain: {STEPS[i][0]}"] = s
            got[side]["chain: total"] = sum(secs)
        for key in got["old"]:
            times.setdefault(key, []).append((got["old"][key], got["new"][key]))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "rules")
    ap.add_argument("--baseline", default=BASELINE)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--speed-limit", type=int, help="documents timed (default: all)")
    args = ap.parse_args(argv)
    docs = build_corpus(args.data, args.out / "corpus.jsonl", args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        old, new = make_steps(load_baseline(args.baseline, Path(tmp))), make_steps(current())
        par = parity(docs, old, new)
        times = speed(docs[:args.speed_limit] if args.speed_limit else docs, old, new, args.rounds)
    speed_rows = []
    for key, pairs in times.items():
        ratios = [o / n if n else float("inf") for o, n in pairs]
        speed_rows.append([key, statistics.median(o for o, _ in pairs), statistics.median(n for _, n in pairs),
                           statistics.median(ratios), ", ".join(f"{x:.2f}" for x in ratios)])
    md = ("Parity (baseline " + args.baseline[:10] + " vs current)\n\n"
          + fmt_table(["step", "docs", "identical", "share", "dropped (baseline)", "dropped (current)"], par)
          + "\n\nSpeed: CPU seconds over the corpus (median of rounds); x = baseline / current\n\n"
          + fmt_table(["setting: step", "baseline s", "current s", "x faster (median)", "x per round"],
                      speed_rows) + "\n")
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(md)
    (args.out / "results.json").write_text(json.dumps({"parity": par, "times": times}, indent=1))
    return 0 if all(row[2] == row[1] for row in par) else 1


if __name__ == "__main__":
    sys.exit(main())
