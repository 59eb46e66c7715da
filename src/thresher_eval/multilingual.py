"""``thresher eval multilingual``: what the ``multilingual`` preset does to each language of a crawl.

Data: hplt-sample100 (``../shared/data/crawl/hplt-sample100``): ``two/sample100/{CC,wide}/N.html`` are
real pages, and line N-1 of ``{CC,wide}.zst`` holds HPLT's language label for page N (``zho_Hans``...).
Optionally ``--zh-pages N``: the first N of its 1,000 Chinese warc2text pages (page text with boilerplate,
through ``clean``), and the English warc2text pages of the same 200 (``N.warc2text``) to compare with.

For each page, in one process: extract -> clean -> lid (FineWeb-2 codes) -> language_filter (FineWeb-2
thresholds) -> multilingual_quality, as the preset runs them. Reported per language (HPLT's label):

- pages, kept (passing every step), kept rate, the top drop reason;
- main text lost: the extracted text is empty, or is not in the label's script;
- each quality rule's drop rate (the rule broken, whichever rule came first) next to English's, and every
  rule whose rate is more than 2x English's (and above 10%) on a language with at least 5 pages.
"""

from __future__ import annotations

import argparse
import base64
import io
import random
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import zstandard

from thresher.document import Document
from thresher.filters.multilingual import MultilingualQuality
from thresher.filters.scripts import detect_script
from thresher.pipeline import make_step

# HPLT labels name Chinese by its written form; thresher's script signal calls both Hani
_SCRIPT_OF_LABEL = {"Hans": "Hani", "Hant": "Hani"}


def _pages(root: Path, ending: str) -> list[tuple[str, str, Path]]:
    """(HPLT's label, page id, file) of the 200 pages' ``N{ending}`` files (``.html``, ``.warc2text``)."""
    out = []
    base = root / "two" / "sample100"
    for part in ("CC", "wide"):
        with open(base / f"{part}.zst", "rb") as f:
            lines = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8",
                                     errors="replace").read().splitlines()
        for i, line in enumerate(lines):
            page = base / part / f"{i + 1}{ending}"
            if page.is_file():
                out.append((orjson.loads(line).get("lang") or "none", f"{part}-{i + 1}", page))
    return out


def _labelled_pages(root: Path) -> list[tuple[str, str, bytes]]:
    """(label, page id, HTML) for the 200 pages."""
    return [(label, pid, page.read_bytes()) for label, pid, page in _pages(root, ".html")]


def _text_pages(root: Path, zh_pages: int) -> list[tuple[str, str, str]]:
    """(label, id, page text): English warc2text pages of the 200, and the first ``zh_pages`` Chinese ones."""
    out = [(label, pid, page.read_text(encoding="utf-8", errors="replace"))
           for label, pid, page in _pages(root, ".warc2text") if label == "eng_Latn"]
    zh = next((root / "stats" / "zh").glob("*.tsv.zst"), None)
    if zh is not None and zh_pages:
        with open(zh, "rb") as f:
            for n, line in enumerate(io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f),
                                                      encoding="utf-8", errors="replace")):
                if n >= zh_pages:
                    break
                _url, b64 = line.rstrip("\n").split("\t", 1)
                out.append(("zho_Hans", f"zh-{n}", base64.b64decode(b64).decode("utf-8", "replace")))
    return out


def evaluate(docs: list[tuple[str, Document]]) -> dict[str, Any]:
    """Run the preset's per-document steps over (label, document) pairs; the per-language table."""
    steps = [make_step("extract"), make_step("clean"), make_step("lid", {"labels": "iso639-3"}),
             make_step("language_filter", {"languages": None, "min_score": "fineweb2"}),
             make_step("multilingual_quality")]
    for step in steps:
        step.setup()
    quality: MultilingualQuality = steps[-1]
    rows: dict[str, dict[str, Any]] = defaultdict(lambda: {"pages": 0, "kept": 0, "lost": 0, "reasons": Counter(),
                                                           "reached_quality": 0, "rules": Counter()})
    for label, doc in docs:
        row = rows[label]
        row["pages"] += 1
        extracted = None
        for step in steps:
            if step is quality and doc.reason is None:
                row["reached_quality"] += 1
            doc = step.process(doc)
            if step.name == "clean":
                extracted = doc.text
            if doc.reason is not None:
                break
        want = label.rpartition("_")[2]
        if not extracted or not extracted.strip() or (
                want and label != "none" and detect_script(extracted) != _SCRIPT_OF_LABEL.get(want, want)):
            row["lost"] += 1
        if doc.reason is None:
            row["kept"] += 1
        else:
            row["reasons"][doc.reason.key] += 1
            if doc.reason.step == quality.name:
                row["rules"][doc.reason.rule] += 1
    return {label: {**r, "reasons": dict(r["reasons"]), "rules": dict(r["rules"])} for label, r in rows.items()}


