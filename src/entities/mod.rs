//! Recognise entities: people, places, organisations and the rest, as mentions with exact
//! offsets. One trait; the spaCy `en_core_web_sm` port is the offline implementation.

pub mod spacy_sm;
pub mod transformer;

use crate::document::{Document, Mention};

pub use crate::runtime::Precision;
pub use spacy_sm::SmRecognizer;
pub use transformer::{AggregationStrategy, TokenClassifier};

/// A named-entity recogniser over whole documents.
pub trait EntityRecognizer: Send + Sync {
    /// What produced the entities, for the record's `models` field.
    fn model_id(&self) -> String;
    /// Mentions of each document, in text order.
    fn recognize(&self, docs: &[&Document]) -> Result<Vec<Vec<Mention>>, crate::Error>;
}

/// The sentence that contains byte offset `at`, given sentences in text order.
pub fn sentence_of(sentences: &[std::ops::Range<usize>], at: usize) -> Option<usize> {
    let i = sentences.partition_point(|s| s.end <= at);
    (i < sentences.len() && sentences[i].start <= at).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_lookup() {
        let s = vec![0..10, 12..20, 25..30];
        assert_eq!(sentence_of(&s, 0), Some(0));
        assert_eq!(sentence_of(&s, 9), Some(0));
        assert_eq!(sentence_of(&s, 10), None);
        assert_eq!(sentence_of(&s, 12), Some(1));
        assert_eq!(sentence_of(&s, 29), Some(2));
        assert_eq!(sentence_of(&s, 30), None);
    }
}
