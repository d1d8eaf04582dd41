//! What must hold for any input, checked by assertion: shared by the property tests
//! (`tests/integration/properties.rs`, on stable, every CI run) and the fuzz targets (`tests/fuzz/`), so
//! both prove the same promises and neither keeps a copy. Each function runs one stage on
//! arbitrary input and panics, naming the broken promise, when one fails; a panic inside the
//! stage itself is a failure too. Not part of the API.

use std::io::{BufRead, BufReader, Cursor};
use std::ops::Range;
use std::path::{Component, Path};

use crate::article::Input;
use crate::emit::{Shape, render};
use crate::entities::spacy_sm::SpacyNer;
use crate::ingest::{JsonlReader, ReadOptions, input_from_json};
use crate::offsets::CharOffsets;
use crate::pipeline::{Outcome, prepare_batch};

/// `span` lies inside `text` and starts and ends on character boundaries.
pub fn assert_span(text: &str, span: &Range<usize>, what: &str) {
    assert!(
        span.start <= span.end && span.end <= text.len(),
        "{what} {span:?} out of bounds (text is {} bytes)",
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what} {span:?} not on a character boundary"
    );
}

/// Spans in order, not overlapping, each inside `text`; `non_empty` when an empty span would
/// be a bug.
pub fn assert_ordered_spans(text: &str, spans: &[Range<usize>], what: &str, non_empty: bool) {
    let mut end = 0;
    for span in spans {
        assert_span(text, span, what);
        assert!(!non_empty || span.start < span.end, "empty {what} {span:?}");
        assert!(
            span.start >= end,
            "{what} {span:?} overlaps or precedes the one before (ending at {end})"
        );
        end = span.end;
    }
}

/// Byte to code point offsets: at every character boundary (the end included) the code
/// point offset is the number of characters before it, as Python's `len(text[:i])`.
pub fn offsets(text: &str) {
    let map = CharOffsets::new(text);
    let mut chars = 0;
    for (byte, _) in text.char_indices() {
        assert_eq!(map.char_at(byte), chars, "code point offset of byte {byte}");
        chars += 1;
    }
    assert_eq!(
        map.char_at(text.len()),
        chars,
        "code point offset of the end"
    );
}

/// Cleaning and segmentation (the `segment` command's path, no model): boilerplate and prose
/// blocks ordered and disjoint inside the text, sentences ordered, disjoint, non-empty and
/// each inside one prose block; and the rendered record's code point offsets give back each
/// span's text, so Python's `text[start:end]` equals the `text` field.
pub fn clean_and_segment(text: &str) {
    let cleaned = crate::clean::clean(text);
    let boiler: Vec<Range<usize>> = cleaned
        .boilerplate
        .iter()
        .map(|b| b.range.clone())
        .collect();
    assert_ordered_spans(text, &boiler, "boilerplate", true);
    assert_ordered_spans(text, &cleaned.prose, "prose block", false);
    for b in &boiler {
        assert!(
            cleaned
                .prose
                .iter()
                .all(|p| p.end <= b.start || p.start >= b.end),
            "boilerplate {b:?} overlaps prose"
        );
    }
    let sentences = crate::segment::segment(text, &cleaned.prose);
    assert_ordered_spans(text, &sentences, "sentence", true);
    for s in &sentences {
        assert!(
            cleaned
                .prose
                .iter()
                .any(|p| p.start <= s.start && s.end <= p.end),
            "sentence {s:?} outside every prose block"
        );
    }
    offsets(text);

    // End to end, as `newstag segment` renders it: one record, offsets in code points.
    let input = crate::ingest::input_from_value(
        serde_json::json!({"id": "fuzz", "text": text}),
        "fuzz".into(),
        ReadOptions {
            max_article_bytes: usize::MAX,
            ..ReadOptions::default()
        },
    );
    let outcomes = prepare_batch(vec![input]);
    assert_eq!(outcomes.len(), 1, "one outcome per input");
    let line = render(&outcomes[0], Shape::Segment, &Default::default()).expect("render");
    assert_eq!(line.last(), Some(&b'\n'), "a record is one line");
    assert!(
        !line[..line.len() - 1].contains(&b'\n'),
        "a record has no raw newline"
    );
    let record: serde_json::Value = serde_json::from_slice(&line).expect("record is JSON");
    assert_eq!(record["id"], "fuzz");
    if let Outcome::Done(_) = &outcomes[0] {
        let chars: Vec<char> = text.chars().collect();
        for field in ["sentences", "boilerplate"] {
            for span in record[field].as_array().expect("span list") {
                let (start, end) = (
                    span["start"].as_u64().unwrap() as usize,
                    span["end"].as_u64().unwrap() as usize,
                );
                assert!(start <= end && end <= chars.len(), "{field} {start}..{end}");
                let sliced: String = chars[start..end].iter().collect();
                assert_eq!(
                    span["text"].as_str().unwrap(),
                    sliced,
                    "{field} text vs code point offsets"
                );
            }
        }
    } else {
        assert!(
            text.trim().is_empty(),
            "only an empty text fails to segment"
        );
    }
}

