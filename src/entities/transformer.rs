//! Transformer token classification (BERT, DeBERTa-v2/v3, ... exported to ONNX) as an entity
//! recogniser, with the semantics of Hugging Face transformers' `TokenClassificationPipeline`.
//!
//! A model directory holds `model.onnx` (or `onnx/model.onnx`; its int8 export
//! `model_quantized.onnx` for [`Precision::Int8`]; inputs `input_ids`,
//! `attention_mask` and optionally `token_type_ids`; output `logits` of shape
//! `[batch, tokens, labels]`), `tokenizer.json` and `config.json` (`id2label`). The maximum
//! length is the smaller of `tokenizer_config.json`'s `model_max_length` and `config.json`'s
//! `max_position_embeddings`, whichever are present (else 512).
//!
//! What a sentence goes through, as transformers does it with `stride` set:
//! 1. Tokenised with special tokens; when longer than the model's maximum length it is split into
//!    overlapping windows of at most that length (the tokenizer's overflowing tokens, overlap
//!    `stride` = max length / 4 tokens). Nothing is ever truncated away.
//! 2. Per window: softmax over each token's logits; special and padding tokens are dropped.
//!    Each token is a *subword* when its tokenizer marks continuations (WordPiece's `##`) and
//!    the token's text is not as long as its span, or, for tokenizers without such a marker
//!    (Unigram, BPE without a prefix), when neither the character before it nor its first
//!    character is a space. Unknown tokens are never subwords.
//! 3. [`AggregationStrategy`]: `Simple` labels every token by its argmax; `First`, `Average` and `Max`
//!    first fuse subwords into words (label of the first token; argmax of the mean
//!    distribution; label of the most confident token).
//! 4. Adjacent tokens/words with the same entity type are merged unless the later one is
//!    `B-`; a group's score is the mean of its members' scores, its type the first member's
//!    label without its `B-`/`I-` prefix. Groups of type `O` are dropped.
//! 5. Windows: entities of all windows are pooled; of entities overlapping one that starts
//!    before them, the longer (then the more confident) one is kept.
//!
//! `tests/integration/transformers_parity.rs` checks all of this against transformers 5.24 on tiny models.

use std::path::Path;

use crate::error::{Context, Result, bail, err};
use ndarray::Array2;
use tokenizers::{Encoding, PostProcessor, TruncationDirection};

use super::EntityRecognizer;
use crate::document::{Category, Document, Mention};
use crate::runtime::{Precision, Runtime, TransformerModel, softmax};

/// How token predictions become entities: transformers' `aggregation_strategy`, less `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregationStrategy {
    /// Every token labelled by its argmax, then merged into entities.
    Simple,
    /// Words take the label of their first token.
    First,
    /// Words take the argmax of their tokens' mean distribution.
    Average,
    /// Words take the label of their most confident token.
    Max,
}

impl AggregationStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            AggregationStrategy::Simple => "simple",
            AggregationStrategy::First => "first",
            AggregationStrategy::Average => "average",
            AggregationStrategy::Max => "max",
        }
    }
}

impl std::str::FromStr for AggregationStrategy {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "simple" => AggregationStrategy::Simple,
            "first" => AggregationStrategy::First,
            "average" => AggregationStrategy::Average,
            "max" => AggregationStrategy::Max,
            _ => bail!("unknown aggregation {s:?} (simple, first, average or max)"),
        })
    }
}

impl serde::Serialize for AggregationStrategy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for AggregationStrategy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// An entity in one input text, as transformers' pipeline reports it (`start..end` are byte
/// offsets into that text; transformers gives code points).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenEntity {
    /// The entity type: the label without its `B-`/`I-` prefix (`PER`, `ORG`, ...).
    pub group: String,
    pub score: f32,
    pub start: usize,
    pub end: usize,
}

/// A token before aggregation.
struct PreEntity {
    scores: Vec<f32>,
    start: usize,
    end: usize,
    is_subword: bool,
}

/// A token or word with its label.
struct Labelled {
    label: usize,
    score: f32,
    start: usize,
    end: usize,
}

/// Named entities from a token-classification model.
pub struct TokenClassifier {
    model: TransformerModel,
    labels: Vec<String>,
    aggregation: AggregationStrategy,
    /// The tokenizer marks continuation pieces (WordPiece `##`, BPE with a prefix).
    word_aware: bool,
    unk_id: Option<u32>,
    stride: usize,
}

