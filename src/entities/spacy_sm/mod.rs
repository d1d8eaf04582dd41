//! Pure-Rust inference port of spaCy's `en_core_web_sm` 3.8 named-entity recogniser.
//!
//! [`SpacyNer::load`] reads a spaCy model directory (the `tokenizer`, `vocab/lookups.bin`,
//! `ner/moves` and `ner/model` files); [`SpacyNer::entities`] then reproduces what
//! `spacy.load(dir, exclude=[everything but "ner"])(text).ents` returns, as byte offsets.
//!
//! Pipeline: [`tokenizer`] (spaCy's rule-based tokenizer) -> [`lexeme`] attributes
//! (NORM, PREFIX, SUFFIX, SHAPE as spaCy string ids, see [`hash`]) -> [`tok2vec`]
//! (hash embeddings + CNN) -> [`parser`] (greedy BILUO transition system).
//!
//! A loaded [`SpacyNer`] is immutable and `Send + Sync`: share it across threads.

mod affix;
pub mod hash;
pub mod lexeme;
pub mod model;
pub mod parser;
pub mod pyunicode;
mod recognizer;
mod tables;
pub mod tok2vec;
pub mod tokenizer;

pub use recognizer::SmRecognizer;

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use crate::error::{Context, Result, err};
use rmpv::Value;

use lexeme::Lexicon;
use parser::{Action, Move, ParserModel};
use tok2vec::{Scratch, Tok2Vec};
use tokenizer::Tokenizer;

/// Tokens per block of the streamed encoder; bounds memory on very long texts.
const BLOCK: usize = 2048;

/// A named entity: byte offsets `start..end` into the text and the spaCy label.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entity {
    pub start: usize,
    pub end: usize,
    pub label: String,
}

/// The loaded NER pipeline (tokenizer + NER component).
#[derive(Debug)]
pub struct SpacyNer {
    tokenizer: Tokenizer,
    lexicon: Lexicon,
    tok2vec: Tok2Vec,
    parser: ParserModel,
    actions: Vec<Action>,
    labels: Vec<String>,
}

fn load_lexeme_norm(path: &Path) -> Result<HashMap<u64, String>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let v = rmpv::decode::read_value(&mut &bytes[..]).context("decoding lookups msgpack")?;
    let mut out = HashMap::new();
    let tables = v.as_map().ok_or_else(|| err!("lookups: expected a map"))?;
    for (name, table) in tables {
        if name.as_str() != Some("lexeme_norm") {
            continue;
        }
        // Either a plain map, or (older format) msgpack bytes of {"dict": map}.
        let decoded;
        let table = match table {
            Value::Binary(b) => {
                decoded =
                    rmpv::decode::read_value(&mut &b[..]).context("decoding lexeme_norm table")?;
                decoded
                    .as_map()
                    .and_then(|m| {
                        m.iter()
                            .find(|(k, _)| k.as_str() == Some("dict"))
                            .map(|(_, v)| v)
                    })
                    .unwrap_or(&decoded)
            }
            other => other,
        };
        for (k, v) in table
            .as_map()
            .ok_or_else(|| err!("lexeme_norm: expected a map"))?
        {
            let key = match k {
                Value::Integer(i) => i.as_u64(),
                Value::String(s) => s.as_str().map(hash::string_id),
                _ => None,
            };
            if let (Some(key), Some(val)) = (key, v.as_str()) {
                out.insert(key, val.to_string());
            }
        }
    }
    Ok(out)
}

impl SpacyNer {
    /// Loads the tokenizer and NER from a spaCy model directory
    /// (e.g. `.../en_core_web_sm-3.8.0/`).
    pub fn load(model_dir: &Path) -> Result<Self> {
        let tokenizer = Tokenizer::load(&model_dir.join("tokenizer"))?;
        let lexicon = Lexicon::new(load_lexeme_norm(
            &model_dir.join("vocab").join("lookups.bin"),
        )?);
        let moves_path = model_dir.join("ner").join("moves");
        let moves = std::fs::read(&moves_path)
            .with_context(|| format!("reading {}", moves_path.display()))?;
        let (actions, labels) = parser::load_moves(&moves)?;
        let nodes = model::load_nodes(&model_dir.join("ner").join("model"))?;
        let tok2vec = Tok2Vec::from_nodes(&nodes)?;
        let parser = ParserModel::from_nodes(&nodes, actions.len())?;
        crate::error::ensure!(
            parser.lower.n_in == tok2vec.out_width(),
            "tok2vec/parser width mismatch"
        );
        Ok(SpacyNer {
            tokenizer,
            lexicon,
            tok2vec,
            parser,
            actions,
            labels,
        })
    }

