"""Small file operations through Spark's own Hadoop FileSystem.

The jobs touch S3 only through Spark: the same code works with s3a against
the emulator here and with Glue's S3 filesystem on AWS, with no boto3
endpoint or credential wiring of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from py4j.java_gateway import JavaClass
from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession

from ecomdwh.contract import is_hidden_name


@dataclass(frozen=True)
class FileStatus:
    path: str
    size: int
    modified_ms: int


def java_class(spark: SparkSession, name: str) -> JavaClass:
    """A JVM class by its full name, with no py4j command (`jvm.org.apache...` asks the JVM at each dot)."""
    return JavaClass(name, spark.sparkContext._jvm._gateway_client)


def _fs_and_path(spark: SparkSession, uri: str):
    path = java_class(spark, "org.apache.hadoop.fs.Path")(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def _not_found(exc: Py4JJavaError) -> bool:
    return exc.java_exception.getClass().getName() == "java.io.FileNotFoundException"


# Each asks S3 straight away and takes "not found" for an answer: an existence check first would cost a
# request or two more (a HEAD, and on S3A a LIST for a directory of that name) on every call.
def list_files(spark: SparkSession, uri: str) -> list[FileStatus]:
    """Every data file under `uri`, recursively, sorted by path; [] if it does not exist."""
    fs, path = _fs_and_path(spark, uri)
    root = path.toString()
    found: list[FileStatus] = []
    try:
        iterator = fs.listFiles(path, True)
        while iterator.hasNext():
            status = iterator.next()
            p = status.getPath().toString()
            if any(is_hidden_name(part) for part in p[len(root) :].split("/") if part):
                continue
            found.append(FileStatus(p, status.getLen(), status.getModificationTime()))
    except Py4JJavaError as exc:
        if not _not_found(exc):
            raise
        return []
    return sorted(found, key=lambda f: f.path)


def read_text(spark: SparkSession, uri: str) -> str | None:
    """The UTF-8 text of the object at `uri`, or None if there is none."""
    fs, path = _fs_and_path(spark, uri)
    try:
        stream = fs.open(path)
    except Py4JJavaError as exc:
        if not _not_found(exc):
            raise
        return None
    try:
        data = java_class(spark, "org.apache.commons.io.IOUtils").toByteArray(stream)
    finally:
        stream.close()
    return bytes(data).decode("utf-8")


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    """Write a small object whole (one PUT on S3: readers see all of it or none)."""
    fs, path = _fs_and_path(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def delete(spark: SparkSession, uri: str) -> bool:
    fs, path = _fs_and_path(spark, uri)
    return bool(fs.delete(path, True))
