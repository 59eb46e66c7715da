"""``thresher eval lid``: sentence-level language-ID accuracy per language, per backend, side by side.

Data: a folder of ``<code>.txt`` files, one sentence per line, the code being the true language (the
lingua-py test sentences: ``../shared/data/lid/lingua-sentences``). Each backend runs through the ``lid``
step's own ``detect`` (so the figures include the character cleaning users get), one sentence at a time
on one core. A prediction is right when its normalised code equals the file's code.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import orjson

from thresher.filters.lang import LanguageID, normalize_code


def load_sentences(data: Path, limit: int | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted(data.glob("*.txt")):
        if len(path.stem) > 3:   # LICENSE.txt and other non-language files
            continue
        code = normalize_code(path.stem)
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()]
        lines = [ln for ln in lines if ln]
        out[code] = lines[:limit] if limit else lines
    return out


def backend_codes(step: LanguageID) -> set[str]:
    """The codes a backend can answer, normalised (to tell 'wrong' from 'not supported')."""
    if step.backend == "cld2":
        import pycld2

        return {normalize_code(code) for _name, code in pycld2.LANGUAGES}
    step.setup()
    labels, _ = step._impl.model.predict("language", k=1000)
    return {normalize_code(lab) for lab in labels}


def evaluate(step: LanguageID, sentences: dict[str, list[str]]) -> dict:
    step.setup()
    detect = step.detect
    predictions: dict[str, list[str]] = {}
    start = time.perf_counter()
    for code, lines in sentences.items():
        predictions[code] = [detect(line)[0] for line in lines]
    seconds = time.perf_counter() - start
    per_lang = {code: sum(p == code for p in preds) / len(preds) if preds else 0.0
                for code, preds in predictions.items()}
    # the three labels each language is most often mistaken for (bs -> hr, ms -> id, nb -> da ...)
    confusions = {code: Counter(p for p in preds if p != code).most_common(3) for code, preds in predictions.items()}
    n_total = sum(len(preds) for preds in predictions.values())
    return {"per_language": per_lang, "confusions": confusions, "sentences": n_total, "seconds": seconds,
            "sentences_per_s": n_total / seconds if seconds else 0.0}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _fasttext_installed() -> bool:
    try:
        import fasttext  # noqa: F401
    except ImportError:
        return False
    return True


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="thresher eval lid", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/lid/lingua-sentences"),
                        help="folder of <code>.txt files, one sentence per line")
    parser.add_argument("--fasttext-model", type=Path, default=None,
                        help="lid.176 .bin/.ftz; default: lid.176.ftz next to --data if it exists")
    parser.add_argument("--no-fasttext", action="store_true", help="evaluate cld2 only")
    parser.add_argument("--limit", type=int, default=None, help="sentences per language (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    if not args.data.is_dir():
        print(f"no such data folder: {args.data}", file=sys.stderr)
        return 2
    sentences = load_sentences(args.data, args.limit)
    if not sentences:
        print(f"no <code>.txt files in {args.data}", file=sys.stderr)
        return 2

    steps = {"cld2": LanguageID(backend="cld2")}
    model = args.fasttext_model or args.data.parent / "lid.176.ftz"
    if not args.no_fasttext:
        if not _fasttext_installed():  # a core install: fastText is an extra
            if args.fasttext_model:
                print("thresher eval lid: --fasttext-model needs the fasttext extra: "
                      "pip install 'thresher[fasttext]'", file=sys.stderr)
                return 2
            print("fastText is not installed (pip install 'thresher[fasttext]'): evaluating cld2 only",
                  file=sys.stderr)
        elif model.is_file():
            steps["fasttext"] = LanguageID(backend="fasttext", model_path=str(model))
        elif args.fasttext_model:
            print(f"fastText model not found: {model}", file=sys.stderr)
            return 2

    results = {name: evaluate(step, sentences) for name, step in steps.items()}
    supported = {name: backend_codes(step) for name, step in steps.items()}
    names = list(steps)
    langs = sorted(sentences)

    print(f"Language ID on {args.data} ({len(langs)} languages, "
          f"{sum(len(v) for v in sentences.values())} sentences)")
    if "fasttext" in steps:
        print(f"fastText model: {model}")
    print("'-' marks a language the backend cannot answer (counted as 0 in the all-language average)\n")
    print("| lang | n | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for lang in langs:
        cells = []
        for name in names:
            acc = results[name]["per_language"][lang]
            cells.append(f"{acc:.3f}" if lang in supported[name] else f"- ({acc:.3f})")
        print(f"| {lang} | {len(sentences[lang])} | " + " | ".join(cells) + " |")

    common = [lang for lang in langs if all(lang in supported[n] for n in names)]
    summary = {}
    for name in names:
        per = results[name]["per_language"]
        summary[name] = {
            "macro_all": _mean([per[lang] for lang in langs]),
            "macro_supported": _mean([per[lang] for lang in langs if lang in supported[name]]),
            "macro_common": _mean([per[lang] for lang in common]),
            "n_supported": sum(1 for lang in langs if lang in supported[name]),
            "sentences_per_s": results[name]["sentences_per_s"],
        }
    print(f"| **macro avg, all {len(langs)}** | | "
          + " | ".join(f"**{summary[n]['macro_all']:.3f}**" for n in names) + " |")
    print("| macro avg, languages the backend supports | | "
          + " | ".join(f"{summary[n]['macro_supported']:.3f} ({summary[n]['n_supported']})" for n in names) + " |")
    print(f"| macro avg, {len(common)} languages all backends support | | "
          + " | ".join(f"{summary[n]['macro_common']:.3f}" for n in names) + " |")
    print("| sentences/s (one core) | | "
          + " | ".join(f"{summary[n]['sentences_per_s']:,.0f}" for n in names) + " |")

    if args.json:
        args.json.write_bytes(orjson.dumps({"data": str(args.data), "results": results, "summary": summary,
                                            "common_languages": common}, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli(sys.argv[1:]))