    /// spaCy's tokenisation of `text` as byte ranges. Like spaCy, whitespace other than a
    /// single space after a token becomes tokens of its own (e.g. "\n", or the second
    /// of two spaces).
    pub fn tokenize(&self, text: &str) -> Vec<Range<usize>> {
        self.tokenizer
            .tokenize(text)
            .into_iter()
            .map(|t| t.start..t.end)
            .collect()
    }

    /// The entity labels the model predicts, in the model's order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Names of the model's actions in class order (e.g. "B-ORG", "U-", "O").
    pub fn action_names(&self) -> Vec<String> {
        self.actions
            .iter()
            .map(|a| {
                let m = match a.mv {
                    Move::Begin => "B",
                    Move::In => "I",
                    Move::Last => "L",
                    Move::Unit => "U",
                    Move::Out => return "O".to_string(),
                };
                format!(
                    "{m}-{}",
                    a.label.map(|l| self.labels[l].as_str()).unwrap_or("")
                )
            })
            .collect()
    }

    /// Debugging aid for stage-by-stage comparison with Python: per token, the NORM,
    /// PREFIX, SUFFIX and SHAPE ids, and the 64-wide input vectors of the parser
    /// (tok2vec followed by the linear projection), row-major.
    #[doc(hidden)]
    pub fn debug_features(&self, text: &str) -> (Vec<[u64; 4]>, Vec<f32>) {
        let toks = self.tokenizer.tokenize(text);
        let feats: Vec<[u64; 4]> = toks
            .iter()
            .map(|t| self.lexicon.features(&text[t.start..t.end], t.norm))
            .collect();
        let mut vecs = Vec::new();
        self.tok2vec
            .forward(&feats, 0, feats.len(), &mut Scratch::default(), &mut vecs);
        (feats, vecs)
    }

    /// Named entities in `text`, as spaCy's `doc.ents` (byte offsets).
    pub fn entities(&self, text: &str) -> Vec<Entity> {
        let toks = self.tokenizer.tokenize(text);
        self.entities_for_tokens(text, &toks, BLOCK)
    }

    /// Tokens and entities together (one tokenisation instead of two).
    pub fn annotate(&self, text: &str) -> (Vec<Range<usize>>, Vec<Entity>) {
        let toks = self.tokenizer.tokenize(text);
        let ents = self.entities_for_tokens(text, &toks, BLOCK);
        (toks.into_iter().map(|t| t.start..t.end).collect(), ents)
    }

    /// `entities` with a chosen encoder block size; results do not depend on it (tested).
    #[doc(hidden)]
    pub fn entities_with_block(&self, text: &str, block: usize) -> Vec<Entity> {
        let toks = self.tokenizer.tokenize(text);
        self.entities_for_tokens(text, &toks, block.max(1))
    }

    fn entities_for_tokens(
        &self,
        text: &str,
        toks: &[tokenizer::Token],
        block: usize,
    ) -> Vec<Entity> {
        if toks.is_empty() {
            return Vec::new();
        }
        let feats: Vec<[u64; 4]> = toks
            .iter()
            .map(|t| self.lexicon.features(&text[t.start..t.end], t.norm))
            .collect();
        let is_space: Vec<bool> = toks
            .iter()
            .map(|t| pyunicode::str_is_space(&text[t.start..t.end]))
            .collect();
        self.parse(&feats, &is_space, block)
            .into_iter()
            .map(|(a, b, l)| Entity {
                start: toks[a].start,
                end: toks[b - 1].end,
                label: self.labels[l].clone(),
            })
            .collect()
    }

