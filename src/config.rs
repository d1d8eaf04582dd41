//! What a run does, decided: one [`Config`] holds every choice a run makes (profile, models,
//! topics, rules, vocabulary, precision, threads, batch size), and
//! [`Pipeline::load`](crate::Pipeline::load) builds everything from it. A front end's own
//! settings (the command line's flags, the Python package's keyword arguments) are
//! [`Overrides`] written over a configuration file or the defaults by
//! [`Config::with_overrides`], which validates the result: one merge and one set of checks for
//! every front end.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use serde_json::{Map, Value};

use crate::entities::{AggregationStrategy, Precision};
pub use crate::error::ConfigError;
use crate::error::Result;
use crate::ingest::ReadOptions;
use crate::profile::Profile;
use crate::topics::TopicSet;

/// Articles per batch when nothing says otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 64;
/// Articles larger than this many bytes get a `too_large` record unless configured otherwise.
pub const DEFAULT_MAX_ARTICLE_BYTES: usize = 1 << 20;

/// Choices given beside a configuration, by [`Config`]'s field names (`"threshold"`,
/// `"labels"`, ...): what [`Config::with_overrides`] writes over it. A choice not given leaves
/// the configuration's.
#[derive(Debug, Clone, Default)]
pub struct Overrides(Map<String, Value>);

impl Overrides {
    /// Sets `field` to `value` when there is one (`None`: not given).
    pub fn set<T: Serialize>(&mut self, field: &str, value: Option<T>) -> &mut Self {
        // Every type a field of `Config` holds serializes (paths go through `set_path`).
        if let Some(value) = value.and_then(|v| serde_json::to_value(v).ok()) {
            self.0.insert(field.to_string(), value);
        }
        self
    }

    /// Sets a file's path. serde refuses a path that is not UTF-8; its lossy text names no
    /// file, so opening it fails with a name the user recognises.
    pub fn set_path(&mut self, field: &str, path: Option<&Path>) -> &mut Self {
        self.set(field, path.map(|p| p.to_string_lossy()))
    }
}

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
    /// Topic classifier: `embedding`, `embedding-int8`, `embedding-bf16`, or an NLI model as a
    /// directory or Hub repo; the profile's when unset.
    pub topic_model: Option<String>,
    /// A topic set (TOML) replacing the shipped topics; exclusive with `labels`.
    pub topics: Option<PathBuf>,
    /// Ad-hoc topic labels ("This article is about {label}.") replacing the shipped topics.
    pub labels: Vec<String>,
    /// Score from which a topic other than the best one is reported, in [0, 1].
    pub threshold: Option<f32>,
    /// Report IPTC concepts at most this many levels deep (1 to 6).
    pub depth: Option<usize>,
    /// The embedding topic classifier reads the title and at most this many sentences of each
    /// article, spread evenly from the first to the last; 0 or unset: every sentence.
    pub topic_sentences: Option<usize>,
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
            topic_sentences: None,
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

    /// `self` (a file's configuration, or the defaults) with the choices a front end was given
    /// written over it, validated. Each override is parsed by `Config`'s own deserializer, so a
    /// value is read (and refused) exactly as a configuration file's is. A topic file and labels
    /// exclude each other: the one given replaces whichever `self` chose.
    pub fn with_overrides(&self, overrides: Overrides) -> Result<Config, ConfigError> {
        let Overrides(given) = overrides;
        let mut merged = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => return Err(ConfigError("the configuration is not an object".into())),
        };
        if given.contains_key("topics") {
            merged.remove("labels");
        }
        if given.contains_key("labels") {
            merged.remove("topics");
        }
        merged.extend(given);
        let config: Config = serde_json::from_value(Value::Object(merged))
            .map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
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
    fn overrides() {
        let file = Config {
            topics: Some("desk.toml".into()),
            threshold: Some(0.4),
            batch_size: 8,
            ..Config::default()
        };
        // Nothing given: the file's configuration as it was.
        assert_eq!(file.with_overrides(Overrides::default()).unwrap(), file);
        let mut given = Overrides::default();
        given
            .set("labels", Some(["Sport", "Trade"]))
            .set("threshold", Some(0.2f32))
            .set("aggregation", Some("max"))
            .set::<usize>("threads", None);
        let merged = file.with_overrides(given).unwrap();
        assert_eq!(
            merged,
            Config {
                // Labels replace the file's topic set: the two exclude each other.
                topics: None,
                labels: vec!["Sport".into(), "Trade".into()],
                threshold: Some(0.2),
                aggregation: AggregationStrategy::Max,
                batch_size: 8,
                ..Config::default()
            }
        );
        let mut topics = Overrides::default();
        topics.set_path("topics", Some(Path::new("other.toml")));
        let back = merged.with_overrides(topics).unwrap();
        assert_eq!(
            (back.topics, back.labels),
            (Some(PathBuf::from("other.toml")), vec![])
        );
        // Refused as a file's value is: parsed by the same deserializer, checked by validate.
        for (field, value, says) in [
            ("aggregation", "mean", "unknown aggregation"),
            ("profile", "quick", "quick"),
            ("threshold", "1.5", "threshold must be in [0, 1]"),
            ("batch_size", "0", "at least 1"),
            ("treshold", "0.2", "treshold"),
        ] {
            let value: serde_json::Value =
                serde_json::from_str(value).unwrap_or_else(|_| value.into());
            let mut given = Overrides::default();
            given.set(field, Some(value));
            let e = Config::default().with_overrides(given).unwrap_err().0;
            assert!(e.contains(says), "{field}: {e}");
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
