//! Tag suggestions for editors: topics and salient entities in one ranked list, each with the
//! evidence that put it there, snapped to the newsroom's vocabulary when one is given.

use serde::Serialize;

use super::group::DocEntity;
use super::vocabulary::Vocabulary;
use crate::entities::Category;
use crate::topics::TopicScore;

/// Entities below this salience are not suggested: one passing mention late in a long
/// article is rarely what it is about.
pub const MIN_ENTITY_SALIENCE: f32 = 0.1;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tag {
    pub tag: String,
    /// `topic`, or the entity category (`person`, `place`, `organization`, `group`, `event`),
    /// or the vocabulary's own kind when the tag snapped to it.
    pub kind: String,
    pub score: f32,
    /// Why it is suggested: evidence sentences for topics, mentions for entities.
    pub why: Vec<String>,
    /// True when the tag is an entry of the controlled vocabulary.
    pub vocabulary: bool,
}

pub struct TagInput<'a> {
    pub topics: &'a [TopicScore],
    pub entities: &'a [DocEntity],
    pub sentence_text: &'a dyn Fn(usize) -> &'a str,
}

/// Ranked tags: topics score by their calibrated score, entities by salience.
pub fn suggest(
    input: &TagInput,
    vocabulary: Option<&Vocabulary>,
    vocabulary_only: bool,
) -> Vec<Tag> {
    let mut tags: Vec<Tag> = Vec::new();
    for t in input.topics {
        let why = t
            .evidence
            .iter()
            .take(2)
            .map(|e| quote((input.sentence_text)(e.sentence)))
            .collect();
        push(
            &mut tags,
            t.label.clone(),
            "topic".into(),
            t.score,
            why,
            &[],
            vocabulary,
        );
    }
    for e in input.entities {
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
        let mut why = vec![format!(
            "{} mention{}{}",
            e.mentions,
            if e.mentions == 1 { "" } else { "s" },
            if e.aliases.is_empty() {
                String::new()
            } else {
                format!(" (also {})", e.aliases.join(", "))
            }
        )];
        if let Some(s) = e.first_sentence {
            why.push(format!("first in: {}", quote((input.sentence_text)(s))));
        }
        push(
            &mut tags,
            e.name.clone(),
            kind.into(),
            e.salience,
            why,
            &e.aliases,
            vocabulary,
        );
    }
    if vocabulary_only {
        tags.retain(|t| t.vocabulary);
    }
    tags.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.tag.cmp(&b.tag)));
    tags
}

/// Adds a tag, snapping it to the vocabulary and merging it with an equal tag already there
/// (the Arctic topic and the Arctic place are one suggestion).
fn push(
    tags: &mut Vec<Tag>,
    name: String,
    kind: String,
    score: f32,
    why: Vec<String>,
    aliases: &[String],
    vocabulary: Option<&Vocabulary>,
) {
    let snapped = vocabulary.and_then(|v| {
        v.lookup(std::iter::once(name.as_str()).chain(aliases.iter().map(String::as_str)))
    });
    let (name, kind, in_vocab) = match snapped {
        Some(entry) => (entry.tag.clone(), entry.kind.clone(), true),
        None => (name, kind, false),
    };
    if let Some(existing) = tags.iter_mut().find(|t| t.tag.eq_ignore_ascii_case(&name)) {
        if score > existing.score {
            existing.score = score;
            existing.kind = kind;
        }
        existing.why.extend(why);
        existing.vocabulary |= in_vocab;
        return;
    }
    tags.push(Tag {
        tag: name,
        kind,
        score,
        why,
        vocabulary: in_vocab,
    });
}

/// A sentence shortened for a table cell.
fn quote(s: &str) -> String {
    const MAX: usize = 90;
    let s = s.trim();
    if s.chars().count() <= MAX {
        format!("“{s}”")
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("“{}…”", cut.trim_end())
    }
}
