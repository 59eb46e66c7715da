"""The extract step: main content and metadata from HTML; guards against pathological pages."""

from __future__ import annotations

import time

import pytest

from thresher.document import Document
from thresher.extract import html as html_module
from thresher.extract.html import Extract

PAGE = """<html lang="de"><head><title>Die Mühle am Fluss</title>
<meta name="author" content="Anna Schmidt"><meta property="article:published_time" content="2021-03-04T10:00:00Z">
</head><body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
<article><h1>Die Mühle am Fluss</h1>
<p>Die alte Mühle steht seit dreihundert Jahren am Ufer des Flusses und mahlt noch heute Korn für das Dorf.</p>
<p>Jeden Herbst bringen die Bauern ihren Weizen auf Wagen über die schlammigen Wege zur Mühle.</p>
</article><footer>Impressum | Datenschutz</footer></body></html>""".encode()


def test_main_content_and_metadata():
    step = Extract()
    step.setup()
    doc = step.process(Document(id="1", raw=PAGE))
    assert "dreihundert Jahren" in doc.text and "Datenschutz" not in doc.text
    assert doc.meta["title"] == "Die Mühle am Fluss"
    assert doc.meta["author"] == "Anna Schmidt" and doc.meta["date"] == "2021-03-04"
    assert doc.meta["html_lang"] == "de" and doc.raw is None and doc.reason is None


def test_documents_with_text_pass_through():
    doc = Extract().process(Document(id="1", text="already text"))
    assert doc.text == "already text" and doc.reason is None


def test_oversized_and_empty_pages_are_rejected_with_a_reason():
    doc = Extract(max_bytes=100).process(Document(id="1", raw=PAGE))
    assert doc.reason.key == "extract.too_large" and doc.reason.value == len(PAGE)
    doc = Extract().process(Document(id="2", raw=b"<html><body><script>x()</script></body></html>"))
    assert doc.reason.key == "extract.empty"


def test_a_page_that_takes_too_long_is_rejected_not_hung(monkeypatch):
    def slow(raw, charset=None):
        time.sleep(5)
        return "never", {}

    monkeypatch.setitem(html_module.BACKENDS, "resiliparse", slow)
    doc = Extract(backend="resiliparse", timeout_s=0.2).process(Document(id="1", raw=PAGE))
    assert doc.reason.key == "extract.timeout"


def test_trafilatura_backend():
    pytest.importorskip("trafilatura")
    doc = Extract(backend="trafilatura").process(Document(id="1", raw=PAGE))
    assert "dreihundert Jahren" in doc.text and doc.meta.get("title") == "Die Mühle am Fluss"


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown backend"):
        Extract(backend="nope")
