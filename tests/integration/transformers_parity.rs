//! Parity of the transformer pipelines (token classification, NLI zero-shot) with Hugging Face
//! transformers, on the tiny random-weight models of `fixtures/tiny/` and the outputs that
//! `scripts/gen/make_tiny_transformers.py` recorded from transformers' own pipelines.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use newstag::Category;
use newstag::article::Article;
use newstag::entities::{AggregationStrategy, EntityRecognizer, TokenClassifier};
use newstag::runtime::Runtime;
use newstag::store::{ONNXRUNTIME_LIB, Store};
use newstag::topics::nli::NliClassifier;
use newstag::topics::{TopicClassifier, TopicSet};
use serde_json::Value;

const TOLERANCE: f32 = 1e-4;

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tiny")
}

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_newstag"))
            .args(["models", "fetch", "onnxruntime"])
            .output()
            .expect("run newstag");
        assert!(
            out.status.success(),
            "newstag models fetch onnxruntime failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let store = Store::from_env().expect("store");
        let lib = store.file_path(&ONNXRUNTIME_LIB, &ONNXRUNTIME_LIB.files[0]);
        Runtime::load(&lib, 1).expect("load ONNX Runtime")
    })
}

fn expected(name: &str) -> Value {
    let text = std::fs::read_to_string(tiny().join(name)).expect("read expected outputs");
    serde_json::from_str(&text).expect("parse expected outputs")
}

/// Byte offset of code point `chars` in `text`.
fn byte_of(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(b, _)| b)
}

const STRATEGIES: [(&str, AggregationStrategy); 4] = [
    ("simple", AggregationStrategy::Simple),
    ("first", AggregationStrategy::First),
    ("average", AggregationStrategy::Average),
    ("max", AggregationStrategy::Max),
];

#[test]
fn token_classification_matches_transformers() {
    let expected = expected("expected_ner.json");
    let mut total = 0;
    for model in ["bert-ner", "deberta-ner"] {
        for (name, aggregation) in STRATEGIES {
            let classifier =
                TokenClassifier::load(runtime(), &tiny().join(model), aggregation).expect("load");
            assert_eq!(classifier.max_len(), 64);
            let rows = expected["models"][model][name].as_array().expect("rows");
            let sentences: Vec<&str> = rows
                .iter()
                .map(|r| r["sentence"].as_str().unwrap())
                .collect();
            // One batched call for every sentence, as the recogniser runs.
            let got = classifier.predict(&sentences).expect("predict");
            let mut mismatches = Vec::new();
            for ((row, sentence), got) in rows.iter().zip(&sentences).zip(&got) {
                let want: Vec<(String, usize, usize, f32)> = row["entities"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        (
                            e["entity_group"].as_str().unwrap().to_string(),
                            byte_of(sentence, e["start"].as_u64().unwrap() as usize),
                            byte_of(sentence, e["end"].as_u64().unwrap() as usize),
                            e["score"].as_f64().unwrap() as f32,
                        )
                    })
                    .collect();
                total += want.len();
                let same = want.len() == got.len()
                    && want.iter().zip(got).all(|(w, g)| {
                        w.0 == g.group
                            && w.1 == g.start
                            && w.2 == g.end
                            && (w.3 - g.score).abs() <= TOLERANCE
                    });
                if !same {
                    mismatches.push(format!(
                        "{sentence:?}\n  want {want:?}\n  got  {:?}",
                        got.iter()
                            .map(|g| (g.group.clone(), g.start, g.end, g.score))
                            .collect::<Vec<_>>()
                    ));
                }
            }
            assert!(
                mismatches.is_empty(),
                "{model} / {name}: {} of {} sentences differ; first:\n{}",
                mismatches.len(),
                rows.len(),
                mismatches[..mismatches.len().min(3)].join("\n")
            );
        }
    }
    assert!(total > 1000, "the fixtures hold entities to compare");
}

