"""A local SparkSession that talks to the S3 emulator the way Glue talks to S3.

Bound to 127.0.0.1, with the s3a jars on the driver classpath and `s3://`
mapped to s3a so Glue-style paths work unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from py4j.java_gateway import JavaClass, JavaMember
from pyspark import SparkContext
from pyspark.errors import PySparkRuntimeError
from pyspark.sql import SparkSession

from ecomdwh import spark_jars as jars
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings
from glue_local.etl.hadoopfs import java_class


def _classpath(settings: Settings) -> tuple[str, bool]:
    runtime = jars.runtime_jar(settings)
    direct = runtime.exists()  # compiled at setup where a JDK is present
    classpath = [*jars.s3a_jars(settings), *([runtime] if direct else [])]
    return ":".join(str(p) for p in classpath), direct


def java_binary(settings: Settings) -> Path:
    """The java that pyspark's launcher runs: JAVA_HOME's, else the PATH's."""
    return Path(settings.java_home, "bin", "java") if settings.java_home else Path(shutil.which("java") or "java")


def class_archive(settings: Settings) -> Path:
    """The JVM's class-data archive for this classpath and JDK (named by their hash, so a change makes a new one)."""
    import pyspark

    key = f"{java_binary(settings).resolve()}|{pyspark.__version__}|{_classpath(settings)[0]}"
    return settings.jars_dir / f"spark-classes-{hashlib.sha256(key.encode()).hexdigest()[:12]}.jsa"


# Classes whose static methods PySpark looks up by simple name on every call (`functions` once per column
# function: a class lookup that searches the classpath's jars, then a member lookup, each a py4j round trip,
# before the call itself). Each member is looked up once and kept (docs/performance.md).
SIMPLE_NAMES = (
    "org.apache.spark.sql.functions",
    "org.apache.spark.api.python.PythonUtils",
    "org.apache.spark.sql.api.python.PythonSQLUtils",
)


class StaticMembers:
    """A JVM class's static methods, each fetched over py4j once; any other member is asked every time."""

    def __init__(self, java_class: JavaClass) -> None:
        self._java_class = java_class

    def __getattr__(self, name: str):
        member = getattr(self._java_class, name)
        if isinstance(member, JavaMember):
            setattr(self, name, member)  # found in __dict__ from now on: no round trip
        return member


def import_simple_names(spark: SparkSession) -> None:
    jvm = spark.sparkContext._jvm
    for name in SIMPLE_NAMES:
        simple = name.rsplit(".", 1)[1]
        if not isinstance(jvm.__dict__.get(simple), StaticMembers):
            # An attribute of the view itself: py4j's JVMView is asked only for names it does not hold.
            setattr(jvm, simple, StaticMembers(java_class(spark, name)))


# Without these, a JVM that cannot map the archive (another JDK, another classpath) warns on stderr.
QUIET_ARCHIVE = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")

# The tiered JIT's own default. A JVM told to stop at C1 (`-XX:TieredStopAtLevel=1`, good for small data)
# would reserve 48 MB, which a long session fills: the JVM then flushes its compiled code or stops compiling.
CODE_CACHE = "-XX:ReservedCodeCacheSize=240m"


def _java_options(settings: Settings, record_classes_to: Path | None = None) -> str:
    log4j = Path(__file__).with_name("log4j2.properties")
    # A JVM that crashes writes its report beside Spark's log, not into the folder the user runs from.
    crash_report = settings.spark_log_path.with_name("hs_err_pid%p.log")
    options = [f"-Dlog4j2.configurationFile=file:{log4j}", CODE_CACHE, f"-XX:ErrorFile={crash_report}"]
    archive = class_archive(settings)
    if record_classes_to is not None:
        options.append(f"-XX:ArchiveClassesAtExit={record_classes_to}")
    elif archive.exists():
        # Spark's classes loaded from the archive `ecomdwh setup` made, for a faster start (docs/performance.md).
        # A stale archive is skipped quietly and the classes load from the jars.
        options += [f"-XX:SharedArchiveFile={archive}", *QUIET_ARCHIVE]
    if settings.spark_small_batch:
        options += _small_batch_java_options(settings)
    if settings.spark_java_options:
        options.append(settings.spark_java_options)
    return " ".join(options)


