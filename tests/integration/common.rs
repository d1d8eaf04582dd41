//! Helpers shared by the integration tests: run the real binary, parse its JSONL.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Once;

use serde_json::Value;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_newstag"))
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/articles")
}

/// The seed article's path.
pub fn seed() -> String {
    fixtures()
        .join("000_96f95457316a6f2e.txt")
        .to_str()
        .unwrap()
        .to_string()
}

/// A record's topic scores by label.
pub fn topic_scores(record: &Value) -> std::collections::BTreeMap<String, f64> {
    record["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["label"].as_str().unwrap().to_string(),
                t["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// What the seed article is about, by issue 21's measure: its top-10 tags keep every one.
pub const SEED_TOP_TAGS: [&str; 7] = [
    "Arctic",
    "Russia",
    "China",
    "Putin",
    "Xi",
    "Northern Sea Route",
    "NATO",
];

/// Fetches the default models into the user's store once per test binary, with the same
/// command a user runs, so every model test uses the real store and real files.
pub fn ensure_models() {
    static FETCH: Once = Once::new();
    FETCH.call_once(|| fetch(&[]));
}

/// `newstag models fetch NAMES...` (every default model when empty), as a user runs it.
pub fn fetch(names: &[&str]) {
    let out = bin()
        .args(["models", "fetch"])
        .args(names)
        .output()
        .expect("run newstag");
    assert!(
        out.status.success(),
        "newstag models fetch failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts that a run succeeded, showing its stderr when it did not.
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run newstag")
}

pub fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn newstag");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

pub fn records(out: &Output) -> Vec<Value> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "newstag panicked: {stderr}");
    String::from_utf8(out.stdout.clone())
        .expect("stdout is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The string `key` of every item of the record's list `list` (sentence texts, tag names).
pub fn strs<'a>(record: &'a Value, list: &str, key: &str) -> Vec<&'a str> {
    record[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {record}"))
        .iter()
        .map(|item| item[key].as_str().unwrap())
        .collect()
}

/// Python's `text[start:end]`: code point offsets.
pub fn py_slice(text: &str, start: u64, end: u64) -> String {
    text.chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect()
}

/// Every span of a record (sentences and boilerplate) must be exact in code points.
pub fn assert_spans_exact(text: &str, record: &Value) {
    for key in ["sentences", "boilerplate"] {
        for span in record[key].as_array().unwrap() {
            let (s, e) = (
                span["start"].as_u64().unwrap(),
                span["end"].as_u64().unwrap(),
            );
            assert_eq!(
                py_slice(text, s, e),
                span["text"].as_str().unwrap(),
                "{key} span {s}..{e} of {}",
                record["id"]
            );
        }
    }
}

/// Texts and sentence-transformers' fp32 embeddings of them (`fixtures/minilm/expected.json`).
pub fn minilm_expected() -> Vec<(String, Vec<f32>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/minilm/expected.json");
    let text = std::fs::read_to_string(&path).expect("read fixtures/minilm/expected.json");
    let rows: Vec<Value> = serde_json::from_str(&text).expect("parse expected.json");
    rows.iter()
        .map(|r| {
            let text = r["text"].as_str().expect("text").to_string();
            let embedding = r["embedding"]
                .as_array()
                .expect("embedding")
                .iter()
                .map(|x| x.as_f64().expect("number") as f32)
                .collect();
            (text, embedding)
        })
        .collect()
}
