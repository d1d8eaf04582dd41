//! Clean: find the dateline and the lines that are not prose (section labels, dates, navigation
//! and share junk), without changing the text. Everything is reported as byte ranges into the
//! original text, so later stages and offsets never drift.

use std::ops::Range;
use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use serde::Serialize;

/// What cleaning found in one article.
#[derive(Debug, Clone, Default)]
pub struct Cleaned {
    /// Publication date read off a leading dateline.
    pub published: Option<NaiveDate>,
    /// The source glued after the date ("Clash Report" in "May 30, 2025Clash Report").
    pub source: Option<String>,
    /// Non-prose spans, in order. Kept in the text, never segmented or classified.
    pub boilerplate: Vec<Boilerplate>,
    /// The prose: byte ranges of the text between boilerplate, each to be segmented.
    pub prose: Vec<Range<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boilerplate {
    pub range: Range<usize>,
    pub kind: BoilerplateKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoilerplateKind {
    /// A leading date line, possibly with a source name.
    Dateline,
    /// A line that is only a date or a month and year.
    Date,
    /// Navigation, sharing, subscription and similar page furniture.
    Navigation,
    /// A short heading-like line among other non-prose lines (section and tag labels).
    Label,
}

const MONTH: &str = r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|Jun(?:e|\.)?|Jul(?:y|\.)?|Aug(?:ust|\.)?|Sep(?:t(?:ember|\.)?|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)";
/// A weekday before a date ("Friday, "), which the date readers skip.
pub(crate) const WEEKDAY: &str =
    r"(?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+)?";

/// A date at the start of a line, in the common English news forms. Named groups give the
/// parts; the source or sentence that follows is whatever comes after the match.
static LEADING_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?x)^[\t\ ]*{WEEKDAY}(?:
            (?P<m1>{MONTH})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{{4}})   # May 30, 2025
          | (?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{MONTH}),?\s+(?P<y2>\d{{4}})   # 30 May 2025
          | (?P<y3>\d{{4}})-(?P<n3>\d{{2}})-(?P<d3>\d{{2}})                          # 2025-05-30
          | (?P<n4>\d{{1,2}})/(?P<d4>\d{{1,2}})/(?P<y4>\d{{4}})                      # 05/30/2025 (US order)
        )"
    ))
    .expect("date regex")
});

/// A line that is only a date, or a month and year ("June 2025").
static DATE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^\s*(?:{MONTH}\s+\d{{4}}|{MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{MONTH}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\s*$"
    ))
    .expect("date line regex")
});

/// Page furniture that is never prose, wherever it stands.
static NAVIGATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(?:
            read\ (?:more|next|also|the\ full\ story)|related(?:\ (?:articles|stories|posts))?|
            share(?:\ (?:this|on\ \w+))?|tweet|follow\ us.*|subscribe.*|sign\ up.*|newsletter|
            advertisement|sponsored(?:\ content)?|comments?|leave\ a\ (?:comment|reply)|
            click\ here.*|tags?:.*|categor(?:y|ies):.*|filed\ under.*|previous(?:\ (?:article|post))?|
            next(?:\ (?:article|post))?|back\ to\ top|skip\ to\ content|home|menu|search|log\ ?in|
            (?:©|\(c\)|copyright).*|all\ rights\ reserved.*|print|email|whatsapp|facebook|twitter|
            linkedin|telegram|reddit|x
        )\s*[:.»›>|-]*\s*$",
    )
    .expect("navigation regex")
});

/// Words (letters or digits) in a line, for telling a label from prose.
static WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\p{L}\p{N}][\p{L}\p{N}'’.-]*").expect("word regex"));

/// A label is at most this many words; a headline is usually longer.
const MAX_LABEL_WORDS: usize = 3;

/// Finds the dateline and boilerplate of `text` and the prose between them.
pub fn clean(text: &str) -> Cleaned {
    let mut cleaned = Cleaned::default();
    let mut lines = LineKinds::new(text);
    lines.dateline(&mut cleaned);
    lines.mark_dates_and_navigation();
    lines.mark_labels();
    lines.spans(&mut cleaned);
    cleaned.boilerplate.sort_by_key(|b| b.range.start);
    cleaned
}

/// One text's lines, and what each has been found to be (`None`: prose, so far).
struct LineKinds<'a> {
    text: &'a str,
    lines: Vec<Range<usize>>,
    kinds: Vec<Option<BoilerplateKind>>,
    /// A dateline with prose after it on its line: the line, and the prose's range.
    dateline_tail: Option<(usize, Range<usize>)>,
}

