//! Single-thread throughput of the spaCy-port NER over the held-out fixture texts:
//! `cargo run --release --example ner_bench [FIXTURE]` (model from the store; run
//! `newstag models fetch` first). scripts/bench/bench runs it beside Python spaCy.
//! Words = non-whitespace tokens, the same count scripts/gen/make_spacy_expected.py uses.

use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use newstag::entities::spacy_sm::SpacyNer;
use newstag::store::{EN_CORE_WEB_SM, Store};

fn main() -> anyhow::Result<()> {
    let dir = Store::from_env()?.require(&EN_CORE_WEB_SM)?;
    let fixture = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fixtures/spacy/heldout.jsonl.gz".to_string());
    let t = Instant::now();
    let ner = SpacyNer::load(&dir)?;
    println!("load: {:.2}s", t.elapsed().as_secs_f64());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&fixture);
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(path)?));
    let mut texts = Vec::new();
    for line in reader.lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        texts.push(v["text"].as_str().unwrap_or_default().to_string());
    }
    let words: usize = texts
        .iter()
        .map(|t| {
            ner.tokenize(t)
                .into_iter()
                .filter(|r| !t[r.clone()].chars().all(char::is_whitespace))
                .count()
        })
        .sum();
    let mut best = f64::INFINITY;
    let (mut tok_best, mut n_ents) = (f64::INFINITY, 0);
    for _ in 0..3 {
        let t = Instant::now();
        for text in &texts {
            std::hint::black_box(ner.tokenize(text));
        }
        tok_best = tok_best.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        n_ents = 0;
        for text in &texts {
            n_ents += ner.entities(text).len();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{} docs, {words} words, {n_ents} entities", texts.len());
    println!("tokenizer only: {:.0} words/s", words as f64 / tok_best);
    println!(
        "entities (tokenizer + NER), one thread: {:.0} words/s",
        words as f64 / best
    );
    Ok(())
}
