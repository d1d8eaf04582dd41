//! Entity rules that editors control: exact phrases or regexes that force or relabel an
//! entity, applied to the recogniser's mentions before grouping (like spaCy's EntityRuler with
//! `overwrite_ents`: a rule match replaces any model mention it overlaps).
//!
//! ```toml
//! [[entity]]
//! phrase = "Northern Sea Route"     # exact, case-sensitive
//! label = "LOC"
//!
//! [[entity]]
//! pattern = '(?i)\bclash report\b'  # a regex
//! label = "ORG"
//! ```

use std::ops::Range;
use std::path::Path;

use crate::error::{Context, Result, bail};
use regex::Regex;
use serde::Deserialize;

use crate::document::{Category, Mention};
use crate::entities::sentence_of;

#[derive(Debug, Clone)]
pub struct EntityRules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    matcher: Regex,
    label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    entity: Vec<RuleEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    phrase: Option<String>,
    pattern: Option<String>,
    label: String,
}

impl EntityRules {
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading entity rules {}", path.display()))?;
        EntityRules::parse(&text).with_context(|| format!("in entity rules {}", path.display()))
    }

    pub fn parse(toml_text: &str) -> Result<Self> {
        let file: RulesFile = toml::from_str(toml_text)?;
        let mut rules = Vec::new();
        for e in file.entity {
            let source = match (&e.phrase, &e.pattern) {
                // Word boundaries only where the phrase starts or ends with a word character,
                // so "U.S." still matches before a space.
                (Some(p), None) if !p.trim().is_empty() => {
                    let b = |c: Option<char>| {
                        if c.is_some_and(char::is_alphanumeric) {
                            r"\b"
                        } else {
                            ""
                        }
                    };
                    format!(
                        "{}{}{}",
                        b(p.chars().next()),
                        regex::escape(p),
                        b(p.chars().last())
                    )
                }
                (None, Some(p)) => p.clone(),
                _ => bail!("each [[entity]] needs exactly one non-empty `phrase` or `pattern`"),
            };
            let matcher =
                Regex::new(&source).with_context(|| format!("bad entity pattern {source:?}"))?;
            if e.label.trim().is_empty() {
                bail!("rule {source:?} has an empty label");
            }
            rules.push(Rule {
                matcher,
                label: e.label,
            });
        }
        Ok(EntityRules { rules })
    }

    /// Mentions after the rules: rule matches in the prose replace overlapping mentions.
    pub fn apply(
        &self,
        text: &str,
        prose: &[Range<usize>],
        sentences: &[Range<usize>],
        mentions: Vec<Mention>,
    ) -> Vec<Mention> {
        let mut forced: Vec<Mention> = Vec::new();
        for block in prose {
            for rule in &self.rules {
                for m in rule.matcher.find_iter(&text[block.clone()]) {
                    if m.is_empty() {
                        continue;
                    }
                    let (start, end) = (block.start + m.start(), block.start + m.end());
                    // Earlier rules win over later ones where they overlap.
                    if forced.iter().any(|f| f.start < end && start < f.end) {
                        continue;
                    }
                    forced.push(Mention {
                        start,
                        end,
                        category: Category::of_label(&rule.label),
                        label: rule.label.clone(),
                        sentence: sentence_of(sentences, start),
                        score: None,
                    });
                }
            }
        }
        let mut out: Vec<Mention> = mentions
            .into_iter()
            .filter(|m| !forced.iter().any(|f| f.start < m.end && m.start < f.end))
            .collect();
        out.extend(forced);
        out.sort_by_key(|m| (m.start, m.end));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(start: usize, end: usize, label: &str) -> Mention {
        Mention {
            start,
            end,
            label: label.into(),
            category: Category::of_label(label),
            sentence: Some(0),
            score: None,
        }
    }

    #[test]
    fn rules_force_and_relabel() {
        let rules = EntityRules::parse(
            "[[entity]]\nphrase = \"Northern Sea Route\"\nlabel = \"LOC\"\n\n[[entity]]\npattern = '(?i)\\bclash report\\b'\nlabel = \"ORG\"\n",
        )
        .unwrap();
        let text = "Use of the Northern Sea Route grew, Clash Report said.";
        // The model saw "Sea Route" as a FAC and missed Clash Report.
        let model = vec![mention(15, 24, "FAC")];
        let whole = 0..text.len();
        let whole = std::slice::from_ref(&whole);
        let out = rules.apply(text, whole, whole, model);
        let got: Vec<(&str, &str)> = out
            .iter()
            .map(|m| (&text[m.start..m.end], m.label.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![("Northern Sea Route", "LOC"), ("Clash Report", "ORG")]
        );
        assert_eq!(out[1].category, Category::Organization);
    }

    #[test]
    fn bad_rules_are_errors() {
        assert!(EntityRules::parse("[[entity]]\nlabel = \"ORG\"\n").is_err());
        assert!(EntityRules::parse("[[entity]]\npattern = \"(\"\nlabel = \"ORG\"\n").is_err());
        assert!(EntityRules::parse("[[entity]]\nphrase = \"x\"\nlabel = \"\"\n").is_err());
    }
}
