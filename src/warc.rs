//! WARC files (ISO 28500, as Common Crawl and Heritrix write them; the `html` feature), read
//! record by record in constant memory: each `response` record with an HTML page becomes one
//! article (id = `WARC-Target-URI`, `WARC-Date` as the date of last resort); other records are
//! skipped and counted ([`skipped`]); a truncated or corrupt record becomes one error record
//! in its place and reading goes on at the next record.
//!
//! The framing is written here, on httparse's header parser (the `warc` crate's reader
//! buffers each whole record in memory and stops at the first bad one). A `.warc.gz` is read
//! gzip member by gzip member ([`Members`]): Common Crawl compresses each record as its own
//! member, so a damaged member costs that record only; a file compressed as one member is read
//! the same way.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read};
use std::sync::Mutex;

use chrono::NaiveDate;
use flate2::bufread::GzDecoder;

use crate::article::{Article, DocError, DocErrorKind, Input, Page};
use crate::ingest::ReadOptions;

/// A WARC header block larger than this is corrupt (real ones are under 2 KB).
const MAX_HEADER_BYTES: usize = 64 << 10;
/// An HTTP response's header block is kept up to this much beyond the page limit.
const MAX_HTTP_HEADER_BYTES: usize = 64 << 10;

/// Records skipped since the process started, by reason (`request`, `metadata`, `response
/// (image/jpeg)`, ...): the command line prints them when a run ends.
static SKIPPED: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// How many WARC records were skipped (not an HTML page), by reason, since the process
/// started.
pub fn skipped() -> BTreeMap<String, u64> {
    SKIPPED.lock().map(|m| m.clone()).unwrap_or_default()
}

fn skip(reason: String) {
    if let Ok(mut counts) = SKIPPED.lock() {
        *counts.entry(reason).or_default() += 1;
    }
}

/// The articles of one WARC stream (already decompressed, or read through [`Members`]).
pub struct WarcReader<R> {
    name: String,
    reader: R,
    opts: ReadOptions,
    /// Records started so far: names a record whose URI is unknown (`FILE#record-N`).
    records: usize,
    /// A record's first line, found while looking for the record after a broken one.
    pending: Option<Vec<u8>>,
    done: bool,
}

impl<R: BufRead> WarcReader<R> {
    pub fn new(name: String, reader: R, opts: ReadOptions) -> Self {
        WarcReader {
            name,
            reader,
            opts,
            records: 0,
            pending: None,
            done: false,
        }
    }

    fn record_id(&self) -> String {
        format!("{}#record-{}", self.name, self.records)
    }

    /// Reads on to the start of the next record (a line `WARC/...`), discarding what comes
    /// before it; errors on the way are not reported again (the record they belong to
    /// already was). Returns false at the end of the stream.
    fn resync(&mut self) -> bool {
        // A reader that fails on every read (a disk error) must end the file, not spin.
        let mut errors = 0;
        loop {
            match read_line(&mut self.reader, MAX_HEADER_BYTES) {
                Ok(None) => return false,
                Ok(Some(line)) if line.starts_with(b"WARC/") => {
                    self.pending = Some(line);
                    return true;
                }
                Ok(Some(_)) => {}
                // A damaged gzip member: Members skips to the next one on the next read.
                Err(e) if e.kind() != io::ErrorKind::UnexpectedEof && errors < 1000 => {
                    errors += 1;
                }
                Err(_) => return false,
            }
        }
    }
}

/// One record's outcome.
enum Step {
    Article(Input),
    Skipped,
    End,
}

impl<R: BufRead> Iterator for WarcReader<R> {
    type Item = Input;

    fn next(&mut self) -> Option<Input> {
        while !self.done {
            match self.record() {
                Step::Article(input) => return Some(input),
                Step::Skipped => {}
                Step::End => self.done = true,
            }
        }
        None
    }
}

/// A record that went wrong: its id when its header named one, and what went wrong. Reading
/// goes on at the next line that starts a record.
struct Broken {
    id: Option<String>,
    message: String,
}

/// A broken record whose header did not get as far as naming it.
fn corrupt(message: String) -> Broken {
    Broken { id: None, message }
}

