//! The pipeline: articles in, finished documents (or per-article errors) out, in input order.
//!
//! Cleaning and segmentation run per article in parallel; model stages run once per batch of
//! articles so every model call is batched across documents.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::article::{Article, DocError, ErrorKind, Input};
use crate::clean::clean;
use crate::document::Document;
use crate::segment::segment;
use crate::topics::TopicClassifier;

/// What came out for one input: a document, or the error record that replaces it.
pub enum Outcome {
    Done(Box<Document>),
    Failed { id: String, error: DocError },
}

/// Cleans and segments one article; the only stage that needs no model.
pub fn prepare(article: Article) -> Result<Document, (String, DocError)> {
    if article.text.trim().is_empty() {
        let message = if article.text.is_empty() {
            "article text is empty"
        } else {
            "article text is only whitespace"
        };
        return Err((article.id, DocError::new(ErrorKind::Empty, message)));
    }
    let cleaned = clean(&article.text);
    let sentences = segment(&article.text, &cleaned.prose);
    Ok(Document {
        article,
        cleaned,
        sentences,
        topics: Vec::new(),
    })
}

/// Cleans and segments a batch in parallel, keeping order.
pub fn prepare_batch(inputs: Vec<Input>) -> Vec<Outcome> {
    inputs
        .into_par_iter()
        .map(|input| match input {
            Input::Article(a) => match prepare(a) {
                Ok(doc) => Outcome::Done(Box::new(doc)),
                Err((id, error)) => Outcome::Failed { id, error },
            },
            Input::Failed { id, error } => Outcome::Failed { id, error },
        })
        .collect()
}

/// The model stages, loaded once and shared by every batch (and every thread).
pub struct Annotator {
    topics: Option<Box<dyn TopicClassifier>>,
}

impl Annotator {
    pub fn new(topics: Option<Box<dyn TopicClassifier>>) -> Self {
        Annotator { topics }
    }

    /// Which model produced which layer, for each record's `models` field.
    pub fn models(&self) -> BTreeMap<&'static str, String> {
        let mut models = BTreeMap::new();
        if let Some(t) = &self.topics {
            models.insert("topics", t.model_id());
        }
        models
    }

    /// Runs every stage over a batch; the output has one outcome per input, in order.
    pub fn annotate_batch(&self, inputs: Vec<Input>) -> Vec<Outcome> {
        let mut outcomes = prepare_batch(inputs);
        if let Some(classifier) = &self.topics {
            let docs: Vec<&Document> = outcomes
                .iter()
                .filter_map(|o| match o {
                    Outcome::Done(d) => Some(&**d),
                    Outcome::Failed { .. } => None,
                })
                .collect();
            let results: Vec<Result<_, DocError>> = match classifier.classify(&docs) {
                Ok(topics) => topics.into_iter().map(Ok).collect(),
                // A failed batch is retried article by article, so one bad article costs only
                // its own record.
                Err(_) => docs
                    .iter()
                    .map(|d| {
                        classifier
                            .classify(std::slice::from_ref(d))
                            .map(|mut t| t.pop().unwrap_or_default())
                            .map_err(|e| DocError::new(ErrorKind::Model, format!("topics: {e:#}")))
                    })
                    .collect(),
            };
            let mut results = results.into_iter();
            for outcome in outcomes.iter_mut() {
                if let Outcome::Done(doc) = outcome {
                    match results.next() {
                        Some(Ok(topics)) => doc.topics = topics,
                        Some(Err(error)) => {
                            let id = doc.article.id.clone();
                            *outcome = Outcome::Failed { id, error };
                        }
                        None => {}
                    }
                }
            }
        }
        outcomes
    }
}
