//! Blocks: line and paragraph handling. A blank line always separates blocks; a single line
//! break does when both neighbouring lines look complete, and is a soft wrap otherwise.

use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

use super::trim_range;
use super::words::{CONNECTORS, in_list, is_single_upper, is_title};

/// Splits `text` into blocks that never share a sentence: blank lines always separate blocks,
/// single line breaks separate them when both neighbouring lines look complete.
pub(super) fn blocks(text: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut current: Option<Range<usize>> = None;
    let mut start = 0;
    let bytes = text.as_bytes();
    loop {
        let end = memchr_newline(bytes, start).unwrap_or(text.len());
        let line = trim_range(text, start..end);
        if line.is_empty() {
            // Blank (or whitespace-only) line: hard paragraph break.
            if let Some(cur) = current.take() {
                out.push(cur);
            }
        } else {
            current = Some(match current.take() {
                Some(cur) if soft_wrap(&text[cur.clone()], &text[line.clone()]) => {
                    cur.start..line.end
                }
                Some(cur) => {
                    out.push(cur);
                    line
                }
                None => line,
            });
        }
        if end >= text.len() {
            break;
        }
        start = end + 1;
    }
    if let Some(cur) = current {
        out.push(cur);
    }
    out
}

fn memchr_newline(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == b'\n')
        .map(|p| p + from)
}

static LINE_LIST_ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[•⁃▪◦‣·*\-–—]|\d{1,3}[.)]|\(\d{1,3}\))\s").unwrap());

/// Whether the line break between the block so far (`prev`) and `next` is a soft wrap.
fn soft_wrap(prev: &str, next: &str) -> bool {
    let Some(first) = next.chars().next() else {
        return true;
    };
    if first.is_lowercase() || ",;:)]}%”’»".contains(first) {
        return true;
    }
    if LINE_LIST_ITEM.is_match(next) {
        // A bulleted or numbered line always starts a new item.
        return false;
    }
    let Some(last) = prev.chars().next_back() else {
        return true;
    };
    if ",;-–—([{/&+«“‘".contains(last) {
        return true;
    }
    let word = prev.rsplit(char::is_whitespace).next().unwrap_or("");
    let bare = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    if in_list(CONNECTORS, bare) {
        return true;
    }
    if let Some(stem) = bare.strip_suffix('.') {
        // A title or a single initial at the end of a line continues on the next line.
        if is_title(stem) || is_single_upper(stem) {
            return true;
        }
    }
    false
}