/// What a record's WARC header says, as far as reading the record needs it.
struct RecordHeader {
    uri: Option<String>,
    /// `WARC-Type`, lowercased.
    kind: String,
    date: Option<NaiveDate>,
    content_type: String,
    length: u64,
    /// The block is an HTTP response (headers, then the page), not a bare page.
    http: bool,
    /// The record may hold an HTML page.
    wanted: bool,
}

impl RecordHeader {
    fn parse(block: &[u8]) -> Result<Self, Broken> {
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let fields = match httparse::parse_headers(block, &mut headers) {
            Ok(httparse::Status::Complete((_, fields))) => fields,
            Ok(httparse::Status::Partial) => {
                return Err(corrupt("the WARC record's header is incomplete".into()));
            }
            Err(e) => {
                return Err(corrupt(format!(
                    "the WARC record's header is malformed: {e}"
                )));
            }
        };
        let field = |name: &str| {
            fields
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
        };
        let uri = field("WARC-Target-URI").map(|u| u.trim_matches(['<', '>']).to_string());
        let kind = field("WARC-Type").unwrap_or_default().to_ascii_lowercase();
        let date = field("WARC-Date").and_then(|d| warc_date(&d));
        let content_type = field("Content-Type").unwrap_or_default();
        let Some(length) = field("Content-Length").and_then(|l| l.parse::<u64>().ok()) else {
            return Err(Broken {
                id: uri,
                message: "the WARC record has no valid Content-Length".into(),
            });
        };
        let ct = content_type.to_ascii_lowercase();
        // A response record holds an HTTP response, whether or not its Content-Type says so.
        let http = ct.starts_with("application/http") || (kind == "response" && ct.is_empty());
        let wanted = match kind.as_str() {
            "response" => http,
            // A page stored without its HTTP exchange (wget's and webrecorder's WARCs).
            "resource" => ct.starts_with("text/html") || ct.starts_with("application/xhtml"),
            _ => false,
        };
        Ok(RecordHeader {
            uri,
            kind,
            date,
            content_type,
            length,
            http,
            wanted,
        })
    }
}

impl<R: BufRead> WarcReader<R> {
    fn record(&mut self) -> Step {
        let version = match self.pending.take() {
            Some(line) => line,
            None => loop {
                match read_line(&mut self.reader, MAX_HEADER_BYTES) {
                    Ok(None) => return Step::End,
                    // Blank lines between records (the two CRLFs after each block, and any
                    // a writer added).
                    Ok(Some(line)) if line.trim_ascii().is_empty() => {}
                    Ok(Some(line)) => break line,
                    Err(e) => {
                        self.records += 1;
                        let id = self.record_id();
                        return self.broken(Broken {
                            id: Some(id),
                            message: format!("cannot read the WARC record: {e}"),
                        });
                    }
                }
            },
        };
        self.records += 1;
        match self.read_record(version) {
            Ok(step) => step,
            Err(broken) => self.broken(broken),
        }
    }

    /// The error record for a broken record, after which reading goes on from the next one.
    fn broken(&mut self, broken: Broken) -> Step {
        let id = broken.id.unwrap_or_else(|| self.record_id());
        if !self.resync() {
            self.done = true;
        }
        Step::Article(Input::Failed {
            id,
            error: DocError::new(DocErrorKind::Io, broken.message),
        })
    }

    fn read_record(&mut self, version: Vec<u8>) -> Result<Step, Broken> {
        if !version.starts_with(b"WARC/") {
            return Err(corrupt(format!(
                "not a WARC record: it starts with {:?}",
                String::from_utf8_lossy(&version[..version.len().min(40)])
            )));
        }
        let block = self.header_block()?;
        let mut header = RecordHeader::parse(&block)?;
        if !header.wanted || header.uri.is_none() {
            return self.skip_record(header);
        }
        let id = header.uri.take().unwrap_or_default();
        let body = self.read_block(&id, header.length)?;
        Ok(self.page_step(id, header, body))
    }

