//! The newsroom's controlled vocabulary: its own tag list, with aliases and kinds. Suggestions
//! snap to it (same tag text and kind as the newsroom writes them).
//!
//! TOML:
//! ```toml
//! [[tag]]
//! tag = "Vladimir Putin"
//! kind = "person"
//! aliases = ["Putin", "President Putin"]
//! ```
//! or CSV with a header `tag,kind,aliases` (aliases separated by `|`).

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VocabEntry {
    pub tag: String,
    pub kind: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    entries: Vec<VocabEntry>,
    /// Lower-cased tag and alias -> entry index.
    index: HashMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabFile {
    #[serde(default)]
    tag: Vec<VocabEntry>,
}

impl Vocabulary {
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading vocabulary {}", path.display()))?;
        let csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let entries = entries_from_text(&text, csv)
            .with_context(|| format!("in vocabulary {}", path.display()))?;
        Vocabulary::new(entries)
    }

    pub fn new(entries: Vec<VocabEntry>) -> Result<Self> {
        let mut index = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if e.tag.trim().is_empty() {
                bail!("a vocabulary entry has an empty tag");
            }
            for name in std::iter::once(&e.tag).chain(&e.aliases) {
                index.entry(key(name)).or_insert(i);
            }
        }
        Ok(Vocabulary { entries, index })
    }

    /// The entry a name (or any of its aliases) snaps to.
    pub fn lookup<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Option<&VocabEntry> {
        names
            .into_iter()
            .find_map(|n| self.index.get(&key(n)))
            .map(|&i| &self.entries[i])
    }
}

fn key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The entries of a vocabulary file's text: CSV (`tag,kind,aliases`) or TOML.
pub(crate) fn entries_from_text(text: &str, csv: bool) -> Result<Vec<VocabEntry>> {
    if csv {
        parse_csv(text)
    } else {
        toml::from_str::<VocabFile>(text)
            .map(|f| f.tag)
            .map_err(Into::into)
    }
}

fn parse_csv(text: &str) -> Result<Vec<VocabEntry>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().unwrap_or_default();
    if header.trim().to_lowercase().replace(' ', "") != "tag,kind,aliases" {
        bail!("CSV header must be `tag,kind,aliases`, found {header:?}");
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            let cols: Vec<&str> = line.splitn(3, ',').map(str::trim).collect();
            if cols.len() < 2 {
                bail!("line {}: expected tag,kind[,aliases]", i + 2);
            }
            Ok(VocabEntry {
                tag: cols[0].to_string(),
                kind: cols[1].to_string(),
                aliases: cols
                    .get(2)
                    .map(|a| {
                        a.split('|')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_csv_agree() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("v.toml");
        std::fs::write(
            &t,
            "[[tag]]\ntag = \"Vladimir Putin\"\nkind = \"person\"\naliases = [\"Putin\"]\n",
        )
        .unwrap();
        let c = dir.path().join("v.csv");
        std::fs::write(
            &c,
            "tag,kind,aliases\nVladimir Putin,person,Putin|President Putin\n",
        )
        .unwrap();
        for path in [t, c] {
            let v = Vocabulary::from_file(&path).unwrap();
            assert_eq!(v.lookup(["putin"]).unwrap().tag, "Vladimir Putin");
            assert_eq!(v.lookup(["Vladimir  Putin"]).unwrap().kind, "person");
            assert!(v.lookup(["Xi"]).is_none());
        }
        std::fs::write(dir.path().join("bad.csv"), "name,kind\nx,y\n").unwrap();
        assert!(Vocabulary::from_file(&dir.path().join("bad.csv")).is_err());
    }
}
