//! spaCy's rule-based tokenizer (`spacy/tokenizer.pyx`), driven by the model's
//! `tokenizer` file: whitespace splitting, prefix/suffix/infix regexes, URL matching,
//! special cases (tokenizer exceptions) and the special-case re-matching pass that spaCy
//! runs after affix splitting.
//!
//! All offsets are byte offsets into the input text.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Context, Result, bail, err};
use rmpv::Value;

use crate::entities::spacy_sm::affix::{PrefilteredRegex, PrefixMatcher, SuffixMatcher};
use crate::entities::spacy_sm::hash::string_id;
use crate::entities::spacy_sm::pyunicode::is_space;

/// One token: a byte range of the text plus, for special-case tokens, the NORM id the
/// exception assigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub norm: Option<u64>,
}

/// A token the text spells as it is (no NORM of its own).
fn plain(start: usize, end: usize) -> Token {
    Token {
        start,
        end,
        norm: None,
    }
}

/// ORTH and optional NORM of one piece of a tokenizer exception, as read from the model.
type RulePiece = (String, Option<String>);

#[derive(Debug, Clone)]
struct SpecialPiece {
    len: usize,
    norm: Option<u64>,
}

#[derive(Debug, Clone)]
struct MatcherPattern {
    /// ORTH strings of the affix-only tokenisation of the special-case string.
    orths: Vec<String>,
}

/// The tokenizer. Immutable after loading.
#[derive(Debug)]
pub struct Tokenizer {
    prefix: Option<PrefixMatcher>,
    suffix: Option<SuffixMatcher>,
    infix: Option<PrefilteredRegex>,
    url: Option<PrefilteredRegex>,
    specials: HashMap<String, Vec<SpecialPiece>>,
    /// Special-case patterns re-matched over the token sequence, keyed by first ORTH.
    matcher: HashMap<String, Vec<MatcherPattern>>,
    /// Longest special-case key in bytes: longer strings skip the hash lookup, which
    /// keeps affix splitting of huge punctuation runs linear instead of quadratic.
    max_special_len: usize,
}

/// Rewrites a Python `re` pattern source so that fancy-regex (regex-syntax) accepts it
/// with the same meaning: `\uXXXX` / `\UXXXXXXXX` escapes become `\x{..}`, and the
/// `(?u)` flag (the default in both engines) is dropped.
fn python_regex_to_rust(src: &str) -> String {
    let src = src.replace("(?u)", "");
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            let width = match n {
                'u' => 4,
                'U' => 8,
                _ => 0,
            };
            if width > 0 && i + 2 + width <= chars.len() {
                let hex: String = chars[i + 2..i + 2 + width].iter().collect();
                if let Ok(cp) = u32::from_str_radix(&hex, 16) {
                    out.push_str(&format!("\\x{{{cp:X}}}"));
                    i += 2 + width;
                    continue;
                }
            }
            out.push(c);
            out.push(n);
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn pattern_source(v: Option<&Value>, what: &str) -> Result<Option<String>> {
    match v {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.as_str().ok_or_else(|| err!("{what}: invalid UTF-8"))?;
            Ok(if s.is_empty() {
                None
            } else {
                Some(python_regex_to_rust(s))
            })
        }
        Some(other) => bail!("{what}: expected a string, got {other:?}"),
    }
}

fn map_get<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

/// The model's tokenizer exceptions (special cases), sorted by key.
fn read_exceptions(map: &[(Value, Value)]) -> Result<Vec<(String, Vec<RulePiece>)>> {
    let mut rules: Vec<(String, Vec<RulePiece>)> = Vec::new();
    if let Some(Value::Map(exc)) = map_get(map, "exceptions") {
        for (k, v) in exc {
            let key = k
                .as_str()
                .ok_or_else(|| err!("exception key not a string"))?
                .to_string();
            let pieces = v
                .as_array()
                .ok_or_else(|| err!("exception {key:?}: not an array"))?;
            let toks = pieces
                .iter()
                .map(|p| read_piece(&key, p))
                .collect::<Result<Vec<_>>>()?;
            let joined: String = toks.iter().map(|(o, _)| o.as_str()).collect();
            if joined != key {
                bail!("exception {key:?}: pieces do not spell the key");
            }
            rules.push((key, toks));
        }
    }
    rules.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(rules)
}

