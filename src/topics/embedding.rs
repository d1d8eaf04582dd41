//! Zero-shot topics by embedding similarity: each sentence is compared with each topic's
//! description, and the document score says how far its best sentences rise above what a
//! typical news sentence scores for that topic.
//!
//! Scoring, in full (all of it deterministic):
//! 1. `cos[i][t]` = cosine of sentence `i` and the nearest of topic `t`'s prototypes: its label
//!    in the zero-shot template, its description, and each `;`-clause of the description.
//! 2. Calibration per topic: the same cosine against a fixed background of varied news
//!    sentences gives a mean `mu[t]` and spread `sd[t]`; `z[i][t] = (cos - mu) / sd`. Raw
//!    cosines are not comparable across topics (a wordy description is close to everything);
//!    background z-scores are.
//! 3. A sentence matching one of the topic's patterns gains `PATTERN_Z`.
//! 4. Document evidence `z[t]` = mean of the top `k` sentence z-scores, `k` = a quarter of the
//!    sentences, between 1 and 5 (the title, when there is one, counts as a sentence): a topic
//!    must be carried by several sentences of a long article, not one stray line.
//! 5. `score = sigmoid((z[t] - Z_MID) / Z_SCALE)`, in [0, 1]; reported when `score >= threshold`.
//!    Evidence lists the sentences whose own score reaches the threshold, strongest first.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;

use super::{TopicClassifier, TopicScore, TopicSet, sort_topics, topic_score};
use crate::document::Document;
use crate::encoder::{SentenceEncoder, dot};

/// Background sentences for calibration, shipped with the topic sets.
const BACKGROUND: &str = include_str!("../../models/topics/background.txt");

/// z-score added to a sentence that matches one of the topic's patterns.
const PATTERN_Z: f32 = 2.0;
/// Document z at which the score is 0.5.
const Z_MID: f32 = 4.0;
/// Spread of the logistic: z = Z_MID ± 2·Z_SCALE maps to about 0.12 and 0.88.
const Z_SCALE: f32 = 0.6;
/// Floor for the background spread, so a topic unlike every background sentence does not get
/// an exploding z-score.
const MIN_SD: f32 = 0.05;
/// How far (in z) a topic may trail the best topic of a sentence before it is discounted, and
/// by how much per unit beyond that.
const ECHO_GAP: f32 = 1.0;
const ECHO_WEIGHT: f32 = 0.5;
pub const DEFAULT_THRESHOLD: f32 = 0.5;

pub struct EmbeddingClassifier {
    encoder: Arc<SentenceEncoder>,
    model_name: String,
    topics: TopicSet,
    /// Unit embeddings of each topic's prototypes.
    topic_vecs: Vec<Vec<Vec<f32>>>,
    mu: Vec<f32>,
    sd: Vec<f32>,
    threshold: f32,
}

impl EmbeddingClassifier {
    /// Embeds the topic descriptions and the calibration background once.
    pub fn new(
        encoder: Arc<SentenceEncoder>,
        model_name: &str,
        topics: TopicSet,
        threshold: Option<f32>,
    ) -> Result<Self> {
        let prototypes: Vec<Vec<String>> = topics.topics.iter().map(|t| t.prototypes()).collect();
        let flat: Vec<&str> = prototypes.iter().flatten().map(String::as_str).collect();
        let mut flat_vecs = encoder.embed_fixed(&flat)?.into_iter();
        let topic_vecs: Vec<Vec<Vec<f32>>> = prototypes
            .iter()
            .map(|p| flat_vecs.by_ref().take(p.len()).collect())
            .collect();
        let background: Vec<&str> = BACKGROUND
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let bg_vecs = encoder.embed_fixed(&background)?;
        let (mut mu, mut sd) = (Vec::new(), Vec::new());
        for t in &topic_vecs {
            // Median and MAD, not mean and deviation: the background covers every subject, so
            // a few of its sentences are on any given topic and must not set its baseline.
            let sims: Vec<f32> = bg_vecs.iter().map(|b| similarity(b, t)).collect();
            let mid = median(sims.clone());
            let mad = median(sims.iter().map(|s| (s - mid).abs()).collect());
            mu.push(mid);
            sd.push((1.4826_f32 * mad).max(MIN_SD));
        }
        Ok(EmbeddingClassifier {
            encoder,
            model_name: model_name.to_string(),
            topics,
            topic_vecs,
            mu,
            sd,
            threshold: threshold.unwrap_or(DEFAULT_THRESHOLD),
        })
    }

    pub fn topics(&self) -> &TopicSet {
        &self.topics
    }

