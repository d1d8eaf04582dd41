//! Zero-shot topics by natural language inference (the accurate profile): each sentence is the
//! premise, "This article is about {label}." the hypothesis, and the entailment probability the
//! sentence's score for the topic — transformers' `ZeroShotClassificationPipeline`, on ONNX.
//!
//! A model directory holds `model.onnx` (a sequence classifier: inputs `input_ids`,
//! `attention_mask` and optionally `token_type_ids`, output `logits` `[batch, labels]`),
//! `tokenizer.json` and `config.json` whose `label2id`/`id2label` name the entailment label
//! (case-insensitive, `entail...`) and the contradiction label (`contradict...`; when there is
//! none, index 0, or the last index when entailment is 0, as transformers assumes).
//!
//! Scores, per (premise, label) pair, as the pipeline computes them:
//! - multi-label: softmax over `[contradiction, entailment]` logits, the entailment side;
//! - single-label: softmax of the entailment logits across the labels of one premise.
//!
//! Premises longer than the model's maximum length are truncated (only the premise, never the
//! hypothesis), as the pipeline does; when the hypothesis alone is too long, nothing is.
//!
//! Document scoring ([`TopicClassifier`]), deterministic:
//! 1. every sentence (and the title, when there is one) is scored against every topic label,
//!    multi-label (topics are not exclusive); all pairs of all documents go to the model in
//!    length-sorted batches;
//! 2. a sentence matching one of the topic's patterns scores at least [`PATTERN_FLOOR`];
//! 3. the document score is the mean of the top `k` sentence scores, `k` = a tenth of the
//!    sentences (title included), between 1 and 3: entailment probabilities are already
//!    calibrated, so one or two clear sentences should carry a topic, while a lone sentence in
//!    a long article is diluted;
//! 4. topics with `score >= threshold` (the topic's own, else the classifier's, default 0.5)
//!    are reported, sorted by score, with up to 5 evidence sentences whose own score reaches
//!    the threshold, strongest first; of a user's own set (labels, a topic file), the best
//!    topic is always reported unless the threshold was given explicitly.
//!
//! Cascade ([`NliClassifier::with_shortlist`]): a cheap classifier (the embedding one) picks
//! each document's `k` best topics and only those are scored by NLI, with the same scores they
//! would get without the cascade.

use std::path::Path;

use crate::error::{Result, err};
use tokenizers::Encoding;

use super::{TopicCatalog, TopicClassifier, TopicSet, sort_topics, topic_score};
use crate::document::{Document, TopicScore};
use crate::runtime::{Precision, Runtime, TransformerModel, softmax};

/// The hypothesis, with `{}` (or `{label}`) for the label.
pub const DEFAULT_TEMPLATE: &str = "This article is about {}.";
pub const DEFAULT_THRESHOLD: f32 = 0.5;
/// Sentence score given to a topic whose pattern the sentence matches, when the model gave less.
pub const PATTERN_FLOOR: f32 = 0.9;
const MAX_TOP_K: usize = 3;

pub struct NliClassifier {
    model: TransformerModel,
    entailment: usize,
    contradiction: usize,
    topics: TopicSet,
    template: String,
    threshold: f32,
    /// The threshold the user gave, if any (for the catalog; `threshold` is what runs).
    threshold_asked: Option<f32>,
    /// Report the best topic whatever its score (a user's own set, no explicit threshold).
    best_always: bool,
    /// Cascade: a cheap classifier whose top `k` topics per document are the only ones the NLI
    /// model scores.
    shortlist: Option<(Box<dyn TopicClassifier>, usize)>,
}

impl NliClassifier {
    /// Loads `model.onnx`, `tokenizer.json` and `config.json` from `dir`, to classify documents
    /// against `topics`.
    pub fn load(
        runtime: &Runtime,
        dir: &Path,
        topics: TopicSet,
        threshold: Option<f32>,
    ) -> Result<Self> {
        Self::load_with_precision(runtime, dir, topics, threshold, Precision::Fp32)
    }

