"""thresher: raw web crawls in, clean deduplicated explainable text out."""

from thresher.document import Document, Reason
from thresher.pipeline import Pipeline, load_pipeline

__version__ = "0.1.0"
__all__ = ["Document", "Reason", "Pipeline", "load_pipeline", "__version__"]
