"""newstag on Spark: annotate a DataFrame's articles into typed columns.

::

    from newstag.spark import annotate

    out = annotate(df, text_col="text", id_col="id")          # df plus a "newstag" struct column
    out.select("id", "newstag.people.name", "newstag.topics.label")

Each Python worker process loads one :class:`newstag.Annotator` the first time a partition
reaches it (models from the worker machine's store, ``$NEWSTAG_HOME`` or ``~/.cache/newstag``) and
keeps it for every later partition it runs (Spark reuses Python workers by default). The
struct's Spark type is built from ``record.schema.json`` (the record's JSON Schema, shipped in
this package), so the columns follow the CLI's record field for field: an annotation record
fills the annotation fields and leaves ``error`` null, an error record (empty or missing text)
fills ``id`` and ``error`` and leaves the rest null. ``meta`` (free-form JSON) is a JSON string.
"""

from __future__ import annotations

import json
import threading
from importlib import resources
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from pyspark.sql import DataFrame
    from pyspark.sql.types import DataType, StructType

__all__ = ["annotate", "record_schema", "record_type", "to_row"]

#: Fields of the schema's free-form objects ({"type": "object"} with no properties), held as JSON
#: text: Spark has no type for "any JSON".
_JSON_TEXT = "json"


def record_schema() -> Dict[str, Any]:
    """The JSON Schema of a record (``schema/record.schema.json``, shipped in this package)."""
    text = resources.files("newstag").joinpath("record.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _resolve(node: Dict[str, Any], root: Dict[str, Any]) -> Dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    if not ref.startswith("#/"):
        raise ValueError(f"unsupported $ref {ref!r}")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part]
    return _resolve(target, root)


def _merged_object(node: Dict[str, Any], root: Dict[str, Any]) -> Dict[str, Any]:
    """A oneOf of objects as one object with every alternative's properties, in order."""
    properties: Dict[str, Any] = {}
    for alternative in node["oneOf"]:
        for name, sub in _resolve(alternative, root).get("properties", {}).items():
            properties.setdefault(name, sub)
    return {"type": "object", "properties": properties}


def _spark_type(node: Dict[str, Any], root: Dict[str, Any]) -> "DataType":
    from pyspark.sql import types as T

    node = _resolve(node, root)
    if "oneOf" in node:
        node = _merged_object(node, root)
    if "enum" in node:
        return T.StringType()
    kind = node.get("type")
    if isinstance(kind, list):  # ["string", "null"]: every Spark field is nullable anyway
        kinds = [k for k in kind if k != "null"]
        if len(kinds) != 1:
            raise ValueError(f"unsupported type union {kind}")
        kind = kinds[0]
    if kind == "object":
        properties = node.get("properties")
        if properties:
            return T.StructType(
                [T.StructField(name, _spark_type(sub, root), True) for name, sub in properties.items()]
            )
        values = node.get("additionalProperties")
        if isinstance(values, dict) and values.get("type") == "string":
            return T.MapType(T.StringType(), T.StringType(), True)
        return T.StringType()  # free-form JSON, as text (see _JSON_TEXT)
    if kind == "array":
        return T.ArrayType(_spark_type(node["items"], root), True)
    simple = {
        "string": T.StringType(),
        "integer": T.LongType(),
        "number": T.DoubleType(),
        "boolean": T.BooleanType(),
    }
    if kind in simple:
        return simple[kind]
    raise ValueError(f"unsupported schema node {node}")


def record_type() -> "StructType":
    """The Spark type of a record, derived from the record's JSON Schema: the annotation
    record's fields (in the CLI's order) and the error record's ``error``."""
    schema = record_schema()
    return _spark_type(schema, schema)  # type: ignore[return-value]


def _free_form_fields(node: Dict[str, Any], root: Dict[str, Any]) -> List[str]:
    """Top-level fields held as JSON text."""
    node = _merged_object(node, root) if "oneOf" in node else _resolve(node, root)
    out = []
    for name, sub in node["properties"].items():
        sub = _resolve(sub, root)
        if sub.get("type") == "object" and not sub.get("properties") and not isinstance(
            sub.get("additionalProperties"), dict
        ):
            out.append(name)
    return out


_FREE_FORM: Optional[List[str]] = None


def to_row(record: Dict[str, Any]) -> Dict[str, Any]:
    """A record as its Spark row holds it: free-form objects (``meta``) as JSON text; fields a
    record leaves out are null in the row."""
    global _FREE_FORM
    if _FREE_FORM is None:
        schema = record_schema()
        _FREE_FORM = _free_form_fields(schema, schema)
    row = dict(record)
    for name in _FREE_FORM:
        if name in row and row[name] is not None:
            row[name] = json.dumps(row[name], ensure_ascii=False, separators=(",", ":"))
    return row


