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
//! zone. A page whose markup states none may state it at the top of its text ([`in_text`]),
//! under its headline ([`under_headline`]) or, last, in the data its scripts carry
//! ([`in_scripts`]). An all-numeric date (`02/10/2020`) is read in the order of the page's
//! language ([`NumericOrder`]).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use chrono::NaiveDate;
use regex::Regex;

use super::markup::{Hidden, META_TAG, attribute, has_attribute};
use crate::language::code as language_code;

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

/// How an all-numeric date (`02/10/2020`) reads on a page: the page's language (`<html
/// lang>`) says whether the day or the month comes first, as it does for the page's readers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumericOrder {
    /// American English (and the few other locales that write the month first): 02/10/2020
    /// is February 10.
    MonthFirst,
    /// Most of the world (`en-GB`, `en-AU`, `de`, `fr`, `es`, ...): 02/10/2020 is 2 October.
    DayFirst,
    /// No language, or one that does not settle it (`en` alone, `en-CA`, the locales that
    /// write the year first): only a date one order alone makes valid (`10/25/2020`) is read.
    Unknown,
}

impl NumericOrder {
    /// The order of a page's language ([`super::markup::html_lang`]), a BCP 47 tag (`en-GB`;
    /// `en_US` as some sites write it).
    pub fn of(language: Option<&str>) -> Self {
        let Some(tag) = language else {
            return Self::Unknown;
        };
        // The primary subtag as the record's `language` reads it; no order for a value that
        // is no language tag.
        let Some(language) = language_code(tag) else {
            return Self::Unknown;
        };
        // The region is the first two-letter subtag after the language (`zh-Hant-TW`).
        let region = tag
            .trim()
            .split(['-', '_'])
            .skip(1)
            .find(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(str::to_ascii_uppercase);
        match (language.as_str(), region.as_deref()) {
            // CLDR's short date patterns: month first in the United States and its
            // associated states, and in the Philippines.
            (
                "en",
                Some("US" | "PH" | "FM" | "MH" | "PW" | "UM" | "AS" | "GU" | "MP" | "PR" | "VI"),
            ) => Self::MonthFirst,
            // Canada writes both; `en` alone is as often American as British.
            ("en", Some("CA") | None) => Self::Unknown,
            // Languages that write the year first; and Spanish in the United States, which
            // writes both.
            ("zh" | "ja" | "ko" | "hu" | "lt" | "mn" | "fa", _) | (_, Some("US")) => Self::Unknown,
            _ => Self::DayFirst,
        }
    }
}

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
/// An all-numeric date at the start of a text, perhaps after a weekday: two numbers of one or
/// two digits and a four-digit year, the same separator twice (`02/10/2020`, `2.10.2020`).
static NUMERIC_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^[\t ]*{}(\d{{1,2}})([/.-])(\d{{1,2}})([/.-])(\d{{4}})(?:$|[^\d])",
        crate::clean::WEEKDAY
    ))
    .expect("numeric date regex")
});
/// The keys of the page's scripts' data that say published (`"publishedDate"`, as a page its
/// scripts render carries its state): the meta tags' keys in quotes, the bare `date` left
/// out, in any ASCII case. Aho-Corasick rather than a case-insensitive regex of fifty keys,
/// whose scan of a whole page showed in extraction time.
/// With each pattern's rank among [`META_KEYS`], by pattern index.
static SCRIPT_KEYS: LazyLock<(AhoCorasick, Vec<usize>)> = LazyLock::new(|| {
    let keys: Vec<(usize, &str)> = META_KEYS
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, key)| *key != "date")
        .collect();
    let searcher = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(keys.iter().map(|(_, key)| format!("\"{key}\"")))
        .expect("script key searcher");
    (searcher, keys.into_iter().map(|(rank, _)| rank).collect())
});
/// What follows such a key: an ISO date as its value.
static SCRIPT_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\s*:\s*"(\d{4}-\d{2}-\d{2}[^"]{0,40})""#).expect("script value regex")
});
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
pub fn published(
    html: &str,
    comments: &Hidden,
    url: Option<&str>,
    order: NumericOrder,
) -> Option<NaiveDate> {
    json_ld(html, comments, order)
        .or_else(|| meta(html, comments, order))
        .or_else(|| itemprop(html, comments, order))
        .or_else(|| time_element(html, comments, order))
        .or_else(|| url.and_then(in_url))
}

