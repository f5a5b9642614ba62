"""The landing plan: what fits the contract layout is accepted, the rest refused by rule (no S3 needed)."""

import os
from pathlib import Path

import pytest

from ecomdwh import landing
from ecomdwh.bronze_files import gzip_bytes
from ecomdwh.contract import is_hidden_name
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
        ("shop/orders/ingest_date=2026-03-01/_late.jsonl", b"{}\n", "names starting with _ or . are hidden"),
        ("shop/orders/ingest_date=2026-03-01/_SUCCESS", b"x", "hidden from Spark and Glue: rename it"),
        ("_extra/shop/orders/ingest_date=2026-03-01/o.jsonl", b"{}\n", "is not at <source>/<entity>"),
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


def test_hidden_name_rule_matches_spark_and_hadoop():
    assert is_hidden_name("_late.jsonl") and is_hidden_name(".late.jsonl") and is_hidden_name("_SUCCESS")
    assert is_hidden_name("orders.jsonl._COPYING_")
    assert not is_hidden_name("orders_1.jsonl") and not is_hidden_name("ingest_date=2026-03-01")


def test_dot_names_are_skipped_everywhere_and_never_landed(tmp_path: Path):
    put(tmp_path, "shop/customers/ingest_date=2026-03-01/customers-1.csv")
    put(tmp_path, "shop/customers/ingest_date=2026-03-01/.customers-1.csv.swp", b"x")
    put(tmp_path, "shop/customers/ingest_date=2026-03-01/._customers-1.csv", b"x")  # macOS AppleDouble
    put(tmp_path, ".git/config", b"x")
    put(tmp_path, "shop/.cache/ingest_date=2026-03-01/c.csv", b"a\n")
    (tmp_path / ".link").symlink_to("/etc")  # a dot-named link is skipped, not followed
    assert [f.key for f in landing.plan(tmp_path)] == ["shop/customers/ingest_date=2026-03-01/customers-1.csv"]


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_symbolic_links_are_refused_not_followed(tmp_path: Path, kind: str):
    root = tmp_path / "landing"
    put(root, "shop/customers/ingest_date=2026-03-01/good.csv")
    outside = tmp_path / "outside"
    target = put(outside, "ingest_date=2026-03-02/secret.jsonl", b'{"order_id":"O1"}\n')
    if kind == "file":
        link = root / "shop/orders/ingest_date=2026-03-01/o.jsonl"
        link.parent.mkdir(parents=True)
        link.symlink_to(target)
    else:
        link = root / "shop/orders"
        link.symlink_to(outside, target_is_directory=True)
    with pytest.raises(UserError) as err:
        landing.plan(root)
    message = str(err.value)
    rel = str(link.relative_to(root))
    assert f"{rel} is a symbolic link" in message and "nothing was uploaded" in message
    assert "secret.jsonl" not in message  # the linked folder was not walked


def test_special_files_are_refused(tmp_path: Path):
    put(tmp_path, "shop/customers/ingest_date=2026-03-01/good.csv")
    fifo = tmp_path / "shop/customers/ingest_date=2026-03-01/pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="pipe.csv is not a regular file"):
        landing.plan(tmp_path)


def test_top_level_underscore_files_are_metadata(tmp_path: Path):
    put(tmp_path, "shop/customers/ingest_date=2026-03-01/good.csv")
    put(tmp_path, "_ground_truth.json", b"{}")
    put(tmp_path, "_notes.txt", b"x")
    assert len(landing.plan(tmp_path)) == 1
