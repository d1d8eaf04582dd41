//! The IPTC Media Topics vocabulary as a tree, read from the spreadsheet IPTC publishes (model
//! `iptc-mediatopics` in [`crate::store`], see [`crate::store::IPTC_MEDIATOPICS`]).
//!
//! The sheet has a title row ("IPTC MediaTopic NewsCodes last updated 2025-03-31"), a header row,
//! then one row per concept, depth first: a row's level is the `LevelN/NewsCode` column that is
//! filled, and its parent is the nearest row above it one level up. Columns are found by their
//! header names, not their positions, because IPTC adds languages between releases and that
//! shifts everything after them. Retired concepts stay in the sheet with a `RetiredDate`; they
//! and everything under them are left out, so the tree only offers codes still in use.

use std::collections::HashSet;
use std::path::Path;

use crate::error::{Context, Result, bail, err};
use calamine::{Reader, Xlsx, open_workbook};

/// One active Media Topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    /// The QCode, e.g. "medtop:04000000".
    pub code: String,
    /// The en-GB name.
    pub name: String,
    /// The en-GB definition.
    pub definition: String,
    /// Index of the parent concept; `None` at the top level.
    pub parent: Option<usize>,
    /// 1 for the top level.
    pub level: u8,
    /// Indices of the concepts one level down, in sheet order.
    pub children: Vec<usize>,
}

/// The active Media Topics in sheet order (parents before their children).
#[derive(Debug, Clone, PartialEq)]
pub struct Taxonomy {
    pub concepts: Vec<Concept>,
    /// The release date from the title row ("2025-03-31"); empty when the sheet has none.
    pub updated: String,
}

/// The sheet IPTC publishes the vocabulary on.
const SHEET: &str = "Sheet1";
const QCODE: &str = "NewsCode-QCode (flat)";
const RETIRED: &str = "RetiredDate";
const NAME: &str = "Name (en-GB)";
const DEFINITION: &str = "Definition (en-GB)";
/// The deepest `LevelN/NewsCode` column IPTC has ever used.
const MAX_LEVEL: usize = 6;
/// How far down the header row may be; it is the second row today, a few more rows of notes
/// above it would still be the same layout.
const HEADER_SEARCH: usize = 10;

impl Taxonomy {
    /// Reads the Media Topics spreadsheet (`IPTC-MediaTopic-NewsCodes.xlsx`).
    pub fn load(xlsx: &Path) -> Result<Taxonomy> {
        let mut workbook: Xlsx<_> = open_workbook(xlsx).map_err(|e| {
            err!(
                "reading IPTC Media Topics from {}: not a readable xlsx workbook: {e}",
                xlsx.display()
            )
        })?;
        // Fall back to the first sheet should a release rename it; the header check below still
        // rejects a sheet that is not the vocabulary.
        let names = workbook.sheet_names();
        let sheet = names
            .iter()
            .find(|n| n.as_str() == SHEET)
            .or_else(|| names.first())
            .cloned()
            .ok_or_else(|| {
                err!(
                    "reading IPTC Media Topics from {}: the workbook has no sheets",
                    xlsx.display()
                )
            })?;
        let range = workbook.worksheet_range(&sheet).map_err(|e| {
            err!(
                "reading IPTC Media Topics from {}: sheet '{sheet}': {e}",
                xlsx.display()
            )
        })?;
        // Everything is read as text: codes and dates are compared as strings, and a cell of
        // another type (a date typed as a date) only has to be non-empty to count.
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|row| row.iter().map(|cell| cell.to_string()).collect())
            .collect();
        Taxonomy::from_rows(&rows)
            .with_context(|| format!("reading IPTC Media Topics from {}", xlsx.display()))
    }

    /// Builds the tree from the sheet's rows as text, title and header rows included. Errors
    /// name the sheet row (1-based, as a spreadsheet shows it) relative to the first row given.
    pub fn from_rows(rows: &[Vec<String>]) -> Result<Taxonomy> {
        let header_at = rows
            .iter()
            .take(HEADER_SEARCH)
            .position(|row| row.iter().any(|c| c.trim() == QCODE))
            .ok_or_else(|| {
                err!("no header row with a '{QCODE}' column in the first {HEADER_SEARCH} rows")
            })?;
        let updated = rows[..header_at]
            .iter()
            .flatten()
            .find_map(|cell| updated_date(cell))
            .unwrap_or_default();
        let columns = Columns::find(&rows[header_at])?;

        let mut concepts: Vec<Concept> = Vec::new();
        // The latest concept kept at each level (index 0 unused), for parent links.
        let mut latest: [Option<usize>; MAX_LEVEL + 1] = [None; MAX_LEVEL + 1];
        // Set while inside a retired concept: rows deeper than this level are its descendants.
        let mut retired_above: Option<u8> = None;
        let mut seen: HashSet<String> = HashSet::new();
        for (i, row) in rows.iter().enumerate().skip(header_at + 1) {
            let row_no = i + 1;
            let cell = |col: usize| row.get(col).map_or("", |c| c.trim());
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let filled: Vec<usize> = columns
                .levels
                .iter()
                .enumerate()
                .filter(|&(_, &col)| !cell(col).is_empty())
                .map(|(depth, _)| depth + 1)
                .collect();
            let level = match filled.as_slice() {
                [level] => *level as u8,
                [] => bail!("row {row_no}: no LevelN/NewsCode column is filled"),
                _ => bail!("row {row_no}: more than one LevelN/NewsCode column is filled"),
            };
            if let Some(above) = retired_above {
                if level > above {
                    continue;
                }
                retired_above = None;
            }
            // Whatever was kept at this level or deeper is no longer an ancestor of what follows.
            for slot in &mut latest[level as usize..] {
                *slot = None;
            }
            if !cell(columns.retired).is_empty() {
                retired_above = Some(level);
                continue;
            }
            let code = cell(columns.qcode);
            if code.is_empty() {
                bail!("row {row_no}: the '{QCODE}' column is empty");
            }
            if !seen.insert(code.to_string()) {
                bail!("row {row_no}: code {code} appears twice");
            }
            let parent = if level == 1 {
                None
            } else {
                Some(latest[level as usize - 1].ok_or_else(|| {
                    err!(
                        "row {row_no}: {code} is at level {level} but no active level {} concept \
                         precedes it",
                        level - 1
                    )
                })?)
            };
            let index = concepts.len();
            concepts.push(Concept {
                code: code.to_string(),
                name: cell(columns.name).to_string(),
                definition: cell(columns.definition).to_string(),
                parent,
                level,
                children: Vec::new(),
            });
            if let Some(p) = parent {
                concepts[p].children.push(index);
            }
            latest[level as usize] = Some(index);
        }
        if concepts.is_empty() {
            bail!("no active concepts below the header row");
        }
        Ok(Taxonomy { concepts, updated })
    }

    /// Indices of the top-level concepts, in sheet order.
    pub fn top_level(&self) -> impl Iterator<Item = usize> {
        self.concepts
            .iter()
            .enumerate()
            .filter(|(_, c)| c.level == 1)
            .map(|(i, _)| i)
    }

    /// The indices from the top level down to `i`, `i` last; empty when `i` is out of range.
    pub fn path(&self, i: usize) -> Vec<usize> {
        let mut path = Vec::new();
        let mut at = self.concepts.get(i).map(|_| i);
        while let Some(index) = at {
            path.push(index);
            at = self.concepts[index].parent;
        }
        path.reverse();
        path
    }

    /// The index of the concept with this QCode ("medtop:15000000").
    pub fn by_code(&self, code: &str) -> Option<usize> {
        // A linear scan: about a thousand short strings, looked up when topics are set up, not
        // per article, so an index would only be one more thing to keep in step.
        self.concepts.iter().position(|c| c.code == code)
    }
}