def ensure_class_archive(settings: Settings) -> bool:
    """Record the classes a Glue job loads into a class-data archive, once: True when made, False when in place."""
    archive = class_archive(settings)
    if archive.exists():
        return False
    partial = archive.with_name(f"{archive.stem}-{os.getpid()}.tmp")
    command = [sys.executable, "-m", "glue_local.runtime.warm_up", str(partial)]
    result = subprocess.run(command, cwd=settings.root, capture_output=True, text=True)
    if result.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1][:300]
        raise UserError(f"Spark's class archive could not be made ({tail}); rerun `ecomdwh setup`.")
    partial.replace(archive)
    jars.remove_older(archive)
    return True


# A command's own Spark that will read less new raw data than this runs as small data wants
# (docs/performance.md): the JVM compiles with the client JIT only and collects with the serial collector (on
# small data the optimising compiler and the concurrent collector cost more CPU than they save), adaptive
# execution does not re-plan each query stage, and sorts and aggregations take pages of 2 MiB, not the 64 MiB
# Spark sizes from the heap.
SMALL_BATCH_BELOW_BYTES = 64 << 20
CLIENT_JIT = "-XX:TieredStopAtLevel=1"
SERIAL_GC = "-XX:+UseSerialGC"
SMALL_BATCH_CONF = {"spark.sql.adaptive.enabled": "false", "spark.buffer.pageSize": "2m"}
_CHOSEN_JIT = re.compile(r"-XX:[+-]?Tiered(StopAtLevel|Compilation)")
_CHOSEN_GC = re.compile(r"-XX:[+-]Use\w*GC\b")


def for_batch(settings: Settings, batch_bytes: int | None) -> Settings:
    """`settings` for a command's own Spark that will read `batch_bytes` of new raw files (None: unknown, as is)."""
    small = batch_bytes is not None and batch_bytes < SMALL_BATCH_BELOW_BYTES
    return settings.with_overrides(spark_small_batch=True) if small else settings


def _small_batch_java_options(settings: Settings) -> list[str]:
    """The client JIT and the serial collector, each unless the user's JVM options choose their own."""
    user = settings.spark_java_options or ""
    ours = ((CLIENT_JIT, _CHOSEN_JIT), (SERIAL_GC, _CHOSEN_GC))
    return [option for option, chosen in ours if not chosen.search(user)]


def spark_conf(settings: Settings, record_classes_to: Path | None = None) -> dict[str, str]:
    classpath, direct = _classpath(settings)
    conf = {
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # Python workers run in this venv, where ecomdwh and glue_local are importable.
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        "spark.driver.extraClassPath": classpath,
        "spark.executor.extraClassPath": classpath,
        "spark.driver.extraJavaOptions": _java_options(settings, record_classes_to),
        # A cluster's executors take the user's JVM options too (the class archive is the driver's own).
        **(
            {"spark.executor.extraJavaOptions": f"{CODE_CACHE} {settings.spark_java_options}"}
            if settings.spark_java_options
            else {}
        ),
        "spark.sql.session.timeZone": "UTC",
        # The default 1 GiB heap cannot cache a landing day of a million order items' events (a G.1X Glue
        # worker has 16 GiB); set before the JVM starts, so it holds for the session.
        "spark.driver.memory": "4g",
        "spark.sql.shuffle.partitions": "2",
        # The six entity jobs need more generated classes than Spark's default cache holds, so each run
        # compiled most of them again (docs/performance.md).
        "spark.sql.codegen.cache.maxEntries": "2000",
        # Whole files per task: line order within a file is then the read order.
        "spark.sql.files.maxPartitionBytes": str(1 << 30),
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.legacy.timeParserPolicy": "CORRECTED",
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.fast.upload": "true",
        "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
        # Where the direct committer is missing (no javac at setup): one rename per file instead of two.
        # Safe, as the direct committer is, because a run becomes visible only through its manifest
        # (glue_local/etl/silver_store.py), never through its folders.
        "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "2",
        # Keep directory markers rather than deleting parents' markers after every file written.
        "spark.hadoop.fs.s3a.directory.marker.retention": "keep",
    }
    if settings.spark_small_batch:
        conf |= SMALL_BATCH_CONF
    if direct:
        # Parquet straight to its final key, as Glue's S3-optimised committer does: no S3 renames.
        conf["spark.sql.parquet.output.committer.class"] = jars.COMMITTER_CLASS
        # Each file one PUT, with no HEAD and LIST before it (the class says why that is safe here).
        conf["spark.hadoop.fs.s3.impl"] = conf["spark.hadoop.fs.s3a.impl"] = jars.FILESYSTEM_CLASS
        conf["spark.hadoop.fs.s3a.create.performance"] = "true"
    if settings.uses_emulator:
        key, secret = settings.emulator_credentials
        conf |= {
            "spark.hadoop.fs.s3a.endpoint": settings.endpoint_url or "",
            "spark.hadoop.fs.s3a.endpoint.region": settings.region,
            "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
            "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "spark.hadoop.fs.s3a.access.key": key,
            "spark.hadoop.fs.s3a.secret.key": secret,
            "spark.hadoop.fs.s3a.attempts.maximum": "3",
            # The emulator drops objects when paging keys with "=" (ecomdwh.aws.list_pages): one page.
            "spark.hadoop.fs.s3a.paging.maximum": "100000",
            "spark.hadoop.fs.s3a.retry.limit": "3",
        }
    return conf


