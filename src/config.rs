//! What a run does, decided: one [`Config`] holds every choice a run makes (profile, models,
//! topics, rules, vocabulary, precision, threads, batch size), and [`Pipeline::load`] builds
//! everything from it. The command line's flags map onto a `Config`; so can a server's or a
//! Python package's own settings.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregator, EntityRules, Vocabulary};
use crate::entities::{AggregationStrategy, Precision};
pub use crate::error::ConfigError;
use crate::error::{Error, ErrorKind, Result};
use crate::ingest::ReadOptions;
use crate::pipeline::Pipeline;
use crate::profile::{self, NerModel, Profile, Setup, TopicModel};
use crate::store::Store;
use crate::topics::TopicSet;

/// Articles per batch when nothing says otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 64;
/// Articles larger than this many bytes get a `too_large` record unless configured otherwise.
pub const DEFAULT_MAX_ARTICLE_BYTES: usize = 1 << 20;

/// Every choice a run makes. `Config::default()` is the fast profile with the shipped topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Model defaults: `fast` (offline: spaCy-port NER, MiniLM topics) or `accurate`
    /// (transformer NER and NLI zero-shot from the Hugging Face Hub).
    pub profile: Profile,
    /// Entity recogniser: `sm`, `none`, a directory or a Hub repo (`org/name[@revision]`);
    /// the profile's when unset.
    pub ner: Option<String>,
    /// Topic classifier: `embedding`, `embedding-int8`, or an NLI model as a directory or Hub
    /// repo; the profile's when unset.
    pub topic_model: Option<String>,
    /// A topic set (TOML) replacing the shipped topics; exclusive with `labels`.
    pub topics: Option<PathBuf>,
    /// Ad-hoc topic labels ("This article is about {label}.") replacing the shipped topics.
    pub labels: Vec<String>,
    /// Score from which a topic other than the best one is reported, in [0, 1].
    pub threshold: Option<f32>,
    /// Report IPTC concepts at most this many levels deep (1 to 6).
    pub depth: Option<usize>,
    /// How a transformer NER merges word pieces: `simple`, `first`, `average` or `max`.
    pub aggregation: AggregationStrategy,
    /// Which export of the transformer models runs: `fp32` or `int8`.
    pub precision: Precision,
    /// With an NLI topic model: shortlist this many topics per article by embedding first.
    pub cascade: Option<usize>,
    /// Entity rules (TOML): phrases or regexes that force or relabel entities.
    pub entity_rules: Option<PathBuf>,
    /// Controlled vocabulary (TOML or CSV) that tag suggestions snap to.
    pub vocabulary: Option<PathBuf>,
    /// Suggest only tags from the vocabulary.
    pub vocabulary_only: bool,
    /// Worker threads, and ONNX Runtime threads per forward pass (all cores when unset).
    pub threads: Option<usize>,
    /// Articles per batch: model calls are batched across this many articles.
    pub batch_size: usize,
    /// Articles larger than this many bytes get a `too_large` error record (for a web page:
    /// its extracted text).
    pub max_article_bytes: usize,
    /// Web pages larger than this many bytes, as they came, get a `too_large` error record.
    pub max_page_bytes: usize,
    /// Never fetch: a model missing from the store is an error.
    pub offline: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            profile: Profile::Fast,
            ner: None,
            topic_model: None,
            topics: None,
            labels: Vec::new(),
            threshold: None,
            depth: None,
            aggregation: AggregationStrategy::Simple,
            precision: Precision::Fp32,
            cascade: None,
            entity_rules: None,
            vocabulary: None,
            vocabulary_only: false,
            threads: None,
            batch_size: DEFAULT_BATCH_SIZE,
            max_article_bytes: DEFAULT_MAX_ARTICLE_BYTES,
            max_page_bytes: crate::ingest::DEFAULT_MAX_PAGE_BYTES,
            offline: false,
        }
    }
}

impl Config {
    /// Checks the values a type cannot: ranges, and choices that exclude each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(t) = self.threshold
            && !(0.0..=1.0).contains(&t)
        {
            return Err(ConfigError("threshold must be in [0, 1]".into()));
        }
        if let Some(d) = self.depth
            && !(1..=6).contains(&d)
        {
            return Err(ConfigError("depth must be from 1 to 6".into()));
        }
        if self.vocabulary_only && self.vocabulary.is_none() {
            return Err(ConfigError("vocabulary_only needs a vocabulary".into()));
        }
        if self.topics.is_some() && !self.labels.is_empty() {
            return Err(ConfigError(
                "topics (a topic file) and labels exclude each other".into(),
            ));
        }
        if self.labels.iter().any(|l| l.trim().is_empty()) {
            return Err(ConfigError("labels: a label is empty".into()));
        }
        // Every front end refuses zero the same way: a run of zero threads or of batches of
        // nothing cannot be meant.
        if self.threads == Some(0) || self.batch_size == 0 {
            return Err(ConfigError(
                "threads and batch_size must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Reads a configuration file: JSON when its name ends in `.json`, TOML otherwise, with
    /// the field names of [`Config`]; fields left out keep their defaults. Relative paths in it
    /// (topics, entity rules, vocabulary, and model directories) are taken from the file's
    /// directory. The result is validated.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let fail = |message: String| ConfigError(format!("config {}: {message}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let mut config: Config = if is_json {
            serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?
        } else {
            toml::from_str(&text).map_err(|e| fail(e.to_string().trim_end().to_string()))?
        };
        let base = path.parent().unwrap_or(Path::new(""));
        for file in [
            &mut config.topics,
            &mut config.entity_rules,
            &mut config.vocabulary,
        ]
        .into_iter()
        .flatten()
        {
            *file = base.join(&*file);
        }
        for model in [&mut config.ner, &mut config.topic_model]
            .into_iter()
            .flatten()
        {
            let dir = base.join(&*model);
            if Path::new(model.as_str()).is_relative() && dir.is_dir() {
                *model = dir.display().to_string();
            }
        }
        config.validate().map_err(|e| fail(e.0))?;
        Ok(config)
    }

    /// The thread budget: `threads`, or every core.
    pub fn thread_count(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    /// What the reader applies to each article.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            max_article_bytes: self.max_article_bytes,
            max_page_bytes: self.max_page_bytes,
        }
    }