/// Positions of the columns the tree is built from.
struct Columns {
    qcode: usize,
    /// `Level1/NewsCode`, `Level2/NewsCode`, ... as far as the sheet has them.
    levels: Vec<usize>,
    retired: usize,
    name: usize,
    definition: usize,
}

impl Columns {
    fn find(header: &[String]) -> Result<Columns> {
        let find = |name: &str| {
            header
                .iter()
                .position(|c| c.trim() == name)
                .ok_or_else(|| err!("the header row has no '{name}' column"))
        };
        let levels: Vec<usize> = (1..=MAX_LEVEL)
            .map_while(|n| find(&format!("Level{n}/NewsCode")).ok())
            .collect();
        if levels.is_empty() {
            bail!("the header row has no 'Level1/NewsCode' column");
        }
        Ok(Columns {
            qcode: find(QCODE)?,
            levels,
            retired: find(RETIRED)?,
            name: find(NAME)?,
            definition: find(DEFINITION)?,
        })
    }
}

/// The YYYY-MM-DD date after "last updated" in a title cell.
fn updated_date(cell: &str) -> Option<String> {
    let lower = cell.to_ascii_lowercase();
    let after = &cell[lower.find("last updated")? + "last updated".len()..];
    let date: String = after
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    // Only a full date: "last updated" followed by prose is not a version.
    let shape_ok = date.len() == 10
        && date
            .char_indices()
            .all(|(i, c)| (i == 4 || i == 7) == (c == '-'));
    shape_ok.then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &[&str] = &[
        "NewsCode-URI",
        "NewsCode-QCode (flat)",
        "Level1/NewsCode",
        "Level2/NewsCode",
        "Level3/NewsCode",
        "RetiredDate",
        "Name (ar)",
        "Name (en-GB)",
        "Definition (en-GB)",
        "Wikidata mapping",
    ];

    /// A data row: code at `level`, optionally retired.
    fn row(code: &str, level: usize, retired: bool, name: &str) -> Vec<String> {
        let mut r = vec![String::new(); HEADER.len()];
        r[0] = format!("http://cv.iptc.org/newscodes/mediatopic/{code}");
        r[1] = format!("medtop:{code}");
        r[1 + level] = format!("medtop:{code}");
        if retired {
            r[5] = "2017-07-04T12:00:00+00:00".into();
        }
        r[7] = format!("  {name} ");
        r[8] = format!("Definition of {name}.\n");
        r
    }

    fn sheet(data: Vec<Vec<String>>) -> Vec<Vec<String>> {
        let mut rows = vec![
            vec!["IPTC MediaTopic NewsCodes last updated 2025-03-31".to_string()],
            HEADER.iter().map(|h| h.to_string()).collect(),
        ];
        rows.extend(data);
        rows
    }

    #[test]
    fn iptc_tree_from_rows_skips_retired_subtrees() {
        let t = Taxonomy::from_rows(&sheet(vec![
            row("15000000", 1, false, "sport"),
            row("20000822", 2, false, "competition discipline"),
            row("20001038", 3, false, "sailing"),
            row("20000881", 3, true, "canoe sailing"),
            row("20000900", 2, true, "retired branch"),
            row("20000901", 3, false, "under a retired branch"),
            row("20000902", 2, false, "after the retired branch"),
            vec![String::new(); 3],
            row("10000000", 1, false, "lifestyle and leisure"),
            row("20001257", 2, false, "gardening"),
        ]))
        .unwrap();
        assert_eq!(t.updated, "2025-03-31");
        let codes: Vec<&str> = t.concepts.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "medtop:15000000",
                "medtop:20000822",
                "medtop:20001038",
                "medtop:20000902",
                "medtop:10000000",
                "medtop:20001257"
            ]
        );
        assert_eq!(t.top_level().collect::<Vec<_>>(), [0, 4]);
        let sailing = t.by_code("medtop:20001038").unwrap();
        assert_eq!(t.path(sailing), [0, 1, 2]);
        assert_eq!(t.concepts[sailing].name, "sailing");
        assert_eq!(t.concepts[sailing].definition, "Definition of sailing.");
        assert_eq!(t.concepts[sailing].level, 3);
        assert_eq!(t.concepts[0].children, [1, 3]);
        assert_eq!(t.concepts[3].parent, Some(0));
        assert_eq!(t.path(5), [4, 5]);
        assert!(t.path(99).is_empty());
        assert_eq!(t.by_code("medtop:20000901"), None);
    }

    #[test]
    fn iptc_columns_found_by_header_name() {
        // The same sheet with its columns in another order still reads the same.
        let order = [8, 7, 1, 0, 5, 2, 3, 4, 6, 9];
        let permute = |r: Vec<String>| order.iter().map(|&i| r[i].clone()).collect::<Vec<_>>();
        let mut rows = sheet(vec![
            row("15000000", 1, false, "sport"),
            row("20001038", 2, false, "sailing"),
        ]);
        for r in rows.iter_mut().skip(1) {
            *r = permute(std::mem::take(r));
        }
        let t = Taxonomy::from_rows(&rows).unwrap();
        assert_eq!(t.concepts[1].name, "sailing");
        assert_eq!(t.concepts[1].parent, Some(0));
    }

    #[test]
    fn iptc_bad_sheets_are_errors() {
        let err = |rows: Vec<Vec<String>>| Taxonomy::from_rows(&rows).unwrap_err().to_string();
        assert!(err(vec![vec!["nothing".into()]]).contains("no header row"));
        let mut no_name = sheet(vec![row("15000000", 1, false, "sport")]);
        no_name[1][7] = "Name (en-US)".into();
        assert!(err(no_name).contains("'Name (en-GB)'"));
        let orphan = err(sheet(vec![row("20001038", 2, false, "sailing")]));
        assert!(
            orphan.contains("row 3") && orphan.contains("level 1"),
            "{orphan}"
        );
        let mut two = row("15000000", 1, false, "sport");
        two[3] = "medtop:15000000".into();
        assert!(err(sheet(vec![two])).contains("more than one"));
        assert!(err(sheet(vec![])).contains("no active concepts"));
        let dup = sheet(vec![
            row("15000000", 1, false, "sport"),
            row("15000000", 1, false, "sport"),
        ]);
        assert!(err(dup).contains("twice"));
    }

    #[test]
    fn iptc_updated_date() {
        assert_eq!(
            updated_date("IPTC MediaTopic NewsCodes last updated 2025-03-31").as_deref(),
            Some("2025-03-31")
        );
        assert_eq!(updated_date("Last Updated: soon"), None);
        assert_eq!(updated_date("no date"), None);
        let t = Taxonomy::from_rows(&sheet(vec![row("15000000", 1, false, "sport")])[1..]).unwrap();
        assert_eq!(t.updated, "");
    }

    #[test]
    fn iptc_load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("IPTC-MediaTopic-NewsCodes.xlsx");
        std::fs::write(&path, b"not a spreadsheet").unwrap();
        let err = format!("{:#}", Taxonomy::load(&path).unwrap_err());
        assert!(err.contains(&path.display().to_string()), "{err}");
        let missing = dir.path().join("missing.xlsx");
        let err = format!("{:#}", Taxonomy::load(&missing).unwrap_err());
        assert!(err.contains("missing.xlsx"), "{err}");
    }
}