    /// The header block, up to its blank line, kept whole for httparse.
    fn header_block(&mut self) -> Result<Vec<u8>, Broken> {
        let mut block = Vec::new();
        loop {
            let line = match read_line(&mut self.reader, MAX_HEADER_BYTES) {
                Ok(Some(line)) => line,
                Ok(None) => {
                    return Err(corrupt(
                        "the WARC file ends inside a record's header".into(),
                    ));
                }
                Err(e) => {
                    return Err(corrupt(format!(
                        "cannot read the WARC record's header: {e}"
                    )));
                }
            };
            let end = line.trim_ascii().is_empty();
            block.extend_from_slice(&line);
            if end {
                return Ok(block);
            }
            if block.len() > MAX_HEADER_BYTES {
                return Err(corrupt(format!(
                    "the WARC record's header is over {MAX_HEADER_BYTES} bytes"
                )));
            }
        }
    }

    /// Passes over a record that is not a page, counting it by its type.
    fn skip_record(&mut self, header: RecordHeader) -> Result<Step, Broken> {
        self.discard(header.length).map_err(|e| Broken {
            id: header.uri,
            message: e,
        })?;
        skip(if header.kind.is_empty() {
            "record without a WARC-Type".to_string()
        } else {
            header.kind
        });
        Ok(Step::Skipped)
    }

    /// A record's block of `length` bytes, of which only what the page limit (and the HTTP
    /// headers before the page) can use is kept in memory; the rest is read and dropped, so
    /// the stream stays at the next record.
    fn read_block(&mut self, id: &str, length: u64) -> Result<Vec<u8>, Broken> {
        let broken = |message: String| Broken {
            id: Some(id.to_string()),
            message,
        };
        let keep = (self.opts.max_page_bytes as u64)
            .saturating_add(MAX_HTTP_HEADER_BYTES as u64)
            .min(length);
        let mut body = Vec::new();
        let got = (&mut self.reader)
            .take(keep)
            .read_to_end(&mut body)
            .map_err(|e| broken(format!("cannot read the WARC record: {e}")))?;
        if (got as u64) < keep {
            return Err(broken(format!(
                "the WARC record is truncated: its payload ends after {got} of {length} bytes"
            )));
        }
        self.discard(length - keep).map_err(broken)?;
        self.end_of_record().map_err(broken)?;
        Ok(body)
    }

    /// The article a wanted record's block makes, or its error record; an HTTP response that
    /// turns out not to hold an HTML page is skipped.
    fn page_step(&self, id: String, header: RecordHeader, body: Vec<u8>) -> Step {
        let limit = self.opts.max_page_bytes;
        let (page, content_type) = if header.http {
            match http_payload(body, limit, header.length) {
                Ok(Payload::Page { body, content_type }) => (body, content_type),
                Ok(Payload::NotAPage(reason)) => {
                    skip(format!("response ({reason})"));
                    return Step::Skipped;
                }
                Err(error) => return Step::Article(Input::Failed { id, error }),
            }
        } else {
            (body, Some(header.content_type))
        };
        // An HTTP response's page was held to the limit in http_payload, without its headers.
        if !header.http && header.length > limit as u64 {
            return Step::Article(Input::Failed {
                id,
                error: page_too_large(limit),
            });
        }
        Step::Article(Input::Article(Article {
            id: id.clone(),
            title: None,
            text: String::new(),
            meta: serde_json::Map::new(),
            page: Some(Box::new(Page {
                html: page,
                content_type,
                url: Some(id),
                fetched: header.date,
                max_text_bytes: self.opts.max_article_bytes,
                ..Page::default()
            })),
        }))
    }

    /// Reads the blank lines that end a record, and looks at what follows: in a `.warc.gz`
    /// the record's gzip member ends here, and only then is its checksum checked, so a
    /// damaged member is found while its record is the one being read (and is reported as
    /// that record's error, not the next one's).
    fn end_of_record(&mut self) -> Result<(), String> {
        for _ in 0..4 {
            match self.reader.fill_buf() {
                Ok([b'\r' | b'\n', ..]) => self.reader.consume(1),
                Ok(_) => break,
                Err(e) => return Err(format!("cannot read the WARC record: {e}")),
            }
        }
        self.reader
            .fill_buf()
            .map(|_| ())
            .map_err(|e| format!("cannot read the WARC record: {e}"))
    }

