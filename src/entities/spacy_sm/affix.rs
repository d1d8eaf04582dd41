//! Fast evaluation of spaCy's prefix/suffix/infix/URL patterns.
//!
//! The patterns are large alternations in which a few branches use look-around, which
//! forces fancy-regex's backtracking VM for the whole pattern. Because every prefix
//! branch is anchored with `^` and every suffix branch with `$`, the alternation can be
//! split into runs of plain branches (compiled with the `regex` crate's automata) and
//! look-around branches (fancy-regex) without changing which match Python's `re` finds:
//! - prefix: all matches start at 0, so the first run (in branch order) that matches
//!   holds Python's first matching branch;
//! - suffix: all matches end at the end, so Python's (leftmost) match is the one with the
//!   smallest start over all runs.
//!
//! For infix and URL patterns a look-around-free superset pattern serves as a prefilter.

use crate::error::{Context, Result};

/// Splits a regex source at top-level `|` (outside groups and character classes).
pub fn split_alternatives(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut in_class = false;
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                cur.push(c);
                // A ']' right after '[' or '[^' is a literal.
                if chars.peek() == Some(&'^') {
                    cur.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    cur.push(chars.next().unwrap_or(']'));
                }
                continue;
            }
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => depth -= 1,
            '|' if !in_class && depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

const LOOKAROUNDS: [&str; 4] = ["(?=", "(?!", "(?<=", "(?<!"];

/// Whether a branch uses look-around.
pub fn has_lookaround(src: &str) -> bool {
    LOOKAROUNDS.iter().any(|l| src.contains(l))
}

