//! Parity of newstag's spaCy port with Python spaCy 3.8.18 + en_core_web_sm 3.8.0 (ner only),
//! on outputs recorded by `scripts/gen/make_spacy_expected.py` (`fixtures/spacy/*.jsonl.gz`,
//! offsets in Python code points). The model comes from the store, fetched like a user would.

use crate::common;

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;
use std::sync::OnceLock;

use newstag::entities::spacy_sm::SpacyNer;
use newstag::store::{EN_CORE_WEB_SM, Store};

fn ner() -> &'static SpacyNer {
    static NER: OnceLock<SpacyNer> = OnceLock::new();
    NER.get_or_init(|| {
        let out = common::run(&["models", "fetch", "en-core-web-sm"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = Store::from_env().unwrap().require(&EN_CORE_WEB_SM).unwrap();
        SpacyNer::load(&dir).expect("loading model")
    })
}

struct Record {
    text: String,
    tokens: Vec<(usize, usize)>,
    ents: Vec<(usize, usize, String)>,
}

fn read_fixture(name: &str) -> Vec<Record> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/spacy")
        .join(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    reader
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
            let pair = |x: &serde_json::Value| {
                (
                    x[0].as_u64().unwrap() as usize,
                    x[1].as_u64().unwrap() as usize,
                )
            };
            Record {
                text: v["text"].as_str().unwrap().to_string(),
                tokens: v["tokens"].as_array().unwrap().iter().map(pair).collect(),
                ents: v["ents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        let (a, b) = pair(e);
                        (a, b, e[2].as_str().unwrap().to_string())
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Byte offset -> code-point offset table for `text` (index by byte offset).
fn char_index(text: &str) -> Vec<usize> {
    let mut map = vec![0; text.len() + 1];
    let mut ci = 0;
    for (bi, c) in text.char_indices() {
        for k in 0..c.len_utf8() {
            map[bi + k] = ci;
        }
        ci += 1;
    }
    map[text.len()] = ci;
    map
}

struct Agreement {
    tok_match: usize,
    tok_total: usize,
    ent_match: usize,
    ent_total: usize,
}

fn compare(ner: &SpacyNer, records: &[Record], verbose: usize) -> Agreement {
    let mut a = Agreement {
        tok_match: 0,
        tok_total: 0,
        ent_match: 0,
        ent_total: 0,
    };
    let mut shown = 0;
    for r in records {
        let ci = char_index(&r.text);
        let toks: Vec<(usize, usize)> = ner
            .tokenize(&r.text)
            .into_iter()
            .map(|t| (ci[t.start], ci[t.end]))
            .collect();
        let ents: Vec<(usize, usize, String)> = ner
            .entities(&r.text)
            .into_iter()
            .map(|e| (ci[e.start], ci[e.end], e.label))
            .collect();
        let got_t: HashSet<_> = toks.iter().collect();
        let want_t: HashSet<_> = r.tokens.iter().collect();
        a.tok_match += got_t.intersection(&want_t).count();
        a.tok_total += got_t.len().max(want_t.len());
        let got_e: HashSet<_> = ents.iter().collect();
        let want_e: HashSet<_> = r.ents.iter().collect();
        a.ent_match += got_e.intersection(&want_e).count();
        a.ent_total += got_e.len().max(want_e.len());
        if shown < verbose && (got_t != want_t || got_e != want_e) {
            shown += 1;
            let chars: Vec<char> = r.text.chars().collect();
            let s = |x: usize, y: usize| chars[x..y].iter().collect::<String>();
            for t in want_t.difference(&got_t) {
                eprintln!("  token missing: {:?}", s(t.0, t.1));
            }
            for t in got_t.difference(&want_t) {
                eprintln!("  token extra:   {:?}", s(t.0, t.1));
            }
            for e in want_e.difference(&got_e) {
                eprintln!("  ent missing: {:?} {}", s(e.0, e.1), e.2);
            }
            for e in got_e.difference(&want_e) {
                eprintln!("  ent extra:   {:?} {}", s(e.0, e.1), e.2);
            }
        }
    }
    a
}

fn report(name: &str, a: &Agreement) -> (f64, f64) {
    let tok = a.tok_match as f64 / a.tok_total.max(1) as f64;
    let ent = a.ent_match as f64 / a.ent_total.max(1) as f64;
    println!(
        "{name}: token agreement {:.4}% ({}/{}), entity agreement {:.4}% ({}/{})",
        tok * 100.0,
        a.tok_match,
        a.tok_total,
        ent * 100.0,
        a.ent_match,
        a.ent_total
    );
    (tok, ent)
}

#[test]
fn parity_tuning() {
    let ner = ner();
    let a = compare(ner, &read_fixture("tuning.jsonl.gz"), 20);
    let (tok, ent) = report("tuning", &a);
    assert!(tok >= 0.999, "token agreement {tok}");
    assert!(ent >= 0.995, "entity agreement {ent}");
}

#[test]
fn parity_heldout() {
    let ner = ner();
    let a = compare(ner, &read_fixture("heldout.jsonl.gz"), 0);
    let (tok, ent) = report("held-out", &a);
    assert!(tok >= 0.999, "token agreement {tok}");
    assert!(ent >= 0.995, "entity agreement {ent}");
}

#[test]
fn parity_wide() {
    let ner = ner();
    let a = compare(ner, &read_fixture("wide.jsonl.gz"), 0);
    let (tok, ent) = report("wide (held-out)", &a);
    assert!(tok >= 0.999, "token agreement {tok}");
    assert!(ent >= 0.995, "entity agreement {ent}");
}

#[test]
fn parity_edge_cases() {
    let ner = ner();
    let a = compare(ner, &read_fixture("edge.jsonl.gz"), 20);
    let (tok, ent) = report("edge cases", &a);
    assert!(tok >= 0.999, "token agreement {tok}");
    assert!(ent >= 0.995, "entity agreement {ent}");
}

#[test]
fn seed_article() {
    let ner = ner();
    let recs = read_fixture("seed.jsonl.gz");
    let a = compare(ner, &recs, 5);
    report("seed", &a);
    let text = &recs[0].text;
    let ents = ner.entities(text);
    let has = |word: &str, label: &str| {
        ents.iter()
            .any(|e| &text[e.start..e.end] == word && e.label == label)
    };
    for w in ["Putin", "Xi"] {
        assert!(has(w, "PERSON"), "{w} should be PERSON");
    }
    for w in ["Moscow", "Beijing", "Russia", "China", "Norway"] {
        assert!(has(w, "GPE"), "{w} should be GPE");
    }
    assert!(has("NATO", "ORG"), "NATO should be ORG");
    assert_eq!(a.ent_match, a.ent_total, "seed entities differ from spaCy");
    assert_eq!(a.tok_match, a.tok_total, "seed tokens differ from spaCy");
}

#[test]
fn streaming_blocks_are_exact() {
    let ner = ner();
    let mut texts: Vec<String> = read_fixture("seed.jsonl.gz")
        .into_iter()
        .map(|r| r.text)
        .collect();
    // One long document (~26k tokens, several encoder blocks) from the held-out set.
    let long: Vec<String> = read_fixture("heldout.jsonl.gz")
        .into_iter()
        .map(|r| r.text)
        .collect();
    texts.push(long.join("\n\n"));
    for text in &texts {
        let reference = ner.entities(text);
        assert!(!reference.is_empty());
        let blocks: &[usize] = if text.len() < 10_000 {
            &[1, 5, 64]
        } else {
            &[300, 1000]
        };
        for &block in blocks {
            assert_eq!(
                ner.entities_with_block(text, block),
                reference,
                "block size {block}"
            );
        }
        let (toks, ents) = ner.annotate(text);
        assert_eq!(toks, ner.tokenize(text));
        assert_eq!(ents, reference);
    }
}

#[test]
fn action_order_matches_spacy() {
    let ner = ner();
    let names = ner.action_names();
    assert_eq!(names.len(), 74);
    assert_eq!(&names[..3], ["B-ORG", "B-DATE", "B-PERSON"]);
    assert_eq!(&names[72..], ["U-", "O"]);
}

#[test]
fn odd_inputs_do_not_panic() {
    let ner = ner();
    let big = "Vladimir Putin met Xi Jinping in Moscow on Tuesday.\r\n".repeat(100_000); // ~5 MB
    let cases: Vec<String> = vec![
        String::new(),
        " ".into(),
        "\n\n\t ".into(),
        "😀🎉 Emoji everywhere 👍🏽 in London".into(),
        "北京是中国的首都。東京 서울".into(),
        "Line one\r\nLine two\r\n".into(),
        "\u{0}\u{1c}\u{85}\u{a0}\u{2028}x".into(),
        "a".repeat(300),
        "https://example.com/path?q=1 e-mail: someone@example.org".into(),
        big,
    ];
    for text in &cases {
        let toks = ner.tokenize(text);
        for t in &toks {
            assert!(t.start < t.end && t.end <= text.len() && text.is_char_boundary(t.start));
        }
        for e in ner.entities(text) {
            assert!(e.start < e.end && e.end <= text.len() && text.is_char_boundary(e.end));
        }
    }
}
