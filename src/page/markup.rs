//! What the page stage reads off a page's markup without building its tree: start tags and
//! their attributes, and the parts of the page that are not the page's own text (comments,
//! scripts, styles). The date and the headline are each read from a few tags of a page that
//! rs-trafilatura parses once already; scanning for those tags costs a fraction of a second
//! parse.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use dom_query::Document;
use regex::Regex;

static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"#)
        .expect("attribute regex")
});
// Tag names end at an ASCII word boundary: the regex crate's fast engines give up on a
// Unicode `\b` as soon as a page has a non-ASCII byte, and fall back to its slowest one.
pub(super) static META_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<meta(?-u:\b)[^>]*>").expect("meta tag regex"));
static HTML_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<html(?-u:\b)[^>]*>").expect("html tag regex"));
pub(super) static H1: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<h1(?-u:\b)").expect("h1 regex"));
/// Where a hidden part of a page starts, and (same index) what ends it. The elements are
/// those whose contents are not rendered as the page's: scripts and styles (raw text to the
/// parser), templates, and `<noscript>` (shown only without scripts).
const OPENERS: [&str; 5] = ["<!--", "<script", "<style", "<template", "<noscript"];
const CLOSERS: [&str; 5] = ["-->", "</script", "</style", "</template", "</noscript"];

// Searched for without regard to ASCII case, as HTML's tag names are; Aho-Corasick rather than
// one regex of five lazy alternatives, which fell back to the regex crate's slowest engine on
// large pages.
static COMMENT_OPENER: LazyLock<AhoCorasick> = LazyLock::new(|| searcher(&OPENERS[..1]));
static INERT_OPENERS: LazyLock<AhoCorasick> = LazyLock::new(|| searcher(&OPENERS));
static CLOSER: LazyLock<Vec<AhoCorasick>> =
    LazyLock::new(|| CLOSERS.iter().map(|c| searcher(&[c])).collect());

fn searcher(patterns: &[&str]) -> AhoCorasick {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(patterns)
        .expect("markup searcher")
}

/// Byte ranges of a page that are not its own visible markup, in order: an unclosed comment
/// or script runs to the end of the page, as a browser reads it.
pub(super) struct Hidden(Vec<(usize, usize)>);

impl Hidden {
    /// The page's comments: templates leave old tags commented out there.
    pub(super) fn comments(html: &str) -> Self {
        Self::of(&COMMENT_OPENER, html)
    }

    /// Comments, and the contents of scripts, styles, templates and `<noscript>`: a script
    /// that writes `"<h1>Notice</h1>"` into the page later does not give it a headline now.
    pub(super) fn inert(html: &str) -> Self {
        Self::of(&INERT_OPENERS, html)
    }

    fn of(openers: &AhoCorasick, html: &str) -> Self {
        let mut ranges = Vec::new();
        let mut from = 0;
        while let Some(open) = openers.find(&html[from..]) {
            let (start, after) = (from + open.start(), from + open.end());
            let kind = open.pattern().as_usize();
            // `<scripts>` or `<style-guide>` is another element.
            let is_name_end = |c: char| c.is_ascii_whitespace() || c == '>' || c == '/';
            if kind > 0 && !html[after..].starts_with(is_name_end) {
                from = after;
                continue;
            }
            // `<!-->` and `<!--->` are empty comments, as a browser parses them.
            let rest = &html[after..];
            let empty_comment = kind == 0 && (rest.starts_with('>') || rest.starts_with("->"));
            let end = match CLOSER[kind].find(rest) {
                _ if empty_comment => after + rest.find('>').map_or(0, |i| i + 1),
                None => html.len(),
                // An end tag runs to its `>`.
                Some(close) if kind > 0 => html[after + close.end()..]
                    .find('>')
                    .map_or(html.len(), |i| after + close.end() + i + 1),
                Some(close) => after + close.end(),
            };
            ranges.push((start, end));
            from = end;
        }
        Hidden(ranges)
    }

