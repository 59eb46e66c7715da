"""Training and evaluation of thresher's components, kept out of the product: ``thresher run`` and the
``thresher`` package never import this one, so the product installs without scikit-learn, lightgbm or
jusText. Needs the ``eval`` extra (``pip install 'thresher[eval]'``).

- ``thresher eval NAME``: the evaluators below, each a module with ``cli(argv) -> int``;
- ``python -m thresher_eval.train_clean`` / ``python -m thresher_eval.train_extract``: retrain the models
  shipped in ``thresher/models/``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable

# name -> ("module:function", the modules of the eval extra it cannot run without)
EVALUATORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "clean": ("thresher_eval.clean:cli", ("sklearn", "justext")),
    "dedup": ("thresher_eval.dedup:cli", ()),
    "extract": ("thresher_eval.extract:cli", ("lightgbm", "trafilatura")),
    "lid": ("thresher_eval.lid:cli", ()),
    "multilingual": ("thresher_eval.multilingual:cli", ()),
    "quality": ("thresher_eval.quality:cli", ()),
}

# import name -> the distribution the eval extra installs it from
_DISTRIBUTIONS = {"sklearn": "scikit-learn", "justext": "jusText", "lightgbm": "lightgbm", "trafilatura": "trafilatura"}


def require(prog: str, modules: Iterable[str]) -> bool:
    """True when every module can be imported; otherwise says on stderr which extra installs them.
    Checked before any work, so that a missing package costs a line, not a traceback minutes in."""
    missing = [_DISTRIBUTIONS.get(m, m) for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        print(f"{prog}: needs {', '.join(missing)}, which the eval extra installs: pip install 'thresher[eval]'",
              file=sys.stderr)
    return not missing
