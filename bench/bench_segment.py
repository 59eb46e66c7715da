"""Word segmenters for scripts without spaces: speed and agreement on real Chinese pages.

    python bench/bench_segment.py [DATA_DIR] [--pages 300]

Chinese: the first ``--pages`` of hplt-sample100's 1,000 Chinese warc2text pages. Candidates: ICU's
dictionary word breaker (``icu4py``, thresher's choice), ``rjieba`` (jieba-rs binding), ``jieba`` (the
segmenter datatrove's Chinese tokenizer uses: the reference for agreement), and thresher's character
fallback. Agreement: F1 of word boundaries against jieba's (whitespace tokens dropped by every
segmenter). Speed: CPU characters/s, each segmenter over the same pages in one process, one after the
other. Candidates that are not installed are skipped (run it in a venv with ``icu4py rjieba jieba``).
Also ICU's speed on Japanese and Thai (lingua-py sentences).
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import io
import sys
import time
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from thresher.filters.scripts import character_words  # noqa: E402


def chinese_pages(data: Path, n: int) -> list[str]:
    path = next((data / "crawl" / "hplt-sample100" / "stats" / "zh").glob("*.tsv.zst"))
    out = []
    with open(path, "rb") as f:
        for line in io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8", errors="replace"):
            out.append(base64.b64decode(line.rstrip("\n").split("\t", 1)[1]).decode("utf-8", "replace"))
            if len(out) >= n:
                break
    return out


def boundaries(words: list[str]) -> set[int]:
    out, pos = set(), 0
    for w in words:
        out.add(pos)
        pos += len(w)
        out.add(pos)
    return out


def f1(pred: list[list[str]], ref: list[list[str]]) -> float:
    tp = fp = fn = 0
    for p, r in zip(pred, ref, strict=True):
        bp, br = boundaries(p), boundaries(r)
        tp, fp, fn = tp + len(bp & br), fp + len(bp - br), fn + len(br - bp)
    return 2 * tp / (2 * tp + fp + fn)


def segmenters(locale: str) -> dict[str, object]:
    out: dict[str, object] = {}
    if importlib.util.find_spec("icu4py"):
        from icu4py.breakers import WordBreaker
        out["icu (icu4py)"] = lambda t: [w for w in WordBreaker(t, locale) if not w.isspace()]
    if locale == "zh" and importlib.util.find_spec("rjieba"):
        import rjieba
        out["rjieba"] = lambda t: [w for w in rjieba.cut(t) if not w.isspace()]
    if locale == "zh" and importlib.util.find_spec("jieba"):
        import jieba
        jieba.setLogLevel(60)
        jieba.initialize()
        out["jieba"] = lambda t: [w for w in jieba.cut(t) if not w.isspace()]
    out["character fallback"] = lambda t: [w for w in character_words(t) if not w.isspace()]
    return out


def measure(texts: list[str], locale: str) -> dict[str, tuple[float, list[list[str]]]]:
    out = {}
    for name, seg in segmenters(locale).items():
        start = time.process_time()
        words = [seg(t) for t in texts]
        out[name] = (sum(map(len, texts)) / (time.process_time() - start), words)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", default="../shared/data")
    ap.add_argument("--pages", type=int, default=300)
    args = ap.parse_args()
    data = Path(args.data)
    pages = chinese_pages(data, args.pages)
    res = measure(pages, "zh")
    ref = res.get("jieba", (0, None))[1]
    print(f"Chinese: {len(pages)} pages, {sum(map(len, pages)):,} characters\n")
    print("| segmenter | characters/s (CPU) | word-boundary F1 vs jieba | characters per word |")
    print("|---|---:|---:|---:|")
    for name, (speed, words) in res.items():
        agree = f"{f1(words, ref):.3f}" if ref is not None else "-"
        n_words = sum(map(len, words))
        print(f"| {name} | {speed:,.0f} | {agree} | {sum(map(len, pages)) / max(1, n_words):.2f} |")
    for code, locale in (("ja", "ja"), ("th", "th")):
        path = data / "lid" / "lingua-sentences" / f"{code}.txt"
        if path.is_file() and importlib.util.find_spec("icu4py"):
            texts = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            speed, words = measure(texts, locale)["icu (icu4py)"]
            print(f"\n{code}: ICU {speed:,.0f} characters/s on {len(texts)} sentences, "
                  f"{sum(map(len, texts)) / sum(map(len, words)):.2f} characters per word")


if __name__ == "__main__":
    main()
