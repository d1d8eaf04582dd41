//! The pipeline: articles in, finished documents (or per-article errors) out, in input order.
//!
//! Cleaning and segmentation run per article in parallel; model stages run once per batch of
//! articles so every model call is batched across documents.
//!
//! The thread plan (`--threads N`): each stage uses all N threads, and the stages take turns on
//! a batch. Cleaning, segmenting, the spaCy-port NER and aggregation run on rayon's N workers;
//! each model pass runs on ONNX Runtime's N intra-op threads (one session per model, see
//! [`crate::runtime::Runtime`]). Entities and topics do not depend on each other, but running
//! them side by side would put up to 2N threads to work on N cores; measured, it was no faster
//! (docs/annotate.md, "Threads").

mod load;

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::aggregate::Aggregator;
use crate::article::{Article, DocError, DocErrorKind, Input};
use crate::clean::clean;
use crate::document::{Document, Mention, TopicScore};
use crate::entities::EntityRecognizer;
use crate::segment::segment;
use crate::topics::{TopicCatalog, TopicClassifier};

/// What came out for one input: a document, or the error record that replaces it.
pub enum Outcome {
    Done(Box<Document>),
    Failed { id: String, error: DocError },
}

/// Cleans and segments one article (extracting its text first when it came as a web page);
/// the only stage that needs no model.
pub fn prepare(#[allow(unused_mut)] mut article: Article) -> Result<Document, (String, DocError)> {
    #[cfg(feature = "html")]
    if let Err(error) = crate::page::extract_into(&mut article) {
        return Err((article.id, error));
    }
    if article.text.trim().is_empty() {
        let message = if article.text.is_empty() {
            "article text is empty"
        } else {
            "article text is only whitespace"
        };
        return Err((article.id, DocError::new(DocErrorKind::Empty, message)));
    }
    let mut cleaned = clean(&article.text);
    if let Some(page) = &article.page {
        // What the page says of itself wins over what the text's first line suggests; the
        // day it was fetched is the date of last resort.
        cleaned.published = page.published.or(cleaned.published).or(page.fetched);
        if page.site.is_some() {
            cleaned.source = page.site.clone();
        }
    }
    let sentences = segment(&article.text, &cleaned.prose);
    Ok(Document {
        article,
        cleaned,
        sentences,
        topics: Vec::new(),
        entities: Vec::new(),
        doc_entities: Vec::new(),
        tags: Vec::new(),
    })
}

/// What `newstag extract` makes of one input: a web page's text extracted (an input that is
/// not a page is passed as it is), nothing cleaned or segmented.
#[cfg(feature = "html")]
pub fn extract_only(input: Input) -> Outcome {
    match input {
        Input::Article(mut article) => match crate::page::extract_into(&mut article) {
            Ok(()) if article.text.trim().is_empty() => Outcome::Failed {
                id: article.id,
                error: DocError::new(DocErrorKind::Empty, "article text is empty"),
            },
            Ok(()) => Outcome::Done(Box::new(Document {
                article,
                cleaned: Default::default(),
                sentences: Vec::new(),
                topics: Vec::new(),
                entities: Vec::new(),
                doc_entities: Vec::new(),
                tags: Vec::new(),
            })),
            Err(error) => Outcome::Failed {
                id: article.id,
                error,
            },
        },
        Input::Failed { id, error } => Outcome::Failed { id, error },
    }
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

/// A stream of inputs cut into batches, each run through `process` as it is reached: the
/// iterator yields one batch of outcomes at a time, one outcome per input, in input order.
/// Nothing is read ahead of the batch being made, so memory is bounded by one batch whatever
/// the stream's length, and a consumer that writes each batch before asking for the next
/// passes records downstream as they are made.
pub struct Batches<I, F> {
    inputs: I,
    batch_size: usize,
    process: F,
}

impl<I, F> Batches<I, F>
where
    I: Iterator<Item = Input>,
    F: FnMut(Vec<Input>) -> Vec<Outcome>,
{
    /// Batches of `batch_size` inputs (at least 1) through `process`.
    pub fn new(inputs: impl IntoIterator<IntoIter = I>, batch_size: usize, process: F) -> Self {
        Batches {
            inputs: inputs.into_iter(),
            batch_size: batch_size.max(1),
            process,
        }
    }
}

impl<I, F> Iterator for Batches<I, F>
where
    I: Iterator<Item = Input>,
    F: FnMut(Vec<Input>) -> Vec<Outcome>,
{
    type Item = Vec<Outcome>;

    fn next(&mut self) -> Option<Vec<Outcome>> {
        let batch: Vec<Input> = self.inputs.by_ref().take(self.batch_size).collect();
        (!batch.is_empty()).then(|| (self.process)(batch))
    }
}

/// A loaded run: the model stages (none for a segment-only run) and the thread pool every
/// batch runs on. [`Pipeline::load`] (in [`crate::config`]) builds one from a
/// [`crate::config::Config`]. The pool is the pipeline's own (rayon's global pool is left
/// alone), so a program embedding the library keeps its own.
pub struct Pipeline {
    annotator: Option<Annotator>,
    pool: rayon::ThreadPool,
}

impl Pipeline {
    /// A pipeline over `annotator`'s stages (`None`: clean and segment only), on `pool`.
    pub fn new(annotator: Option<Annotator>, pool: rayon::ThreadPool) -> Self {
        Pipeline { annotator, pool }
    }

    /// The model stages, when the pipeline has them.
    pub fn annotator(&self) -> Option<&Annotator> {
        self.annotator.as_ref()
    }

    /// Which model produced which layer, for each record's `models` field.
    pub fn models(&self) -> BTreeMap<&'static str, String> {
        self.annotator
            .as_ref()
            .map(Annotator::models)
            .unwrap_or_default()
    }

    /// The topics this pipeline reports, from the classifier it loaded (`None` without one):
    /// what `GET /v1/topics` and the Python package's `Annotator.topics()` answer.
    pub fn topic_catalog(&self) -> Option<TopicCatalog> {
        self.annotator.as_ref().and_then(Annotator::topic_catalog)
    }

    /// Runs every stage over one batch on the pipeline's threads: one outcome per input, in
    /// order.
    pub fn annotate_batch(&self, inputs: Vec<Input>) -> Vec<Outcome> {
        self.pool.install(|| match &self.annotator {
            Some(annotator) => annotator.annotate_batch(inputs),
            None => prepare_batch(inputs),
        })
    }

    /// Annotates a stream of inputs, batch by batch (see [`Batches`]): outcomes in input
    /// order, an error record in place of each article that failed, one batch in memory.
    pub fn annotate_stream<I: IntoIterator<Item = Input>>(
        &self,
        inputs: I,
        batch_size: usize,
    ) -> Batches<I::IntoIter, impl FnMut(Vec<Input>) -> Vec<Outcome> + '_> {
        Batches::new(inputs, batch_size, |batch| self.annotate_batch(batch))
    }
}

