//! `newstag annotate` end to end on the real offline models from the store.

use crate::common;

use std::fs;

use common::*;
use serde_json::Value;

fn topic_labels(record: &Value) -> Vec<String> {
    record["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap().to_string())
        .collect()
}

/// The IPTC top-level topics of a record, in its order, as codes.
fn top_level_codes(record: &Value) -> Vec<String> {
    record["topics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["path"].as_array().unwrap().len() == 1
                && t["code"].as_str().is_some_and(|c| c.ends_with("000000"))
        })
        .map(|t| t["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn seed_topics_arctic_first_no_sport_or_health() {
    ensure_models();
    let path = fixtures().join("000_96f95457316a6f2e.txt");
    let out = run(&["annotate", "-q", path.to_str().unwrap()]);
    assert_ok(&out);
    let r = &records(&out)[0];
    let labels = topic_labels(r);
    assert_eq!(labels[0], "Arctic", "{labels:?}");
    for wrong in [
        "Middle East",
        "sport",
        "health",
        "weather",
        "religion",
        "education",
    ] {
        assert!(
            !labels.iter().any(|l| l.eq_ignore_ascii_case(wrong)),
            "{wrong} in {labels:?}"
        );
    }
    // Scores are calibrated, sorted, and every topic cites sentences of this article.
    let topics = r["topics"].as_array().unwrap();
    let scores: Vec<f64> = topics
        .iter()
        .map(|t| t["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]));
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    let n = r["sentences"].as_array().unwrap().len() as u64;
    let arctic = &topics[0];
    assert!(!arctic["evidence"].as_array().unwrap().is_empty());
    for e in arctic["evidence"].as_array().unwrap() {
        assert!(e["sentence"].as_u64().unwrap() < n);
    }
    // Arctic's evidence is the sentences about the Arctic: each names it or the Northern Sea
    // Route (the seed has sentences on trade, Moscow and the war that do neither).
    for e in arctic["evidence"].as_array().unwrap() {
        let text = r["sentences"][e["sentence"].as_u64().unwrap() as usize]["text"]
            .as_str()
            .unwrap();
        assert!(
            text.contains("Arctic") || text.contains("Northern Sea Route"),
            "evidence for Arctic: {text}"
        );
    }
    // The taxonomy's topics carry their code and path; a concept below the top level sits
    // under a reported top-level topic.
    let tops = top_level_codes(r);
    assert!(!tops.is_empty(), "{labels:?}");
    for t in topics {
        let path: Vec<&str> = t["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(path.last().copied(), t["label"].as_str(), "{t}");
        if path.len() > 1 {
            assert!(t["code"].as_str().unwrap().starts_with("medtop:"), "{t}");
            assert!(
                topics
                    .iter()
                    .any(|u| u["path"].as_array().unwrap().len() == 1 && u["label"] == path[0]),
                "{t} without its top level"
            );
        }
    }
    assert_eq!(r["published"], "2025-05-30");
    assert_eq!(r["source"], "Clash Report");
    assert!(
        r["models"]["topics"]
            .as_str()
            .unwrap()
            .contains("all-minilm-l6-v2")
    );
}

#[test]
fn other_fixtures_get_their_obvious_topic() {
    ensure_models();
    let out = run(&["annotate", "-q", fixtures().to_str().unwrap()]);
    assert!(out.status.success());
    let recs = records(&out);
    let top = |id_part: &str| {
        let r = recs
            .iter()
            .find(|r| r["id"].as_str().unwrap().contains(id_part))
            .unwrap();
        top_level_codes(r).first().cloned().unwrap_or_default()
    };
    assert_eq!(top("football"), "medtop:15000000"); // sport
    assert_eq!(top("hospital"), "medtop:07000000"); // health
    assert_eq!(top("rates-2025-06"), "medtop:04000000"); // economy, business and finance
    // JSONL fields other than id/title/text pass through under meta.
    let rates = recs.iter().find(|r| r["id"] == "rates-2025-06").unwrap();
    assert_eq!(rates["meta"]["section"], "Economy");
    assert_eq!(
        rates["title"],
        "Central bank holds rates as inflation cools"
    );
}

#[test]
fn depth_caps_the_concepts_and_labels_stay_zero_shot() {
    ensure_models();
    let seed = fixtures().join("000_96f95457316a6f2e.txt");
    let out = run(&[
        "annotate",
        "-q",
        "--ner",
        "none",
        "--depth",
        "1",
        seed.to_str().unwrap(),
    ]);
    assert_ok(&out);
    let r = &records(&out)[0];
    assert!(
        r["topics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["path"].as_array().unwrap().len() == 1),
        "{}",
        r["topics"]
    );
    let football = fixtures().join("001_football_final.txt");
    let out = run(&[
        "annotate",
        "-q",
        "--ner",
        "none",
        "--label",
        "politics",
        "--label",
        "football",
        "--label",
        "cooking",
        football.to_str().unwrap(),
        seed.to_str().unwrap(),
    ]);
    assert_ok(&out);
    let recs = records(&out);
    // Only the user's labels are reported, outside the taxonomy, and the right one leads.
    assert_eq!(
        topic_labels(&recs[0]).first().map(String::as_str),
        Some("football")
    );
    for r in &recs {
        for t in r["topics"].as_array().unwrap() {
            assert!(t["code"].is_null(), "{t}");
            assert_eq!(t["path"].as_array().unwrap().len(), 1);
        }
    }
    assert!(
        !topic_labels(&recs[1])
            .iter()
            .any(|l| l == "cooking" || l == "football")
    );
}

#[test]
fn hobbies_reach_lifestyle_and_leisure() {
    // A subject no labelled news was fitted on: it must come through the tree's zero-shot
    // prior, not be taken by the subjects that have heads (fixtures/leisure/README.md).
    ensure_models();
    let dir = fixtures().join("../leisure");
    let mut paths: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    paths.sort();
    let mut args = vec!["annotate", "-q", "--ner", "none", "--threshold", "0"];
    args.extend(paths.iter().map(String::as_str));
    let out = run(&args);
    assert_ok(&out);
    let recs = records(&out);
    assert_eq!(recs.len(), 4);
    for r in &recs {
        let tops = top_level_codes(r);
        assert!(
            tops[..3].iter().any(|c| c == "medtop:10000000"),
            "{}: {tops:?}",
            r["id"]
        );
    }
    // Nor may a desk topic of news.toml take them (the stew once got Arctic at 0.44): none
    // of the four is about a desk, and by default none reports one.
    let out = run(&[
        &["annotate", "-q", "--ner", "none"][..],
        &paths.iter().map(String::as_str).collect::<Vec<_>>(),
    ]
    .concat());
    assert_ok(&out);
    let desks = desk_labels();
    for r in records(&out) {
        let said: Vec<String> = topic_labels(&r)
            .into_iter()
            .filter(|l| desks.contains(l))
            .collect();
        assert!(said.is_empty(), "{}: desk topics {said:?}", r["id"]);
    }
}

/// The desk topics of the shipped news.toml: its topics other than its copies of IPTC's
/// top-level subjects (codes `medtop:NN000000`, as `top_level_codes` reads them), which are not
/// reported beside the tree.
fn desk_labels() -> Vec<String> {
    let toml: toml::Table = toml::from_str(
        &fs::read_to_string(fixtures().join("../../models/topics/news.toml")).unwrap(),
    )
    .unwrap();
    let desks: Vec<String> = toml["topic"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            !t.get("code")
                .and_then(|c| c.as_str())
                .is_some_and(|c| c.ends_with("000000"))
        })
        .map(|t| t["label"].as_str().unwrap().to_string())
        .collect();
    assert!(
        desks.iter().any(|d| d == "Arctic") && !desks.iter().any(|d| d == "Sport"),
        "{desks:?}"
    );
    desks
}

#[test]
fn records_match_the_published_schema() {
    ensure_models();
    let schema: Value = serde_json::from_str(
        &fs::read_to_string(fixtures().join("../../schema/record.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    fs::write(&bad, "{\"id\": \"b1\", \"text\": \"\"}\nnot json\n").unwrap();
    let out = run(&[
        "annotate",
        "-q",
        fixtures().to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    let recs = records(&out);
    assert!(recs.len() >= 9);
    let mut errors = 0;
    for r in &recs {
        let problems: Vec<String> = validator.iter_errors(r).map(|e| e.to_string()).collect();
        assert!(problems.is_empty(), "{}: {problems:?}", r["id"]);
        errors += usize::from(r.get("error").is_some());
    }
    assert_eq!(errors, 2);
    // The schema does reject what it should: a record missing its topics.
    let mut broken = recs[0].clone();
    broken.as_object_mut().unwrap().remove("topics");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn ad_hoc_labels_and_topic_files() {
    ensure_models();
    let seed = fixtures().join("000_96f95457316a6f2e.txt");
    let out = run(&[
        "annotate",
        "-q",
        "--label",
        "Russia-China relations",
        "--label",
        "cooking recipes",
        seed.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let labels = topic_labels(&records(&out)[0]);
    assert_eq!(labels, ["Russia-China relations"]);

    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("desk.toml");
    fs::write(
        &toml,
        "[[topic]]\nlabel = \"Sea routes\"\ndescription = \"Shipping lanes and sea routes for cargo.\"\npatterns = ['(?i)northern sea route']\n\n[[topic]]\nlabel = \"Gardening\"\ndescription = \"Plants, flowers, lawns and vegetable gardens.\"\n",
    )
    .unwrap();
    let out = run(&[
        "annotate",
        "-q",
        "--topics",
        toml.to_str().unwrap(),
        seed.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(topic_labels(&records(&out)[0]), ["Sea routes"]);

    fs::write(&toml, "[[topic]]\nlabel = \"X\"\npatterns = ['(']\n").unwrap();
    let out = run(&[
        "annotate",
        "-q",
        "--topics",
        toml.to_str().unwrap(),
        seed.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad pattern"));
}

#[test]
fn offline_with_an_empty_store_names_the_fetch_command() {
    let home = tempfile::tempdir().unwrap();
    let out = bin()
        .env("NEWSTAG_HOME", home.path())
        .args(["annotate", "--offline", fixtures().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("newstag models fetch"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn seed_entities_people_places_organisations() {
    ensure_models();
    let path = fixtures().join("000_96f95457316a6f2e.txt");
    let text = fs::read_to_string(&path).unwrap();
    let out = run(&["annotate", "-q", path.to_str().unwrap()]);
    let r = &records(&out)[0];
    let ents = r["entities"].as_array().unwrap();
    let has = |name: &str, category: &str| {
        ents.iter()
            .any(|e| e["text"] == name && e["category"] == category)
    };
    for p in ["Putin", "Xi"] {
        assert!(has(p, "person"), "{p}");
    }
    for p in ["Moscow", "Beijing", "Russia", "China", "Norway"] {
        assert!(has(p, "place"), "{p}");
    }
    assert!(has("NATO", "organization"));
    let n = r["sentences"].as_array().unwrap().len() as u64;
    for e in ents {
        let (s, end) = (e["start"].as_u64().unwrap(), e["end"].as_u64().unwrap());
        assert_eq!(py_slice(&text, s, end), e["text"].as_str().unwrap());
        assert!(e["sentence"].as_u64().unwrap() < n, "{e}");
    }
    // Nothing comes from the dateline or the navigation tail.
    let prose_end = text.find("\nArctic\nMay 2025").unwrap();
    let prose_end = text[..prose_end].chars().count() as u64;
    assert!(ents.iter().all(|e| e["start"].as_u64().unwrap() > 24));
    assert!(ents.iter().all(|e| e["end"].as_u64().unwrap() <= prose_end));

    // --ner none leaves entities out and does not need the spaCy model.
    let out = run(&["annotate", "-q", "--ner", "none", path.to_str().unwrap()]);
    let r = &records(&out)[0];
    assert!(r["entities"].as_array().unwrap().is_empty());
    assert!(r["models"].get("entities").is_none());
}

/// A JSONL article's `language` field is its declaration: refused when its text reads as that
/// language too; without the field, Latin-script text is read as English (a documented
/// limit), and an English text under a wrong field is annotated.
#[test]
fn a_jsonl_language_field_is_read_with_the_text() {
    let spanish = "El fiscal Pedro Horrach está perfilando con el jefe de la Fiscalía \
                   Anticorrupción la estrategia que seguirá en el juicio. La decisión se tomará \
                   en Madrid la próxima semana, según fuentes cercanas al caso. El juicio \
                   comenzará en otoño, si el tribunal lo permite.";
    let english = "Lagarde spoke in Frankfurt on Thursday about inflation in the euro area, \
                   and said the bank would keep rates where they are until the summer.";
    let input = [
        serde_json::json!({"id": "es", "language": "es", "text": spanish}),
        serde_json::json!({"id": "es-undeclared", "text": spanish}),
        serde_json::json!({"id": "en-as-es", "language": "es-ES", "text": english}),
    ]
    .map(|v| v.to_string())
    .join("\n");
    let out = run_stdin(&["annotate", "-"], input.as_bytes());
    assert_eq!(out.status.code(), Some(3), "one article failed");
    let recs = records(&out);
    assert_eq!(recs[0]["error"]["kind"], "language", "{}", recs[0]);
    let message = recs[0]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`es`") && message.contains("Spanish"),
        "{message}"
    );
    for r in &recs[1..] {
        assert!(r.get("error").is_none(), "{r}");
        assert!(r["meta"].is_object());
    }
    assert_eq!(recs[2]["meta"]["language"], "es-ES");
}

#[test]
fn annotate_keeps_input_order_across_batches() {
    ensure_models();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.jsonl");
    let mut body = String::new();
    for i in 0..9 {
        // Every third line is bad, so errors and annotations interleave across batches.
        if i % 3 == 2 {
            body.push_str("{\"id\": \"bad\"\n");
        } else {
            let text = "Trade talks resumed in Oslo. ".repeat(1 + i * 3);
            body.push_str(&serde_json::json!({"id": format!("d{i}"), "text": text}).to_string());
            body.push('\n');
        }
    }
    fs::write(&path, body).unwrap();
    let out = run(&[
        "annotate",
        "-q",
        "--batch-size",
        "2",
        "--threads",
        "2",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let recs = records(&out);
    let ids: Vec<String> = recs
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = (0..9)
        .map(|i| {
            if i % 3 == 2 {
                format!("{}:{}", path.display(), i + 1)
            } else {
                format!("d{i}")
            }
        })
        .collect();
    assert_eq!(ids, want);
}

#[test]
fn int8_embeddings_are_selectable_and_agree_with_fp32() {
    ensure_models();
    let path = fixtures().join("000_96f95457316a6f2e.txt");
    let topics = |model: &str| {
        let out = run(&[
            "annotate",
            "-q",
            "--ner",
            "none",
            "--topic-model",
            model,
            "--threshold",
            "0.3",
            path.to_str().unwrap(),
        ]);
        assert_ok(&out);
        records(&out)[0].clone()
    };
    let (int8, fp32) = (topics("embedding-int8"), topics("embedding"));
    assert!(fp32["models"]["topics"].as_str().unwrap().contains("fp32"));
    assert!(int8["models"]["topics"].as_str().unwrap().contains("int8"));
    // The old name of the fp32 model still selects it.
    assert_eq!(topics("embedding-fp32")["topics"], fp32["topics"]);
    assert_eq!(fp32["topics"][0]["label"], "Arctic");
    // The int8 model's accuracy cost at the document level: the same top topic, and the same
    // topics over 0.5 but at most one. Scores move more than cosines do (on the seed, up to
    // 0.22): the calibration's sigmoid is steep around the threshold.
    assert_eq!(int8["topics"][0]["label"], fp32["topics"][0]["label"]);
    let over_half = |r: &Value| -> std::collections::BTreeSet<String> {
        r["topics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["score"].as_f64().unwrap() >= 0.5)
            .map(|t| t["label"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (over_half(&int8), over_half(&fp32));
    assert!(
        a.symmetric_difference(&b).count() <= 1,
        "int8 {a:?} fp32 {b:?}"
    );
    assert!(a.len() >= 3);
}

#[test]
fn stdin_streams_each_record_out_before_the_next_article_comes_in() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    use std::time::Duration;

    ensure_models();
    let mut child = bin()
        .args(["annotate", "-q", "--batch-size", "1", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // The next article is written only once the previous record has come out: a reader or
    // writer that waits for the end of input (or for a full buffer) never gets there.
    for i in 0..3 {
        let text = format!("Trade talks {i} resumed in Oslo on Monday. Norway's minister spoke.");
        let line = serde_json::json!({"id": format!("s{i}"), "text": text}).to_string();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let record = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no record for article {i} while stdin stays open"));
        let record: Value = serde_json::from_str(&record).unwrap();
        assert_eq!(record["id"], format!("s{i}"));
        assert!(!record["entities"].as_array().unwrap().is_empty());
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// `--topic-sentences K` reads the title and K sentences spread from the first to the last:
/// its topics are those of an article made of only those sentences, and its evidence points at
/// them by their places in the whole article.
#[test]
fn a_sentence_budget_reads_the_title_and_sentences_spread_over_the_article() {
    ensure_models();
    let dir = tempfile::tempdir().unwrap();
    let title = "Russia and China eye the Arctic as the ice retreats";
    let whole = dir.path().join("whole.jsonl");
    let article = serde_json::json!({"id": "whole", "title": title, "text": fs::read_to_string(seed()).unwrap()});
    fs::write(&whole, format!("{article}\n")).unwrap();
    let seg = records(&run(&["segment", "-q", whole.to_str().unwrap()]));
    let sentences: Vec<&str> = seg[0]["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    let (n, k) = (sentences.len(), 5);
    assert!(n > 2 * k, "the seed has {n} sentences");
    // Spread evenly, the first and the last included: j (n-1) / (k-1), rounded.
    let read: Vec<usize> = (0..k)
        .map(|j| ((j * (n - 1)) as f64 / (k - 1) as f64).round() as usize)
        .collect();
    let part = dir.path().join("part.jsonl");
    let text = read
        .iter()
        .map(|&i| sentences[i])
        .collect::<Vec<_>>()
        .join("\n\n");
    let article = serde_json::json!({"id": "part", "title": title, "text": text});
    fs::write(&part, format!("{article}\n")).unwrap();
    let part_seg = records(&run(&["segment", "-q", part.to_str().unwrap()]));
    assert_eq!(part_seg[0]["sentences"].as_array().unwrap().len(), k);

    let flags = ["-q", "--ner", "none", "--threshold", "0.05"];
    let budget = run(&[
        &["annotate", "--topic-sentences", "5"][..],
        &flags,
        &[whole.to_str().unwrap()],
    ]
    .concat());
    let full = run(&[&["annotate"][..], &flags, &[part.to_str().unwrap()]].concat());
    let every = run(&[&["annotate"][..], &flags, &[whole.to_str().unwrap()]].concat());
    let (budget, full, every) = (
        &records(&budget)[0],
        &records(&full)[0],
        &records(&every)[0],
    );
    let topics = |r: &Value| -> Vec<(String, f64, Vec<u64>)> {
        r["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let evidence = t["evidence"].as_array().unwrap();
                (
                    t["label"].as_str().unwrap().to_string(),
                    t["score"].as_f64().unwrap(),
                    evidence
                        .iter()
                        .map(|e| e["sentence"].as_u64().unwrap())
                        .collect(),
                )
            })
            .collect()
    };
    let (got, want) = (topics(budget), topics(full));
    assert!(!got.is_empty());
    assert_eq!(got.len(), want.len(), "{got:?}\n{want:?}");
    for ((label, score, evidence), (want_label, want_score, want_evidence)) in got.iter().zip(&want)
    {
        assert_eq!(label, want_label);
        // The same vectors, batched with other sentences: equal to float rounding.
        assert!(
            (score - want_score).abs() < 2e-4,
            "{label}: {score} against {want_score}"
        );
        let mapped: Vec<u64> = want_evidence
            .iter()
            .map(|&i| read[i as usize] as u64)
            .collect();
        assert_eq!(evidence, &mapped, "{label}");
    }
    // Reading every sentence is another answer: the budget is not a no-op.
    assert_ne!(got, topics(every));
}
