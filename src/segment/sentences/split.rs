//! Split repairs: cuts sentencex misses (each item of an enumerated list, a four-dot ellipsis
//! glued to a word, `no.` or `art.` as ordinary words before a capital, a title after a
//! lowercase word, a country abbreviation before a new sentence), and the intervals after a
//! list marker where no cut may fall.

use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

use super::trim_range;
use super::words::{ABBR_MODIFIERS, bare_word, in_list, is_dotted_caps, is_title};

/// The final cuts of `block`: the `kept` ones outside every interval a list marker forbids,
/// plus those the split repairs force, sorted, without duplicates.
pub(super) fn split_repairs(text: &str, block: &Range<usize>, kept: Vec<usize>) -> Vec<usize> {
    // Split repairs and list handling.
    let mut forced: Vec<usize> = Vec::new();
    let mut forbidden: Vec<(usize, usize)> = Vec::new();
    lists(text, block, &kept, &mut forced, &mut forbidden);
    // Heuristic splits never apply inside an open quotation or parenthesis.
    // Each split is a cut plus an optional interval in which sentencex cuts are dropped.
    let mut splits: Vec<Split> = Vec::new();
    glued_four_dot_ellipsis(text, block, &mut splits);
    title_after_lowercase_word(text, block, &mut splits);
    word_abbreviation_then_capital(text, block, &mut splits);
    country_abbreviation_then_capital(text, block, &mut splits);
    splits.sort_unstable_by_key(|&(c, _)| c);
    let mut pairs = OpenPairs::default();
    for (c, f) in splits {
        let seg_start = match kept.binary_search(&c) {
            Ok(_) => continue, // already a cut
            Err(0) => block.start,
            Err(i) => kept[i - 1],
        };
        if !pairs.inside(text, seg_start, c) {
            forced.push(c);
            forbidden.extend(f);
        }
    }

    // Drop cuts inside forbidden intervals `(a, b]` with a linear sweep.
    forbidden.sort_unstable();
    let mut fi = 0;
    let mut reach: Option<(usize, usize)> = None; // union of intervals seen so far
    let mut all: Vec<usize> = Vec::with_capacity(kept.len() + forced.len());
    for c in kept {
        while fi < forbidden.len() && forbidden[fi].0 < c {
            let (a, b) = forbidden[fi];
            reach = Some(match reach {
                Some((ra, rb)) if a <= rb => (ra, rb.max(b)),
                _ => (a, b),
            });
            fi += 1;
        }
        if !reach.is_some_and(|(a, b)| c > a && c <= b) {
            all.push(c);
        }
    }
    all.extend(
        forced
            .into_iter()
            .filter(|&c| c > block.start && c < block.end),
    );
    all.sort_unstable();
    all.dedup();

    all
}

/// A heuristic split: the new cut and an optional `(a, b]` interval where cuts are dropped.
type Split = (usize, Option<(usize, usize)>);

/// Incremental quote / parenthesis balance since the start of the current segment, so that
/// checking many split points in one segment stays linear.
#[derive(Default)]
struct OpenPairs {
    seg_start: usize,
    scanned_to: usize,
    curly: i64,
    paren: i64,
    straight: u64,
}
impl OpenPairs {
    /// Whether `pos` lies inside a quotation or parenthesis opened after `seg_start`.
    /// Calls must come with non-decreasing `pos`.
    fn inside(&mut self, text: &str, seg_start: usize, pos: usize) -> bool {
        if seg_start != self.seg_start || pos < self.scanned_to {
            *self = OpenPairs {
                seg_start,
                scanned_to: seg_start,
                ..OpenPairs::default()
            };
        }
        for ch in text[self.scanned_to..pos].chars() {
            match ch {
                '\u{201c}' => self.curly += 1,
                '\u{201d}' => self.curly -= 1,
                '(' => self.paren += 1,
                ')' => self.paren -= 1,
                '"' => self.straight += 1,
                _ => {}
            }
        }
        self.scanned_to = pos;
        self.curly > 0 || self.paren > 0 || self.straight % 2 == 1
    }
}

static LIST_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[•⁃▪◦‣·*\-–][ \t]*)?(?:(\d{1,3})|([A-Za-z]))(\.\)|\.|\))").unwrap()
});

#[derive(Clone, Copy, PartialEq)]
struct Marker {
    start: usize,
    end: usize,
    value: u32,
    kind: u8,  // 0 digits, 1 lowercase letter, 2 uppercase letter
    style: u8, // 0 ".", 1 ".)", 2 ")"
}

