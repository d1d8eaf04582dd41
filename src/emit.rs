//! Emit: documents to JSON records with code point offsets, and the writer that prints them;
//! [`parquet`] (the `parquet` feature) writes the same records as Parquet rows, and [`sink`]
//! puts either into a stream or a file that a killed run never leaves lying.

#[cfg(feature = "parquet")]
pub mod parquet;
pub mod sink;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::article::DocError;
use crate::clean::BoilerplateKind;
use crate::document::{Category, DocEntity, Document, Tag, TopicScore};
use crate::offsets::CharOffsets;
use crate::pipeline::Outcome;

#[derive(Serialize)]
pub struct SpanOut<'a> {
    pub start: usize,
    pub end: usize,
    pub text: &'a str,
}

#[derive(Serialize)]
pub struct BoilerplateOut<'a> {
    pub start: usize,
    pub end: usize,
    pub text: &'a str,
    pub kind: BoilerplateKind,
}

#[derive(Serialize)]
pub struct EntityOut<'a> {
    pub text: &'a str,
    pub label: &'a str,
    pub category: Category,
    pub start: usize,
    pub end: usize,
    pub sentence: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

/// One document entity, with code point spans.
#[derive(Serialize)]
pub struct DocEntityOut<'a> {
    pub name: &'a str,
    pub mentions: usize,
    pub salience: f32,
    pub aliases: &'a [String],
    pub spans: Vec<[usize; 2]>,
    pub first_sentence: Option<usize>,
    /// Gazetteer fields, present when the place (or a group's country) was resolved.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub geo: Option<GeoOut<'a>>,
}

#[derive(Serialize)]
pub struct GeoOut<'a> {
    pub country_code: &'a str,
    pub lat: f64,
    pub lon: f64,
    pub geonames_id: u64,
    pub geonames_name: &'a str,
    pub feature: crate::places::PlaceKind,
}

fn doc_entities<'a>(
    doc: &'a Document,
    map: &CharOffsets,
    keep: impl Fn(Category) -> bool,
) -> Vec<DocEntityOut<'a>> {
    doc.doc_entities
        .iter()
        .filter(|e| keep(e.category))
        .map(|e: &'a DocEntity| DocEntityOut {
            name: &e.name,
            mentions: e.mentions,
            salience: e.salience,
            aliases: &e.aliases,
            spans: e
                .byte_spans
                .iter()
                .map(|&(s, end)| [map.char_at(s), map.char_at(end)])
                .collect(),
            first_sentence: e.first_sentence,
            geo: e.place.as_ref().map(|p| GeoOut {
                country_code: &p.country_code,
                lat: p.lat,
                lon: p.lon,
                geonames_id: p.geonames_id,
                geonames_name: &p.name,
                feature: p.kind,
            }),
        })
        .collect()
}

/// `newstag annotate`'s record for one article.
#[derive(Serialize)]
pub struct AnnotationRecord<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub published: Option<String>,
    pub source: Option<&'a str>,
    /// The text every offset refers to, when it is not the input's own (extracted from a
    /// web page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    pub sentences: Vec<SpanOut<'a>>,
    pub boilerplate: Vec<BoilerplateOut<'a>>,
    pub topics: &'a [TopicScore],
    pub entities: Vec<EntityOut<'a>>,
    pub people: Vec<DocEntityOut<'a>>,
    pub places: Vec<DocEntityOut<'a>>,
    pub organizations: Vec<DocEntityOut<'a>>,
    pub groups: Vec<DocEntityOut<'a>>,
    pub events: Vec<DocEntityOut<'a>>,
    pub other: Vec<DocEntityOut<'a>>,
    pub tags: &'a [Tag],
    pub meta: &'a Map<String, Value>,
    pub models: &'a BTreeMap<&'static str, String>,
}

/// `newstag segment`'s record for one article.
#[derive(Serialize)]
pub struct SegmentRecord<'a> {
    pub id: &'a str,
    pub published: Option<String>,
    /// As in [`AnnotationRecord::text`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    pub sentences: Vec<SpanOut<'a>>,
    pub boilerplate: Vec<BoilerplateOut<'a>>,
}

