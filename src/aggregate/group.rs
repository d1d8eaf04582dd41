//! From mentions to document entities: one entry per person, place or organisation, named by
//! its fullest form, with every span, a salience score and where it first appears.
//!
//! Salience (deterministic, in [0, 1]) for an entity whose mentions weigh `w` in all (1 each,
//! [`OBLIQUE_WEIGHT`] for one governed by a scene-setting preposition such as "in Moscow"),
//! the first in sentence `s0` (the title counts as before sentence 0), appearing in `d` of the
//! article's `n` sentences, when the heaviest entity of the article weighs `w_max`:
//!
//! ```text
//! salience = 0.45 · w / w_max  +  0.30 · 1 / (1 + s0 / 3)  +  0.25 · d / n
//! ```
//!
//! Repetition dominates; a lead (or title) position and a spread through the article add to
//! it. A city inside a country that is itself an entity of the article has its salience
//! multiplied by [`CITY_IN_NAMED_COUNTRY`] (but not below the suggestion floor,
//! [`MIN_ENTITY_SALIENCE`], if it was above it): the country already carries the story's
//! geography, the city adds where things happened.

use std::collections::BTreeSet;

use super::mentions::{is_oblique, speaks_for_government};
use super::names::normalize_name;
use super::tags::MIN_ENTITY_SALIENCE;
use crate::document::{Category, DocEntity, Mention};
use crate::places::{Gazetteer, PlaceKind};

/// Weight of a mention that only sets the scene ("in Moscow", "visit to Beijing") against 1
/// for one that acts or owns ("Moscow said", "Beijing’s presence"): entity-salience studies
/// find the grammatical role of mentions second only to their number and position, and the
/// scene of a story is rarely what an editor tags first.
pub const OBLIQUE_WEIGHT: f32 = 0.5;

/// Salience factor of a city whose country is also named in the article: "Moscow" in a story
/// about Russia is where the talks were; the actors are Russia, its leaders, its partners.
pub const CITY_IN_NAMED_COUNTRY: f32 = 0.5;

/// Groups mentions (of the categories worth listing) into document entities, ordered by
/// salience, then first appearance.
pub fn group_mentions(
    text: &str,
    mentions: &[Mention],
    n_sentences: usize,
    title_names: &[String],
) -> Vec<DocEntity> {
    let listed = |c: Category| {
        matches!(
            c,
            Category::Person
                | Category::Place
                | Category::Organization
                | Category::Group
                | Category::Event
                | Category::Work
                | Category::Other
        )
    };
    // (normalised name, mention index), in text order.
    let named: Vec<(String, usize)> = mentions
        .iter()
        .enumerate()
        .filter(|(_, m)| listed(m.category))
        .map(|(i, m)| (normalize_name(&text[m.start..m.end], m.category), i))
        .filter(|(n, _)| n.chars().any(char::is_alphanumeric))
        .collect();

    let mut groups: Vec<DocEntity> = Vec::new();
    // Longer names first, so "Vladimir Putin" founds the group that "Putin" then joins.
    let mut order: Vec<usize> = (0..named.len()).collect();
    order.sort_by_key(|&k| {
        (
            std::cmp::Reverse(named[k].0.split_whitespace().count()),
            named[k].1,
        )
    });
    // The groups a name could join, found by key rather than by trying every group: an
    // article listing thousands of names would otherwise cost mentions x groups.
    let mut index = GroupIndex::default();
    for k in order {
        let (name, mi) = &named[k];
        let m = &mentions[*mi];
        let mut target = index.candidates(name, m.category);
        target.retain(|&i| same_entity(&groups[i].name, name, m.category));
        // A short name that fits two different people ("Smith") joins neither.
        let gi = if target.len() == 1 {
            target[0]
        } else {
            index.add(groups.len(), name, m.category);
            groups.push(DocEntity {
                name: name.clone(),
                category: m.category,
                mentions: 0,
                salience: 0.0,
                aliases: Vec::new(),
                byte_spans: Vec::new(),
                first_sentence: None,
                mention_ids: Vec::new(),
                place: None,
                credited: Vec::new(),
            });
            groups.len() - 1
        };
        let g = &mut groups[gi];
        g.mentions += 1;
        g.mention_ids.push(*mi);
        if *name != g.name && !g.aliases.contains(name) {
            g.aliases.push(name.clone());
        }
    }

    score(text, mentions, &mut groups, n_sentences, title_names);
    groups
}