impl TokenClassifier {
    /// Loads `model.onnx`, `tokenizer.json` and `config.json` from `dir`.
    pub fn load(runtime: &Runtime, dir: &Path, aggregation: AggregationStrategy) -> Result<Self> {
        Self::load_with_precision(runtime, dir, aggregation, Precision::Fp32)
    }

    /// [`Self::load`], running the export of `precision`.
    pub fn load_with_precision(
        runtime: &Runtime,
        dir: &Path,
        aggregation: AggregationStrategy,
        precision: Precision,
    ) -> Result<Self> {
        let model = TransformerModel::load(runtime, dir, precision)?;
        let labels = model.id2label()?;
        let tokenizer_json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("tokenizer.json"))
                .with_context(|| format!("reading {}", dir.join("tokenizer.json").display()))?,
        )?;
        let tok_model = &tokenizer_json["model"];
        let word_aware = tok_model
            .get("continuing_subword_prefix")
            .and_then(|p| p.as_str())
            .is_some_and(|p| !p.is_empty());
        let unk_id = tok_model
            .get("unk_token")
            .and_then(|u| u.as_str())
            .and_then(|u| model.tokenizer.token_to_id(u))
            .or_else(|| {
                tok_model
                    .get("unk_id")
                    .and_then(|u| u.as_u64())
                    .map(|u| u as u32)
            });
        let stride = model.max_len / 4;
        Ok(TokenClassifier {
            model,
            labels,
            aggregation,
            word_aware,
            unk_id,
            stride,
        })
    }

    /// The model's name in [`EntityRecognizer::model_id`] (default: the directory's name).
    pub fn with_name(mut self, name: &str) -> Self {
        self.model.name = name.to_string();
        self
    }

    pub fn aggregation(&self) -> AggregationStrategy {
        self.aggregation
    }

    /// Tokens per window, special tokens included.
    pub fn max_len(&self) -> usize {
        self.model.max_len
    }

    /// Entities of each text, in the order transformers' pipeline gives them (text order).
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<Vec<TokenEntity>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let windows = self.windows(texts)?;
        let windows: Vec<(usize, &Encoding)> = windows.iter().map(|(t, e)| (*t, e)).collect();
        let flat: Vec<&Encoding> = windows.iter().map(|w| w.1).collect();
        let logits = self.model.logits(&flat)?;
        if let Some(l) = logits.iter().find(|l| l.ncols() != self.labels.len()) {
            bail!(
                "{}: the model gives {} labels per token, config.json names {}",
                self.model.name,
                l.ncols(),
                self.labels.len()
            );
        }
        let mut per_text: Vec<Vec<TokenEntity>> = vec![Vec::new(); texts.len()];
        let mut chunks = vec![0usize; texts.len()];
        for ((t, enc), logits) in windows.iter().zip(&logits) {
            chunks[*t] += 1;
            let pre = self.pre_entities(texts[*t], enc, logits);
            let entities = self.group(self.aggregate(pre));
            per_text[*t].extend(entities.into_iter().filter(|e| e.group != "O"));
        }
        for (t, ents) in per_text.iter_mut().enumerate() {
            if chunks[t] > 1 {
                *ents = merge_overlapping(std::mem::take(ents));
            }
        }
        Ok(per_text)
    }

    /// Every text as windows of at most `max_len` tokens with special tokens, overlapping by
    /// `stride` tokens, tagged with the text's index. This is the tokenizer's own truncation
    /// with overflowing tokens, applied by hand: tokenizers 0.23's truncating encode stops
    /// tokenising at the length limit and so loses the overflow.
    fn windows(&self, texts: &[&str]) -> Result<Vec<(usize, Encoding)>> {
        let tokenizer = &self.model.tokenizer;
        let added = tokenizer
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(false));
        let limit = self.model.max_len.saturating_sub(added).max(1);
        let stride = self.stride.min(limit - 1);
        let content = tokenizer
            .encode_batch(texts.to_vec(), false)
            .map_err(|e| err!("tokenizing: {e}"))?;
        let mut out = Vec::new();
        for (t, mut enc) in content.into_iter().enumerate() {
            enc.truncate(limit, stride, TruncationDirection::Right);
            let overflow = enc.take_overflowing();
            for piece in std::iter::once(enc).chain(overflow) {
                let window = tokenizer
                    .post_process(piece, None, true)
                    .map_err(|e| err!("tokenizing: {e}"))?;
                out.push((t, window));
            }
        }
        Ok(out)
    }

    fn pre_entities(&self, text: &str, enc: &Encoding, logits: &Array2<f32>) -> Vec<PreEntity> {
        let mut out = Vec::new();
        for (i, ((&special, &(start, end)), (token, &id))) in enc
            .get_special_tokens_mask()
            .iter()
            .zip(enc.get_offsets())
            .zip(enc.get_tokens().iter().zip(enc.get_ids()))
            .enumerate()
        {
            if special != 0 {
                continue;
            }
            let reference = text.get(start..end).unwrap_or("");
            let is_subword = if Some(id) == self.unk_id {
                false
            } else if self.word_aware {
                token.chars().count() != reference.chars().count()
            } else {
                // transformers: start > 0 and " " not in sentence[start - 1:start + 1]
                start > 0
                    && !text[..start.min(text.len())].ends_with(' ')
                    && !text[start.min(text.len())..].starts_with(' ')
            };
            out.push(PreEntity {
                scores: softmax(logits.row(i).iter().copied()),
                start,
                end,
                is_subword,
            });
        }
        out
    }

    fn aggregate(&self, pre: Vec<PreEntity>) -> Vec<Labelled> {
        if self.aggregation == AggregationStrategy::Simple {
            return pre
                .into_iter()
                .map(|p| {
                    let label = argmax(&p.scores);
                    Labelled {
                        label,
                        score: p.scores[label],
                        start: p.start,
                        end: p.end,
                    }
                })
                .collect();
        }
        let mut words: Vec<Vec<PreEntity>> = Vec::new();
        for p in pre {
            match words.last_mut() {
                Some(word) if p.is_subword => word.push(p),
                _ => words.push(vec![p]),
            }
        }
        words
            .into_iter()
            .map(|tokens| {
                let (label, score) = match self.aggregation {
                    AggregationStrategy::First => {
                        let l = argmax(&tokens[0].scores);
                        (l, tokens[0].scores[l])
                    }
                    AggregationStrategy::Max => {
                        // The first token whose top score is the highest.
                        let mut best = &tokens[0];
                        let top = |t: &PreEntity| t.scores.iter().copied().fold(f32::MIN, f32::max);
                        for t in &tokens[1..] {
                            if top(t) > top(best) {
                                best = t;
                            }
                        }
                        let l = argmax(&best.scores);
                        (l, best.scores[l])
                    }
                    AggregationStrategy::Average | AggregationStrategy::Simple => {
                        let n = tokens.len() as f32;
                        let mean: Vec<f32> = (0..tokens[0].scores.len())
                            .map(|l| tokens.iter().map(|t| t.scores[l]).sum::<f32>() / n)
                            .collect();
                        let l = argmax(&mean);
                        (l, mean[l])
                    }
                };
                Labelled {
                    label,
                    score,
                    start: tokens[0].start,
                    end: tokens[tokens.len() - 1].end,
                }
            })
            .collect()
    }

    /// transformers' `group_entities`: adjacent items of the same type merge unless the later
    /// one begins an entity (`B-`).
    fn group(&self, items: Vec<Labelled>) -> Vec<TokenEntity> {
        let mut out = Vec::new();
        let mut current: Vec<Labelled> = Vec::new();
        for item in items {
            if let Some(last) = current.last() {
                let (bi, tag) = split_tag(&self.labels[item.label]);
                let (_, last_tag) = split_tag(&self.labels[last.label]);
                if !(tag == last_tag && bi != 'B') {
                    out.push(self.close_group(std::mem::take(&mut current)));
                }
            }
            current.push(item);
        }
        if !current.is_empty() {
            out.push(self.close_group(current));
        }
        out
    }

    fn close_group(&self, items: Vec<Labelled>) -> TokenEntity {
        let label = &self.labels[items[0].label];
        let group = label.split_once('-').map_or(label.as_str(), |(_, t)| t);
        TokenEntity {
            group: group.to_string(),
            score: items.iter().map(|i| i.score).sum::<f32>() / items.len() as f32,
            start: items[0].start,
            end: items[items.len() - 1].end,
        }
    }
}