#[derive(Serialize)]
pub struct ErrorRecord<'a> {
    pub id: &'a str,
    pub error: &'a DocError,
}

fn spans<'a>(text: &'a str, map: &CharOffsets, ranges: &[Range<usize>]) -> Vec<SpanOut<'a>> {
    ranges
        .iter()
        .map(|r| SpanOut {
            start: map.char_at(r.start),
            end: map.char_at(r.end),
            text: &text[r.clone()],
        })
        .collect()
}

fn boilerplate<'a>(doc: &'a Document, map: &CharOffsets) -> Vec<BoilerplateOut<'a>> {
    doc.cleaned
        .boilerplate
        .iter()
        .map(|b| BoilerplateOut {
            start: map.char_at(b.range.start),
            end: map.char_at(b.range.end),
            text: &doc.article.text[b.range.clone()],
            kind: b.kind,
        })
        .collect()
}

/// Tags per article unless asked otherwise: `newstag tags`, the server's `/v1/tags` and
/// Python's `Annotator.tags` all start from it.
pub const DEFAULT_TOP_TAGS: usize = 15;

/// Which record shape to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Segment,
    Annotate,
    /// `newstag tags`: the top tags per article, as an aligned table or a JSON line.
    Tags {
        top: usize,
        json: bool,
    },
    /// `newstag extract`: a web page's text and metadata ([`ExtractRecord`]).
    Extract,
}

/// `newstag extract`'s record for one page, in the shape of trafilatura's JSON output.
#[derive(Serialize)]
pub struct ExtractRecord<'a> {
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<&'a str>,
    pub text: &'a str,
}

fn extract_record(doc: &Document) -> ExtractRecord<'_> {
    let page = doc.article.page.as_deref();
    ExtractRecord {
        id: &doc.article.id,
        url: page.and_then(|p| p.url.as_deref()),
        title: doc.article.title.as_deref(),
        // The page's own date, else the day it was fetched (a WARC record's), as annotate
        // falls back to it.
        published: page
            .and_then(|p| p.published.or(p.fetched))
            .map(|d| d.to_string()),
        author: page.and_then(|p| p.author.as_deref()),
        site: page.and_then(|p| p.site.as_deref()),
        language: page.and_then(|p| p.language.as_deref()),
        text: &doc.article.text,
    }
}

#[derive(Serialize)]
struct TagsRecord<'a> {
    id: &'a str,
    /// As in [`AnnotationRecord::text`]: what the tags' quotes come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    tags: &'a [Tag],
}

/// The text to print with a record: an extracted page's (the reader cannot see it in its
/// input), not an input text's (the reader has it; printing it again would double the output).
fn page_text(doc: &Document) -> Option<&str> {
    doc.article.page.as_ref().map(|_| doc.article.text.as_str())
}

/// Renders one outcome in the requested shape, newline-terminated.
pub fn render(
    outcome: &Outcome,
    shape: Shape,
    models: &BTreeMap<&'static str, String>,
) -> serde_json::Result<Vec<u8>> {
    match (shape, outcome) {
        (Shape::Tags { top, json: true }, Outcome::Done(doc)) => {
            let mut line = serde_json::to_vec(&TagsRecord {
                id: &doc.article.id,
                text: page_text(doc),
                tags: &doc.tags[..top.min(doc.tags.len())],
            })?;
            line.push(b'\n');
            Ok(line)
        }
        (Shape::Tags { top, json: false }, _) => Ok(tags_table(outcome, top).into_bytes()),
        _ => to_json_line(outcome, shape, models),
    }
}