/// The keys under which a group's name can be matched by [`same_entity`]: its whole name
/// (ASCII case folded); for a person, each shorter tail of its tokens ("Putin" in "Vladimir
/// Putin") and its first token ("Xi" in "Xi Jinping"); otherwise its acronym ("NATO").
/// Candidates are checked with `same_entity` itself, so the index only narrows the search.
#[derive(Default)]
struct GroupIndex(std::collections::HashMap<(Category, Key), Vec<usize>>);

#[derive(PartialEq, Eq, Hash)]
enum Key {
    Whole(String),
    Tail(String),
    First(String),
    Acronym(String),
}

impl GroupIndex {
    fn add(&mut self, group: usize, name: &str, category: Category) {
        let tokens: Vec<&str> = name.split_whitespace().collect();
        let mut keys = vec![Key::Whole(name.to_ascii_lowercase())];
        if category == Category::Person {
            keys.extend((1..tokens.len()).map(|i| Key::Tail(tokens[i..].join(" "))));
            keys.extend(tokens.first().map(|t| Key::First(t.to_string())));
        } else {
            keys.push(Key::Acronym(acronym(&tokens).to_ascii_lowercase()));
        }
        for key in keys {
            let groups = self.0.entry((category, key)).or_default();
            if groups.last() != Some(&group) {
                groups.push(group);
            }
        }
    }

