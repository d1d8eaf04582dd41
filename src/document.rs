//! The document that flows through the pipeline: the article plus what each stage added.

use std::ops::Range;

use crate::aggregate::{DocEntity, Tag};
use crate::article::Article;
use crate::clean::Cleaned;
use crate::entities::Mention;
use crate::topics::TopicScore;

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
