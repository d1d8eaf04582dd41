//! The IPTC Media Topics tree on the real spreadsheet from the store (fetched on first use, with
//! the command a user runs).

use crate::common;

use std::sync::OnceLock;

use newstag::store::{IPTC_MEDIATOPICS, Store};
use newstag::topics::iptc::Taxonomy;

fn taxonomy() -> &'static Taxonomy {
    static T: OnceLock<Taxonomy> = OnceLock::new();
    T.get_or_init(|| {
        common::fetch(&["iptc-mediatopics"]);
        let store = Store::from_env().expect("store");
        store
            .verify(&IPTC_MEDIATOPICS)
            .expect("sha256 of the sheet");
        let dir = store.require(&IPTC_MEDIATOPICS).expect("in the store");
        Taxonomy::load(&dir.join(IPTC_MEDIATOPICS.files[0].name)).expect("loading the sheet")
    })
}

/// The names along the path from the top level down to `code`.
fn path_names(t: &Taxonomy, code: &str) -> Vec<String> {
    let i = t
        .by_code(code)
        .unwrap_or_else(|| panic!("{code} not found"));
    t.path(i)
        .into_iter()
        .map(|j| t.concepts[j].name.clone())
        .collect()
}

#[test]
fn iptc_counts_by_level() {
    let t = taxonomy();
    assert_eq!(t.updated, "2025-03-31");
    // 1387 concept rows, 302 retired; no active concept sits under a retired one.
    assert_eq!(t.concepts.len(), 1085);
    let mut per_level = [0usize; 7];
    for c in &t.concepts {
        per_level[c.level as usize] += 1;
    }
    assert_eq!(per_level, [0, 17, 120, 515, 379, 49, 5]);
    assert_eq!(t.top_level().count(), 17);
    for (i, c) in t.concepts.iter().enumerate() {
        assert!(c.code.starts_with("medtop:"), "{c:?}");
        assert!(!c.name.is_empty() && !c.definition.is_empty(), "{c:?}");
        assert_eq!(c.name.trim(), c.name);
        match c.parent {
            None => assert_eq!(c.level, 1),
            Some(p) => {
                assert_eq!(t.concepts[p].level + 1, c.level);
                assert!(t.concepts[p].children.contains(&i));
            }
        }
    }
}

#[test]
fn iptc_paths_reach_their_top_level() {
    let t = taxonomy();
    let sport = t.by_code("medtop:15000000").unwrap();
    assert_eq!(t.concepts[sport].name, "sport");
    let sailing = path_names(t, "medtop:20001038");
    assert_eq!(sailing.first().map(String::as_str), Some("sport"));
    assert_eq!(sailing.last().map(String::as_str), Some("sailing"));
    let gardening = path_names(t, "medtop:20001257");
    assert_eq!(
        gardening.first().map(String::as_str),
        Some("lifestyle and leisure")
    );
    assert_eq!(gardening.last().map(String::as_str), Some("gardening"));
    assert_eq!(
        t.path(t.by_code("medtop:20001257").unwrap())[0],
        t.by_code("medtop:10000000").unwrap()
    );
    // Retired concepts are not in the tree ("sailing regatta", retired 2017).
    assert_eq!(t.by_code("medtop:20001042"), None);
}
