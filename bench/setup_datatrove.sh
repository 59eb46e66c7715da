#!/usr/bin/env bash
# Build a datatrove reference venv that runs offline, for the benchmarks in bench/.
#
#   bench/setup_datatrove.sh VENV_DIR LID_MODEL_PATH
#
# VENV_DIR: where to create the venv (kept apart from thresher's: datatrove pins trafilatura<1.12
# and xxhash<4). LID_MODEL_PATH: a fastText lid.176 model (.bin or the quantised .ftz, e.g.
# ../shared/data/lid/lid.176.ftz); it is placed where datatrove's LanguageFilter looks, so that no
# download is attempted. Needs only PyPI. See bench/README.md for why each piece is there.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 VENV_DIR LID_MODEL_PATH" >&2
    exit 2
fi
VENV_DIR=$1
LID_MODEL=$2
PYTHON=${PYTHON:-python3}

[ -f "$LID_MODEL" ] || { echo "no such model file: $LID_MODEL" >&2; exit 1; }

"$PYTHON" -m venv "$VENV_DIR"
"$VENV_DIR/bin/pip" install --quiet --upgrade pip
# [io]: warcio, faust-cchardet, python-magic (WarcReader), orjson (Jsonl reader/writer).
# [processing]: trafilatura<1.12, fasttext-numpy2-wheel, xxhash<4, ...
# lxml_html_clean: trafilatura 1.x imports lxml.html.clean (else every page fails, silently).
# spacy: word tokeniser of the Gopher/C4/FineWeb filters and MinHash (spacy.blank, no model needed).
# aiohttp: fsspec's http backend (only used if a download is attempted).
"$VENV_DIR/bin/pip" install --quiet 'datatrove[io,processing]' lxml_html_clean spacy aiohttp

# Place the language-ID model where FT176LID's cached_asset_path_or_download looks, with the
# ".completed" marker that datatrove's safely_create_file checks before downloading.
TARGET=$("$VENV_DIR/bin/python" - <<'EOF'
import os
from huggingface_hub import cached_assets_path
from datatrove.io import strip_protocol
from datatrove.utils.lid import FT176LID
folder = cached_assets_path(library_name="datatrove", namespace="lid", subfolder=FT176LID.MODEL_SUBFOLDER)
print(os.path.join(folder, strip_protocol(FT176LID.MODEL_URL).replace("/", "_")))
EOF
)
mkdir -p "$(dirname "$TARGET")"
install -m 0644 "$LID_MODEL" "$TARGET"
touch "$TARGET.completed"
echo "lid model: $TARGET"

# Check that what the benchmarks use imports and that the model loads offline.
"$VENV_DIR/bin/python" - <<'EOF'
import spacy
from datatrove.data import Document
from datatrove.pipeline.extractors import Trafilatura  # noqa: F401
from datatrove.pipeline.readers import WarcReader  # noqa: F401
from datatrove.utils.lid import FT176LID
import lxml_html_clean  # noqa: F401

spacy.blank("en")
lang, _ = FT176LID(["en"]).predict(Document(text="This is an English sentence.", id="0"))
assert lang[0] == "en", lang
print("datatrove venv OK")
EOF