impl<'a> LineKinds<'a> {
    fn new(text: &'a str) -> Self {
        let lines = lines(text);
        let kinds = vec![None; lines.len()];
        LineKinds {
            text,
            lines,
            kinds,
            dateline_tail: None,
        }
    }

    /// The dateline: the first non-blank line, when it starts with a date.
    fn dateline(&mut self, cleaned: &mut Cleaned) {
        let text = self.text;
        let first = self
            .lines
            .iter()
            .position(|r| !text[r.clone()].trim().is_empty());
        let Some(i) = first else {
            return;
        };
        let Some((date, date_end)) = leading_date(&text[self.lines[i].clone()]) else {
            return;
        };
        cleaned.published = Some(date);
        let line = self.lines[i].clone();
        let rest = &text[line.start + date_end..line.end];
        let rest_trimmed = rest.trim_matches(|c: char| c.is_whitespace() || "-–—|·,:".contains(c));
        if rest_trimmed.is_empty() || looks_like_source(rest_trimmed) {
            if !rest_trimmed.is_empty() {
                cleaned.source = Some(rest_trimmed.to_string());
            }
            self.kinds[i] = Some(BoilerplateKind::Dateline);
        } else {
            // "May 30, 2025 — Moscow said ..." : only the date part is the dateline; the
            // rest of the line is prose.
            let prose_start = line.start
                + date_end
                + (rest.len()
                    - rest
                        .trim_start_matches(|c: char| c.is_whitespace() || "-–—|·,:".contains(c))
                        .len());
            self.dateline_tail = Some((i, prose_start..line.end));
            cleaned.boilerplate.push(Boilerplate {
                range: line.start..line.start + date_end,
                kind: BoilerplateKind::Dateline,
            });
        }
    }

    fn is_dateline_tail(&self, i: usize) -> bool {
        self.dateline_tail.as_ref().is_some_and(|(j, _)| *j == i)
    }

    /// Lines that are only a date, or page furniture, wherever they stand.
    fn mark_dates_and_navigation(&mut self) {
        for (i, r) in self.lines.iter().enumerate() {
            if self.kinds[i].is_some() || self.is_dateline_tail(i) {
                continue;
            }
            let line = &self.text[r.clone()];
            if DATE_LINE.is_match(line) {
                self.kinds[i] = Some(BoilerplateKind::Date);
            } else if NAVIGATION.is_match(line) {
                self.kinds[i] = Some(BoilerplateKind::Navigation);
            }
        }
    }

    // The line of a dateline with prose after it is judged, and later spanned, by that prose
    // only: its date is already boilerplate, and a span over the whole line would overlap it.
    fn span_of(&self, i: usize) -> Range<usize> {
        match &self.dateline_tail {
            Some((j, tail)) if *j == i => tail.clone(),
            _ => self.lines[i].clone(),
        }
    }

    fn is_short(&self, i: usize) -> bool {
        is_label_like(&self.text[self.span_of(i)])
    }

    fn blank(&self, i: usize) -> bool {
        self.text[self.span_of(i)].trim().is_empty()
    }

    /// Whether the nearest non-blank line before (`step` -1) or after (1) line `i` is not
    /// prose.
    fn neighbour_is_junk(&self, i: usize, step: isize) -> bool {
        let n = self.lines.len();
        let mut j = i as isize + step;
        while j >= 0 && (j as usize) < n && self.blank(j as usize) {
            j += step;
        }
        j >= 0 && (j as usize) < n && self.kinds[j as usize].is_some()
    }

