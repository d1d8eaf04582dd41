//! The accurate-profile switches end to end: `--ner` and `--topic-model` from a local directory
//! and from a Hub repo served by a real HTTP server on loopback in the Hub's URL layout.

use crate::common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::*;
use sha2::{Digest, Sha256};

fn tiny(name: &str) -> PathBuf {
    fixtures().join("../tiny").join(name)
}

/// Serves `GET /{repo}/resolve/main/{file}` from local directories, like the Hub does (with
/// sha256 ETags and a commit header); anything else is a 404. Returns the base URL and the
/// paths requested.
fn hub_server(repos: Vec<(&'static str, PathBuf)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // Drain the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push(path.clone());
            let body = repos.iter().find_map(|(repo, dir)| {
                let file = path.strip_prefix(&format!("/{repo}/resolve/main/"))?;
                // The tiny fixtures keep their graphs at the top; serve them as `onnx/...` too.
                let local = dir.join(file.strip_prefix("onnx/").unwrap_or(file));
                std::fs::read(local).ok()
            });
            let response = match body {
                Some(body) => {
                    let etag = hex::encode(Sha256::digest(&body));
                    let mut head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"{etag}\"\r\nX-Repo-Commit: 0123456789abcdef0123456789abcdef01234567\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    head.extend_from_slice(&body);
                    head
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nX-Error-Code: EntryNotFound\r\nConnection: close\r\n\r\n".to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    (base, seen)
}

/// A fresh store that shares the already-fetched runtime and gazetteer with the user's store.
fn store_with_runtime() -> tempfile::TempDir {
    ensure_models();
    let out = run(&["models", "path"]);
    let user_store = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let home = tempfile::tempdir().unwrap();
    for model in ["onnxruntime", "geonames"] {
        std::os::unix::fs::symlink(user_store.join(model), home.path().join(model)).unwrap();
    }
    home
}

#[test]
fn local_transformer_models() {
    ensure_models();
    let (ner, nli) = (tiny("bert-ner"), tiny("bert-nli"));
    for aggregation in ["simple", "first", "average", "max"] {
        let out = run(&[
            "annotate",
            "-q",
            "--ner",
            ner.to_str().unwrap(),
            "--aggregation",
            aggregation,
            "--topic-model",
            nli.to_str().unwrap(),
            "--label",
            "Arctic",
            "--threshold",
            "0",
            &seed(),
        ]);
        assert_ok(&out);
        let r = &records(&out)[0];
        assert!(
            r["models"]["entities"]
                .as_str()
                .unwrap()
                .contains(aggregation)
        );
        assert!(r["models"]["topics"].as_str().unwrap().contains("NLI"));
        let text = std::fs::read_to_string(seed()).unwrap();
        let ents = r["entities"].as_array().unwrap();
        assert!(!ents.is_empty());
        for e in ents {
            let (s, end) = (e["start"].as_u64().unwrap(), e["end"].as_u64().unwrap());
            assert_eq!(py_slice(&text, s, end), e["text"].as_str().unwrap());
            assert!((0.0..=1.0).contains(&e["score"].as_f64().unwrap()));
        }
        assert_eq!(r["topics"][0]["label"], "Arctic");
    }
    // The cascade: the embedding classifier shortlists 2 of the 35 news topics per article,
    // NLI scores only those.
    let out = run(&[
        "annotate",
        "-q",
        "--ner",
        "none",
        "--topic-model",
        nli.to_str().unwrap(),
        "--cascade",
        "2",
        "--threshold",
        "0",
        &seed(),
    ]);
    assert_ok(&out);
    let topics = records(&out)[0]["topics"].as_array().unwrap().clone();
    assert!(!topics.is_empty() && topics.len() <= 2, "{topics:?}");
    // A value no aggregation has is a usage error, as a bad value in a --config file is.
    let out = run(&["annotate", "-q", "--aggregation", "mean", &seed()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mean"));
}

type Spans = HashSet<(u64, u64, String)>;

/// Entities as (start, end, label), and topic scores by label, of one record.
fn spans_and_scores(r: &serde_json::Value) -> (Spans, std::collections::BTreeMap<String, f64>) {
    let spans = r["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let label = e["label"].as_str().unwrap().to_string();
            (
                e["start"].as_u64().unwrap(),
                e["end"].as_u64().unwrap(),
                label,
            )
        })
        .collect();
    (spans, common::topic_scores(r))
}

#[test]
fn int8_exports_run_with_int8_and_track_fp32() {
    ensure_models();
    // fixtures/tiny/{bert-ner,bert-nli}/model_quantized.onnx were made by scripts/gen/quantize.py.
    let (ner, nli) = (tiny("bert-ner"), tiny("bert-nli"));
    let annotate = |extra: &[&str]| {
        let mut args = vec![
            "annotate",
            "-q",
            "--ner",
            ner.to_str().unwrap(),
            "--topic-model",
            nli.to_str().unwrap(),
            "--label",
            "Arctic",
            "--label",
            "Trade",
            "--threshold",
            "0",
        ];
        args.extend_from_slice(extra);
        let seed = seed();
        args.push(&seed);
        let out = run(&args);
        assert_ok(&out);
        records(&out).remove(0)
    };
    let (fp32, int8) = (annotate(&[]), annotate(&["--int8"]));
    for layer in ["entities", "topics"] {
        assert!(!fp32["models"][layer].as_str().unwrap().contains("int8"));
        assert!(int8["models"][layer].as_str().unwrap().contains("(int8)"));
    }
    // Quantisation moves scores a little and may flip a few tokens, not the whole output.
    let (spans32, scores32) = spans_and_scores(&fp32);
    let (spans8, scores8) = spans_and_scores(&int8);
    let kept = spans32.intersection(&spans8).count();
    assert!(spans32.len() > 50, "{}", spans32.len());
    assert!(
        kept * 10 >= spans32.len() * 9,
        "{kept} of {} entities kept",
        spans32.len()
    );
    assert_eq!(scores32.len(), 2);
    for (label, score) in &scores32 {
        let other = scores8[label];
        assert!(
            (score - other).abs() < 0.05,
            "{label}: fp32 {score}, int8 {other}"
        );
    }
    // A directory without an int8 export says how to make one.
    let out = run(&[
        "annotate",
        "-q",
        "--int8",
        "--ner",
        tiny("deberta-ner").to_str().unwrap(),
        &seed(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("model_quantized.onnx") && stderr.contains("scripts/gen/quantize.py"),
        "{stderr}"
    );
}

#[test]
fn hub_models_download_into_the_store_then_work_offline() {
    let home = store_with_runtime();
    let (base, seen) = hub_server(vec![
        ("org/tiny-ner", tiny("bert-ner")),
        ("org/tiny-nli", tiny("deberta-nli")),
        ("org/tiny-bert-nli", tiny("bert-nli")),
    ]);
    let annotate = |offline: bool, ner: &str| {
        let mut cmd = bin();
        cmd.env("NEWSTAG_HOME", home.path())
            .env("HF_ENDPOINT", &base)
            .env_remove("HF_TOKEN")
            .env_remove("HF_HUB_OFFLINE");
        if offline {
            cmd.env("HF_HUB_OFFLINE", "1");
        }
        cmd.args([
            "annotate",
            "-q",
            "--ner",
            ner,
            "--topic-model",
            "org/tiny-nli",
            "--label",
            "trade",
            &seed(),
        ])
        .output()
        .unwrap()
    };
    let out = annotate(false, "org/tiny-ner");
    assert_ok(&out);
    assert!(!records(&out)[0]["entities"].as_array().unwrap().is_empty());
    let hub_dir: &Path = &home.path().join("hub/org--tiny-ner/main");
    for f in ["config.json", "tokenizer.json", "onnx/model.onnx"] {
        assert!(hub_dir.join(f).is_file(), "{f} not in the store");
    }
    let requests = seen.lock().unwrap().len();
    assert!(requests >= 6, "{requests} requests");

    // Everything is in the store now: offline works and asks the server nothing.
    let out = annotate(true, "org/tiny-ner");
    assert_ok(&out);
    assert_eq!(seen.lock().unwrap().len(), requests);

    // --offline never asks the Hub for a model that is not in the store.
    let mut cmd = bin();
    let out = cmd
        .env("NEWSTAG_HOME", home.path())
        .env("HF_ENDPOINT", &base)
        .env_remove("HF_HUB_OFFLINE")
        .args([
            "annotate",
            "-q",
            "--offline",
            "--topic-model",
            "org/tiny-nli",
            "--ner",
            "org/never-fetched",
            &seed(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--offline forbids downloading"));
    assert_eq!(seen.lock().unwrap().len(), requests);

    // A repo the Hub does not have is a clear error and no record is written.
    let out = annotate(false, "org/missing");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not found") && stderr.contains("org/missing"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // --int8 fetches the repos' int8 exports (onnx/model_quantized.onnx) and runs them.
    let out = bin()
        .env("NEWSTAG_HOME", home.path())
        .env("HF_ENDPOINT", &base)
        .env_remove("HF_TOKEN")
        .env_remove("HF_HUB_OFFLINE")
        .args([
            "annotate",
            "-q",
            "--int8",
            "--ner",
            "org/tiny-ner",
            "--topic-model",
            "org/tiny-bert-nli",
            "--label",
            "trade",
            &seed(),
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    let r = &records(&out)[0];
    assert!(
        r["models"]["entities"]
            .as_str()
            .unwrap()
            .contains("org/tiny-ner@main (int8)")
    );
    assert!(hub_dir.join("onnx/model_quantized.onnx").is_file());
    let asked = seen.lock().unwrap();
    assert!(
        asked
            .iter()
            .any(|p| p == "/org/tiny-bert-nli/resolve/main/onnx/model_quantized.onnx")
    );
    assert!(
        !asked
            .iter()
            .any(|p| p == "/org/tiny-bert-nli/resolve/main/onnx/model.onnx")
    );
}