fn argmax(xs: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best
}

fn split_tag(label: &str) -> (char, &str) {
    if let Some(t) = label.strip_prefix("B-") {
        ('B', t)
    } else if let Some(t) = label.strip_prefix("I-") {
        ('I', t)
    } else {
        ('I', label)
    }
}

/// transformers' `aggregate_overlapping_entities`: sorted by start (stably), an entity that
/// starts inside the kept one replaces it when longer, or as long and more confident.
fn merge_overlapping(mut entities: Vec<TokenEntity>) -> Vec<TokenEntity> {
    if entities.is_empty() {
        return entities;
    }
    entities.sort_by_key(|e| e.start);
    let mut out = Vec::new();
    let mut iter = entities.into_iter();
    let mut previous = iter.next().expect("not empty");
    // transformers compares the first entity with itself; that never changes anything.
    for entity in iter {
        if previous.start <= entity.start && entity.start < previous.end {
            let len = entity.end - entity.start;
            let previous_len = previous.end - previous.start;
            if len > previous_len || (len == previous_len && entity.score > previous.score) {
                previous = entity;
            }
        } else {
            out.push(std::mem::replace(&mut previous, entity));
        }
    }
    out.push(previous);
    out
}

impl EntityRecognizer for TokenClassifier {
    fn model_id(&self) -> String {
        format!(
            "{} (token classification, aggregation {})",
            self.model.id(),
            self.aggregation.as_str()
        )
    }

