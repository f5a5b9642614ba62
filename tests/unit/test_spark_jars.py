"""Rebuilt runtime jars and class archives replace the ones before them instead of piling up in the cache."""

from __future__ import annotations

from pathlib import Path

from ecomdwh.spark_jars import remove_older


def test_a_new_jar_or_archive_removes_the_ones_it_replaces_and_nothing_else(tmp_path: Path):
    names = [
        "runtime-classes-aaaaaaaaaaaa.jar",
        "runtime-classes-bbbbbbbbbbbb.jar",
        "spark-classes-cccccccccccc.jsa",
        "spark-classes-dddddddddddd.jsa",
        "spark-classes-dddddddddddd-123.tmp",  # another process's archive, still being written
        "hadoop-aws-3.3.1.jar",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")

    assert remove_older(tmp_path / "runtime-classes-bbbbbbbbbbbb.jar") == [
        tmp_path / "runtime-classes-aaaaaaaaaaaa.jar"
    ]
    assert remove_older(tmp_path / "spark-classes-dddddddddddd.jsa") == [tmp_path / "spark-classes-cccccccccccc.jsa"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(names) - {names[0], names[2]})
