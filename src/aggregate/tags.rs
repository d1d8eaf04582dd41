//! Tag suggestions for editors: topics and salient entities in one ranked list, each with the
//! evidence that put it there, snapped to the newsroom's vocabulary when one is given.

use super::vocabulary::Vocabulary;
use crate::document::{Category, DocEntity, Tag, TopicScore};

/// Entities below this salience are not suggested: one passing mention late in a long
/// article is rarely what it is about.
pub const MIN_ENTITY_SALIENCE: f32 = 0.1;

pub struct TagInput<'a> {
    pub topics: &'a [TopicScore],
    pub entities: &'a [DocEntity],
    pub sentence_text: &'a dyn Fn(usize) -> &'a str,
}

/// At most this many tags come from topics alone (a topic that is also an entity of the
/// article, such as the Arctic, does not count). Topic scores are calibrated probabilities that
/// sit above most entity saliences, so without a cap six or seven broad topics fill a top ten
/// and push out the people, countries and organisations an editor tags first; three covers the
/// subject, the field and one secondary topic. The record's `topics` list keeps them all.
pub const MAX_TOPIC_TAGS: usize = 3;

/// A tag being built, with where it came from.
struct Draft {
    tag: Tag,
    /// Names that make another suggestion the same one: the tag, and an entity's aliases.
    names: Vec<String>,
    from_entity: bool,
}

/// Ranked tags: topics score by their calibrated score, entities by salience; a topic that
/// echoes an entity is one tag with the better score and both reasons; at most
/// [`MAX_TOPIC_TAGS`] topics that are not entities.
pub fn suggest(
    input: &TagInput,
    vocabulary: Option<&Vocabulary>,
    vocabulary_only: bool,
) -> Vec<Tag> {
    let topics: Vec<TopicIn> = input
        .topics
        .iter()
        .map(|t| TopicIn {
            label: &t.label,
            score: t.score,
            sentences: t.evidence.iter().map(|e| e.sentence).collect(),
        })
        .collect();
    rank(
        &topics,
        input.entities,
        input.sentence_text,
        vocabulary,
        vocabulary_only,
    )
}

/// What the tag list needs of a topic.
struct TopicIn<'a> {
    label: &'a str,
    score: f32,
    /// Evidence sentences, strongest first.
    sentences: Vec<usize>,
}

fn rank<'a>(
    topics: &[TopicIn],
    entities: &[DocEntity],
    sentence_text: &'a dyn Fn(usize) -> &'a str,
    vocabulary: Option<&Vocabulary>,
    vocabulary_only: bool,
) -> Vec<Tag> {
    let mut drafts = Drafts::default();
    for t in topics {
        let why = t
            .sentences
            .iter()
            .take(2)
            .map(|&s| quote(sentence_text(s)))
            .collect();
        push(
            &mut drafts,
            Suggestion {
                name: t.label.to_string(),
                kind: "topic".into(),
                score: t.score,
                why,
                aliases: &[],
                from_entity: false,
            },
            vocabulary,
        );
    }
    for e in entities {
        let kind = match e.category {
            Category::Person => "person",
            Category::Place => "place",
            Category::Organization => "organization",
            Category::Group => "group",
            Category::Event => "event",
            _ => continue,
        };
        if e.salience < MIN_ENTITY_SALIENCE {
            continue;
        }
        let mut notes: Vec<String> = Vec::new();
        if !e.aliases.is_empty() {
            notes.push(format!("also {}", e.aliases.join(", ")));
        }
        if !e.credited.is_empty() {
            notes.push(format!("{} for its government", e.credited.join(", ")));
        }
        let mut why = vec![format!(
            "{} mention{}{}",
            e.mentions,
            if e.mentions == 1 { "" } else { "s" },
            if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            }
        )];
        if let Some(s) = e.first_sentence {
            why.push(format!("first in: {}", quote(sentence_text(s))));
        }
        push(
            &mut drafts,
            Suggestion {
                name: e.name.clone(),
                kind: kind.into(),
                score: e.salience,
                why,
                aliases: &e.aliases,
                from_entity: true,
            },
            vocabulary,
        );
    }
    let mut drafts = drafts.list;
    if vocabulary_only {
        drafts.retain(|d| d.tag.vocabulary);
    }
    drafts.sort_by(|a, b| {
        b.tag
            .score
            .total_cmp(&a.tag.score)
            .then_with(|| a.tag.tag.cmp(&b.tag.tag))
    });
    let mut topics = 0;
    drafts.retain(|d| {
        if d.from_entity {
            return true;
        }
        topics += 1;
        topics <= MAX_TOPIC_TAGS
    });
    drafts.into_iter().map(|d| d.tag).collect()
}

struct Suggestion<'a> {
    name: String,
    kind: String,
    score: f32,
    why: Vec<String>,
    aliases: &'a [String],
    from_entity: bool,
}

/// The suggestions so far, and which holds each name (ASCII case folded): an article with
/// thousands of salient entities would otherwise compare every one with every draft.
#[derive(Default)]
struct Drafts {
    list: Vec<Draft>,
    /// Folded name -> the first draft that has it.
    by_name: std::collections::HashMap<String, usize>,
}

