//! Ingest: paths, directories, JSON Lines, gzip and standard input (and, with the `html`
//! feature, HTML pages and WARC files), read lazily into a stream of articles (or per-document
//! errors) in input order.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::de::DeserializeOwned;
#[cfg(feature = "html")]
use serde_json::Map;
use serde_json::Value;
use walkdir::WalkDir;

#[cfg(feature = "html")]
use crate::article::Page;
use crate::article::{Article, DocError, DocErrorKind, Input};

/// Bytes sniffed for NUL to tell a binary file from text.
const SNIFF_BYTES: usize = 8192;

/// Where documents come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    Path(PathBuf),
}

impl Source {
    /// `-` means standard input; anything else is a path.
    pub fn parse(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::Path(PathBuf::from(arg))
        }
    }
}

/// Limits the reader applies while it still holds the bytes.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Articles over this many bytes become `too_large` errors, read no further than that. For
    /// a web page, the limit applies to its extracted text.
    pub max_article_bytes: usize,
    /// Web pages over this many bytes (as they came, before extraction) become `too_large`
    /// errors.
    pub max_page_bytes: usize,
}

/// Pages over this many bytes get a `too_large` record unless configured otherwise: far above
/// a news page (the dev set's largest is under 1 MB; Common Crawl cuts payloads at 1 MiB), low
/// enough that a stray video or archive is refused before it is parsed.
pub const DEFAULT_MAX_PAGE_BYTES: usize = 8 << 20;

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_article_bytes: 1 << 20,
            max_page_bytes: DEFAULT_MAX_PAGE_BYTES,
        }
    }
}

/// Every document of every source, lazily, in order: sources as given, a directory's files
/// sorted by path, a JSONL file's lines in order. Nothing here fails the whole run; a source
/// that cannot be read becomes one error record.
pub fn read_sources(
    sources: Vec<Source>,
    opts: ReadOptions,
) -> impl Iterator<Item = Input> + Send + 'static {
    let sources = if sources.is_empty() {
        vec![Source::Stdin]
    } else {
        sources
    };
    sources
        .into_iter()
        .flat_map(move |source| -> Box<dyn Iterator<Item = Input> + Send> {
            match source {
                Source::Stdin => read_stdin(opts),
                Source::Path(path) if path.is_dir() => Box::new(
                    files_under(&path)
                        .into_iter()
                        .flat_map(move |file| read_file(file, opts)),
                ),
                Source::Path(path) => read_file(path, opts),
            }
        })
}

/// Files of the kinds newstag reads, below `dir`, sorted by path. Unreadable entries are
/// skipped: a directory walk reads what it can.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && Kind::of(e.path()).is_some())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// How a file's content is laid out, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text {
        gz: bool,
    },
    Jsonl {
        gz: bool,
    },
    #[cfg(feature = "html")]
    Html {
        gz: bool,
    },
    #[cfg(feature = "html")]
    Warc {
        gz: bool,
    },
}

impl Kind {
    fn of(path: &Path) -> Option<Kind> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let (stem, gz) = match name.strip_suffix(".gz") {
            Some(stem) => (stem.to_string(), true),
            None => (name, false),
        };
        let ext = stem.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "txt" | "md" | "text" => Some(Kind::Text { gz }),
            "jsonl" | "ndjson" => Some(Kind::Jsonl { gz }),
            #[cfg(feature = "html")]
            "html" | "htm" | "xhtml" => Some(Kind::Html { gz }),
            #[cfg(feature = "html")]
            "warc" => Some(Kind::Warc { gz }),
            _ => None,
        }
    }
}

fn read_file(path: PathBuf, opts: ReadOptions) -> Box<dyn Iterator<Item = Input> + Send> {
    let id = path.display().to_string();
    // A file named on the command line is read even with an unknown extension: as text,
    // or gzip-compressed text when it ends in .gz.
    let kind = Kind::of(&path).unwrap_or(Kind::Text {
        gz: path.extension().is_some_and(|e| e == "gz"),
    });
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => return Box::new(std::iter::once(io_failure(id, &e))),
    };
    match kind {
        Kind::Text { gz } => Box::new(std::iter::once(read_text(id, gunzipped(file, gz), opts))),
        Kind::Jsonl { gz } => Box::new(JsonlReader::new(
            id,
            BufReader::new(gunzipped(file, gz)),
            opts,
        )),
        #[cfg(feature = "html")]
        Kind::Html { gz } => Box::new(std::iter::once(read_page(id, gunzipped(file, gz), opts))),
        #[cfg(feature = "html")]
        Kind::Warc { gz } => {
            let reader: Box<dyn Read + Send> = if gz {
                Box::new(crate::warc::Members::new(BufReader::new(file)))
            } else {
                Box::new(file)
            };
            Box::new(crate::warc::WarcReader::new(
                id,
                BufReader::with_capacity(1 << 16, reader),
                opts,
            ))
        }
    }
}

