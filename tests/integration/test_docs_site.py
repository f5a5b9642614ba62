"""The offline docs site (`ecomdwh docs`) on the session's pipeline-built warehouse: dbt's docs, a reconciliation
run's report and Data Docs, an older one-folder report and the run history, all reachable from the index, loading
nothing from the network; headless Chromium shows them styled with every request kept on the machine."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ecomdwh import docs_site, reconcile, run_history
from ecomdwh.devtools import browser
from ecomdwh.settings import Settings
from tests.conftest import ROOT, run_cli, scratch_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]
UNKNOWN_SHARE = 0.25  # three landing days: the last day's unpaid orders are a large share (test_reconcile.py)
RUN_ID = "20260314T060000000Z-abc123"


@pytest.fixture(scope="module")
def site(small_gold: tuple[Settings, dict], tmp_path_factory: pytest.TempPathFactory):
    """A site built from a copy of the session's warehouse: one reconciliation run (its Data Docs), an older
    one-folder analytics report, one run recorded in ops; dbt's target and logs in the test's own folders."""
    gold, truth = small_gold
    folder = tmp_path_factory.mktemp("docs-site")
    warehouse = folder / "warehouse.duckdb"
    shutil.copy(gold.warehouse_path, warehouse)
    settings = gold.with_overrides(
        duckdb_path=warehouse,
        reports_root=folder / "reports",
        dbt_target_root=folder / "dbt-target",
        dbt_log_root=folder / "dbt-logs",
    )
    day = max(truth["days"])
    run = settings.reports_dir / "reconcile" / day / RUN_ID
    result = reconcile.reconcile(day, "local", 0.0, run, UNKNOWN_SHARE, settings=settings)
    assert result.passed, result.message()
    # The notebook's HTML stands in: a page with a CDN script, which the site leaves out.
    (run / "reconcile.html").write_text('<html><head><script src="https://cdn.example.org/x.js"></script></head>'
                                        "<body><h1>Reconciliation</h1></body></html>")  # fmt: skip
    (run.parent / "LATEST").write_text(RUN_ID + "\n")
    old = settings.reports_dir / "analytics" / day
    old.mkdir(parents=True)
    (old / "analytics.html").write_text("<html><body><h1>Analytics</h1></body></html>")
    started = run_history.utcnow()
    record = run_history.report_record(settings, RUN_ID, day, "local", started, run, None)
    con = duckdb.connect(str(warehouse))
    run_history.write(con, record)
    con.close()
    built = docs_site.build(settings, folder / "site")
    return built, settings, day


def test_the_index_links_every_part_and_each_link_resolves(site):
    built, settings, day = site
    index = built.index.read_text()
    assert built.dbt_docs == "dbt/index.html" and 'href="dbt/index.html"' in index
    assert f'href="reports/reconcile/{day}/{RUN_ID}/reconcile.html"' in index
    assert f'href="reports/reconcile/{day}/{RUN_ID}/data_docs/index.html"' in index
    assert f'href="reports/analytics/{day}/analytics.html"' in index  # the older layout too
    assert RUN_ID in index and "passed" in index
    assert built.history and built.history[0]["run_id"] == RUN_ID  # the ops schema's run history
    assert docs_site.broken_links(built.index) == []
    assert built.dropped == ["https://cdn.example.org/x.js"]


def test_no_page_loads_anything_from_the_network(site):
    built, _, _ = site
    assert docs_site.remote_references(built.folder) == []
    pages = list(built.folder.rglob("*.html"))
    assert len(pages) > 10
    # The check finds what it must: a page with a remote stylesheet, font and image.
    probe = built.folder.parent / "probe"
    probe.mkdir()
    (probe / "p.html").write_text(
        '<link rel="stylesheet" href="https://cdn.example.org/a.css"><img src="//cdn.example.org/i.png">'
        '<style>@font-face { src: url("https://fonts.example.org/f.woff2") }</style><a href="https://x.org">x</a>'
    )
    found = docs_site.remote_references(probe)
    assert len(found) == 3, found
    assert len(docs_site.remote_references(probe, links=True)) == 4


def test_data_docs_name_the_run_and_the_assets(site):
    built, _, day = site
    docs = built.folder / "reports" / "reconcile" / day / RUN_ID / "data_docs"
    index = (docs / "index.html").read_text()
    assert "__none__" not in index
    assert f"{day} {RUN_ID}" in index
    [money] = (docs / "validations" / "money").rglob("*.html")
    text = money.read_text()
    assert "Data asset:" in text and "gold.money" in text and "None" not in text.split("Data asset:")[1][:200]
    assert "bronze-gold.layer_counts" in index


def test_every_model_column_is_described_in_the_catalog(site):
    """Every column dbt's catalog finds in a built model has a description in the YAML (the manifest)."""
    _, settings, _ = site
    manifest = json.loads((settings.dbt_target_path / "manifest.json").read_text())
    catalog = json.loads((settings.dbt_target_path / "catalog.json").read_text())
    missing = []
    for unique_id, node in catalog["nodes"].items():
        if not unique_id.startswith("model."):
            continue
        described = manifest["nodes"][unique_id]["columns"]
        for column in node["columns"]:
            if not (described.get(column.lower()) or {}).get("description"):
                missing.append(f"{unique_id}.{column}")
    assert len(catalog["nodes"]) >= 16
    assert missing == []