#[test]
fn long_sentences_are_windowed_not_truncated() {
    let expected = expected("expected_ner.json");
    for model in ["bert-ner", "deberta-ner"] {
        let classifier =
            TokenClassifier::load(runtime(), &tiny().join(model), AggregationStrategy::First)
                .unwrap();
        // The recorded long sentences: entities past the first window are found, with exact
        // offsets (checked against transformers in the parity test; here: that they exist).
        let rows = expected["models"][model]["first"].as_array().unwrap();
        let longest = rows
            .iter()
            .map(|r| r["sentence"].as_str().unwrap())
            .max_by_key(|s| s.len())
            .unwrap();
        let got = classifier.predict(&[longest]).unwrap().remove(0);
        let tail = longest.len() * 3 / 4;
        assert!(
            got.iter().any(|e| e.start >= tail),
            "{model}: no entity in the last quarter of a long sentence"
        );

        // A synthetic sentence of many copies of one short sentence: every entity in the tail
        // starts on a token boundary of the copy it lies in.
        let unit =
            "Prime Minister Jonas Gahr Støre met officials of the European Union in Brussels";
        let long = vec![unit; 24].join(" ");
        let single = classifier.predict(&[unit]).unwrap().remove(0);
        let all = classifier.predict(&[long.as_str()]).unwrap().remove(0);
        assert!(!single.is_empty());
        let tail: Vec<_> = all.iter().filter(|e| e.start >= long.len() / 2).collect();
        assert!(!tail.is_empty(), "{model}: nothing found in the tail");
        let tokenizer =
            tokenizers::Tokenizer::from_file(tiny().join(model).join("tokenizer.json")).unwrap();
        // Windows are cut from the tokenisation of the whole text, so every entity starts and
        // ends on one of its token boundaries, however far into the text.
        let full = tokenizer.encode(long.as_str(), false).unwrap();
        assert!(full.len() > 3 * classifier.max_len(), "several windows");
        let starts: Vec<usize> = full.get_offsets().iter().map(|o| o.0).collect();
        let ends: Vec<usize> = full.get_offsets().iter().map(|o| o.1).collect();
        for e in &tail {
            assert!(long.is_char_boundary(e.start) && long.is_char_boundary(e.end));
            assert!(e.start < e.end && e.end <= long.len());
            assert!(
                starts.contains(&e.start),
                "{model}: {e:?} starts inside a token"
            );
            assert!(ends.contains(&e.end), "{model}: {e:?} ends inside a token");
        }
        // The copies are tokenised alike, so the last copy yields entities as the others do.
        let last_copy = long.len() - unit.len();
        assert!(
            all.iter().any(|e| e.start + 1 >= last_copy),
            "{model}: nothing found in the last copy"
        );
        // Entities come in text order without overlaps.
        for w in all.windows(2) {
            assert!(w[0].end <= w[1].start, "{model}: overlapping {w:?}");
        }
    }
}

#[test]
fn recognizer_maps_spans_into_the_article() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/articles/004_unicode_mix.txt"),
    )
    .unwrap();
    let article = Article::from_text("unicode".into(), None, text);
    let doc = newstag::pipeline::prepare(article).expect("prepare");
    for model in ["bert-ner", "deberta-ner"] {
        let classifier =
            TokenClassifier::load(runtime(), &tiny().join(model), AggregationStrategy::Average)
                .unwrap();
        let sentences: Vec<&str> = (0..doc.sentences.len())
            .map(|i| doc.sentence_text(i))
            .collect();
        let raw = classifier.predict(&sentences).unwrap();
        let mentions = classifier.recognize(&[&doc]).unwrap().remove(0);
        assert!(!mentions.is_empty());
        assert_eq!(
            classifier.model_id(),
            format!("{model} (token classification, aggregation average)")
        );
        let mut n = 0;
        for (i, ents) in raw.iter().enumerate() {
            let base = doc.sentences[i].start;
            for e in ents {
                let span = &sentences[i][e.start..e.end];
                if span.trim().is_empty() {
                    continue;
                }
                let lead = span.len() - span.trim_start().len();
                let m = &mentions
                    .iter()
                    .find(|m| m.start == base + e.start + lead)
                    .unwrap_or_else(|| panic!("{model}: no mention for {e:?}"));
                assert_eq!(
                    &doc.article.text[m.start..m.end],
                    span.trim(),
                    "{model}: mention text"
                );
                assert_eq!(m.sentence, Some(i));
                assert_eq!(m.label, e.group);
                assert_eq!(m.score, Some(e.score));
                let want = match e.group.as_str() {
                    "PER" => Category::Person,
                    "LOC" => Category::Place,
                    "ORG" => Category::Organization,
                    _ => Category::Other,
                };
                assert_eq!(m.category, want);
                n += 1;
            }
        }
        assert_eq!(n, mentions.len());
        assert!(mentions.windows(2).all(|w| w[0].start <= w[1].start));
    }
}