/// The file as it reads, through gzip when its name says `.gz` (concatenated members too, as
/// `gzip -c a b` and many crawlers write them).
fn gunzipped(file: File, gz: bool) -> Box<dyn Read + Send> {
    if gz {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    }
}

/// One whole HTML file or stream as one page, read no further than one byte past the page
/// limit; its text is extracted later, in the pipeline's parallel stage.
#[cfg(feature = "html")]
fn read_page(id: String, reader: impl Read, opts: ReadOptions) -> Input {
    let mut html = Vec::new();
    if let Err(e) = reader
        .take(opts.max_page_bytes as u64 + 1)
        .read_to_end(&mut html)
    {
        return io_failure(id, &e);
    }
    if html.len() > opts.max_page_bytes {
        return Input::Failed {
            id,
            error: crate::warc::page_too_large(opts.max_page_bytes),
        };
    }
    Input::Article(page_article(id, html, None, opts))
}

/// A JSON object's `html` page (the object's `title`, if a string, is the article's title;
/// its `url` tells the extractor where the page is from; its other fields pass through).
#[cfg(feature = "html")]
fn page_from_json(
    id: String,
    html: String,
    mut obj: Map<String, Value>,
    opts: ReadOptions,
) -> Input {
    if html.len() > opts.max_page_bytes {
        return Input::Failed {
            id,
            error: crate::warc::page_too_large(opts.max_page_bytes),
        };
    }
    let url = match obj.get("url") {
        Some(Value::String(u)) => Some(u.clone()),
        _ => None,
    };
    let title = match obj.remove("title") {
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) | None => None,
        Some(other) => {
            obj.insert("title".into(), other);
            None
        }
    };
    let mut article = page_article(id, html.into_bytes(), url, opts);
    article.title = title;
    article.meta = obj;
    Input::Article(article)
}

/// An article whose text is still to be extracted from `html`.
#[cfg(feature = "html")]
fn page_article(id: String, html: Vec<u8>, url: Option<String>, opts: ReadOptions) -> Article {
    Article {
        id,
        title: None,
        text: String::new(),
        meta: Map::new(),
        page: Some(Box::new(Page {
            html,
            url,
            max_text_bytes: opts.max_article_bytes,
            ..Page::default()
        })),
    }
}

/// Standard input: JSON Lines when its first non-blank byte is `{`; with the `html` feature, a
/// WARC file when it starts `WARC/`, an HTML page when it starts with an HTML tag (see
/// [`crate::page::looks_like_html`]); otherwise one article.
fn read_stdin(opts: ReadOptions) -> Box<dyn Iterator<Item = Input> + Send> {
    let mut stdin = io::stdin().lock();
    // Peek without consuming, so a plain-text article keeps its leading whitespace and offsets.
    let mut head = Vec::new();
    let first = loop {
        let buf = match stdin.fill_buf() {
            Ok(buf) => buf,
            Err(e) => return Box::new(std::iter::once(io_failure("-".into(), &e))),
        };
        if buf.is_empty() {
            break None;
        }
        let found = buf.iter().copied().find(|b| !b.is_ascii_whitespace());
        let n = buf.len();
        head.extend_from_slice(buf);
        stdin.consume(n);
        if found.is_some() {
            break found;
        }
    };
    // Release the lock (its buffer is already consumed into `head`) before reading on.
    drop(stdin);
    #[cfg(feature = "html")]
    let (warc, html) = (
        head.trim_ascii_start().starts_with(b"WARC/"),
        crate::page::looks_like_html(&head),
    );
    let reader = Cursor::new(head).chain(io::stdin());
    #[cfg(feature = "html")]
    if warc {
        return Box::new(crate::warc::WarcReader::new(
            "-".to_string(),
            BufReader::new(Box::new(reader) as Box<dyn Read + Send>),
            opts,
        ));
    } else if html {
        return Box::new(std::iter::once(read_page("-".to_string(), reader, opts)));
    }
    if first == Some(b'{') {
        Box::new(JsonlReader::new(
            "-".to_string(),
            BufReader::new(Box::new(reader) as Box<dyn Read + Send>),
            opts,
        ))
    } else {
        Box::new(std::iter::once(read_text("-".to_string(), reader, opts)))
    }
}