    /// The reported topics: the user's labels or topic file, else the shipped set. Public
    /// for a front end that lists them (the Python package's `Annotator.topics()`).
    pub fn topic_set(&self) -> Result<TopicSet> {
        if !self.labels.is_empty() {
            TopicSet::from_labels(&self.labels)
        } else if let Some(path) = &self.topics {
            TopicSet::from_file(path)
        } else {
            Ok(TopicSet::news())
        }
    }
}

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
        let threads = config.thread_count();
        let pool = thread_pool(threads)?;
        let (topics, aggregator, (ner, topic_model)) = config
            .resolve()
            .map_err(|e| e.with_kind(ErrorKind::Config))?;
        let setup = Setup {
            ner,
            topic_model,
            aggregation: config.aggregation,
            cascade: config.cascade,
            topics,
            threshold: config.threshold,
            depth: config.depth,
            offline: config.offline,
            precision: config.precision,
            threads,
        };
        let annotator = setup.load(store, aggregator, log)?;
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

impl Config {
    /// What the configuration names, loaded: the topic set, the aggregation stage's rules and
    /// vocabulary, and the models the profile and choices resolve to.
    fn resolve(&self) -> Result<(TopicSet, Aggregator, (NerModel, TopicModel))> {
        let config = self;
        let topics = config.topic_set()?;
        let aggregator = Aggregator {
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
            vocabulary_only: config.vocabulary_only,
            gazetteer: None,
        };
        let models = profile::choose(
            config.profile,
            config.ner.as_deref(),
            config.topic_model.as_deref(),
        )?;
        Ok((topics, aggregator, models))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(Config::default().validate().is_ok());
        let bad = [
            Config {
                threshold: Some(1.5),
                ..Config::default()
            },
            Config {
                depth: Some(0),
                ..Config::default()
            },
            Config {
                topics: Some("t.toml".into()),
                labels: vec!["Sport".into()],
                ..Config::default()
            },
            Config {
                labels: vec!["Sport".into(), " ".into()],
                ..Config::default()
            },
            Config {
                threads: Some(0),
                ..Config::default()
            },
            Config {
                batch_size: 0,
                ..Config::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }

    #[test]
    fn files() {
        let dir = tempfile::tempdir().unwrap();
        let toml_path = dir.path().join("run.toml");
        std::fs::write(
            &toml_path,
            "profile = \"fast\"\nner = \"none\"\nlabels = [\"Sport\"]\nthreshold = 0.2\n\
             depth = 2\nprecision = \"int8\"\naggregation = \"max\"\nvocabulary = \"desk.csv\"\n\
             batch_size = 8\noffline = true\n",
        )
        .unwrap();
        let config = Config::from_file(&toml_path).unwrap();
        assert_eq!(
            config,
            Config {
                ner: Some("none".into()),
                labels: vec!["Sport".into()],
                threshold: Some(0.2),
                depth: Some(2),
                precision: Precision::Int8,
                aggregation: AggregationStrategy::Max,
                vocabulary: Some(dir.path().join("desk.csv")),
                batch_size: 8,
                offline: true,
                ..Config::default()
            }
        );
        let json_path = dir.path().join("run.json");
        std::fs::write(&json_path, serde_json::to_string(&config).unwrap()).unwrap();
        let again = Config::from_file(&json_path).unwrap();
        assert_eq!(again, config);

        for (name, text, says) in [
            ("typo.toml", "treshold = 0.2\n", "treshold"),
            (
                "range.toml",
                "threshold = 2.0\n",
                "threshold must be in [0, 1]",
            ),
            ("kind.toml", "profile = \"quick\"\n", "quick"),
            (
                "agg.json",
                "{\"aggregation\": \"mean\"}",
                "unknown aggregation",
            ),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let e = Config::from_file(&path).unwrap_err().to_string();
            assert!(e.starts_with("config ") && e.contains(says), "{name}: {e}");
        }
        let missing = Config::from_file(&dir.path().join("none.toml"));
        assert!(missing.is_err());
    }
}
