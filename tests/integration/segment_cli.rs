//! `newstag segment` end to end: inputs of every kind, offsets, bad input, order.

use crate::common;

use std::fs;
use std::io::{Read, Write};
use std::process::Stdio;

use common::*;
use flate2::{Compression, write::GzEncoder};
use serde_json::Value;

#[test]
fn seed_dateline_and_boilerplate() {
    let path = fixtures().join("000_96f95457316a6f2e.txt");
    let out = run(&["segment", path.to_str().unwrap()]);
    assert!(out.status.success());
    let recs = records(&out);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r["published"], "2025-05-30");
    let text = fs::read_to_string(&path).unwrap();
    assert_spans_exact(&text, r);

    let boiler: Vec<(&str, &str)> = r["boilerplate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["text"].as_str().unwrap(), b["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(boiler[0], ("May 30, 2025Clash Report", "dateline"));
    // The navigation tail: every one of its 12 lines is boilerplate, none is a sentence.
    let tail: Vec<&str> = text.trim_end().lines().rev().take(12).collect();
    for line in &tail {
        assert!(
            boiler.iter().any(|(t, _)| t == line),
            "{line:?} not boilerplate"
        );
    }
    let sentences = strs(r, "sentences", "text");
    assert!(
        sentences
            .iter()
            .all(|s| !s.contains("Clash Report") && !s.ends_with("2025"))
    );
    assert!(sentences[0].starts_with("During a joint press briefing"));
    assert!(
        sentences
            .iter()
            .any(|s| s.starts_with("“There is significant progress") && s.ends_with("he said."))
    );
    assert!(sentences.last().unwrap().ends_with("partnership."));
}

#[test]
fn unicode_and_crlf_offsets_are_code_points() {
    for name in ["004_unicode_mix.txt", "005_crlf.txt"] {
        let path = fixtures().join(name);
        let text = fs::read_to_string(&path).unwrap();
        let out = run(&["segment", path.to_str().unwrap()]);
        let recs = records(&out);
        assert!(
            recs[0]["sentences"].as_array().unwrap().len() >= 2,
            "{name}"
        );
        assert_spans_exact(&text, &recs[0]);
    }
    // Built so that byte and code point offsets differ a lot, and sentences cross scripts.
    let text = "🚢🧊 Icebreakers reached Tromsø on Monday. 北京 sent envoys to Nuuk.\r\n«Nous surveillons la situation», he said. Ölpreise stiegen — 4.5%.";
    let input = serde_json::json!({"id": "u", "text": text}).to_string();
    let out = run_stdin(&["segment"], input.as_bytes());
    let recs = records(&out);
    assert_spans_exact(text, &recs[0]);
    assert_eq!(
        recs[0]["sentences"].as_array().unwrap().len(),
        4,
        "{}",
        recs[0]
    );
}