_JDK_HINT = "a Java 17 JDK (e.g. `export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64`)"


def java_missing(settings: Settings) -> str | None:
    """Why Spark would find no java, the way pyspark's launcher looks (JAVA_HOME, else the PATH); None if found."""
    home = settings.java_home
    if home:
        if os.access(Path(home, "bin", "java"), os.X_OK):
            return None
        return f"Spark needs Java, but JAVA_HOME is {home}, which holds no bin/java; point JAVA_HOME at {_JDK_HINT}."
    if shutil.which("java") is None:
        return (
            "Spark needs a Java 17 JDK, but there is no java on the PATH and JAVA_HOME is not set; install one "
            "(e.g. `apt-get install openjdk-17-jdk-headless`) and point JAVA_HOME at it "
            "(e.g. `export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64`)."
        )
    return None


def refused_java_options(settings: Settings) -> str | None:
    """Why Java refuses an option of ECOMDWH_SPARK_JAVA_OPTIONS it does not know, or None. Spark's launcher starts
    the JVM with -XX:+IgnoreUnrecognizedVMOptions (for its own Java-version-dependent flags), so a misspelled
    -XX option of the user's would be dropped without a word; each option string is checked once."""
    options = settings.spark_java_options
    if not options:
        return None
    java = str(java_binary(settings))
    checked = settings.state_dir / "java-options-checked" / hashlib.sha256(f"{java}\n{options}".encode()).hexdigest()
    if checked.exists():
        return None
    ran = subprocess.run([java, *shlex.split(options), "-version"], capture_output=True, text=True, check=False)
    # "Unrecognized VM option 'X'", then "Did you mean 'Y'? Error: Could not create the Java Virtual Machine."
    said = [
        re.sub(r"\s*Error:.*", "", line).strip()
        for line in ran.stderr.splitlines()
        if line.startswith(("Unrecognized", "Did you mean"))
    ]
    if ran.returncode != 0 and said:
        return f"ECOMDWH_SPARK_JAVA_OPTIONS holds an option this Java does not know ({'; '.join(said)}); correct it."
    # Any other refusal (a value out of range, say) stops the JVM itself, which then says why.
    checked.parent.mkdir(parents=True, exist_ok=True)
    checked.touch()
    return None


def python_logs_to_spark_log(settings: Settings) -> None:
    """py4j reports a lost JVM on the root logger, which would print a traceback between a command's lines;
    unless the program logs somewhere of its own, the root logger's records go to the Spark log instead."""
    root = logging.getLogger()
    if root.handlers:
        return
    settings.spark_log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.spark_log_path, delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s python %(name)s %(levelname)s %(message)s"))
    root.addHandler(handler)


def _launch_gateway(settings: Settings, conf: dict[str, str]) -> None:
    """Start the JVM as pyspark would, with its stdout and stderr appended to the Spark log; a JVM already
    started (this process's, or one pyspark was handed through PYSPARK_GATEWAY_PORT) is left as it is.
    A JVM that exits before it starts fails with a sentence built from what it wrote."""
    from pyspark import SparkConf
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None or "PYSPARK_GATEWAY_PORT" in os.environ:
        return
    log = settings.spark_log_path
    log.parent.mkdir(parents=True, exist_ok=True)
    with SparkContext._lock, log.open("ab") as sink:
        if SparkContext._gateway is None:
            written_before = sink.tell()
            try:
                gateway = launch_gateway(
                    SparkConf().setAll(conf.items()), popen_kwargs={"stdout": sink, "stderr": sink}
                )
            except PySparkRuntimeError as exc:
                if exc.getErrorClass() != "JAVA_GATEWAY_EXITED":
                    raise
                sink.flush()
                with log.open("rb") as written:
                    written.seek(written_before)
                    raise UserError(_start_failure(written.read().decode(errors="replace"), log)) from exc
            SparkContext._gateway, SparkContext._jvm = gateway, gateway.jvm


