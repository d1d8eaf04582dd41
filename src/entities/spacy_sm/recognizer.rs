//! The offline recogniser: newstag's Rust port of spaCy's en_core_web_sm NER.

use std::path::Path;

use crate::error::Result;
use rayon::prelude::*;

use super::SpacyNer;
use crate::document::{Category, Document, Mention};
use crate::entities::{EntityRecognizer, sentence_of};

pub struct SmRecognizer {
    ner: SpacyNer,
    name: String,
}

impl SmRecognizer {
    pub fn load(model_dir: &Path, name: &str) -> Result<Self> {
        Ok(SmRecognizer {
            ner: SpacyNer::load(model_dir)?,
            name: name.to_string(),
        })
    }

    /// Mentions in the prose of one document. Each prose block is run on its own, so
    /// navigation junk never reaches the model and no entity spans a boilerplate line.
    fn mentions(&self, doc: &Document) -> Vec<Mention> {
        let text = &doc.article.text;
        doc.cleaned
            .prose
            .iter()
            .flat_map(|block| {
                self.ner
                    .entities(&text[block.clone()])
                    .into_iter()
                    .map(move |e| (block.start + e.start, block.start + e.end, e.label))
            })
            .map(|(start, end, label)| Mention {
                start,
                end,
                category: Category::of_label(&label),
                label,
                sentence: sentence_of(&doc.sentences, start),
                score: None,
            })
            .collect()
    }
}

impl EntityRecognizer for SmRecognizer {
    fn model_id(&self) -> String {
        format!("{} (newstag Rust port of spaCy NER)", self.name)
    }

    fn recognize(
        &self,
        docs: &[&Document],
    ) -> std::result::Result<Vec<Vec<Mention>>, crate::Error> {
        Ok(docs.par_iter().map(|d| self.mentions(d)).collect())
    }
}
