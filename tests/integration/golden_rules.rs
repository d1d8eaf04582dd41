//! English Golden Rules (Pragmatic Segmenter, via pySBD 0.3.3) benchmark.

use newstag::segment::sentence_spans;

const FIXTURE: &str = include_str!("../../fixtures/golden_rules_en.json");
const REQUIRED: usize = 46;

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn golden_rules_en() {
    let cases: serde_json::Value = serde_json::from_str(FIXTURE).expect("valid fixture JSON");
    let cases = cases.as_array().expect("fixture is a list");
    let mut passed = 0;
    for (i, case) in cases.iter().enumerate() {
        let text = case["text"].as_str().expect("text");
        let expected: Vec<String> = case["sentences"]
            .as_array()
            .expect("sentences")
            .iter()
            .map(|s| normalise(s.as_str().expect("sentence")))
            .filter(|s| !s.is_empty())
            .collect();
        let got: Vec<String> = sentence_spans(text)
            .into_iter()
            .map(|r| normalise(&text[r]))
            .collect();
        if got == expected {
            passed += 1;
        } else {
            println!(
                "FAIL #{}: {text:?}\n  expected: {expected:?}\n  got:      {got:?}",
                i + 1
            );
        }
    }
    println!("golden rules (en): {passed}/{} passed", cases.len());
    assert_eq!(cases.len(), 48, "fixture should hold 48 cases");
    assert!(
        passed >= REQUIRED,
        "only {passed}/48 golden rules passed (need {REQUIRED})"
    );
}
