//! Classify topics: which subjects of a topic set an article is about, with the sentences that
//! carry each one. One trait, two implementations: embedding similarity over the IPTC Media
//! Topics tree with a fitted calibration (`embedding`), and NLI zero-shot (`nli`).

mod catalog;
pub mod embedding;
pub mod encoder;
pub mod iptc;
pub mod nli;
mod set;

pub use set::LABEL_TEMPLATE;

use crate::document::{Document, Evidence, TopicScore};

pub use catalog::{CatalogTopic, IptcRelease, TopicCatalog};
pub use embedding::EmbeddingClassifier;
pub use nli::NliClassifier;
pub use set::{Topic, TopicSet};

/// A multi-label topic classifier over whole documents.
///
/// It takes many documents at once so an implementation can batch model calls across
/// articles; it returns one topic list per document, sorted by descending score.
pub trait TopicClassifier: Send + Sync {
    /// What produced the topics, for the record's `models` field.
    fn model_id(&self) -> String;
    /// The topics it reports, from what it loaded.
    fn catalog(&self) -> TopicCatalog;
    fn classify(&self, docs: &[&Document]) -> Result<Vec<Vec<TopicScore>>, crate::Error>;
}

/// Evidence sentences listed per topic, at most.
const MAX_EVIDENCE: usize = 5;

/// A reported topic: its document score and, as evidence, the units whose own score (mapped by
/// `unit_score`) passes the threshold, strongest first. `units` is sorted by descending raw
/// score; the title (no sentence index) is never evidence.
pub(crate) fn topic_score(
    topic: &Topic,
    score: f32,
    units: &[(Option<usize>, f32)],
    threshold: f32,
    unit_score: impl Fn(f32) -> f32,
) -> TopicScore {
    let evidence = units
        .iter()
        .filter_map(|&(i, raw)| Some((i?, unit_score(raw))))
        .filter(|&(_, s)| s >= threshold)
        .take(MAX_EVIDENCE)
        .map(|(sentence, s)| Evidence {
            sentence,
            score: round4(s),
        })
        .collect();
    TopicScore {
        label: topic.label.clone(),
        code: topic.code.clone(),
        path: vec![topic.label.clone()],
        score: round4(score),
        evidence,
    }
}

/// Descending score, then label, so equal scores print in a stable order.
pub(crate) fn sort_topics(topics: &mut [TopicScore]) {
    topics.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.label.cmp(&b.label))
    });
}

/// Four decimals: more would print float noise, not information.
pub(crate) fn round4(x: f32) -> f32 {
    (x * 10_000.0).round() / 10_000.0
}