impl Drafts {
    fn index(&mut self, name: &str, draft: usize) {
        let first = self
            .by_name
            .entry(name.to_ascii_lowercase())
            .or_insert(draft);
        *first = (*first).min(draft);
    }
}

/// Adds a suggestion, snapping it to the vocabulary and merging it with one already there
/// under the same name or one of its aliases (the Arctic topic and the Arctic place are one
/// suggestion; a "NATO" topic and the North Atlantic Treaty Organization too).
fn push(drafts: &mut Drafts, s: Suggestion, vocabulary: Option<&Vocabulary>) {
    let snapped = vocabulary.and_then(|v| {
        v.lookup(std::iter::once(s.name.as_str()).chain(s.aliases.iter().map(String::as_str)))
    });
    let (name, kind, in_vocab) = match snapped {
        Some(entry) => (entry.tag.clone(), entry.kind.clone(), true),
        None => (s.name, s.kind, false),
    };
    let mut names = vec![name.clone()];
    names.extend(s.aliases.iter().cloned());
    let found = names
        .iter()
        .filter_map(|n| drafts.by_name.get(&n.to_ascii_lowercase()).copied())
        .min();
    if let Some(at) = found {
        let existing = &mut drafts.list[at];
        let t = &mut existing.tag;
        if s.score > t.score {
            t.score = s.score;
            // The better-scored source names the tag, unless that would undo a snap to the
            // vocabulary.
            if in_vocab || !t.vocabulary {
                t.tag = name;
                t.kind = kind;
            }
        }
        t.why.extend(s.why);
        t.vocabulary |= in_vocab;
        existing.from_entity |= s.from_entity;
        let mut added = Vec::new();
        for n in names {
            if !existing.names.iter().any(|a| a.eq_ignore_ascii_case(&n)) {
                added.push(n.clone());
                existing.names.push(n);
            }
        }
        for n in added {
            drafts.index(&n, at);
        }
        return;
    }
    let at = drafts.list.len();
    for n in &names {
        drafts.index(n, at);
    }
    drafts.list.push(Draft {
        tag: Tag {
            tag: name,
            kind,
            score: s.score,
            why: s.why,
            vocabulary: in_vocab,
        },
        names,
        from_entity: s.from_entity,
    });
}

/// A sentence shortened for a table cell.
fn quote(s: &str) -> String {
    const MAX: usize = 90;
    let s = s.trim();
    // Counted only as far as needed: a sentence can be a whole unpunctuated article.
    if s.chars().nth(MAX).is_none() {
        format!("“{s}”")
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("“{}…”", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(label: &str, score: f32) -> TopicIn<'_> {
        TopicIn {
            label,
            score,
            sentences: vec![0],
        }
    }

    fn entity(name: &str, category: Category, salience: f32, aliases: &[&str]) -> DocEntity {
        DocEntity {
            name: name.into(),
            category,
            mentions: 2,
            salience,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            byte_spans: Vec::new(),
            first_sentence: Some(0),
            mention_ids: Vec::new(),
            place: None,
            credited: Vec::new(),
        }
    }

    fn tags(topics: &[TopicIn], entities: &[DocEntity]) -> Vec<Tag> {
        rank(topics, entities, &|_| "The only sentence.", None, false)
    }

    #[test]
    fn topics_are_capped_and_an_echo_is_not_counted() {
        let topics = [
            topic("Arctic", 0.99),
            topic("Diplomacy", 0.9),
            topic("Defense", 0.8),
            topic("Trade", 0.7),
            topic("Energy", 0.6),
        ];
        let entities = [
            entity("Arctic", Category::Place, 0.85, &[]),
            entity("Vladimir Putin", Category::Person, 0.4, &["Putin"]),
            entity("Oslo", Category::Place, 0.2, &[]),
        ];
        let got = tags(&topics, &entities);
        let names: Vec<&str> = got.iter().map(|t| t.tag.as_str()).collect();
        assert_eq!(
            names,
            [
                "Arctic",
                "Diplomacy",
                "Defense",
                "Trade",
                "Vladimir Putin",
                "Oslo"
            ]
        );
        // The echo: one tag, the better score, the topic's evidence and the entity's mentions.
        let arctic = &got[0];
        assert_eq!(arctic.score, 0.99);
        assert_eq!(arctic.kind, "topic");
        assert_eq!(arctic.why.len(), 3, "{:?}", arctic.why);
        assert!(arctic.why.iter().any(|w| w == "2 mentions"));
        assert!(arctic.why.iter().any(|w| w.starts_with('“')));
    }

    #[test]
    fn an_echo_through_an_alias_merges_and_the_entity_can_lead() {
        let topics = [topic("NATO", 0.5)];
        let entities = [entity(
            "North Atlantic Treaty Organization",
            Category::Organization,
            0.7,
            &["NATO"],
        )];
        let got = tags(&topics, &entities);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].tag, "North Atlantic Treaty Organization");
        assert_eq!(got[0].kind, "organization");
        assert_eq!(got[0].score, 0.7);
    }

    #[test]
    fn credited_capitals_are_in_the_reasons() {
        let mut china = entity("China", Category::Place, 0.3, &[]);
        china.credited = vec!["Beijing".into()];
        let got = tags(&[], &[china]);
        assert_eq!(got[0].why[0], "2 mentions (Beijing for its government)");
    }
}
