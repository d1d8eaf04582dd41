//! The name of the site a page is from (the record's `source`), as the page declares it.
//!
//! rs-trafilatura reads a site name from many places and takes a Twitter handle
//! (`twitter:site`, "@github") or a URL over the page's `og:site_name` ("GitHub"), and when
//! nothing declares one it guesses from the `<title>` (on some pages the whole title) or from
//! a `<header>`'s text. Open Graph's `og:site_name` is the publisher's own name for the site,
//! the one trafilatura (Python) reports too; the extractor's guess stands only where the page
//! declares none, without a handle's `@`, and never when it is the page's title.

use super::markup::{Hidden, meta_contents};

/// The site's name: the page's `og:site_name`, else the extractor's `found` name unless it is
/// the page's `title`.
pub fn name(
    html: &str,
    comments: &Hidden,
    found: Option<&str>,
    title: Option<&str>,
) -> Option<String> {
    let declared = meta_contents(html, comments, &["og:site_name"]).find(|name| !name.is_empty());
    declared.or_else(|| {
        let found = found?.trim_start_matches('@');
        let is_title = title.is_some_and(|t| t.trim().eq_ignore_ascii_case(found));
        (!found.is_empty() && !is_title).then(|| found.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(html: &str, found: Option<&str>, title: Option<&str>) -> Option<String> {
        super::name(html, &Hidden::comments(html), found, title)
    }

    #[test]
    fn the_declared_name_wins() {
        let html = r#"<meta name="twitter:site" content="@github"><meta property="og:site_name" content="GitHub">"#;
        assert_eq!(name(html, Some("@github"), None).as_deref(), Some("GitHub"));
        let html = r#"<meta content="Harper&#039;s Magazine" property="og:site_name">"#;
        assert_eq!(
            name(html, Some("Harper&#039;s Magazine"), None).as_deref(),
            Some("Harper's Magazine")
        );
        // Commented out, or empty: not declared.
        let html = r#"<!-- <meta property="og:site_name" content="Old"> --><meta property="og:site_name" content=" ">"#;
        assert_eq!(
            name(html, Some("Gazette"), None).as_deref(),
            Some("Gazette")
        );
    }

    #[test]
    fn the_extractors_guess_where_none_is_declared() {
        assert_eq!(
            name("<p>x</p>", Some("@hackernoon"), None).as_deref(),
            Some("hackernoon")
        );
        let title = "UK university student halls too full to be safe, experts warn";
        assert_eq!(name("<p>x</p>", Some(title), Some(title)), None);
        assert_eq!(name("<p>x</p>", Some("@"), None), None);
        assert_eq!(name("<p>x</p>", None, Some(title)), None);
    }
}
