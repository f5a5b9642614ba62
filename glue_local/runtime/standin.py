"""A small local stand-in for awsglue's GlueContext, DynamicFrame and Job.

`awsgluedataplanepython` gives the Python half of Glue 5 but its JVM half
ships only inside AWS's Glue image, so `GlueContext(sc)` cannot be built
here. The runner puts these classes in place of `awsglue.context` and
`awsglue.job` only when that JVM library is absent; in the Glue image or on
AWS the real ones run and this module is never imported.

It provides what the project's job scripts use, and refuses the rest loudly:
- `create_dynamic_frame.from_options(connection_type="s3", ...)` for CSV
  (including raw lines with quoting off, read from the stand-in's own listing:
  `listed_read`) and JSON, with `attachFilename`;
- job bookmarks per job and `transformation_ctx`, kept as JSON in S3,
  advanced only by `Job.commit()`; enable, pause and disable as on Glue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from awsglue.job import Job as _GlueJob
from pyspark import SparkContext
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_local.etl import hadoopfs
from glue_local.runtime import listed_read

BOOKMARK_OPTIONS = ("job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable")


@dataclass
class _Config:
    bookmark_root: str | None = None


config = _Config()


def bookmark_uri(job_name: str, transformation_ctx: str) -> str:
    if config.bookmark_root is None:
        raise RuntimeError("The local Glue runtime has no bookmark location; run jobs through `ecomdwh glue run`.")
    return f"{config.bookmark_root.rstrip('/')}/{job_name}/{transformation_ctx}.json"


class DynamicFrame:
    """Just enough of Glue's DynamicFrame: a DataFrame with a name."""

    def __init__(self, df: DataFrame, glue_ctx: GlueContext, name: str = "") -> None:
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name

    def toDF(self) -> DataFrame:  # noqa: N802 - Glue's name
        return self._df

    def count(self) -> int:
        return self._df.count()

    @classmethod
    def fromDF(cls, dataframe: DataFrame, glue_ctx: GlueContext, name: str) -> DynamicFrame:  # noqa: N802
        return cls(dataframe, glue_ctx, name)


class _DynamicFrameReader:
    def __init__(self, glue_context: GlueContext) -> None:
        self._glue_context = glue_context

    def from_options(
        self,
        connection_type: str,
        connection_options: dict | None = None,
        format: str | None = None,  # noqa: A002 - Glue's name
        format_options: dict | None = None,
        transformation_ctx: str = "",
        **kwargs: object,
    ) -> DynamicFrame:
        return self._glue_context.create_dynamic_frame_from_options(
            connection_type, connection_options or {}, format, format_options or {}, transformation_ctx, **kwargs
        )


@dataclass
class _Bookmarks:
    job_name: str
    option: str
    # transformation_ctx -> file path -> modification time (ms) of what was processed
    state: dict[str, dict[str, int]] = field(default_factory=dict)
    pending: dict[str, dict[str, int]] = field(default_factory=dict)


class GlueContext:
    def __init__(self, sparkContext: SparkContext | None = None, **options: object) -> None:  # noqa: N803
        self.spark_session = SparkSession.builder.getOrCreate()
        self.sparkSession = self.spark_session  # noqa: N815 - Glue exposes both spellings
        self._sc = sparkContext or self.spark_session.sparkContext
        self.create_dynamic_frame = _DynamicFrameReader(self)
        self._bookmarks: _Bookmarks | None = None

    def get_logger(self):
        return self._sc._jvm.org.apache.log4j.LogManager.getLogger("glue_local")

    def _new_files(self, paths: list[str], transformation_ctx: str) -> list[hadoopfs.FileStatus]:
        files = [f for p in paths for f in hadoopfs.list_files(self.spark_session, p)]
        bookmarks = self._bookmarks
        if bookmarks is None or not transformation_ctx or bookmarks.option == "job-bookmark-disable":
            return files
        if transformation_ctx not in bookmarks.state:
            text = hadoopfs.read_text(self.spark_session, bookmark_uri(bookmarks.job_name, transformation_ctx))
            bookmarks.state[transformation_ctx] = json.loads(text)["files"] if text else {}
        seen = bookmarks.state[transformation_ctx]
        new = [f for f in files if seen.get(f.path) != f.modified_ms]
        bookmarks.pending.setdefault(transformation_ctx, {}).update({f.path: f.modified_ms for f in new})
        return new

    def create_dynamic_frame_from_options(
        self,
        connection_type: str,
        connection_options: dict,
        format: str | None = None,  # noqa: A002
        format_options: dict | None = None,
        transformation_ctx: str = "",
        **kwargs: object,
    ) -> DynamicFrame:
        if connection_type != "s3":
            raise NotImplementedError(
                f"the local Glue stand-in reads only connection_type='s3', not {connection_type!r}"
            )
        options = dict(format_options or {})
        files = self._new_files(list(connection_options["paths"]), transformation_ctx)
        filename_col = options.pop("attachFilename", None)
        df = self._read(files, format, options)
        if filename_col:
            df = df.withColumn(str(filename_col), F.input_file_name())
        return DynamicFrame(df, self, transformation_ctx)

    def _read(self, listed: list[hadoopfs.FileStatus], fmt: str | None, options: dict) -> DataFrame:
        spark = self.spark_session
        if fmt == "csv" and str(options.get("quoteChar")) == "-1" and not options.get("withHeader"):
            # Quoting off and a separator absent from the data: Glue yields each line whole as `col0`.
            return listed_read.read_text(spark, listed).withColumnRenamed("value", "col0")
        files = [f.path for f in listed]
        if fmt == "csv":
            reader = spark.read.option("header", bool(options.get("withHeader"))).option(
                "sep", options.get("separator", ",")
            )
            return reader.csv(files) if files else listed_read.no_lines(spark).withColumnRenamed("value", "col0")
        if fmt == "json":
            return spark.read.json(files) if files else listed_read.no_lines(spark).withColumnRenamed("value", "col0")
        raise NotImplementedError(f"the local Glue stand-in does not read format {fmt!r}")


class Job(_GlueJob):
    """Glue's Job with bookmarks kept by this module; the argument classmethods stay Glue's own."""

    def __init__(self, glue_context: GlueContext) -> None:  # not calling super(): it needs the JVM half
        self._glue_context = glue_context
        self._name: str | None = None

    def init(self, job_name: str, args: dict | None = None) -> None:
        option = (args or {}).get("job_bookmark_option") or "job-bookmark-disable"
        if option not in BOOKMARK_OPTIONS:
            raise ValueError(f"--job-bookmark-option must be one of {', '.join(BOOKMARK_OPTIONS)}, not {option!r}")
        self._name = job_name
        self._glue_context._bookmarks = _Bookmarks(job_name, option)

    def isInitialized(self) -> bool:  # noqa: N802
        return self._name is not None

    def commit(self) -> None:
        """Advance the bookmarks of this run (enable only), after the job's output is committed."""
        bookmarks = self._glue_context._bookmarks
        if bookmarks is None or bookmarks.option != "job-bookmark-enable":
            return
        spark = self._glue_context.spark_session
        for ctx, processed in bookmarks.pending.items():
            if not processed:  # nothing new: the bookmark stands as it is, with no write
                continue
            files = {**bookmarks.state.get(ctx, {}), **processed}
            document = {"job_name": bookmarks.job_name, "transformation_ctx": ctx, "files": files}
            hadoopfs.write_text(spark, bookmark_uri(bookmarks.job_name, ctx), json.dumps(document, sort_keys=True))
            bookmarks.state[ctx] = files
        bookmarks.pending.clear()