    /// Reads and drops `n` bytes of a record's block.
    fn discard(&mut self, n: u64) -> Result<(), String> {
        let got = io::copy(&mut (&mut self.reader).take(n), &mut io::sink())
            .map_err(|e| format!("cannot read the WARC record: {e}"))?;
        if got < n {
            return Err(format!(
                "the WARC record is truncated: its block ends {} bytes short",
                n - got
            ));
        }
        Ok(())
    }
}

pub(crate) fn page_too_large(limit: usize) -> DocError {
    DocError::new(
        DocErrorKind::TooLarge,
        format!("the page is over the page limit of {limit} bytes"),
    )
}

/// What an HTTP response in a WARC record holds.
enum Payload {
    Page {
        body: Vec<u8>,
        content_type: Option<String>,
    },
    /// Not an HTML page: the reason it is skipped (`status 404`, `image/png`).
    NotAPage(String),
}

/// The HTML page in an HTTP response (`block`, whose full length was `length`): the headers
/// stripped, a chunked or gzip/deflate-encoded body decoded (Heritrix stores responses as they
/// came; Common Crawl stores them decoded).
fn http_payload(block: Vec<u8>, limit: usize, length: u64) -> Result<Payload, DocError> {
    let mut headers = [httparse::EMPTY_HEADER; 256];
    let mut response = httparse::Response::new(&mut headers);
    let start = match response.parse(&block) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) | Err(_) => {
            return Err(DocError::new(
                DocErrorKind::Io,
                "the WARC response does not hold a readable HTTP response header",
            ));
        }
    };
    let status = response.code.unwrap_or(0);
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    let content_type = header("Content-Type");
    if !(200..300).contains(&status) {
        return Ok(Payload::NotAPage(format!("status {status}")));
    }
    let mime = content_type.as_deref().map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match mime.as_deref() {
        None | Some("") | Some("text/html") | Some("application/xhtml+xml") => {}
        Some(other) => return Ok(Payload::NotAPage(other.to_string())),
    }
    if length - start as u64 > limit as u64 {
        return Err(page_too_large(limit));
    }
    let chunked =
        header("Transfer-Encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    let encoding = header("Content-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut body = block;
    body.drain(..start);
    if chunked {
        body = dechunk(&body).ok_or_else(|| {
            DocError::new(DocErrorKind::Io, "the response's chunked body is malformed")
        })?;
    }
    let body = match encoding.as_str() {
        "" | "identity" => body,
        "gzip" | "x-gzip" | "deflate" => {
            let mut out = Vec::new();
            let decoded = if encoding == "deflate" {
                flate2::read::ZlibDecoder::new(&body[..])
                    .take(limit as u64 + 1)
                    .read_to_end(&mut out)
            } else {
                flate2::read::MultiGzDecoder::new(&body[..])
                    .take(limit as u64 + 1)
                    .read_to_end(&mut out)
            };
            decoded.map_err(|e| {
                DocError::new(
                    DocErrorKind::Io,
                    format!("the response's {encoding} body does not decompress: {e}"),
                )
            })?;
            out
        }
        other => {
            return Err(DocError::new(
                DocErrorKind::Binary,
                format!("the response is compressed with {other}, which newstag does not read"),
            ));
        }
    };
    if body.len() > limit {
        return Err(page_too_large(limit));
    }
    Ok(Payload::Page { body, content_type })
}

/// A chunked transfer-encoded body, decoded (`None` when malformed; a body cut short, as a
/// truncated record leaves it, keeps what arrived).
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    loop {
        let (skip, size) = match httparse::parse_chunk_size(body).ok()? {
            httparse::Status::Complete(found) => found,
            httparse::Status::Partial => return Some(out),
        };
        body = &body[skip..];
        if size == 0 {
            return Some(out);
        }
        let take = (size.min(body.len() as u64)) as usize;
        out.extend_from_slice(&body[..take]);
        body = &body[take..];
        body = body.strip_prefix(b"\r\n").unwrap_or(body);
        if body.is_empty() {
            return Some(out);
        }
    }
}