    /// The match, unless it starts inside a hidden range.
    pub(super) fn hide<'h>(&self, m: regex::Match<'h>) -> Option<regex::Match<'h>> {
        (!self.covers(m.start())).then_some(m)
    }

    /// Whether byte `at` lies inside a hidden range.
    pub(super) fn covers(&self, at: usize) -> bool {
        let i = self.0.partition_point(|&(_, end)| end <= at);
        self.0.get(i).is_some_and(|&(start, _)| start <= at)
    }
}

/// The `<html>` tag is looked for in this many bytes of the page's start (a doctype, comments
/// and a byte order mark stand before it).
const HTML_TAG_BYTES: usize = 4096;

/// The language the page declares: the `lang` of its `<html>`, else its `xml:lang` (XHTML), as
/// written (`en-GB`, `en_US`).
pub(super) fn html_lang(html: &str) -> Option<&str> {
    let head = &html[..html.floor_char_boundary(HTML_TAG_BYTES)];
    let tag = HTML_TAG.find(head)?.as_str();
    attribute(tag, "lang")
        .or_else(|| attribute(tag, "xml:lang"))
        .map(str::trim)
        .filter(|lang| !lang.is_empty())
}

/// A start tag's attributes in order, as (name, value); a bare attribute has an empty value.
/// Values are consumed as they are read, so a name inside a quoted value is never taken for
/// an attribute.
fn attributes(tag: &str) -> impl Iterator<Item = (&str, &str)> {
    // Skip `<` and the element's name.
    let body = tag
        .trim_start_matches('<')
        .trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    ATTRIBUTE.captures_iter(body).map(|c| {
        let value = c.get(2).or(c.get(3)).or(c.get(4));
        (
            c.get(1).map_or("", |m| m.as_str()),
            value.map_or("", |m| m.as_str()),
        )
    })
}

/// An attribute's value in one start tag, as written (entities not decoded); names are
/// matched without regard to case, as HTML does.
pub(super) fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    attributes(tag)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

pub(super) fn has_attribute(tag: &str, name: &str) -> bool {
    attribute(tag, name).is_some()
}

/// The `content` of each meta tag (outside `hidden`) whose `property` or `name` is one of
/// `keys` (lowercase), its character references read, white space folded.
pub(super) fn meta_contents<'h>(
    html: &'h str,
    hidden: &'h Hidden,
    keys: &'h [&str],
) -> impl Iterator<Item = String> + 'h {
    meta_entries(html, hidden, keys).map(|(_, content)| content)
}

/// The same, with the index in `keys` of the key each tag has: one pass over the page for
/// several keys that are read apart.
pub(super) fn meta_entries<'h>(
    html: &'h str,
    hidden: &'h Hidden,
    keys: &'h [&str],
) -> impl Iterator<Item = (usize, String)> + 'h {
    META_TAG
        .find_iter(html)
        .filter_map(|tag| hidden.hide(tag))
        // Most meta tags are none of these: not worth reading their attributes.
        .filter(|tag| {
            let lower = tag.as_str().to_ascii_lowercase();
            keys.iter().any(|k| lower.contains(k))
        })
        .filter_map(|tag| {
            let key = ["property", "name"]
                .iter()
                .filter_map(|a| attribute(tag.as_str(), a))
                .find_map(|key| keys.iter().position(|k| key.eq_ignore_ascii_case(k)))?;
            let content = attribute(tag.as_str(), "content")?;
            Some((key, fold(&decode_attribute(content))))
        })
}

/// Text as markup writes it (a `<title>`, an extractor's string) with its character
/// references read: `&amp;` is `&`, `&#039;` is `'`. A `<` stays a `<`: nothing here is
/// parsed as a tag.
pub(super) fn decode(raw: &str) -> String {
    if !raw.contains('&') {
        return raw.to_string();
    }
    let escaped = raw.replace('<', "&lt;");
    Document::fragment(format!("<p>{escaped}</p>"))
        .text()
        .to_string()
}

