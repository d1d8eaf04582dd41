//! The article as it enters the pipeline, and the per-article error that replaces a record.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};
use strum::{IntoStaticStr, VariantArray};

/// One input document: an id, optional title, the text every offset refers to, and whatever
/// else the input carried, passed through untouched.
#[derive(Debug, Clone)]
pub struct Article {
    pub id: String,
    pub title: Option<String>,
    pub text: String,
    pub meta: Map<String, Value>,
    /// Set when the article came as a web page (an HTML file, a JSONL `html` field, a WARC
    /// record): its bytes until [`crate::pipeline::prepare`] extracts `text` from them, then
    /// what the page said about itself. `None` for text input.
    pub page: Option<Box<Page>>,
}

impl Article {
    /// An article from plain text: no page behind it.
    pub fn from_text(id: String, title: Option<String>, text: String) -> Self {
        Article {
            id,
            title,
            text,
            meta: Map::new(),
            page: None,
        }
    }
}

/// A web page behind an article. The reader fills the first group of fields; extraction (in
/// the parallel prepare stage, not in the reader, so that a WARC file is extracted on every
/// core) empties `html` and fills the second group.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The page as it came, undecoded (empty once extracted).
    pub html: Vec<u8>,
    /// The HTTP `Content-Type` header, when the page came with one (a WARC response): its
    /// charset comes before the page's own meta tag, as in a browser.
    pub content_type: Option<String>,
    /// Where the page was fetched from (the WARC-Target-URI, a JSONL `url` field).
    pub url: Option<String>,
    /// When it was fetched (WARC-Date): the date of last resort.
    pub fetched: Option<NaiveDate>,
    /// The article size limit, applied to the extracted text.
    pub max_text_bytes: usize,
    /// The page's own metadata, found by extraction.
    pub title: Option<String>,
    pub published: Option<NaiveDate>,
    pub author: Option<String>,
    pub site: Option<String>,
    pub language: Option<String>,
}

/// Why one article produced no annotations. It becomes that article's output record, so a
/// corpus run loses nothing and keeps its order.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DocError {
    pub kind: DocErrorKind,
    pub message: String,
}

/// The kinds of [`DocError`]: why one article has no annotations. (The library's own
/// [`crate::ErrorKind`] says why a run, a load or a call failed.)
///
/// Every kind, in the order the API's documents list them: [`VariantArray::VARIANTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum DocErrorKind {
    /// A path that could not be read (missing, permission, a read error mid-file).
    Io,
    InvalidUtf8,
    /// A file that looks like binary data (NUL bytes), not text.
    Binary,
    MalformedJson,
    /// A JSONL object without a string `text` field.
    MissingText,
    /// Empty or whitespace-only text.
    Empty,
    /// Over the reader's limit ([`crate::ingest::ReadOptions::max_article_bytes`]).
    TooLarge,
    /// A model failed on this article.
    Model,
    /// Not in a language the models read (English): see [`crate::language`].
    Language,
}

impl DocErrorKind {
    /// The name a record's `error.kind` carries (`malformed_json`, ...), derived from the
    /// variant's: the one spelling, which serialization uses too.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl Serialize for DocErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl DocError {
    pub fn new(kind: DocErrorKind, message: impl Into<String>) -> Self {
        DocError {
            kind,
            message: message.into(),
        }
    }
}

/// What the reader hands to the pipeline: an article, or the reason one could not be read.
#[derive(Debug, Clone)]
pub enum Input {
    Article(Article),
    Failed { id: String, error: DocError },
}

impl Input {
    pub fn id(&self) -> &str {
        match self {
            Input::Article(a) => &a.id,
            Input::Failed { id, .. } => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kinds_are_the_published_schemas_in_its_order_and_serialize_by_name() {
        let schema: Value =
            serde_json::from_str(include_str!("../schema/record.schema.json")).unwrap();
        let published =
            &schema["$defs"]["error"]["properties"]["error"]["properties"]["kind"]["enum"];
        let names: Vec<&str> = DocErrorKind::VARIANTS.iter().map(|k| k.as_str()).collect();
        assert_eq!(*published, serde_json::json!(names));
        for kind in DocErrorKind::VARIANTS {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
