//! The page's title as a reader sees it: the headline at the top of the article.
//!
//! rs-trafilatura takes the title a page gives for sharing and search first (`og:title`,
//! `twitter:title`, JSON-LD, `<title>`). Publishers write those for other readers: a longer
//! one for search ("What are Leadership Styles? definition and meaning"), another for social
//! media, sometimes a related story's (a JSON-LD block about another article). The headline
//! the page shows is its `<h1>`. But a page's first `<h1>` is not always its headline: a logo
//! (`<h1><a href="/">POLITICO</a></h1>`), a donation box's "€5", an advert's "Visit Harford
//! County this fall", a kicker above the headline ("Open Progress" in the same `<h1>`).

use std::cell::OnceCell;
use std::collections::HashSet;
use std::sync::LazyLock;

use dom_query::{Document, Selection};
use regex::Regex;

use super::markup::{H1, Hidden, decode, fold, meta_contents};

/// How much HTML one `<h1>` may span; longer is a layout, not a headline.
const H1_BYTES: usize = 4096;
/// A headline is a line, not a paragraph.
const HEADLINE_BYTES: usize = 300;
/// A headline stands near the top of a page: after this many `<h1>` elements, a page (a
/// listing, a generated page) has none that this reads.
const H1_CANDIDATES: usize = 64;
/// Words shorter than this ("the", "and", "of") are shared by any two titles.
const WORD_CHARS: usize = 4;

/// Elements marked as not shown: by HTML (`hidden`), ARIA, an inline style, or the class
/// names of the common accessibility and CSS-framework conventions for text kept only for
/// screen readers.
const UNSEEN: &str = r#"[hidden], [aria-hidden="true"], [style*="display:none"], [style*="display: none"], .hidden, .hide, .hide-text, .sr-only, .visually-hidden, .visuallyhidden, .screen-reader-text, .offscreen"#;

static CLOSE_H1: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)</h1\s*>").expect("h1 end regex"));
static TITLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<title(?-u:\b)[^>]*>").expect("title regex"));
static CLOSE_TITLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)</title\s*>").expect("title end regex"));

/// The page's title, and where its headline element ends in the HTML (the date stands under
/// it).
#[derive(Debug)]
pub struct Headline {
    pub title: Option<String>,
    pub end: Option<usize>,
}

/// The page's headline: the first `<h1>` (among the first 64 outside comments, scripts,
/// styles, templates and `<noscript>`; at most 4 KB of HTML and 300 bytes of text) that a
/// reader sees (not hidden, not text kept for screen readers), that is not a logo (wholly a
/// link to the site's home page) or the site's name, and that shares a word of four letters or
/// more, besides the site's name, with one of the titles the page gives itself (`<title>`,
/// `og:title`, `twitter:title`, or the extractor's `found` title): a donation box's or an
/// advert's `<h1>` shares none. When that `<h1>` holds the extractor's title along with more
/// in elements of its own (a kicker, a subtitle), the title is the headline. A page with no
/// such `<h1>` keeps `found` as its title.
pub fn headline(html: &str, found: Option<&str>, site: Option<&str>) -> Headline {
    match h1_headline(html, found, site) {
        Some((title, end)) => Headline {
            title: Some(title),
            end: Some(end),
        },
        None => Headline {
            title: found.map(str::to_string),
            end: None,
        },
    }
}