/// The day of a `WARC-Date` (`2024-05-01T12:34:56Z`, perhaps with fractions).
fn warc_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.get(..10)?, "%Y-%m-%d").ok()
}

/// One line of at most `max` bytes, its line ending kept (`None` at the end of the stream); a
/// longer line is returned cut at `max`, the rest of it read and dropped, so that memory stays
/// bounded whatever the stream holds.
fn read_line(reader: &mut impl BufRead, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = reader.take(max as u64).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') && line.len() >= max {
        // Drop the rest of an overlong line.
        loop {
            let buf = reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    reader.consume(i + 1);
                    break;
                }
                None => {
                    let n = buf.len();
                    reader.consume(n);
                }
            }
        }
    }
    Ok(Some(line))
}

/// Concatenated gzip members read as one stream, as `MultiGzDecoder` reads them, except that a
/// damaged member is an error once and reading then goes on at the next member (the next
/// gzip header after the damage), so that one bad record of a Common Crawl file costs that
/// record only.
pub struct Members<R: BufRead> {
    member: Option<GzDecoder<Counted<R>>>,
    raw: Option<Counted<R>>,
    /// Where the member being decoded began in the compressed stream.
    member_start: u64,
    /// After an error: look for the next member's header before decoding again.
    seek: bool,
}

impl<R: BufRead> Members<R> {
    pub fn new(raw: R) -> Self {
        Members {
            member: None,
            raw: Some(Counted {
                inner: raw,
                pos: 0,
                back: Vec::new(),
            }),
            member_start: 0,
            seek: false,
        }
    }
}

/// A reader that counts what was consumed of it (where a damaged member began), with room
/// to put back the gzip header [`seek_magic`] read to find a member.
struct Counted<R> {
    inner: R,
    pos: u64,
    back: Vec<u8>,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let mut available = self.fill_buf()?;
            available.read(buf)?
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.back.is_empty() {
            self.inner.fill_buf()
        } else {
            Ok(&self.back)
        }
    }

    fn consume(&mut self, n: usize) {
        self.pos += n as u64;
        if self.back.is_empty() {
            self.inner.consume(n);
        } else {
            self.back.drain(..n.min(self.back.len()));
        }
    }
}

/// A gzip member's first bytes: the magic number and deflate.
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(member) = self.member.as_mut() {
                match member.read(buf) {
                    Ok(0) => {
                        self.raw = self.member.take().map(GzDecoder::into_inner);
                        continue;
                    }
                    Ok(n) => return Ok(n),
                    Err(e) => {
                        self.raw = self.member.take().map(GzDecoder::into_inner);
                        self.seek = true;
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("damaged gzip data: {e}"),
                        ));
                    }
                }
            }
            let Some(raw) = self.raw.as_mut() else {
                return Ok(0);
            };
            if self.seek {
                // A member that failed before consuming a byte would fail again at the same
                // place: step over its first byte.
                if raw.pos == self.member_start && !raw.fill_buf()?.is_empty() {
                    raw.consume(1);
                }
                if !seek_magic(raw)? {
                    return Ok(0);
                }
            }
            self.seek = false;
            if raw.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.member_start = raw.pos;
            self.member = self.raw.take().map(GzDecoder::new);
        }
    }
}

/// Drops bytes up to the next gzip member header, which is left to be read; false when the
/// stream ends first.
fn seek_magic<R: BufRead>(raw: &mut Counted<R>) -> io::Result<bool> {
    let mut matched = 0;
    loop {
        let buf = raw.fill_buf()?;
        let Some(&byte) = buf.first() else {
            return Ok(false);
        };
        // One byte at a time, so that a header split across two buffers is found too.
        raw.consume(1);
        matched = if byte == GZIP_MAGIC[matched] {
            matched + 1
        } else if byte == GZIP_MAGIC[0] {
            1
        } else {
            0
        };
        if matched == GZIP_MAGIC.len() {
            raw.back = GZIP_MAGIC.to_vec();
            return Ok(true);
        }
    }
}