# The font of the first validation row's status icon, '' while there is none in the page.
ICON_FONT = """() => {
    const icon = document.querySelector("table.ge-index-page-validation-results-table tbody tr i.fas");
    return icon ? getComputedStyle(icon, "::before").fontFamily : "";
}"""


def test_chromium_shows_the_pages_styled_with_nothing_fetched(site, tmp_path: Path):
    built, _, day = site
    docs = built.folder / "reports" / "reconcile" / day / RUN_ID / "data_docs"
    with browser.page() as (page, blocked):
        page.goto(built.index.as_uri())
        header = page.eval_on_selector("header.site", "e => getComputedStyle(e).backgroundColor")
        assert header not in ("rgba(0, 0, 0, 0)", "transparent")  # site.css applies
        page.screenshot(path=str(tmp_path / "index.png"))

        page.goto(docs.joinpath("index.html").as_uri())
        rows = page.locator("table.ge-index-page-validation-results-table tbody tr")
        rows.first.wait_for(timeout=15_000)
        # One validation per committed checkpoint, rendered by bootstrap-table from the page.
        assert rows.count() == len(list((ROOT / "expectations" / "gx" / "checkpoints").glob("*.json")))
        button = page.eval_on_selector("button.btn-secondary", "e => getComputedStyle(e).backgroundColor")
        assert button == "rgb(108, 117, 125)"  # Bootstrap's secondary colour
        assert "gold.money" in page.inner_text("table.ge-index-page-validation-results-table")
        # The status icons. bootstrap-table may render the rows again, and a row it has just replaced has no
        # computed style: let the page settle on a row that answers, then read its icon's font.
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(f"() => ({ICON_FONT})().includes('Font Awesome')", timeout=15_000)
        assert "Font Awesome" in page.evaluate(ICON_FONT)
        loaded = page.evaluate(
            "async () => { await document.fonts.ready; return [...document.fonts]"
            ".filter(f => f.family.includes('Font Awesome') && f.status === 'loaded').length; }"
        )
        assert loaded >= 1  # the icon font came from the site's static/
        page.screenshot(path=str(tmp_path / "data-docs.png"))

        page.goto((built.folder / "dbt" / "index.html").as_uri() + "#!/model/model.ecomdwh.fact_order_items")
        page.get_by_text("ingest_date", exact=True).first.wait_for(timeout=30_000)  # the model's columns
        assert page.locator("text=dim_customers").count() > 0  # the model tree
        page.screenshot(path=str(tmp_path / "dbt.png"))

        # The index's lineage card: dbt's graph of the fact, from the silver sources on.
        page.goto(built.index.as_uri())
        page.click("#dbt-lineage")
        page.get_by_text("Lineage Graph").wait_for(timeout=30_000)
        assert page.locator("canvas").count() > 0  # the graph is drawn
    assert blocked.urls == [], blocked.urls
    assert all(p.stat().st_size > 10_000 for p in tmp_path.glob("*.png"))


def test_the_links_leave_no_file_unreachable(site):
    """Every report page and Data Docs index the index names is a file of the site."""
    built, _, _ = site
    from html.parser import HTMLParser

    hrefs: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "a":
                hrefs.extend(v for k, v in attrs if k == "href" and v)

    Links().feed(built.index.read_text())
    targets = {urlsplit(h).path for h in hrefs}
    assert len(targets) >= 4
    assert all((built.folder / t).is_file() for t in targets), targets


def test_the_command_refuses_a_folder_that_is_not_a_site_in_one_sentence(tmp_path: Path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    env = scratch_env(tmp_path, "docs") | {"ECOMDWH_REPORTS_DIR": str(tmp_path / "reports")}
    result = run_cli("docs", "--out", str(taken), env=env)
    assert result.returncode == 1
    assert "is not a docs site built by ecomdwh" in result.stdout and "Traceback" not in result.stderr
    assert (taken / "notes.txt").exists()
    # No warehouse yet: dbt's docs cannot be made, and the sentence says what to do.
    result = run_cli("docs", "--out", str(tmp_path / "site"), env=env)
    assert result.returncode == 1 and "run `ecomdwh run` first" in " ".join(result.stdout.split())
    # Without dbt's docs the site is still built.
    result = run_cli("docs", "--no-dbt", "--out", str(tmp_path / "site"), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").exists()
