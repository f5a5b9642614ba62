"""The jars the local Spark runtime (glue_local/runtime/spark.py) puts on its classpath, and where they live
(`ecomdwh setup` puts them there; the pipeline image, which has no Spark, never reads them).

- The two s3a jars Spark needs for S3 (hadoop-aws, aws-java-sdk-bundle), pinned by SHA-256.
- The direct output committer, compiled from glue_local/runtime/DirectOutputCommitter.java.
"""

from __future__ import annotations

from pathlib import Path

from ecomdwh.checksums import sha256_file
from ecomdwh.settings import Settings

S3A_JARS = {
    "hadoop-aws-3.3.1.jar": "6be50ad8a8b445d2802381b085b2a3ede5c29d353450a6a21f16b2fefa962b6e",
    "aws-java-sdk-bundle-1.11.901.jar": "b87175b32a16544cc1b37cf40390eb375833e62bed67f8ce6cde4b7ad6429ead",
}

COMMITTER_SOURCE = Path("glue_local", "runtime", "DirectOutputCommitter.java")
COMMITTER_CLASS = "glue_local.runtime.DirectOutputCommitter"


def s3a_jars(settings: Settings) -> list[Path]:
    return [settings.jars_dir / name for name in S3A_JARS]


def s3a_jars_ready(settings: Settings) -> bool:
    return all(p.exists() for p in s3a_jars(settings)) and (settings.jars_dir / ".verified").exists()


def committer_jar(settings: Settings) -> Path:
    """Where the compiled committer lives; the name carries the source's hash, so an edit rebuilds it."""
    return settings.jars_dir / f"direct-committer-{sha256_file(settings.root / COMMITTER_SOURCE)[:12]}.jar"
