//! Building a pipeline: everything a [`Config`] names, loaded once, in one place. What the
//! profile and explicit model choices resolve to is [`crate::profile::choose`]'s; which store
//! models that needs, fetching them, and loading each stage is here.

use crate::aggregate::{Aggregator, EntityRules, Vocabulary};
use crate::config::Config;
use crate::entities::{EntityRecognizer, SmRecognizer, TokenClassifier};
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::{Annotator, Pipeline};
use crate::places::Gazetteer;
use crate::profile::{self, NerModel, TopicModel};
use crate::runtime::Runtime;
use crate::store::{self, ModelSpec, Store};
use crate::topics::embedding::{Reporting, load_default};
use crate::topics::encoder::SentenceEncoder;
use crate::topics::{NliClassifier, TopicClassifier, TopicSet};

impl Pipeline {
    /// Builds everything a run needs from `config`: its thread pool, topic set, entity rules,
    /// vocabulary and models (fetched into `store` when missing, unless `offline`), each
    /// loaded once. `log` hears about downloads.
    ///
    /// The error's [`ErrorKind`] says what failed: the configuration (a value, or a file it
    /// names), a model missing or corrupt, the network.
    pub fn load(
        config: &Config,
        store: &Store,
        log: &mut dyn FnMut(&str),
    ) -> Result<Pipeline, Error> {
        config.validate()?;
        let pool = thread_pool(config.thread_count())?;
        // What the configuration names is read before any model loads: a bad file is a
        // configuration error, found in milliseconds.
        let named = Named::read(config).map_err(|e| e.with_kind(ErrorKind::Config))?;
        let annotator = named.load(config, store, log)?;
        Ok(Pipeline::new(Some(annotator), pool))
    }

    /// A pipeline that only cleans and segments (no model), on `config`'s threads.
    pub fn segmenter(config: &Config) -> Result<Pipeline, Error> {
        Ok(Pipeline::new(None, thread_pool(config.thread_count())?))
    }
}

/// The run's own worker pool.
fn thread_pool(threads: usize) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::new(ErrorKind::Other, e))
}

/// What a configuration names, read: the topic set, the entity rules and vocabulary, and the
/// models its profile and choices resolve to.
struct Named {
    topics: TopicSet,
    rules: Option<EntityRules>,
    vocabulary: Option<Vocabulary>,
    ner: NerModel,
    topic_model: TopicModel,
}

/// A run's model stages: the topic classifier and, unless `--ner none`, the entity recognizer.
type Models = (Box<dyn TopicClassifier>, Option<Box<dyn EntityRecognizer>>);

impl Named {
    fn read(config: &Config) -> Result<Named> {
        let (ner, topic_model) = profile::choose(
            config.profile,
            config.ner.as_deref(),
            config.topic_model.as_deref(),
        )?;
        Ok(Named {
            topics: config.topic_set()?,
            rules: config
                .entity_rules
                .as_deref()
                .map(EntityRules::from_file)
                .transpose()?,
            vocabulary: config
                .vocabulary
                .as_deref()
                .map(Vocabulary::from_file)
                .transpose()?,
            ner,
            topic_model,
        })
    }

    /// The store models this run needs.
    fn needed(&self, config: &Config) -> Vec<&'static ModelSpec> {
        let mut needed = vec![&store::ONNXRUNTIME_LIB];
        let shortlist = config.cascade.is_some();
        let embedding = !matches!(self.topic_model, TopicModel::Nli(_));
        if (embedding && self.topic_model != TopicModel::EmbeddingInt8) || shortlist {
            needed.push(&store::MINILM_L6_V2_FP32);
        }
        if embedding || shortlist {
            needed.push(&store::IPTC_MEDIATOPICS);
        }
        #[cfg(feature = "openvino")]
        if self.topic_model == TopicModel::EmbeddingBf16 {
            needed.push(&store::OPENVINO_LIB);
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
        needed
    }

    /// Loads every model once (fetching what is missing into `store` unless `offline`).
    fn load(self, config: &Config, store: &Store, log: &mut dyn FnMut(&str)) -> Result<Annotator> {
        for spec in self.needed(config) {
            if config.offline {
                store.require(spec)?;
            } else {
                store.ensure(spec, log)?;
            }
        }
        // ONNX Runtime's environment first, alone: when its one-time initialisation fails for
        // memory (a `ulimit -v` the gazetteer's thread has just used up), it recurses inside
        // the library until the stack overflows, a SIGSEGV without a word, where any later
        // allocation failure is an error or newstag's out-of-memory message. It takes
        // milliseconds.
        let runtime = Runtime::load(
            &store.file_path(&store::ONNXRUNTIME_LIB, &store::ONNXRUNTIME_LIB.files[0]),
            config.thread_count(),
        )?;
        // The gazetteer (~200 ms of JSON and string keys) needs nothing else, so it is built on
        // its own thread while the models load; start-up is then the longer of the two.
        let gazetteer_dir = store.model_dir(&store::GEONAMES);
        let wants_gazetteer = self.ner != NerModel::None;
        std::thread::scope(|scope| {
            let gazetteer =
                wants_gazetteer.then(|| scope.spawn(|| Gazetteer::load(&gazetteer_dir)));
            let Named {
                topics,
                rules,
                vocabulary,
                ner,
                topic_model,
            } = self;
            let models = load_models(config, &runtime, &ner, &topic_model, topics, store, log);
            let gazetteer = match gazetteer {
                Some(handle) => Some(
                    handle
                        .join()
                        .map_err(|_| crate::error::err!("loading the gazetteer panicked"))??,
                ),
                None => None,
            };
            let (classifier, recognizer) = models?;
            let aggregator = Aggregator {
                rules,
                vocabulary,
                vocabulary_only: config.vocabulary_only,
                gazetteer,
            };
            Ok(Annotator::new(Some(classifier), recognizer, aggregator))
        })
    }
}

