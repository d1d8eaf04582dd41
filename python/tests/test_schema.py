"""The schema the package ships is the repository's, and the Spark type derived from it covers
every field a record has."""

from __future__ import annotations

from conftest import ROOT


def test_shipped_schema_is_the_repositorys():
    from newstag import spark

    shipped = spark.record_schema()
    import json

    assert shipped == json.loads((ROOT / "schema" / "record.schema.json").read_text(encoding="utf-8"))


def _names(struct, prefix=""):
    from pyspark.sql import types as T

    out = set()
    for field in struct.fields:
        out.add(prefix + field.name)
        t = field.dataType
        while isinstance(t, T.ArrayType):
            t = t.elementType
        if isinstance(t, T.StructType):
            out |= _names(t, prefix + field.name + ".")
    return out


def test_spark_type_follows_the_schema(cli_records):
    from pyspark.sql import types as T

    from newstag.spark import record_schema, record_type

    t = record_type()
    top = [f.name for f in t.fields]
    # The CLI's record on a plain-text article is the type's fields, in order, less those the
    # schema leaves optional (an extracted page's "text") and the error record's "error".
    schema = record_schema()
    required = set(schema["$defs"]["annotation"]["required"])
    assert [f for f in top if f in required] == list(cli_records[0])
    assert set(top) - required == {"text", "error"}
    names = _names(t)
    for name in ["sentences.start", "topics.evidence.sentence", "people.country_code",
                 "places.lat", "tags.why", "entities.score", "error.kind", "error.message"]:
        assert name in names, name
    assert isinstance(t["models"].dataType, T.MapType)
    assert isinstance(t["meta"].dataType, T.StringType)
    assert t["people"].dataType.elementType["spans"].dataType == T.ArrayType(T.ArrayType(T.LongType()))

    def walk(record, struct, path=""):
        # Every key of every real record has a place in the type.
        for key, value in record.items():
            assert key in struct.fieldNames(), path + key
            sub = struct[key].dataType
            while isinstance(sub, T.ArrayType) and isinstance(value, list):
                if not value:
                    break
                value, sub = value[0], sub.elementType
            if isinstance(sub, T.StructType) and isinstance(value, dict):
                walk(value, sub, path + key + ".")

    for record in cli_records:
        walk(record, t)


def test_the_installed_wheel_is_under_test():
    import newstag

    # Not python/newstag from the source tree: the compiled module is only in the wheel.
    assert "site-packages" in newstag.__file__, newstag.__file__
