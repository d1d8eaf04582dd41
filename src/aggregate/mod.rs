//! Aggregate: from mentions and sentence scores to what the article is about: entity rules,
//! document entities (grouped, salient, places resolved) and ranked tag suggestions.

pub mod group;
pub mod mentions;
pub mod names;
pub mod rules;
pub mod tags;
pub mod vocabulary;

use crate::document::{Category, DocEntity, Document};
use crate::places::Gazetteer;

pub use group::{credit_capitals, group_mentions};
pub use names::normalize_name;
pub use rules::EntityRules;
pub use tags::{TagInput, suggest};
pub use vocabulary::Vocabulary;

/// The aggregation stage's configuration, loaded once.
#[derive(Default)]
pub struct Aggregator {
    pub rules: Option<EntityRules>,
    pub vocabulary: Option<Vocabulary>,
    pub vocabulary_only: bool,
    /// Resolves places to GeoNames and demonyms to countries, when loaded.
    pub gazetteer: Option<Gazetteer>,
}

impl Aggregator {
    /// Applies the rules, recovers the mentions the recogniser lumped together or missed,
    /// groups mentions and suggests tags for one document.
    pub fn aggregate(&self, doc: &mut Document) {
        if let Some(rules) = &self.rules {
            let mentions = std::mem::take(&mut doc.entities);
            doc.entities = rules.apply(
                &doc.article.text,
                &doc.cleaned.prose,
                &doc.sentences,
                mentions,
            );
        }
        // Compounds first, so that "China" from "China-Russia" can then be found again.
        let mentions = std::mem::take(&mut doc.entities);
        let mentions = mentions::split_compounds(
            &doc.article.text,
            &doc.sentences,
            mentions,
            self.gazetteer.as_ref(),
        );
        doc.entities = mentions::propagate_names(&doc.article.text, &doc.sentences, mentions);
        // Entities named in the title count as leading the article (salience position 1).
        let title_names: Vec<String> = match doc.article.title.as_deref() {
            Some(title) => doc
                .entities
                .iter()
                .map(|m| normalize_name(&doc.article.text[m.start..m.end], m.category))
                .filter(|name| title.contains(name.as_str()))
                .collect(),
            None => Vec::new(),
        };
        doc.doc_entities = group_mentions(
            &doc.article.text,
            &doc.entities,
            doc.sentences.len(),
            &title_names,
        );
        if let Some(gazetteer) = &self.gazetteer {
            resolve_places(gazetteer, &mut doc.doc_entities);
            credit_capitals(
                gazetteer,
                &doc.article.text,
                &doc.entities,
                &mut doc.doc_entities,
            );
            // Again, now that places are known: capitals' mentions moved, cities inside a
            // named country weigh less.
            group::score(
                &doc.article.text,
                &doc.entities,
                &mut doc.doc_entities,
                doc.sentences.len(),
                &title_names,
            );
        }
        let text = &doc.article.text;
        let sentences = &doc.sentences;
        let sentence_text = |i: usize| -> &str { &text[sentences[i].clone()] };
        doc.tags = suggest(
            &TagInput {
                topics: &doc.topics,
                entities: &doc.doc_entities,
                sentence_text: &sentence_text,
            },
            self.vocabulary.as_ref(),
            self.vocabulary_only,
        );
    }
}

/// Places of one article are resolved together, so that one place is evidence for another
/// ("Georgia" beside "Atlanta"); a group named by a demonym ("Russian") gets its country.
fn resolve_places(gazetteer: &Gazetteer, entities: &mut [DocEntity]) {
    let places: Vec<usize> = (0..entities.len())
        .filter(|&i| entities[i].category == Category::Place)
        .collect();
    let names: Vec<&str> = places.iter().map(|&i| entities[i].name.as_str()).collect();
    let resolved = gazetteer.resolve_document(&names);
    for (&i, place) in places.iter().zip(resolved) {
        entities[i].place = place;
    }
    for e in entities
        .iter_mut()
        .filter(|e| e.category == Category::Group)
    {
        e.place = gazetteer.demonym(&e.name);
    }
}
