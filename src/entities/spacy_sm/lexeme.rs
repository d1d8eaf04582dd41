//! Lexical attributes the NER embeds: NORM, PREFIX, SUFFIX, SHAPE (as spaCy string ids).

use std::collections::HashMap;

use crate::entities::spacy_sm::hash::string_id;
use crate::entities::spacy_sm::pyunicode;
use crate::entities::spacy_sm::tables::BASE_NORMS;

/// NORM lookup data: the model's `lexeme_norm` table (keyed by string id) and spaCy's
/// BASE_NORMS, consulted in that order before falling back to lower-casing.
#[derive(Debug, Clone)]
pub struct Lexicon {
    lexeme_norm: HashMap<u64, String>,
    base_norms: HashMap<&'static str, &'static str>,
}

/// spaCy's `word_shape`: X/x/d classes, runs capped at 4, "LONG" for >= 100 chars.
pub fn word_shape(text: &str) -> String {
    if text.chars().nth(99).is_some() {
        return "LONG".to_string();
    }
    let mut shape = String::with_capacity(text.len());
    let mut last: Option<char> = None;
    let mut seq = 0usize;
    for c in text.chars() {
        let sc = if pyunicode::is_alpha(c) {
            if pyunicode::is_upper(c) { 'X' } else { 'x' }
        } else if pyunicode::is_digit(c) {
            'd'
        } else {
            c
        };
        if Some(sc) == last {
            seq += 1;
        } else {
            seq = 0;
            last = Some(sc);
        }
        if seq < 4 {
            shape.push(sc);
        }
    }
    shape
}

/// First character (spaCy's PREFIX).
pub fn prefix(text: &str) -> &str {
    match text.char_indices().nth(1) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Last three characters (spaCy's SUFFIX).
pub fn suffix(text: &str) -> &str {
    match text.char_indices().rev().nth(2) {
        Some((i, _)) => &text[i..],
        None => text,
    }
}

impl Lexicon {
    pub fn new(lexeme_norm: HashMap<u64, String>) -> Self {
        Lexicon {
            lexeme_norm,
            base_norms: BASE_NORMS.iter().copied().collect(),
        }
    }

    /// The NORM string of a lexeme.
    pub fn norm(&self, orth: &str) -> String {
        if let Some(n) = self.lexeme_norm.get(&string_id(orth)) {
            return n.clone();
        }
        if let Some(n) = self.base_norms.get(orth) {
            return (*n).to_string();
        }
        pyunicode::lower(orth)
    }

    /// NORM, PREFIX, SUFFIX, SHAPE ids of a token; `norm_override` is the NORM id a
    /// tokenizer special case assigned, which takes precedence over the lexeme's.
    pub fn features(&self, orth: &str, norm_override: Option<u64>) -> [u64; 4] {
        let norm = match norm_override {
            Some(id) => id,
            None => string_id(&self.norm(orth)),
        };
        [
            norm,
            string_id(prefix(orth)),
            string_id(suffix(orth)),
            string_id(&word_shape(orth)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(word_shape("Moscow"), "Xxxxx");
        assert_eq!(word_shape("1990s"), "ddddx");
        assert_eq!(word_shape("123456"), "dddd");
        assert_eq!(word_shape("U.S."), "X.X.");
        assert_eq!(word_shape("aaaaaaa"), "xxxx");
        assert_eq!(prefix("été"), "é");
        assert_eq!(suffix("naïveté"), "eté");
        assert_eq!(suffix("ab"), "ab");
    }
}