# What a JVM that cannot start prints around the reason itself.
_JVM_BOILERPLATE = (
    "Error: Could not create the Java Virtual Machine.",
    "Error: A fatal exception has occurred. Program will exit.",
    "Error occurred during initialization of VM",
)


_JVM_CRASH = "A fatal error has been detected by the Java Runtime Environment:"
_JVM_LOG_INFO = re.compile(r"\[[^\]]*\](\[[^\]]*\])*\[(info|debug|trace)\s*\]")


def _start_failure(written: str, log: Path) -> str:
    """The sentence for a Spark JVM that exited before it started, from what it wrote (`written`) to `log`."""
    lines = [line.strip() for line in written.splitlines() if line.strip()]
    # A crash writes a block of "#" lines, and -Xlog "[0.651s][info]..." lines: neither is the reason.
    crash = [text for line in lines if line.startswith("#") and (text := line.lstrip("#").strip())]
    said = [
        line
        for line in lines
        if not line.startswith("#") and not _JVM_LOG_INFO.match(line) and line not in _JVM_BOILERPLATE
    ]
    if _JVM_CRASH in crash:
        # Without words of its own, the crash block's first line after its heading says what happened.
        after = crash[crash.index(_JVM_CRASH) + 1 :]
        reason = _shortened(said[0] if said else (after or ["no reason given"])[0])
        report = next((line for line in crash if line.endswith(".log") and "hs_err_pid" in line), None)
        where = f"its crash report is {report} and its output is in {log}" if report else f"its output is in {log}"
        return (
            f"Spark's Java process crashed before it started ({reason}); {where}; check "
            f"ECOMDWH_SPARK_JAVA_OPTIONS and the JDK: Spark needs {_JDK_HINT}."
        )
    if not said:
        return (
            "Spark's Java process exited before it started and wrote nothing, so it was stopped from outside "
            f"(killed, or out of memory); run the command again, and if it stops again see {log}."
        )
    return (
        f"Spark's Java process exited before it started, saying: {_shortened(said[0])} (all of it is in {log}); "
        "check ECOMDWH_SPARK_JAVA_OPTIONS and the JDK: Spark needs "
        f"{_JDK_HINT}."
    )


def _shortened(line: str) -> str:
    return line if len(line) <= 200 else line[:197] + "..."


def get_spark(
    settings: Settings, app_name: str = "ecomdwh-glue-local", record_classes_to: Path | None = None
) -> SparkSession:
    """The process's SparkSession (created once, reused after); `record_classes_to`: where the JVM writes
    the class archive of what it loaded, at its exit."""
    if SparkContext._active_spark_context is None and (missing := java_missing(settings)):
        raise UserError(missing)
    if SparkContext._gateway is None and (refused := refused_java_options(settings)):
        raise UserError(refused)
    if not jars.s3a_jars_ready(settings):
        raise UserError("The s3a jars are missing; run `make setup` (or `ecomdwh setup`) first.")
    # The JVM's own address lookups must stay on loopback too.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # PySpark picks its worker interpreter from the environment, not from the conf.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(settings.spark_master).appName(app_name)
    conf = spark_conf(settings, record_classes_to)
    if not settings.spark_master.startswith("local"):
        # A cluster's executors get the jars from the driver, as Glue ships --extra-jars.
        conf["spark.jars"] = ",".join(conf["spark.driver.extraClassPath"].split(":"))
    for key, value in conf.items():
        builder = builder.config(key, value)
    _launch_gateway(settings, {"spark.master": settings.spark_master, "spark.app.name": app_name, **conf})
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    python_logs_to_spark_log(settings)
    import_simple_names(spark)
    if not settings.spark_master.startswith("local"):
        # The executors' Python imports the job logic from the zip Glue gets as --extra-py-files.
        from glue_local.runtime.package import build_etl_zip

        spark.sparkContext.addPyFile(str(build_etl_zip(settings.cache_dir / "glue-etl.zip")))
    return spark