    /// Groups of `category` that `name` may belong to, in the order they were made.
    fn candidates(&self, name: &str, category: Category) -> Vec<usize> {
        let tokens: Vec<&str> = name.split_whitespace().collect();
        let mut keys = vec![
            Key::Whole(name.to_ascii_lowercase()),
            Key::Tail(tokens.join(" ")),
        ];
        if let [only] = tokens[..] {
            keys.push(Key::First(only.to_string()));
            keys.push(Key::Acronym(only.to_ascii_lowercase()));
        }
        let mut found: Vec<usize> = keys
            .into_iter()
            .filter_map(|key| self.0.get(&(category, key)))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Fills in spans, first sentence and salience from each group's mentions, and sorts the
/// groups by salience, then first appearance. Run again after mentions move between groups.
pub fn score(
    text: &str,
    mentions: &[Mention],
    groups: &mut [DocEntity],
    n_sentences: usize,
    title_names: &[String],
) {
    let weight = |i: usize| {
        let m = &mentions[i];
        if is_oblique(text, (m.start, m.end)) {
            OBLIQUE_WEIGHT
        } else {
            1.0
        }
    };
    let weights: Vec<f32> = groups
        .iter()
        .map(|g| g.mention_ids.iter().map(|&i| weight(i)).sum())
        .collect();
    let w_max = weights.iter().copied().fold(0.0f32, f32::max).max(1.0);
    let countries: BTreeSet<&str> = groups
        .iter()
        .filter_map(|g| g.place.as_ref())
        .filter(|p| p.kind == PlaceKind::Country)
        .map(|p| p.country_code.as_str())
        .collect();
    let inside_named_country: Vec<bool> = groups
        .iter()
        .map(|g| {
            g.category == Category::Place
                && g.place.as_ref().is_some_and(|p| {
                    p.kind == PlaceKind::City && countries.contains(p.country_code.as_str())
                })
        })
        .collect();
    for ((g, w), inside) in groups.iter_mut().zip(weights).zip(inside_named_country) {
        g.mentions = g.mention_ids.len();
        g.mention_ids.sort_unstable();
        g.mention_ids.dedup();
        g.byte_spans = g
            .mention_ids
            .iter()
            .map(|&i| (mentions[i].start, mentions[i].end))
            .collect();
        let sentences: BTreeSet<usize> = g
            .mention_ids
            .iter()
            .filter_map(|&i| mentions[i].sentence)
            .collect();
        g.first_sentence = sentences.first().copied();
        let in_title = title_names
            .iter()
            .any(|t| t == &g.name || g.aliases.contains(t));
        let position = if in_title {
            1.0
        } else {
            match g.first_sentence {
                Some(s0) => 1.0 / (1.0 + s0 as f32 / 3.0),
                None => 0.0,
            }
        };
        let spread = sentences.len() as f32 / n_sentences.max(1) as f32;
        let mut s = 0.45 * w / w_max + 0.30 * position + 0.25 * spread.min(1.0);
        if inside {
            // The factor orders the list; it does not decide what is suggested, so it stops
            // at the suggestion floor for a city that was above it.
            s = (s * CITY_IN_NAMED_COUNTRY).max(s.min(MIN_ENTITY_SALIENCE));
        }
        g.salience = (s.clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0;
        g.aliases.sort();
    }
    groups.sort_by(|a, b| {
        b.salience
            .total_cmp(&a.salience)
            .then(a.byte_spans.first().cmp(&b.byte_spans.first()))
    });
}

/// Moves the mentions of a capital that stand for its government ("Beijing’s presence",
/// "Moscow said": see [`speaks_for_government`]) to its country, when the article names the
/// country itself; the mentions that place something in the city ("in Moscow", "visit to
/// Beijing", "the Moscow metro") stay with the city, and a city left without mentions is
/// dropped. Only a country the article names is credited: a capital alone is too weak a sign
/// that the story is about the state rather than the city. Run [`score`] afterwards.
pub fn credit_capitals(
    gazetteer: &Gazetteer,
    text: &str,
    mentions: &[Mention],
    groups: &mut Vec<DocEntity>,
) {
    for ci in 0..groups.len() {
        let Some(country) = groups[ci]
            .place
            .as_ref()
            .filter(|_| groups[ci].category == Category::Place)
            .and_then(|p| gazetteer.capital_of(p))
        else {
            continue;
        };
        let Some(ki) = groups.iter().position(|g| {
            g.category == Category::Place
                && g.place.as_ref().is_some_and(|p| {
                    p.kind == PlaceKind::Country && p.country_code == country.country_code
                })
        }) else {
            continue;
        };
        let (government, city): (Vec<usize>, Vec<usize>) = groups[ci]
            .mention_ids
            .iter()
            .partition(|&&i| speaks_for_government(text, (mentions[i].start, mentions[i].end)));
        if government.is_empty() {
            continue;
        }
        let name = groups[ci].name.clone();
        groups[ci].mention_ids = city;
        let k = &mut groups[ki];
        k.mention_ids.extend(government);
        if !k.credited.contains(&name) {
            k.credited.push(name);
        }
    }
    groups.retain(|g| !g.mention_ids.is_empty());
}

/// Whether `short` names the entity already named `full`.
fn same_entity(full: &str, short: &str, category: Category) -> bool {
    if full.eq_ignore_ascii_case(short) {
        return true;
    }
    let f: Vec<&str> = full.split_whitespace().collect();
    let s: Vec<&str> = short.split_whitespace().collect();
    match category {
        // "Putin" is "Vladimir Putin"; "Xi" is "Xi Jinping" (Chinese names put the family
        // name first, so the first token counts too when it is the only one).
        Category::Person => {
            s.len() < f.len() && (f.ends_with(&s) || (s.len() == 1 && f.first() == s.first()))
        }
        // "NATO" is "North Atlantic Treaty Organization"; "the EU" is "European Union".
        _ => s.len() == 1 && s[0].len() >= 2 && acronym(&f).eq_ignore_ascii_case(s[0]),
    }
}

fn acronym(words: &[&str]) -> String {
    words
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .filter_map(|w| w.chars().next())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str, word: &str, nth: usize, label: &str, sentence: usize) -> Mention {
        let start = text.match_indices(word).nth(nth).unwrap().0;
        Mention {
            start,
            end: start + word.len(),
            label: label.into(),
            category: Category::of_label(label),
            sentence: Some(sentence),
            score: None,
        }
    }

    #[test]
    fn putin_mentions_are_one_person() {
        let text = "President Putin met Xi. Vladimir Putin said Putin's plan works. NATO and the North Atlantic Treaty Organization.";
        let mentions = vec![
            m(text, "President Putin", 0, "PERSON", 0),
            m(text, "Xi", 0, "PERSON", 0),
            m(text, "Vladimir Putin", 0, "PERSON", 1),
            m(text, "Putin's", 0, "PERSON", 1),
            m(text, "NATO", 0, "ORG", 2),
            m(text, "the North Atlantic Treaty Organization", 0, "ORG", 2),
        ];
        let groups = group_mentions(text, &mentions, 3, &[]);
        let putin = groups.iter().find(|g| g.name == "Vladimir Putin").unwrap();
        assert_eq!(putin.mentions, 3);
        assert_eq!(putin.aliases, vec!["Putin".to_string()]);
        assert_eq!(putin.first_sentence, Some(0));
        let nato = groups
            .iter()
            .find(|g| g.category == Category::Organization)
            .unwrap();
        assert_eq!(nato.name, "North Atlantic Treaty Organization");
        assert_eq!(nato.mentions, 2);
        assert_eq!(
            groups[0].name, "Vladimir Putin",
            "most mentioned, first: most salient"
        );
        assert!(groups.iter().all(|g| (0.0..=1.0).contains(&g.salience)));
    }

    #[test]
    fn a_title_mention_leads() {
        let text = "Talks began. Officials met. Later, Oslo hosted the envoys.";
        let mentions = vec![m(text, "Oslo", 0, "GPE", 2)];
        let plain = group_mentions(text, &mentions, 3, &[]);
        let titled = group_mentions(text, &mentions, 3, &["Oslo".to_string()]);
        assert!(titled[0].salience > plain[0].salience);
        // 0.45 * 1 + 0.30 * 1 + 0.25 * 1/3
        assert!(
            (titled[0].salience - 0.8333).abs() < 1e-4,
            "{}",
            titled[0].salience
        );
    }

    #[test]
    fn an_ambiguous_surname_joins_nobody() {
        let text = "John Smith and Mary Smith met. Smith spoke.";
        let mentions = vec![
            m(text, "John Smith", 0, "PERSON", 0),
            m(text, "Mary Smith", 0, "PERSON", 0),
            m(text, "Smith", 2, "PERSON", 1),
        ];
        let groups = group_mentions(text, &mentions, 2, &[]);
        assert_eq!(groups.len(), 3);
    }

    /// Groups, resolves places and credits capitals as [`crate::aggregate::Aggregator`] does.
    fn aggregate(text: &str, mentions: &[Mention], n: usize) -> Vec<DocEntity> {
        let g = crate::aggregate::mentions::tiny_gazetteer();
        let mut groups = group_mentions(text, mentions, n, &[]);
        crate::aggregate::resolve_places(&g, &mut groups);
        credit_capitals(&g, text, mentions, &mut groups);
        score(text, mentions, &mut groups, n, &[]);
        groups
    }

    #[test]
    fn a_capital_speaking_for_its_government_counts_for_the_country() {
        let text = "China warned Japan. Beijing’s envoy flew to Beijing. Beijing said no. \
                    The Beijing metro shut.";
        let mentions = vec![
            m(text, "China", 0, "GPE", 0),
            m(text, "Beijing’s", 0, "GPE", 1),
            m(text, "Beijing", 1, "GPE", 1),
            m(text, "Beijing", 2, "GPE", 2),
            m(text, "Beijing", 3, "GPE", 3),
        ];
        let groups = aggregate(text, &mentions, 4);
        let china = groups.iter().find(|g| g.name == "China").unwrap();
        let beijing = groups.iter().find(|g| g.name == "Beijing").unwrap();
        // The possessive and the subject are the government; "to Beijing" and "the Beijing
        // metro" are the city.
        assert_eq!(china.mentions, 3);
        assert_eq!(china.mention_ids, vec![0, 1, 3]);
        assert_eq!(china.credited, vec!["Beijing".to_string()]);
        assert_eq!(beijing.mention_ids, vec![2, 4]);
        // Spans stay those of the words in the text.
        for &(s, e) in &china.byte_spans[1..] {
            assert!(text[s..e].starts_with("Beijing"));
        }
    }

    #[test]
    fn a_capital_alone_credits_no_country() {
        // France is not named: "Paris said" stays the city's (see `credit_capitals`).
        let text = "Paris said it would send an observer.";
        let mentions = vec![m(text, "Paris", 0, "GPE", 0)];
        let groups = aggregate(text, &mentions, 1);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].name, "Paris");
        assert!(groups[0].credited.is_empty());
    }

