"""newstag.Annotator against the CLI: the same records on the same articles, bad items, threads,
streaming, offline mode, and two Annotators in one process. Real models, no mocks."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import newstag
from conftest import FIXTURES, SEED, cli_records_for, run_cli


def test_same_records_as_the_cli_on_the_fixtures(annotator, items, cli_records):
    records = annotator.annotate(items)
    assert [r["id"] for r in records] == [i["id"] for i in items]
    assert records == cli_records
    # The fields in the CLI's order too (json.loads of the library's line).
    assert list(records[0]) == list(cli_records[0])


def test_text_files_as_the_cli_reads_them(annotator):
    """A .txt file given to the CLI and its text given as a str item: the same record but for
    the id (the path there, the position here)."""
    paths = [p for p in sorted(FIXTURES.iterdir()) if p.suffix == ".txt"]
    cli = run_cli(["annotate", "--quiet", *map(str, paths)])
    texts = [p.read_bytes().decode("utf-8") for p in paths]
    records = annotator.annotate(texts)
    assert [r["id"] for r in records] == [str(n) for n in range(1, len(paths) + 1)]
    for record, expected, path in zip(records, cli, paths):
        assert expected["id"] == str(path)
        assert {**record, "id": str(path)} == expected


def test_seed_people_and_places(annotator):
    [record] = annotator.annotate([{"id": "seed", "text": SEED.read_text(encoding="utf-8")}])
    assert record["id"] == "seed"
    assert "Putin" in {p["name"] for p in record["people"]}
    text = SEED.read_bytes().decode("utf-8")
    for e in record["entities"]:
        assert text[e["start"]:e["end"]] == e["text"]


def test_bad_items_give_error_records_and_the_others_are_annotated(annotator, tmp_path):
    items = [
        {"id": "ok", "text": "Angela Merkel visited Paris on Monday."},
        {"id": "empty", "text": ""},
        {"id": "blank", "text": "   \n"},
        {"id": "no-text", "title": "A title only"},
        {"id": "number", "text": 42},
        {"id": "bytes", "text": b"not a str"},
        7,
        "Rishi Sunak spoke in London.",
    ]
    records = annotator.annotate(items)
    assert [r["id"] for r in records] == ["ok", "empty", "blank", "no-text", "number", "bytes", "7", "8"]
    kinds = {r["id"]: r.get("error", {}).get("kind") for r in records}
    assert kinds == {
        "ok": None,
        "empty": "empty",
        "blank": "empty",
        "no-text": "missing_text",
        "number": "missing_text",
        "bytes": "malformed_json",
        "7": "malformed_json",
        "8": None,
    }
    assert "people" in records[0] and "error" not in records[0]
    # The JSON-expressible ones exactly as the CLI writes them from a JSONL file.
    jsonable = [i for i in items[:5]]
    assert annotator.annotate(jsonable) == cli_records_for(jsonable, tmp_path)


def test_ids_default_to_positions_and_pass_through_fields(annotator):
    records = annotator.annotate(
        ["First article about Berlin.", {"text": "Second one, about Rome.", "lang": "en", "n": [1, 2]}]
    )
    assert [r["id"] for r in records] == ["1", "2"]
    assert records[1]["meta"] == {"lang": "en", "n": [1, 2]}
    assert annotator.annotate([]) == []


def test_threads_share_one_annotator(annotator, items):
    sequential = [annotator.annotate([item]) for item in items] * 3
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda item: annotator.annotate([item]), items * 3))
    assert parallel == sequential


def test_annotate_iter_streams_a_generator(annotator, items, cli_records):
    pulled = []

    def gen():
        for item in items:
            pulled.append(item["id"])
            yield item

    it = annotator.annotate_iter(gen(), batch_size=2)
    first = next(it)
    # One batch pulled, not the whole stream.
    assert pulled == [items[0]["id"], items[1]["id"]]
    rest = list(it)
    assert [first, *rest] == cli_records
    assert list(annotator.annotate_iter(iter([]))) == []
    ids = [r["id"] for r in annotator.annotate_iter(("text number %d." % i for i in range(5)), batch_size=2)]
    assert ids == ["1", "2", "3", "4", "5"]


def test_tags_as_the_cli_prints_them(annotator, items, tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    cli = run_cli(["tags", "--json", "--quiet", "--top", "5", str(path)])
    assert annotator.tags(items, top=5) == cli
    default = run_cli(["tags", "--json", "--quiet", str(path)])
    assert annotator.tags(items) == default


def test_introspection(annotator, cli_records):
    models = annotator.models()
    assert set(models) == {"entities", "topics"}
    assert models == cli_records[0]["models"]
    catalog = annotator.topics()
    assert catalog["set"] == "news" and catalog["iptc"]["updated"]
    topics = catalog["topics"]
    assert len(topics) > 1000, "the whole IPTC tree beside the desk topics"
    assert set(topics[0]) == {"label", "code", "description", "path", "level", "set"}
    assert any(t["set"] == "news" for t in topics) and topics[0]["set"] == "iptc"
    assert annotator.config()["profile"] == "fast"
    assert "Annotator(profile=\"fast\"" in repr(annotator)


def test_labels_and_a_second_annotator_in_one_process(annotator, items, tmp_path, cli_records):
    labelled = newstag.Annotator(labels=["Sport", "Economy"], ner="none", threads=1, batch_size=2)
    catalog = labelled.topics()
    assert catalog["iptc"] is None
    assert [t["label"] for t in catalog["topics"]] == ["Sport", "Economy"]
    records = labelled.annotate(items)
    expected = cli_records_for(
        items, tmp_path, "--label", "Sport", "--label", "Economy", "--ner", "none"
    )
    assert records == expected
    assert all(r.get("entities", []) == [] for r in records)
    # The first one still works, unchanged, beside and after the second.
    assert annotator.annotate(items) == cli_records
    del labelled
    assert annotator.annotate(items[:1]) == cli_records[:1]


def test_a_sentence_budget_as_the_cli_reads_it(items, tmp_path, cli_records):
    # The seed has far more than 5 sentences, so a budget of 5 must change its topics' scores;
    # the records must still be the CLI's under the same flag, and 0 must mean every sentence.
    budget = newstag.Annotator(topic_sentences=5, ner="none", threads=1)
    assert budget.config()["topic_sentences"] == 5
    records = budget.annotate(items)
    assert records == cli_records_for(items, tmp_path, "--topic-sentences", "5", "--ner", "none")
    whole = newstag.Annotator(ner="none", threads=1).annotate(items)
    seed = [i for i, item in enumerate(items) if item["id"].endswith(SEED.name)]
    assert seed and all(records[i]["topics"] != whole[i]["topics"] for i in seed)
    assert newstag.Annotator(topic_sentences=0, ner="none", threads=1).annotate(items) == whole


def test_bf16_topics_as_the_cli_runs_them(items, tmp_path):
    """topic_model="embedding-bf16" is the CLI's --topic-model embedding-bf16: the same records
    (bf16 where the processor has it, the fp32 default elsewhere), entities untouched."""
    bf16 = newstag.Annotator(topic_model="embedding-bf16", threads=2)
    records = bf16.annotate(items)
    assert records == cli_records_for(items, tmp_path, "--topic-model", "embedding-bf16", "--threads", "2")
    fp32 = newstag.Annotator(threads=2).annotate(items)
    assert [r["entities"] for r in records] == [r["entities"] for r in fp32]
    seed = [r for r in records if r["id"].endswith(SEED.name)]
    assert seed and all(r["topics"][0]["label"] == "Arctic" for r in seed)


def test_bad_options_raise_config_errors(tmp_path):
    with pytest.raises(newstag.ConfigError, match="quick"):
        newstag.Annotator("quick")
    with pytest.raises(newstag.ConfigError, match="threshold"):
        newstag.Annotator(threshold=1.5)
    with pytest.raises(newstag.ConfigError, match="aggregation"):
        newstag.Annotator(aggregation="mean")
    with pytest.raises(newstag.ConfigError):
        newstag.Annotator(topics=tmp_path / "missing.toml")
    with pytest.raises(newstag.ConfigError, match="empty"):
        newstag.Annotator(labels=["Sport", " "])
    with pytest.raises(TypeError):
        newstag.Annotator(threads="four")
    bad = tmp_path / "run.toml"
    bad.write_text('treshold = 0.2\n', encoding="utf-8")
    with pytest.raises(newstag.ConfigError, match="treshold") as e:
        newstag.Annotator(config=bad)
    assert isinstance(e.value, newstag.NewstagError) and e.value.kind == "config"


def test_config_file_and_options_over_it(tmp_path, items):
    conf = tmp_path / "run.toml"
    conf.write_text('ner = "none"\nlabels = ["Sport"]\nbatch_size = 3\n', encoding="utf-8")
    a = newstag.Annotator(config=conf, labels=["Economy"])
    c = a.config()
    assert (c["ner"], c["labels"], c["batch_size"]) == ("none", ["Economy"], 3)
    expected = run_cli(["annotate", "--quiet", "--config", str(conf), "--label", "Economy",
                        str(FIXTURES / "001_football_final.txt")])
    [record] = a.annotate([{"id": str(FIXTURES / "001_football_final.txt"),
                            "text": (FIXTURES / "001_football_final.txt").read_text(encoding="utf-8")}])
    assert [record] == expected


OFFLINE = """
import sys, newstag
try:
    newstag.Annotator(offline=True)
