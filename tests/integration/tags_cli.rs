//! Document entities and tag suggestions (`annotate` records and `newstag tags`).

use crate::common;

use std::fs;

use common::*;
use serde_json::Value;

fn tags_json(extra: &[&str]) -> Vec<Value> {
    ensure_models();
    let seed = seed();
    let mut args = vec!["tags", "--json", "-q"];
    args.extend_from_slice(extra);
    args.push(&seed);
    let out = run(&args);
    assert_ok(&out);
    records(&out)[0]["tags"].as_array().unwrap().clone()
}

#[test]
fn seed_top_suggestions() {
    let tags = tags_json(&["--top", "15"]);
    let names: Vec<&str> = tags.iter().map(|t| t["tag"].as_str().unwrap()).collect();
    for want in [
        "Arctic",
        "Northern Sea Route",
        "Putin",
        "Russia",
        "China",
        "NATO",
    ] {
        assert!(names.contains(&want), "{want} not in {names:?}");
    }
    assert!(
        names.iter().any(|n| *n == "Xi" || *n == "Xi Jinping"),
        "{names:?}"
    );
    // Nothing from the dateline or the navigation tail.
    for junk in [
        "Focus",
        "June 2025",
        "July 2025",
        "Asia-Pasific",
        "Clash Report",
        "May 30, 2025",
    ] {
        assert!(!names.contains(&junk), "{junk} suggested");
    }
    let scores: Vec<f64> = tags.iter().map(|t| t["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "ranked: {scores:?}"
    );
    for t in &tags {
        assert!(!t["why"].as_array().unwrap().is_empty(), "{t}");
    }
    // The Arctic topic and the Arctic place are one suggestion.
    assert_eq!(names.iter().filter(|n| **n == "Arctic").count(), 1);
}

#[test]
fn seed_actors_lead_the_top_ten() {
    let tags = tags_json(&["--top", "10"]);
    let names: Vec<&str> = tags.iter().map(|t| t["tag"].as_str().unwrap()).collect();
    for want in SEED_TOP_TAGS {
        assert!(names.contains(&want), "{want} not in the top 10: {names:?}");
    }
    // At most three tags come from topics alone; the Arctic, a topic and a place, is an
    // entity too (its reasons include its mentions).
    let from_entity = |t: &Value| {
        t["why"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains(" mention"))
    };
    let topics_alone = tags
        .iter()
        .filter(|t| t["kind"] == "topic" && !from_entity(t))
        .count();
    assert!(topics_alone <= 3, "{names:?}");
    // China is named once ("China-Russia"), and Beijing’s presence is China’s.
    let china = tags.iter().find(|t| t["tag"] == "China").unwrap();
    assert_eq!(
        china["why"][0], "2 mentions (Beijing for its government)",
        "{china}"
    );
}

#[test]
fn table_is_aligned_and_top_is_honoured() {
    ensure_models();
    let out = run(&["tags", "-q", "--top", "5", &seed()]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("== ") && lines[0].ends_with("000_96f95457316a6f2e.txt"));
    assert!(lines[1].contains("TAG") && lines[1].contains("KIND") && lines[1].contains("SCORE"));
    let rows = &lines[2..7];
    assert!(lines[7].is_empty());
    // Columns line up: KIND starts at the same character on every row.
    let kind_col = lines[1].find("KIND").unwrap();
    for row in rows {
        let prefix: String = row.chars().take(kind_col).collect();
        assert!(prefix.ends_with("  "), "{row:?}");
        let kind: String = row
            .chars()
            .skip(kind_col)
            .take_while(|c| *c != ' ')
            .collect();
        assert!(
            ["topic", "person", "place", "organization", "group", "event"].contains(&kind.as_str()),
            "{row:?}"
        );
    }
}

#[test]
fn vocabulary_snaps_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let vocab = dir.path().join("desk.csv");
    fs::write(
        &vocab,
        "tag,kind,aliases\nVladimir Putin,person,Putin|President Putin\nArctic region,geo,Arctic\nNorth Atlantic Treaty Organization,org,NATO\n",
    )
    .unwrap();
    let v = vocab.to_str().unwrap();
    let tags = tags_json(&["--top", "30", "--vocabulary", v]);
    let find = |name: &str| tags.iter().find(|t| t["tag"] == name);
    let putin = find("Vladimir Putin").expect("Putin snapped to the vocabulary form");
    assert_eq!(putin["kind"], "person");
    assert_eq!(putin["vocabulary"], true);
    assert_eq!(find("Arctic region").unwrap()["kind"], "geo");
    assert!(find("Putin").is_none() && find("Arctic").is_none());
    assert_eq!(find("Russia").unwrap()["vocabulary"], false);

    let only = tags_json(&["--top", "30", "--vocabulary", v, "--vocabulary-only"]);
    let names: Vec<&str> = only.iter().map(|t| t["tag"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(only.iter().all(|t| t["vocabulary"] == true));
}

#[test]
fn entity_rules_force_entities_before_grouping() {
    ensure_models();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    fs::write(
        &rules,
        "[[entity]]\nphrase = \"Arctic cooperation body\"\nlabel = \"ORG\"\n\n[[entity]]\npattern = '\\bXi\\b'\nlabel = \"PERSON\"\n",
    )
    .unwrap();
    let out = run(&[
        "annotate",
        "-q",
        "--entity-rules",
        rules.to_str().unwrap(),
        &seed(),
    ]);
    assert_ok(&out);
    let r = &records(&out)[0];
    let orgs = strs(r, "organizations", "name");
    assert!(orgs.contains(&"Arctic cooperation body"), "{orgs:?}");
    let xi = r["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Xi")
        .unwrap();
    assert_eq!(xi["mentions"], 2, "both Xi’s are forced to PERSON: {xi}");
}

#[test]
fn document_entities_in_the_record() {
    ensure_models();
    let text = fs::read_to_string(seed()).unwrap();
    let out = run(&["annotate", "-q", &seed()]);
    let r = &records(&out)[0];
    let people = r["people"].as_array().unwrap();
    let putin = people.iter().find(|p| p["name"] == "Putin").unwrap();
    assert_eq!(putin["mentions"].as_u64().unwrap(), 3);
    assert_eq!(putin["first_sentence"], 0);
    // Spans are code point offsets of every mention, possessive and title included.
    for span in putin["spans"].as_array().unwrap() {
        let s = py_slice(&text, span[0].as_u64().unwrap(), span[1].as_u64().unwrap());
        assert!(s.contains("Putin"), "{s}");
    }
    let places = r["places"].as_array().unwrap();
    for p in places {
        let sal = p["salience"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&sal));
    }
    let sal: Vec<f64> = places
        .iter()
        .map(|p| p["salience"].as_f64().unwrap())
        .collect();
    assert!(
        sal.windows(2).all(|w| w[0] >= w[1]),
        "places sorted by salience"
    );
    assert!(places.iter().any(|p| p["name"] == "Northern Sea Route"));
    // Places resolve against the gazetteer; what it cannot place stays unresolved.
    let place = |name: &str| places.iter().find(|p| p["name"] == name).unwrap();
    assert_eq!(place("Norway")["country_code"], "NO");
    assert_eq!(place("Norway")["feature"], "country");
    assert_eq!(place("Moscow")["country_code"], "RU");
    assert_eq!(place("Moscow")["feature"], "city");
    assert!((place("Moscow")["lat"].as_f64().unwrap() - 55.75).abs() < 0.1);
    assert_eq!(place("Beijing")["country_code"], "CN");
    // "The China-Russia push": each part is a mention of its country, at its own offsets;
    // "Beijing’s and Moscow’s presence" is the governments'.
    let spans_of = |e: &Value| -> Vec<String> {
        e["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| py_slice(&text, s[0].as_u64().unwrap(), s[1].as_u64().unwrap()))
            .collect()
    };
    let compound = text.find("China-Russia").unwrap();
    let china_at = text[..compound].chars().count() as u64;
    let china = place("China");
    assert_eq!(
        china["spans"][0],
        serde_json::json!([china_at, china_at + 5])
    );
    assert_eq!(spans_of(china), ["China", "Beijing"]);
    let russia = place("Russia");
    assert!(
        russia["spans"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!([china_at + 6, china_at + 12])),
        "{russia}"
    );
    assert_eq!(spans_of(russia), ["Russia", "Russia", "Russia", "Moscow"]);
    assert_eq!(spans_of(place("Moscow")), ["Moscow", "Moscow"]);
    // Both of Xi’s visits count, though the recogniser labels only the first.
    let xi = people.iter().find(|p| p["name"] == "Xi").unwrap();
    assert_eq!(xi["mentions"], 2);
    for e in r["entities"].as_array().unwrap() {
        let (s, end) = (e["start"].as_u64().unwrap(), e["end"].as_u64().unwrap());
        assert_eq!(py_slice(&text, s, end), e["text"].as_str().unwrap());
    }
    assert!(place("Northern Sea Route").get("country_code").is_none());
}
