//! The article's authors, as its structured data lists them.
//!
//! rs-trafilatura reports one author string: the first of several in a page's JSON-LD ("Jeremy
//! Herb" of four on a CNN story) or a byline's words. schema.org's `author` on the JSON-LD
//! object that describes the article is the publisher's own list; its names are joined with
//! "; ", as trafilatura joins co-authors. Scholarly pages list their authors one meta tag each
//! (`citation_author`, `dc.creator`), of which rs-trafilatura also keeps the first.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::markup::{Hidden, attribute, fold, meta_entries};

static SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<script(?-u:\b)[^>]*>").expect("script regex"));
static CLOSE_SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)</script\s*>").expect("script end regex"));

/// Every author the article's JSON-LD lists, else every author of a scholarly meta list,
/// else the extractor's `found` string; each without what stands before the name.
pub fn names(html: &str, comments: &Hidden, found: Option<&str>) -> Option<String> {
    from_json_ld(html, comments)
        .or_else(|| from_meta_list(html, comments))
        .or_else(|| byline_name(found?))
}

/// The meta tags that carry one author each, as many tags as authors: Dublin Core's creator
/// and Highwire Press's `citation_author` (what Google Scholar reads), which is often written
/// "Anderson, Michael L.", so it comes last.
const AUTHOR_LIST_KEYS: [&str; 3] = ["dc.creator", "dcterms.creator", "citation_author"];

/// The authors of the first key of `AUTHOR_LIST_KEYS` that the page repeats for two or more
/// names, joined with "; ". Keys are not mixed: one often writes "Anderson, Michael L." where
/// another writes "Michael L. Anderson". A single such tag is left to the extractor, which
/// reads it too, beside the page's other author tags.
fn from_meta_list(html: &str, comments: &Hidden) -> Option<String> {
    let mut lists: [Vec<String>; AUTHOR_LIST_KEYS.len()] = Default::default();
    for (key, name) in meta_entries(html, comments, &AUTHOR_LIST_KEYS) {
        push_name(&name, &mut lists[key]);
    }
    lists
        .into_iter()
        .find(|names| names.len() > 1)
        .map(|names| names.join("; "))
}

/// A name longer than this is a sentence or a list the publisher put in one field.
const NAME_BYTES: usize = 100;

/// The parts of a JSON-LD object read here. serde skips every other field (an `articleBody`
/// of the whole text) without building it, which a `Value` of the block would.
#[derive(Deserialize)]
struct Item {
    #[serde(rename = "@type", default)]
    kind: Value,
    #[serde(default)]
    author: Value,
    #[serde(rename = "@graph", default)]
    graph: Vec<Item>,
}

/// The authors of the first article object in the page's JSON-LD that names any, joined with
/// "; "; `None` when no JSON-LD article names an author.
fn from_json_ld(html: &str, comments: &Hidden) -> Option<String> {
    SCRIPT
        .find_iter(html)
        .filter_map(|tag| comments.hide(tag))
        .filter(|tag| {
            attribute(tag.as_str(), "type")
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
        })
        .filter_map(|tag| {
            let rest = &html[tag.end()..];
            let body = &rest[..CLOSE_SCRIPT.find(rest).map_or(rest.len(), |m| m.start())];
            // Most blocks (a site's, breadcrumbs) name no author: not worth parsing.
            if !body.contains("\"author\"") {
                return None;
            }
            parse_block(body).or_else(|| {
                // A raw line break or tab inside a string is not JSON, but publishers write
                // it and readers of structured data (Python's `json` with `strict=False`,
                // search engines) accept it: read it as the space it renders as.
                let body = body.replace(|c: char| c.is_ascii_control(), " ");
                parse_block(&body)
            })
        })
        .find_map(|block| {
            let mut names = Vec::new();
            for item in block.iter().flat_map(items).filter(|item| is_article(item)) {
                collect_names(&item.author, &mut names);
                if !names.is_empty() {
                    break;
                }
            }
            (!names.is_empty()).then(|| names.join("; "))
        })
}

/// A block is one object or a list of them.
fn parse_block(body: &str) -> Option<Vec<Item>> {
    if body.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<Item>>(body).ok()
    } else {
        serde_json::from_str::<Item>(body)
            .ok()
            .map(|item| vec![item])
    }
}

/// An object and those of its `@graph`, in order.
fn items(item: &Item) -> Box<dyn Iterator<Item = &Item> + '_> {
    Box::new(std::iter::once(item).chain(item.graph.iter().flat_map(items)))
}

/// schema.org's article types: `Article` and its subtypes (`NewsArticle`,
/// `ReportageNewsArticle`, `BlogPosting`, `ScholarlyArticle`, ...).
fn is_article(item: &Item) -> bool {
    let is = |t: &Value| {
        t.as_str()
            .is_some_and(|t| t.ends_with("Article") || t == "BlogPosting" || t == "Report")
    };
    match &item.kind {
        Value::Array(types) => types.iter().any(is),
        t => is(t),
    }
}

fn collect_names(author: &Value, names: &mut Vec<String>) {
    match author {
        Value::Array(list) => list.iter().for_each(|a| collect_names(a, names)),
        Value::Object(map) => {
            if let Some(name) = map.get("name") {
                collect_names(name, names);
            }
        }
        Value::String(name) => push_name(&fold(name), names),
        _ => {}
    }
}

/// `name` added to `names` as a byline reads, unless it is no name (empty, a URL, a
/// sentence) or already there.
fn push_name(name: &str, names: &mut Vec<String>) {
    let Some(name) = byline_name(name) else {
        return;
    };
    let is_url = name.starts_with("http://") || name.starts_with("https://");
    if !name.is_empty() && !is_url && name.len() <= NAME_BYTES && !names.contains(&name) {
        names.push(name);
    }
}