/// An attribute's value as written (`content="Harper&#039;s"`) with its character
/// references read as HTML reads them in an attribute: `&not` without its `;` before a
/// letter stays as written there ("Pros&notes"), unlike in text.
pub(super) fn decode_attribute(raw: &str) -> String {
    if !raw.contains('&') {
        return raw.to_string();
    }
    let quoted = raw.replace('"', "&quot;");
    Document::fragment(format!("<p title=\"{quoted}\"></p>"))
        .select("p")
        .attr("title")
        .map_or_else(|| raw.to_string(), |v| v.to_string())
}

/// Runs of white space as one space, none at the ends.
pub(super) fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::code as language_code;

    #[test]
    fn the_language_a_page_declares() {
        let lang = |html: &str| html_lang(html).and_then(language_code);
        assert_eq!(
            lang(r#"<!DOCTYPE html><html lang="en-GB">"#).as_deref(),
            Some("en")
        );
        assert_eq!(
            lang(r#"<html lang="en_US" class="no-js">"#).as_deref(),
            Some("en")
        );
        assert_eq!(lang("<HTML LANG=DE>").as_deref(), Some("de"));
        // XHTML's attribute, and the `lang` before it where both are given.
        assert_eq!(
            lang(r#"<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en-GB">"#).as_deref(),
            Some("en")
        );
        assert_eq!(
            lang(r#"<html xml:lang="en" lang="fr">"#).as_deref(),
            Some("fr")
        );
        // No language, or none that is a language tag.
        for html in [
            "<html>",
            r#"<html lang="">"#,
            r#"<html lang="english">"#,
            r#"<html lang="und">"#,
            "<p>no html tag</p>",
        ] {
            assert_eq!(lang(html), None, "{html}");
        }
        assert_eq!(html_lang(r#"<html lang=" en-GB ">"#), Some("en-GB"));
    }

    #[test]
    fn attributes_as_html_writes_them() {
        let tag = r#"<meta NAME=date data-name="x" content = '2020-01-02' />"#;
        assert_eq!(attribute(tag, "name"), Some("date"));
        assert_eq!(attribute(tag, "content"), Some("2020-01-02"));
        assert_eq!(
            attribute("<meta name=pubdate content=2020-01-02>", "content"),
            Some("2020-01-02")
        );
        assert_eq!(attribute("<meta x>", "content"), None);
        assert!(has_attribute("<time pubdate>", "pubdate"));
        assert!(!has_attribute("<time data-pubdate=1>", "pubdate"));
        // A name inside a quoted value is not an attribute.
        let tag = r#"<meta property="og:title" content="the name = pubdate">"#;
        assert_eq!(attribute(tag, "name"), None);
    }

    #[test]
    fn references_are_read_and_tags_are_text() {
        assert_eq!(decode("Harper&#039;s &amp; Co"), "Harper's & Co");
        assert_eq!(decode("Fish &amp; <b>chips</b>"), "Fish & <b>chips</b>");
        assert_eq!(decode("AT&T"), "AT&T");
        assert_eq!(
            decode_attribute("Harper&#039;s &quot;Pros&notes&quot;"),
            "Harper's \"Pros&notes\""
        );
        assert_eq!(decode_attribute("a \" b &amp; c"), "a \" b & c");
        assert_eq!(fold(" a \n\u{a0} b "), "a b");
    }

    #[test]
    fn hidden_parts_of_a_page() {
        let html = "<h1>A</h1><!-- <h1>B</h1> --><SCRIPT>w('<h1>C</h1>')</script ><h1>D</h1>\
                    <scripts><h1>F</h1></scripts><!--><h1>G</h1><!-- <h1>E";
        let seen = |hidden: &Hidden| {
            H1.find_iter(html)
                .filter_map(|m| hidden.hide(m))
                .map(|m| &html[m.end() + 1..m.end() + 2])
                .collect::<String>()
        };
        assert_eq!(seen(&Hidden::comments(html)), "ACDFG");
        assert_eq!(seen(&Hidden::inert(html)), "ADFG");
    }
}
