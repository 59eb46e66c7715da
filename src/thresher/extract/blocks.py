"""HTML -> text blocks with their markup context: the first half of the ``thresher`` extract backend.

A page is parsed once by lexbor (``selectolax.lexbor``, C) and walked once in Python. The walk does the
least it can per node (the walk is most of the backend's cost): it reads an element's tag, and its
``class``/``id`` only where present, and keeps for every open element a cumulative bit mask of what it is
inside (a ``<nav>``, a ``class="comment"``...). Text accumulates into the current *block*; a block ends at
the boundary of a block-level element or a ``<br>``. Everything numeric about a block (link density,
words, punctuation) is computed afterwards in numpy, for all blocks of a batch of pages at once
(``block_model.py``).

Markup that is never content is skipped whole: scripts, styles, forms' controls.
``<noscript>`` is walked (lexbor parses it as markup): Discourse and other forums put their posts there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Elements whose start and end cut the text into blocks.
BLOCK_TAGS = frozenset("""address article aside blockquote body center dd details dialog dir div dl dt
fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav noscript ol p
pre section summary table tbody thead tfoot td th tr ul caption legend""".split())
# Never content: the element and everything inside it are skipped.
SKIP_TAGS = frozenset("""script style template svg iframe object embed canvas select option datalist
textarea input button head meta link math audio video source track map area noembed""".split())

# What a block is inside, from ancestors' tags: one bit each; "hidden" is an ancestor with a ``hidden`` or
# ``aria-hidden="true"`` attribute or an inline ``display: none``. Hidden markup is kept, as a feature:
# React streams its server-rendered content in ``<div hidden>`` and tabs hide product descriptions.
TAG_BITS = {t: 1 << i for i, t in enumerate(
    "nav header footer aside main article form table ul ol li a figure blockquote pre code dl hidden".split())}
TAG_FLAGS = list(TAG_BITS)
_HIDDEN = TAG_BITS["hidden"]
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden").search
# ... and from words in ancestors' class and id (one bit per group). A word matches as a whole token of
# the class/id split on non-letters ("post-comments" holds "comments"), or as a prefix for long roots.
CLASS_GROUPS: dict[str, tuple[str, ...]] = {
    "comment": ("comment", "comments", "reply", "replies", "respond", "disqus", "discussion"),
    "nav": ("nav", "navbar", "navigation", "menu", "menubar", "breadcrumb", "breadcrumbs", "topbar",
            "pagination", "pager", "toc", "skip", "dropdown", "submenu", "mega"),
    "footer": ("footer", "foot", "copyright", "colophon", "bottom"),
    "header": ("header", "head", "masthead", "banner", "branding", "logo"),
    "sidebar": ("sidebar", "aside", "widget", "widgets", "rail", "secondary", "side"),
    "related": ("related", "recommended", "recommend", "more", "popular", "trending", "similar",
                "outbrain", "taboola", "teaser", "teasers", "promo", "suggested"),
    "share": ("share", "sharing", "social", "facebook", "twitter", "follow", "print", "email", "sns"),
    "ad": ("ad", "ads", "advert", "advertisement", "adsense", "sponsor", "sponsored", "dfp", "gpt"),
    "popup": ("cookie", "cookies", "consent", "gdpr", "popup", "modal", "overlay", "newsletter",
              "subscribe", "subscription", "signup", "login", "paywall", "banner"),
    "meta": ("meta", "byline", "author", "date", "time", "published", "posted", "dateline", "info",
             "tags", "tag", "category", "categories", "label", "labels"),
    "content": ("content", "article", "main", "post", "entry", "body", "text", "story", "blog",
                "prose", "rich", "markdown", "detail", "details", "single"),
    "title": ("title", "headline", "heading", "h1"),
    "caption": ("caption", "figcaption", "credit", "credits", "photo", "image", "img", "gallery"),
    "hidden": ("hidden", "hide", "sr", "screen", "visually", "invisible", "offscreen"),
    "product": ("product", "price", "description", "desc", "review", "reviews", "rating", "spec",
                "specs", "specification", "feature", "features"),
    "forum": ("message", "messages", "thread", "topic", "forum", "cooked", "postbody", "bbcode",
              "answer", "answers", "question", "quote"),
    "list": ("list", "listing", "items", "item", "grid", "card", "cards", "tile", "tiles", "results",
             "result", "archive", "feed", "teaser"),
}
CLASS_FLAGS = list(CLASS_GROUPS)
_WORD_BIT = {w: 1 << i for i, g in enumerate(CLASS_GROUPS) for w in CLASS_GROUPS[g]}
_SPLIT = re.compile(r"[^a-z]+").split
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# The block's own element, as one of a few kinds (a feature, and how the text is laid out).
KINDS = ["p", "div", "li", "heading", "td", "pre", "quote", "dd", "other"]
HEADING, LIST_ITEM, CELL, PRE, QUOTE = 3, 2, 4, 5, 6
_KIND = {"p": 0, "div": 1, "section": 1, "article": 1, "main": 1, "body": 1, "li": 2, "dt": 7, "dd": 7,
         "td": 4, "th": 4, "pre": 5, "blockquote": 6, "figcaption": 8, "caption": 8,
         **{h: 3 for h in HEADINGS}}


_CLASS_CACHE: dict[str, int] = {}


def class_bits(value: str) -> int:
    """The class-group bits of one class/id attribute value (memoised: pages repeat their classes)."""
    bits = _CLASS_CACHE.get(value)
    if bits is None:
        bits = 0
        for word in _SPLIT(value.lower()):
            bits |= _WORD_BIT.get(word, 0)
        if len(_CLASS_CACHE) > 100_000:
            _CLASS_CACHE.clear()
        _CLASS_CACHE[value] = bits
    return bits




@dataclass
class Blocks:
    """The text blocks of one page, in document order, with what the walk saw of each."""

    texts: list[str] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)        # index into KINDS
    tag_bits: list[int] = field(default_factory=list)     # TAG_BITS of the block's ancestors (and itself)
    class_bits: list[int] = field(default_factory=list)   # CLASS_GROUPS bits of ancestors' class/id
    near_class_bits: list[int] = field(default_factory=list)  # ... of the nearest classed ancestor only
    depths: list[int] = field(default_factory=list)
    link_chars: list[int] = field(default_factory=list)   # characters of text inside <a>
    links: list[int] = field(default_factory=list)        # <a> elements that hold text
    heading_level: list[int] = field(default_factory=list)  # 1-6 for h1-h6, else 0
    paragraph: list[int] = field(default_factory=list)    # blocks cut by <br> share their element's number
    container: list[int] = field(default_factory=list)    # id of the nearest element with class bits
    path: list[tuple[int, ...]] = field(default_factory=list)  # numbers of the open block elements, root first


class _Walker:
    """One page's walk; state lives in attributes so the recursive method stays small."""

    def __init__(self) -> None:
        self.out = Blocks()
        self.buf: list[str] = []      # text of the open block; cleared in place, never replaced
        self.path: list[int] = [0]    # numbers of the block elements open around the text (0: <body>)
        self.link_chars = 0
        self.links = 0
        self.n_elements = 0

    def flush(self, kind: int, tbits: int, cbits: int, near: int, depth: int, level: int, para: int,
              container: int) -> None:
        buf = self.buf
        text = " ".join("".join(buf).split())
        buf.clear()
        if text:
            out = self.out
            out.texts.append(text)
            out.kinds.append(kind)
            out.tag_bits.append(tbits)
            out.class_bits.append(cbits)
            out.near_class_bits.append(near)
            out.depths.append(depth)
            out.link_chars.append(min(self.link_chars, len(text)))
            out.links.append(self.links)
            out.heading_level.append(level)
            out.paragraph.append(para)
            out.container.append(container)
            out.path.append(tuple(self.path))
        self.link_chars = 0
        self.links = 0

    def walk(self, node, kind: int, tbits: int, cbits: int, near: int, depth: int, level: int,
             in_link: bool, para: int, container: int) -> None:
        """Walk ``node``'s children. ``near``/``container``: bits and number of the nearest classed element."""
        buf = self.buf
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                text = child.text_content
                # white space alone opens no block (it still separates words inside one)
                if text and (buf or not text.isspace()):
                    buf.append(text)
                    if in_link:
                        self.link_chars += len(text)
                continue
            if tag in SKIP_TAGS or tag[0] == "-":
                continue
            attrs = child.attributes
            cb = 0
            tb = tbits | TAG_BITS.get(tag, 0)
            if attrs:
                value = attrs.get("class")
                if value:
                    cb = _CLASS_CACHE.get(value)
                    if cb is None:
                        cb = class_bits(value)
                value = attrs.get("id")
                if value:
                    bits = _CLASS_CACHE.get(value)
                    cb |= class_bits(value) if bits is None else bits
                if "hidden" in attrs or attrs.get("aria-hidden") == "true" or (
                        "style" in attrs and _HIDDEN_STYLE(attrs["style"] or "")):
                    tb |= _HIDDEN
            self.n_elements += 1
            cb_all = cbits | cb
            c_near, c_container = (cb, self.n_elements) if cb else (near, container)
            if tag in BLOCK_TAGS:
                if buf:
                    self.flush(kind, tbits, cbits, near, depth, level, para, container)
                k = _KIND.get(tag, kind)
                lv = int(tag[1]) if tag in HEADINGS else level
                number = self.n_elements
                self.path.append(number)
                self.walk(child, k, tb, cb_all, c_near, depth + 1, lv, in_link, number, c_container)
                if buf:
                    self.flush(k, tb, cb_all, c_near, depth + 1, lv, number, c_container)
                self.path.pop()
            elif tag == "br":
                if buf:
                    self.flush(kind, tbits, cbits, near, depth, level, para, container)
            elif tag == "a":
                before = len(buf)
                self.walk(child, kind, tb, cb_all, c_near, depth, level, True, para, c_container)
                if len(buf) > before:
                    self.links += 1
            else:
                self.walk(child, kind, tb, cb_all, c_near, depth, level, in_link, para, c_container)