    #[test]
    fn scene_setting_mentions_weigh_less() {
        // Same counts, same sentences: acting beats being the place where.
        let text = "Kenya and Chad met. Talks in Chad followed Kenya’s offer. Kenya wrote to Chad.";
        let mentions = vec![
            m(text, "Kenya", 0, "GPE", 0),
            m(text, "Chad", 0, "GPE", 0),
            m(text, "Chad", 1, "GPE", 1),
            m(text, "Kenya’s", 0, "GPE", 1),
            m(text, "Kenya", 2, "GPE", 2),
            m(text, "Chad", 2, "GPE", 2),
        ];
        let groups = group_mentions(text, &mentions, 3, &[]);
        assert_eq!(groups[0].name, "Kenya");
        assert_eq!(groups[1].name, "Chad");
        // 0.45 * (0.5 + 0.5 + 1) / 3 less: both in sentence 0, both in three sentences.
        let gap = groups[0].salience - groups[1].salience;
        assert!((gap - 0.45 * (1.0 - 2.0 / 3.0)).abs() < 1e-3, "{gap}");
    }

    #[test]
    fn a_city_in_a_named_country_weighs_less() {
        let text = "In Moscow, talks went on. Russia agreed. Moscow hotels filled. \
                    Moscow traffic stalled.";
        let mentions = vec![
            m(text, "Moscow", 0, "GPE", 0),
            m(text, "Russia", 0, "GPE", 1),
            m(text, "Moscow", 1, "GPE", 2),
            m(text, "Moscow", 2, "GPE", 3),
        ];
        let plain = group_mentions(text, &mentions, 4, &[]);
        let unscaled = plain.iter().find(|g| g.name == "Moscow").unwrap().salience;
        let groups = aggregate(text, &mentions, 4);
        let moscow = groups.iter().find(|g| g.name == "Moscow").unwrap();
        let russia = groups.iter().find(|g| g.name == "Russia").unwrap();
        // Nothing here speaks for the government: the city keeps its three mentions.
        assert_eq!((moscow.mentions, russia.mentions), (3, 1));
        assert!(russia.credited.is_empty());
        assert!(
            (moscow.salience - unscaled * CITY_IN_NAMED_COUNTRY).abs() < 1e-3,
            "{} vs {unscaled}",
            moscow.salience
        );
        // Without the country in the article, the city keeps its salience.
        let alone: Vec<Mention> = mentions
            .iter()
            .filter(|m| &text[m.start..m.end] == "Moscow")
            .cloned()
            .collect();
        let groups = aggregate(text, &alone, 4);
        assert_eq!(groups.len(), 1);
        assert!(groups[0].salience > unscaled * CITY_IN_NAMED_COUNTRY + 0.1);
    }
}
