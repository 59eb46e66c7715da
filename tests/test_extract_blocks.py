"""The thresher extract backend: blocks from markup, what a page declares, tree inference, the shipped model."""

from __future__ import annotations

import numpy as np
import pytest
from selectolax.lexbor import LexborHTMLParser

from thresher.document import Document
from thresher.extract.block_model import TreeEnsemble, feature_names, featurize, page_vector
from thresher.extract.blocks import CLASS_FLAGS, HEADING, LIST_ITEM, TAG_FLAGS, blocks_text, page_blocks
from thresher.extract.extractor import BlockExtractor
from thresher.extract.head import read_head
from thresher.extract.html import Extract
from thresher.extract.lines import LineModel

PARAGRAPHS = [
    "The harbour town of Porthleven has rebuilt its sea wall after the winter storms of last year, and the "
    "fishing boats returned to the inner basin this week for the first time since January.",
    "Engineers from the county council spent eleven months replacing the granite blocks that the waves had "
    "pulled loose, working only at low tide and often through the night to keep to the schedule.",
    "Local fishermen said the work came just in time, because the crab season starts next month and the "
    "outer harbour offers almost no shelter from the south-westerly gales that hit the coast in spring.",
    "The council has promised to inspect the wall every autumn from now on, and to publish the results of "
    "each inspection so that residents can see for themselves how the structure is holding up.",
]

ARTICLE = f"""<!doctype html><html lang="en"><head><title>Sea wall rebuilt | Cornwall News</title>
<meta property="og:title" content="Porthleven sea wall rebuilt">
<meta name="author" content="Jenny Trewin">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Porthleven sea wall rebuilt", "datePublished": "2024-05-17T08:00:00Z",
 "author": {{"@type": "Person", "name": "Jenny Trewin"}}}}</script></head>
<body><header class="site-header"><nav class="main-menu"><ul><li><a href="/">Home</a></li>
<li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li>
</ul></nav></header>
<main><article class="post-content"><h1>Porthleven sea wall rebuilt</h1>
<p class="byline">By Jenny Trewin</p>
{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}
</article>
<aside class="related-posts"><h3>You might also like</h3><ul>
<li><a href="/a">Storm damage in Penzance</a></li><li><a href="/b">New lifeboat for St Ives</a></li></ul></aside>
<section class="comments"><h3>Comments</h3>
<div class="comment"><span class="comment-author">harbourwatcher</span>
<p>Great to see the boats back, it has been a long winter for everyone in the village.</p></div>
<div class="comment"><span class="comment-author">kernow_dave</span>
<p>About time too, the council dragged its feet on this for far too long in my opinion.</p></div>
</section></main>
<footer class="site-footer"><p>© 2024 Cornwall News. All rights reserved.</p>
<a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer>
<script>var tracking = "not text";</script></body></html>"""


def test_blocks_follow_the_markup():
    html = ('<body><div class="sidebar">Side <a href="x">link</a> text<br>after break</div>'
            '<noscript><div class="post"><p>Forum post kept in noscript</p></div></noscript>'
            '<script>skip()</script><div hidden><p>Streamed content</p></div>'
            '<ul><li>One</li><li>Two</li></ul><h2>Heading</h2></body>')
    blocks = page_blocks(LexborHTMLParser(html))
    assert blocks.texts == ["Side link text", "after break", "Forum post kept in noscript", "Streamed content",
                            "One", "Two", "Heading"]
    side = 1 << CLASS_FLAGS.index("sidebar")
    assert blocks.class_bits[0] & side and blocks.link_chars[0] == 4 and blocks.links[0] == 1
    assert blocks.paragraph[0] == blocks.paragraph[1]  # a <br> splits a paragraph, not an element
    assert blocks.tag_bits[3] & (1 << TAG_FLAGS.index("hidden"))
    assert blocks.kinds[4] == LIST_ITEM and blocks.kinds[6] == HEADING and blocks.heading_level[6] == 2
    assert blocks_text(blocks, [False, False, True, False, True, True, True], markdown=True) == \
        "Forum post kept in noscript\n\n- One\n\n- Two\n\n## Heading"


def test_head_reads_meta_and_json_ld():
    head = read_head(ARTICLE)
    assert head.title == "Sea wall rebuilt | Cornwall News" and "newsarticle" in head.types
    meta = head.metadata()
    assert meta == {"title": "Porthleven sea wall rebuilt", "html_lang": "en", "date": "2024-05-17",
                    "author": "Jenny Trewin"}
    broken = read_head('<html><head><script type="application/ld+json">{not json</script></head></html>')
    assert broken.types == set() and broken.metadata() == {}


def test_features_are_the_same_alone_and_in_a_batch():
    lines = LineModel.load().featurizer
    other = ("<body><p>short page</p><p>" + " ".join(PARAGRAPHS) + "</p></body>")
    pages = [(page_blocks(LexborHTMLParser(h)), read_head(h)) for h in (ARTICLE, other)]
    x, bounds = featurize(pages, lines)
    alone, _ = featurize(pages[1:], lines)
    assert x.shape[1] == len(feature_names()) and np.allclose(x[bounds[1]:bounds[2]], alone)
    assert len(page_vector(*pages[0], "https://example.com/news/2024/05/sea-wall")) > 0


def test_tree_inference_matches_lightgbm():
    lightgbm = pytest.importorskip("lightgbm")
    from thresher_eval.train_extract import export

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0.3).astype(int)
    model = lightgbm.LGBMClassifier(n_estimators=25, num_leaves=15, n_jobs=1, verbose=-1).fit(x, y)
    ours = TreeEnsemble(export(model.booster_.dump_model()["tree_info"])).predict_proba(x)
    assert np.allclose(ours, model.predict_proba(x)[:, 1], atol=1e-9)


def test_shipped_model_keeps_the_article_and_takes_the_comments_apart():
    text, meta = BlockExtractor().extract_pages([ARTICLE], ["https://news.example/2024/05/sea-wall"])[0]
    for paragraph in PARAGRAPHS:
        assert paragraph in text
    for boilerplate in ("You might also like", "All rights reserved", "Weather", "not text", "harbourwatcher"):
        assert boilerplate not in text
    assert "\n\n" in text  # paragraph breaks kept
    assert meta["author"] == "Jenny Trewin" and meta["date"] == "2024-05-17"
    assert any("long winter" in c["text"] for c in meta["comments"])


def test_extract_step_batches_with_the_thresher_backend():
    step = Extract(backend="thresher", format="markdown")
    step.setup()
    assert step.batched
    docs = [Document(id="1", raw=ARTICLE.encode(), url="https://news.example/a"),
            Document(id="2", raw=b"<html><body><script>x()</script></body></html>"),
            Document(id="3", text="already text")]
    out = step.process_batch(docs)
    assert PARAGRAPHS[0] in out[0].text and out[0].meta["extractor"] == "thresher" and out[0].raw is None
    assert out[1].reason.key == "extract.empty" and out[2].text == "already text"