/// The last resort: a date the page's scripts carry under a key that says published
/// (`"publishedDate": "2016-11-04T20:37:27Z"`), as a page rendered by its scripts carries its
/// state, the surest key first (as among meta tags), then the first in the page. Last,
/// because such data may describe other items too (related stories, reviews).
pub fn in_scripts(html: &str, comments: &Hidden) -> Option<NaiveDate> {
    let (keys, ranks) = &*SCRIPT_KEYS;
    keys.find_iter(html)
        .filter(|m| !comments.covers(m.start()))
        .filter_map(|m| {
            let value = SCRIPT_VALUE.captures(&html[m.end()..])?;
            Some((ranks[m.pattern()], parse(&value[1], NumericOrder::Unknown)?))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, date)| date)
}

/// The publication date at the top of a page's main text, for a page whose markup states
/// none: a dateline (the first line starts with a date, read as the cleaner reads a text's
/// dateline, so `extract` and `annotate` agree, unless the page's language says how its
/// numeric dates read), else a byline that says the text was posted or published on a date
/// ("Posted on September 21, 2020 by ...", "Published On May 10, 2022 01:52 PM").
pub fn in_text(text: &str, order: NumericOrder) -> Option<NaiveDate> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next()?;
    // Exactly the cleaner's reading, unfiltered, so that the two never disagree; where the
    // page's language reads `02/10/2020` otherwise, this date is the page's and wins over
    // the cleaner's in `annotate`'s record too.
    let dateline = match order {
        NumericOrder::Unknown => crate::clean::leading_date(first),
        _ => leading_date_as(first, order),
    };
    if let Some((date, _)) = dateline {
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
        .find_map(|rest| byline_date(rest, order))
}

/// The date a byline's cue introduces, when the byline ends there or goes on as bylines do
/// (`by` a name, a time, a separator): "Published on 3 March 2021, the report found ..." opens
/// a sentence about something else. A numeric date is read in the page's order.
fn byline_date(rest: &str, order: NumericOrder) -> Option<NaiveDate> {
    let (date, end) = leading_date_as(rest, order)?;
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
/// `published`, `pubdate`, `timestamp` or `time`, not next to `updated` or `modified`) and
/// whose own
/// text is a date, perhaps with a time: `<div class="date">December 29th 2019</div>`, `<span
/// class="date">8 January 2020, 3:51 pm</span>`. After the headline, so that a masthead's
/// "today" is not taken; the first one, so that a related story's date further down is not.
/// As in a byline, a numeric date is read in the page's order.
pub fn under_headline(html: &str, headline_end: usize, order: NumericOrder) -> Option<NaiveDate> {
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
            says(&[
                "date",
                "dateline",
                "published",
                "pubdate",
                "timestamp",
                "time",
            ]) && !says(&["updated", "modified", "update", "lastmod"])
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
            let (date, _) = leading_date_as(text, order)?;
            plausible(date).then_some(date)
        })
}

/// The date at the start of `text`, with its byte length: as the cleaner reads it, but an
/// all-numeric date in `order`, and where the order is unknown only when one order alone
/// makes it a date (`10/25/2020`, `25/10/2020`; not `02/10/2020`).
fn leading_date_as(text: &str, order: NumericOrder) -> Option<(NaiveDate, usize)> {
    let Some(c) = NUMERIC_DATE.captures(text) else {
        return crate::clean::leading_date(text);
    };
    if c[2] != c[4] {
        return None;
    }
    let (a, b, year) = (c[1].parse().ok()?, c[3].parse().ok()?, c[5].parse().ok()?);
    let month_first = NaiveDate::from_ymd_opt(year, a, b);
    let day_first = NaiveDate::from_ymd_opt(year, b, a);
    let date = match order {
        NumericOrder::MonthFirst => month_first,
        NumericOrder::DayFirst => day_first,
        NumericOrder::Unknown => match (month_first, day_first) {
            (Some(m), Some(d)) => (m == d).then_some(m),
            (m, d) => m.or(d),
        },
    }?;
    Some((date, c.get(5)?.end()))
}

fn json_ld(html: &str, comments: &Hidden, order: NumericOrder) -> Option<NaiveDate> {
    // Found first, then taken apart: the regex crate's capturing engine over a whole page
    // cost more than the rest of the date step.
    JSON_LD_PUBLISHED
        .find_iter(html)
        .filter_map(|m| comments.hide(m))
        .find_map(|m| parse(&JSON_LD_PUBLISHED.captures(m.as_str())?[1], order))
}

