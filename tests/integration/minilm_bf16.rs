//! `--topic-model embedding-bf16`: all-MiniLM-L6-v2's articles embedded in bf16 on OpenVINO's
//! CPU plugin (the store's `openvino` library, fetched from the pinned wheel), the topic
//! prototypes and background in fp32 on ONNX Runtime. On a processor without bf16 instructions
//! the run is the fp32 default's, said on stderr; each test checks the branch this machine
//! takes.

use crate::common::{self, assert_ok, fixtures, records, run};

use newstag::openvino::OpenVino;
use newstag::runtime::Runtime;
use newstag::store::{MINILM_L6_V2_FP32, ONNXRUNTIME_LIB, OPENVINO_LIB, Store};
use newstag::topics::encoder::{SentenceEncoder, dot};
use serde_json::Value;

fn openvino(store: &Store) -> OpenVino {
    OpenVino::load(&store.file_path(&OPENVINO_LIB, &OPENVINO_LIB.files[0])).expect("load OpenVINO")
}

#[test]
fn bf16_embeddings_stay_close_to_sentence_transformers_and_fixed_texts_stay_fp32() {
    common::fetch(&["onnxruntime", MINILM_L6_V2_FP32.name, OPENVINO_LIB.name]);
    let store = Store::from_env().expect("store");
    store.verify(&OPENVINO_LIB).expect("OpenVINO verifies");
    let runtime = Runtime::load(
        &store.file_path(&ONNXRUNTIME_LIB, &ONNXRUNTIME_LIB.files[0]),
        2,
    )
    .expect("load ONNX Runtime");
    let ov = openvino(&store);
    assert!(ov.version().starts_with("2026.4.1"), "{}", ov.version());
    if !ov.cpu_has_bf16().expect("ask the CPU plugin") {
        println!("this processor has no bf16 instructions: the bf16 encoder is not built here");
        return;
    }
    let dir = store.model_dir(&MINILM_L6_V2_FP32);
    let bf16 = SentenceEncoder::load_bf16(&runtime, ov, &dir).expect("load bf16");
    let fp32 = SentenceEncoder::load(&runtime, &dir).expect("load fp32");

    let expected = common::minilm_expected();
    let texts: Vec<&str> = expected.iter().map(|(t, _)| t.as_str()).collect();
    let got = bf16.embed(&texts).expect("embed bf16");
    let exact = fp32.embed(&texts).expect("embed fp32");
    assert_eq!(got.len(), texts.len());
    let mut worst = 1f32;
    let mut moved = 0f32;
    for (((text, want), got), exact) in expected.iter().zip(&got).zip(&exact) {
        assert!(
            (dot(got, got).sqrt() - 1.0).abs() < 1e-4,
            "norm for {text:?}"
        );
        let cos = dot(got, want) / dot(want, want).sqrt();
        worst = worst.min(cos);
        moved = moved.max(
            got.iter()
                .zip(exact)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max),
        );
    }
    println!(
        "bf16 vs sentence-transformers over {} texts: min cosine {worst:.5}; largest change of a \
         component against fp32 {moved:.4}",
        texts.len()
    );
    // bf16 keeps 8 bits of mantissa: the sentence vectors move, but stay the same direction
    // (0.99997 here on AVX512-BF16; 0.99993 on AMX in the benchmark's sentences).
    assert!(worst >= 0.9995, "min cosine {worst}");
    // ... and they do move: this is bf16 arithmetic, not fp32 under another name.
    assert!(moved > 1e-4, "bf16 embeddings equal fp32 ones ({moved})");

    // The fixed texts (prototypes, background) are embedded in fp32, as the calibration was
    // fitted: identical to the fp32 encoder's (here without a cache, the path a cache miss
    // takes).
    let fixed = bf16.embed_fixed(&texts[..8]).expect("embed fixed");
    let exact = fp32.embed(&texts[..8]).expect("embed fp32");
    assert_eq!(fixed.len(), 8);
    for (a, b) in fixed.iter().zip(&exact) {
        assert!(a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6));
    }
}

/// The seed article and the fixtures through the CLI in bf16 and in fp32.
#[test]
fn annotate_in_bf16_keeps_entities_and_main_topics() {
    common::ensure_models();
    common::fetch(&[OPENVINO_LIB.name]);
    let dir = fixtures();
    let annotate = |model: &str| {
        // Not quiet: the note of a processor without bf16 is on stderr.
        let out = run(&["annotate", "--topic-model", model, dir.to_str().unwrap()]);
        assert_ok(&out);
        (
            records(&out),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (fp32, _) = annotate("embedding");
    let (bf16, stderr) = annotate("embedding-bf16");
    assert_eq!(fp32.len(), bf16.len());
    let described = bf16[0]["models"]["topics"].as_str().unwrap().to_string();
    if stderr.contains("no bf16 instructions") {
        // The fp32 default, to the byte.
        assert_eq!(fp32, bf16);
        return;
    }
    assert!(
        described.contains("bf16 on OpenVINO 2026.4.1"),
        "{described}"
    );
    let labels = |r: &Value, min: f64| -> Vec<String> {
        r["topics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["score"].as_f64().unwrap() >= min)
            .map(|t| t["label"].as_str().unwrap().to_string())
            .collect()
    };
    let mut worst = 0f64;
    for (a, b) in fp32.iter().zip(&bf16) {
        assert_eq!(a["id"], b["id"]);
        // Entities do not read the encoder.
        for field in ["sentences", "entities", "people", "places", "organizations"] {
            assert_eq!(a[field], b[field], "{field} of {}", a["id"]);
        }
        let (x, y) = (common::topic_scores(a), common::topic_scores(b));
        for (label, score) in &x {
            if let Some(other) = y.get(label) {
                worst = worst.max((score - other).abs());
            }
        }
        // The first topic holds wherever fp32 puts it clearly first (a tenth ahead of the
        // next); closer calls may swap under bf16's rounding.
        let ranked = labels(a, 0.0);
        let gap = match ranked.as_slice() {
            [first, second, ..] => x[first] - x[second],
            _ => 1.0,
        };
        if gap > 0.1 {
            assert_eq!(ranked.first(), labels(b, 0.0).first(), "{}", a["id"]);
        }
    }
    println!("largest topic score change, bf16 against fp32, over the fixtures: {worst:.4}");
    // 0.0027 here on AVX512-BF16; bf16 on AMX moved the benchmark's scores by up to 0.029.
    assert!(worst < 0.05, "{worst}");
    let seed = &bf16[0];
    assert!(
        seed["id"]
            .as_str()
            .unwrap()
            .ends_with("000_96f95457316a6f2e.txt")
    );
    assert_eq!(labels(seed, 0.0)[0], "Arctic");
    let tags: Vec<&str> = seed["tags"]
        .as_array()
        .unwrap()
        .iter()
        .take(10)
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    for want in common::SEED_TOP_TAGS {
        assert!(
            tags.contains(&want),
            "{want} not in the seed's top tags {tags:?}"
        );
    }
}