/// The model stages, loaded once and shared by every batch (and every thread).
pub struct Annotator {
    topics: Option<Box<dyn TopicClassifier>>,
    entities: Option<Box<dyn EntityRecognizer>>,
    aggregator: Aggregator,
}

impl Annotator {
    pub fn new(
        topics: Option<Box<dyn TopicClassifier>>,
        entities: Option<Box<dyn EntityRecognizer>>,
        aggregator: Aggregator,
    ) -> Self {
        Annotator {
            topics,
            entities,
            aggregator,
        }
    }

    /// Which model produced which layer, for each record's `models` field.
    pub fn models(&self) -> BTreeMap<&'static str, String> {
        let mut models = BTreeMap::new();
        if let Some(t) = &self.topics {
            models.insert("topics", t.model_id());
        }
        if let Some(e) = &self.entities {
            models.insert("entities", e.model_id());
        }
        models
    }

    /// The topics the topic stage reports, when there is one.
    pub fn topic_catalog(&self) -> Option<TopicCatalog> {
        self.topics.as_ref().map(|t| t.catalog())
    }

    /// Runs every stage over a batch; the output has one outcome per input, in order. On the
    /// caller's threads; [`Pipeline::annotate_stream`] runs batches on the pipeline's own.
    pub fn annotate_batch(&self, inputs: Vec<Input>) -> Vec<Outcome> {
        let mut outcomes = prepare_batch(inputs);
        // What the models cannot read gets its error record, not their guesses.
        outcomes.par_iter_mut().for_each(|outcome| {
            if let Outcome::Done(doc) = outcome
                && let Err(error) = crate::language::check(&doc.article)
            {
                let id = doc.article.id.clone();
                *outcome = Outcome::Failed { id, error };
            }
        });
        let docs: Vec<&Document> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Done(d) => Some(&**d),
                Outcome::Failed { .. } => None,
            })
            .collect();
        // In turn, not side by side: each stage already uses every thread (the spaCy port over
        // articles on rayon's workers, a model pass on ONNX Runtime's intra-op threads), so
        // together they would oversubscribe the cores; measured, side by side was no faster.
        let entities = self
            .entities
            .as_ref()
            .map(|r| per_document(&docs, "entities", |d| r.recognize(d)));
        let topics = self
            .topics
            .as_ref()
            .map(|c| per_document(&docs, "topics", |d| c.classify(d)));
        let mut topics = topics.map(Vec::into_iter);
        let mut entities = entities.map(Vec::into_iter);
        for outcome in outcomes.iter_mut() {
            let Outcome::Done(doc) = outcome else {
                continue;
            };
            let t: Option<Result<Vec<TopicScore>, DocError>> =
                topics.as_mut().and_then(Iterator::next);
            let e: Option<Result<Vec<Mention>, DocError>> =
                entities.as_mut().and_then(Iterator::next);
            match (t.transpose(), e.transpose()) {
                (Ok(t), Ok(e)) => {
                    doc.topics = t.unwrap_or_default();
                    doc.entities = e.unwrap_or_default();
                }
                (Err(error), _) | (_, Err(error)) => {
                    let id = doc.article.id.clone();
                    *outcome = Outcome::Failed { id, error };
                }
            }
        }
        outcomes.par_iter_mut().for_each(|o| {
            if let Outcome::Done(doc) = o {
                self.aggregator.aggregate(doc);
            }
        });
        outcomes
    }
}

/// Runs a batched stage; when the batch fails it is retried article by article, so one bad
/// article costs only its own record.
fn per_document<T: Default>(
    docs: &[&Document],
    stage: &str,
    run: impl Fn(&[&Document]) -> Result<Vec<T>, crate::Error>,
) -> Vec<Result<T, DocError>> {
    match run(docs) {
        Ok(out) if out.len() == docs.len() => out.into_iter().map(Ok).collect(),
        _ => docs
            .iter()
            .map(|d| {
                run(std::slice::from_ref(d))
                    .map(|mut v| v.pop().unwrap_or_default())
                    .map_err(|e| DocError::new(DocErrorKind::Model, format!("{stage}: {e:#}")))
            })
            .collect(),
    }
}