/// Removes look-around groups, giving a pattern that matches a superset of the strings
/// the original matches (at the same or more positions).
pub fn strip_lookarounds(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            if i + 1 < chars.len() {
                out.push(chars[i + 1]);
            }
            i += 2;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            out.push(c);
            i += 1;
            continue;
        }
        if c == '[' {
            in_class = true;
            out.push(c);
            i += 1;
            if i < chars.len() && chars[i] == '^' {
                out.push('^');
                i += 1;
            }
            if i < chars.len() && chars[i] == ']' {
                out.push(']');
                i += 1;
            }
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 4)].iter().collect();
        if c == '(' && LOOKAROUNDS.iter().any(|l| rest.starts_with(l)) {
            // Skip to the matching ')'.
            let mut depth = 0;
            let mut cls = false;
            while i < chars.len() {
                let d = chars[i];
                if d == '\\' {
                    i += 2;
                    continue;
                }
                if cls {
                    if d == ']' {
                        cls = false;
                    }
                } else if d == '[' {
                    cls = true;
                    if i + 1 < chars.len() && chars[i + 1] == ']' {
                        i += 1;
                    }
                } else if d == '(' {
                    depth += 1;
                } else if d == ')' {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[derive(Debug)]
enum Run {
    Plain(regex::Regex),
    Fancy(fancy_regex::Regex),
}

impl Run {
    fn find_at(&self, s: &str, pos: usize) -> Option<(usize, usize)> {
        match self {
            Run::Plain(re) => re.find_at(s, pos).map(|m| (m.start(), m.end())),
            Run::Fancy(re) => re
                .find_from_pos(s, pos)
                .ok()
                .flatten()
                .map(|m| (m.start(), m.end())),
        }
    }
}

fn runs(branches: &[String]) -> Result<Vec<Run>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < branches.len() {
        let fancy = has_lookaround(&branches[i]);
        let mut j = i;
        while j < branches.len() && has_lookaround(&branches[j]) == fancy {
            j += 1;
        }
        let joined = branches[i..j]
            .iter()
            .map(|b| format!("(?:{b})"))
            .collect::<Vec<_>>()
            .join("|");
        out.push(if fancy {
            Run::Fancy(fancy_regex::Regex::new(&joined).context("compiling look-around branches")?)
        } else {
            Run::Plain(regex::Regex::new(&joined).context("compiling plain branches")?)
        });
        i = j;
    }
    Ok(out)
}

/// A `^`-anchored alternation (spaCy's `prefix_search`).
#[derive(Debug)]
pub struct PrefixMatcher {
    runs: Vec<Run>,
}

impl PrefixMatcher {
    pub fn new(src: &str) -> Result<Self> {
        Ok(PrefixMatcher {
            runs: runs(&split_alternatives(src))?,
        })
    }

    /// Length in bytes of the prefix match, 0 if none.
    pub fn find(&self, s: &str) -> usize {
        for r in &self.runs {
            if let Some((a, b)) = r.find_at(s, 0) {
                return b - a;
            }
        }
        0
    }
}

/// A `$`-anchored alternation (spaCy's `suffix_search`).
#[derive(Debug)]
pub struct SuffixMatcher {
    plain: Vec<Run>,
    fancy: Vec<Run>,
}

/// Look-around suffix branches match at most this many characters (units, currency
/// signs, a period), so their search can start this far from the end.
const FANCY_SUFFIX_CHARS: usize = 16;

impl SuffixMatcher {
    pub fn new(src: &str) -> Result<Self> {
        let (plain, fancy): (Vec<Run>, Vec<Run>) = runs(&split_alternatives(src))?
            .into_iter()
            .partition(|r| matches!(r, Run::Plain(_)));
        Ok(SuffixMatcher { plain, fancy })
    }

    /// Length in bytes of the suffix match, 0 if none.
    pub fn find(&self, s: &str) -> usize {
        let mut best: Option<(usize, usize)> = None;
        let mut consider = |m: Option<(usize, usize)>| {
            if let Some(m) = m
                && best.is_none_or(|b| m.0 < b.0)
            {
                best = Some(m);
            }
        };
        for r in &self.plain {
            consider(r.find_at(s, 0));
        }
        let tail = s
            .char_indices()
            .rev()
            .nth(FANCY_SUFFIX_CHARS - 1)
            .map_or(0, |(i, _)| i);
        for r in &self.fancy {
            consider(r.find_at(s, tail));
        }
        best.map_or(0, |(a, b)| b - a)
    }
}

/// A pattern used with `finditer` / `match`, with a look-around-free prefilter.
#[derive(Debug)]
pub struct PrefilteredRegex {
    prefilter: Option<regex::Regex>,
    re: fancy_regex::Regex,
}

impl PrefilteredRegex {
    pub fn new(src: &str) -> Result<Self> {
        let re = fancy_regex::Regex::new(src).context("compiling pattern")?;
        // A prefilter that fails to compile is simply not used.
        let prefilter = regex::Regex::new(&strip_lookarounds(src)).ok();
        Ok(PrefilteredRegex { prefilter, re })
    }

    fn may_match(&self, s: &str) -> bool {
        self.prefilter.as_ref().is_none_or(|p| p.is_match(s))
    }

    /// All non-overlapping matches (Python `finditer`), as byte ranges.
    pub fn find_iter(&self, s: &str) -> Vec<(usize, usize)> {
        if !self.may_match(s) {
            return Vec::new();
        }
        self.re
            .find_iter(s)
            .map_while(|m| m.ok())
            .map(|m| (m.start(), m.end()))
            .collect()
    }

    /// Whether the pattern matches at the start (Python `re.match`).
    pub fn matches_at_start(&self, s: &str) -> bool {
        self.may_match(s) && matches!(self.re.find(s), Ok(Some(m)) if m.start() == 0)
    }

    /// Whether the pattern matches anywhere (Python `re.search`).
    pub fn is_match(&self, s: &str) -> bool {
        self.may_match(s) && matches!(self.re.find(s), Ok(Some(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_top_level() {
        assert_eq!(
            split_alternatives(r"^a|^[|\]]|^(b|c)\|"),
            vec!["^a", r"^[|\]]", r"^(b|c)\|"]
        );
        assert_eq!(
            strip_lookarounds(r"(?<=[0-9])[+\-](?=[0-9-])|x(?!y)"),
            r"[+\-]|x"
        );
    }

    #[test]
    fn prefix_and_suffix_semantics() {
        let p = PrefixMatcher::new(r"^…|^……|^\+(?![0-9])|^\.\.+").unwrap();
        assert_eq!(p.find("……x"), "…".len());
        assert_eq!(p.find("+1"), 0);
        assert_eq!(p.find("+a"), 1);
        assert_eq!(p.find("...a"), 3);
        let s = SuffixMatcher::new(r"\.$|\.\.+$|(?<=[0-9])km$").unwrap();
        assert_eq!(s.find("a..."), 3);
        assert_eq!(s.find("10km"), 2);
        assert_eq!(s.find("akm"), 0);
    }
}
