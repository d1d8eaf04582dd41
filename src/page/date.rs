//! The publication date a page states about itself in its markup, read as the publisher wrote
//! it.
//!
//! rs-trafilatura finds a date too, but only in a few spellings (an ISO date with seconds and a
//! colon in its offset) and converted to UTC, which moves an evening article in New York to the
//! next day. Newsrooms write the date in a handful of standard places; this reads them in the
//! order of how surely each one means *published* (not modified, not a related story's date):
//! schema.org's `datePublished` (JSON-LD, then microdata), the Open Graph / Dublin Core / news
//! meta tags, a `<time pubdate>` or hAtom `published` element, and last the date in the URL's
//! path (`/2019/12/30/`). The calendar date is the one written, in the publisher's own time
//! zone. A page whose markup states none may state it at the top of its text ([`in_text`]).

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use super::markup::{Hidden, META_TAG, attribute, has_attribute};

/// Meta tag keys (`name`, `property` or `itemprop`, lowercased) that state a publication date,
/// surest first. Modification dates (`article:modified_time`, `og:updated_time`,
/// `dateModified`) are deliberately absent: the record's field is `published`.
const META_KEYS: &[&str] = &[
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "parsely-pub-date",
    "sailthru.date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    // The rest of htmldate's keys (trafilatura's date reader) that say published, posted or
    // original, not created or modified: `article_date_original` is Advance Local's
    // (cleveland.com, oregonlive.com, ...), `rnews:datepublished` the BBC's.
    "publish_time",
    "published_date",
    "published-date",
    "published_time",
    "publisheddate",
    "publication_date",
    "date_published",
    "dateposted",
    "article_date_original",
    "article:published",
    "article.published",
    "article:published_date",
    "article:publicationdate",
    "article:post_date",
    "og:article:published",
    "og:datepublished",
    "og:pubdate",
    "og:publish_date",
    "originalpublicationdate",
    "dcsext.articlefirstpublished",
    "dc.date.publication",
    "rnews:datepublished",
    "rbpubdate",
    "bt:pubdate",
    "shareaholic:article_published_time",
    "mediator_published_time",
    "vr:published_time",
    "twt-published-at",
    "cxenseparse:recs:publishtime",
    "citation_publication_date",
    "citation_date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "date",
];

/// A byline is looked for in this many of the text's first non-blank lines, and only in lines
/// this short: "Posted on September 21, 2020 by ..." stands above the article; a sentence
/// further down that says a report was "published on" a day dates the report, not the page.
const BYLINE_LINES: usize = 5;
const BYLINE_BYTES: usize = 200;

/// How far after the page's headline (`<h1>`) an element marked as its date is looked for, in
/// bytes of HTML: the byline block under a headline, not the article's body or its sidebar.
const UNDER_HEADLINE_BYTES: usize = 4096;
/// Such an element's text is the date, perhaps with a time ("8 January 2020, 3:51 pm"), not a
/// sentence that contains one.
const DATE_ELEMENT_BYTES: usize = 60;

/// Dates before the web's news sites are a misread number, not a publication date.
const FIRST_YEAR: i32 = 1990;
const LAST_YEAR: i32 = 2100;

static JSON_LD_PUBLISHED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""datePublished"\s*:\s*"([^"]{4,64})""#).expect("JSON-LD date regex")
});
static BYLINE_CUE: LazyLock<Regex> = LazyLock::new(|| {
    // Capitalised, as a label is ("Posted on", "PUBLISHED:"); running text's "published on"
    // is lowercase.
    Regex::new(r"\b(?:Posted|Published|POSTED|PUBLISHED)(?i:\s+on)?\s*:?\s+")
        .expect("byline cue regex")
});
static START_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<[a-z][a-z0-9]*(?-u:\b)[^>]*>").expect("start tag regex"));
static ITEMPROP_PUBLISHED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<[a-z][a-z0-9]*(?-u:\b)[^>]*(?-u:\b)itemprop\s*=\s*["']?datePublished(?-u:\b)[^>]*>"#)
        .expect("itemprop regex")
});
static TIME_OR_ABBR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<(?:time|abbr)(?-u:\b)[^>]*>").expect("time tag regex"));
static URL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:[/._-]|$)")
        .expect("URL date regex")
});
static LEADING_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[^\d])|^\s*(\d{4})(\d{2})(\d{2})(?:$|[^\d])",
    )
    .expect("leading date regex")
});

