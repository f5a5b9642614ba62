"""Tools the workbench installs beside its own venv, once, from PyPI only.

- LocalStack in a virtualenv of its own: its pins clash with ours, and
  4.13.1 is the newest release that runs on Python 3.11.
- The two s3a jars Spark needs for S3 (hadoop-aws, aws-java-sdk-bundle).
  Maven is out of reach, so they are taken from the Apache-2.0
  `sagemaker_pyspark` sdist on PyPI and verified by SHA-256.
- checkov (the terraform security scan) in a virtualenv of its own: it
  downgrades boto3, packaging and networkx when installed beside us.
- The local runtime's Java classes (the direct output committer, the S3A
  filesystem that creates without probes), compiled from their sources in
  glue_local/runtime with the machine's javac.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from ecomdwh.checksums import sha256_file
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings
from ecomdwh.spark_jars import RUNTIME_SOURCES, S3A_JARS, remove_older, runtime_jar, s3a_jars, s3a_jars_ready

LOCALSTACK_REQUIREMENTS = (
    "localstack-core[base-runtime]==4.13.1",
    "cbor2<6",
    "pyopenssl==25.3.0",
    "cryptography>=45.0.7,<47",
    "service_identity==24.2.0",
)

# The newest checkov when pinned; it installs and runs on Python 3.11.
CHECKOV_REQUIREMENTS = ("checkov==3.3.30",)

S3A_SDIST = "sagemaker_pyspark==1.4.5"


def _run(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise UserError(f"Could not {what} ({' / '.join(tail)}); check that PyPI is reachable and retry `make setup`.")


def localstack_ready(settings: Settings) -> bool:
    return (settings.localstack_python.parent.parent / ".installed").exists()


def ensure_localstack(settings: Settings) -> bool:
    """Create the LocalStack venv if it is missing. True when it installed something."""
    if localstack_ready(settings):
        return False
    venv = settings.localstack_python.parent.parent
    _run([sys.executable, "-m", "venv", "--clear", str(venv)], "create the LocalStack virtualenv")
    _run(
        [str(settings.localstack_python), "-m", "pip", "install", "--quiet", *LOCALSTACK_REQUIREMENTS],
        "install LocalStack 4.13.1 into its own virtualenv",
    )
    (venv / ".installed").write_text("\n".join(LOCALSTACK_REQUIREMENTS) + "\n")
    return True


def checkov_bin(settings: Settings) -> Path:
    return settings.cache_dir / "checkov-venv" / "bin" / "checkov"


def checkov_ready(settings: Settings) -> bool:
    return checkov_bin(settings).exists() and (checkov_bin(settings).parent.parent / ".installed").exists()


def ensure_checkov(settings: Settings) -> bool:
    """Create the checkov venv if it is missing. True when it installed something."""
    if checkov_ready(settings):
        return False
    venv = checkov_bin(settings).parent.parent
    _run([sys.executable, "-m", "venv", "--clear", str(venv)], "create the checkov virtualenv")
    _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *CHECKOV_REQUIREMENTS],
        f"install {CHECKOV_REQUIREMENTS[0]} into its own virtualenv",
    )
    (venv / ".installed").write_text("\n".join(CHECKOV_REQUIREMENTS) + "\n")
    return True


def ensure_s3a_jars(settings: Settings) -> bool:
    """Fetch and verify the s3a jars if they are missing. True when it fetched them."""
    if s3a_jars_ready(settings):
        return False
    settings.jars_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.cache_dir) as tmp:
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary=:all:",
                S3A_SDIST,
                "-d",
                tmp,
            ],
            f"download the {S3A_SDIST} sdist that carries the s3a jars",
        )
        sdist = next(Path(tmp).glob("sagemaker_pyspark-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if name in S3A_JARS and "/deps/jars/" in member.name:
                    source = tar.extractfile(member)
                    if source is None:
                        continue
                    (settings.jars_dir / name).write_bytes(source.read())
    for path in s3a_jars(settings):
        if not path.exists():
            raise UserError(f"{S3A_SDIST} did not contain {path.name}; the s3a jars cannot be set up.")
        actual = sha256_file(path)
        if actual != S3A_JARS[path.name]:
            path.unlink()
            pinned = S3A_JARS[path.name]
            raise UserError(f"{path.name} has SHA-256 {actual}, not the pinned {pinned}; refusing to use it.")
    (settings.jars_dir / ".verified").write_text("".join(f"{S3A_JARS[p.name]}  {p.name}\n" for p in s3a_jars(settings)))
    return True


def ensure_runtime_jar(settings: Settings) -> bool | None:
    """Compile the runtime's classes if their jar is missing: True when built, False when in place, None without
    javac. The s3a jars must be in place: the filesystem class extends hadoop-aws's."""
    jar = runtime_jar(settings)
    if jar.exists():
        return False
    javac = shutil.which("javac")
    if javac is None:
        return None
    import pyspark

    hadoop_api = sorted((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))
    classpath = [*hadoop_api, *s3a_jars(settings)]
    jar.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.cache_dir) as tmp:
        # Java 17 bytecode: Glue 5.0's runtime, and the oldest JVM pyspark 3.5 is run with here.
        sources = [str(settings.root / p) for p in RUNTIME_SOURCES]
        cmd = [javac, "--release", "17", "-cp", ":".join(map(str, classpath)), "-d", tmp, *sources]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            names = ", ".join(p.name for p in RUNTIME_SOURCES)
            raise UserError(f"javac could not compile {names}: {result.stderr.strip()[:300]}")
        partial = jar.with_suffix(".tmp")
        with zipfile.ZipFile(partial, "w") as archive:
            for path in sorted(Path(tmp).rglob("*.class")):
                archive.write(path, path.relative_to(tmp).as_posix())
        partial.replace(jar)
    remove_older(jar)
    return True
