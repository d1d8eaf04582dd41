//! Web pages (the `html` feature): a page's bytes decoded as a browser decodes them, its main
//! text found by rs-trafilatura, and what the page says about itself (title, date, author,
//! site, language).
//!
//! Extraction runs in the pipeline's parallel prepare stage ([`extract_into`], called by
//! [`crate::pipeline::prepare`]), not in the reader: a WARC file is read on one thread and
//! extracted on every core.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use encoding_rs::{Encoding, UTF_8};

use crate::article::{Article, DocError, DocErrorKind, Page};

mod author;
mod date;
mod markup;
mod site;
mod title;

/// Bytes looked at for NUL (binary data) and for a `<meta charset>`: the HTML standard's
/// prescan reads 1024 bytes; NUL is looked for as far as the text reader looks.
const SNIFF_BYTES: usize = 8192;
const PRESCAN_BYTES: usize = 1024;

/// At most this share of the decoded characters may be U+FFFD (bytes the declared or detected
/// encoding could not decode) before the page is refused: a stray bad byte must not cost an
/// article, a page in another encoding than declared must not become a text of replacement
/// characters that every later stage would misread.
const MAX_REPLACEMENT_SHARE: f64 = 0.01;

/// Pages whose elements nest deeper than this are refused: the extractor walks the tree
/// recursively, and a page of 100,000 unclosed `<div>`s overflows a worker thread's stack (an
/// abort no guard catches) after minutes of work. Browsers flatten trees deeper than 512
/// (Blink) to keep layout safe; real news pages nest 20 to 40 deep.
const MAX_NESTING: usize = 512;

/// What extraction made of one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// The main text: paragraphs separated by newlines.
    pub text: String,
    pub title: Option<String>,
    pub published: Option<chrono::NaiveDate>,
    pub author: Option<String>,
    pub site: Option<String>,
    pub language: Option<String>,
}

/// Extracts `article.page`'s text into `article.text` and the page's metadata into the page
/// (and the page's title into `article.title`, unless the input named one); the page's bytes
/// are dropped. An article without a pending page is left as it is.
pub fn extract_into(article: &mut Article) -> Result<(), DocError> {
    let Some(page) = article.page.as_deref_mut() else {
        return Ok(());
    };
    if page.html.is_empty() && !article.text.is_empty() {
        return Ok(());
    }
    let html = std::mem::take(&mut page.html);
    let found = extract(&html, page.content_type.as_deref(), page.url.as_deref())?;
    if found.text.len() > page.max_text_bytes {
        return Err(DocError::new(
            DocErrorKind::TooLarge,
            format!(
                "the page's main text is {} bytes, over the article limit of {} bytes",
                found.text.len(),
                page.max_text_bytes
            ),
        ));
    }
    article.text = found.text;
    if article.title.is_none() {
        article.title = found.title.clone();
    }
    let Page {
        title,
        published,
        author,
        site,
        language,
        ..
    } = page;
    (*title, *published, *author, *site, *language) = (
        found.title,
        found.published,
        found.author,
        found.site,
        found.language,
    );
    Ok(())
}