    /// Short labels count as boilerplate only beside other non-prose lines or at the end of
    /// the page: alone between paragraphs a short line may be a headline or a one-line quote.
    fn mark_labels(&mut self) {
        let n = self.lines.len();
        let last_prose_line = (0..n)
            .rev()
            .find(|&i| !self.blank(i) && self.kinds[i].is_none() && !self.is_short(i));
        // Each label found may make its neighbour a label's neighbour: go on until none is.
        loop {
            let mut changed = false;
            for i in 0..n {
                if self.kinds[i].is_some() || self.blank(i) || !self.is_short(i) {
                    continue;
                }
                let trailing = last_prose_line.is_none_or(|p| i > p);
                if trailing || self.neighbour_is_junk(i, -1) || self.neighbour_is_junk(i, 1) {
                    self.kinds[i] = Some(BoilerplateKind::Label);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Spans: boilerplate lines trimmed; prose = maximal runs of the remaining lines.
    fn spans(&self, cleaned: &mut Cleaned) {
        let text = self.text;
        let mut block: Option<Range<usize>> = None;
        for (i, kind) in self.kinds.iter().enumerate() {
            let r = &self.span_of(i);
            let line = &text[r.clone()];
            match *kind {
                Some(kind) => {
                    if let Some(b) = block.take() {
                        cleaned.prose.push(b);
                    }
                    let start = r.start + (line.len() - line.trim_start().len());
                    let end = r.start + line.trim_end().len();
                    if start < end {
                        cleaned.boilerplate.push(Boilerplate {
                            range: start..end,
                            kind,
                        });
                    }
                }
                None => {
                    // The prose after a dateline starts a block of its own: one carried on
                    // from the blank lines above would take in the date between them.
                    if self.is_dateline_tail(i)
                        && let Some(b) = block.take()
                    {
                        cleaned.prose.push(b);
                    }
                    block = Some(match block {
                        Some(b) => b.start..r.end,
                        None => r.clone(),
                    });
                }
            }
        }
        if let Some(b) = block {
            cleaned.prose.push(b);
        }
    }
}

/// Byte ranges of the lines of `text`, without their line terminators (`\n` or `\r\n`).
fn lines(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices('\n') {
        let end = if text[..i].ends_with('\r') { i - 1 } else { i };
        out.push(start..end);
        start = i + 1;
    }
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

/// The date at the start of `line` and the byte length of its match.
pub(crate) fn leading_date(line: &str) -> Option<(NaiveDate, usize)> {
    let caps = LEADING_DATE.captures(line)?;
    let num = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let month_name = |name: &str| caps.name(name).and_then(|m| month_number(m.as_str()));
    let (y, m, d) = if let Some(y) = num("y1") {
        (y, month_name("m1")?, num("d1")?)
    } else if let Some(y) = num("y2") {
        (y, month_name("m2")?, num("d2")?)
    } else if let Some(y) = num("y3") {
        (y, num("n3")?, num("d3")?)
    } else {
        (num("y4")?, num("n4")?, num("d4")?)
    };
    let date = NaiveDate::from_ymd_opt(y as i32, m, d)?;
    Some((date, caps.get(0)?.end()))
}

fn month_number(name: &str) -> Option<u32> {
    let key = name.trim_end_matches('.').to_ascii_lowercase();
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    MONTHS
        .iter()
        .position(|m| key.starts_with(m))
        .map(|i| i as u32 + 1)
}

/// A source name after a dateline: a few capitalised words, no sentence punctuation.
fn looks_like_source(rest: &str) -> bool {
    let words: Vec<&str> = WORD.find_iter(rest).map(|m| m.as_str()).collect();
    !words.is_empty()
        && words.len() <= 6
        && !rest.trim_end().ends_with(['.', '!', '?', '"', '”'])
        && words
            .iter()
            .all(|w| w.chars().next().is_some_and(|c| !c.is_lowercase()) || w.len() <= 3)
}

/// A line short enough to be a label and not ending like a sentence.
fn is_label_like(line: &str) -> bool {
    let trimmed = line.trim();
    !trimmed.is_empty()
        && WORD.find_iter(trimmed).count() <= MAX_LABEL_WORDS
        && !trimmed.ends_with(['.', '!', '?', '"', '”', ':', ';', ','])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glued_dateline_gives_date_and_source() {
        let text = "May 30, 2025Clash Report\nPutin spoke in Moscow on Friday about trade.";
        let c = clean(text);
        assert_eq!(c.published, NaiveDate::from_ymd_opt(2025, 5, 30));
        assert_eq!(c.source.as_deref(), Some("Clash Report"));
        assert_eq!(c.boilerplate[0].kind, BoilerplateKind::Dateline);
        assert_eq!(
            &text[c.boilerplate[0].range.clone()],
            "May 30, 2025Clash Report"
        );
        assert_eq!(
            &text[c.prose[0].clone()],
            "Putin spoke in Moscow on Friday about trade."
        );
    }

    #[test]
    fn common_date_forms() {
        let d = |s: &str| leading_date(s).map(|(d, _)| d.to_string());
        assert_eq!(d("May 30, 2025").as_deref(), Some("2025-05-30"));
        assert_eq!(d("30 May 2025").as_deref(), Some("2025-05-30"));
        assert_eq!(d("Sept. 3, 2024").as_deref(), Some("2024-09-03"));
        assert_eq!(d("Tuesday, March 4th, 2025").as_deref(), Some("2025-03-04"));
        assert_eq!(d("2025-05-30").as_deref(), Some("2025-05-30"));
        assert_eq!(d("12/31/2024").as_deref(), Some("2024-12-31"));
        assert_eq!(d("February 30, 2025"), None);
        assert_eq!(d("The May 30 talks"), None);
    }

    #[test]
    fn short_dateline_tail_is_one_label_not_the_whole_line() {
        // Found by the property tests: the tail was labelled over the whole line, overlapping
        // the dateline's own span.
        let text = "\nMay 30, 2025aminister";
        let c = clean(text);
        let spans: Vec<_> = c
            .boilerplate
            .iter()
            .map(|b| (b.range.clone(), b.kind))
            .collect();
        assert_eq!(
            spans,
            [
                (1..13, BoilerplateKind::Dateline),
                (13..22, BoilerplateKind::Label)
            ]
        );
        assert!(c.prose.iter().all(|p| text[p.clone()].trim().is_empty()));
    }

    #[test]
    fn dateline_followed_by_prose_keeps_the_prose() {
        let text = "March 4, 2025 — Officials in Oslo said the talks had stalled.";
        let c = clean(text);
        assert_eq!(c.published, NaiveDate::from_ymd_opt(2025, 3, 4));
        assert_eq!(c.source, None);
        assert_eq!(&text[c.boilerplate[0].range.clone()], "March 4, 2025");
        assert_eq!(
            &text[c.prose[0].clone()],
            "Officials in Oslo said the talks had stalled."
        );
    }

    #[test]
    fn trailing_labels_and_dates_are_boilerplate() {
        let text = "The ministers met in Oslo on Monday to discuss fisheries.\r\nArctic\r\nMay 2025\r\nFocus\r\nRead more »\r\n";
        let c = clean(text);
        let got: Vec<(&str, BoilerplateKind)> = c
            .boilerplate
            .iter()
            .map(|b| (&text[b.range.clone()], b.kind))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Arctic", BoilerplateKind::Label),
                ("May 2025", BoilerplateKind::Date),
                ("Focus", BoilerplateKind::Label),
                ("Read more »", BoilerplateKind::Navigation),
            ]
        );
        assert_eq!(c.prose.len(), 1);
    }

    #[test]
    fn a_short_line_inside_prose_is_kept() {
        let text = "Talks resumed on Monday.\nNo deal\nNegotiators will meet again in June, officials said.";
        let c = clean(text);
        assert!(c.boilerplate.is_empty(), "{:?}", c.boilerplate);
        assert_eq!(c.prose, vec![0..text.len()]);
    }

    #[test]
    fn no_text_no_panic() {
        for t in ["", "\n\n", " ", "\r\n", "May 2025"] {
            let c = clean(t);
            assert!(c.prose.iter().all(|r| r.end <= t.len()));
        }
    }
}
