"""``tokens``: count each document's tokens with a tokenizer the user names; the run totals them.

``tokens: {tokenizer: PATH}``

- ``PATH`` ending in ``.json``: a Hugging Face ``tokenizer.json`` (the ``tokenizers`` library; the file
  every model on the Hub ships), e.g. a Llama or GPT-NeoX tokenizer.
- ``PATH`` ending in ``.tiktoken``: a tiktoken BPE file the user has locally, named after its encoding
  (``cl100k_base.tiktoken``, ``o200k_base.tiktoken``, ...): the name gives tiktoken's split pattern and
  special tokens, the file the merges; nothing is downloaded.

Needs the ``tokens`` extra. The count (no special tokens added: the text's own tokens) goes to
``signals["tokens"]`` (``signal:`` names another key, for a second tokenizer). The engine totals
``signals["tokens"]`` over the run: tokens counted (``read``: each document's first count), ``kept``,
and ``dropped`` by each later step, in ``stats/summary.json``, the report and the run's closing lines. A
document dropped before the ``tokens`` step has no count, and none is invented: put ``tokens`` right after
extraction to count the whole input. A step that edits text after ``tokens`` leaves the count as it was
(put a second ``tokens`` step after it to count the new text: ``kept`` then uses the new count).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from thresher.document import Document
from thresher.steps import MapStep

TOKENS = "tokens"   # the signal the engine totals


def _hf_counter(path: Path):
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise ImportError("a tokenizer.json needs the tokens extra: pip install 'thresher[tokens]'") from None
    tokenizer = Tokenizer.from_file(str(path))

    def count(texts: list[str]) -> list[int]:
        return [len(enc.ids) for enc in tokenizer.encode_batch_fast(texts, add_special_tokens=False)]

    return count


def _tiktoken_counter(path: Path):
    try:
        import tiktoken
        import tiktoken.load
        import tiktoken_ext.openai_public as public
    except ImportError:
        raise ImportError("a .tiktoken file needs the tokens extra: pip install 'thresher[tokens]'") from None
    name = path.name.removesuffix(".tiktoken")
    if name not in public.ENCODING_CONSTRUCTORS:
        raise ValueError(f"{path}: a .tiktoken file must be named after its encoding "
                         f"({', '.join(sorted(public.ENCODING_CONSTRUCTORS))}), to know its split pattern")
    # tiktoken's constructor gives the pattern and special tokens and loads the merges from a URL: point
    # that load at the local file instead (and skip the URL file's hash, so a user's own copy is accepted).
    original = public.load_tiktoken_bpe
    public.load_tiktoken_bpe = lambda _url, expected_hash=None: tiktoken.load.load_tiktoken_bpe(str(path))
    try:
        spec = public.ENCODING_CONSTRUCTORS[name]()
    finally:
        public.load_tiktoken_bpe = original
    encoding = tiktoken.Encoding(**spec)

    def count(texts: list[str]) -> list[int]:
        return [len(ids) for ids in encoding.encode_ordinary_batch(texts, num_threads=1)]

    return count


def token_counter(tokenizer: str | Path):
    """``count(texts) -> [n_tokens, ...]`` for a ``tokenizer.json`` or a ``NAME.tiktoken`` file."""
    path = Path(tokenizer).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"tokenizer not found: {path} (a tokenizer.json or NAME.tiktoken file)")
    if path.suffix == ".tiktoken":
        return _tiktoken_counter(path)
    if path.suffix == ".json":
        return _hf_counter(path)
    raise ValueError(f"{path}: not a tokenizer.json or a NAME.tiktoken file")


class Tokens(MapStep):
    """Count tokens into ``signals["tokens"]`` (module docstring)."""

    name: ClassVar[str] = "tokens"

    def __init__(self, tokenizer: str, signal: str = TOKENS) -> None:
        self.tokenizer = str(tokenizer)
        self.signal = signal
        self._count: Any = None

    def signal_fields(self) -> dict[str, Any]:
        return {self.signal: int}

    def setup(self) -> None:
        if self._count is None:
            self._count = token_counter(self.tokenizer)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_count": None}

    def map(self, doc: Document) -> Document:
        return self.process_batch([doc])[0]

    def process_batch(self, docs: list[Document]) -> list[Document]:
        self.setup()
        counts = self._count([doc.text for doc in docs])   # all counted before any document is changed
        for doc, n in zip(docs, counts):
            doc.signals[self.signal] = n
        return docs