/// The spaCy port's tokens and entities: tokens ordered, disjoint, non-empty and covering
/// every non-whitespace character; entities ordered, disjoint and made of whole tokens.
pub fn spacy(ner: &SpacyNer, text: &str, with_entities: bool) {
    let tokens = ner.tokenize(text);
    assert_ordered_spans(text, &tokens, "token", true);
    let mut covered = vec![false; text.len()];
    for t in &tokens {
        covered[t.clone()].iter_mut().for_each(|c| *c = true);
    }
    for (i, c) in text.char_indices() {
        assert!(
            covered[i] || c.is_whitespace(),
            "character {c:?} at byte {i} is in no token"
        );
    }
    if with_entities {
        let (toks, entities) = ner.annotate(text);
        assert_eq!(toks, tokens, "annotate tokenises as tokenize does");
        let spans: Vec<Range<usize>> = entities.iter().map(|e| e.start..e.end).collect();
        assert_ordered_spans(text, &spans, "entity", true);
        for e in &spans {
            assert!(
                tokens.iter().any(|t| t.start == e.start) && tokens.iter().any(|t| t.end == e.end),
                "entity {e:?} does not start and end on token boundaries"
            );
        }
    }
}

/// JSON Lines ingestion, plain and gzip-compressed: exactly one input per non-blank line, in
/// order (the n-th input is what the n-th non-blank line gives read on its own), whatever the
/// bytes.
pub fn jsonl(bytes: &[u8]) {
    let opts = ReadOptions::default();
    let read = |reader: Box<dyn BufRead>| -> Vec<Input> {
        JsonlReader::new("in".into(), reader, opts).collect()
    };
    let inputs = read(Box::new(Cursor::new(bytes.to_vec())));
    let mut expected = Vec::new();
    for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        if !line.iter().all(u8::is_ascii_whitespace) {
            expected.push(input_from_json(line, format!("in:{}", i + 1), opts));
        }
    }
    assert_eq!(inputs.len(), expected.len(), "one input per non-blank line");
    for (got, want) in inputs.iter().zip(&expected) {
        assert_eq!(got.id(), want.id(), "inputs in line order");
    }

    // The same lines gzip-compressed read the same (the `.jsonl.gz` path).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, bytes).unwrap();
    let compressed = gz.finish().unwrap();
    let unzipped = read(Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(
        Cursor::new(compressed),
    ))));
    assert_eq!(
        unzipped.iter().map(Input::id).collect::<Vec<_>>(),
        inputs.iter().map(Input::id).collect::<Vec<_>>(),
        "gzip reads as plain"
    );
}