/// An author as a byline reads, without what stands before the name: ": Joe S." is Joe S.,
/// "By Glen Owen" is Glen Owen.
fn byline_name(author: &str) -> Option<String> {
    let name = author.trim_start_matches(|c: char| !c.is_alphanumeric());
    // "By", "By:", "BY -": a label, not part of the name.
    let name = match name.split_once(|c: char| !c.is_alphanumeric()) {
        Some((by, rest)) if by.eq_ignore_ascii_case("by") => {
            rest.trim_start_matches(|c: char| !c.is_alphanumeric())
        }
        _ => name,
    };
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_json_ld(html: &str) -> Option<String> {
        super::from_json_ld(html, &Hidden::comments(html))
    }

    #[test]
    fn bylines_lose_their_by() {
        let name = |a: &str| byline_name(a);
        assert_eq!(name(": Joe S.").as_deref(), Some("Joe S."));
        assert_eq!(name("By Glen Owen").as_deref(), Some("Glen Owen"));
        assert_eq!(name("by  Ann Lee").as_deref(), Some("Ann Lee"));
        assert_eq!(name("By: Jane Doe").as_deref(), Some("Jane Doe"));
        assert_eq!(name("BY - Jane Doe").as_deref(), Some("Jane Doe"));
        assert_eq!(name("Byron Katie").as_deref(), Some("Byron Katie"));
        assert_eq!(name("By").as_deref(), Some("By"));
        assert_eq!(name(" — "), None);
    }

    fn ld(json: &str) -> String {
        format!(r#"<html><head><script type="application/ld+json">{json}</script></head></html>"#)
    }

    #[test]
    fn every_author_of_the_article() {
        let html = ld(
            r#"{"@context": "https://schema.org", "@type": "NewsArticle",
            "author": [{"@type": "Person", "name": "Jeremy Herb", "url": "https://x/p/jh"},
                       {"@type": "Person", "name": "Lauren\u00a0del Valle"},
                       {"@type": "Person", "name": "Jeremy Herb"}, "By Kara Scannell"]}"#,
        );
        assert_eq!(
            from_json_ld(&html).as_deref(),
            Some("Jeremy Herb; Lauren del Valle; Kara Scannell")
        );
        // In a graph, with several types; one author as an object.
        let html = ld(
            r#"{"@graph": [{"@type": "WebSite", "author": {"name": "Site Team"}},
            {"@type": ["BlogPosting", "Thing"], "author": {"@type": "Person", "name": "Ann Lee"}}]}"#,
        );
        assert_eq!(from_json_ld(&html).as_deref(), Some("Ann Lee"));
    }

    #[test]
    fn a_line_break_inside_a_string_is_read_as_a_space() {
        // Written as publishers write it: a raw line break and tab inside a value.
        let json = "{\"@type\": \"BlogPosting\", \"articleBody\": \"<ul>\n\t<li>x</li>\",\n \"author\": {\"@type\": \"Person\", \"name\": \"Jacopo\nCascioli\"}}";
        assert!(serde_json::from_str::<Value>(json).is_err(), "not JSON");
        let html = ld(json);
        assert_eq!(from_json_ld(&html).as_deref(), Some("Jacopo Cascioli"));
    }

    fn names(html: &str, found: Option<&str>) -> Option<String> {
        super::names(html, &Hidden::comments(html), found)
    }

    #[test]
    fn every_author_a_scholarly_page_lists() {
        let html = "<meta name=\"dc.Creator\" content=\" Michael L. \u{a0}Anderson \">\
            <meta name=\"dc.Creator\" content=\" Carlos \u{a0}Dobkin \">\
            <meta name=\"citation_author\" content=\"Anderson, Michael L.\">\
            <meta name=\"citation_author\" content=\"Dobkin, Carlos\">\
            <meta name=\"DC.creator\" content=\"Devon Gorry\">";
        // One key, as many tags as authors, not mixed; Dublin Core's before Highwire's, which
        // puts the family name first.
        assert_eq!(
            names(html, Some("Michael L. Anderson")).as_deref(),
            Some("Michael L. Anderson; Carlos Dobkin; Devon Gorry")
        );
        // A single tag is the extractor's to read, with the page's other author tags.
        let html = r#"<meta name="citation_author" content="Anderson, Michael L.">"#;
        assert_eq!(
            names(html, Some("Michael Anderson")).as_deref(),
            Some("Michael Anderson")
        );
        // JSON-LD's list wins; a list in comments is not the page's.
        let html = format!(
            "{}<!-- <meta name=\"citation_author\" content=\"A\"><meta name=\"citation_author\" content=\"B\"> -->",
            ld(r#"{"@type": "ScholarlyArticle", "author": {"name": "Ann Lee"}}"#)
        );
        assert_eq!(names(&html, None).as_deref(), Some("Ann Lee"));
        assert_eq!(names(&html[html.find("<!--").unwrap()..], None), None);
    }

    #[test]
    fn no_article_no_names_no_json() {
        for html in [
            ld(r#"{"@type": "Organization", "author": "Someone"}"#),
            ld(r#"{"@type": "NewsArticle", "author": [{"url": "https://x/p/1"}, "https://x/p/2"]}"#),
            ld(r#"{"@type": "NewsArticle", "#),
            r#"<!-- <script type="application/ld+json">{"@type": "Article", "author": "Old"}</script> -->"#
                .to_string(),
            r#"<script>{"@type": "Article", "author": "Not JSON-LD"}</script>"#.to_string(),
        ] {
            assert_eq!(from_json_ld(&html), None, "{html}");
        }
    }
}
