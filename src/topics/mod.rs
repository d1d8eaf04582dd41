//! Classify topics: which subjects of a topic set an article is about, with the sentences that
//! carry each one. One trait, several implementations (embedding similarity now, NLI later).

pub mod embedding;
pub mod nli;
mod set;

use serde::Serialize;

use crate::document::Document;

pub use embedding::EmbeddingClassifier;
pub use nli::NliClassifier;
pub use set::{Topic, TopicSet};

/// A topic assigned to a document.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TopicScore {
    pub label: String,
    pub code: Option<String>,
    /// Calibrated score in [0, 1]; topics under their threshold are not reported.
    pub score: f32,
    /// Sentences that carried the topic, strongest first.
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    /// Index into the record's `sentences`.
    pub sentence: usize,
    pub score: f32,
}

/// A multi-label topic classifier over whole documents.
///
/// It takes many documents at once so an implementation can batch model calls across
/// articles; it returns one topic list per document, sorted by descending score.
pub trait TopicClassifier: Send + Sync {
    /// What produced the topics, for the record's `models` field.
    fn model_id(&self) -> String;
    fn classify(&self, docs: &[&Document]) -> anyhow::Result<Vec<Vec<TopicScore>>>;
}
