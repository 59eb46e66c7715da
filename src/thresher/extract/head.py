"""What a page declares about itself, read by one pass of regular expressions over the raw HTML.

``<title>``, ``<meta name|property|itemprop=... content=...>``, ``<html lang>`` and JSON-LD
(``<script type="application/ld+json">``) are found with compiled patterns (C) instead of a DOM walk: a
page has a few dozen ``<meta>`` tags, and reading them through a parser's Python node objects cost 14% of
a FineWeb run. Both extract backends read their title, author, date and declared language from here, and
the ``thresher`` backend also reads the page's declared type and ``articleBody`` as features.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

# The head is searched up to </head> (or the first 256 KB when a page never closes it); JSON-LD is
# searched in the whole page, since many sites put it at the end of the body.
HEAD_LIMIT = 256 * 1024
_HEAD_END = re.compile(r"</head\s*>|<body[\s>]", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_META = re.compile(r"<meta\s([^>]*)>", re.I)
_HTML_TAG = re.compile(r"<html\s([^>]*)>", re.I)
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_JSONLD = re.compile(r"""<script[^>]*type\s*=\s*["']?application/ld\+json["']?[^>]*>(.*?)</script\s*>""",
                     re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")

DATE_KEYS = ("article:published_time", "datepublished", "date", "pubdate", "publishdate", "dc.date",
             "dc.date.issued", "dcterms.created", "og:published_time", "sailthru.date", "parsely-pub-date",
             "article.published", "publish-date", "release_date")
AUTHOR_KEYS = ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "byl",
               "twitter:creator")
TITLE_KEYS = ("og:title", "twitter:title", "headline", "dc.title")


def _attrs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _ATTR.finditer(text):
        key = m.group(1).lower()
        if key not in out:
            out[key] = m.group(2) if m.group(2) is not None else (
                m.group(3) if m.group(3) is not None else m.group(4))
    return out


def _clean(value: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", value)).split())


@dataclass
class Head:
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)  # lower-cased name/property/itemprop -> content
    lang: str | None = None
    types: set[str] = field(default_factory=set)        # JSON-LD @type values, lower-cased
    article_body: str | None = None                      # JSON-LD articleBody / text of an article
    description: str | None = None                       # JSON-LD description of a Product etc.
    headline: str | None = None
    author: str | None = None
    date: str | None = None                              # JSON-LD datePublished (or dateCreated)

    def metadata(self) -> dict[str, Any]:
        """Title, author, date (ISO ``YYYY-MM-DD``) and the declared language, where the page gives them."""
        out: dict[str, Any] = {}
        # the article's own headline before the <title>, which usually carries the site's name too
        title = self.headline or next((self.meta[k] for k in TITLE_KEYS if self.meta.get(k)), None) \
            or self.title
        if title:
            out["title"] = title
        if self.lang:
            out["html_lang"] = self.lang
        date = self.date or next((self.meta[k] for k in DATE_KEYS if self.meta.get(k)), None)
        if date and (m := _ISO_DATE.search(date)):
            out["date"] = m.group(0)
        author = self.author or next((self.meta[k] for k in AUTHOR_KEYS if self.meta.get(k)), None)
        if author and not author.startswith(("http", "@")):
            out["author"] = author
        return out


def _names(value: Any) -> str | None:
    """A JSON-LD author: a string, {"name": ...}, or a list of either."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        names = [n for n in (_names(v) for v in value[:5]) if n]
        return ", ".join(names) or None
    return None


def _read_jsonld(obj: Any, head: Head, depth: int = 0) -> None:
    if depth > 6:
        return
    if isinstance(obj, list):
        for item in obj[:50]:
            _read_jsonld(item, head, depth + 1)
        return
    if not isinstance(obj, dict):
        return
    kinds = obj.get("@type")
    kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
    kinds = [k.lower() for k in kinds if isinstance(k, str)]
    head.types.update(kinds)
    body = obj.get("articleBody") or (obj.get("text") if any("posting" in k or k in ("comment", "answer",
                                                                                      "question")
                                                             for k in kinds) else None)
    if isinstance(body, str) and len(body) > len(head.article_body or ""):
        head.article_body = _clean(body)
    if isinstance(obj.get("description"), str) and ("product" in kinds or head.description is None):
        head.description = _clean(obj["description"])
    if head.headline is None and isinstance(obj.get("headline"), str):
        head.headline = _clean(obj["headline"])
    if head.author is None and kinds and any(k.endswith(("article", "posting", "blogposting")) or
                                             k in ("article", "newsarticle", "report") for k in kinds):
        head.author = _names(obj.get("author"))
    if head.date is None and isinstance(obj.get("datePublished") or obj.get("dateCreated"), str):
        head.date = obj.get("datePublished") or obj.get("dateCreated")
    for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
        if isinstance(obj.get(key), (list, dict)):
            _read_jsonld(obj[key], head, depth + 1)


def read_head(page: str) -> Head:
    """Everything :class:`Head` holds, from one page's HTML (a ``str``)."""
    head = Head()
    end = _HEAD_END.search(page, 0, HEAD_LIMIT)
    top = page[:end.start() if end else HEAD_LIMIT]
    if m := _TITLE.search(top):
        head.title = _clean(m.group(1)) or None
    for m in _META.finditer(top):
        attrs = _attrs(m.group(1))
        key = attrs.get("name") or attrs.get("property") or attrs.get("itemprop")
        content = attrs.get("content")
        if key and content is not None:
            head.meta.setdefault(key.strip().lower(), _clean(content))
    if (m := _HTML_TAG.search(page, 0, 4096)) and (lang := _attrs(m.group(1)).get("lang")):
        head.lang = lang.strip() or None
    for m in _JSONLD.finditer(page):
        try:
            _read_jsonld(orjson.loads(m.group(1).strip()), head)
        except orjson.JSONDecodeError:
            continue
    return head