/// The main text and metadata of one page. `content_type` is the HTTP header the page came
/// with, if any (its charset wins over the page's meta tag); `url` helps the extractor (the
/// page type, relative links) and the charset detector (the top-level domain).
pub fn extract(
    html: &[u8],
    content_type: Option<&str>,
    url: Option<&str>,
) -> Result<Extracted, DocError> {
    if html.iter().all(u8::is_ascii_whitespace) {
        return Err(DocError::new(DocErrorKind::Empty, "the page is empty"));
    }
    let source = decode(html, content_type, url)?;
    let depth = nesting_depth(source.as_bytes());
    if depth > MAX_NESTING {
        return Err(DocError::new(
            DocErrorKind::TooLarge,
            format!(
                "the page nests its elements about {depth} deep, over the limit of {MAX_NESTING}"
            ),
        ));
    }
    let options = rs_trafilatura::Options {
        url: url.map(str::to_string),
        // The page type picks the extraction profile (an article's, a forum's, a product's).
        // When the URL reads as an article's (the library's own rules; a news URL, or none),
        // it is one, and the library's classifier over the whole DOM, a third of the
        // extraction time, is skipped. Any other verdict is a loose substring match
        // (`/community/` is a forum), so those pages keep the library's check by the DOM.
        page_type: (rs_trafilatura::page_type::classify_url(url.unwrap_or(""))
            == rs_trafilatura::page_type::PageType::Article)
            .then_some(rs_trafilatura::page_type::PageType::Article),
        ..rs_trafilatura::Options::default()
    };
    // The extractor is a large third-party parser: whatever it does on a page it cannot
    // handle, it must cost that page's record, never the run.
    let result = catch_unwind(AssertUnwindSafe(|| {
        rs_trafilatura::extract_with_options(&source, &options)
    }));
    let no_text = || DocError::new(DocErrorKind::Empty, "no main text found in the page");
    let result = match result {
        Ok(Ok(result)) => result,
        Ok(Err(rs_trafilatura::Error::NoContent)) => return Err(no_text()),
        Ok(Err(e)) => {
            return Err(DocError::new(
                DocErrorKind::Empty,
                format!("no main text found in the page ({e})"),
            ));
        }
        Err(_) => {
            return Err(DocError::new(
                DocErrorKind::Empty,
                "no main text found in the page (the extractor failed on it)",
            ));
        }
    };
    let text = result.content_text.trim();
    if text.is_empty() {
        return Err(no_text());
    }
    let meta = result.metadata;
    // rs-trafilatura reads only some character references (`&#039;` stays as written).
    let clean = |s: Option<String>| {
        s.map(|s| markup::fold(&markup::decode(&s)))
            .filter(|s| !s.is_empty())
    };
    // Markup inside comments is not the page's: templates leave old tags there.
    let comments = markup::Hidden::comments(&source);
    let found_title = clean(meta.title);
    let site = site::name(
        &source,
        &comments,
        clean(meta.sitename).as_deref(),
        found_title.as_deref(),
    );
    // The headline the page shows, where its `<h1>` is one; else the extractor's title (the
    // page's title for sharing and search).
    let headline = title::headline(&source, found_title.as_deref(), site.as_deref());
    // The language the page declares; it also says how `02/10/2020` reads on it.
    let lang = markup::html_lang(&source);
    let order = date::NumericOrder::of(lang);
    Ok(Extracted {
        text: text.to_string(),
        title: headline.title,
        // The page's own markup first (read as the publisher wrote it); rs-trafilatura's date
        // (UTC, fewer spellings) when the markup states none; then the top of the text: it is
        // what a reader sees, but a template's or a quoted date can stand there too; last an
        // element under the headline that the page's own classes call its date; and only
        // then a date the page's scripts carry as data, which may be another item's.
        published: date::published(&source, &comments, url, order)
            .or_else(|| meta.date.map(|d| d.date_naive()))
            .or_else(|| date::in_text(text, order))
            .or_else(|| {
                headline
                    .end
                    .and_then(|end| date::under_headline(&source, end, order))
            })
            .or_else(|| date::in_scripts(&source, &comments)),
        author: author::names(&source, &comments, clean(meta.author).as_deref()),
        site,
        // The `<html>`'s own tag (rs-trafilatura skips `xml:lang`), else the extractor's
        // (a meta tag's), as one kind of value: `en`, never `en_us` or `english`.
        language: lang
            .and_then(crate::language::code)
            .or_else(|| meta.language.as_deref().and_then(crate::language::code)),
    })
}

/// The page as text, decoded as a browser decodes it: a byte order mark, else the charset of
/// the HTTP `Content-Type`, else a `<meta charset>` in the first 1024 bytes, else UTF-8 when
/// the bytes are valid UTF-8, else chardetng's guess (with the URL's top-level domain as its
/// hint, as Firefox gives it). A declared encoding the bytes do not fit is replaced by the
/// guess when the guess fits them; a page nothing decodes cleanly is refused.
pub fn decode<'a>(
    html: &'a [u8],
    content_type: Option<&str>,
    url: Option<&str>,
) -> Result<Cow<'a, str>, DocError> {
    if let Some((encoding, bom)) = Encoding::for_bom(html) {
        let body = &html[bom..];
        return finish(encoding, encoding.decode_without_bom_handling(body));
    }
    if html[..html.len().min(SNIFF_BYTES)].contains(&0) {
        return Err(DocError::new(
            DocErrorKind::Binary,
            "looks like binary data (contains NUL bytes), not an HTML page",
        ));
    }
    let declared = content_type
        .and_then(charset_of_content_type)
        .or_else(|| meta_charset(&html[..html.len().min(PRESCAN_BYTES)]))
        // A page cannot declare itself UTF-16 in ASCII; the standard reads that as UTF-8.
        .map(Encoding::output_encoding);
    let encoding = match declared {
        Some(encoding) => encoding,
        None if std::str::from_utf8(html).is_ok() => UTF_8,
        None => guess(html, url),
    };
    let decoded = encoding.decode_without_bom_handling(html);
    if decoded.1 && declared.is_some() {
        let guessed = guess(html, url);
        if guessed != encoding {
            let again = guessed.decode_without_bom_handling(html);
            if !again.1 {
                return Ok(again.0);
            }
        }
    }
    finish(encoding, decoded)
}

