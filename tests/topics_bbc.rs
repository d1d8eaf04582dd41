//! Topics on real labelled news: BBC articles from the held-out half of the split the
//! calibration was not fitted on (README, "Topics"). The data is research data kept outside
//! the repository (`../shared/data/`, or `NEWSTAG_BBC_DATA`); without it these tests say so and
//! pass, as on a user's machine. `scripts/eval_topics` prints the full table.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Held-out articles per desk the tests run (the whole split is `scripts/eval_topics`' job).
const PER_DESK: usize = 30;

fn data_path() -> Option<PathBuf> {
    let path = std::env::var_os("NEWSTAG_BBC_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/bbc-news-dev.jsonl.gz")
        });
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "SKIPPED: no BBC evaluation data at {} (research data, not shipped; set NEWSTAG_BBC_DATA)",
            path.display()
        );
        None
    }
}

/// The first `PER_DESK` held-out articles of each desk, as `newstag` input lines, with the
/// desk's IPTC code and label.
fn held_out(path: &PathBuf) -> Vec<(Value, &'static str, &'static str)> {
    let desks = [
        ("business", "medtop:04000000", "business"),
        ("entertainment", "medtop:01000000", "entertainment"),
        ("politics", "medtop:11000000", "politics"),
        ("sport", "medtop:15000000", "sport"),
        ("tech", "medtop:13000000", "technology"),
    ];
    let reader = BufReader::new(flate2::read::GzDecoder::new(
        std::fs::File::open(path).unwrap(),
    ));
    let mut out = Vec::new();
    let mut counts = [0usize; 5];
    for line in reader.lines() {
        let r: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let id = r["id"].as_str().unwrap();
        // The split of scripts/fit_topics.py: fitted on even first bytes of sha256(id).
        if Sha256::digest(id.as_bytes())[0] % 2 == 0 {
            continue;
        }
        let d = desks
            .iter()
            .position(|d| d.0 == r["category"])
            .expect("a known desk");
        if counts[d] == PER_DESK {
            continue;
        }
        counts[d] += 1;
        let text = r["text"].as_str().unwrap().trim();
        let (title, body) = text.split_once('\n').unwrap_or((text, ""));
        out.push((
            json!({"id": id, "title": title.trim(), "text": body.trim()}),
            desks[d].1,
            desks[d].2,
        ));
    }
    out
}

fn annotate(articles: &[(Value, &str, &str)], extra: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bbc.jsonl");
    let mut f = std::fs::File::create(&input).unwrap();
    for (a, _, _) in articles {
        writeln!(f, "{a}").unwrap();
    }
    let mut args = vec!["annotate", "-q", "--ner", "none", input.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_ok(&out);
    let recs = records(&out);
    assert_eq!(recs.len(), articles.len());
    recs
}

#[test]
fn held_out_bbc_articles_get_their_desk_topic_first() {
    let Some(path) = data_path() else { return };
    ensure_models();
    let articles = held_out(&path);
    let recs = annotate(&articles, &[]);
    let (mut first, mut none, mut reported, mut right) = (0, 0, 0, 0);
    for (r, (_, code, _)) in recs.iter().zip(&articles) {
        let tops: Vec<&str> = r["topics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["path"].as_array().unwrap().len() == 1)
            .filter_map(|t| t["code"].as_str())
            .filter(|c| c.ends_with("000000"))
            .collect();
        first += usize::from(tops.first() == Some(code));
        none += usize::from(tops.is_empty());
        reported += tops.len();
        right += usize::from(tops.contains(code));
    }
    let n = articles.len() as f64;
    let (first, none) = (first as f64 / n, none as f64 / n);
    let precision = right as f64 / reported.max(1) as f64;
    eprintln!(
        "{n} held-out articles: first {first:.3}, no topic {none:.3}, topics/article {:.2}, precision {precision:.3}",
        reported as f64 / n
    );
    // Margins below the full held-out table (README), so a 150-article sample does not flake.
    assert!(first >= 0.85, "desk topic first in {first:.3}");
    assert!(none <= 0.03, "no topic in {none:.3}");
    assert!(precision >= 0.8, "precision {precision:.3}");
}

#[test]
fn held_out_bbc_articles_with_the_desk_names_as_labels() {
    let Some(path) = data_path() else { return };
    ensure_models();
    let articles = held_out(&path);
    let labels = [
        "business",
        "entertainment",
        "politics",
        "sport",
        "technology",
    ];
    let mut extra = vec!["--threshold", "0"];
    for l in &labels {
        extra.extend(["--label", l]);
    }
    let recs = annotate(&articles, &extra);
    let first = recs
        .iter()
        .zip(&articles)
        .filter(|(r, (_, _, label))| r["topics"][0]["label"] == *label)
        .count() as f64
        / articles.len() as f64;
    eprintln!("labels: first {first:.3}");
    assert!(first >= 0.8, "right label first in {first:.3}");
}