    /// [`Self::load`], running the export of `precision`.
    pub fn load_with_precision(
        runtime: &Runtime,
        dir: &Path,
        topics: TopicSet,
        threshold: Option<f32>,
        precision: Precision,
    ) -> Result<Self> {
        let model = TransformerModel::load(runtime, dir, precision)?;
        let labels = model.id2label()?;
        // label2id first, as transformers reads it; id2label when it has none.
        let mut named: Vec<(String, usize)> = model
            .config
            .get("label2id")
            .and_then(|m| m.as_object())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.to_lowercase(), v.as_u64()? as usize)))
                    .collect()
            })
            .unwrap_or_default();
        named.extend(
            labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.to_lowercase(), i)),
        );
        let find = |prefix: &str| {
            named
                .iter()
                .find(|(l, i)| l.starts_with(prefix) && *i < labels.len())
                .map(|&(_, i)| i)
        };
        let entailment = find("entail").ok_or_else(|| {
            err!(
                "{}: no entailment label in config.json (labels: {labels:?})",
                dir.display()
            )
        })?;
        let contradiction =
            find("contradict").unwrap_or(if entailment == 0 { labels.len() - 1 } else { 0 });
        Ok(NliClassifier {
            model,
            entailment,
            contradiction,
            template: DEFAULT_TEMPLATE.to_string(),
            threshold: threshold.unwrap_or(DEFAULT_THRESHOLD),
            threshold_asked: threshold,
            best_always: threshold.is_none() && !topics.taxonomy,
            topics,
            shortlist: None,
        })
    }

    /// The model's name in [`TopicClassifier::model_id`] (default: the directory's name).
    pub fn with_name(mut self, name: &str) -> Self {
        self.model.name = name.to_string();
        self
    }

    /// Replaces the hypothesis template (`{}` or `{label}` stands for the label).
    pub fn with_template(mut self, template: &str) -> Self {
        self.template = template.to_string();
        self
    }

    /// Cascade: only the `k` best topics of `shortlist` for a document are scored by NLI (the
    /// others are not reported). `shortlist` should report every topic of the same topic set,
    /// e.g. an [`EmbeddingClassifier`](super::EmbeddingClassifier) built with threshold
    /// `Some(0.0)` (topics with their own threshold in the set may still be left out); topics it
    /// names that this classifier does not know are ignored. NLI costs one forward pass per
    /// sentence and topic, so this cuts the cost by the ratio of `k` to the topic count.
    pub fn with_shortlist(mut self, shortlist: Box<dyn TopicClassifier>, k: usize) -> Self {
        self.shortlist = Some((shortlist, k.max(1)));
        self
    }

    pub fn topics(&self) -> &TopicSet {
        &self.topics
    }

    /// Scores of every premise against every label: `out[p][l]`, labels in the order given.
    /// All pairs go to the model together, sorted by length into batches.
    pub fn classify_pairs(
        &self,
        premises: &[&str],
        labels: &[&str],
        template: &str,
        multi_label: bool,
    ) -> Result<Vec<Vec<f32>>> {
        if premises.is_empty() || labels.is_empty() {
            return Ok(vec![Vec::new(); premises.len()]);
        }
        let hypotheses: Vec<String> = labels.iter().map(|l| hypothesis(template, l)).collect();
        let pairs: Vec<(&str, &str)> = premises
            .iter()
            .flat_map(|p| hypotheses.iter().map(move |h| (*p, h.as_str())))
            .collect();
        let logits = self.pair_logits(&pairs)?;
        let n = labels.len();
        // transformers: single-label with one candidate is scored as multi-label.
        let multi = multi_label || n == 1;
        Ok(logits
            .chunks(n)
            .map(|rows| {
                if multi {
                    rows.iter()
                        .map(|&(c, e)| softmax([c, e].into_iter())[1])
                        .collect()
                } else {
                    softmax(rows.iter().map(|&(_, e)| e))
                }
            })
            .collect())
    }

    /// `(contradiction, entailment)` logits of each (premise, hypothesis) pair, all pairs in
    /// length-sorted batches.
    fn pair_logits(&self, pairs: &[(&str, &str)]) -> Result<Vec<(f32, f32)>> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self.encode_pairs(pairs)?;
        let refs: Vec<&Encoding> = encodings.iter().collect();
        let logits = self.model.logits(&refs)?;
        let need = self.entailment.max(self.contradiction) + 1;
        if let Some(l) = logits.iter().find(|l| l.ncols() < need) {
            crate::error::bail!(
                "{}: the model gives {} logits per pair, config.json names {need} or more labels",
                self.model.name,
                l.ncols()
            );
        }
        Ok(logits
            .iter()
            .map(|r| (r[[0, self.contradiction]], r[[0, self.entailment]]))
            .collect())
    }

    /// The pipeline's answer for one premise: labels with their scores, best first.
    pub fn zero_shot(
        &self,
        premise: &str,
        labels: &[&str],
        template: &str,
        multi_label: bool,
    ) -> Result<Vec<(String, f32)>> {
        let scores = self
            .classify_pairs(&[premise], labels, template, multi_label)?
            .pop()
            .unwrap_or_default();
        let mut ranked: Vec<(usize, f32)> = scores.into_iter().enumerate().collect();
        // numpy's reversed argsort: among equal scores the later label comes first.
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        Ok(ranked
            .into_iter()
            .map(|(i, s)| (labels[i].to_string(), s))
            .collect())
    }

    fn encode_pairs(&self, pairs: &[(&str, &str)]) -> Result<Vec<Encoding>> {
        match self.model.encode(pairs.to_vec(), true) {
            Ok(e) => Ok(e),
            // A hypothesis too long to leave room for the premise: that pair goes untruncated,
            // as transformers does.
            Err(_) => pairs
                .iter()
                .map(|&p| {
                    self.model
                        .encode(vec![p], true)
                        .or_else(|_| self.model.encode(vec![p], false))
                        .map(|mut v| v.remove(0))
                })
                .collect(),
        }
    }

    fn score_document(&self, doc: &Document, unit_scores: &[Vec<f32>]) -> Vec<TopicScore> {
        let n_sentences = doc.sentences.len();
        let units = unit_scores.len();
        if units == 0 {
            return Vec::new();
        }
        let title = doc.article.title.as_deref().unwrap_or("");
        let k = units.div_ceil(10).clamp(1, MAX_TOP_K);
        let mut out = Vec::new();
        let mut best: Option<TopicScore> = None;
        for (t, topic) in self.topics.topics.iter().enumerate() {
            if unit_scores[0][t].is_nan() {
                continue; // not on the shortlist
            }
            let mut scored: Vec<(Option<usize>, f32)> = (0..units)
                .map(|u| {
                    let (sentence, text) = if u < n_sentences {
                        (Some(u), doc.sentence_text(u))
                    } else {
                        (None, title)
                    };
                    let mut s = unit_scores[u][t];
                    if topic.patterns.iter().any(|p| p.is_match(text)) {
                        s = s.max(PATTERN_FLOOR);
                    }
                    (sentence, s)
                })
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let score = scored[..k].iter().map(|s| s.1).sum::<f32>() / k as f32;
            let threshold = topic.threshold.unwrap_or(self.threshold);
            if score < threshold {
                if self.best_always && best.as_ref().is_none_or(|b| score > b.score) {
                    best = Some(topic_score(topic, score, &scored, threshold, |s| s));
                }
                continue;
            }
            out.push(topic_score(topic, score, &scored, threshold, |s| s));
        }
        if out.is_empty() {
            out.extend(best);
        }
        sort_topics(&mut out);
        out
    }
}