/// The topic classifier and the entity recognizer, each loaded once.
fn load_models(
    config: &Config,
    runtime: &Runtime,
    ner: &NerModel,
    topic_model: &TopicModel,
    topics: TopicSet,
    store: &Store,
    log: &mut dyn FnMut(&str),
) -> Result<Models> {
    let iptc = store.file_path(&store::IPTC_MEDIATOPICS, &store::IPTC_MEDIATOPICS.files[0]);
    let depth = config.depth;
    let classifier = |encoder: SentenceEncoder, name: &str, topics, threshold| {
        load_default(
            encoder.with_cache(store.root().join("cache").join("embeddings")),
            name,
            &iptc,
            topics,
            Reporting { threshold, depth },
        )
        .map(|c| c.with_sentence_budget(config.topic_sentences))
    };
    let embedding = |spec: &ModelSpec, topics: TopicSet, threshold: Option<f32>| {
        let encoder = SentenceEncoder::load(runtime, &store.model_dir(spec))?;
        classifier(encoder, spec.name, topics, threshold)
    };
    let classifier: Box<dyn TopicClassifier> = match topic_model {
        TopicModel::Embedding => Box::new(embedding(
            &store::MINILM_L6_V2_FP32,
            topics,
            config.threshold,
        )?),
        TopicModel::EmbeddingInt8 => Box::new(embedding(
            &store::MINILM_L6_V2_INT8,
            topics,
            config.threshold,
        )?),
        #[cfg(feature = "openvino")]
        TopicModel::EmbeddingBf16 => {
            let spec = &store::MINILM_L6_V2_FP32;
            let lib = &store::OPENVINO_LIB;
            let openvino =
                crate::models::openvino::OpenVino::load(&store.file_path(lib, &lib.files[0]))?;
            if openvino.cpu_has_bf16()? {
                let name = format!("{} in bf16 on OpenVINO {}", spec.name, openvino.version());
                let encoder =
                    SentenceEncoder::load_bf16(runtime, openvino, &store.model_dir(spec))?;
                Box::new(classifier(encoder, &name, topics, config.threshold)?)
            } else {
                // OpenVINO would run fp32 here, no faster than ONNX Runtime and not the
                // default's numbers: the default it is, said once.
                log(
                    "OpenVINO finds no bf16 instructions on this processor (AVX512-BF16, \
                     AMX, AVX2-VNNI-2): topics run in fp32, as `--topic-model embedding`",
                );
                Box::new(embedding(spec, topics, config.threshold)?)
            }
        }
        TopicModel::Nli(model) => {
            let dir = model.materialize(store, config.offline, config.precision, log)?;
            let shortlist = match config.cascade {
                // Threshold 0: the shortlist ranks every topic; NLI decides.
                Some(k) => Some((
                    embedding(
                        &store::MINILM_L6_V2_FP32,
                        // The shortlist ranks the NLI model's own set, not the tree.
                        TopicSet {
                            taxonomy: false,
                            ..topics.clone()
                        },
                        Some(0.0),
                    )?,
                    k.max(1),
                )),
                None => None,
            };
            let mut nli = NliClassifier::load_with_precision(
                runtime,
                &dir,
                topics,
                config.threshold,
                config.precision,
            )?
            .with_name(&model.describe());
            if let Some((embedding, k)) = shortlist {
                nli = nli.with_shortlist(Box::new(embedding), k);
            }
            Box::new(nli)
        }
    };
    let recognizer: Option<Box<dyn EntityRecognizer>> = match ner {
        NerModel::Sm => Some(Box::new(SmRecognizer::load(
            &store.model_dir(&store::EN_CORE_WEB_SM),
            store::EN_CORE_WEB_SM.name,
        )?)),
        NerModel::Transformer(model) => {
            let dir = model.materialize(store, config.offline, config.precision, log)?;
            Some(Box::new(
                TokenClassifier::load_with_precision(
                    runtime,
                    &dir,
                    config.aggregation,
                    config.precision,
                )?
                .with_name(&model.describe()),
            ))
        }
        NerModel::None => None,
    };
    Ok((classifier, recognizer))
}
