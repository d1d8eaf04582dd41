//! The accurate-profile switches end to end: `--ner` and `--topic-model` from a local directory
//! and from a Hub repo served by a real HTTP server on loopback in the Hub's URL layout.

mod common;

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
                let local = match file {
                    "onnx/model.onnx" => dir.join("model.onnx"),
                    other => dir.join(other),
                };
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
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let topics = records(&out)[0]["topics"].as_array().unwrap().clone();
    assert!(!topics.is_empty() && topics.len() <= 2, "{topics:?}");
    let out = run(&["annotate", "-q", "--aggregation", "mean", &seed()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn hub_models_download_into_the_store_then_work_offline() {
    let home = store_with_runtime();
    let (base, seen) = hub_server(vec![
        ("org/tiny-ner", tiny("bert-ner")),
        ("org/tiny-nli", tiny("deberta-nli")),
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!records(&out)[0]["entities"].as_array().unwrap().is_empty());
    let hub_dir: &Path = &home.path().join("hub/org--tiny-ner/main");
    for f in ["config.json", "tokenizer.json", "onnx/model.onnx"] {
        assert!(hub_dir.join(f).is_file(), "{f} not in the store");
    }
    let requests = seen.lock().unwrap().len();
    assert!(requests >= 6, "{requests} requests");

    // Everything is in the store now: offline works and asks the server nothing.
    let out = annotate(true, "org/tiny-ner");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
}
