"""Read files the stand-in has already listed, without Spark listing them again.

`spark.read.text(paths)` asks S3 about every path before it reads it: an
existence check, then a listing of the path (a LIST and a HEAD on s3a), then
the open and the read. The stand-in already holds each new file's size and
modification time from its one listing of the prefix (that is how bookmarks
decide what is new), so it hands Spark a file index that knows them. Each
file then costs its open and its read only, as on Glue, whose reader works
from its own listing; with the runtime's S3A filesystem, the open needs no
HEAD either (CreatePerformanceS3AFileSystem.java). The rows, their order within a file and
`input_file_name()` are those of `spark.read.text`.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from ecomdwh.spark_jars import FILESYSTEM_CLASS
from glue_local.etl.hadoopfs import FileStatus, java_class

# The cache lives as long as the read's file index: large enough for any listing a run reads.
_CACHE_BYTES = 1 << 30


def read_text(spark: SparkSession, files: list[FileStatus]) -> DataFrame:
    """One row per line of `files` (column `value`), as `spark.read.text([f.path for f in files])` gives."""
    if not files:
        return no_lines(spark)
    jvm = spark.sparkContext._jvm
    gateway = spark.sparkContext._gateway
    jsession = spark._jsparkSession
    datasources = jvm.org.apache.spark.sql.execution.datasources
    conf = spark.sparkContext._jsc.hadoopConfiguration()

    # Named without a lookup, and the block size asked once: a run may list thousands of files.
    path_class = java_class(spark, "org.apache.hadoop.fs.Path")
    status_class = java_class(spark, "org.apache.hadoop.fs.FileStatus")
    fs = path_class(files[0].path).getFileSystem(conf)
    block_size = fs.getDefaultBlockSize(path_class(files[0].path))
    cache = datasources.SharedInMemoryCache(_CACHE_BYTES, -1).createForNewClient()
    roots = jvm.java.util.ArrayList()
    for f in files:
        # Qualified as Spark's own listing would name it: input_file_name() and the base path follow.
        path = fs.makeQualified(path_class(f.path))
        statuses = gateway.new_array(status_class, 1)
        statuses[0] = status_class(f.size, False, 1, block_size, f.modified_ms, path)
        cache.putLeafFiles(path, statuses)
        roots.add(path)

    to_scala = jvm.org.apache.spark.api.python.PythonUtils
    no_options = to_scala.toScalaMap(jvm.java.util.HashMap())
    none = jvm.scala.Option.apply(None)
    index = datasources.InMemoryFileIndex(jsession, to_scala.toSeq(roots), no_options, none, cache, none, none)
    if fs.getClass().getName() == FILESYSTEM_CLASS:
        # The runtime's S3A filesystem then opens each of these files without a HEAD.
        fs.rememberListed(jvm.scala.collection.JavaConverters.seqAsJavaList(index.allFiles()))
    text = jvm.org.apache.spark.sql.types.StructType.fromDDL("value string")
    relation = datasources.HadoopFsRelation(
        index,
        jvm.org.apache.spark.sql.types.StructType(),
        text,
        none,
        datasources.text.TextFileFormat(),
        no_options,
        jsession,
    )
    return DataFrame(jsession.baseRelationToDataFrame(relation), spark)


def no_lines(spark: SparkSession) -> DataFrame:
    """No rows, column `value`: a local relation, so asking whether it is empty runs no Spark job (an empty
    `createDataFrame` runs two, the costliest part of a run with nothing new)."""
    return spark.sql("select cast(null as string) as value where false")
