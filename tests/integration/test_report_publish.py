"""ECOMDWH_REPORTS_URI: a finished report folder and its LATEST pointer reach S3 (the session's emulator).

The pipeline containers' disk ends with the task; this is how their reports and Data Docs outlive it.
The notebook run itself is replaced by a stand-in that writes a one-cell notebook, so the report code path
(folder, HTML export, LATEST, copy) runs for real without a kernel.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from ecomdwh import aws, kernel, reports
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings, load_settings

pytestmark = pytest.mark.integration


def _keys(settings: Settings, bucket: str, prefix: str) -> dict[str, dict]:
    found = {}
    for page in aws.list_pages(settings, bucket, prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = item
    return found


def _body(settings: Settings, bucket: str, key: str) -> bytes:
    return aws.s3(settings).get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.fixture
def publishing(s3_settings: Settings, tmp_path: Path) -> Settings:
    return s3_settings.with_overrides(
        reports_root=tmp_path / "reports", reports_uri=f"s3://{s3_settings.logs_bucket}/reports"
    )


def _fake_papermill(monkeypatch: pytest.MonkeyPatch, passed: bool) -> None:
    """papermill.execute_notebook that writes an executed notebook and what the real notebooks write beside it."""
    import papermill

    def execute_notebook(source, output, parameters, **_):
        folder = Path(parameters["report_dir"])
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A report")])
        nbformat.write(nb, output)
        (folder / reports.SUMMARY).write_text(json.dumps({"passed": passed, "message": "revenue differs"}))
        docs = folder / "data_docs" / "static"
        docs.mkdir(parents=True)
        (folder / "data_docs" / "index.html").write_text("<html>docs</html>")
        (docs / "style.css").write_text("body {}")

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    monkeypatch.setattr(kernel, "ensure_kernel", lambda *a, **k: False)


@pytest.mark.parametrize("passed", [True, False], ids=["passed", "failed"])
def test_a_finished_report_folder_and_its_latest_pointer_reach_s3(publishing, monkeypatch, passed: bool):
    _fake_papermill(monkeypatch, passed)
    report = reports.run_notebook(publishing, "reconcile", "2026-03-03", {}, run_id="20260303T040000Z-abc123")

    assert report.ok is passed  # a failed reconciliation is copied too: it is the report most wanted
    prefix = "reports/reconcile/2026-03-03/"
    assert report.uri == f"s3://{publishing.logs_bucket}/{prefix}20260303T040000Z-abc123/"
    keys = _keys(publishing, publishing.logs_bucket, prefix)
    run = f"{prefix}20260303T040000Z-abc123/"
    assert set(keys) == {
        f"{prefix}LATEST",
        run + "reconcile.ipynb",
        run + "reconcile.html",
        run + "summary.json",
        run + "data_docs/index.html",
        run + "data_docs/static/style.css",
    }  # the local `latest` symlink stays local: S3 has none
    assert _body(publishing, publishing.logs_bucket, f"{prefix}LATEST").decode().strip() == "20260303T040000Z-abc123"
    local_html = (report.folder / "reconcile.html").read_bytes()
    assert _body(publishing, publishing.logs_bucket, run + "reconcile.html") == local_html
    head = aws.s3(publishing).head_object(Bucket=publishing.logs_bucket, Key=run + "reconcile.html")
    assert head["ContentType"] == "text/html"


def test_latest_is_not_copied_when_it_names_another_run(publishing, tmp_path):
    older = reports.report_folder(publishing, "analytics", "2026-03-03", "20260303T040000Z-old")
    newer = older.with_name("20260303T050000Z-new")
    for folder in (older, newer):
        folder.mkdir(parents=True)
        (folder / "analytics.html").write_text(folder.name)
    reports.mark_latest(newer)

    reports.publish(publishing, older, "analytics", "2026-03-03")
    keys = _keys(publishing, publishing.logs_bucket, "reports/analytics/")
    assert set(keys) == {"reports/analytics/2026-03-03/20260303T040000Z-old/analytics.html"}


def test_nothing_is_copied_without_the_setting(s3_settings, tmp_path):
    settings = s3_settings.with_overrides(reports_root=tmp_path / "reports")
    folder = reports.report_folder(settings, "analytics", "2026-03-03", "r1")
    folder.mkdir(parents=True)
    (folder / "analytics.html").write_text("x")
    assert reports.publish(settings, folder, "analytics", "2026-03-03") is None
    assert not _keys(settings, settings.logs_bucket, "")


def test_a_missing_bucket_is_one_sentence(s3_settings, tmp_path):
    settings = s3_settings.with_overrides(reports_root=tmp_path / "reports", reports_uri="s3://no-such-bucket-here/r")
    folder = reports.report_folder(settings, "analytics", "2026-03-03", "r1")
    folder.mkdir(parents=True)
    (folder / "analytics.html").write_text("x")
    with pytest.raises(UserError, match=r"^Could not copy the report .* to s3://no-such-bucket-here/r/analytics/"):
        reports.publish(settings, folder, "analytics", "2026-03-03")


@pytest.mark.parametrize("value", ["reports", "https://bucket/reports", "s3://"])
def test_reports_uri_must_be_an_s3_location(value: str):
    with pytest.raises(ValueError, match="ECOMDWH_REPORTS_URI must be an S3 location"):
        load_settings({"ECOMDWH_REPORTS_URI": value})


def test_reports_uri_is_read_from_the_environment():
    settings = load_settings({"ECOMDWH_REPORTS_URI": "s3://ecomdwh-dev-logs/reports/"})
    assert settings.reports_uri == "s3://ecomdwh-dev-logs/reports"
    assert load_settings({}).reports_uri is None
