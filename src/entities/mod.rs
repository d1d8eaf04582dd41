//! Recognise entities: people, places, organisations and the rest, as mentions with exact
//! offsets. One trait; the spaCy `en_core_web_sm` port is the offline implementation.

mod sm;
pub mod spacy_sm;
pub mod transformer;

use serde::Serialize;

use crate::document::Document;

pub use sm::SmRecognizer;
pub use transformer::{Aggregation, Precision, TokenClassifier};

/// One entity mention in an article. `start..end` is a byte range into the article text
/// (printed as code points).
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    /// The recogniser's own label (OntoNotes for spaCy: PERSON, GPE, ORG, ...).
    pub label: String,
    pub category: Category,
    /// Index of the sentence the mention starts in, if it lies in one.
    pub sentence: Option<usize>,
    /// Confidence, for recognisers that have one (spaCy's greedy parser does not).
    pub score: Option<f32>,
}

/// The coarse kind of an entity, the same whatever label set the recogniser uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Person,
    Place,
    Organization,
    Group,
    Event,
    Work,
    Date,
    Quantity,
    Other,
}

impl Category {
    /// OntoNotes (spaCy) and CoNLL labels, with or without B-/I- prefixes stripped.
    pub fn of_label(label: &str) -> Category {
        match label {
            "PERSON" | "PER" => Category::Person,
            "GPE" | "LOC" | "FAC" => Category::Place,
            "ORG" => Category::Organization,
            "NORP" => Category::Group,
            "EVENT" => Category::Event,
            "WORK_OF_ART" => Category::Work,
            "DATE" | "TIME" => Category::Date,
            "PERCENT" | "MONEY" | "QUANTITY" | "ORDINAL" | "CARDINAL" => Category::Quantity,
            _ => Category::Other,
        }
    }
}

/// A named-entity recogniser over whole documents.
pub trait EntityRecognizer: Send + Sync {
    /// What produced the entities, for the record's `models` field.
    fn model_id(&self) -> String;
    /// Mentions of each document, in text order.
    fn recognize(&self, docs: &[&Document]) -> anyhow::Result<Vec<Vec<Mention>>>;
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
    fn categories() {
        assert_eq!(Category::of_label("GPE"), Category::Place);
        assert_eq!(Category::of_label("NORP"), Category::Group);
        assert_eq!(Category::of_label("PER"), Category::Person);
        assert_eq!(Category::of_label("LAW"), Category::Other);
    }

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