/// The decoded text, unless too much of it had to be replaced.
fn finish<'a>(
    encoding: &'static Encoding,
    (text, had_errors): (Cow<'a, str>, bool),
) -> Result<Cow<'a, str>, DocError> {
    if had_errors {
        let total = text.chars().count().max(1);
        let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
        if bad as f64 / total as f64 > MAX_REPLACEMENT_SHARE {
            return Err(DocError::new(
                DocErrorKind::InvalidUtf8,
                format!(
                    "the page does not decode as {} (its declared or detected encoding): {bad} of {total} characters are invalid",
                    encoding.name()
                ),
            ));
        }
    }
    Ok(text)
}

/// chardetng's guess for bytes that declare no encoding, hinted by the URL's top-level domain.
fn guess(html: &[u8], url: Option<&str>) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(html, true);
    let tld = url.and_then(top_level_domain);
    detector.guess(tld.as_deref().map(str::as_bytes), true)
}

/// `uk` of `https://www.bbc.co.uk/news`, lower-cased (chardetng wants it so).
fn top_level_domain(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?;
    let tld = host.rsplit('.').next()?;
    (!tld.is_empty() && tld.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| tld.to_ascii_lowercase())
}

/// The encoding named by a `Content-Type` value's `charset` parameter, if encoding_rs knows
/// the label.
pub fn charset_of_content_type(value: &str) -> Option<&'static Encoding> {
    value.split(';').skip(1).find_map(|param| {
        let (name, label) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(label.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// The encoding a `<meta charset=...>` or `<meta http-equiv="Content-Type" content="...;
/// charset=...">` names in `head`: the attribute's value after `charset=`, as the standard's
/// prescan takes it. Written here because rs-trafilatura keeps its own prescan private and
/// encoding_rs leaves prescanning to the HTML parser.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let mut at = 0;
    while let Some(found) = find(&lower[at..], b"<meta") {
        let start = at + found + 5;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(pos) = find(tag, b"charset") {
            let rest = &tag[pos + 7..];
            let rest = rest.trim_ascii_start();
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = rest.trim_ascii_start();
                let rest = rest
                    .strip_prefix(b"\"")
                    .or_else(|| rest.strip_prefix(b"'"))
                    .unwrap_or(rest);
                let label_end = rest
                    .iter()
                    .position(|&b| {
                        matches!(b, b'"' | b'\'' | b';' | b'/') || b.is_ascii_whitespace()
                    })
                    .unwrap_or(rest.len());
                if let Some(encoding) = Encoding::for_label(&rest[..label_end]) {
                    return Some(encoding);
                }
            }
        }
        at = end;
    }
    None
}

/// The deepest nesting of elements in `html`, estimated from its tags without parsing it:
/// start tags push, end tags pop, except void elements, self-closing tags and the elements
/// whose end tag HTML lets a page leave out (`p`, `li`, `td`, ..., closed by their siblings).
/// Comments, doctypes and text do not count. An estimate, erring high on broken markup,
/// which is what a guard wants.
fn nesting_depth(html: &[u8]) -> usize {
    const FLAT: [&[u8]; 30] = [
        b"area",
        b"base",
        b"br",
        b"col",
        b"embed",
        b"hr",
        b"img",
        b"input",
        b"link",
        b"meta",
        b"source",
        b"track",
        b"wbr",
        b"param",
        b"keygen",
        b"p",
        b"li",
        b"dt",
        b"dd",
        b"option",
        b"optgroup",
        b"tr",
        b"td",
        b"th",
        b"tbody",
        b"thead",
        b"tfoot",
        b"colgroup",
        b"rp",
        b"rt",
    ];
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while let Some(at) = html[i..].iter().position(|&b| b == b'<') {
        i += at + 1;
        let rest = &html[i..];
        let end = rest.iter().position(|&b| b == b'>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if let Some(name) = tag.strip_prefix(b"/") {
            if name.first().is_some_and(u8::is_ascii_alphabetic) {
                depth = depth.saturating_sub(1);
            }
        } else if tag.first().is_some_and(u8::is_ascii_alphabetic) {
            let name_len = tag
                .iter()
                .position(|b| !b.is_ascii_alphanumeric())
                .unwrap_or(tag.len());
            let name = &tag[..name_len];
            let flat = FLAT.iter().any(|f| f.eq_ignore_ascii_case(name));
            if !flat && !tag.ends_with(b"/") {
                depth += 1;
                max = max.max(depth);
            }
        }
        i += end;
    }
    max
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether bytes that came without a name (standard input) are an HTML page: after an optional
/// UTF-8 byte order mark and blanks, one of the tags the WHATWG MIME sniffing standard takes
/// for HTML ("rules for identifying an unknown MIME type"), followed by a space or `>`.
pub fn looks_like_html(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let head = head.trim_ascii_start();
    if head.starts_with(b"<!--") {
        return true;
    }
    const TAGS: [&[u8]; 17] = [
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<?xml",
    ];
    TAGS.iter().any(|tag| {
        head.len() > tag.len()
            && head[..tag.len()].eq_ignore_ascii_case(tag)
            && matches!(
                head[tag.len()],
                b' ' | b'>' | b'\t' | b'\n' | b'\r' | b'\x0c'
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_from_bom_header_meta_or_detection() {
        let cafe = |bytes: &[u8], ct: Option<&str>| decode(bytes, ct, None).unwrap().into_owned();
        // Meta tag, both spellings.
        assert!(cafe(b"<meta charset=\"iso-8859-1\"><p>caf\xe9</p>", None).contains("caf\u{e9}"));
        assert!(
            cafe(
                b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"><p>caf\xe9 \x93q\x94</p>",
                None
            )
            .contains("caf\u{e9} \u{201c}q\u{201d}")
        );
        // The HTTP header wins over the meta tag.
        assert!(
            cafe(
                b"<meta charset=utf-8><p>caf\xe9</p>",
                Some("text/html; charset=ISO-8859-1")
            )
            .contains("caf\u{e9}")
        );
        // A BOM wins over both.
        assert_eq!(
            cafe(
                b"\xEF\xBB\xBF<p>caf\xc3\xa9</p>",
                Some("text/html; charset=latin1")
            ),
            "<p>caf\u{e9}</p>"
        );
        let utf16: Vec<u8> = b"\xFF\xFE"
            .iter()
            .copied()
            .chain("<p>café</p>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(cafe(&utf16, None), "<p>caf\u{e9}</p>");
        // Undeclared and not UTF-8: detected.
        let undeclared = "<p>Le café de la gare était fermé à midi, déjà.</p>".repeat(4);
        let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode(&undeclared);
        assert_eq!(cafe(&latin1, None), undeclared);
        // Declared UTF-8 but Latin-1 bytes: the detector's guess fits, the declaration does not.
        let mut lying = b"<meta charset=\"utf-8\">".to_vec();
        lying.extend_from_slice(&latin1);
        assert!(cafe(&lying, None).ends_with(&undeclared));
    }

    #[test]
    fn binary_and_undecodable_pages_are_refused() {
        let kind = |bytes: &[u8]| decode(bytes, None, None).unwrap_err().kind;
        assert_eq!(kind(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), DocErrorKind::Binary);
        assert_eq!(kind(b"\x1f\x8b\x08\0\0\0\0\0"), DocErrorKind::Binary);
        // A UTF-8 byte order mark, then bytes that are not UTF-8: a BOM is final, so no
        // guess replaces it. (A declaration by header or meta tag the bytes do not fit gives
        // way to the detector's guess, which a single-byte encoding always fits.)
        let mut bad = b"\xEF\xBB\xBF<p>".to_vec();
        bad.extend(std::iter::repeat_n(0xFFu8, 200));
        assert_eq!(kind(&bad), DocErrorKind::InvalidUtf8);
        // One stray bad byte in a long page is replaced, not a refusal.
        let mut stray = b"\xEF\xBB\xBF".to_vec();
        stray.extend("<p>Fine text. </p>".repeat(20).bytes());
        stray.push(0xFF);
        assert!(decode(&stray, None, None).unwrap().ends_with('\u{FFFD}'));
    }

    #[test]
    fn nesting_is_estimated_from_the_tags() {
        assert_eq!(
            nesting_depth(b"<html><body><div><p>a<p>b<br></div></body></html>"),
            3
        );
        assert_eq!(nesting_depth(b"<ul><li>a<li>b</ul><img src=x/><x/>"), 1);
        assert_eq!(nesting_depth("<div>".repeat(600).as_bytes()), 600);
        assert_eq!(nesting_depth(b"<!-- <div> --> 1 < 2"), 0);
    }

    #[test]
    fn content_type_and_domains() {
        assert_eq!(
            charset_of_content_type("text/html; charset=\"UTF-8\""),
            Some(UTF_8)
        );
        assert_eq!(charset_of_content_type("text/html"), None);
        assert_eq!(
            top_level_domain("https://user@www.bbc.co.uk:443/news?x=1").as_deref(),
            Some("uk")
        );
        assert_eq!(top_level_domain("http://[::1]/"), None);
    }

    #[test]
    fn html_is_sniffed_by_its_first_tag() {
        assert!(looks_like_html(b"\xEF\xBB\xBF  <!DOCTYPE html><html>"));
        assert!(looks_like_html(b"<HTML lang=en>"));
        assert!(looks_like_html(b"<p>Hello</p>"));
        assert!(looks_like_html(b"<!-- saved page -->"));
        assert!(!looks_like_html(b"<pre>"));
        assert!(!looks_like_html(b"A <b>bold</b> claim."));
        assert!(!looks_like_html(b"{\"html\": \"<p>\"}"));
    }
}
