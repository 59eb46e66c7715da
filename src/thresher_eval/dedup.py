"""``thresher eval dedup --data DIR``: quality of ``minhash_dedup``.

1. Clough & Stevenson (``DIR/neardup/``): 95 short answers, each written from one of 5 source texts with
   a reuse level (cut: copy-paste, light / heavy: paraphrased, non: written independently). The sources
   and answers are deduplicated together, sources first; an answer counts as flagged when it is removed
   as a duplicate of its own source. Per level: the flagged rate (recall for cut/light/heavy, false
   positive rate for non); overall precision/recall with cut+light and with cut+light+heavy as positives.
2. Synthetic (``DIR/wcxb-dev/ground-truth``): real page texts (>= 100 words) as sources; for each edit
   kind (adjacent word swaps, random word insertions, deletions, boilerplate lines added) and edit rate
   (fraction of the source's word count), one edited copy per source. Each (kind, rate) is a separate
   dedup of sources + copies: recall = copies removed as duplicates of their own source. False positives:
   sources removed (as duplicates of another source) in a dedup of the sources alone, and copies matched
   to a wrong source.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
from pathlib import Path

import orjson

from thresher.dedup.hashing import shingle_hashes
from thresher.dedup.minhash import MinHashDedup
from thresher.document import Document
from thresher.runner import run_global_step

EDIT_KINDS = ("swap", "insert", "delete", "boilerplate")
EDIT_RATES = (0.01, 0.03, 0.05, 0.1, 0.2, 0.3)

# typical site chrome, as added around the main text by bad extraction
BOILERPLATE = [
    "Home | About us | Contact | Privacy policy | Terms of use",
    "We use cookies to improve your experience on our website. By continuing to browse, you agree to our use of cookies.",
    "Share this article on Facebook Twitter LinkedIn Email",
    "Subscribe to our newsletter to get the latest updates delivered straight to your inbox.",
    "Copyright 2024 All rights reserved.",
    "Related posts you might also like",
    "Leave a comment Cancel reply Your email address will not be published. Required fields are marked",
    "Skip to main content Menu Search",
    "Follow us on social media for news, offers and more",
    "Previous article Next article",
    "Sign in Register Forgot your password?",
    "Advertisement Continue reading below",
]


def mutate(text: str, kind: str, rate: float, rng: random.Random, vocab: list[str]) -> str:
    """An edited copy of ``text``: ``round(rate * words)`` edits of ``kind`` (at least one)."""
    words = text.split()
    n = max(1, round(rate * len(words)))
    if kind == "swap":
        for _ in range(n):
            i = rng.randrange(max(1, len(words) - 1))
            if i + 1 < len(words):
                words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)
    if kind == "insert":
        for _ in range(n):
            words.insert(rng.randrange(len(words) + 1), rng.choice(vocab))
        return " ".join(words)
    if kind == "delete":
        for _ in range(min(n, len(words) - 1)):
            del words[rng.randrange(len(words))]
        return " ".join(words)
    if kind == "boilerplate":
        head, tail, added = [], [], 0
        while added < n:
            line = rng.choice(BOILERPLATE)
            (head if rng.random() < 0.5 else tail).append(line)
            added += len(line.split())
        return "\n".join([*head, text, *tail])
    raise ValueError(f"unknown edit kind {kind!r}")


def load_wcxb_texts(data: Path, min_words: int = 100, limit: int | None = None) -> list[tuple[str, str]]:
    """(id, main content) of the wcxb-dev ground truths with at least ``min_words`` words, in file order."""
    out = []
    for path in sorted((data / "wcxb-dev" / "ground-truth").glob("*.json")):
        record = orjson.loads(path.read_bytes())
        text = (record.get("ground_truth") or {}).get("main_content") or ""
        if len(text.split()) >= min_words:
            out.append((f"wcxb-{path.stem}", text))
            if limit and len(out) >= limit:
                break
    return out


def _dedup(step_params: dict, docs: list[Document]) -> dict[str, Document]:
    with tempfile.TemporaryDirectory(prefix="thresher-eval-dedup-") as tmp:
        run_global_step(MinHashDedup(**step_params), {"00000": docs}, Path(tmp))
    return {d.id: d for d in docs}


def _true_jaccard(docs: list[Document], level: dict[str, tuple[str, str]], ngram: int) -> dict[str, float]:
    """Exact Jaccard of each answer's shingle set with its source's (the quantity MinHash estimates)."""
    hashes, off, _ = shingle_hashes([d.text for d in docs], ngram)
    sets = {d.id: set(hashes[off[i]:off[i + 1]].tolist()) for i, d in enumerate(docs)}
    out = {}
    for name, (_, src) in level.items():
        a, b = sets[name], sets[src]
        out[name] = len(a & b) / len(a | b) if a | b else 0.0
    return out


def eval_neardup(data: Path, params: dict) -> dict:
    folder = data / "neardup"
    with open(folder / "file_information.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh)]
    docs = [Document(id=f"orig_task{t}", text=(folder / f"orig_task{t}.txt").read_text(errors="replace"))
            for t in "abcde"]
    level = {}
    for r in rows:
        if r["Category"] == "orig":
            continue
        docs.append(Document(id=r["File"], text=(folder / r["File"]).read_text(errors="replace")))
        level[r["File"]] = (r["Category"], f"orig_task{r['Task']}")
    true_sim = _true_jaccard(docs, level, params.get("ngram", 5))
    out = _dedup(params, docs)
    table = {}
    for lv in ("cut", "light", "heavy", "non"):
        names = [f for f, (c, _) in level.items() if c == lv]
        flagged = [f for f in names if out[f].reason and out[f].reason.duplicate_of == level[f][1]]
        any_removed = [f for f in names if out[f].reason]
        sims = [out[f].reason.similarity for f in flagged]
        table[lv] = {"n": len(names), "flagged": len(flagged), "rate": len(flagged) / len(names),
                     "removed_any": len(any_removed),
                     "mean_similarity_flagged": sum(sims) / len(sims) if sims else None,
                     "mean_true_jaccard": sum(true_sim[f] for f in names) / len(names)}

    def pr(positive: set[str]) -> dict:
        tp = sum(table[lv]["flagged"] for lv in positive)
        fp = sum(table[lv]["flagged"] for lv in table if lv not in positive)
        pos = sum(table[lv]["n"] for lv in positive)
        return {"precision": tp / (tp + fp) if tp + fp else None, "recall": tp / pos}

    return {"levels": table, "cut+light": pr({"cut", "light"}), "cut+light+heavy": pr({"cut", "light", "heavy"})}


def eval_synthetic(data: Path, params: dict, n_sources: int, seed: int = 0) -> dict:
    sources = load_wcxb_texts(data, limit=n_sources)
    vocab = sorted({w for _, t in sources for w in t.split()})
    base_docs = [Document(id=i, text=t) for i, t in sources]
    base = _dedup(params, base_docs)
    fp_sources = sorted(i for i, d in base.items() if d.reason)
    results = {}
    for kind in EDIT_KINDS:
        for rate in EDIT_RATES:
            rng = random.Random(f"{seed}-{kind}-{rate}")
            docs = [Document(id=i, text=t) for i, t in sources]
            copies = [Document(id=f"{i}~{kind}{rate}", text=mutate(t, kind, rate, rng, vocab)) for i, t in sources]
            out = _dedup(params, docs + copies)
            hits = wrong = 0
            for c in copies:
                r = out[c.id].reason
                if r is not None and r.duplicate_of == c.id.split("~")[0]:
                    hits += 1
                elif r is not None:
                    wrong += 1
            results[f"{kind}@{rate}"] = {"kind": kind, "rate": rate, "recall": hits / len(copies),
                                          "wrong_source": wrong}
    return {"sources": len(sources), "false_positive_sources": len(fp_sources),
            "false_positive_rate": len(fp_sources) / len(sources), "false_positive_ids": fp_sources,
            "by_edit": results}


def format_report(neardup: dict | None, synthetic: dict | None, params: dict) -> str:
    lines = [f"minhash_dedup settings: {params}"]
    if neardup:
        lines += ["", "Clough & Stevenson near-duplicates (answer removed as a duplicate of its own source)",
                  "| level | answers | flagged | rate | mean est. similarity (flagged) | mean true Jaccard |",
                  "|---|---|---|---|---|---|"]
        for lv, row in neardup["levels"].items():
            sim = f"{row['mean_similarity_flagged']:.3f}" if row["mean_similarity_flagged"] is not None else "-"
            lines.append(f"| {lv} | {row['n']} | {row['flagged']} | {row['rate']:.3f} | {sim} | "
                         f"{row['mean_true_jaccard']:.3f} |")
        for key in ("cut+light", "cut+light+heavy"):
            p, r = neardup[key]["precision"], neardup[key]["recall"]
            lines.append(f"positives = {key}: precision {p if p is None else round(p, 3)}, recall {r:.3f}")
    if synthetic:
        lines += ["", f"Synthetic near-duplicates of {synthetic['sources']} real wcxb-dev texts: recall per edit rate",
                  "| edit | " + " | ".join(f"{r:g}" for r in EDIT_RATES) + " |",
                  "|---|" + "---|" * len(EDIT_RATES)]
        for kind in EDIT_KINDS:
            cells = [f"{synthetic['by_edit'][f'{kind}@{r}']['recall']:.3f}" for r in EDIT_RATES]
            lines.append(f"| {kind} | " + " | ".join(cells) + " |")
        wrong = sum(v["wrong_source"] for v in synthetic["by_edit"].values())
        lines.append(f"false positives on true non-duplicates: {synthetic['false_positive_sources']} of "
                     f"{synthetic['sources']} sources ({synthetic['false_positive_rate']:.4f}); "
                     f"copies matched to a wrong source: {wrong}")
    return "\n".join(lines)


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="thresher eval dedup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path("..") / "shared" / "data"))
    parser.add_argument("--ngram", type=int, default=5)
    parser.add_argument("--bands", type=int, default=14)
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--sources", type=int, default=500, help="wcxb-dev texts used as sources")
    parser.add_argument("--only", choices=["neardup", "synthetic"], default=None)
    parser.add_argument("--json", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    data = Path(args.data)
    params = {"ngram": args.ngram, "bands": args.bands, "rows": args.rows}
    if not (data / "neardup").is_dir() and not (data / "wcxb-dev").is_dir():
        print(f"thresher eval dedup: no neardup/ or wcxb-dev/ under {data}", file=sys.stderr)
        return 2
    neardup = eval_neardup(data, params) if args.only != "synthetic" else None
    synthetic = eval_synthetic(data, params, args.sources) if args.only != "neardup" else None
    print(format_report(neardup, synthetic, params))
    if args.json:
        Path(args.json).write_bytes(orjson.dumps({"params": params, "neardup": neardup, "synthetic": synthetic},
                                                 option=orjson.OPT_INDENT_2))
    return 0