    fn score_document(
        &self,
        doc: &Document,
        sentence_vecs: &[Vec<f32>],
        title_vec: Option<&[f32]>,
    ) -> Vec<TopicScore> {
        // Units are the sentences, then the title when there is one (it has no sentence index).
        let title = doc.article.title.as_deref().unwrap_or("");
        let units: Vec<(Option<usize>, &[f32], &str)> = sentence_vecs
            .iter()
            .enumerate()
            .map(|(i, v)| (Some(i), v.as_slice(), doc.sentence_text(i)))
            .chain(title_vec.map(|v| (None, v, title)))
            .collect();
        if units.is_empty() {
            return Vec::new();
        }
        let z: Vec<Vec<f32>> = units
            .iter()
            .map(|(_, v, text)| {
                self.topics
                    .topics
                    .iter()
                    .enumerate()
                    .map(|(t, topic)| {
                        let bonus = if topic.patterns.iter().any(|p| p.is_match(text)) {
                            PATTERN_Z
                        } else {
                            0.0
                        };
                        (similarity(v, &self.topic_vecs[t]) - self.mu[t]) / self.sd[t] + bonus
                    })
                    .collect()
            })
            .collect();
        // A topic far behind the best topic of the same sentence is only an echo of it (a
        // sentence about Arctic shipping is near "Americas" too, but much nearer "Arctic").
        let best: Vec<f32> = z
            .iter()
            .map(|row| row.iter().copied().fold(f32::MIN, f32::max))
            .collect();
        let k = units.len().div_ceil(4).clamp(1, 5);
        let mut out = Vec::new();
        for (t, topic) in self.topics.topics.iter().enumerate() {
            let mut unit_z: Vec<(Option<usize>, f32)> = units
                .iter()
                .enumerate()
                .map(|(u, (sentence, _, _))| {
                    let gap = (best[u] - z[u][t] - ECHO_GAP).max(0.0);
                    (*sentence, z[u][t] - ECHO_WEIGHT * gap)
                })
                .collect();
            unit_z.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let doc_z = unit_z[..k].iter().map(|s| s.1).sum::<f32>() / k as f32;
            let score = calibrate(doc_z);
            let threshold = topic.threshold.unwrap_or(self.threshold);
            if score < threshold {
                continue;
            }
            out.push(topic_score(topic, score, &unit_z, threshold, calibrate));
        }
        sort_topics(&mut out);
        out
    }
}

/// Cosine of a sentence with a topic: its nearest prototype.
fn similarity(v: &[f32], prototypes: &[Vec<f32>]) -> f32 {
    prototypes
        .iter()
        .map(|p| dot(v, p))
        .fold(f32::MIN, f32::max)
}

fn median(mut xs: Vec<f32>) -> f32 {
    xs.sort_by(f32::total_cmp);
    let n = xs.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => xs[n / 2],
        _ => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

fn calibrate(z: f32) -> f32 {
    1.0 / (1.0 + (-(z - Z_MID) / Z_SCALE).exp())
}

impl TopicClassifier for EmbeddingClassifier {
    fn model_id(&self) -> String {
        format!(
            "{} (embedding similarity, topics: {})",
            self.model_name, self.topics.name
        )
    }

    fn classify(&self, docs: &[&Document]) -> Result<Vec<Vec<TopicScore>>> {
        // One embedding call for every sentence of every document: the encoder sorts them by
        // length and batches across articles, so short articles do not waste padded passes.
        let mut texts: Vec<&str> = Vec::new();
        for doc in docs {
            texts.extend((0..doc.sentences.len()).map(|i| doc.sentence_text(i)));
            if let Some(title) = doc
                .article
                .title
                .as_deref()
                .filter(|t| !t.trim().is_empty())
            {
                texts.push(title);
            }
        }
        let vecs = self.encoder.embed(&texts)?;
        let mut at = 0;
        let mut out = Vec::with_capacity(docs.len());
        for doc in docs {
            let n = doc.sentences.len();
            let has_title = doc
                .article
                .title
                .as_deref()
                .is_some_and(|t| !t.trim().is_empty());
            let sentence_vecs = &vecs[at..at + n];
            let title_vec = has_title.then(|| vecs[at + n].as_slice());
            at += n + usize::from(has_title);
            out.push(self.score_document(doc, sentence_vecs, title_vec));
        }
        Ok(out)
    }
}

/// Loads the classifier for the shipped embedding model from its store directory; the
/// embeddings of the topic prototypes and the background are cached under `cache` when given.
pub fn load_default(
    runtime: &crate::runtime::Runtime,
    model_dir: &Path,
    model_name: &str,
    topics: TopicSet,
    threshold: Option<f32>,
    cache: Option<PathBuf>,
) -> Result<EmbeddingClassifier> {
    let mut encoder = SentenceEncoder::load(runtime, model_dir)?;
    if let Some(cache) = cache {
        encoder = encoder.with_cache(cache);
    }
    let encoder = Arc::new(encoder);
    EmbeddingClassifier::new(encoder, model_name, topics, threshold)
}
