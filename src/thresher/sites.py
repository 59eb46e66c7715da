"""A document's site: the URL's host, lower-cased, without a leading ``www.`` ("" if there is none).

Shared by the steps that group by site (clean's corpus mode, per-site line dedup), so a site means the same
thing everywhere. Malformed URLs give "" rather than an exception: one bad URL must not cost a document.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def site_of(url: str | None) -> str:
    if not url:
        return ""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


def site_label(url: str | None) -> str:
    """``site_of``, or ``(no site)`` where the URL gives none: how the run's stats and report name a site
    (``removed_by_site``)."""
    return site_of(url) or "(no site)"
