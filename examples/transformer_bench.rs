//! Throughput of the transformer paths (token classification, NLI zero-shot) over a JSONL file
//! of `{"text": ...}` lines, for scripts/bench/bench_transformers:
//!
//! `cargo run --release --example transformer_bench -- ner|nli MODEL_DIR SENTENCES_JSONL
//! [--labels a,b,c] [--threads N] [--runs 3] [--output OUT.jsonl]`
//!
//! ONNX Runtime comes from the store (`newstag models fetch onnxruntime`); MODEL_DIR holds
//! `model.onnx`, `config.json` and `tokenizer.json`. After loading: one warm-up pass, then
//! `--runs` timed passes over all sentences (NER: one `predict` call; NLI: one
//! `classify_pairs` call, single-label, every sentence against every label). Prints one JSON
//! summary line; `--output` gets one line per sentence, as transformers' pipelines report
//! it: NER entities {word, entity_group, start, end, score} with code point offsets (`word`
//! is the text of the span), zero-shot {labels, scores} best first.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use newstag::entities::{AggregationStrategy, TokenClassifier};
use newstag::runtime::Runtime;
use newstag::store::{ONNXRUNTIME_LIB, Store};
use newstag::topics::nli::DEFAULT_TEMPLATE;
use newstag::topics::{NliClassifier, TopicSet};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// `ner` (token classification, aggregation simple) or `nli` (zero-shot).
    task: String,
    model_dir: PathBuf,
    sentences: PathBuf,
    /// Candidate labels for `nli`, comma-separated.
    #[arg(long, default_value = "politics,business,sport,health")]
    labels: String,
    /// ONNX Runtime intra-op threads (and tokenizer threads).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    #[arg(long)]
    output: Option<PathBuf>,
}

/// Code point offset of byte offset `byte` in `text`.
fn chars_to(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

fn main() -> Result<()> {
    let args = Args::parse();
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build_global()?;
    let store = Store::from_env()?;
    store.require(&ONNXRUNTIME_LIB)?;
    let lib = store.file_path(&ONNXRUNTIME_LIB, &ONNXRUNTIME_LIB.files[0]);
    let runtime = Runtime::load(&lib, args.threads)?;
    let texts: Vec<String> = std::fs::read_to_string(&args.sentences)
        .with_context(|| format!("reading {}", args.sentences.display()))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)?;
            Ok(v["text"].as_str().unwrap_or_default().to_string())
        })
        .collect::<Result<_>>()?;
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let labels: Vec<&str> = args.labels.split(',').filter(|l| !l.is_empty()).collect();

    let t = Instant::now();
    let (pass_s, lines, pairs) = match args.task.as_str() {
        "ner" => {
            let ner =
                TokenClassifier::load(&runtime, &args.model_dir, AggregationStrategy::Simple)?;
            let load_s = t.elapsed().as_secs_f64();
            let (times, found) = timed(args.runs, || Ok(ner.predict(&texts)?))?;
            let lines: Vec<_> = texts
                .iter()
                .zip(&found)
                .map(|(text, ents)| {
                    let ents: Vec<_> = ents
                        .iter()
                        .map(|e| {
                            json!({"word": &text[e.start..e.end], "entity_group": e.group,
                                "start": chars_to(text, e.start), "end": chars_to(text, e.end),
                                "score": e.score})
                        })
                        .collect();
                    json!(ents)
                })
                .collect();
            ((load_s, times), lines, None)
        }
        "nli" => {
            let owned: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
            let nli = NliClassifier::load(
                &runtime,
                &args.model_dir,
                TopicSet::from_labels(&owned)?,
                None,
            )?;
            let load_s = t.elapsed().as_secs_f64();
            let (times, scores) = timed(args.runs, || {
                Ok(nli.classify_pairs(&texts, &labels, DEFAULT_TEMPLATE, false)?)
            })?;
            let lines: Vec<_> = scores
                .iter()
                .map(|s| {
                    // Best first; among equal scores the later label first (as zero_shot).
                    let mut order: Vec<usize> = (0..s.len()).collect();
                    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(b.cmp(&a)));
                    json!({"labels": order.iter().map(|&i| labels[i]).collect::<Vec<_>>(),
                        "scores": order.iter().map(|&i| s[i]).collect::<Vec<_>>()})
                })
                .collect();
            ((load_s, times), lines, Some(texts.len() * labels.len()))
        }
        other => bail!("unknown task {other:?} (ner or nli)"),
    };
    let (load_s, times) = pass_s;
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = (sorted[(n - 1) / 2] + sorted[n / 2]) / 2.0;
    if let Some(path) = &args.output {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut summary = json!({
        "task": args.task, "model_dir": args.model_dir, "threads": args.threads,
        "sequences": texts.len(), "load_s": load_s, "pass_s": times, "median_s": median,
        "sequences_per_s": texts.len() as f64 / median,
    });
    if let Some(p) = pairs {
        summary["pairs"] = json!(p);
        summary["pairs_per_s"] = json!(p as f64 / median);
    }
    println!("{summary}");
    Ok(())
}

/// One warm-up pass, then `runs` timed passes; the seconds of each and the last result.
fn timed<T>(runs: usize, mut pass: impl FnMut() -> Result<T>) -> Result<(Vec<f64>, T)> {
    let mut out = pass()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        out = pass()?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok((times, out))
}
