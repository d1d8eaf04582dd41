//! The topics a loaded classifier reports, as a front end lists them: `GET /v1/topics` and the
//! Python package's `Annotator.topics()` serialize this one type.

use serde::Serialize;

use super::iptc::Taxonomy;
use super::{Topic, TopicSet};

/// What a loaded pipeline reports topics from: its topic set, the IPTC Media Topics tree when
/// the tree is scored beside it, and the reporting bars that were asked for. Built from the
/// loaded classifier ([`crate::Pipeline::topic_catalog`]), so it lists what runs, not what a
/// configuration would load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicCatalog {
    /// The topic set: `news` (the shipped set), `labels`, or the topic file's path.
    pub set: String,
    /// The IPTC Media Topics release, when its tree is reported.
    pub iptc: Option<IptcRelease>,
    /// The threshold asked for (it replaces every default bar); `None`: the defaults.
    pub threshold: Option<f32>,
    /// How deep under a top-level IPTC topic concepts are reported, when asked for.
    pub depth: Option<usize>,
    /// The tree's concepts (parents before their children), then the set's own topics.
    pub topics: Vec<CatalogTopic>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IptcRelease {
    /// When IPTC last updated the vocabulary.
    pub updated: String,
}

/// One topic a record may carry, as a record's topic names it (`label`, `code`, `path`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogTopic {
    pub label: String,
    pub code: Option<String>,
    pub description: String,
    /// Labels from the IPTC top level down to this topic; `[label]` outside the tree.
    pub path: Vec<String>,
    /// 1 at the top level, and for every topic outside the tree.
    pub level: u8,
    /// `iptc` for the tree's concepts, else the topic set's name.
    pub set: String,
}

impl TopicCatalog {
    /// `topics` of the set named `set`, beside `tree` when the tree is reported; a topic whose
    /// code is the tree's is listed once, as the tree's concept.
    pub(crate) fn new<'a>(
        set: &str,
        tree: Option<&Taxonomy>,
        topics: impl IntoIterator<Item = &'a Topic>,
        threshold: Option<f32>,
        depth: Option<usize>,
    ) -> Self {
        let mut listed = Vec::new();
        if let Some(taxonomy) = tree {
            for (i, concept) in taxonomy.concepts.iter().enumerate() {
                listed.push(CatalogTopic {
                    label: concept.name.clone(),
                    code: Some(concept.code.clone()),
                    description: concept.definition.clone(),
                    path: taxonomy
                        .path(i)
                        .into_iter()
                        .map(|k| taxonomy.concepts[k].name.clone())
                        .collect(),
                    level: concept.level,
                    set: "iptc".into(),
                });
            }
        }
        let in_tree = |topic: &Topic| {
            tree.zip(topic.code.as_deref())
                .is_some_and(|(taxonomy, code)| taxonomy.by_code(code).is_some())
        };
        for topic in topics.into_iter().filter(|t| !in_tree(t)) {
            listed.push(CatalogTopic {
                label: topic.label.clone(),
                code: topic.code.clone(),
                description: topic.description.clone(),
                path: vec![topic.label.clone()],
                level: 1,
                set: set.to_string(),
            });
        }
        TopicCatalog {
            set: set.to_string(),
            iptc: tree.map(|taxonomy| IptcRelease {
                updated: taxonomy.updated.clone(),
            }),
            threshold,
            depth,
            topics: listed,
        }
    }

    /// A set reported alone, without the tree.
    pub(crate) fn of_set(set: &TopicSet, threshold: Option<f32>) -> Self {
        TopicCatalog::new(&set.name, None, &set.topics, threshold, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_alone_lists_its_topics_at_the_top_level() {
        let set = TopicSet::from_labels(&["Sport".into(), "Economy".into()]).unwrap();
        let catalog = TopicCatalog::of_set(&set, Some(0.5));
        let json = serde_json::to_value(&catalog).unwrap();
        assert_eq!(json["set"], "labels");
        assert!(json["iptc"].is_null() && json["depth"].is_null());
        assert_eq!(json["threshold"], 0.5);
        assert_eq!(
            json["topics"][1],
            serde_json::json!({
                "label": "Economy",
                "code": null,
                "description": catalog.topics[1].description,
                "path": ["Economy"],
                "level": 1,
                "set": "labels",
            })
        );
    }
}