/// The page's stated publication date, if its markup or its URL states one. Markup inside
/// `<!-- -->` comments is not the page's: templates leave old tags commented out there.
pub fn published(html: &str, comments: &Hidden, url: Option<&str>) -> Option<NaiveDate> {
    json_ld(html, comments)
        .or_else(|| meta(html, comments))
        .or_else(|| itemprop(html, comments))
        .or_else(|| time_element(html, comments))
        .or_else(|| url.and_then(in_url))
}

/// The publication date at the top of a page's main text, for a page whose markup states
/// none: a dateline (the first line starts with a date, read as the cleaner reads a text's
/// dateline, so `extract` and `annotate` agree), else a byline that says the text was posted
/// or published on a date ("Posted on September 21, 2020 by ...", "Published On May 10,
/// 2022 01:52 PM").
pub fn in_text(text: &str) -> Option<NaiveDate> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next()?;
    // Exactly the cleaner's reading, unfiltered, so that the two never disagree.
    if let Some((date, _)) = crate::clean::leading_date(first) {
        return Some(date);
    }
    std::iter::once(first)
        .chain(lines)
        .take(BYLINE_LINES)
        .filter(|line| line.len() <= BYLINE_BYTES)
        .flat_map(|line| {
            BYLINE_CUE
                .find_iter(line)
                .map(move |cue| &line[cue.end()..])
        })
        .find_map(byline_date)
}

/// The date a byline's cue introduces, when the byline ends there or goes on as bylines do
/// (`by` a name, a time, a separator): "Published on 3 March 2021, the report found ..." opens
/// a sentence about something else. A numeric date is read month first, as the cleaner reads
/// it, and only when no other order is possible (`10/25/2020`): `02/10/2020` is October on a
/// British page.
fn byline_date(rest: &str) -> Option<NaiveDate> {
    let (date, end) = unambiguous_leading_date(rest)?;
    let after = rest[end..].trim_start();
    let goes_on_as_a_byline = after.is_empty()
        || after.starts_with(|c: char| c.is_ascii_digit() || "|·•-–—(/".contains(c))
        || after
            .split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("by") || w.eq_ignore_ascii_case("at"));
    (goes_on_as_a_byline && plausible(date)).then_some(date)
}

/// The date a page shows under its headline, for a page that states none in its markup, its
/// URL or the top of its main text: the first element after its headline (the `<h1>` its
/// title was read from, ending at byte `headline_end`; within
/// [`UNDER_HEADLINE_BYTES`]) whose `class` or `id` names it a date (a word `date`, `dateline`,
/// `published`, `pubdate` or `timestamp`, not next to `updated` or `modified`) and whose own
/// text is a date, perhaps with a time: `<div class="date">December 29th 2019</div>`, `<span
/// class="date">8 January 2020, 3:51 pm</span>`. After the headline, so that a masthead's
/// "today" is not taken; the first one, so that a related story's date further down is not.
/// As in a byline, `02/10/2020` is refused: either order is a date.
pub fn under_headline(html: &str, headline_end: usize) -> Option<NaiveDate> {
    let window = &html[headline_end..html.floor_char_boundary(headline_end + UNDER_HEADLINE_BYTES)];
    START_TAG
        .find_iter(window)
        .filter(|tag| {
            let words = ["class", "id"]
                .iter()
                .filter_map(|a| attribute(tag.as_str(), a))
                .flat_map(|v| v.split(|c: char| !c.is_ascii_alphanumeric()))
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>();
            let says = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
            says(&["date", "dateline", "published", "pubdate", "timestamp"])
                && !says(&["updated", "modified", "update", "lastmod"])
        })
        .find_map(|tag| {
            let rest = &window[tag.end()..];
            let text = rest[..rest.find('<').unwrap_or(rest.len())]
                .replace("&nbsp;", " ")
                .replace("&#160;", " ");
            let text = text.trim();
            if text.is_empty() || text.len() > DATE_ELEMENT_BYTES {
                return None;
            }
            let (date, _) = unambiguous_leading_date(text)?;
            plausible(date).then_some(date)
        })
}

