//! Parquet output (`-o out.parquet`, `--format parquet`), read back with the parquet crate's
//! Arrow reader and compared with the JSONL the same run writes: every record equal, error
//! rows included, in several row groups when they are forced small. The readers analytics
//! users have (DuckDB, pandas/pyarrow, Polars) are checked by `scripts/ci/test_parquet_readers`.
#![cfg(feature = "parquet")]

use crate::common;

use std::fs::File;
use std::path::Path;
use std::process::Stdio;

use arrow_schema::{DataType, Field};
use common::*;
use newstag::emit::Shape;
use newstag::emit::parquet::{JSON_TEXT_KEY, schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value};

/// The rows of a Parquet file as JSON objects (arrow-json's writer), and its row group count.
fn read_parquet(path: &Path) -> (Vec<Value>, usize) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let groups = builder.metadata().num_row_groups();
    let mut writer = arrow_json::ArrayWriter::new(Vec::new());
    for batch in builder.build().unwrap() {
        writer.write(&batch.unwrap()).unwrap();
    }
    writer.finish().unwrap();
    let rows: Value = serde_json::from_slice(&writer.into_inner()).unwrap_or(Value::Array(vec![]));
    (rows.as_array().unwrap().clone(), groups)
}

/// A record as both outputs can be compared: null and absent fields alike (JSON prints
/// `"title": null` and omits `score`; Parquet has a null for each), numbers as f64 (the two
/// writers spell an f32 the same way but `0.0` and `0` may differ), and `meta` parsed when it
/// is the Parquet column's JSON text.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match (k.as_str(), v) {
                    ("meta", Value::String(text)) => {
                        (k.clone(), normalize(&serde_json::from_str(text).unwrap()))
                    }
                    _ => (k.clone(), normalize(v)),
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        _ => v.clone(),
    }
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The fixture articles, the seed as the shared corpus has it, and a JSONL of bad articles
/// (not JSON, no text, empty text) between good ones.
fn inputs(dir: &Path) -> Vec<String> {
    let bad = dir.join("mixed.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": \"ok-1\", \"text\": \"Christine Lagarde spoke in Frankfurt on Thursday.\", \"url\": \"https://example.org/a?b=\\\"c\\\"\", \"n\": 12.5}\n\
         {not json\n\
         {\"id\": \"no-text\", \"title\": \"x\"}\n\
         {\"id\": \"empty\", \"text\": \"   \"}\n\
         {\"id\": \"ok-2\", \"title\": \"Zürich\", \"text\": \"Die Schweizerische Nationalbank in Zürich hob die Zinsen an. 🚀 Ende.\"}\n",
    )
    .unwrap();
    let shared_seed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/000_96f95457316a6f2e.txt");
    let mut paths = vec![fixtures().to_str().unwrap().to_string()];
    if shared_seed.exists() {
        paths.push(shared_seed.to_str().unwrap().to_string());
    }
    paths.push(bad.to_str().unwrap().to_string());
    paths
}