/// An editor's view: one aligned block per article.
pub fn tags_table(outcome: &Outcome, top: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    match outcome {
        Outcome::Failed { id, error } => {
            let _ = writeln!(
                out,
                "== {id}\n   error ({}): {}\n",
                error.kind.as_str(),
                error.message
            );
        }
        Outcome::Done(doc) => {
            let _ = writeln!(out, "== {}", doc.article.id);
            let rows = &doc.tags[..top.min(doc.tags.len())];
            if rows.is_empty() {
                let _ = writeln!(out, "   (no tags)");
            }
            let width = |s: &str| s.chars().count();
            let tag_w = rows.iter().map(|t| width(&t.tag)).max().unwrap_or(3).max(3);
            let kind_w = rows
                .iter()
                .map(|t| width(&t.kind))
                .max()
                .unwrap_or(4)
                .max(4);
            let _ = writeln!(
                out,
                "   {:<tag_w$}  {:<kind_w$}  {:>5}  WHY",
                "TAG", "KIND", "SCORE"
            );
            for t in rows {
                let why = t.why.first().map(String::as_str).unwrap_or("");
                let _ = writeln!(
                    out,
                    "   {}{}  {}{}  {:>5.2}  {}",
                    t.tag,
                    " ".repeat(tag_w - width(&t.tag)),
                    t.kind,
                    " ".repeat(kind_w - width(&t.kind)),
                    t.score,
                    why
                );
            }
            out.push('\n');
        }
    }
    out
}

/// Serialises one outcome as one JSON line.
pub fn to_json_line(
    outcome: &Outcome,
    shape: Shape,
    models: &BTreeMap<&'static str, String>,
) -> serde_json::Result<Vec<u8>> {
    let mut line = match outcome {
        Outcome::Failed { id, error } => serde_json::to_vec(&ErrorRecord { id, error })?,
        Outcome::Done(doc) if shape == Shape::Extract => serde_json::to_vec(&extract_record(doc))?,
        Outcome::Done(doc) => {
            let text = &doc.article.text;
            let map = CharOffsets::new(text);
            let published = doc.cleaned.published.map(|d| d.to_string());
            match shape {
                Shape::Segment | Shape::Tags { .. } | Shape::Extract => {
                    serde_json::to_vec(&SegmentRecord {
                        id: &doc.article.id,
                        published,
                        text: page_text(doc),
                        sentences: spans(text, &map, &doc.sentences),
                        boilerplate: boilerplate(doc, &map),
                    })?
                }
                Shape::Annotate => serde_json::to_vec(&AnnotationRecord {
                    id: &doc.article.id,
                    title: doc.article.title.as_deref(),
                    published,
                    source: doc.cleaned.source.as_deref(),
                    text: page_text(doc),
                    sentences: spans(text, &map, &doc.sentences),
                    boilerplate: boilerplate(doc, &map),
                    topics: &doc.topics,
                    entities: doc
                        .entities
                        .iter()
                        .map(|m| EntityOut {
                            text: &text[m.start..m.end],
                            label: &m.label,
                            category: m.category,
                            start: map.char_at(m.start),
                            end: map.char_at(m.end),
                            sentence: m.sentence,
                            score: m.score,
                        })
                        .collect(),
                    people: doc_entities(doc, &map, |c| c == Category::Person),
                    places: doc_entities(doc, &map, |c| c == Category::Place),
                    organizations: doc_entities(doc, &map, |c| c == Category::Organization),
                    groups: doc_entities(doc, &map, |c| c == Category::Group),
                    events: doc_entities(doc, &map, |c| c == Category::Event),
                    other: doc_entities(doc, &map, |c| {
                        matches!(c, Category::Work | Category::Other)
                    }),
                    tags: &doc.tags,
                    meta: &doc.article.meta,
                    models,
                })?,
            }
        }
    };
    line.push(b'\n');
    Ok(line)
}

/// Writes records; a closed pipe (`newstag annotate ... | head -1`) ends the run quietly.
pub struct RecordWriter<W: Write> {
    out: W,
    pub written: usize,
    pub failed: usize,
}

impl<W: Write> RecordWriter<W> {
    pub fn new(out: W) -> Self {
        RecordWriter {
            out,
            written: 0,
            failed: 0,
        }
    }

    pub fn write(&mut self, line: &[u8], is_error: bool) -> io::Result<()> {
        self.out.write_all(line)?;
        self.written += 1;
        self.failed += usize::from(is_error);
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
