//! The document that flows through the pipeline: the article plus what each stage added, and
//! the types of those layers (mentions, topics, document entities, tags). They live here, below
//! the stages that fill them (`entities`, `topics`, `aggregate`), so that no stage and the
//! document import each other.

use std::ops::Range;

use serde::Serialize;

use crate::article::Article;
use crate::clean::Cleaned;
use crate::places::Place;

/// One article on its way through the stages. Cleaning and segmentation fill `cleaned` and
/// `sentences`; classifiers add their layers. Ranges are byte ranges into `article.text`.
#[derive(Debug, Clone)]
pub struct Document {
    pub article: Article,
    pub cleaned: Cleaned,
    pub sentences: Vec<Range<usize>>,
    pub topics: Vec<TopicScore>,
    pub entities: Vec<Mention>,
    /// Mentions grouped into entities, most salient first.
    pub doc_entities: Vec<DocEntity>,
    pub tags: Vec<Tag>,
}

impl Document {
    pub fn sentence_text(&self, i: usize) -> &str {
        &self.article.text[self.sentences[i].clone()]
    }
}

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

/// A topic assigned to a document.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TopicScore {
    pub label: String,
    pub code: Option<String>,
    /// Labels from the top level down to this topic (IPTC concepts); `[label]` for a topic
    /// outside the taxonomy.
    pub path: Vec<String>,
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

/// One entity of the article, all its mentions grouped.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DocEntity {
    pub name: String,
    pub category: Category,
    pub mentions: usize,
    pub salience: f32,
    /// Other names the article uses for it ("Putin" for "Vladimir Putin").
    pub aliases: Vec<String>,
    /// Code point spans of every mention (filled in by the emitter from `byte_spans`).
    #[serde(skip)]
    pub byte_spans: Vec<(usize, usize)>,
    pub first_sentence: Option<usize>,
    /// Index into the record's mentions list of each grouped mention.
    #[serde(skip)]
    pub mention_ids: Vec<usize>,
    /// The gazetteer's place (for places), or the country a group's demonym names.
    #[serde(skip)]
    pub place: Option<Place>,
    /// Names of other entities whose mentions were credited to this one: a capital that
    /// stands for its country's government ("Beijing’s presence" counts for China).
    #[serde(skip)]
    pub credited: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tag {
    pub tag: String,
    /// `topic`, or the entity category (`person`, `place`, `organization`, `group`, `event`),
    /// or the vocabulary's own kind when the tag snapped to it.
    pub kind: String,
    pub score: f32,
    /// Why it is suggested: evidence sentences for topics, mentions for entities.
    pub why: Vec<String>,
    /// True when the tag is an entry of the controlled vocabulary.
    pub vocabulary: bool,
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
}
