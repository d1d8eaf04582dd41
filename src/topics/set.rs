//! Topic sets: the labels a classifier chooses from, read from TOML.

use std::path::Path;

use crate::error::{Context, Result, bail};
use regex::Regex;
use serde::Deserialize;

/// The topic set shipped with newstag: the 17 IPTC Media Topics subjects plus desk topics.
pub const NEWS_TOML: &str = include_str!("../../models/topics/news.toml");

/// The hypothesis template for ad-hoc `--label`s, as zero-shot pipelines phrase it.
pub const LABEL_TEMPLATE: &str = "This article is about {label}.";

#[derive(Debug, Clone)]
pub struct Topic {
    pub label: String,
    pub code: Option<String>,
    /// The text compared with the article.
    pub description: String,
    /// Matches add evidence to a sentence.
    pub patterns: Vec<Regex>,
    pub threshold: Option<f32>,
}

impl Topic {
    /// The texts a sentence is compared with: the label in the zero-shot template, the whole
    /// description, and each `;`-separated clause of it. A sentence usually touches one facet
    /// of a topic, and a short facet is nearer to it than a long list of all of them.
    pub fn prototypes(&self) -> Vec<String> {
        let mut out = vec![LABEL_TEMPLATE.replace("{label}", &self.label)];
        if out[0] != self.description {
            out.push(self.description.clone());
        }
        let clauses: Vec<&str> = self
            .description
            .split(';')
            .map(str::trim)
            .filter(|c| c.len() > 3)
            .collect();
        if clauses.len() > 1 {
            out.extend(clauses.into_iter().map(str::to_string));
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct TopicSet {
    pub name: String,
    pub topics: Vec<Topic>,
    /// Scored beside the IPTC Media Topics tree, as its second set (the shipped desk topics);
    /// otherwise the set is reported alone (a user's labels or file).
    pub taxonomy: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicFile {
    #[serde(default, rename = "topic")]
    topics: Vec<TopicEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicEntry {
    label: String,
    description: Option<String>,
    code: Option<String>,
    #[serde(default)]
    patterns: Vec<String>,
    threshold: Option<f32>,
}

impl TopicSet {
    /// The shipped news topics.
    pub fn news() -> Self {
        TopicSet {
            taxonomy: true,
            ..TopicSet::parse("news", NEWS_TOML).expect("the shipped topic set is valid")
        }
    }

    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading topic set {}", path.display()))?;
        TopicSet::parse(&path.display().to_string(), &text)
            .with_context(|| format!("in topic set {}", path.display()))
    }

    pub fn parse(name: &str, toml_text: &str) -> Result<Self> {
        let file: TopicFile = toml::from_str(toml_text)?;
        if file.topics.is_empty() {
            bail!("no [[topic]] entries");
        }
        let mut topics = Vec::with_capacity(file.topics.len());
        for entry in file.topics {
            if entry.label.trim().is_empty() {
                bail!("a topic has an empty label");
            }
            if let Some(t) = entry.threshold
                && !(0.0..=1.0).contains(&t)
            {
                bail!("topic '{}': threshold {t} is outside [0, 1]", entry.label);
            }
            let patterns = entry
                .patterns
                .iter()
                .map(|p| {
                    Regex::new(p)
                        .with_context(|| format!("topic '{}': bad pattern {p:?}", entry.label))
                })
                .collect::<Result<Vec<_>>>()?;
            let description = entry
                .description
                .unwrap_or_else(|| LABEL_TEMPLATE.replace("{label}", &entry.label));
            topics.push(Topic {
                label: entry.label,
                code: entry.code,
                description,
                patterns,
                threshold: entry.threshold,
            });
        }
        Ok(TopicSet {
            name: name.to_string(),
            topics,
            taxonomy: false,
        })
    }

    /// Ad-hoc labels, each described by the zero-shot template.
    pub fn from_labels(labels: &[String]) -> Result<Self> {
        if labels.iter().any(|l| l.trim().is_empty()) {
            bail!("a topic label is empty");
        }
        Ok(TopicSet {
            name: "labels".to_string(),
            topics: labels
                .iter()
                .map(|l| Topic {
                    label: l.clone(),
                    code: None,
                    description: LABEL_TEMPLATE.replace("{label}", l),
                    patterns: Vec::new(),
                    threshold: None,
                })
                .collect(),
            taxonomy: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_set_has_iptc_subjects_and_desk_topics() {
        let set = TopicSet::news();
        let iptc = set
            .topics
            .iter()
            .filter(|t| {
                t.code
                    .as_deref()
                    .is_some_and(|c| c.starts_with("medtop:") && c.ends_with("000000"))
            })
            .count();
        assert_eq!(iptc, 17);
        for label in [
            "Arctic",
            "Defense",
            "Trade",
            "Energy",
            "Climate",
            "Asia-Pacific",
        ] {
            assert!(set.topics.iter().any(|t| t.label == label), "{label}");
        }
        let arctic = set.topics.iter().find(|t| t.label == "Arctic").unwrap();
        assert!(
            arctic
                .patterns
                .iter()
                .any(|p| p.is_match("the Northern Sea Route"))
        );
    }

    #[test]
    fn bad_files_are_clear_errors() {
        assert!(TopicSet::parse("x", "").is_err());
        let err =
            TopicSet::parse("x", "[[topic]]\nlabel = \"A\"\npatterns = [\"(\"]\n").unwrap_err();
        assert!(format!("{err:#}").contains("bad pattern"), "{err:#}");
        assert!(TopicSet::parse("x", "[[topic]]\nlabel = \"A\"\nthreshold = 2.0\n").is_err());
        assert!(TopicSet::parse("x", "[[topic]]\nlabell = \"A\"\n").is_err());
    }

    #[test]
    fn labels_use_the_template() {
        let set = TopicSet::from_labels(&["space exploration".into()]).unwrap();
        assert_eq!(
            set.topics[0].description,
            "This article is about space exploration."
        );
    }
}
