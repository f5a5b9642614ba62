"""The jars the local Spark runtime (glue_local/runtime/spark.py) puts on its classpath, and where they live
(`ecomdwh setup` puts them there; the pipeline image, which has no Spark, never reads them).

- The two s3a jars Spark needs for S3 (hadoop-aws, aws-java-sdk-bundle), pinned by SHA-256.
- The runtime's own classes, compiled from glue_local/runtime/*.java: the direct output committer and the
  S3A filesystem that creates without probes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ecomdwh.checksums import sha256_file
from ecomdwh.settings import Settings

S3A_JARS = {
    "hadoop-aws-3.3.1.jar": "6be50ad8a8b445d2802381b085b2a3ede5c29d353450a6a21f16b2fefa962b6e",
    "aws-java-sdk-bundle-1.11.901.jar": "b87175b32a16544cc1b37cf40390eb375833e62bed67f8ce6cde4b7ad6429ead",
}

RUNTIME_SOURCES = (
    Path("glue_local", "runtime", "DirectOutputCommitter.java"),
    Path("glue_local", "runtime", "CreatePerformanceS3AFileSystem.java"),
)
COMMITTER_CLASS = "glue_local.runtime.DirectOutputCommitter"
FILESYSTEM_CLASS = "org.apache.hadoop.fs.s3a.CreatePerformanceS3AFileSystem"


def s3a_jars(settings: Settings) -> list[Path]:
    return [settings.jars_dir / name for name in S3A_JARS]


def s3a_jars_ready(settings: Settings) -> bool:
    return all(p.exists() for p in s3a_jars(settings)) and (settings.jars_dir / ".verified").exists()


def runtime_jar(settings: Settings) -> Path:
    """Where the compiled runtime classes live; the name carries the sources' hash, so an edit rebuilds them."""
    digest = hashlib.sha256("".join(sha256_file(settings.root / p) for p in RUNTIME_SOURCES).encode()).hexdigest()
    return settings.jars_dir / f"runtime-classes-{digest[:12]}.jar"


def remove_older(current: Path) -> list[Path]:
    """Remove the files `current` replaces: those beside it named as it is but for the hash at the end (a
    runtime jar or class archive built for sources, a classpath or a JDK since changed). Returns what was
    removed."""
    stem, _, _ = current.stem.rpartition("-")
    older = [p for p in current.parent.glob(f"{stem}-*{current.suffix}") if p != current]
    for path in older:
        path.unlink(missing_ok=True)
    return older