/// The template with the label in it; `{label}` (newstag's topic files) and `{}` (transformers)
/// both work.
pub fn hypothesis(template: &str, label: &str) -> String {
    template.replace("{label}", label).replace("{}", label)
}

fn title_of(doc: &Document) -> Option<&str> {
    doc.article
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
}

impl TopicClassifier for NliClassifier {
    fn catalog(&self) -> TopicCatalog {
        TopicCatalog::of_set(&self.topics, self.threshold_asked)
    }

    fn model_id(&self) -> String {
        format!(
            "{} (NLI zero-shot, topics: {})",
            self.model.id(),
            self.topics.name
        )
    }

    fn classify(
        &self,
        docs: &[&Document],
    ) -> std::result::Result<Vec<Vec<TopicScore>>, crate::Error> {
        self.classify_docs(docs)
    }
}

impl NliClassifier {
    fn classify_docs(&self, docs: &[&Document]) -> Result<Vec<Vec<TopicScore>>> {
        // Which topics each document is scored against: all, or the shortlist's best k.
        let all: Vec<usize> = (0..self.topics.topics.len()).collect();
        let chosen: Vec<Vec<usize>> = match &self.shortlist {
            None => vec![all; docs.len()],
            Some((shortlist, k)) => shortlist
                .classify(docs)?
                .iter()
                .map(|found| {
                    let mut picked: Vec<usize> = found
                        .iter()
                        .filter_map(|t| self.topics.topics.iter().position(|x| x.label == t.label))
                        .take(*k)
                        .collect();
                    picked.sort_unstable();
                    picked.dedup();
                    picked
                })
                .collect(),
        };
        let hypotheses: Vec<String> = self
            .topics
            .topics
            .iter()
            .map(|t| hypothesis(&self.template, &t.label))
            .collect();
        // Every (unit, chosen topic) pair of every document, in one batched run.
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (doc, topics) in docs.iter().zip(&chosen) {
            let units = (0..doc.sentences.len())
                .map(|i| doc.sentence_text(i))
                .chain(title_of(doc));
            for unit in units {
                pairs.extend(topics.iter().map(|&t| (unit, hypotheses[t].as_str())));
            }
        }
        let logits = self.pair_logits(&pairs)?;
        let mut scores = logits
            .into_iter()
            .map(|(c, e)| softmax([c, e].into_iter())[1]);
        let mut out = Vec::with_capacity(docs.len());
        for (doc, topics) in docs.iter().zip(&chosen) {
            let n = doc.sentences.len() + usize::from(title_of(doc).is_some());
            // unit_scores[u][t], NaN for topics not scored.
            let mut unit_scores = vec![vec![f32::NAN; self.topics.topics.len()]; n];
            for row in unit_scores.iter_mut() {
                for &t in topics {
                    row[t] = scores.next().unwrap_or(f32::NAN);
                }
            }
            out.push(self.score_document(doc, &unit_scores));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(
            hypothesis(DEFAULT_TEMPLATE, "trade"),
            "This article is about trade."
        );
        assert_eq!(
            hypothesis("This article is about {label}.", "Arctic"),
            "This article is about Arctic."
        );
    }
}