def page_blocks(tree) -> Blocks:
    """The blocks of a parsed page (``selectolax.lexbor.LexborHTMLParser``)."""
    walker = _Walker()
    body = tree.body
    if body is not None:
        walker.walk(body, 1, 0, 0, 0, 0, 0, False, 0, 0)
        if walker.buf:
            walker.flush(1, 0, 0, 0, 0, 0, 0, 0)
    return walker.out


def blocks_text(blocks: Blocks, keep: list[bool] | None = None, markdown: bool = False) -> str:
    """The kept blocks as text: blocks cut by a ``<br>`` on consecutive lines, others a blank line apart.
    With ``markdown``, headings get their ``#``, list items a ``- ``, preformatted text a code fence,
    table cells a ``| ``."""
    out: list[str] = []
    last_para = None
    for i, text in enumerate(blocks.texts):
        if keep is not None and not keep[i]:
            continue
        if markdown:
            kind = blocks.kinds[i]
            if kind == HEADING:
                text = "#" * max(blocks.heading_level[i], 1) + " " + text
            elif kind == LIST_ITEM:
                text = "- " + text
            elif kind == PRE:
                text = "```\n" + text + "\n```"
            elif kind == CELL:
                text = "| " + text + " |"
            elif kind == QUOTE:
                text = "> " + text
        para = blocks.paragraph[i]
        if out:
            out.append("\n" if para == last_para else "\n\n")
        out.append(text)
        last_para = para
    return "".join(out)