    fn recognize(
        &self,
        docs: &[&Document],
    ) -> std::result::Result<Vec<Vec<Mention>>, crate::Error> {
        self.recognize_docs(docs)
    }
}

impl TokenClassifier {
    /// Every sentence of every document in one batched run. Spans are the model's, less
    /// surrounding whitespace (a SentencePiece token's span includes the space before it);
    /// an entity that is only whitespace is dropped.
    fn recognize_docs(&self, docs: &[&Document]) -> Result<Vec<Vec<Mention>>> {
        let mut texts: Vec<&str> = Vec::new();
        for doc in docs {
            texts.extend((0..doc.sentences.len()).map(|i| doc.sentence_text(i)));
        }
        let mut found = self.predict(&texts)?.into_iter();
        let mut out = Vec::with_capacity(docs.len());
        for doc in docs {
            let mut mentions = Vec::new();
            for (i, range) in doc.sentences.iter().enumerate() {
                let text = doc.sentence_text(i);
                for e in found.next().unwrap_or_default() {
                    let span = &text[e.start..e.end];
                    let trimmed = span.trim_start();
                    let start = e.start + (span.len() - trimmed.len());
                    let end = start + trimmed.trim_end().len();
                    if start >= end {
                        continue;
                    }
                    let (start, end) = (range.start + start, range.start + end);
                    mentions.push(Mention {
                        start,
                        end,
                        label: e.group.clone(),
                        category: Category::of_label(&e.group),
                        sentence: Some(i),
                        score: Some(e.score),
                    });
                }
            }
            mentions.sort_by_key(|m| (m.start, m.end));
            out.push(mentions);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ent(start: usize, end: usize, score: f32) -> TokenEntity {
        TokenEntity {
            group: "PER".into(),
            score,
            start,
            end,
        }
    }

    #[test]
    fn overlapping_windows_keep_the_longer_entity() {
        let merged = merge_overlapping(vec![ent(10, 15, 0.9), ent(0, 5, 0.5), ent(10, 20, 0.4)]);
        assert_eq!(merged, vec![ent(0, 5, 0.5), ent(10, 20, 0.4)]);
        let merged = merge_overlapping(vec![ent(10, 15, 0.5), ent(10, 15, 0.9)]);
        assert_eq!(merged, vec![ent(10, 15, 0.9)]);
    }

    #[test]
    fn tags() {
        assert_eq!(split_tag("B-PER"), ('B', "PER"));
        assert_eq!(split_tag("I-ORG"), ('I', "ORG"));
        assert_eq!(split_tag("O"), ('I', "O"));
        assert_eq!(
            "first".parse::<AggregationStrategy>().unwrap(),
            AggregationStrategy::First
        );
    }
}
