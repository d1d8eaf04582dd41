//! News-quality English sentence segmentation.
//!
//! Built on Wikimedia's [`sentencex`] English rules, with news-specific repairs layered on
//! top of its boundaries:
//!
//! * line handling: a blank line always ends a sentence; a single line break ends one when
//!   both lines look like complete lines of text (news text is one paragraph per line), and
//!   is treated as a soft wrap otherwise; `\r\n` works like `\n`;
//! * prepositive titles (`Gen.`, `Sen.`, `Dr.`, `Lt. Col.`, ...) never end a sentence;
//! * personal initials (`J. R. R. Tolkien`) and multi-letter abbreviations like `U.S.`
//!   followed by a word that typically continues a noun phrase (`U.S. Army`) stay joined;
//! * a period glued to the next token (`2.5`, `Jane.Doe`, `example.com`) never ends one;
//! * a lowercase word after a closing quote (`"Go." he said`) continues the sentence;
//! * enumerated lists (`1. ... 2. ...`, `a. ... b. ...`, `1.) ...`, `• 9. ...`) start a
//!   sentence at each item and never split after the item marker;
//! * a four-dot ellipsis glued to a word (`word. . . . Next`) ends the sentence at the
//!   word's period.
//!
//! Everything is linear in the input length: sentencex runs per block, and blocks longer than
//! 16 KB are fed to it in 8–16 KB chunks cut at likely sentence ends (sentencex alone is
//! quadratic on some inputs, e.g. unbalanced quotes or long CJK runs).
//!
//! The entry point is here; the word lists are in `words`, line handling in `lines`, the repairs
//! that drop a sentencex cut in `merge` and those that add one in `split`.

mod lines;
mod merge;
mod split;
#[cfg(test)]
mod tests;
mod words;

use std::ops::Range;

/// Sentences of `text` as byte ranges into `text`, in order, non-overlapping, each trimmed of
/// surrounding whitespace, never empty. Never panics on any input (empty, emoji, CJK, CRLF, 5 MB).
pub fn sentence_spans(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for block in lines::blocks(text) {
        segment_block(text, block, &mut out);
    }
    out
}

const CHUNK_MIN: usize = 8 * 1024;
const CHUNK_MAX: usize = 16 * 1024;

/// End of the sentencex chunk starting at `start`: the whole rest when short, else the first
/// `[.!?]` + whitespace after `CHUNK_MIN` bytes, else the last whitespace before `CHUNK_MAX`,
/// else a char boundary near `CHUNK_MAX`.
fn chunk_end(text: &str, start: usize, end: usize) -> usize {
    if end - start <= CHUNK_MAX {
        return end;
    }
    let bytes = text.as_bytes();
    let (lo, hi) = (start + CHUNK_MIN, start + CHUNK_MAX);
    // Preferably `word. Next`: a lowercase word of 3+ letters, a terminator, a space and a
    // capital, which neither sentencex nor the repairs would keep together.
    if let Some(i) = (lo..hi).find(|&i| {
        matches!(bytes[i - 1], b'.' | b'!' | b'?')
            && bytes[i - 4..i - 1].iter().all(u8::is_ascii_lowercase)
            && bytes[i] == b' '
            && bytes.get(i + 1).is_some_and(u8::is_ascii_uppercase)
    }) {
        return i;
    }
    if let Some(i) = (lo..hi).find(|&i| {
        (matches!(bytes[i - 1], b'.' | b'!' | b'?') && bytes[i].is_ascii_whitespace())
            || ["。", "！", "？"]
                .iter()
                .any(|t| bytes[..i].ends_with(t.as_bytes()))
    }) {
        return i;
    }
    if let Some(i) = (lo..hi).rev().find(|&i| bytes[i].is_ascii_whitespace()) {
        return i;
    }
    let mut i = hi;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The sentences of one block: sentencex's cuts, less those the merge repairs drop, plus those
/// the split repairs add, each trimmed.
fn segment_block(text: &str, block: Range<usize>, out: &mut Vec<Range<usize>>) {
    let cuts = sentencex_cuts(text, &block);
    let kept = merge::merge_repairs(text, &block, &cuts);
    let all = split::split_repairs(text, &block, kept);

    let mut s = block.start;
    for c in all.into_iter().chain(std::iter::once(block.end)) {
        if c < s || !text.is_char_boundary(c) {
            continue;
        }
        let r = trim_range(text, s..c);
        if !r.is_empty() {
            out.push(r);
        }
        s = c;
    }
}

/// Candidate cut points (absolute byte offsets, strictly inside the block, increasing).
/// sentencex is superlinear on some inputs (e.g. many unclosed quotes), so very long blocks
/// are fed to it in bounded chunks cut at likely sentence ends.
fn sentencex_cuts(text: &str, block: &Range<usize>) -> Vec<usize> {
    let mut cuts: Vec<usize> = Vec::new();
    let mut chunk_start = block.start;
    while chunk_start < block.end {
        let chunk_end = chunk_end(text, chunk_start, block.end);
        for b in sentencex::get_sentence_boundaries("en", &text[chunk_start..chunk_end]) {
            let c = chunk_start.saturating_add(b.end_byte);
            if c > block.start
                && c < block.end
                && c <= chunk_end
                && text.is_char_boundary(c)
                && cuts.last().is_none_or(|&l| c > l)
            {
                cuts.push(c);
            }
        }
        if chunk_end < block.end && cuts.last().is_none_or(|&l| chunk_end > l) {
            cuts.push(chunk_end);
        }
        chunk_start = chunk_end;
    }
    cuts
}

fn trim_range(text: &str, r: Range<usize>) -> Range<usize> {
    let s = &text[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let trimmed = s.trim();
    let start = r.start + lead;
    start..start + trimmed.len()
}
