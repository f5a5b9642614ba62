"""The landing plan: what fits the contract layout is accepted, the rest refused by rule (no S3 needed)."""

from pathlib import Path

import pytest

from ecomdwh import landing
from ecomdwh.bronze_files import gzip_bytes
from ecomdwh.errors import UserError


def put(root: Path, rel: str, data: bytes = b"customer_id\nC1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_accepts_contract_layout_and_skips_metadata(tmp_path: Path):
    put(tmp_path, "shop/customers/ingest_date=2026-03-01/customers-1.csv")
    put(tmp_path, "shop/orders/ingest_date=2026-03-02/orders-1.jsonl.gz", gzip_bytes(b'{"order_id":"O1"}\n'))
    put(tmp_path, "_ground_truth.json", b"{}")
    put(tmp_path, "shop/customers/ingest_date=2026-03-01/.DS_Store", b"x")
    files = landing.plan(tmp_path)
    assert [f.key for f in files] == [
        "shop/customers/ingest_date=2026-03-01/customers-1.csv",
        "shop/orders/ingest_date=2026-03-02/orders-1.jsonl.gz",
    ]
    assert landing.landing_days(files) == ["2026-03-01", "2026-03-02"]
    assert [f.key for f in landing.plan(tmp_path, "2026-03-02")] == [files[1].key]


@pytest.mark.parametrize(
    ("rel", "data", "rule"),
    [
        ("shop/widgets/ingest_date=2026-03-01/w.csv", b"a\n", "not an entity of the bronze contract"),
        ("payments/customers/ingest_date=2026-03-01/c.csv", b"a\n", "not an entity of the bronze contract"),
        ("shop/customers/2026-03-01/c.csv", b"a\n", "is not ingest_date=YYYY-MM-DD"),
        ("shop/customers/ingest_date=2026-02-30/c.csv", b"a\n", "not a calendar date"),
        ("shop/customers/ingest_date=2026-03-01/c.jsonl", b"a\n", "must end in .csv or .csv.gz"),
        ("shop/orders/ingest_date=2026-03-01/o.csv", b"a\n", "must end in .jsonl or .jsonl.gz"),
        ("shop/orders/ingest_date=2026-03-01/o.jsonl.gz", b"{}\n", "gzip compression disagree"),
        ("shop/orders/ingest_date=2026-03-01/o.jsonl", gzip_bytes(b"{}\n"), "gzip compression disagree"),
        ("shop/orders/ingest_date=2026-03-01/o.jsonl", b"", "is empty"),
        ("shop/orders/o.jsonl", b"{}\n", "is not at <source>/<entity>/ingest_date=YYYY-MM-DD/<file>"),
        ("stray.csv", b"a\n", "is not at <source>/<entity>/ingest_date=YYYY-MM-DD/<file>"),
    ],
)
def test_refuses_off_contract_files_naming_file_and_rule(tmp_path: Path, rel: str, data: bytes, rule: str):
    put(tmp_path, "shop/customers/ingest_date=2026-03-01/good.csv")
    put(tmp_path, rel, data)
    with pytest.raises(UserError) as err:
        landing.plan(tmp_path)
    message = str(err.value)
    assert rel in message and rule in message and "nothing was uploaded" in message


def test_empty_or_missing_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(UserError, match="is not a folder"):
        landing.plan(tmp_path / "nope")
    with pytest.raises(UserError, match="No landing files"):
        landing.plan(tmp_path)