def flags(table: dict[str, Any], reference: str = "eng_Latn", min_pages: int = 5) -> list[str]:
    """Rules whose drop rate on a language is over 2x the reference's (and over 10%)."""
    ref = table.get(reference)
    if not ref or not ref["reached_quality"]:
        return []
    out = []
    for label, row in sorted(table.items()):
        if label == reference or row["reached_quality"] < min_pages:
            continue
        for rule, n in sorted(row["rules"].items()):
            rate = n / row["reached_quality"]
            ref_rate = ref["rules"].get(rule, 0) / ref["reached_quality"]
            if rate > 0.1 and rate > 2 * ref_rate:
                out.append(f"{label}: {rule} drops {rate:.0%} of pages reaching the quality step "
                           f"({n}/{row['reached_quality']}), {reference} {ref_rate:.0%}")
    return out


def print_table(table: dict[str, Any], out=sys.stdout) -> None:
    print("| language | pages | kept | kept rate | main text lost | top drop reason |", file=out)
    print("|---|---:|---:|---:|---:|---|", file=out)
    for label, r in sorted(table.items(), key=lambda kv: (-kv[1]["pages"], kv[0])):
        top = max(r["reasons"].items(), key=lambda kv: (kv[1], kv[0]))[0] if r["reasons"] else ""
        print(f"| {label} | {r['pages']} | {r['kept']} | {r['kept'] / r['pages']:.0%} | {r['lost']} | {top} |",
              file=out)


def rule_table(table: dict[str, Any], labels: list[str], out=sys.stdout) -> None:
    rules = sorted({rule for label in labels for rule in table[label]["rules"]})
    print("| rule | " + " | ".join(f"{lb} (n={table[lb]['reached_quality']})" for lb in labels) + " |", file=out)
    print("|---|" + "---:|" * len(labels), file=out)
    for rule in rules:
        cells = [f"{table[lb]['rules'].get(rule, 0) / max(1, table[lb]['reached_quality']):.1%}" for lb in labels]
        print(f"| {rule} | " + " | ".join(cells) + " |", file=out)


NEARDUP_LANGS = {"en": "Latn", "ru": "Cyrl", "zh": "Hani", "ja": "Jpan", "th": "Thai"}
NEARDUP_EDITS = ("swap", "insert", "delete")
NEARDUP_RATES = (0.01, 0.03, 0.05, 0.1)


def _edited(words: list[str], kind: str, rate: float, rng: random.Random, vocab: list[str]) -> list[str]:
    words = list(words)
    for _ in range(max(1, round(rate * len(words)))):
        i = rng.randrange(max(1, len(words) - 1))
        if kind == "swap" and i + 1 < len(words):
            words[i], words[i + 1] = words[i + 1], words[i]
        elif kind == "insert":
            words.insert(i, rng.choice(vocab))
        elif kind == "delete" and len(words) > 1:
            del words[i]
    return words


