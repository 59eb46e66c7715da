"""Evaluators behind ``thresher eval NAME``: each is a module with ``cli(argv) -> int``."""

# name -> "module:function"
EVALUATORS: dict[str, str] = {
    "clean": "thresher.eval.clean:cli",
    "dedup": "thresher.eval.dedup:cli",
    "extract": "thresher.eval.extract:cli",
    "lid": "thresher.eval.lid:cli",
    "multilingual": "thresher.eval.multilingual:cli",
    "quality": "thresher.eval.quality:cli",
}