fn run_to(command: &str, extra: &[&str], paths: &[String], out: &Path) -> i32 {
    let mut args = vec![command, "-q", "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(paths.iter().map(String::as_str));
    let result = run(&args);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    result.status.code().unwrap()
}

fn ids(records: &[Value]) -> Vec<&str> {
    records.iter().map(|r| r["id"].as_str().unwrap()).collect()
}

#[test]
fn annotate_parquet_holds_the_jsonl_records_in_several_row_groups() {
    ensure_models();
    let dir = tempfile::tempdir().unwrap();
    let paths = inputs(dir.path());
    let (json_out, parquet_out) = (dir.path().join("out.jsonl"), dir.path().join("out.parquet"));
    // Some articles fail: both runs say so the same way.
    assert_eq!(run_to("annotate", &[], &paths, &json_out), 3);
    assert_eq!(
        run_to("annotate", &["--row-group-size", "3"], &paths, &parquet_out),
        3
    );
    let expected = jsonl(&json_out);
    let (rows, groups) = read_parquet(&parquet_out);
    assert!(expected.len() >= 10, "{}", expected.len());
    assert_eq!(ids(&rows), ids(&expected), "same ids in the same order");
    assert_eq!(groups, expected.len().div_ceil(3), "row groups of 3");
    for (row, record) in rows.iter().zip(&expected) {
        assert_eq!(normalize(row), normalize(record), "record {}", record["id"]);
    }
    // What the comparison covers, spelled out: the seed's entities, topics and tags are there
    // and typed, and the bad articles are error rows with null annotation columns.
    let seed = rows
        .iter()
        .find(|r| {
            r["id"]
                .as_str()
                .unwrap()
                .ends_with("000_96f95457316a6f2e.txt")
        })
        .unwrap();
    assert!(seed["error"].is_null());
    assert_eq!(seed["topics"][0]["label"], "Arctic");
    assert!(!seed["topics"][0]["evidence"].as_array().unwrap().is_empty());
    assert!(
        seed["people"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Putin")
    );
    assert!(!seed["tags"][0]["why"].as_array().unwrap().is_empty());
    assert_eq!(seed["published"], "2025-05-30");
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| !r["error"].is_null())
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["error"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(kinds.contains(&("no-text", "missing_text")), "{kinds:?}");
    assert!(kinds.contains(&("empty", "empty")), "{kinds:?}");
    assert!(
        kinds.iter().any(|(_, k)| *k == "malformed_json"),
        "{kinds:?}"
    );
    let failed = rows.iter().find(|r| r["id"] == "no-text").unwrap();
    assert!(failed["entities"].is_null() && failed["meta"].is_null());
    // The input's own fields, as the JSONL has them.
    let ok = rows.iter().find(|r| r["id"] == "ok-1").unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(ok["meta"].as_str().unwrap()).unwrap(),
        serde_json::json!({"url": "https://example.org/a?b=\"c\"", "n": 12.5})
    );
    // The finished file was renamed into place: no temporary file is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn segment_and_tags_write_parquet_too() {
    ensure_models();
    let dir = tempfile::tempdir().unwrap();
    let paths = vec![fixtures().to_str().unwrap().to_string()];
    for (command, extra) in [
        ("segment", &[][..]),
        ("tags", &["--json", "--top", "5"][..]),
    ] {
        let json_out = dir.path().join(format!("{command}.jsonl"));
        // An explicit --format wins over the file name's extension.
        let parquet_out = dir.path().join(format!("{command}.pq"));
        assert_eq!(run_to(command, extra, &paths, &json_out), 0);
        let mut with_format = extra.to_vec();
        with_format.extend(["--format", "parquet"]);
        assert_eq!(run_to(command, &with_format, &paths, &parquet_out), 0);
        let expected = jsonl(&json_out);
        let (rows, groups) = read_parquet(&parquet_out);
        assert_eq!(groups, 1);
        assert_eq!(rows.len(), expected.len());
        for (row, record) in rows.iter().zip(&expected) {
            assert_eq!(
                normalize(row),
                normalize(record),
                "{command} {}",
                record["id"]
            );
        }
    }
}

#[test]
fn parquet_to_stdout_when_it_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["segment", "-q", "--format", "parquet", &seed()]);
    assert_ok(&out);
    assert!(out.stdout.starts_with(b"PAR1") && out.stdout.ends_with(b"PAR1"));
    let path = dir.path().join("seed.parquet");
    std::fs::write(&path, &out.stdout).unwrap();
    let (rows, _) = read_parquet(&path);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], seed());
}

#[test]
fn a_failed_write_says_the_file_is_unusable() {
    // stdout on /dev/full: every write fails (no space), as a full disk would mid-run.
    let out = bin()
        .args(["segment", "-q", "--format", "parquet", &seed()])
        .stdout(File::create("/dev/full").unwrap())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("writing Parquet to stdout") && stderr.contains("no footer"),
        "{stderr}"
    );
}

#[test]
fn refusals_are_usage_errors_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.parquet");
    let out = out_path.to_str().unwrap();
    let json_path = dir.path().join("out.jsonl");
    let seed = seed();
    let cases: [(&[&str], &str); 3] = [
        (
            &["annotate", "--resume", "-o", out, "--offline"],
            "--resume needs JSONL output",
        ),
        (&["tags", "-o", out, "--offline"], "with --json only"),
        (
            &[
                "segment",
                "-o",
                json_path.to_str().unwrap(),
                "--row-group-size",
                "5",
            ],
            "--row-group-size is for Parquet output",
        ),
    ];
    for (args, message) in cases {
        let mut all = args.to_vec();
        all.push(&seed);
        let result = run(&all);
        assert_eq!(result.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!out_path.exists() && !json_path.exists());
    }
}

/// The JSON Schema's type of a property, without "null"; and whether null is allowed.
fn json_type(property: &Value) -> (Option<String>, bool) {
    match &property["type"] {
        Value::String(t) => (Some(t.clone()), false),
        Value::Array(ts) => {
            let nullable = ts.iter().any(|t| t == "null");
            let t = ts
                .iter()
                .find(|t| *t != "null")
                .map(|t| t.as_str().unwrap().to_string());
            (t, nullable)
        }
        _ => (None, false), // an enum
    }
}

