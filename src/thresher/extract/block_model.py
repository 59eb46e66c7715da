"""Block features and the block classifier of the ``thresher`` extract backend.

Features of a block (``feature_names()``), computed for all blocks of a batch of pages in numpy:

- its text, as the ``clean`` step reads a line of page text: the line featurizer's features of the block
  (words, stop words, punctuation, case, position, neighbours; ``lines.py``, with the shipped line model's
  vocabulary). What works on plain page text is shared, not redone. (The line model's *scores* are not
  used: it was trained on the same pages, and its scores would leak labels into cross-validation);
- its markup: the kind of element that holds it, what it is inside (``<nav>``, ``<footer>``, a
  ``class="comment"``...; ``blocks.py``), depth, link density, heading level, and the size and link density
  of the nearest classed container (a content column holds many words and few links);
- the page's declarations (``head.py``): its JSON-LD type (article, product, forum posting...) and how
  much of the block the declared ``articleBody`` or product description holds;
- windows of its neighbours' link density and scores.

The classifier is a gradient-boosted tree ensemble (trained by ``thresher_eval.train_extract``), stored as
flat arrays in an ``.npz`` file and evaluated by numpy: every tree of the ensemble descends one level per
step for every block at once, so the cost is a few array operations per level of depth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import chain
from pathlib import Path

import numpy as np

from thresher.extract.blocks import CLASS_FLAGS, KINDS, TAG_FLAGS, Blocks
from thresher.extract.head import Head
from thresher.extract.lines import LineFeaturizer, _window_means, stage2_inputs

PAGE_TYPES = {  # JSON-LD @type -> the page kind it declares
    "article": ("article", "newsarticle", "blogposting", "reportagenewsarticle", "techarticle",
                "scholarlyarticle", "report", "analysisnewsarticle", "opinionnewsarticle", "liveblogposting"),
    "product": ("product", "offer", "aggregateoffer", "productgroup", "book", "softwareapplication"),
    "forum": ("discussionforumposting", "qapage", "question", "answer", "comment", "socialmediaposting"),
    "listing": ("itemlist", "collectionpage", "searchresultspage", "offercatalog"),
    "service": ("service", "localbusiness", "organization", "faqpage", "howto", "recipe", "event",
                "course", "jobposting"),
}
_TOKEN = re.compile(r"\w+")
MARKUP = (["log_depth", "rel_depth", "link_density", "log_links", "heading_level", "log_para_blocks",
           "log_container_blocks", "log_container_chars", "container_link_density", "log_chars_raw"]
          + [f"kind_{k}" for k in KINDS] + [f"in_{t}" for t in TAG_FLAGS]
          + [f"cls_{c}" for c in CLASS_FLAGS] + [f"near_{c}" for c in CLASS_FLAGS])
DECLARED = (["has_article_body", "in_article_body", "in_description", "og_article"]
            + [f"ld_{t}" for t in PAGE_TYPES])
PAGE = ["log_n_blocks", "log_page_chars", "page_link_density"]
# Where the page's prose lives: the smallest subtree holding 80% (50%) of the non-link text of blocks of
# eight words or more, and the text and links of the block's own element, parent and grandparent.
SUBTREE = (["in_prose80", "in_prose50", "prose_depth_gap"]
           + [f"{a}_{f}" for a in ("own", "parent", "grand")
              for f in ("log_chars", "link_density", "prose_share", "log_blocks")])
N_PAGE_FEATURES = len(MARKUP) + len(DECLARED) + len(PAGE) + len(SUBTREE)
CONTEXT = ["link_density", "near_nav", "near_content", "cls_comment", "kind_heading"]
CONTEXT_WINDOWS = [(-1, -1), (1, 1), (-3, -1), (1, 3), (-10, 10)]


def feature_names() -> list[str]:
    from thresher.extract.lines import feature_names as line_features

    return (["line_" + f for f in line_features(1)] + MARKUP + DECLARED + PAGE + SUBTREE
            + [f"{f}@{a}:{b}" for a, b in CONTEXT_WINDOWS for f in CONTEXT])


def _bits(values: list[int], n: int) -> np.ndarray:
    """Bit flags -> a (n, len) 0/1 matrix."""
    v = np.asarray(values, dtype=np.int64)
    return ((v[None, :] >> np.arange(n)[:, None]) & 1).astype(np.float32)


def _overlap(texts: list[str], reference: str | None) -> np.ndarray:
    """Per block, the share of its words found in ``reference`` (a declared article body)."""
    out = np.zeros(len(texts), dtype=np.float32)
    if not reference:
        return out
    vocab = set(_TOKEN.findall(reference.lower()))
    for i, text in enumerate(texts):
        words = _TOKEN.findall(text.lower())
        if words:
            out[i] = sum(w in vocab for w in words) / len(words)
    return out


def _segment_sum(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per element, the sum of ``values`` over the elements that share its id."""
    _, inverse = np.unique(ids, return_inverse=True)
    return np.bincount(inverse, weights=values)[inverse]