def neardup_recall(sentences_dir: Path, docs_per_lang: int = 40, sentences_per_doc: int = 12,
                   seed: int = 0) -> dict[str, dict[str, float]]:
    """MinHash recall on edited copies, per script, with the same documents, edits and settings.

    Per language of ``NEARDUP_LANGS``: ``docs_per_lang`` source documents of ``sentences_per_doc`` real
    sentences (lingua-py's); for each edit kind and rate (a fraction of the document's words: its
    segmenter's words for an unspaced script), one edited copy per source. Recall = copies removed as
    duplicates of their own source, by ``minhash_dedup`` (5-word shingles, 14 x 8) with ``meta.script``
    set (the segmenter's shingles) and, for comparison, without it (shingles of the raw text: one "word"
    per run of unspaced text, thresher's behaviour before)."""
    from icu4py.breakers import WordBreaker

    from thresher.dedup.minhash import MinHashDedup
    from thresher.filters.scripts import UNSPACED
    from thresher.runner import run_global_step

    out: dict[str, dict[str, float]] = {}
    for code, script in NEARDUP_LANGS.items():
        lines = [ln.strip() for ln in (sentences_dir / f"{code}.txt").read_text(encoding="utf-8").splitlines()
                 if ln.strip()]
        joiner = "" if script in ("Hani", "Jpan", "Thai") else " "
        sources = [joiner.join(lines[i * sentences_per_doc:(i + 1) * sentences_per_doc])
                   for i in range(docs_per_lang)]
        # edit units: the segmenter's words, whitespace kept as units of its own (joined back with no
        # separator), so an edited copy keeps its spaces; spaced scripts: whitespace words
        source_words = ([list(WordBreaker(t, UNSPACED[script])) for t in sources] if joiner == ""
                        else [t.split() for t in sources])
        vocab = [w for ws in source_words for w in ws if not w.isspace() and (len(w) > 1 or joiner == "")]
        for with_script in (True, False):
            rng = random.Random(seed)   # the same edits with and without the segmenter
            hits: Counter[float] = Counter()
            total: Counter[float] = Counter()
            for kind in NEARDUP_EDITS:
                for rate in NEARDUP_RATES:
                    docs = [Document(id=f"s{i}", text=t) for i, t in enumerate(sources)]
                    docs += [Document(id=f"c{i}", text=joiner.join(_edited(ws, kind, rate, rng, vocab)))
                             for i, ws in enumerate(source_words)]
                    for d in docs:
                        d.meta["language"] = code
                        if with_script:
                            d.meta["script"] = script
                    with tempfile.TemporaryDirectory() as tmp:
                        run_global_step(MinHashDedup(), {"00000": docs}, Path(tmp))
                    for d in docs[docs_per_lang:]:
                        total[rate] += 1
                        hits[rate] += d.reason is not None and d.reason.duplicate_of == "s" + d.id[1:]
            for rate in NEARDUP_RATES:
                key = f"{'segmented' if with_script else 'raw_text'} {rate:.0%}"
                out.setdefault(code, {})[key] = round(hits[rate] / total[rate], 3)
    return out


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="thresher eval multilingual", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="the hplt-sample100 folder")
    ap.add_argument("--zh-pages", type=int, default=0,
                    help="also run N of the 1,000 Chinese warc2text pages, and the English warc2text pages")
    ap.add_argument("--neardup", metavar="SENTENCES_DIR",
                    help="instead: MinHash near-duplicate recall per script on edited copies of documents made "
                         "of lingua-py sentences (../shared/data/lid/lingua-sentences)")
    ap.add_argument("--json", help="write the tables here")
    args = ap.parse_args(argv)
    if args.neardup:
        recall = neardup_recall(Path(args.neardup))
        keys = list(next(iter(recall.values())))
        print("Recall (copies found as duplicates of their source), by share of words edited; 'segmented': "
              "shingles of the script's words (meta.script set), 'raw_text': of the text as it is\n")
        print("| language (script) | " + " | ".join(keys) + " |")
        print("|---|" + "---:|" * len(keys))
        for code, r in recall.items():
            print(f"| {code} ({NEARDUP_LANGS[code]}) | " + " | ".join(f"{r[k]:.3f}" for k in keys) + " |")
        if args.json:
            Path(args.json).write_bytes(orjson.dumps(recall, option=orjson.OPT_INDENT_2))
        return 0
    root = Path(args.data)
    pages = _labelled_pages(root)
    html = evaluate([(label, Document(id=pid, text="", raw=raw)) for label, pid, raw in pages])
    print(f"## {len(pages)} HTML pages, multilingual preset (extract -> clean -> lid -> language_filter -> "
          "multilingual_quality)\n")
    print_table(html)
    print("\nRules dropping a language's pages at over 2x English's rate:")
    for line in flags(html) or ["(none)"]:
        print("  " + line)
    result = {"html": html}
    if args.zh_pages:
        text = evaluate([(label, Document(id=pid, text=t)) for label, pid, t in _text_pages(root, args.zh_pages)])
        print(f"\n## page text (warc2text, boilerplate included): English vs {args.zh_pages} Chinese pages\n")
        print_table(text)
        print()
        rule_table(text, [lb for lb in ("eng_Latn", "zho_Hans") if lb in text])
        print("\nRules dropping Chinese pages at over 2x English's rate:")
        for line in flags(text) or ["(none)"]:
            print("  " + line)
        result["text"] = text
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0