#[test]
fn every_bad_input_gets_one_error_record_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("a_good.txt"),
        "The ship left port on Monday. It reached Oslo.",
    )
    .unwrap();
    fs::write(d.join("b_latin1.txt"), b"Caf\xe9 owners met in Troms\xf8.").unwrap();
    fs::write(d.join("c_empty.txt"), "").unwrap();
    fs::write(d.join("d_blank.txt"), " \n\t\r\n ").unwrap();
    fs::write(d.join("e_binary.txt"), b"\x7fELF\x02\x01\x00\x00\x00binary").unwrap();
    let big = "The council met again. ".repeat(5 * 1024 * 1024 / 23 + 1);
    fs::write(d.join("f_big.txt"), &big).unwrap();
    fs::write(
        d.join("g_lines.jsonl"),
        "{\"id\": \"j1\", \"text\": \"First line here.\"}\n{\"id\": \"j2\", \"text\": \n\n{\"id\": \"j3\"}\n{\"text\": \"No id here.\"}\n[1]\n",
    )
    .unwrap();
    let missing = d.join("zz_missing.txt");
    let out = run(&["segment", d.to_str().unwrap(), missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "some articles failed -> 3");
    let recs = records(&out);
    let kinds: Vec<String> = recs
        .iter()
        .map(|r| match r.get("error") {
            Some(e) => e["kind"].as_str().unwrap().to_string(),
            None => "ok".to_string(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "ok",
            "invalid_utf8",
            "empty",
            "empty",
            "binary",
            "too_large",
            "ok",
            "malformed_json",
            "missing_text",
            "ok",
            "malformed_json",
            "io"
        ]
    );
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let jsonl = d.join("g_lines.jsonl").display().to_string();
    assert_eq!(ids[6], "j1");
    assert_eq!(ids[7], format!("{jsonl}:2"));
    assert_eq!(ids[8], "j3");
    assert_eq!(ids[9], format!("{jsonl}:5"));
    assert!(ids[11].ends_with("zz_missing.txt"));
    for r in &recs {
        if let Some(e) = r.get("error") {
            assert!(e["message"].as_str().unwrap().len() > 10, "{r}");
        }
    }

    // The same 5 MB article goes through when the limit allows it.
    let out = run(&[
        "segment",
        "--max-article-bytes",
        "10000000",
        d.join("f_big.txt").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let recs = records(&out);
    assert!(recs[0]["sentences"].as_array().unwrap().len() > 200_000);
}

#[test]
fn jsonl_order_survives_parallel_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.jsonl");
    let mut f = fs::File::create(&path).unwrap();
    for i in 0..500 {
        // Lengths vary a lot so that workers finish out of order.
        let text = format!("Article {i} starts here. ").repeat(1 + (i * 37) % 200);
        writeln!(
            f,
            "{}",
            serde_json::json!({"id": format!("doc-{i}"), "text": text})
        )
        .unwrap();
    }
    drop(f);
    let out = run(&[
        "segment",
        "--threads",
        "2",
        "--batch-size",
        "13",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let recs = records(&out);
    let ids: Vec<String> = recs
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..500).map(|i| format!("doc-{i}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn stdin_gzip_directories_and_meta() {
    // stdin: JSONL when the first non-blank byte is '{', otherwise one article.
    let out = run_stdin(
        &["segment"],
        b"\n  {\"id\": \"x\", \"text\": \"One. Two.\"}\n{\"id\": \"y\", \"text\": \"Three.\"}\n",
    );
    let recs = records(&out);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1]["id"], "y");
    let out = run_stdin(&["segment", "-"], b"  Plain text here. Second sentence.");
    let recs = records(&out);
    assert_eq!(recs[0]["id"], "-");
    assert_eq!(recs[0]["sentences"][0]["start"], 2);

    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("b_sub");
    fs::create_dir(&sub).unwrap();
    let gz = |path: &std::path::Path, body: &str| {
        let mut enc = GzEncoder::new(fs::File::create(path).unwrap(), Compression::default());
        enc.write_all(body.as_bytes()).unwrap();
        enc.finish().unwrap();
    };
    gz(&sub.join("z.txt.gz"), "Compressed text. Still text.");
    gz(
        &dir.path().join("a.jsonl.gz"),
        "{\"id\": \"g1\", \"title\": \"T\", \"text\": \"Gz line.\", \"lang\": \"en\"}\n",
    );
    fs::write(dir.path().join("c.md"), "Markdown article.").unwrap();
    fs::write(dir.path().join("ignored.png"), [0u8, 1, 2]).unwrap();
    let out = run(&["segment", dir.path().to_str().unwrap()]);
    assert_ok(&out);
    let recs = records(&out);
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[0], "g1");
    assert!(ids[1].ends_with("z.txt.gz"));
    assert!(ids[2].ends_with("c.md"));
    assert_eq!(recs[1]["sentences"].as_array().unwrap().len(), 2);
}

#[test]
fn closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.jsonl");
    let mut f = fs::File::create(&path).unwrap();
    for i in 0..20_000 {
        writeln!(
            f,
            "{}",
            serde_json::json!({"id": i, "text": "A sentence. Another one."})
        )
        .unwrap();
    }
    drop(f);
    let mut child = bin()
        .args(["segment", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.is_empty(), "stderr: {stderr}");
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&["segment", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["annotate", "--threshold", "7", "x.txt"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn output_file_gets_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let src = fixtures().join("005_crlf.txt");
    let out = run(&[
        "segment",
        "-q",
        "-o",
        out_path.to_str().unwrap(),
        src.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let body = fs::read_to_string(&out_path).unwrap();
    let rec: Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(rec["sentences"].as_array().unwrap().len(), 2);
}

#[test]
fn resume_continues_a_killed_run_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let mut body = String::new();
    for i in 0..50 {
        if i == 30 {
            body.push_str("{broken\n");
        }
        body.push_str(
            &serde_json::json!({"id": format!("r{i}"), "text": format!("Story {i}. It ends.")})
                .to_string(),
        );
        body.push('\n');
    }
    fs::write(&input, body).unwrap();
    let full = dir.path().join("full.jsonl");
    let out = run(&[
        "segment",
        "-q",
        "-o",
        full.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let expected = fs::read_to_string(&full).unwrap();
    assert_eq!(expected.lines().count(), 51);

    // A run killed after 20 records, halfway through writing the 21st.
    let killed = dir.path().join("killed.jsonl");
    let lines: Vec<&str> = expected.lines().collect();
    let mut partial = lines[..20].join("\n");
    partial.push('\n');
    partial.push_str(&lines[20][..lines[20].len() / 2]);
    fs::write(&killed, partial).unwrap();
    let out = run(&[
        "segment",
        "-q",
        "--resume",
        "-o",
        killed.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(fs::read_to_string(&killed).unwrap(), expected);

    // Resuming a finished run writes nothing more.
    let out = run(&[
        "segment",
        "-q",
        "--resume",
        "-o",
        killed.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(fs::read_to_string(&killed).unwrap(), expected);
    // --resume needs -o.
    assert_eq!(
        run(&["segment", "--resume", input.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
}