def _subtree_features(blocks: Blocks, chars: np.ndarray, link: np.ndarray) -> np.ndarray:
    n = len(chars)
    paths = blocks.path
    lens = np.fromiter(map(len, paths), dtype=np.int64, count=n)
    flat = np.fromiter(chain.from_iterable(paths), dtype=np.int64, count=int(lens.sum()))
    owner = np.repeat(np.arange(n), lens)
    ends = np.cumsum(lens)
    level = np.arange(len(flat)) - np.repeat(ends - lens, lens)  # depth of each path entry
    nodes, inv = np.unique(flat, return_inverse=True)
    words = np.fromiter((t.count(" ") + 1 for t in blocks.texts), dtype=np.float64, count=n)
    prose = np.where(words >= 8, chars - link, 0.0)
    node_prose = np.bincount(inv, weights=prose[owner], minlength=len(nodes))
    node_chars = np.bincount(inv, weights=chars[owner], minlength=len(nodes))
    node_link = np.bincount(inv, weights=link[owner], minlength=len(nodes))
    node_blocks = np.bincount(inv, minlength=len(nodes)).astype(np.float64)
    node_level = np.zeros(len(nodes))
    node_level[inv] = level
    total = max(float(prose.sum()), 1.0)
    out = []
    best_level = []
    for share in (0.8, 0.5):
        # nodes holding that share form a chain from the root: the deepest is the smallest subtree
        held = np.flatnonzero(node_prose >= share * total)
        best = held[np.argmax(node_level[held])] if len(held) else 0
        best_level.append(node_level[best])
        out.append(np.bincount(owner, weights=(inv == best), minlength=n) > 0)
    own_level = (lens - 1).astype(np.float64)
    out.append(own_level - best_level[0])
    for up in (1, 2, 3):  # the block's own element, its parent, its grandparent
        pos = np.maximum(ends - up, ends - lens)
        node = inv[pos]
        out += [np.log1p(node_chars[node]), node_link[node] / np.maximum(node_chars[node], 1),
                node_prose[node] / total, np.log1p(node_blocks[node])]
    return np.asarray(out, dtype=np.float32)


def page_features(blocks: Blocks, head: Head) -> np.ndarray:
    """Markup, declaration and page features of one page's blocks (columns in the order of the names)."""
    n = len(blocks.texts)
    if n == 0:
        return np.zeros((N_PAGE_FEATURES, 0), dtype=np.float32)
    chars = np.fromiter(map(len, blocks.texts), dtype=np.float64, count=n)
    link = np.asarray(blocks.link_chars, dtype=np.float64)
    depth = np.asarray(blocks.depths, dtype=np.float64)
    para = np.asarray(blocks.paragraph, dtype=np.int64)
    cont = np.asarray(blocks.container, dtype=np.int64)
    ones = np.ones(n)
    cont_chars = _segment_sum(chars, cont)
    cols = [
        np.log1p(depth), depth - np.median(depth), link / np.maximum(chars, 1),
        np.log1p(np.asarray(blocks.links, dtype=np.float64)), np.asarray(blocks.heading_level, dtype=np.float64),
        np.log1p(_segment_sum(ones, para)), np.log1p(_segment_sum(ones, cont)), np.log1p(cont_chars),
        _segment_sum(link, cont) / np.maximum(cont_chars, 1), np.log1p(chars),
    ]
    kinds = np.zeros((len(KINDS), n), dtype=np.float32)
    kinds[np.asarray(blocks.kinds, dtype=np.int64), np.arange(n)] = 1.0
    types = head.types
    declared = [np.full(n, float(bool(head.article_body))), _overlap(blocks.texts, head.article_body),
                _overlap(blocks.texts, head.description),
                np.full(n, float(head.meta.get("og:type", "").lower() == "article"))]
    declared += [np.full(n, float(any(t in types for t in kinds_of))) for kinds_of in PAGE_TYPES.values()]
    total = chars.sum()
    page = [np.full(n, np.log1p(n)), np.full(n, np.log1p(total)), np.full(n, link.sum() / max(total, 1.0))]
    return np.vstack([np.asarray(cols, dtype=np.float32), kinds, _bits(blocks.tag_bits, len(TAG_FLAGS)),
                      _bits(blocks.class_bits, len(CLASS_FLAGS)), _bits(blocks.near_class_bits, len(CLASS_FLAGS)),
                      np.asarray(declared, dtype=np.float32), np.asarray(page, dtype=np.float32),
                      _subtree_features(blocks, chars, link)])