/// Checks that an Arrow field has the type the JSON Schema gives its property, all the way
/// down; returns what does not match.
fn check(defs: &Value, path: &str, property: &Value, field: &Field, problems: &mut Vec<String>) {
    let property = match property["$ref"].as_str() {
        Some(r) => &defs[r.trim_start_matches("#/$defs/")],
        None => property,
    };
    let (t, _) = json_type(property);
    let ok = match (t.as_deref(), field.data_type()) {
        (None, DataType::Utf8) => property.get("enum").is_some(),
        (Some("string"), DataType::Date32) => property["format"] == "date",
        (Some("string"), DataType::Utf8) => true,
        (Some("integer"), DataType::Int64) => true,
        (Some("number"), DataType::Float32 | DataType::Float64) => true,
        (Some("boolean"), DataType::Boolean) => true,
        (Some("array"), DataType::List(item)) => {
            check(
                defs,
                &format!("{path}[]"),
                &property["items"],
                item,
                problems,
            );
            true
        }
        (Some("object"), DataType::Struct(fields)) => {
            check_object(
                defs,
                path,
                property,
                fields.iter().map(|f| f.as_ref()),
                problems,
            );
            true
        }
        // An object of string values (`models`): a map of strings.
        (Some("object"), DataType::Map(entries, _)) => {
            property["additionalProperties"]["type"] == "string"
                && matches!(entries.data_type(), DataType::Struct(kv)
                    if kv.iter().all(|f| f.data_type() == &DataType::Utf8))
        }
        // An object of any shape (`meta`): its JSON text.
        (Some("object"), DataType::Utf8) => {
            property.get("properties").is_none()
                && field.metadata().get(JSON_TEXT_KEY).map(String::as_str) == Some("json")
        }
        _ => false,
    };
    if !ok {
        problems.push(format!(
            "{path}: {:?} for {}",
            field.data_type(),
            serde_json::to_string(property).unwrap()
        ));
    }
}

/// An object's properties against a struct's fields: the same names, and a required
/// property that cannot be null is a non-nullable field.
fn check_object<'a>(
    defs: &Value,
    path: &str,
    object: &Value,
    fields: impl Iterator<Item = &'a Field>,
    problems: &mut Vec<String>,
) {
    let properties = object["properties"].as_object().unwrap();
    let required: Vec<&str> = object["required"]
        .as_array()
        .map(|r| r.iter().map(|n| n.as_str().unwrap()).collect())
        .unwrap_or_default();
    let fields: Vec<&Field> = fields.collect();
    let mut names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
    let mut expected: Vec<&str> = properties.keys().map(String::as_str).collect();
    names.sort();
    expected.sort();
    if names != expected {
        problems.push(format!("{path}: fields {names:?}, schema {expected:?}"));
    }
    for f in fields {
        let Some(property) = properties.get(f.name()) else {
            continue;
        };
        let resolved = match property["$ref"].as_str() {
            Some(r) => &defs[r.trim_start_matches("#/$defs/")],
            None => property,
        };
        let can_be_null = !required.contains(&f.name().as_str()) || json_type(resolved).1;
        if f.is_nullable() != can_be_null {
            problems.push(format!(
                "{path}.{}: nullable {} where the schema says {can_be_null}",
                f.name(),
                f.is_nullable()
            ));
        }
        check(defs, &format!("{path}.{}", f.name()), property, f, problems);
    }
}

#[test]
fn the_arrow_schema_is_the_record_schema() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/record.schema.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let defs = &json["$defs"];
    let arrow = schema(Shape::Annotate).unwrap();
    let mut problems = Vec::new();
    // One row holds an annotation record or an error record: the annotation's columns, and
    // `error`; every column but `id` is null in one or the other, so nullable.
    let (error, columns): (Vec<&Field>, Vec<&Field>) = arrow
        .fields()
        .iter()
        .map(|f| f.as_ref())
        .partition(|f| f.name() == "error");
    let mut annotation = defs["annotation"].clone();
    annotation["required"] = serde_json::json!(["id"]);
    check_object(defs, "", &annotation, columns.into_iter(), &mut problems);
    let mut error_record = defs["error"].clone();
    error_record["required"] = serde_json::json!(["id"]);
    let id = arrow.field_with_name("id").unwrap();
    check_object(
        defs,
        "",
        &error_record,
        [id, error[0]].into_iter(),
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:#?}");
}
