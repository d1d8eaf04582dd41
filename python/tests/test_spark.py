"""newstag.spark on a real local Spark (PySpark 4, ``local[2,4]``: two cores, a task tried up to
four times): the same records as the CLI, per id, on the fixtures and on 1,000 nlp-corpus
articles; error structs for bad rows; and a Python worker killed mid-job, whose task Spark retries,
with each record exactly once in the output."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List

import pytest

from conftest import cli_records_for

pyspark = pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # The workers run this interpreter, so they import the wheel under test.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2,4]")
        .appName("newstag-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        # Small Arrow batches: a partition streams through the workers in several pieces, so a
        # worker can be killed halfway through one.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "20")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


SCHEMA = "id string, title string, text string"


def frame(spark, items: List[Dict[str, Any]], partitions: int):
    rows = [(i.get("id"), i.get("title"), i.get("text")) for i in items]
    return spark.createDataFrame(rows, SCHEMA).repartition(partitions)


def strip(value: Any) -> Any:
    """A record with its null fields left out, as the CLI leaves them out (a Spark row has every
    field of the type; a record only those it has)."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def from_row(row) -> Dict[str, Any]:
    record = row.asDict(recursive=True)
    if record.get("meta") is not None:
        record["meta"] = json.loads(record["meta"])
    return strip(record)


def by_id(records) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for r in records:
        assert r["id"] not in out, f"{r['id']} twice"
        out[r["id"]] = r
    return out


def spark_records(df, **options) -> Dict[str, Dict[str, Any]]:
    from newstag.spark import annotate

    out = annotate(df, title_col="title", **options)
    rows = out.select("id", "newstag").collect()
    for row in rows:
        assert row["newstag"]["id"] == row["id"]
    return by_id(from_row(r["newstag"]) for r in rows)


def plain(items):
    """Only what a Spark row carries: id, title, text."""
    return [{k: v for k, v in i.items() if k in ("id", "title", "text")} for i in items]


def test_fixtures_as_the_cli(spark, items, tmp_path):
    items = plain(items)
    expected = by_id(strip(r) for r in cli_records_for(items, tmp_path))
    assert spark_records(frame(spark, items, 3)) == expected


def test_1000_nlp_corpus_articles_as_the_cli(spark, corpus_1000, tmp_path):
    expected = by_id(strip(r) for r in cli_records_for(corpus_1000, tmp_path))
    got = spark_records(frame(spark, corpus_1000, 8))
    assert len(got) == 1000
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key


def test_a_partition_with_bad_articles(spark, tmp_path):
    items = [
        {"id": "good-1", "text": "Emmanuel Macron met Olaf Scholz in Berlin on Tuesday."},
        {"id": "empty", "text": ""},
        {"id": "blank", "text": "  \n "},
        {"id": "null", "text": None},
        {"id": "good-2", "text": "The Bank of England raised rates in London."},
    ]
    df = spark.createDataFrame([(i["id"], None, i["text"]) for i in items], SCHEMA).coalesce(1)
    got = spark_records(df)
    kinds = {k: (v.get("error") or {}).get("kind") for k, v in got.items()}
    assert kinds == {"good-1": None, "empty": "empty", "blank": "empty", "null": "missing_text",
                     "good-2": None}
    assert {p["name"] for p in got["good-1"]["people"]} >= {"Emmanuel Macron", "Olaf Scholz"}
    assert set(got["empty"]) == {"id", "error"}
    with_text = [i for i in items if i["text"] is not None]
    expected = by_id(strip(r) for r in cli_records_for(with_text, tmp_path))
    for key in expected:
        assert got[key] == expected[key]


def test_a_killed_worker_is_retried_and_each_record_comes_once(spark, corpus_1000, tmp_path):
    from pyspark.sql import types as T

    from newstag.spark import annotate

    items = corpus_1000[:200]
    annotated = annotate(frame(spark, items, 4), title_col="title")
    killed = tmp_path / "killed"

    def kill_first_attempt(batches):
        from pyspark import TaskContext

        ctx = TaskContext.get()
        for n, batch in enumerate(batches):
            # Partition 1's first attempt dies after its first 20 records went through:
            # the process exits as an executor's would, with no exception for Spark to read.
            if ctx.partitionId() == 1 and ctx.attemptNumber() == 0 and n == 1:
                killed.write_text(f"attempt {ctx.attemptNumber()} of task {ctx.taskAttemptId()}")
                os._exit(1)
            yield batch

    out = annotated.mapInArrow(kill_first_attempt, annotated.schema)
    rows = out.select("id", "newstag").collect()
    assert killed.exists(), "the worker was never killed"
    ids = [r["id"] for r in rows]
    assert sorted(ids) == sorted(i["id"] for i in items)
    assert len(set(ids)) == len(ids)
    expected = by_id(strip(r) for r in cli_records_for(items, tmp_path))
    assert by_id(from_row(r["newstag"]) for r in rows) == expected
    assert isinstance(annotated.schema["newstag"].dataType, T.StructType)


def test_bad_arguments(spark):
    from newstag.spark import annotate

    df = spark.createDataFrame([("1", None, "x")], SCHEMA)
    with pytest.raises(ValueError, match="no column"):
        annotate(df, text_col="body")
    with pytest.raises(ValueError, match="already"):
        annotate(df, output_col="text")


def _store_root() -> str:
    """The store the CLI and the wheel use here (``Store::from_env``'s rule)."""
    if os.environ.get("NEWSTAG_HOME"):
        return os.environ["NEWSTAG_HOME"]
    if os.environ.get("XDG_CACHE_HOME"):
        return os.path.join(os.environ["XDG_CACHE_HOME"], "newstag")
    return os.path.expanduser("~/.cache/newstag")


def _pack_store(path, leave_out=()) -> str:
    """The store as an archive an offline cluster is sent (``tar czf`` of its directories)."""
    import tarfile

    root = _store_root()
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name in sorted(os.listdir(root)):
            if name in ("tools", *leave_out) or name.startswith("."):
                continue
            tar.add(os.path.join(root, name), arcname=name)
    return str(path)


def test_a_store_shipped_as_an_archive(spark, items, tmp_path):
    """The offline-cluster route: the store packed, shipped with ``addArchive`` (what
    ``--archives`` does), found by the executors under its alias, and used offline; a shipped
    store that lacks a model fails the job naming it, so the models did come from the archive
    (the machine's own store has every model)."""
    context = spark.sparkContext
    context.addArchive(_pack_store(tmp_path / "newstag-store.tgz") + "#shipped-store")
    items = plain(items)
    expected = by_id(strip(r) for r in cli_records_for(items, tmp_path))
    assert spark_records(frame(spark, items, 2), store="shipped-store", offline=True) == expected

    context.addArchive(
        _pack_store(tmp_path / "partial.tgz", leave_out=("en-core-web-sm",)) + "#partial-store"
    )
    with pytest.raises(Exception, match="en-core-web-sm"):
        spark_records(frame(spark, items[:2], 1), store="partial-store", offline=True)
    with pytest.raises(Exception, match="not on this executor"):
        spark_records(frame(spark, items[:2], 1), store="never-shipped")