    /// The greedy transition parse over the tokens' features, encoded `block` tokens at a
    /// time: entities as (first token, end token, label index).
    fn parse(
        &self,
        feats: &[[u64; 4]],
        is_space: &[bool],
        block: usize,
    ) -> Vec<(usize, usize, usize)> {
        let n = feats.len();
        let p = &self.parser;
        let (rw, sw) = (p.row_width(), p.slot_width());
        let mut scratch = Scratch::default();
        let mut vecs = Vec::new();
        let mut pre = Vec::new();
        let (mut hidden, mut scores) = (Vec::new(), Vec::new());
        let mut state = NerState {
            open: None,
            open_feat: vec![0f32; sw],
            ents: Vec::new(),
        };
        // Slot-2 features of the previous block's last token.
        let mut prev_slot2 = vec![0f32; sw];
        let pad1 = &p.pad[sw..2 * sw];
        let pad2 = &p.pad[2 * sw..3 * sw];

        let mut s = 0;
        while s < n {
            let e = (s + block).min(n);
            self.tok2vec.forward(feats, s, e, &mut scratch, &mut vecs);
            p.lower.forward(&vecs, e - s, &mut pre);
            for b0 in s..e {
                let row = &pre[(b0 - s) * rw..(b0 - s + 1) * rw];
                let f0 = &row[..sw];
                let (f1, f2): (&[f32], &[f32]) = if state.open.is_some() {
                    let f2 = if b0 > s {
                        &pre[(b0 - 1 - s) * rw + 2 * sw..(b0 - s) * rw]
                    } else {
                        &prev_slot2[..]
                    };
                    (&state.open_feat[..], f2)
                } else {
                    (pad1, pad2)
                };
                p.scores([f0, f1, f2], &mut hidden, &mut scores);
                let action = self.best_action(&scores, state.open, n - b0, is_space[b0]);
                state.apply(action, b0, &row[sw..2 * sw]);
            }
            prev_slot2.copy_from_slice(&pre[(e - 1 - s) * rw + 2 * sw..(e - s) * rw]);
            s = e;
        }
        state.ents
    }

    /// The best-scoring action that is valid with entity `open` (first token, label) and
    /// `remaining` tokens left, this one included.
    fn best_action(
        &self,
        scores: &[f32],
        open: Option<(usize, usize)>,
        remaining: usize,
        is_space: bool,
    ) -> Action {
        let mut best: Option<usize> = None;
        for (i, a) in self.actions.iter().enumerate() {
            let valid = match (a.mv, a.label) {
                (Move::Begin, Some(_)) => open.is_none() && remaining >= 2 && !is_space,
                (Move::In, Some(l)) => remaining >= 2 && open.is_some_and(|(_, ol)| ol == l),
                (Move::Last, Some(l)) => open.is_some_and(|(_, ol)| ol == l),
                (Move::Unit, Some(_)) => open.is_none() && !is_space,
                (Move::Out, _) => open.is_none(),
                _ => false,
            };
            if valid && best.is_none_or(|b| scores[i] > scores[b]) {
                best = Some(i);
            }
        }
        match best {
            Some(i) => self.actions[i],
            // Unreachable with a well-formed action set; close or skip safely.
            None => match open {
                Some((_, l)) => Action {
                    mv: Move::Last,
                    label: Some(l),
                },
                None => Action {
                    mv: Move::Out,
                    label: None,
                },
            },
        }
    }
}

/// The entity parser's state between tokens.
struct NerState {
    /// The open entity: its first token and label.
    open: Option<(usize, usize)>,
    /// Slot-1 features of the open entity's first token.
    open_feat: Vec<f32>,
    /// Entities found: first token, end token, label.
    ents: Vec<(usize, usize, usize)>,
}

impl NerState {
    /// Takes `action` at token `b0`, whose slot-1 features are `slot1`.
    fn apply(&mut self, action: Action, b0: usize, slot1: &[f32]) {
        match (action.mv, action.label) {
            (Move::Begin, Some(l)) => {
                self.open = Some((b0, l));
                self.open_feat.copy_from_slice(slot1);
            }
            (Move::Last, _) => {
                if let Some((start, l)) = self.open.take() {
                    self.ents.push((start, b0 + 1, l));
                }
            }
            (Move::Unit, Some(l)) => self.ents.push((b0, b0 + 1, l)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn ner_is_send_sync() {
        assert_send_sync::<super::SpacyNer>();
    }
}