# One Annotator per Python worker process and set of options, loaded by the first partition that
# needs it and kept for the next ones: loading models costs seconds, a partition may take less.
_ANNOTATORS: Dict[Tuple[Tuple[str, Any], ...], Any] = {}
_ANNOTATORS_LOCK = threading.Lock()


def _annotator(options: Dict[str, Any]) -> Any:
    import newstag

    key = tuple(sorted((k, repr(v)) for k, v in options.items()))
    with _ANNOTATORS_LOCK:
        annotator = _ANNOTATORS.get(key)
        if annotator is None:
            annotator = newstag.Annotator(**options)
            _ANNOTATORS[key] = annotator
        return annotator


def _store_dir(store: str) -> str:
    """The directory a shipped store was unpacked into, on this executor."""
    import os

    from pyspark import SparkFiles

    if os.path.isabs(store):
        candidates = [store]
    else:
        candidates = [os.path.join(os.getcwd(), store)]
        try:
            candidates.append(os.path.join(SparkFiles.getRootDirectory(), store))
        except Exception:  # no SparkFiles directory outside a Spark task
            pass
    for candidate in candidates:
        if os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError(
        f"newstag: the model store {store!r} is not on this executor (looked in "
        f"{', '.join(candidates)}); ship it with --archives newstag-store.tgz#{store} "
        "or SparkContext.addArchive"
    )


def annotate(
    df: "DataFrame",
    text_col: str = "text",
    id_col: str = "id",
    title_col: Optional[str] = None,
    output_col: str = "newstag",
    store: Optional[str] = None,
    **annotator_options: Any,
) -> "DataFrame":
    """``df`` with one more column, ``output_col`` (default ``"newstag"``): each row's record as
    a struct of type :func:`record_type`.

    ``text_col`` holds the article text, ``id_col`` its id (cast to a string; give every row a
    unique id: the records say which article they are about by it), ``title_col`` (optional) its
    title. ``annotator_options`` are :class:`newstag.Annotator`'s (``profile``, ``ner``,
    ``labels``, ``offline``, ...); ``threads`` defaults to the task's CPUs (``spark.task.cpus``,
    1 by default), since Spark already runs one task per core. Rows whose text is empty or null
    get an error struct (``newstag.error``), the others are annotated. Rows keep their partition
    and order.

    ``store`` is where the executors find the models, for clusters that cannot fetch them: an
    absolute path present on every executor, or the name an archive of the store was shipped
    under (``--archives newstag-store.tgz#newstag-store``, or ``SparkContext.addArchive``): it
    is looked up in the executor's working directory (where YARN and Kubernetes unpack
    archives) and then in ``SparkFiles``' directory (local mode, standalone). Without it, each
    executor uses its own ``$NEWSTAG_HOME`` or ``~/.cache/newstag``.
    """
    from pyspark.sql import types as T

    record = record_type()
    if output_col in df.columns:
        raise ValueError(f"column {output_col!r} is already in the DataFrame")
    for col in (text_col, id_col, title_col):
        if col is not None and col not in df.columns:
            raise ValueError(f"no column {col!r} in the DataFrame")
    out_schema = T.StructType(list(df.schema.fields) + [T.StructField(output_col, record, True)])
    options = dict(annotator_options)

    def run(batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa
        from pyspark import TaskContext
        from pyspark.sql.pandas.types import to_arrow_type

        arrow_type = to_arrow_type(record)
        context = TaskContext.get()
        opts = dict(options)
        if "threads" not in opts and context is not None:
            opts["threads"] = max(1, int(context.cpus()))
        if store is not None:
            opts["store"] = _store_dir(store)
        annotator = _annotator(opts)
        chunk = annotator.config()["batch_size"]
        partition = context.partitionId() if context is not None else 0
        seen = 0
        for batch in batches:
            texts = batch.column(text_col).to_pylist()
            ids = batch.column(id_col).to_pylist()
            titles = batch.column(title_col).to_pylist() if title_col else None
            for start in range(0, batch.num_rows, chunk):
                end = min(start + chunk, batch.num_rows)
                items = []
                for i in range(start, end):
                    item: Dict[str, Any] = {}
                    if ids[i] is None:
                        # The id a record needs, unique within the job (but not across runs).
                        item["id"] = f"p{partition}-{seen + i}"
                    else:
                        item["id"] = str(ids[i])
                    if titles is not None and titles[i] is not None:
                        item["title"] = titles[i]
                    if texts[i] is not None:
                        item["text"] = texts[i]
                    items.append(item)
                rows = [to_row(r) for r in annotator.annotate(items)]
                piece = batch.slice(start, end - start)
                column = pa.array(rows, type=arrow_type)
                yield pa.RecordBatch.from_arrays(
                    list(piece.columns) + [column],
                    names=list(piece.schema.names) + [output_col],
                )
            seen += batch.num_rows

    return df.mapInArrow(run, out_schema)