/// The date at the start of `text` as the cleaner reads it, with its byte length; a numeric
/// date only when no other order of day and month is possible (`10/25/2020`, not
/// `02/10/2020`, which is October on a British page).
fn unambiguous_leading_date(text: &str) -> Option<(NaiveDate, usize)> {
    let (date, end) = crate::clean::leading_date(text)?;
    let mut parts = text[..end].trim().split('/');
    if let (Some(a), Some(b)) = (parts.next(), parts.next()) {
        let small = |n: &str| n.trim().parse::<u32>().is_ok_and(|n| n <= 12);
        if small(a) && small(b) {
            return None;
        }
    }
    Some((date, end))
}

fn json_ld(html: &str, comments: &Hidden) -> Option<NaiveDate> {
    // Found first, then taken apart: the regex crate's capturing engine over a whole page
    // cost more than the rest of the date step.
    JSON_LD_PUBLISHED
        .find_iter(html)
        .filter_map(|m| comments.hide(m))
        .find_map(|m| parse(&JSON_LD_PUBLISHED.captures(m.as_str())?[1]))
}

/// The surest key's date among the page's meta tags (a page often has several).
fn meta(html: &str, comments: &Hidden) -> Option<NaiveDate> {
    META_TAG
        .find_iter(html)
        .filter_map(|tag| comments.hide(tag))
        .filter_map(|tag| {
            let tag = tag.as_str();
            let key = ["property", "name", "itemprop"]
                .iter()
                .find_map(|a| attribute(tag, a))?
                .to_ascii_lowercase();
            let rank = META_KEYS.iter().position(|k| *k == key)?;
            Some((rank, parse(attribute(tag, "content")?)?))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, date)| date)
}

/// Microdata on a visible element: `<span itemprop="datePublished" content="...">`, or a
/// `<time>`/`<abbr>` carrying it in `datetime`/`title`.
fn itemprop(html: &str, comments: &Hidden) -> Option<NaiveDate> {
    ITEMPROP_PUBLISHED
        .find_iter(html)
        .filter_map(|tag| comments.hide(tag))
        .find_map(|tag| dated_attribute(tag.as_str()))
}

/// `<time pubdate datetime=...>`, or an hAtom `published` (`<abbr class="published"
/// title=...>`): a plain `<time>` may date anything on the page, a comment or a related story.
fn time_element(html: &str, comments: &Hidden) -> Option<NaiveDate> {
    TIME_OR_ABBR
        .find_iter(html)
        .filter_map(|tag| comments.hide(tag))
        .find_map(|tag| {
            let tag = tag.as_str();
            let class = attribute(tag, "class").unwrap_or("");
            let says_published = has_attribute(tag, "pubdate")
                || class
                    .split_ascii_whitespace()
                    .any(|c| c.eq_ignore_ascii_case("published"));
            says_published.then(|| dated_attribute(tag)).flatten()
        })
}

fn dated_attribute(tag: &str) -> Option<NaiveDate> {
    ["content", "datetime", "title"]
        .iter()
        .find_map(|a| parse(attribute(tag, a)?))
}

fn in_url(url: &str) -> Option<NaiveDate> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    URL_DATE
        .captures_iter(path)
        .find_map(|c| date(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?))
}

/// The calendar date at the start of a stated value (`2020-09-26T22:00:27+01:00`,
/// `2019/12/30`, `20200224`), or of an RFC 2822 one (`Thu, 08 Nov 2023 21:24:10 -0500`), as
/// written: the offset is not applied.
fn parse(value: &str) -> Option<NaiveDate> {
    let value = value.trim();
    if let Some(c) = LEADING_DATE.captures(value) {
        let (y, m, d) = if c.get(1).is_some() {
            (&c[1], &c[2], &c[3])
        } else {
            (&c[4], &c[5], &c[6])
        };
        return date(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    }
    chrono::DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|dt| dt.date_naive())
        // A date as a person writes it ("Saturday, December 27, 2014, 12:06 PM"), read as
        // the cleaner reads a dateline, numeric only when unambiguous.
        .or_else(|| unambiguous_leading_date(value).map(|(date, _)| date))
        .filter(|d| plausible(*d))
}

fn date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day).filter(|d| plausible(*d))
}