/// Enumerated lists: a run of consecutive markers (`1.` `2.` ..., `a.` `b.` ...), the first
/// at a sentence start, makes each item a sentence and forbids cuts right after a marker.
fn lists(
    text: &str,
    block: &Range<usize>,
    cuts: &[usize],
    forced: &mut Vec<usize>,
    forbidden: &mut Vec<(usize, usize)>,
) {
    let slice = &text[block.clone()];
    // Sentence starts (after trimming) according to the current cuts.
    let mut starts: Vec<usize> = Vec::with_capacity(cuts.len() + 1);
    starts.push(block.start);
    for &c in cuts {
        let r = trim_range(text, c..block.end);
        starts.push(r.start);
    }
    let mut chain: Vec<Marker> = Vec::new();
    let mut flush = |chain: &mut Vec<Marker>| {
        if chain.len() >= 2 {
            for m in chain.iter() {
                forced.push(m.start);
                let after = trim_range(text, m.end..block.end).start;
                forbidden.push((m.start, after));
            }
        }
        chain.clear();
    };
    for caps in LIST_MARKER.captures_iter(slice) {
        let whole = caps.get(0).expect("group 0");
        let (start, end) = (block.start + whole.start(), block.start + whole.end());
        // Must be preceded by whitespace (or block start) and followed by whitespace.
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || start == block.start);
        let after_ok = text[end..].chars().next().is_some_and(char::is_whitespace);
        if !before_ok || !after_ok {
            continue;
        }
        let style = match caps.get(3).map(|m| m.as_str()) {
            Some(".)") => 1,
            Some(")") => 2,
            _ => 0,
        };
        let (value, kind) = if let Some(d) = caps.get(1) {
            (d.as_str().parse::<u32>().unwrap_or(u32::MAX), 0u8)
        } else if let Some(l) = caps.get(2).and_then(|m| m.as_str().chars().next()) {
            let kind = if l.is_ascii_lowercase() { 1 } else { 2 };
            (u32::from(l.to_ascii_lowercase()) - u32::from('a') + 1, kind)
        } else {
            continue;
        };
        let m = Marker {
            start,
            end,
            value,
            kind,
            style,
        };
        // (No let-chains, so the file also compiles in edition 2021 crates.)
        let continues = chain.last().is_some_and(|last| {
            last.kind == kind && last.style == style && last.value.checked_add(1) == Some(value)
        });
        if continues {
            chain.push(m);
            continue;
        }
        let at_start = starts.binary_search(&start).is_ok();
        // Letter lists must start at `a`; numbered ones may start anywhere (`9.`, `10.`).
        if at_start && (kind == 0 || value == 1) && value != u32::MAX {
            flush(&mut chain);
            chain.push(m);
        }
    }
    flush(&mut chain);
}

static GLUED_FOUR_DOT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\w(\.)(?:[ \t]+\.){3}([ \t]+)[\p{Lu}\d]").unwrap());

/// `compounds. . . . The practice`: the sentence ends at the word's own period and the
/// following three-dot ellipsis opens the next sentence.
fn glued_four_dot_ellipsis(text: &str, block: &Range<usize>, splits: &mut Vec<Split>) {
    for caps in GLUED_FOUR_DOT.captures_iter(&text[block.clone()]) {
        let (Some(dot), Some(gap)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let cut = block.start + dot.end();
        splits.push((cut, Some((cut, block.start + gap.end()))));
    }
}

static TITLE_AFTER_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\p{Ll}{2,})\.(\s+)(\p{Lu}\p{Ll}{1,4})\.\s+\p{Lu}").unwrap());

/// `... said no. Rep. Smith agreed.`: a lowercase word ending in a period followed by a
/// title and a name starts a new sentence (sentencex keeps `no.` as an abbreviation).
fn title_after_lowercase_word(text: &str, block: &Range<usize>, splits: &mut Vec<Split>) {
    for caps in TITLE_AFTER_WORD.captures_iter(&text[block.clone()]) {
        let (Some(word), Some(gap), Some(title)) = (caps.get(1), caps.get(2), caps.get(3)) else {
            continue;
        };
        if in_list(
            &["vs", "v", "cf", "viz", "incl", "approx", "ca", "re"],
            word.as_str(),
        ) {
            continue;
        }
        if is_title(title.as_str()) {
            splits.push((block.start + gap.start(), None));
        }
    }
}

static WORD_ABBR_THEN_CAPITAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:no|art|ill|me|miss|may|fed|ore|ok|con)\.(\s+)[\p{Lu}\u{201c}\x22]").unwrap()
});

/// `He said no. Talks ended.`: ordinary lowercase words that sentencex also lists as
/// abbreviations (`no.` = number, `art.` = article) end a sentence before a capital.
fn word_abbreviation_then_capital(text: &str, block: &Range<usize>, splits: &mut Vec<Split>) {
    for caps in WORD_ABBR_THEN_CAPITAL.captures_iter(&text[block.clone()]) {
        if let Some(gap) = caps.get(1) {
            splits.push((block.start + gap.start(), None));
        }
    }
}

static COUNTRY_THEN_CAPITAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\w.])(?:U\.S\.A|U\.S|U\.K|E\.U|U\.N|U\.A\.E)\.(\s+)(\p{Lu}[\w'’.-]*)")
        .unwrap()
});

/// `Talks ended in the U.K. Brussels was silent.`: a country-style abbreviation followed by a
/// capitalised word that does not continue the noun phrase ends the sentence.
fn country_abbreviation_then_capital(text: &str, block: &Range<usize>, splits: &mut Vec<Split>) {
    for caps in COUNTRY_THEN_CAPITAL.captures_iter(&text[block.clone()]) {
        let (Some(gap), Some(word)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let w = word.as_str();
        let bare = bare_word(w);
        let title = w.strip_suffix('.').is_some_and(is_title);
        if !title && !in_list(ABBR_MODIFIERS, bare) && !is_dotted_caps(w.trim_end_matches('.')) {
            splits.push((block.start + gap.start(), None));
        }
    }
}