fn io_failure(id: String, e: &io::Error) -> Input {
    let message = format!("cannot read {id}: {e}");
    Input::Failed {
        id,
        error: DocError::new(DocErrorKind::Io, message),
    }
}

/// One whole file or stream as one article, with the checks a text file needs.
fn read_text(id: String, reader: impl Read, opts: ReadOptions) -> Input {
    // Read one byte past the limit: enough to know it is over without holding a huge file.
    let mut bytes = Vec::new();
    if let Err(e) = reader
        .take(opts.max_article_bytes as u64 + 1)
        .read_to_end(&mut bytes)
    {
        return io_failure(id, &e);
    }
    match text_from_bytes(bytes, opts) {
        Ok(text) => Input::Article(Article::from_text(id, None, text)),
        Err(error) => Input::Failed { id, error },
    }
}

fn text_from_bytes(bytes: Vec<u8>, opts: ReadOptions) -> Result<String, DocError> {
    if bytes.len() > opts.max_article_bytes {
        return Err(too_large(None, opts));
    }
    if bytes[..bytes.len().min(SNIFF_BYTES)].contains(&0) {
        return Err(DocError::new(
            DocErrorKind::Binary,
            "looks like a binary file (contains NUL bytes), not text",
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        DocError::new(
            DocErrorKind::InvalidUtf8,
            format!(
                "not valid UTF-8 (first bad byte at offset {}); re-encode it as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// The error for an article over the limit: its size when known (a text file is read only up
/// to one byte past the limit). What to raise the limit with is the front end's to say.
fn too_large(bytes: Option<usize>, opts: ReadOptions) -> DocError {
    let limit = opts.max_article_bytes;
    let message = match bytes {
        Some(n) => format!("article is {n} bytes, over the limit of {limit} bytes"),
        None => format!("article is over the limit of {limit} bytes"),
    };
    DocError::new(DocErrorKind::TooLarge, message)
}

/// A JSON Lines stream: one article per non-blank line.
pub(crate) struct JsonlReader<R> {
    name: String,
    reader: R,
    line_no: usize,
    opts: ReadOptions,
    done: bool,
}

impl<R: BufRead> JsonlReader<R> {
    pub(crate) fn new(name: String, reader: R, opts: ReadOptions) -> Self {
        JsonlReader {
            name,
            reader,
            line_no: 0,
            opts,
            done: false,
        }
    }

    fn line_id(&self) -> String {
        format!("{}:{}", self.name, self.line_no)
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Input;

    fn next(&mut self) -> Option<Input> {
        loop {
            if self.done {
                return None;
            }
            let mut line = Vec::new();
            match self.reader.read_until(b'\n', &mut line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.done = true;
                    self.line_no += 1;
                    return Some(io_failure(self.line_id(), &e));
                }
            }
            self.line_no += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(input_from_json(&line, self.line_id(), self.opts));
        }
    }
}

/// One article from one JSON document's bytes (a JSONL line, a server's request body), read
/// as `newstag annotate` reads a line of a JSONL file.
///
/// The document must be an object with a string `text` (or, with the `html` feature, a string
/// `html`: a web page, whose text is extracted, with a string `url` telling where it is
/// from); `id` (a string or number) names the article, else `default_id` does (a JSONL
/// file's `path:line`); a string `title` is the title; every other field is passed through to
/// the record untouched. What is wrong with it
/// becomes an [`Input::Failed`] of kind [`DocErrorKind::MalformedJson`], `InvalidUtf8`,
/// `MissingText` or `TooLarge` (text over `opts.max_article_bytes`); empty text is left to
/// the pipeline, which gives it an `Empty` record. A front end that wants a
/// [`crate::Error`] instead converts the [`DocError`] (kind [`crate::ErrorKind::Input`]).
pub fn input_from_json(bytes: &[u8], default_id: String, opts: ReadOptions) -> Input {
    match parse_json(bytes, "line is not a JSON object") {
        Ok(value) => input_from_value(value, default_id, opts),
        Err(error) => Input::Failed {
            id: default_id,
            error,
        },
    }
}

/// One JSON document of an input (a JSONL line, a request body) as a `T`, or the error record
/// of the article it was to be: kind `InvalidUtf8` when the bytes are not UTF-8, else
/// `MalformedJson`, with the message `"{not_what}: {why}"`. `not_what` is what the front end
/// calls the document and what it should have been (`"line is not a JSON object"`,
/// `"body is not a JSON array"`), so each says it in its own words.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], not_what: &str) -> Result<T, DocError> {
    serde_json::from_slice(bytes).map_err(|e| {
        if !(e.is_data() || e.is_syntax() || e.is_eof()) {
            return DocError::new(DocErrorKind::Io, e.to_string());
        }
        let kind = if std::str::from_utf8(bytes).is_err() {
            DocErrorKind::InvalidUtf8
        } else {
            DocErrorKind::MalformedJson
        };
        DocError::new(kind, format!("{not_what}: {e}"))
    })
}

/// One article from one parsed JSON value (a server's parsed body, a Python dict), by the
/// rules of [`input_from_json`], which calls it.
pub fn input_from_value(value: Value, default_id: String, opts: ReadOptions) -> Input {
    let fail = |kind, message: String| Input::Failed {
        id: default_id.clone(),
        error: DocError::new(kind, message),
    };
    let Value::Object(mut obj) = value else {
        return fail(
            DocErrorKind::MalformedJson,
            "line is JSON but not an object".into(),
        );
    };
    let id = match obj.remove("id") {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Null) | None => default_id.clone(),
        Some(other) => other.to_string(),
    };
    let fail = |kind, message: String| Input::Failed {
        id: id.clone(),
        error: DocError::new(kind, message),
    };
    #[cfg(feature = "html")]
    if !obj.contains_key("text") {
        match obj.remove("html") {
            Some(Value::String(html)) => return page_from_json(id, html, obj, opts),
            // Not a page: left with the pass-through fields, and the line has no text.
            Some(other) => {
                obj.insert("html".into(), other);
            }
            None => {}
        }
    }
    let text = match obj.remove("text") {
        Some(Value::String(s)) => s,
        Some(_) => return fail(DocErrorKind::MissingText, "\"text\" is not a string".into()),
        None => return fail(DocErrorKind::MissingText, "no \"text\" field".into()),
    };
    if text.len() > opts.max_article_bytes {
        return Input::Failed {
            id,
            error: too_large(Some(text.len()), opts),
        };
    }
    let title = match obj.remove("title") {
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) | None => None,
        Some(other) => {
            // Not ours to interpret: keep it with the other pass-through fields.
            obj.insert("title".into(), other);
            None
        }
    };
    Input::Article(Article {
        id,
        title,
        text,
        meta: obj,
        page: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_names() {
        assert_eq!(
            Kind::of(Path::new("a/b.txt")),
            Some(Kind::Text { gz: false })
        );
        assert_eq!(
            Kind::of(Path::new("b.JSONL.gz")),
            Some(Kind::Jsonl { gz: true })
        );
        assert_eq!(
            Kind::of(Path::new("b.ndjson")),
            Some(Kind::Jsonl { gz: false })
        );
        assert_eq!(
            Kind::of(Path::new("b.md.gz")),
            Some(Kind::Text { gz: true })
        );
        assert_eq!(Kind::of(Path::new("b.png")), None);
        assert_eq!(Kind::of(Path::new("README")), None);
    }

    #[test]
    fn jsonl_fields_and_meta() {
        let line =
            br#"{"id": 7, "title": "T", "text": "Hello there.", "source": "x", "tags": [1]}"#;
        match input_from_json(line, "f:1".into(), ReadOptions::default()) {
            Input::Article(a) => {
                assert_eq!(a.id, "7");
                assert_eq!(a.title.as_deref(), Some("T"));
                assert_eq!(a.text, "Hello there.");
                assert_eq!(a.meta["source"], "x");
                assert_eq!(a.meta["tags"][0], 1);
                assert!(!a.meta.contains_key("text"));
            }
            other => panic!("expected an article, got {other:?}"),
        }
    }

    #[test]
    fn jsonl_line_without_id_gets_path_and_line() {
        match input_from_json(
            br#"{"text": "x"}"#,
            "f.jsonl:3".into(),
            ReadOptions::default(),
        ) {
            Input::Article(a) => assert_eq!(a.id, "f.jsonl:3"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn jsonl_errors_have_kinds() {
        let opts = ReadOptions::default();
        let kind = |line: &[u8]| match input_from_json(line, "f:1".into(), opts) {
            Input::Failed { error, .. } => error.kind,
            Input::Article(_) => panic!("expected an error for {line:?}"),
        };
        assert_eq!(kind(b"{\"id\": 1, \"text\": "), DocErrorKind::MalformedJson);
        assert_eq!(kind(b"[1, 2]"), DocErrorKind::MalformedJson);
        assert_eq!(kind(b"{\"id\": 1}"), DocErrorKind::MissingText);
        assert_eq!(kind(b"{\"id\": 1, \"text\": 5}"), DocErrorKind::MissingText);
        assert_eq!(kind(b"{\"text\": \"caf\xe9\"}"), DocErrorKind::InvalidUtf8);
    }

    #[test]
    fn a_front_end_names_its_own_document() {
        let error = parse_json::<Vec<Value>>(b"[1, ", "body is not a JSON array").unwrap_err();
        assert_eq!(error.kind, DocErrorKind::MalformedJson);
        assert!(
            error.message.starts_with("body is not a JSON array: "),
            "{}",
            error.message
        );
        let error = parse_json::<Value>(b"[\"caf\xe9\"]", "body").unwrap_err();
        assert_eq!(error.kind, DocErrorKind::InvalidUtf8);
    }

    #[test]
    fn a_json_value_reads_as_a_jsonl_line() {
        let opts = ReadOptions {
            max_article_bytes: 8,
            ..ReadOptions::default()
        };
        let line = br#"{"id": "a", "title": 3, "text": "Hi.", "lang": "en"}"#;
        let value: Value = serde_json::from_slice(line).unwrap();
        let (Input::Article(a), Input::Article(b)) = (
            input_from_json(line, "f:1".into(), opts),
            input_from_value(value, "f:1".into(), opts),
        ) else {
            panic!("expected articles");
        };
        assert_eq!(
            (a.id, a.title, a.text, a.meta),
            (b.id, b.title, b.text, b.meta)
        );
        for (value, kind) in [
            (serde_json::json!([1]), DocErrorKind::MalformedJson),
            (serde_json::json!({"id": "x"}), DocErrorKind::MissingText),
            (
                serde_json::json!({"text": "123456789"}),
                DocErrorKind::TooLarge,
            ),
        ] {
            match input_from_value(value, "body".into(), opts) {
                Input::Failed { id, error } => {
                    assert_eq!(error.kind, kind);
                    assert!(id == "body" || id == "x", "{id}");
                    // A front end that answers with a library error gets a bad-input one.
                    let e = crate::Error::from(error);
                    assert_eq!(e.kind(), crate::ErrorKind::Input);
                }
                Input::Article(a) => panic!("expected an error, got {a:?}"),
            }
        }
        // Empty text is the pipeline's to report, as for a JSONL line.
        assert!(matches!(
            input_from_value(serde_json::json!({"text": ""}), "b".into(), opts),
            Input::Article(_)
        ));
    }

    #[test]
    fn too_large_says_the_limit_not_a_flag() {
        let opts = ReadOptions {
            max_article_bytes: 4,
            ..ReadOptions::default()
        };
        let message = |input| match input {
            Input::Failed { error, .. } => error.message,
            Input::Article(a) => panic!("{a:?}"),
        };
        let line = message(input_from_json(br#"{"text": "12345"}"#, "f:1".into(), opts));
        assert_eq!(line, "article is 5 bytes, over the limit of 4 bytes");
        let file = message(read_text("f.txt".into(), &b"12345"[..], opts));
        assert_eq!(file, "article is over the limit of 4 bytes");
    }
}
