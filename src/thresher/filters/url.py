"""``url_filter``: drop documents whose URL is on a user-given blocklist or contains banned words.

Blocklist files hold one entry per line (``#`` starts a comment): a domain (``example.com``: blocks it
and every subdomain, ``www.example.com``, ``a.b.example.com``) or a URL with a path
(``example.com/some/page.html``, scheme optional: blocks that page, compared without scheme, ``www.``,
fragment and trailing ``/``). This is the layout of the UT1 blacklist RefinedWeb and FineWeb use.

Banned words, as in RefinedWeb's URL filter (datatrove ``URLFilter``): ``banned_words`` match whole
tokens of the URL (split on non-alphanumerics), any one rejects; ``banned_subwords`` match anywhere in the
URL (``pornhub`` in ``freepornhubvideos``); ``soft_banned_words`` reject when at least ``soft_threshold``
of their tokens occur. Word lists are given inline or as a file path (one word per line).

Reasons name the entry that matched: rule ``blocked_domain``/``blocked_url``/``banned_word``/
``banned_subword`` with that entry as ``value``; ``soft_banned_words`` with the words found and the threshold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from thresher.document import Document, Reason
from thresher.steps import FilterStep

_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")


def _read_entries(source: str | Path | Iterable[str] | None) -> list[str]:
    """Entries from a file path (one per line; blank lines and ``#`` comment lines skipped) or a list."""
    if source is None:
        return []
    if isinstance(source, (str, Path)):
        lines = Path(source).expanduser().read_text(encoding="utf-8", errors="replace").splitlines()
    else:
        lines = list(source)
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _read_words(source: str | Path | Iterable[str] | None) -> list[str]:
    return [word.lower() for word in _read_entries(source)]


def _split_url(url: str) -> tuple[str, str]:
    """(host, ``host/path?query``) lowercased host, without scheme, port, user, ``www.``, trailing ``/``."""
    url = url.strip()
    if "://" not in url[:16]:
        url = "http://" + url   # entries and URLs without a scheme still parse as host/path
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:   # malformed (e.g. unbalanced IPv6 brackets): no host, nothing to match
        return "", ""
    host = host.removeprefix("www.")
    path = parts.path.rstrip("/")
    key = host + path + ("?" + parts.query if parts.query else "")
    return host, key


class URLFilter(FilterStep):
    """Block by domain (with subdomains), exact URL, and banned words in the URL.

    ``blocklist``: a file path or a list of file paths; ``domains``/``urls``: inline entries. Documents
    without a URL are kept (``drop_missing_url: true`` drops them instead).
    """

    name: ClassVar[str] = "url_filter"

    def __init__(self, blocklist: str | list[str] | None = None, domains: Iterable[str] | None = None,
                 urls: Iterable[str] | None = None, banned_words: str | Iterable[str] | None = None,
                 banned_subwords: str | Iterable[str] | None = None,
                 soft_banned_words: str | Iterable[str] | None = None, soft_threshold: int = 2,
                 drop_missing_url: bool = False) -> None:
        self.blocked_domains: set[str] = set()
        self.blocked_urls: set[str] = set()
        files = [blocklist] if isinstance(blocklist, (str, Path)) else list(blocklist or [])
        entries = [e for f in files for e in _read_entries(f)] + list(domains or []) + list(urls or [])
        for entry in entries:
            host, key = _split_url(entry)
            if not host:
                continue
            if key == host:
                self.blocked_domains.add(host)
            else:
                self.blocked_urls.add(key)
        self.banned_words = frozenset(_read_words(banned_words))
        self.soft_banned_words = frozenset(_read_words(soft_banned_words))
        self.soft_threshold = soft_threshold
        subwords = sorted(set(_read_words(banned_subwords)), key=len, reverse=True)
        # One alternation of escaped literals, compiled once: a scan of the URL per document, not per word.
        self._subwords = re.compile("|".join(map(re.escape, subwords))) if subwords else None
        self.drop_missing_url = drop_missing_url

    def filter(self, doc: Document) -> Reason | None:
        if not doc.url:
            return self.reject("missing_url") if self.drop_missing_url else None
        host, key = _split_url(doc.url)
        if host and self.blocked_domains:
            # example.com blocks a.b.example.com: try each dot-suffix of the host (a handful of set lookups)
            labels = host.split(".")
            for i in range(len(labels)):
                suffix = ".".join(labels[i:])
                if suffix in self.blocked_domains:
                    return self.reject("blocked_domain", suffix)
        if key and key in self.blocked_urls:
            return self.reject("blocked_url", key)
        url = doc.url.lower()
        if self.banned_words or self.soft_banned_words:
            tokens = set(_TOKEN_SPLIT.split(url))
            hit = tokens & self.banned_words
            if hit:
                return self.reject("banned_word", min(hit))
            soft = tokens & self.soft_banned_words
            if soft and len(soft) >= self.soft_threshold:
                return self.reject("soft_banned_words", sorted(soft), self.soft_threshold)
        if self._subwords is not None:
            match = self._subwords.search(url)
            if match:
                return self.reject("banned_subword", match.group(0))
        return None