/// One piece of exception `key`: its attributes by id (as spaCy writes them) or by name.
fn read_piece(key: &str, piece: &Value) -> Result<RulePiece> {
    let pm = piece
        .as_map()
        .ok_or_else(|| err!("exception {key:?}: piece not a map"))?;
    let mut orth = None;
    let mut norm = None;
    for (ak, av) in pm {
        let id = ak.as_u64().or_else(|| match ak.as_str() {
            Some("ORTH") => Some(65),
            Some("NORM") => Some(67),
            _ => None,
        });
        match id {
            Some(65) => orth = av.as_str().map(str::to_string),
            Some(67) => norm = av.as_str().map(str::to_string),
            _ => bail!("exception {key:?}: unsupported attribute {ak:?}"),
        }
    }
    let orth = orth.ok_or_else(|| err!("exception {key:?}: piece without ORTH"))?;
    Ok((orth, norm))
}

fn special_pieces(toks: &[RulePiece]) -> Vec<SpecialPiece> {
    toks.iter()
        .map(|(o, n)| SpecialPiece {
            len: o.len(),
            norm: n.as_deref().map(string_id),
        })
        .collect()
}

impl Tokenizer {
    /// Loads the `tokenizer` msgpack file of a spaCy model directory.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let value =
            rmpv::decode::read_value(&mut &bytes[..]).context("decoding tokenizer msgpack")?;
        let map = value
            .as_map()
            .ok_or_else(|| err!("tokenizer: expected a map"))?;
        let mut tok = Self::with_affixes(map)?;
        if let Some(v) = map_get(map, "token_match")
            && !v.is_nil()
            && v.as_str() != Some("")
        {
            bail!("tokenizer: token_match is not supported");
        }
        let faster_heuristics = map_get(map, "faster_heuristics")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let rules = read_exceptions(map)?;
        tok.max_special_len = rules.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        tok.specials = rules
            .iter()
            .map(|(key, toks)| (key.clone(), special_pieces(toks)))
            .collect();
        tok.matcher = tok.special_matcher(&rules, faster_heuristics);
        Ok(tok)
    }

    /// A tokenizer with the model's affix and URL patterns and no special cases yet.
    fn with_affixes(map: &[(Value, Value)]) -> Result<Self> {
        let src = |k: &str| pattern_source(map_get(map, k), k);
        let prefix = src("prefix_search")?
            .map(|p| PrefixMatcher::new(&p))
            .transpose()
            .context("prefix_search")?;
        let suffix = src("suffix_search")?
            .map(|p| SuffixMatcher::new(&p))
            .transpose()
            .context("suffix_search")?;
        let infix = src("infix_finditer")?
            .map(|p| PrefilteredRegex::new(&p))
            .transpose()
            .context("infix_finditer")?;
        let url = src("url_match")?
            .map(|p| PrefilteredRegex::new(&p))
            .transpose()
            .context("url_match")?;
        Ok(Tokenizer {
            prefix,
            suffix,
            infix,
            url,
            specials: HashMap::new(),
            matcher: HashMap::new(),
            max_special_len: 0,
        })
    }

    /// Special cases that affix splitting could break up are re-matched over the token
    /// sequence afterwards (spaCy's `_special_matcher`): their patterns, by first ORTH.
    fn special_matcher(
        &self,
        rules: &[(String, Vec<RulePiece>)],
        faster_heuristics: bool,
    ) -> HashMap<String, Vec<MatcherPattern>> {
        let mut matcher: HashMap<String, Vec<MatcherPattern>> = HashMap::new();
        for (key, _) in rules {
            let needs = !faster_heuristics
                || self.find_prefix(key) != 0
                || self.has_infix(key)
                || self.find_suffix(key) != 0
                || key.contains(' ');
            if !needs {
                continue;
            }
            let mut toks = Vec::new();
            self.tokenize_affixes(key, false, &mut toks);
            if toks.is_empty() {
                continue;
            }
            let orths: Vec<String> = toks
                .iter()
                .map(|t| key[t.start..t.end].to_string())
                .collect();
            matcher
                .entry(orths[0].clone())
                .or_default()
                .push(MatcherPattern { orths });
        }
        matcher
    }

    fn find_prefix(&self, s: &str) -> usize {
        self.prefix.as_ref().map_or(0, |p| p.find(s))
    }

    fn find_suffix(&self, s: &str) -> usize {
        self.suffix.as_ref().map_or(0, |p| p.find(s))
    }

    fn has_infix(&self, s: &str) -> bool {
        self.infix.as_ref().is_some_and(|p| p.is_match(s))
    }

    /// Python's `url_match` is `re.match`: anchored at the start.
    fn url_match(&self, s: &str) -> bool {
        self.url.as_ref().is_some_and(|p| p.matches_at_start(s))
    }

    /// Tokenises `text`, returning spaCy's tokens (whitespace tokens included).
    pub fn tokenize(&self, text: &str) -> Vec<Token> {
        let mut toks = Vec::with_capacity(text.len() / 4 + 1);
        self.tokenize_affixes(text, true, &mut toks);
        if !self.matcher.is_empty() {
            self.apply_special_cases(text, &mut toks);
        }
        toks
    }

    /// spaCy's `_tokenize_affixes`: whitespace splitting, then per-chunk affix rules.
    fn tokenize_affixes(&self, text: &str, with_special: bool, out: &mut Vec<Token>) {
        let Some(first) = text.chars().next() else {
            return;
        };
        let mut in_ws = is_space(first);
        let mut start = 0usize;
        for (i, c) in text.char_indices() {
            if is_space(c) != in_ws {
                if start < i {
                    self.tokenize_chunk(text, start, i, with_special, out);
                }
                if c == ' ' {
                    start = i + 1;
                } else {
                    start = i;
                }
                in_ws = !in_ws;
            }
        }
        if start < text.len() {
            self.tokenize_chunk(text, start, text.len(), with_special, out);
        }
    }

    fn push_special(&self, start: usize, pieces: &[SpecialPiece], out: &mut Vec<Token>) {
        let mut pos = start;
        for p in pieces {
            out.push(Token {
                start: pos,
                end: pos + p.len,
                norm: p.norm,
            });
            pos += p.len;
        }
    }

    fn is_special(&self, s: &str, with_special: bool) -> bool {
        with_special && s.len() <= self.max_special_len && self.specials.contains_key(s)
    }

    /// `_tokenize` for one whitespace-delimited chunk `text[a..b]`.
    fn tokenize_chunk(
        &self,
        text: &str,
        a0: usize,
        b0: usize,
        with_special: bool,
        out: &mut Vec<Token>,
    ) {
        let chunk = &text[a0..b0];
        if with_special && let Some(p) = self.specials.get(chunk) {
            self.push_special(a0, p, out);
            return;
        }
        let mut prefixes: Vec<(usize, usize)> = Vec::new();
        let mut suffixes: Vec<(usize, usize)> = Vec::new();
        let (a, b) = self.split_affixes(text, a0, b0, with_special, &mut prefixes, &mut suffixes);
        // _attach_tokens
        for &(s, e) in &prefixes {
            out.push(plain(s, e));
        }
        if a < b {
            self.attach_core(text, a, b, with_special, out);
        }
        for &(s, e) in suffixes.iter().rev() {
            out.push(plain(s, e));
        }
    }

    /// spaCy's `_split_affixes` on `text[a..b]`: strips prefixes and suffixes (collected in
    /// the order found) until what is left does not change or is a special case, and returns
    /// what is left.
    fn split_affixes(
        &self,
        text: &str,
        mut a: usize,
        mut b: usize,
        with_special: bool,
        prefixes: &mut Vec<(usize, usize)>,
        suffixes: &mut Vec<(usize, usize)>,
    ) -> (usize, usize) {
        let mut last_size = usize::MAX;
        while a < b && b - a != last_size {
            let cur = &text[a..b];
            if self.is_special(cur, with_special) {
                break;
            }
            last_size = b - a;
            let pre_len = self.find_prefix(cur);
            if pre_len != 0 {
                let minus_pre = &cur[pre_len..];
                if !minus_pre.is_empty() && self.is_special(minus_pre, with_special) {
                    prefixes.push((a, a + pre_len));
                    a += pre_len;
                    break;
                }
            }
            let suf_len = self.find_suffix(&cur[pre_len..]);
            if suf_len != 0 {
                let minus_suf = &cur[..cur.len() - suf_len];
                if !minus_suf.is_empty() && self.is_special(minus_suf, with_special) {
                    suffixes.push((b - suf_len, b));
                    b -= suf_len;
                    break;
                }
            }
            if pre_len != 0 && suf_len != 0 && pre_len + suf_len <= cur.len() {
                prefixes.push((a, a + pre_len));
                suffixes.push((b - suf_len, b));
                a += pre_len;
                b -= suf_len;
            } else if pre_len != 0 {
                prefixes.push((a, a + pre_len));
                a += pre_len;
            } else if suf_len != 0 {
                suffixes.push((b - suf_len, b));
                b -= suf_len;
            }
        }
        (a, b)
    }

    /// The tokens of a chunk's core `text[a..b]`, left once its affixes are off: a special
    /// case, a URL, or the pieces between and at its infixes.
    fn attach_core(
        &self,
        text: &str,
        a: usize,
        b: usize,
        with_special: bool,
        out: &mut Vec<Token>,
    ) {
        let core = &text[a..b];
        if let Some(p) = self.specials.get(core).filter(|_| with_special) {
            self.push_special(a, p, out);
        } else if self.url_match(core) {
            out.push(plain(a, b));
        } else {
            let mut start = 0usize;
            if let Some(re) = &self.infix {
                for (is, ie) in re.find_iter(core) {
                    // spaCy ignores an infix at the very start of the core.
                    if is == 0 {
                        continue;
                    }
                    if is != start {
                        out.push(plain(a + start, a + is));
                    }
                    if is != ie {
                        out.push(plain(a + is, a + ie));
                    }
                    start = ie;
                }
            }
            if start < core.len() {
                out.push(plain(a + start, b));
            }
        }
    }

    /// spaCy's `_apply_special_cases`: find token sequences spelling a special case that
    /// affix splitting broke up, and replace them with the special-case tokens.
    fn apply_special_cases(&self, text: &str, toks: &mut Vec<Token>) {
        // All matches (start, end) in token indices.
        let mut matches: Vec<(usize, usize)> = Vec::new();
        for i in 0..toks.len() {
            let first = &text[toks[i].start..toks[i].end];
            let Some(pats) = self.matcher.get(first) else {
                continue;
            };
            for p in pats {
                let n = p.orths.len();
                if i + n > toks.len() {
                    continue;
                }
                if p.orths
                    .iter()
                    .enumerate()
                    .all(|(j, o)| &text[toks[i + j].start..toks[i + j].end] == o)
                {
                    matches.push((i, i + n));
                }
            }
        }
        if matches.is_empty() {
            return;
        }
        // Longest first, then leftmost; keep spans whose first and last tokens are unseen.
        matches.sort_by(|x, y| (y.1 - y.0).cmp(&(x.1 - x.0)).then(x.0.cmp(&y.0)));
        matches.dedup();
        let mut seen = vec![false; toks.len()];
        let mut kept: Vec<(usize, usize)> = Vec::new();
        for &(s, e) in &matches {
            if !seen[s] && !seen[e - 1] {
                kept.push((s, e));
            }
            for flag in &mut seen[s..e] {
                *flag = true;
            }
        }
        kept.sort_by_key(|x| x.0);
        let mut out = Vec::with_capacity(toks.len());
        let mut i = 0;
        let mut k = 0;
        while i < toks.len() {
            // A kept span may start inside one already replaced (only its first and last
            // tokens are checked for overlap); spaCy skips it too.
            while k < kept.len() && kept[k].0 < i {
                k += 1;
            }
            if k < kept.len() && kept[k].0 == i {
                let (s, e) = kept[k];
                k += 1;
                let span_text = &text[toks[s].start..toks[e - 1].end];
                if let Some(p) = self.specials.get(span_text) {
                    self.push_special(toks[s].start, p, &mut out);
                } else {
                    out.extend_from_slice(&toks[s..e]);
                }
                i = e;
            } else {
                out.push(toks[i]);
                i += 1;
            }
        }
        *toks = out;
    }
}

#[cfg(test)]
mod tests {
    use super::python_regex_to_rust;

    #[test]
    fn converts_python_escapes() {
        assert_eq!(
            python_regex_to_rust(r"[\u00A6\U0001F000-\U0001F02B]"),
            r"[\x{A6}\x{1F000}-\x{1F02B}]"
        );
        assert_eq!(python_regex_to_rust(r"(?u)^\w\\u"), r"^\w\\u");
    }
}