/// The surest key's date among the page's meta tags (a page often has several).
fn meta(html: &str, comments: &Hidden, order: NumericOrder) -> Option<NaiveDate> {
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
            Some((rank, parse(attribute(tag, "content")?, order)?))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, date)| date)
}

/// Microdata on a visible element: `<span itemprop="datePublished" content="...">`, or a
/// `<time>`/`<abbr>` carrying it in `datetime`/`title`.
fn itemprop(html: &str, comments: &Hidden, order: NumericOrder) -> Option<NaiveDate> {
    ITEMPROP_PUBLISHED
        .find_iter(html)
        .filter_map(|tag| comments.hide(tag))
        .find_map(|tag| dated_attribute(tag.as_str(), order))
}

/// `<time pubdate datetime=...>`, or an hAtom `published` (`<abbr class="published"
/// title=...>`): a plain `<time>` may date anything on the page, a comment or a related story.
fn time_element(html: &str, comments: &Hidden, order: NumericOrder) -> Option<NaiveDate> {
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
            says_published
                .then(|| dated_attribute(tag, order))
                .flatten()
        })
}

fn dated_attribute(tag: &str, order: NumericOrder) -> Option<NaiveDate> {
    ["content", "datetime", "title"]
        .iter()
        .find_map(|a| parse(attribute(tag, a)?, order))
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
fn parse(value: &str, order: NumericOrder) -> Option<NaiveDate> {
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
        // the cleaner reads a dateline, numeric in the page's order.
        .or_else(|| leading_date_as(value, order).map(|(date, _)| date))
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
        super::published(html, &Hidden::comments(html), url, NumericOrder::Unknown)
    }

    /// The date under the headline that the title step finds.
    fn under(html: &str) -> Option<NaiveDate> {
        under_headline(
            html,
            crate::page::title::headline(html, None, None).end?,
            NumericOrder::Unknown,
        )
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
        assert_eq!(
            in_text("\nJanuary 22, 2014\nMy Top 10", NumericOrder::Unknown),
            d("2014-01-22")
        );
        assert_eq!(
            in_text(
                "Posted on September 21, 2020 by Adi Tzlil\nText.",
                NumericOrder::Unknown
            ),
            d("2020-09-21")
        );
        assert_eq!(
            in_text(
                "A headline\nCrime Published On May 10, 2022 01:52 PM\nText.",
                NumericOrder::Unknown
            ),
            d("2022-05-10")
        );
        assert_eq!(
            in_text("Headline\nPublished: 3 March 2021\n", NumericOrder::Unknown),
            d("2021-03-03")
        );
        // A date in running text, or a byline below the top, dates something else.
        assert_eq!(
            in_text(
                "The report, published on 3 March 2021, found that prices rose.",
                NumericOrder::Unknown
            ),
            None
        );
        let late = format!("{}Posted on May 1, 2020\n", "Line.\n".repeat(BYLINE_LINES));
        assert_eq!(in_text(&late, NumericOrder::Unknown), None);
        let long = format!("Published on May 1, 2020 {}", "and more ".repeat(30));
        assert_eq!(in_text(&long, NumericOrder::Unknown), None);
        // A sentence that opens with the cue dates what it is about.
        assert_eq!(
            in_text(
                "Published on 3 March 2021, the report found that prices rose.",
                NumericOrder::Unknown
            ),
            None
        );
        // Day and month that could be either way round on a page whose language does not
        // say (not read), or that only one order makes a date (read); a year no news site
        // had, after which a later byline is still looked at.
        assert_eq!(
            in_text("Headline\nPublished: 02/10/2020\n", NumericOrder::Unknown),
            None
        );
        assert_eq!(
            in_text("Headline\nPublished: 25/10/2020\n", NumericOrder::Unknown),
            d("2020-10-25")
        );
        assert_eq!(
            in_text(
                "Headline\nPosted on 10/25/2020 | Updated\n",
                NumericOrder::Unknown
            ),
            d("2020-10-25")
        );
        assert_eq!(
            in_text("Posted on May 1, 1985\nText.\n", NumericOrder::Unknown),
            None
        );
        assert_eq!(
            in_text(
                "Posted on May 1, 1985\nPublished on May 2, 2020\n",
                NumericOrder::Unknown
            ),
            d("2020-05-02")
        );
    }

    #[test]
    fn the_pages_language_says_how_a_numeric_date_reads() {
        use super::super::markup::html_lang;
        use NumericOrder::*;
        for (html, order) in [
            (r#"<!DOCTYPE html><html lang="en-GB" class="x">"#, DayFirst),
            (
                r#"<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en-gb">"#,
                DayFirst,
            ),
            (r#"<!-- a --><HTML LANG='de'>"#, DayFirst),
            (r#"<html lang="en-US">"#, MonthFirst),
            (r#"<html lang="en_us">"#, MonthFirst),
            (r#"<html lang="en">"#, Unknown),
            (r#"<html lang="en-CA">"#, Unknown),
            (r#"<html lang="es-US">"#, Unknown),
            (r#"<html lang="ja">"#, Unknown),
            (r#"<html lang="zh-Hant-TW">"#, Unknown),
            (r#"<html lang="">"#, Unknown),
            (r#"<html lang="und">"#, Unknown),
            (r#"<html class="no-js">"#, Unknown),
            ("<p>no html tag</p>", Unknown),
        ] {
            assert_eq!(NumericOrder::of(html_lang(html)), order, "{html}");
        }
        let page = |lang: &str, date: &str| {
            format!(r#"<html lang="{lang}"><body><h1>T</h1><span class="time">{date}</span>"#)
        };
        let read = |html: &str, order| {
            under_headline(
                html,
                crate::page::title::headline(html, None, None).end.unwrap(),
                order,
            )
        };
        let html = page("en-GB", "02/10/2020");
        assert_eq!(
            read(&html, NumericOrder::of(html_lang(&html))),
            d("2020-10-02")
        );
        let html = page("en-US", "02/10/2020");
        assert_eq!(
            read(&html, NumericOrder::of(html_lang(&html))),
            d("2020-02-10")
        );
        let html = page("en", "02/10/2020");
        assert_eq!(read(&html, NumericOrder::of(html_lang(&html))), None);
        // Only one order makes these dates, whatever the page's language.
        assert_eq!(
            read(&page("en", "Fri, 25/10/2020"), Unknown),
            d("2020-10-25")
        );
        assert_eq!(
            read(&page("en", "10/25/2020 3:51 pm"), Unknown),
            d("2020-10-25")
        );
        // The day first where the language says so, with dots as German writes it; a
        // separator that changes halfway is not a date.
        assert_eq!(
            in_text("02.10.2020 Berlin\nText.", DayFirst),
            d("2020-10-02")
        );
        assert_eq!(in_text("02.10-2020 Berlin\nText.", DayFirst), None);
        assert_eq!(parse("02/10/2020", DayFirst), d("2020-10-02"));
        assert_eq!(parse("02/10/2020", MonthFirst), d("2020-02-10"));
    }

    #[test]
    fn the_data_a_pages_scripts_carry_is_the_last_resort() {
        let scripts = |html: &str| in_scripts(html, &Hidden::comments(html));
        let html = r#"<script type="application/json">{"publishedDate":"2016-11-04T20:37:27Z",
            "updatedDate":"2016-11-05T20:39:47Z"}</script>"#;
        assert_eq!(scripts(html), d("2016-11-04"));
        // The surest key wins over the first; a bare `date`, a date not written as ISO, or
        // one in a comment, says nothing.
        let html = r#"{"date_published": "2019-01-01", "datePublished": "2018-02-03T10:00"}"#;
        assert_eq!(scripts(html), d("2018-02-03"));
        assert_eq!(scripts(r#"{"date": "2019-01-01"}"#), None);
        assert_eq!(scripts(r#"{"publishedDate": "Jan 1, 2019"}"#), None);
        assert_eq!(scripts(r#"<!-- {"publishedDate": "2019-01-01"} -->"#), None);
        assert_eq!(scripts(r#"{"publishedDate": "0001-01-01"}"#), None);
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
            assert_eq!(parse(v, NumericOrder::Unknown), None, "{v:?}");
        }
        // Only one order of day and month makes this a date.
        assert_eq!(parse("12/31/2020", NumericOrder::Unknown), d("2020-12-31"));
        assert_eq!(parse("20200224", NumericOrder::Unknown), d("2020-02-24"));
        assert_eq!(
            parse(" 2020.02.24 ", NumericOrder::Unknown),
            d("2020-02-24")
        );
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
