//! The article as it enters the pipeline, and the per-article error that replaces a record.

use serde::Serialize;
use serde_json::{Map, Value};

/// One input document: an id, optional title, the text every offset refers to, and whatever
/// else the input carried, passed through untouched.
#[derive(Debug, Clone)]
pub struct Article {
    pub id: String,
    pub title: Option<String>,
    pub text: String,
    pub meta: Map<String, Value>,
}

/// Why one article produced no annotations. It becomes that article's output record, so a
/// corpus run loses nothing and keeps its order.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DocError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
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
}

impl DocError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
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
