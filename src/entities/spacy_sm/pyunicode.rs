//! Python `str` predicates on single code points, which spaCy's lexical attributes and
//! tokenizer rely on. Rust's `char` predicates differ at the edges (e.g. `isspace` covers
//! U+001C..U+001F, `isalpha` excludes combining marks), so generated tables are used.

use crate::entities::spacy_sm::tables::{PY_ALPHA, PY_DIGIT, PY_SPACE, PY_UPPER};

fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python `ch.isalpha()`.
pub fn is_alpha(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_ranges(PY_ALPHA, c)
}

/// Python `ch.isdigit()`.
pub fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    in_ranges(PY_DIGIT, c)
}

/// Python `ch.isupper()`.
pub fn is_upper(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_uppercase();
    }
    in_ranges(PY_UPPER, c)
}

/// Python `ch.isspace()`.
pub fn is_space(c: char) -> bool {
    if c.is_ascii() {
        return matches!(
            c,
            ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\x1c'..='\x1f'
        );
    }
    in_ranges(PY_SPACE, c)
}

/// Python `s.lower()` (full case mapping, final sigma included).
pub fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.to_lowercase()
}

/// Python `s.isspace()` for a whole string (non-empty, all whitespace).
pub fn str_is_space(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_space)
}
