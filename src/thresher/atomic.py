"""Files written whole or not at all: a temporary name (unique per process), then a rename. Every phase of
a run may be killed at any point, and a reader must never see half a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import orjson


def tmp_path(path: Path) -> Path:
    """Where ``path`` is written before its rename: hidden, and unique per process, so that two processes
    never write the same temporary file. A killed process's leftovers end in ``.tmp``; the next run of the
    run directory removes them (``thresher.rundir.RunDir.remove_stale_tmp``)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_json(path: Path, data: Any) -> None:
    tmp = tmp_path(path)
    # NON_STR_KEYS: pipeline specs may have integer keys (e.g. n-gram sizes)
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return orjson.loads(Path(path).read_bytes())


def save_array(path: Path, arr: np.ndarray) -> None:
    tmp = tmp_path(path)
    with open(tmp, "wb") as fh:
        np.save(fh, arr)
    os.replace(tmp, path)
