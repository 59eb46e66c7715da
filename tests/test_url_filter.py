"""``url_filter``: domain / URL blocklists from files, subdomain matching, banned words in URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from thresher.document import Document
from thresher.filters.url import URLFilter
from thresher.pipeline import make_step


def check(step: URLFilter, url: str | None):
    return step.filter(Document(id="d", text="some text", url=url))


@pytest.fixture
def blocklist(tmp_path: Path) -> Path:
    path = tmp_path / "domains.txt"
    path.write_text("# adult sites\nexample.com\n\nads.tracker.net\nwww.casino.org\nBadSite.INFO\n"
                    "https://news.site.com/2020/bad-article.html\nforum.site.com/thread/42/\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("url,entry", [
    ("http://example.com/", "example.com"),
    ("https://www.example.com/page?id=3", "example.com"),
    ("http://a.b.example.com:8080/x", "example.com"),
    ("HTTPS://EXAMPLE.COM./", "example.com"),
    ("example.com/no/scheme", "example.com"),
    ("http://user:pw@sub.ads.tracker.net/pixel.gif", "ads.tracker.net"),
    ("http://casino.org", "casino.org"),
    ("http://badsite.info/", "badsite.info"),
])
def test_blocked_domains_and_subdomains(blocklist, url, entry):
    reason = check(URLFilter(blocklist=str(blocklist)), url)
    assert reason is not None, url
    assert (reason.step, reason.rule, reason.value) == ("url_filter", "blocked_domain", entry)


@pytest.mark.parametrize("url", [
    "http://notexample.com/", "http://example.com.evil.net/", "http://tracker.net/",   # parent of a blocked subdomain
    "http://news.site.com/2020/good-article.html", "http://forum.site.com/thread/43", "http://site.com/",
])
def test_not_blocked(blocklist, url):
    assert check(URLFilter(blocklist=str(blocklist)), url) is None


@pytest.mark.parametrize("url,entry", [
    ("http://news.site.com/2020/bad-article.html", "news.site.com/2020/bad-article.html"),
    ("https://www.news.site.com/2020/bad-article.html#comments", "news.site.com/2020/bad-article.html"),
    ("http://forum.site.com/thread/42", "forum.site.com/thread/42"),
])
def test_blocked_urls(blocklist, url, entry):
    reason = check(URLFilter(blocklist=str(blocklist)), url)
    assert (reason.rule, reason.value) == ("blocked_url", entry)


def test_several_files_and_inline_entries(tmp_path, blocklist):
    other = tmp_path / "more.txt"
    other.write_text("spam.biz\n", encoding="utf-8")
    step = URLFilter(blocklist=[str(blocklist), str(other)], domains=["inline.org"], urls=["x.com/a/b"])
    assert check(step, "http://spam.biz/").value == "spam.biz"
    assert check(step, "http://www.inline.org/").value == "inline.org"
    assert check(step, "http://x.com/a/b/").rule == "blocked_url"
    assert check(step, "http://x.com/a") is None


def test_banned_words(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("porn\n# comment\nCasino\n", encoding="utf-8")
    step = URLFilter(banned_words=str(words), banned_subwords=["xxx"], soft_banned_words=["sex", "cam", "live"],
                     soft_threshold=2)
    assert (check(step, "http://x.com/free-porn-pics").rule, check(step, "http://x.com/free-porn-pics").value) == \
        ("banned_word", "porn")
    assert check(step, "http://casino.example/").value == "casino"
    assert check(step, "http://x.com/pornography") is None              # whole tokens only
    reason = check(step, "http://x.com/abcXXXdef")
    assert (reason.rule, reason.value) == ("banned_subword", "xxx")
    reason = check(step, "http://x.com/live/cam")
    assert (reason.rule, reason.value, reason.threshold) == ("soft_banned_words", ["cam", "live"], 2)
    assert check(step, "http://x.com/live/news") is None


def test_missing_and_malformed_urls():
    step = URLFilter(domains=["example.com"])
    assert check(step, None) is None
    assert check(step, "") is None
    assert check(URLFilter(domains=["example.com"], drop_missing_url=True), None).rule == "missing_url"
    for url in ["http://[::1", "http://", "::::", "http://exa mple.com/", "\ud800://x", "😀😀😀"]:
        assert check(step, url) is None


def test_ten_megabyte_url():
    step = URLFilter(domains=["example.com"], banned_words=["porn"], banned_subwords=["casino"],
                     soft_banned_words=["a", "b"])
    assert check(step, "http://ok.org/" + "a" * 10_000_000) is None
    assert check(step, "http://www.example.com/" + "a/" * 5_000_000).rule == "blocked_domain"
    assert check(step, "http://ok.org/" + "x-" * 1_000_000 + "casino").rule == "banned_subword"


def test_registered(blocklist):
    step = make_step("url_filter", {"blocklist": str(blocklist)})
    assert isinstance(step, URLFilter)
    assert check(step, "http://example.com").rule == "blocked_domain"