except newstag.ModelMissingError as e:
    assert isinstance(e, newstag.NewstagError) and e.kind == "model_missing", e
    print("missing:", e.model, "|", e)
    sys.exit(0)
sys.exit("no error")
"""


def test_offline_with_an_empty_store_raises_model_missing(tmp_path):
    # A fresh process: its store is only what NEWSTAG_HOME says, and nothing was loaded before.
    env = {**__import__("os").environ, "NEWSTAG_HOME": str(tmp_path / "store")}
    proc = subprocess.run([sys.executable, "-c", OFFLINE], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "missing:" in proc.stdout and "newstag models fetch" in proc.stdout
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").rglob("*.onnx"))


def test_offline_in_process_with_an_empty_store(monkeypatch, tmp_path, annotator):
    # In a process that already runs models: the store is read anew for each Annotator.
    monkeypatch.setenv("NEWSTAG_HOME", str(tmp_path))
    with pytest.raises(newstag.ModelMissingError) as e:
        newstag.Annotator(offline=True)
    assert e.value.model


def test_a_store_named_by_argument(tmp_path, annotator):
    # store= is read instead of the environment's store, which has every model here.
    with pytest.raises(newstag.ModelMissingError) as e:
        newstag.Annotator(offline=True, store=tmp_path / "empty")
    assert e.value.model
    assert str(tmp_path / "empty") in str(e.value)
