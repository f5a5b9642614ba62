"""The docs site's offline rewriting and its check for remote references, on small pages."""

from __future__ import annotations

from pathlib import Path

from ecomdwh import docs_site

GX_HEAD = """<html><head>
<link rel="stylesheet" href="https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css">
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css" />
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<link rel="stylesheet" href="https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js" integrity="sha384-x" crossorigin="anonymous"></script>
<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-y" crossorigin="anonymous"></script>
<script src="https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"></script>
<style>.logo { background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/x.png') 0 0; }</style>
<script>$(document).ready(function() { $('#t').bootstrapTable({}); });</script>
</head><body>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=2">
<a href="https://greatexpectations.io">GX</a>
</body></html>"""  # noqa: E501 - the tags exactly as GX 1.24 writes them


def test_data_docs_pages_load_every_file_from_the_site(tmp_path: Path):
    site = tmp_path / "docs"
    page = site / "validations" / "money" / "run" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text(GX_HEAD)
    (site / "static" / "images").mkdir(parents=True)
    (site / "static" / "images" / "logo-long.png").write_bytes(b"png")
    static = docs_site.copy_static(tmp_path / "static")

    assert docs_site.offline_data_docs(site, static) == []
    text = page.read_text()
    assert "https://" not in text.replace('href="https://greatexpectations.io"', "")
    assert '<script src="../../../../static/jquery/jquery.min.js"></script>' in text
    assert "../../../../static/bootstrap/js/bootstrap.bundle.min.js" in text
    assert "popper" not in text and "vega" not in text and "prefers-dark" not in text and "integrity" not in text
    assert 'src="../../../static/images/logo-long.png"' in text
    assert "$('#t').bootstrapTable" in text  # inline scripts stay
    assert docs_site.remote_references(site) == []
    assert docs_site.broken_links(page) == []
    # Script order is kept: jQuery before Bootstrap before bootstrap-table.
    assert text.index("jquery.min.js") < text.index("bootstrap.bundle") < text.index("filter-control.min.js")


def test_an_unknown_remote_asset_is_dropped_and_reported(tmp_path: Path):
    page = tmp_path / "p.html"
    text, dropped = docs_site.offline_page(
        '<script src="https://cdn.example.org/lib.js" defer></script><p>x</p>', page, tmp_path / "static"
    )
    assert text == "<p>x</p>" and dropped == ["https://cdn.example.org/lib.js"]


def test_remote_references_finds_loads_not_links(tmp_path: Path):
    (tmp_path / "a.html").write_text(
        '<img src="data:image/png;base64,AAA,BBB"><script>var u = "https://in.a.string/";</script>'
        '<img srcset="//cdn.example.org/1x.png 1x, local.png 2x"><iframe src="http://example.org/"></iframe>'
        '<div style="background: url(https://example.org/bg.png)"></div><a href="https://docs.example.org">d</a>'
    )
    (tmp_path / "s.css").write_text('@import "https://fonts.example.org/css"; .x { background: url(local.png) }')
    found = docs_site.remote_references(tmp_path)
    assert found == [
        "a.html: <img srcset> //cdn.example.org/1x.png",
        "a.html: <iframe src> http://example.org/",
        "a.html: style attribute https://example.org/bg.png",
        "s.css: stylesheet https://fonts.example.org/css",
    ]
    assert "a.html: <a href> https://docs.example.org" in docs_site.remote_references(tmp_path, links=True)


def test_dbt_docs_lose_their_tracker_url():
    page = 'i.async=1,i.src="//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js",a.parentNode'
    assert docs_site.offline_dbt_docs(page) == 'i.async=1,i.src="",a.parentNode'
