//! Merge repairs: the sentencex cuts that should not end a sentence (a period glued to the next
//! token, a bare list marker, a closing quote before a lowercase word, a prepositive title,
//! `U.S.` before a word that continues the noun phrase, initials in a name).

use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

use super::words::{
    ABBR_MODIFIERS, STARTERS, bare_word, in_list, is_dotted_caps, is_single_upper, is_title,
};

/// The cuts of `cuts` (sentencex's, in `block`) that should end a sentence.
pub(super) fn merge_repairs(text: &str, block: &Range<usize>, cuts: &[usize]) -> Vec<usize> {
    let mut kept: Vec<usize> = Vec::with_capacity(cuts.len());
    let mut seg_start = block.start;
    for (i, &c) in cuts.iter().enumerate() {
        let next_cut = cuts.get(i + 1).copied().unwrap_or(block.end);
        if should_merge(text, seg_start, c, next_cut) {
            continue;
        }
        kept.push(c);
        seg_start = c;
    }
    kept
}

/// Whether the sentencex cut at `c` (segment `seg_start..c`, followed by text up to
/// `next_cut`) should be dropped.
fn should_merge(text: &str, seg_start: usize, c: usize, next_cut: usize) -> bool {
    let left_full = &text[seg_start..c];
    let left = left_full.trim_end();
    let right = text[c..next_cut].trim_start();
    if left.is_empty() || right.is_empty() {
        return false;
    }
    let glued = left.len() == left_full.len() && c == next_cut - right.len();
    let ltok = last_token(left);
    let rtok = first_token(right);
    let rfirst = right.chars().next().unwrap_or(' ');

    // A period glued to the following alphanumeric (decimals, e-mail, URLs).
    if glued && left.ends_with('.') && rfirst.is_ascii_alphanumeric() {
        return true;
    }

    // A segment that is only an enumeration / bullet marker.
    if is_list_marker_only(left) {
        return true;
    }

    // Closing quote after terminal punctuation, then a lowercase word: `"Go." he said`.
    if rfirst.is_lowercase() {
        let t = left.trim_end_matches(['"', '”', '\'', '’', '»', ')']);
        if t.len() < left.len() && t.ends_with(['.', '!', '?', ',']) {
            return true;
        }
    }

    let Some(stem) = ltok.strip_suffix('.') else {
        return false;
    };
    let stem = stem.trim_start_matches(|c: char| !c.is_alphanumeric());
    let rstarts_upper = rfirst.is_uppercase();

    // Prepositive titles: `Gen.`, `Sen.`, `Lt. Col.` are followed by a name.
    if is_title(stem) && (rstarts_upper || rfirst.is_ascii_digit()) {
        return true;
    }

    let rword = bare_word(rtok);

    // `U.S.` and friends: joined when the next word continues the noun phrase.
    if is_dotted_caps(stem) && !is_initials_name(stem) {
        return rfirst.is_lowercase() || rfirst.is_ascii_digit() || in_list(ABBR_MODIFIERS, rword);
    }

    // Initials in a name: `J. R. R. Tolkien`, `John F. Kennedy`.
    if (is_single_upper(stem) || is_dotted_caps(stem)) && rstarts_upper && !in_list(STARTERS, rword)
    {
        let before = left[..left.len() - ltok.len()].trim_end();
        let prev = last_token(before);
        let prev_bare = prev.trim_start_matches(|c: char| !c.is_alphanumeric());
        let prev_is_initial = prev_bare
            .strip_suffix('.')
            .is_some_and(|p| is_single_upper(p) || is_dotted_caps(p) || is_title(p));
        let prev_is_name = prev_bare.chars().next().is_some_and(char::is_uppercase)
            && prev_bare
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
            && prev_bare != "I";
        if before.is_empty() || prev_is_initial || prev_is_name {
            return true;
        }
    }
    false
}

/// Last whitespace-separated token of `s` (already trimmed at the end).
fn last_token(s: &str) -> &str {
    s.rsplit(char::is_whitespace).next().unwrap_or("")
}

fn first_token(s: &str) -> &str {
    s.split(char::is_whitespace).next().unwrap_or("")
}

/// Dotted capitals that look like name initials rather than a place (`J.R.R` but not `U.S`).
fn is_initials_name(stem: &str) -> bool {
    // Heuristic: country/organisation abbreviations are overwhelmingly two letters drawn from
    // this small set; anything else with dots between capitals is treated like initials.
    !matches!(
        stem,
        "U.S" | "U.K" | "E.U" | "U.N" | "U.S.A" | "U.A.E" | "D.C" | "N.Y" | "L.A" | "S.F"
    )
}

static LIST_MARKER_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[•⁃▪◦‣·*\-–]\s*)?(?:\d{1,3}|[A-Za-z])(?:\.\)|\.|\))$|^[•⁃▪◦‣·*\-–]$").unwrap()
});

fn is_list_marker_only(s: &str) -> bool {
    s.len() <= 12 && LIST_MARKER_ONLY.is_match(s)
}
