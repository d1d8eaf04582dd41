//! Property tests: the invariants of `newstag::invariants` (shared with the fuzz targets in
//! `tests/fuzz/`) over generated input, on stable, on every test run. Case counts are kept
//! moderate so the suite stays fast; the fuzzers run the same checks for as long as one likes.

use crate::common;

use std::sync::OnceLock;

use newstag::entities::spacy_sm::SpacyNer;
use newstag::invariants;
use proptest::prelude::*;

/// Pieces that steer generated text into the paths real articles take (abbreviations,
/// quotes, datelines, boilerplate lines, CRLF) and the ones that break naive code (NUL and
/// other controls, combining marks, emoji with modifiers and joiners, lone surrogate-adjacent
/// code points, right-to-left text).
const PIECES: &[&str] = &[
    "The",
    " ",
    "  ",
    "minister",
    "said",
    ".",
    ". ",
    "?",
    "!",
    "...",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "\0",
    "\u{1}",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}",
    "\u{200b}",
    "e\u{301}",
    "\u{301}",
    "👍🏽",
    "👨‍👩‍👧",
    "🇺🇳",
    "北京",
    "Москва",
    "القاهرة",
    "Mr.",
    "Dr.",
    "U.S.",
    "e.g.",
    "No.",
    "\"",
    "“",
    "”",
    "'",
    "(",
    ")",
    "[",
    "]",
    "May 30, 2025",
    "2025-05-30",
    "LONDON (Reuters) -",
    "Share",
    "Subscribe",
    "Advertisement",
    "Related:",
    "-",
    "—",
    "•",
    "|",
    "#",
    "1.5",
    "3.",
    "a",
    "Z",
    "\u{10ffff}",
    "\u{fffd}",
];

fn text(max_pieces: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(PIECES).prop_map(str::to_string),
        2 => any::<char>().prop_map(String::from),
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..max_pieces).prop_map(|v| v.concat())
}

/// A long line with no sentence end: the segmenter and tokenizer must neither cut it wrongly
/// nor go quadratic (a few cases only; size is what is tested).
fn long_line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["word ", "a", "é", "北", "👍🏽", "x\u{301}", ",", " "][..]),
        1_000usize..20_000,
    )
        .prop_map(|(unit, n)| unit.repeat(n))
}

fn spacy() -> &'static SpacyNer {
    static NER: OnceLock<SpacyNer> = OnceLock::new();
    NER.get_or_init(|| {
        common::fetch(&["en-core-web-sm"]);
        let store = newstag::Store::from_env().unwrap();
        let dir = store.require(&newstag::store::EN_CORE_WEB_SM).unwrap();
        SpacyNer::load(&dir).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn clean_and_segment(text in text(80)) {
        invariants::clean_and_segment(&text);
    }

    #[test]
    fn offsets(text in text(80)) {
        invariants::offsets(&text);
    }

    #[test]
    fn spacy_tokenizer(text in text(80)) {
        invariants::spacy(spacy(), &text, false);
    }

    #[test]
    fn jsonl_lines(lines in prop::collection::vec(prop_oneof![
        3 => text(12).prop_map(|t| serde_json::json!({"id": t.clone(), "text": t}).to_string()),
        1 => text(12).prop_map(|t| serde_json::json!({"text": t}).to_string()),
        1 => text(12),
        1 => prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => Just(String::new()),
        1 => Just("   \t".to_string()),
    ], 0..12), crlf in any::<bool>(), last_newline in any::<bool>()) {
        let mut bytes = lines.join(if crlf { "\r\n" } else { "\n" }).into_bytes();
        if last_newline {
            bytes.push(b'\n');
        }
        invariants::jsonl(&bytes);
    }

    #[test]
    fn jsonl_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        invariants::jsonl(&bytes);
        invariants::gzip(&bytes);
    }

    #[test]
    fn config_files(text in prop::collection::vec(prop_oneof![
        prop::sample::select(&[
            "[[topic]]\n", "[[entity]]\n", "patterns = ", "[[tag]]\n", "name = ", "label = ", "pattern = ",
            "phrase = ", "regex = ", "kind = ", "aliases = ", "prototypes = ", "tag = ",
            "description = ", "threshold = ", "true", "1.5", "-1", "\"", "\"x\"", "'(?i)a+'",
            "\"(\"", "\"[\"", "\"\\\\\"", "[", "]", ",", "\n", "tag,kind,aliases\n", "|",
            "PERSON", "ORG", "GPE", "profile = \"fast\"", "batch_size = 0",
        ][..]).prop_map(str::to_string),
        any::<String>(),
    ], 0..30).prop_map(|v| v.concat())) {
        invariants::config_files(&text);
    }

    #[test]
    fn store_and_hub(text in prop::collection::vec(prop_oneof![
        prop::sample::select(&[
            "/", "..", ".", "a", "org", "@", "main", "bytes ", "bytes=", "-", "*", "0", "100",
            "http://", "https://", "//", "?", "#", "\\", "\n", "W/", "\"", "\0", ":", "%2e",
            ".incomplete", ".meta.json", "geonames", "{\"repo_id\":\"a/b\",\"revision\":\"r\",\"path\":\"p\",\"size\":1}",
        ][..]).prop_map(str::to_string),
        any::<String>(),
    ], 0..12).prop_map(|v| v.concat())) {
        invariants::store_catalogue(&text);
        invariants::hub(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn long_lines_segment_and_tokenize(text in long_line()) {
        invariants::clean_and_segment(&text);
        invariants::spacy(spacy(), &text, false);
    }
}

proptest! {
    // The NER runs a neural network per sentence: fewer cases.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn spacy_entities(text in text(40)) {
        invariants::spacy(spacy(), &text, true);
    }
}

/// Inputs the property tests found, kept as regression tests.
#[test]
fn found_cases() {
    // A corrupt gzip stream (found by the gzip fuzz target) whose reading yielded more inputs
    // than the decompressed text has lines.
    invariants::gzip(include_bytes!("../../fixtures/fuzz/gzip-b60aab1b.gz"));
    // A dateline whose short tail was labelled over the whole line, overlapping the dateline.
    invariants::clean_and_segment("\nMay 30, 2025aminister");
    // A prose block carried on from a blank first line over the dateline into its tail.
    invariants::clean_and_segment("\nMay 30, 2025ministerTheTheMr.");
    invariants::clean_and_segment(
        "\n\nMay 30, 2025 — Moscow said the talks had failed. More followed.",
    );
    // Junk, one record, junk (found by the warc fuzz target): three inputs from one record
    // start, each junk run reported once, which the old bound of one per start did not allow.
    #[cfg(feature = "html")]
    invariants::warc(include_bytes!("../../fixtures/fuzz/warc-2939c8aa.warc"));
}