def featurize(pages: list[tuple[Blocks, Head]], lines: LineFeaturizer) -> tuple[np.ndarray, np.ndarray]:
    """The feature matrix (blocks x features, float32) of a batch of pages, and the page bounds."""
    batch = lines.featurize(["\n".join(b.texts) for b, _ in pages])
    own = [page_features(b, h) for b, h in pages]
    markup = np.hstack(own) if own else np.zeros((N_PAGE_FEATURES, 0), np.float32)
    if markup.shape[1] != len(batch.x):
        raise ValueError("block and line counts differ")  # a block text held a line break
    context_cols = [markup[MARKUP.index(name)] for name in CONTEXT]
    context = np.zeros((len(CONTEXT_WINDOWS) * len(CONTEXT), len(batch.x)), dtype=np.float32)
    if len(batch.x):
        _window_means(context_cols, batch.bounds, CONTEXT_WINDOWS, context)
    x = np.hstack([batch.x, markup.T, context.T]).astype(np.float32, copy=False)
    return x, batch.bounds


class TreeEnsemble:
    """A gradient-boosted ensemble of binary trees, as flat padded arrays (trees x nodes)."""

    # Rows are scored in chunks: a chunk's (rows x trees) node array stays in the CPU cache across the
    # levels (1.8x faster than one pass over every block of a batch: 150 WCXB pages, identical scores).
    CHUNK = 256

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        n_trees, width = arrays["feature"].shape
        self.n_trees = n_trees
        # node numbers made global (tree t's nodes at t * width ...); a leaf is its own child, so
        # descending past a leaf stays on it
        self.offset = (np.arange(n_trees) * width).astype(np.int32)
        self.feature = arrays["feature"].astype(np.int32).ravel()
        self.threshold = arrays["threshold"].astype(np.float64).ravel()
        # children interleaved, right then left, so one gather at 2 * node + (x <= threshold) descends
        # (a NaN compares False and goes right, as in training)
        self.children = np.empty(2 * n_trees * width, dtype=np.int32)
        self.children[0::2] = (arrays["right"] + self.offset[:, None]).ravel()
        self.children[1::2] = (arrays["left"] + self.offset[:, None]).ravel()
        self.value = arrays["value"].astype(np.float64).ravel()
        self.baseline = float(arrays["baseline"])
        self.depth = int(arrays["depth"])

    def decision(self, x: np.ndarray) -> np.ndarray:
        """The raw score (log-odds) of every row of ``x``."""
        x = np.ascontiguousarray(x, dtype=np.float32)  # compared in float64, as trained
        n, width = x.shape
        out = np.empty(n)
        for start in range(0, n, self.CHUNK):
            chunk = x[start:start + self.CHUNK]
            flat_x = chunk.ravel()
            rows = (np.arange(len(chunk), dtype=np.int32) * width)[:, None]
            node = np.broadcast_to(self.offset, (len(chunk), self.n_trees)).copy()  # node of each (row, tree)
            for _ in range(self.depth):
                go_left = flat_x[rows + self.feature[node]] <= self.threshold[node]
                node = self.children[2 * node + go_left]
            out[start:start + len(chunk)] = self.baseline + self.value[node].sum(axis=1)
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.decision(x)))


# ---------------------------------------------------------------- the page as a whole
# What kind of page this is (article, product, forum, listing...) decides which blocks are content. Each
# block also reads its page's vector: declared types, words of the URL path, and the page's shape. (A
# page-type classifier trained on WCXB's seven types, its probabilities as inputs instead, scored lower
# under cross-validation: 0.810 against 0.826 on fold 0; docs/extract.md.)
URL_WORDS = {
    "product": ("product", "products", "p", "dp", "item", "itm", "shop", "store", "buy", "sku", "gp"),
    "forum": ("forum", "forums", "thread", "threads", "topic", "topics", "t", "community", "discussion",
              "discussions", "questions", "question", "answers", "board", "r", "comments", "viewtopic"),
    "listing": ("category", "categories", "collections", "collection", "tag", "tags", "search", "list",
                "browse", "archive", "c", "s", "results", "catalog", "all"),
    "docs": ("docs", "doc", "documentation", "api", "guide", "guides", "reference", "manual", "wiki",
             "tutorial", "learn", "help", "kb", "support"),
    "article": ("blog", "news", "article", "articles", "story", "stories", "post", "posts", "opinion"),
}
_URL_WORD = {w: k for k, words in URL_WORDS.items() for w in words}
_URL_SPLIT = re.compile(r"[^a-z0-9]+").split
PAGE_VECTOR = (["og_article", "og_product"] + ["url_" + k for k in URL_WORDS]
               + ["url_year", "url_depth", "url_home", "prose_share", "log_max_words", "mean_words", "share_li",
                  "share_td", "log_headings"]
               + ["share_cls_" + c for c in ("comment", "forum", "product", "list", "content", "nav")])