fn plausible(date: NaiveDate) -> bool {
    use chrono::Datelike;
    (FIRST_YEAR..=LAST_YEAR).contains(&date.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_under_the_headline() {
        let page = |body: &str| {
            format!(
                "<html><body><header><span class=\"date\">Sunday 6 December 2026</span></header>{body}</body></html>"
            )
        };
        // The masthead's "today" stands before the headline and is not the article's.
        assert_eq!(
            under(&page(
                r#"<h1 class="title">Scraping</h1><div class="story-meta"><div class="date"> December 29th 2019 </div></div><p>Text.</p>"#
            )),
            d("2019-12-29")
        );
        assert_eq!(
            under(&page(
                r#"<h1>Sworn in</h1><span class="byline">By <a href="/w">E. B.</a></span> <span class="date">8 January&nbsp;2020, 3:51 pm</span>"#
            )),
            d("2020-01-08")
        );
        // Marked as an update, ambiguous, a sentence, or no headline at all: none.
        assert_eq!(
            under(&page(
                r#"<h1>T</h1><span class="date-updated">8 January 2020</span>"#
            )),
            None
        );
        assert_eq!(
            under(&page(r#"<h1>T</h1><span class="date">02/10/2020</span>"#)),
            None
        );
        assert_eq!(
            under(&page(
                r#"<h1>T</h1><p class="date">On 8 January 2020 the council met again to vote on the budget.</p>"#
            )),
            None
        );
        assert_eq!(under(r#"<span class="date">8 January 2020</span>"#), None);
        // The first one counts: a related story's date further down does not.
        assert_eq!(
            under(&page(
                r#"<h1>T</h1><time class="entry-date">3 March 2021</time><aside><span class="date">1 May 2020</span></aside>"#
            )),
            d("2021-03-03")
        );
        // Under the headline the title was read from, not under a logo's `<h1>` with the
        // masthead's date of the day after it.
        let html = page(
            r#"<header><h1><a href="/">Gazette</a></h1><span class="date">6 December 2026</span></header>
               <h1>Quay delayed</h1><span class="date">2 November 2026</span>"#,
        );
        assert_eq!(under(&html), d("2026-11-02"));
        // A headline inside a comment is not the page's.
        assert_eq!(
            under(r#"<!-- <h1>Old</h1><span class="date">8 January 2020</span> --><p>x</p>"#),
            None
        );
    }

    fn published(html: &str, url: Option<&str>) -> Option<NaiveDate> {
        super::published(html, &Hidden::comments(html), url)
    }

    /// The date under the headline that the title step finds.
    fn under(html: &str) -> Option<NaiveDate> {
        under_headline(html, crate::page::title::headline(html, None, None).end?)
    }

    fn d(s: &str) -> Option<NaiveDate> {
        Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    #[test]
    fn schema_org_wins_and_the_written_day_is_kept() {
        // New York, 21:24 on the 8th: the 9th in UTC, the 8th as published.
        let html = r#"<meta property="article:modified_time" content="2023-11-09T10:00:00-05:00">
            <meta property="article:published_time" content="2023-11-08T21:24:10.336533-05:00">"#;
        assert_eq!(published(html, None), d("2023-11-08"));
        let html = r#"<script type="application/ld+json">{"headline":"x",
            "datePublished" : "2019-12-30T05:03-0500","dateModified":"2020-01-02"}</script>
            <meta name="date" content="2018-01-01">"#;
        assert_eq!(published(html, None), d("2019-12-30"));
    }

    #[test]
    fn a_dateline_or_a_byline_at_the_top_of_the_text() {
        assert_eq!(in_text("\nJanuary 22, 2014\nMy Top 10"), d("2014-01-22"));
        assert_eq!(
            in_text("Posted on September 21, 2020 by Adi Tzlil\nText."),
            d("2020-09-21")
        );
        assert_eq!(
            in_text("A headline\nCrime Published On May 10, 2022 01:52 PM\nText."),
            d("2022-05-10")
        );
        assert_eq!(
            in_text("Headline\nPublished: 3 March 2021\n"),
            d("2021-03-03")
        );
        // A date in running text, or a byline below the top, dates something else.
        assert_eq!(
            in_text("The report, published on 3 March 2021, found that prices rose."),
            None
        );
        let late = format!("{}Posted on May 1, 2020\n", "Line.\n".repeat(BYLINE_LINES));
        assert_eq!(in_text(&late), None);
        let long = format!("Published on May 1, 2020 {}", "and more ".repeat(30));
        assert_eq!(in_text(&long), None);
        // A sentence that opens with the cue dates what it is about.
        assert_eq!(
            in_text("Published on 3 March 2021, the report found that prices rose."),
            None
        );
        // Day and month that could be either way round, or day first (not read); a year no
        // news site had, after which a later byline is still looked at.
        assert_eq!(in_text("Headline\nPublished: 02/10/2020\n"), None);
        assert_eq!(in_text("Headline\nPublished: 25/10/2020\n"), None);
        assert_eq!(
            in_text("Headline\nPosted on 10/25/2020 | Updated\n"),
            d("2020-10-25")
        );
        assert_eq!(in_text("Posted on May 1, 1985\nText.\n"), None);
        assert_eq!(
            in_text("Posted on May 1, 1985\nPublished on May 2, 2020\n"),
            d("2020-05-02")
        );
    }

    #[test]
    fn the_surest_meta_key_wins_over_document_order() {
        let html = r#"<meta name="date" content="2001-02-03">
            <meta name="DC.date.issued" content="2002/03/04">
            <meta property='og:published_time' content='Thu, 08 Nov 2012 21:24:10 -0500'>"#;
        assert_eq!(published(html, None), d("2012-11-08"));
    }

    #[test]
    fn microdata_time_and_hatom() {
        let html = r#"<abbr class='published' itemprop='datePublished' title='2018-06-05T08:00:00-07:00'>June 5</abbr>"#;
        assert_eq!(published(html, None), d("2018-06-05"));
        let html = r#"<time datetime="2021-01-01">New year</time>
            <abbr class="published entry" title="2006-12-04">December 4</abbr>"#;
        assert_eq!(published(html, None), d("2006-12-04"));
        let html = r#"<time class="x" pubdate datetime="2010-05-06T10:00Z">"#;
        assert_eq!(published(html, None), d("2010-05-06"));
        // A plain <time> dates something, not necessarily the page.
        assert_eq!(published(r#"<time datetime="2021-01-01">"#, None), None);
    }

    #[test]
    fn markup_in_comments_is_not_the_pages() {
        let html = r#"<!-- <meta property="article:published_time" content="2016-09-08"> -->
            <p>x</p><!-- an unclosed comment <meta name="pubdate" content="2017-01-01">"#;
        assert_eq!(published(html, None), None);
        let html = r#"<!-- x --><meta name="pubdate" content="2015-07-08"><!-- y -->"#;
        assert_eq!(published(html, None), d("2015-07-08"));
    }

    #[test]
    fn the_url_is_the_last_resort() {
        let url = "https://www.politico.com/news/2019/12/30/mark-meadows-090838";
        assert_eq!(published("<p>no markup</p>", Some(url)), d("2019-12-30"));
        assert_eq!(
            in_url("https://x.org/2020-02-05-robots.html"),
            d("2020-02-05")
        );
        assert_eq!(in_url("https://x.org/items/2020/13/40/"), None);
        assert_eq!(in_url("https://x.org/a?d=/2020/01/02/"), None);
        assert_eq!(in_url("https://x.org/p/12345678/"), None);
    }

    #[test]
    fn implausible_or_malformed_values_are_skipped() {
        for v in [
            "",
            "soon",
            "0000-00-00",
            "1970-01-01",
            "2020-02-30",
            "02/10/2020",
            "2020-1",
        ] {
            assert_eq!(parse(v), None, "{v:?}");
        }
        // Only one order of day and month makes this a date.
        assert_eq!(parse("12/31/2020"), d("2020-12-31"));
        assert_eq!(parse("20200224"), d("2020-02-24"));
        assert_eq!(parse(" 2020.02.24 "), d("2020-02-24"));
        // Keys of other publishers, and dates written as people write them.
        let html = r#"<meta name="article_date_original" content="Saturday, December 27, 2014, 12:06 PM">"#;
        assert_eq!(published(html, None), d("2014-12-27"));
        let html = r#"<meta name="article_date_original" content="02/10/2020">"#;
        assert_eq!(published(html, None), None);
        // A later source is read when an earlier one is unreadable.
        let html = r#"<meta property="article:published_time" content="unknown">
            <meta name="pubdate" content="2015-07-08">"#;
        assert_eq!(published(html, None), d("2015-07-08"));
    }
}