fn h1_headline(html: &str, found: Option<&str>, site: Option<&str>) -> Option<(String, usize)> {
    let hidden = Hidden::inert(html);
    // Read only for a page with a headline to check.
    let own = OnceCell::new();
    let site_lower = site.map(str::to_lowercase);
    let found_lower = found.map(str::to_lowercase);
    H1.find_iter(html)
        .filter_map(|m| hidden.hide(m))
        .take(H1_CANDIDATES)
        .find_map(|m| {
            let window = &html[m.start()..html.floor_char_boundary(m.start() + H1_BYTES)];
            let end = CLOSE_H1.find(window)?.end();
            let doc = Document::fragment(&window[..end]);
            // What a reader never sees is not the headline: a logo's text kept for screen
            // readers (`<h1 class="hide-text">`), a hidden element. With the `<h1>` itself.
            doc.select(UNSEEN).remove();
            let h1 = doc.select("h1").first();
            let text = fold(&h1.text());
            if text.is_empty() || text.len() > HEADLINE_BYTES {
                return None;
            }
            let has_parts = h1.children().exists();
            let lower = text.to_lowercase();
            if is_logo(&h1) || site_lower.as_deref() == Some(lower.as_str()) {
                return None;
            }
            let own = own.get_or_init(|| own_titles(html, &hidden, found, site));
            if !own.is_empty() && words(&text).is_disjoint(own) {
                return None;
            }
            let end = m.start() + end;
            match (found, &found_lower) {
                (Some(found), Some(found_lower))
                    if has_parts
                        && lower != *found_lower
                        && lower.contains(found_lower.as_str()) =>
                {
                    Some((found.to_string(), end))
                }
                _ => Some((text, end)),
            }
        })
}

/// An `<h1>` whose text is all inside links, one of them to the site's home page: the site's
/// logo. A headline linked to its own story (`<h1><a href="/2026/quay">...`) is a headline.
fn is_logo(h1: &Selection) -> bool {
    let links = h1.select("a");
    let home = links.nodes().iter().any(|a| {
        let href = a.attr("href").map(|h| h.to_string()).unwrap_or_default();
        let path = match href.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
            None => href.as_str(),
        };
        matches!(path.split(['?', '#']).next(), Some("" | "/"))
    });
    if !home {
        return false;
    }
    let h1 = h1.clone();
    links.remove();
    fold(&h1.text()).is_empty()
}

/// The words of every title the page gives itself, less the site's name: "Tromsø quay delayed
/// | Harbour Gazette" does not make a logo's "Harbour Gazette News" a headline.
fn own_titles(
    html: &str,
    hidden: &Hidden,
    found: Option<&str>,
    site: Option<&str>,
) -> HashSet<String> {
    let title = TITLE
        .find_iter(html)
        .find_map(|m| hidden.hide(m))
        .and_then(|m| {
            let rest = &html[m.end()..];
            Some(decode(&rest[..CLOSE_TITLE.find(rest)?.start()]))
        });
    let shared = meta_contents(html, hidden, &["og:title", "twitter:title"]);
    let site = site.map(words).unwrap_or_default();
    title
        .into_iter()
        .chain(shared)
        .chain(found.map(str::to_string))
        .flat_map(|t| words(&t))
        .filter(|w| !site.contains(w))
        .collect()
}

fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= WORD_CHARS)
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(head: &str, body: &str) -> String {
        format!("<html><head>{head}</head><body>{body}</body></html>")
    }

    #[test]
    fn the_headline_wins_over_the_title_for_sharing() {
        let html = page(
            r#"<title>What are Leadership Styles? definition and meaning - Business Jargons</title>
               <meta property="og:site_name" content="Business Jargons">"#,
            r#"<header><h1><a href="/" class="logo">Business Jargons <small>A Business Encyclopedia</small></a></h1></header>
               <article><h1> Leadership Styles </h1><p>Text.</p></article>"#,
        );
        let found = "What are Leadership Styles? definition and meaning";
        assert_eq!(
            headline(&html, Some(found), Some("Business Jargons"))
                .title
                .as_deref(),
            Some("Leadership Styles")
        );
    }

    #[test]
    fn what_is_not_the_headline() {
        let found = "Mark Meadows accused of timing retirement";
        let head = format!(
            r#"<title>{found} | POLITICO</title><meta property="og:title" content="{found}">"#
        );
        let keeps_found = |body: &str| {
            assert_eq!(
                headline(&page(&head, body), Some(found), Some("POLITICO"))
                    .title
                    .as_deref(),
                Some(found),
                "{body}"
            );
        };
        // Text kept for screen readers, or hidden.
        keeps_found(
            r#"<h1 class="hide-text"><span class="hide-text">Mark Meadows News</span></h1>"#,
        );
        keeps_found(r#"<h1><span class="sr-only">Meadows</span></h1><h1 hidden>Meadows</h1>"#);
        // A logo that links home, even one that shares a word with the title.
        keeps_found(r#"<h1> <a href="https://www.politico.com/"><span>POLITICO</span></a> </h1>"#);
        keeps_found(r#"<h1><a href="/?ref=logo">Meadows Daily</a></h1>"#);
        // The site's name, or words of it only: the `<title>` carries it too.
        keeps_found("<h1>Politico</h1><h1 class=\"logo\">POLITICO Pro</h1>");
        // A donation box's and an advert's: no word of the page's titles.
        keeps_found("<h1>€5</h1><h1>€10</h1><h1>Visit Harford County this fall</h1>");
        // Empty, in a comment, written by a script, too long, unclosed.
        keeps_found(
            "<h1> </h1><!-- <h1>Meadows old</h1> --><script>w('<h1>Meadows notice</h1>')</script>",
        );
        keeps_found(&format!("<h1>Meadows {}</h1>", "word ".repeat(80)));
        keeps_found("<h1>Meadows retires");
    }

    #[test]
    fn a_headline_linked_to_its_story_is_a_headline() {
        let found = "Mark Meadows accused of timing retirement";
        let html = page(
            &format!(r#"<meta property="og:title" content="{found}">"#),
            r#"<h1 class="entry-title"><a href="/news/2019/12/30/meadows">Meadows to retire</a></h1>"#,
        );
        assert_eq!(
            headline(&html, Some(found), None).title.as_deref(),
            Some("Meadows to retire")
        );
        // With nothing to compare with, the site's name is still not a headline.
        assert_eq!(
            headline("<h1>Politico</h1>", None, Some("POLITICO")).title,
            None
        );
    }

    #[test]
    fn a_kicker_or_subtitle_in_the_headline_is_left_out() {
        let found = "Why collaborative thinking beats individual smarts";
        let html = page(
            "",
            r#"<h1><span class="kicker">Open Progress</span><br/><span itemprop="headline">Why collaborative thinking beats individual smarts</span></h1>"#,
        );
        assert_eq!(
            headline(&html, Some(found), None).title.as_deref(),
            Some(found)
        );
        // Without parts of its own, the longer headline is the headline: the extractor cut a
        // tail it took for a site's name.
        let found = "This County Criminalized Students for Bad Grades";
        let html = page(
            "",
            "<h1>This County Criminalized Students for Bad Grades &ndash; Until Now</h1>",
        );
        assert_eq!(
            headline(&html, Some(found), None).title.as_deref(),
            Some("This County Criminalized Students for Bad Grades – Until Now")
        );
    }

    #[test]
    fn references_are_read_and_no_h1_keeps_the_title() {
        let html = page(
            r#"<meta property="og:title" content="Oven-baked Italian Olive &amp; Herb Focaccia">"#,
            r#"<h1 class="entry-title">Olive &#038; Herb Focaccia&nbsp;Bread</h1>"#,
        );
        assert_eq!(
            headline(
                &html,
                Some("Oven-baked Italian Olive & Herb Focaccia"),
                None
            )
            .title
            .as_deref(),
            Some("Olive & Herb Focaccia Bread")
        );
        assert_eq!(
            headline("<p>No headline</p>", Some("T"), None)
                .title
                .as_deref(),
            Some("T")
        );
        assert_eq!(headline("<p>No headline</p>", None, None).title, None);
        // Nothing to compare with: the headline stands on its own.
        assert_eq!(
            headline("<h1>Alone</h1>", None, None).title.as_deref(),
            Some("Alone")
        );
    }
}