/// Arbitrary (possibly corrupt) gzip bytes: reading never panics and never loops: at most
/// one input per non-blank line of what decompresses, plus one error input where the stream
/// breaks off. Decompression is capped (a few KB can inflate to gigabytes).
pub fn gzip(bytes: &[u8]) {
    const CAP: u64 = 16 << 20;
    // The lines are counted in exactly the bytes the reader was given: how much of a corrupt
    // stream decompresses before the error depends on the sizes of the reads, so decompressing
    // it a second time, separately, can stop elsewhere.
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let tee = Tee {
        inner: std::io::Read::take(flate2::read::MultiGzDecoder::new(Cursor::new(bytes)), CAP),
        seen: seen.clone(),
    };
    let mut reader = JsonlReader::new("in".into(), BufReader::new(tee), ReadOptions::default());
    let mut inputs = 0usize;
    // Bounded, so that a reader that loops is caught rather than run forever: no stream
    // under the cap has more lines than bytes.
    while reader.next().is_some() {
        inputs += 1;
        assert!(inputs <= CAP as usize + 1, "the reader does not stop");
    }
    let lines = seen
        .borrow()
        .split_inclusive(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    assert!(
        inputs <= lines + 1,
        "{inputs} inputs from {lines} lines of decompressed text"
    );
}

/// A reader that keeps a copy of every byte it hands on.
struct Tee<R> {
    inner: R,
    seen: std::rc::Rc<std::cell::RefCell<Vec<u8>>>,
}

impl<R: std::io::Read> std::io::Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.borrow_mut().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// A topic set, entity rules and a vocabulary (TOML and CSV) from arbitrary text: a value or
/// an error, never a panic.
pub fn config_files(text: &str) {
    let _ = crate::topics::TopicSet::parse("fuzz", text);
    let _ = crate::aggregate::rules::EntityRules::parse(text);
    for csv in [true, false] {
        if let Ok(entries) = crate::aggregate::vocabulary::entries_from_text(text, csv) {
            let _ = crate::aggregate::vocabulary::Vocabulary::new(entries);
        }
    }
    if let Ok(config) = toml::from_str::<crate::config::Config>(text) {
        let _ = config.validate();
    }
}

/// The model store's catalogue and its record of checked files: a name resolves only to the
/// model of that name, and any `.checked` text only ever matches a line naming the file.
pub fn store_catalogue(text: &str) {
    if let Some(spec) = crate::store::spec(text) {
        assert_eq!(spec.name, text);
    }
    let checked = crate::store::Checked(text.to_string());
    for spec in crate::store::CATALOG {
        for file in spec.files {
            // Any existing path does: its size and time are read, the text is compared.
            let _ = checked.matches(file, Path::new("/"));
        }
    }
}

/// What the Hub client reads from a server (headers, redirects, a cached file's metadata)
/// and from a user (repo ids, revisions, file paths): no panic, and a path accepted for the
/// cache never leaves it.
pub fn hub(text: &str) {
    use crate::hub;
    let _ = hub::parse_content_range(text);
    let _ = hub::clean_etag(text);
    let (base, location) = text.split_once('\n').unwrap_or((text, ""));
    let resolved = hub::resolve_location(base, location);
    assert!(resolved.contains("://"), "a resolved location is a URL");
    if let Ok(meta) = serde_json::from_str::<hub::FileMeta>(text) {
        let again = serde_json::to_string(&meta).unwrap();
        assert_eq!(serde_json::from_str::<hub::FileMeta>(&again).unwrap(), meta);
    }
    let stays_inside = |p: &str| {
        Path::new(p)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    };
    if hub::check_file_path(text).is_ok() {
        assert!(stays_inside(text), "accepted file path {text:?} escapes");
    }
    if hub::check_repo_id(text).is_ok() {
        assert!(stays_inside(text), "accepted repo id {text:?} escapes");
    }
    if hub::check_revision(text).is_ok() {
        assert!(
            text.split('/').all(|p| p != ".." && p != "."),
            "accepted revision {text:?} escapes"
        );
    }
    if let Ok(hub::ModelRef::Hub { repo, revision }) = hub::ModelRef::parse(text) {
        assert_eq!(repo.matches('/').count(), 1, "{repo}");
        assert!(!revision.is_empty());
    }
}

/// Arbitrary bytes as a web page (with and without a declared charset): extraction never
/// panics, and returns a text that is not blank, or an error.
#[cfg(feature = "html")]
pub fn html(bytes: &[u8]) {
    for content_type in [None, Some("text/html; charset=windows-1252")] {
        if let Ok(found) = crate::page::extract(bytes, content_type, Some("https://example.com/a"))
        {
            assert!(
                !found.text.trim().is_empty(),
                "an extracted text is never blank"
            );
        }
    }
}

/// Arbitrary bytes as a WARC file, plain and as gzip members: reading never panics and never
/// loops, and yields at most one input per record start plus one error per run of junk
/// (before the first record and after each, as the reader skips to the next record); each
/// page input extracts without a panic.
#[cfg(feature = "html")]
pub fn warc(bytes: &[u8]) {
    // A record can start wherever `WARC/` is, not only at a line start of the raw bytes: a
    // block is read by its length and may end mid-line.
    let records = bytes.windows(5).filter(|w| w == b"WARC/").count();
    let starts = 2 * records + 1;
    let plain = crate::warc::WarcReader::new(
        "in".into(),
        BufReader::new(Cursor::new(bytes)),
        ReadOptions::default(),
    );
    let mut inputs = 0;
    for input in plain {
        inputs += 1;
        assert!(
            inputs <= starts,
            "{inputs} inputs from {records} record starts"
        );
        if let Input::Article(mut article) = input {
            let _ = crate::page::extract_into(&mut article);
        }
    }
    // Gzip members: what decompresses is bounded by what a member can inflate to; the count
    // is bounded by the reads, which stop.
    let members = crate::warc::WarcReader::new(
        "in".into(),
        BufReader::new(std::io::Read::take(
            crate::warc::Members::new(Cursor::new(bytes)),
            16 << 20,
        )),
        ReadOptions::default(),
    );
    let mut inputs = 0usize;
    for _ in members {
        inputs += 1;
        assert!(inputs <= (16 << 20), "the reader does not stop");
    }
}
