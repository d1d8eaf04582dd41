//! Emit: documents to JSON records with code point offsets, and the writer that prints them.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::article::DocError;
use crate::clean::BoilerplateKind;
use crate::document::Document;
use crate::entities::Category;
use crate::offsets::CharOffsets;
use crate::pipeline::Outcome;
use crate::topics::TopicScore;

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

/// `newstag annotate`'s record for one article.
#[derive(Serialize)]
pub struct AnnotationRecord<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub published: Option<String>,
    pub source: Option<&'a str>,
    pub sentences: Vec<SpanOut<'a>>,
    pub boilerplate: Vec<BoilerplateOut<'a>>,
    pub topics: &'a [TopicScore],
    pub entities: Vec<EntityOut<'a>>,
    pub meta: &'a Map<String, Value>,
    pub models: &'a BTreeMap<&'static str, String>,
}

/// `newstag segment`'s record for one article.
#[derive(Serialize)]
pub struct SegmentRecord<'a> {
    pub id: &'a str,
    pub published: Option<String>,
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

/// Which record shape to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Segment,
    Annotate,
}

/// Serialises one outcome as one JSON line.
pub fn to_json_line(
    outcome: &Outcome,
    shape: Shape,
    models: &BTreeMap<&'static str, String>,
) -> serde_json::Result<Vec<u8>> {
    let mut line = match outcome {
        Outcome::Failed { id, error } => serde_json::to_vec(&ErrorRecord { id, error })?,
        Outcome::Done(doc) => {
            let text = &doc.article.text;
            let map = CharOffsets::new(text);
            let published = doc.cleaned.published.map(|d| d.to_string());
            match shape {
                Shape::Segment => serde_json::to_vec(&SegmentRecord {
                    id: &doc.article.id,
                    published,
                    sentences: spans(text, &map, &doc.sentences),
                    boilerplate: boilerplate(doc, &map),
                })?,
                Shape::Annotate => serde_json::to_vec(&AnnotationRecord {
                    id: &doc.article.id,
                    title: doc.article.title.as_deref(),
                    published,
                    source: doc.cleaned.source.as_deref(),
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