#[test]
fn zero_shot_matches_transformers() {
    let expected = expected("expected_zeroshot.json");
    let template = expected["template"].as_str().unwrap();
    let labels: Vec<&str> = expected["candidate_labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    for model in ["bert-nli", "deberta-nli"] {
        let nli = NliClassifier::load(runtime(), &tiny().join(model), TopicSet::news(), None)
            .expect("load");
        let rows = expected["models"][model].as_array().unwrap();
        let sentences: Vec<&str> = rows
            .iter()
            .map(|r| r["sentence"].as_str().unwrap())
            .collect();
        for (key, multi) in [("single_label", false), ("multi_label", true)] {
            // All pairs of all sentences batched together...
            let batched = nli
                .classify_pairs(&sentences, &labels, template, multi)
                .unwrap();
            for ((row, sentence), scores) in rows.iter().zip(&sentences).zip(&batched) {
                let want_labels: Vec<&str> = row[key]["labels"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap())
                    .collect();
                let want_scores: Vec<f32> = row[key]["scores"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_f64().unwrap() as f32)
                    .collect();
                // ...and one sentence at a time, ranked as the pipeline ranks.
                let ranked = nli.zero_shot(sentence, &labels, template, multi).unwrap();
                let got_labels: Vec<&str> = ranked.iter().map(|r| r.0.as_str()).collect();
                // Identical order, except between labels whose recorded scores tie (to float
                // noise: ONNX Runtime and PyTorch differ in the last bits).
                for (i, l) in got_labels.iter().enumerate() {
                    let j = want_labels.iter().position(|w| w == l).unwrap();
                    assert!(
                        i == j || (want_scores[i] - want_scores[j]).abs() <= 1e-6,
                        "{model} {key}: order {got_labels:?} vs {want_labels:?} on {sentence:?}"
                    );
                }
                for ((l, s), w) in ranked.iter().zip(&want_scores) {
                    assert!(
                        (s - w).abs() <= TOLERANCE,
                        "{model} {key} {l}: {s} vs {w} on {sentence:?}"
                    );
                    let i = labels.iter().position(|x| x == l).unwrap();
                    assert!((scores[i] - w).abs() <= TOLERANCE, "{model} {key}: batched");
                }
                if !multi {
                    let sum: f32 = scores.iter().sum();
                    assert!((sum - 1.0).abs() < 1e-4);
                }
            }
        }
    }
}

#[test]
fn nli_topics_over_documents() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/articles/001_football_final.txt"),
    )
    .unwrap();
    let doc = newstag::pipeline::prepare(Article::from_text(
        "football".into(),
        Some("Cup final".into()),
        text,
    ))
    .unwrap();
    let topics = TopicSet::from_labels(&["Arctic".into(), "trade".into(), "sport".into()]).unwrap();
    let nli = NliClassifier::load(runtime(), &tiny().join("bert-nli"), topics, Some(0.0)).unwrap();
    let out = nli.classify(&[&doc, &doc]).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], out[1]);
    assert_eq!(out[0].len(), 3, "threshold 0 reports every topic");
    assert!(out[0].windows(2).all(|w| w[0].score >= w[1].score));
    for t in &out[0] {
        assert!((0.0..=1.0).contains(&t.score));
        assert!(t.evidence.len() <= 5);
        assert!(t.evidence.iter().all(|e| e.sentence < doc.sentences.len()));
        assert!(t.evidence.windows(2).all(|w| w[0].score >= w[1].score));
    }
    // The document score is the mean of the top sentence scores, so it never exceeds the best.
    let sentences: Vec<&str> = (0..doc.sentences.len())
        .map(|i| doc.sentence_text(i))
        .chain(["Cup final"])
        .collect();
    let pairs = nli
        .classify_pairs(
            &sentences,
            &["Arctic", "trade", "sport"],
            "This article is about {}.",
            true,
        )
        .unwrap();
    for t in &out[0] {
        let i = ["Arctic", "trade", "sport"]
            .iter()
            .position(|l| *l == t.label)
            .unwrap();
        let best = pairs.iter().map(|p| p[i]).fold(0.0f32, f32::max);
        assert!(t.score <= best + 1e-4);
    }
    assert!(nli.model_id().starts_with("bert-nli (NLI"));
    let nli = nli.with_name("org/tiny-nli");
    assert!(nli.model_id().starts_with("org/tiny-nli (NLI"));

    // Cascade: a shortlist classifier picks two topics per document; only those are scored,
    // and they score exactly as without the cascade.
    let labels = ["Arctic".to_string(), "trade".into(), "sport".into()];
    let shortlist = NliClassifier::load(
        runtime(),
        &tiny().join("deberta-nli"),
        TopicSet::from_labels(&labels).unwrap(),
        Some(0.0),
    )
    .unwrap();
    let picked: Vec<String> = shortlist.classify(&[&doc]).unwrap()[0][..2]
        .iter()
        .map(|t| t.label.clone())
        .collect();
    let cascade = NliClassifier::load(
        runtime(),
        &tiny().join("bert-nli"),
        TopicSet::from_labels(&labels).unwrap(),
        Some(0.0),
    )
    .unwrap()
    .with_shortlist(Box::new(shortlist), 2);
    let got = cascade.classify(&[&doc]).unwrap().remove(0);
    assert_eq!(got.len(), 2);
    for t in &got {
        assert!(picked.contains(&t.label));
        let full = out[0].iter().find(|f| f.label == t.label).unwrap();
        assert_eq!(t, full);
    }
}
