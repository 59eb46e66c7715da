"""Build src/thresher/lang_data/fineweb2.json.gz from FineWeb-2's per-language configs (run by hand).

    python scripts/build_lang_data.py ../shared/data/fineweb2-configs

Source: huggingface/fineweb-2 @ d0defb24, ``configs/{iso3}_{Script}.yml`` and
``fineweb2-language-distribution.csv`` (Apache-2.0; the licence is copied next to the output). Only the
published values are carried over (thresholds, stop words); no code. Also writes the ISO 639-1 -> 639-3
table (from pycountry, needed only here) that maps cld2's and lid.176's labels onto FineWeb-2's codes.
"""

from __future__ import annotations

import csv
import glob
import gzip
import json
import shutil
import sys
from pathlib import Path

import pycountry
import yaml

# Macrolanguages whose ISO 639-1 code names the macrolanguage while FineWeb-2 (GlotLID) labels one of its
# individual languages: the individual language with FineWeb-2's data for it.
MACRO = {"zh": "cmn", "ar": "arb", "fa": "fas", "tl": "fil", "kg": "kng", "sc": "srd", "et": "ekk", "lv": "lvs", "ms": "zsm", "ne": "npi", "az": "azj",
         "uz": "uzn", "mn": "khk", "sw": "swh", "mg": "plt", "om": "gaz", "yi": "ydd", "sq": "als", "nb": "nob",
         "no": "nob", "ku": "kmr", "ps": "pbt", "or": "ory", "gn": "gug", "qu": "quy", "kok": "gom", "ms-latn": "zsm",
         "bh": "bho", "ff": "fuv", "ik": "esk", "iu": "ike", "kr": "knc", "kv": "kpv", "lah": "pnb", "oc": "oci",
         "sh": "hrv", "tw": "twi", "ay": "ayr", "cr": "crk", "din": "dik", "ak": "twi"}


def main(src: str) -> None:
    root = Path(src)
    out_dir = Path(__file__).resolve().parent.parent / "src" / "thresher" / "lang_data"
    languages = {}
    for path in sorted(glob.glob(str(root / "configs" / "*.yml"))):
        cfg = yaml.safe_load(open(path, encoding="utf-8"))
        languages[Path(path).stem] = {
            "language_score": cfg["language_score"],
            "dup_line_frac": cfg["dup_line_frac"],
            "top_n_grams": {str(n): v for n, v in cfg["top_n_grams"]},
            "dup_n_grams": {str(n): v for n, v in cfg["dup_n_grams"]},
            "line_punct_thr": cfg["line_punct_thr"],
            "new_line_ratio": cfg["new_line_ratio"],
            "min_avg_word_length": cfg["min_avg_word_length"],
            "max_avg_word_length": cfg["max_avg_word_length"],
            "max_non_alpha_words_ratio": cfg["max_non_alpha_words_ratio"],
            "stopwords": cfg["stopwords"],
        }
    # each language's main script: the subset with the most words in FineWeb-2
    words: dict[str, tuple[int, str]] = {}
    with open(root / "fineweb2-language-distribution.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["split"] != "train" or row["subset"].endswith("_removed") or row["words"] in ("", "-"):
                continue
            n = int(row["words"])
            if n > words.get(row["code"], (-1, ""))[0]:
                words[row["code"]] = (n, row["script"])
    main_script = {code: script for code, (_, script) in sorted(words.items())}
    iso1 = {}
    for lang in pycountry.languages:
        a2 = getattr(lang, "alpha_2", None)
        if a2:
            iso1[a2] = MACRO.get(a2, lang.alpha_3)
    iso1.update({k: v for k, v in MACRO.items() if "-" not in k})
    missing = sorted(k for k, v in iso1.items() if v not in main_script)
    print(f"{len(languages)} languages; ISO 639-1 codes without FineWeb-2 data: {missing}", file=sys.stderr)
    data = {"source": "huggingface/fineweb-2 @ d0defb24 configs/ (Apache-2.0), built by scripts/build_lang_data.py",
            "iso639_1": dict(sorted(iso1.items())), "main_script": main_script, "languages": languages}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # mtime 0: the same configs give the same bytes
    (out_dir / "fineweb2.json.gz").write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    shutil.copy(root / "LICENSE", out_dir / "FINEWEB2-LICENSE")


if __name__ == "__main__":
    main(sys.argv[1])