def page_vector(blocks: Blocks, head: Head, url: str | None) -> np.ndarray:
    """What the page looks like as a whole (``PAGE_VECTOR``)."""
    og = head.meta.get("og:type", "").lower()
    path = url.split("://", 1)[-1].partition("/")[2].partition("?")[0].lower() if url else ""
    words = [w for w in _URL_SPLIT(path) if w]
    url_kind = {_URL_WORD.get(w) for w in words}
    n = len(blocks.texts)
    n_words = np.fromiter((t.count(" ") + 1 for t in blocks.texts), dtype=np.float64, count=n)
    chars = np.fromiter(map(len, blocks.texts), dtype=np.float64, count=n)
    link = np.asarray(blocks.link_chars, dtype=np.float64)
    kinds = np.asarray(blocks.kinds, dtype=np.int64)
    cls = np.asarray(blocks.class_bits, dtype=np.int64)
    total = max(chars.sum(), 1.0)
    out = [float(og == "article"), float("product" in og)]
    out += [float(k in url_kind) for k in URL_WORDS]
    out += [float(any(len(w) == 4 and w.isdigit() and w[:2] in ("19", "20") for w in words)), len(words),
            float(not words), ((chars - link) * (n_words >= 8)).sum() / total, np.log1p(n_words.max() if n else 0),
            n_words.mean() if n else 0.0, (kinds == 2).mean() if n else 0.0, (kinds == 4).mean() if n else 0.0,
            np.log1p((kinds == 3).sum())]
    out += [((cls >> CLASS_FLAGS.index(c)) & 1).mean() if n else 0.0
            for c in ("comment", "forum", "product", "list", "content", "nav")]
    return np.asarray(out, dtype=np.float32)


# ---------------------------------------------------------------- the two stages
# Stage 2 reads stage 1's scores around each block and these of its own features.
STAGE2_OWN = ["link_density", "kind_heading", "line_log_words", "near_content", "near_nav", "cls_comment",
              "in_article_body", "has_article_body", "log_container_chars", "heading_level", "in_prose80",
              "in_prose50", "parent_prose_share"] + \
             [f"ld_{t}" for t in PAGE_TYPES]


def stage2_features(p1: np.ndarray, x: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Stage 2's inputs: the windows of stage 1's P(body) (``lines.stage2_inputs``, shared with the
    ``clean`` model), a few of the block's own features and the page vector (the last columns of ``x``)."""
    probs = np.zeros((len(p1), 4), dtype=np.float32)
    probs[:, 1] = p1
    names = feature_names()
    own = x[:, [names.index(f) for f in STAGE2_OWN]]
    return np.hstack([stage2_inputs(probs, bounds), own, x[:, len(names):]]).astype(np.float32, copy=False)


def with_pages(x: np.ndarray, bounds: np.ndarray, pages: np.ndarray) -> np.ndarray:
    """Block features with their page's vector appended."""
    return np.hstack([x, np.repeat(pages, np.diff(bounds), axis=0)]).astype(np.float32, copy=False)


@dataclass
class BlockModel:
    stage1: TreeEnsemble
    stage2: TreeEnsemble
    threshold: float

    @classmethod
    def load(cls, path: str | Path | None = None) -> BlockModel:
        source = resources.files("thresher.models") / "extract_blocks.npz" if path is None else Path(path)
        with source.open("rb") as fh:
            arrays = dict(np.load(fh))
        return cls.from_arrays(arrays)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> BlockModel:
        stage = {s: TreeEnsemble({k[3:]: v for k, v in arrays.items() if k.startswith(s)}) for s in ("s1_", "s2_")}
        return cls(stage["s1_"], stage["s2_"], float(arrays["body_threshold"]))

    def predict(self, x: np.ndarray, bounds: np.ndarray, pages: np.ndarray) -> np.ndarray:
        """P(body) of every block (``x``: block features, ``pages``: the page vectors)."""
        if not len(x):
            return np.zeros(0)
        x = with_pages(x, bounds, pages)
        p1 = self.stage1.predict_proba(x)
        return self.stage2.predict_proba(stage2_features(p1, x, bounds))


# A page where no block reaches the threshold keeps the blocks scoring at least this share of its best
# (a product page whose description scores 0.4 is better read than emptied).
FALLBACK_RATIO = 0.5


def keep_mask(p: np.ndarray, threshold: float) -> np.ndarray:
    """The blocks of one page to keep, from their P(body)."""
    keep = p >= threshold
    if len(p) and not keep.any():
        keep = p >= FALLBACK_RATIO * p.max()
    return keep


@lru_cache(maxsize=4)
def load_block_model(path: str | None = None) -> BlockModel:
    return BlockModel.load(path)
