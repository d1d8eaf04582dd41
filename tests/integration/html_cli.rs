//! Web pages end to end: HTML files, JSONL with `html`, HTML and WARC on stdin, WARC files
//! (plain and gzip member per record, with damaged records), `newstag extract`, bad pages, and
//! SIGKILL then `--resume` over a WARC file. Every page here is written by the test (no
//! network, no third-party page).
#![cfg(feature = "html")]

use crate::common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::thread::sleep;
use std::time::Duration;

use common::*;
use flate2::{Compression, write::GzEncoder};
use proptest::prelude::*;
use serde_json::Value;

/// A news page as a CMS writes one: navigation, a JSON-LD block with the date, the article
/// with a dateline line the text itself carries, related links and a footer.
fn news_page(title: &str, date: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>{title} | Harbour Gazette</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Harbour Gazette">
<meta name="author" content="Ingrid Solberg">
<script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "{title}",
  "datePublished": "{date}T08:30:00Z", "author": {{"@type": "Person", "name": "Ingrid Solberg"}},
  "publisher": {{"@type": "Organization", "name": "Harbour Gazette"}}}}
</script>
</head><body>
<header><nav><ul>
<li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/subscribe">Subscribe to the Harbour Gazette newsletter today</a></li>
</ul></nav></header>
<main><article>
<h1>{title}</h1>
<div class="byline">By Ingrid Solberg</div>
{body}</article>
<aside class="related"><h2>Related stories</h2><ul>
<li><a href="/a">Ferry timetable changes announced for the winter season</a></li>
<li><a href="/b">Council approves new harbour crane after long debate</a></li>
</ul></aside></main>
<footer><p>Copyright 2026 Harbour Gazette Media Group. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a></footer>
</body></html>"#
    )
}

const PARAS: [&str; 4] = [
    "The port authority in Tromsø said on Monday that the new quay would open in March, two months later than planned, after engineers found cracks in the old foundations.",
    "“We would rather be late than sorry,” said harbour master Maria Lindqvist, who has run the port since 2019. The delay will cost about 40 million kroner, she said.",
    "Fishing companies, which land most of their catch at the quay, welcomed the decision but asked for temporary berths at the container terminal during the winter season.",
    "The authority expects the first cruise ships to use the quay in April 2027, when the tourist season begins and the midnight sun returns to the city 🌞.",
];

const FRENCH: &str = "À la gare, le café était fermé: les employés préféraient déjeuner près du théâtre, où l'on sert une crème brûlée célèbre et des crêpes à la française.";

fn page() -> String {
    news_page("Tromsø quay opening delayed to March", "2026-11-02", &PARAS)
}

fn text_of(r: &Value) -> &str {
    r["text"].as_str().unwrap_or_else(|| panic!("no text: {r}"))
}

/// Every span of a record is its slice of the record's `text`, in code points.
fn assert_offsets(r: &Value) {
    assert_spans_exact(text_of(r), r);
}

fn error_kind(r: &Value) -> &str {
    r["error"]["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error record: {r}"))
}

#[test]
fn an_html_file_gives_its_main_text_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quay.html");
    fs::write(&path, page()).unwrap();
    let path = path.to_str().unwrap();

    let out = run(&["extract", path]);
    assert_ok(&out);
    let recs = records(&out);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r["id"], path);
    assert_eq!(r["title"], "Tromsø quay opening delayed to March");
    assert_eq!(r["published"], "2026-11-02");
    assert_eq!(r["author"], "Ingrid Solberg");
    assert_eq!(r["site"], "Harbour Gazette");
    let text = text_of(r);
    for p in PARAS {
        assert!(text.contains(p), "paragraph lost: {p}\n--- text:\n{text}");
    }
    for boiler in [
        "Subscribe to the Harbour Gazette newsletter",
        "Copyright 2026",
        "Privacy policy",
    ] {
        assert!(!text.contains(boiler), "boilerplate kept: {boiler}");
    }

    // segment: the extracted text comes with the record, and every offset is into it.
    let out = run(&["segment", path]);
    assert_ok(&out);
    let r = &records(&out)[0];
    assert_eq!(r["published"], "2026-11-02");
    assert_offsets(r);
    let sentences = strs(r, "sentences", "text");
    assert!(sentences.contains(&"The delay will cost about 40 million kroner, she said."));
    assert!(
        sentences
            .last()
            .unwrap()
            .ends_with("returns to the city 🌞.")
    );
}

#[test]
fn the_pages_date_and_site_win_over_the_texts_dateline() {
    // The article's first paragraph is a glued dateline ("May 30, 2025Clash Report", as in the
    // seed article); the page's own metadata says otherwise, and wins.
    let html = news_page(
        "Talks resume",
        "2025-06-01",
        &[
            "May 30, 2025Clash Report",
            "Negotiators from both delegations met again in Geneva on Friday to discuss the long list of open questions that remain on the table after three earlier rounds.",
            "Officials said the meeting lasted six hours and that another round would follow in July, though neither side would say where it would be held this time.",
        ],
    );
    let out = run_stdin(&["segment", "-"], html.as_bytes());
    assert_ok(&out);
    let r = &records(&out)[0];
    assert_eq!(r["id"], "-");
    assert_eq!(r["published"], "2025-06-01", "{r}");
    assert!(text_of(r).starts_with("May 30, 2025Clash Report"));
    assert_eq!(r["boilerplate"][0]["kind"], "dateline");
    assert_offsets(r);
}

/// A page whose article body is `PARAS`, with `head` in its `<head>` (how it states its date).
fn page_with_head(head: &str) -> String {
    let body: String = PARAS.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Quay delayed</title>{head}</head><body><main><article><h1>Quay delayed</h1>\
         {body}</article></main></body></html>"
    )
}

#[test]
fn the_published_date_is_the_day_the_publisher_wrote() {
    let pages = [
        // 21:30 in New York on the 2nd is the 3rd in UTC; the page says the 2nd.
        (
            r#"<meta property="article:modified_time" content="2026-11-04T10:00:00-05:00">
               <meta property="article:published_time" content="2026-11-02T21:30:00-05:00">"#,
            "https://gazette.example/quay",
            Some("2026-11-02"),
        ),
        // schema.org's spelling without seconds and with a bare offset.
        (
            r#"<script type="application/ld+json">{"@type": "WebPage",
               "datePublished": "2026-10-30T05:03-0500"}</script>"#,
            "https://gazette.example/quay",
            Some("2026-10-30"),
        ),
        // A tag the template left in a comment is not the page's; the URL's date is.
        (
            r#"<!-- <meta property="article:published_time" content="2016-09-08"> -->"#,
            "https://gazette.example/2026/11/05/quay-delayed/",
            Some("2026-11-05"),
        ),
        ("", "https://gazette.example/quay", None),
    ];
    let input: String = pages
        .iter()
        .enumerate()
        .map(|(i, (head, url, _))| {
            serde_json::json!({"id": i.to_string(), "url": url, "html": page_with_head(head)})
                .to_string()
                + "\n"
        })
        .collect();
    let out = run_stdin(&["extract", "-"], input.as_bytes());
    assert_ok(&out);
    let recs = records(&out);
    assert_eq!(recs.len(), pages.len());
    for (r, (_, _, want)) in recs.iter().zip(&pages) {
        assert_eq!(r["published"].as_str(), *want, "{r}");
    }
}

/// Asserts that `extract` and `segment` both date the quay page as published on 2 November
/// 2026, with `before` and `after` the markup around its headline: the record of the
/// extraction a user keeps says what the annotation says.
fn assert_quay_page_dated(before: &str, after: &str) {
    assert_quay_page_dated_in("en", before, after);
}

/// As [`assert_quay_page_dated`], on a page in the language `lang`.
fn assert_quay_page_dated_in(lang: &str, before: &str, after: &str) {
    let body: String = PARAS.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let page = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>Quay delayed\
         </title></head><body>{before}<main><article><h1>Quay delayed</h1>{after}{body}\
         </article></main></body></html>"
    );
    let input = serde_json::json!({"id": "q", "url": "https://gazette.example/quay", "html": page})
        .to_string();
    for command in ["extract", "segment"] {
        let out = run_stdin(&[command, "-"], input.as_bytes());
        assert_ok(&out);
        let recs = records(&out);
        assert_eq!(recs[0]["published"], "2026-11-02", "{command}: {}", recs[0]);
    }
}

#[test]
fn a_page_without_a_date_in_its_markup_is_dated_by_its_byline() {
    assert_quay_page_dated("", "<p>Posted on November 2, 2026 by Ingrid Solberg</p>");
}

#[test]
fn a_page_without_a_date_elsewhere_is_dated_by_the_element_under_its_headline() {
    // The masthead's date of the day stands above the headline, after the logo's `<h1>`;
    // the article's below the headline.
    assert_quay_page_dated(
        "<header><h1><a href=\"/\">Harbour Gazette</a></h1><span class=\"date\">6 December \
         2026</span></header>",
        "<div class=\"story-meta\">By Ingrid Solberg <span class=\"post-date\">2 November \
         2026, 3:51 pm</span></div>",
    );
}

#[test]
fn a_numeric_date_reads_as_the_pages_language_writes_it() {
    // 02/11/2026 is 2 November in British English and 11/02/2026 is in American English; on a
    // page that says only `en`, either could be February or November, and neither is read.
    assert_quay_page_dated_in("en-GB", "", "<span class=\"time\">02/11/2026</span>");
    assert_quay_page_dated_in("en-US", "", "<span class=\"date\">11/02/2026</span>");
}

/// `language` is one kind of value whichever way the page declares it: the ISO 639 code.
#[test]
fn the_language_is_the_code_the_page_declares() {
    let body: String = PARAS.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    for (html_tag, expected) in [
        (
            r#"<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en-GB">"#,
            Some("en"),
        ),
        (r#"<html lang="en_US">"#, Some("en")),
        (r#"<html lang="english">"#, None),
    ] {
        let page =
            format!("<!DOCTYPE html>{html_tag}<body><article>{body}</article></body></html>");
        let input = serde_json::json!({"id": "q", "html": page}).to_string();
        let out = run_stdin(&["extract", "-"], input.as_bytes());
        assert_ok(&out);
        let recs = records(&out);
        assert_eq!(
            recs[0]["language"].as_str(),
            expected,
            "{html_tag}: {}",
            recs[0]
        );
    }
}

#[test]
fn a_page_rendered_by_its_scripts_is_dated_by_the_data_they_carry() {
    assert_quay_page_dated(
        "<script>window.__STATE__ = {\"review\": {\"publishedDate\": \"2026-11-02T20:37:27Z\", \
         \"updatedDate\": \"2026-11-05T09:00:00Z\"}};</script>",
        "",
    );
}

/// The models read English: a page in another language gets a `language` error record from
/// annotate and tags, when the page declares it and its text reads so, or when the text is in
/// another script; extract and segment give their records; an English page that declares
/// another language (a template's locale) is annotated.
#[test]
fn a_page_in_another_language_is_refused_by_the_models_only() {
    let page = |lang: &str, text: &str| {
        let html = format!(
            "<!DOCTYPE html><html lang=\"{lang}\"><body><article>{}</article></body></html>",
            text.split("\n")
                .map(|p| format!("<p>{p}</p>"))
                .collect::<String>()
        );
        serde_json::json!({"id": lang, "html": html}).to_string()
    };
    let spanish = "El fiscal Pedro Horrach está perfilando con el jefe de la Fiscalía Anticorrupción la estrategia que seguirá en el juicio.\nLa decisión se tomará en Madrid la próxima semana, según fuentes cercanas al caso, que no descartan un recurso.\nEl juicio comenzará en otoño, si el tribunal lo permite.";
    let thai = "ผลดีเอ็นเอยืนยันว่าศพที่ลอยมาตามแม่น้ำโขงเป็นคนสนิทของนักเคลื่อนไหวทางการเมืองที่หายตัวไป\nตำรวจเร่งหาเบาะแสคดีนี้";
    let english: String = PARAS.join("\n");
    let input = [page("es", spanish), page("th", thai), page("fr", &english)].join("\n");
    for command in [&["annotate", "-"][..], &["tags", "--json", "-"]] {
        let out = run_stdin(command, input.as_bytes());
        assert_eq!(
            out.status.code(),
            Some(3),
            "{command:?}: some articles failed"
        );
        let recs = records(&out);
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0]["error"]["kind"], "language", "{}", recs[0]);
        assert!(
            recs[0]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Spanish")
        );
        assert_eq!(recs[1]["error"]["kind"], "language", "{}", recs[1]);
        assert!(recs[2].get("error").is_none(), "{command:?}: {}", recs[2]);
    }
    for command in ["extract", "segment"] {
        let out = run_stdin(&[command, "-"], input.as_bytes());
        assert_ok(&out);
        assert!(records(&out).iter().all(|r| r.get("error").is_none()));
    }
    // The editor's table names the kind as the record does.
    let out = run_stdin(&["tags", "-"], input.as_bytes());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("== es\n   error (language): the page declares its language as `es`"),
        "{table}"
    );
}

/// The authors of a scholarly page are all its meta list names, one tag each; a JSON-LD block
/// with a raw line break inside a string (not JSON, but what publishers write) is still read.
#[test]
fn every_author_the_page_lists_is_reported() {
    let body: String = PARAS.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let scholarly = "<meta name=\"dc.Creator\" content=\" Ingrid \u{a0}Solberg \">\
                     <meta name=\"dc.Creator\" content=\"Ola Nordmann\">\
                     <meta name=\"citation_author\" content=\"Solberg, Ingrid\">"
        .to_string();
    let ld = "<script type=\"application/ld+json\">{\"@type\": \"BlogPosting\", \"description\": \
              \"Cracks\n\tin the quay\", \"author\": {\"@type\": \"Person\", \"name\": \"Kari Nordmann\"}}\
              </script>"
        .to_string();
    for (head, expected) in [
        (scholarly, "Ingrid Solberg; Ola Nordmann"),
        (ld, "Kari Nordmann"),
    ] {
        let page = format!(
            "<!DOCTYPE html><html lang=\"en\"><head>{head}</head><body><article>{body}</article></body></html>"
        );
        let input = serde_json::json!({"id": "q", "html": page}).to_string();
        // `author` is a field of extract's records (the other commands' records have none).
        let out = run_stdin(&["extract", "-"], input.as_bytes());
        assert_ok(&out);
        let recs = records(&out);
        assert_eq!(recs[0]["author"], expected, "{}", recs[0]);
    }
}

/// The title is the headline the page shows, not the one it gives search engines, nor the
/// logo's `<h1>` above it, nor a donation box's; the site is the name the page declares, not
/// its Twitter handle; the authors are all that its JSON-LD lists.
#[test]
fn the_title_is_the_headline_the_page_shows() {
    let body: String = PARAS.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Tromsø port: new quay delayed, costs rise | Harbour Gazette</title>\
         <meta property=\"og:title\" content=\"Tromsø port: new quay delayed, costs rise\">\
         <meta name=\"twitter:site\" content=\"@harbourgazette\">\
         <meta property=\"og:site_name\" content=\"Harbour Gazette\">\
         <script type=\"application/ld+json\">{{\"@type\": \"NewsArticle\", \"author\": \
         [{{\"@type\": \"Person\", \"name\": \"Ingrid Solberg\"}}, \"By Ola Nordmann\"]}}</script>\
         </head><body>\
         <header><h1><a href=\"/\">Harbour Gazette</a></h1></header><aside><h1>€5</h1></aside>\
         <main><article><h1>Quay opening in Tromsø put off to March</h1>{body}</article></main>\
         </body></html>"
    );
    let input = serde_json::json!({"id": "q", "url": "https://gazette.example/quay", "html": page})
        .to_string();
    ensure_models();
    for command in ["extract", "annotate"] {
        let out = run_stdin(&[command, "-q", "-"], input.as_bytes());
        assert_ok(&out);
        let recs = records(&out);
        assert_eq!(
            recs[0]["title"], "Quay opening in Tromsø put off to March",
            "{command}: {}",
            recs[0]
        );
        if command == "extract" {
            // Every author the article's JSON-LD lists.
            assert_eq!(
                recs[0]["author"], "Ingrid Solberg; Ola Nordmann",
                "{}",
                recs[0]
            );
        }
        let site = if command == "extract" {
            "site"
        } else {
            "source"
        };
        assert_eq!(recs[0][site], "Harbour Gazette", "{command}: {}", recs[0]);
    }
}

#[test]
fn charsets_from_the_meta_tag_and_by_detection() {
    let dir = tempfile::tempdir().unwrap();
    let latin = |declared: bool| {
        let html = page().replace("<meta charset=\"utf-8\">", "");
        let html = if declared {
            html.replace("<head>", "<head><meta charset=\"windows-1252\">")
        } else {
            // Undeclared: the detector needs text enough to tell windows-1252 from its
            // neighbours (one "ø" alone reads as well in windows-1257).
            html.replace("</article>", &format!("<p>{FRENCH}</p></article>"))
        };
        // Tromsø, “quotes” and the emoji do not all exist in windows-1252: the emoji becomes
        // a numeric character reference, as a browser's form submission would write it.
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&html);
        bytes.into_owned()
    };
    fs::write(dir.path().join("declared.html"), latin(true)).unwrap();
    fs::write(dir.path().join("detected.htm"), latin(false)).unwrap();
    let out = run(&["extract", dir.path().to_str().unwrap()]);
    assert_ok(&out);
    let recs = records(&out);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["title"], "Tromsø quay opening delayed to March");
    for r in &recs {
        assert!(
            text_of(r).contains("“We would rather be late than sorry,”"),
            "{r}"
        );
    }
    assert!(text_of(&recs[1]).contains(FRENCH), "{}", recs[1]);
}

#[test]
fn gzip_directories_jsonl_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(page().as_bytes()).unwrap();
    fs::write(dir.path().join("a.html.gz"), gz.finish().unwrap()).unwrap();
    fs::write(
        dir.path().join("b.txt"),
        "A plain text article about the quay.",
    )
    .unwrap();
    let jsonl = [
        serde_json::json!({"id": "p1", "url": "https://gazette.example/quay", "html": page(), "desk": "north"}),
        serde_json::json!({"id": "t1", "text": "Plain text in JSONL."}),
        serde_json::json!({"id": "p2", "title": "Own title", "html": page()}),
        serde_json::json!({"id": "p3", "html": ""}),
    ];
    let lines: String = jsonl.iter().map(|v| format!("{v}\n")).collect();
    fs::write(dir.path().join("c.jsonl"), lines).unwrap();
    let out = run(&["segment", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "the empty page fails");
    let recs = records(&out);
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let a = dir.path().join("a.html.gz");
    let b = dir.path().join("b.txt");
    assert_eq!(
        ids,
        [
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "p1",
            "t1",
            "p2",
            "p3"
        ]
    );
    for r in [&recs[0], &recs[2], &recs[4]] {
        assert_offsets(r);
        assert!(text_of(r).contains(PARAS[1]));
    }
    // Text input: its record carries no copy of the text the reader already has.
    assert!(recs[1].get("text").is_none() && recs[3].get("text").is_none());
    assert_eq!(error_kind(&recs[5]), "empty");

    // extract: the JSONL title wins over the page's; the url comes through.
    let out = run(&["extract", dir.path().join("c.jsonl").to_str().unwrap()]);
    let recs = records(&out);
    assert_eq!(recs[0]["url"], "https://gazette.example/quay");
    assert_eq!(recs[2]["title"], "Own title");
    assert_eq!(recs[1]["text"], "Plain text in JSONL.");
}

#[test]
fn bad_pages_each_get_an_error_record_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let pages: [(&str, Vec<u8>); 6] = [
        ("1-empty.html", b"  \n ".to_vec()),
        (
            "2-no-main-text.html",
            b"<html><body><nav><a href=/>Home</a></nav></body></html>".to_vec(),
        ),
        (
            "3-binary.html",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0".to_vec(),
        ),
        ("4-huge.html", page().repeat(100).into_bytes()),
        (
            "5-undecodable.html",
            // A UTF-8 byte order mark is final (no guess overrides it), and the bytes after
            // it are not UTF-8.
            [b"\xEF\xBB\xBF<p>".as_slice(), &[0xFF; 300]].concat(),
        ),
        ("6-good.html", page().into_bytes()),
    ];
    for (name, bytes) in &pages {
        fs::write(dir.path().join(name), bytes).unwrap();
    }
    let out = run(&[
        "extract",
        "--max-page-bytes",
        "100000",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let recs = records(&out);
    let kinds: Vec<&str> = recs[..5].iter().map(error_kind).collect();
    assert_eq!(
        kinds,
        ["empty", "empty", "binary", "too_large", "invalid_utf8"]
    );
    assert!(
        recs[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no main text")
    );
    assert!(
        recs[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("page limit")
    );
    assert!(text_of(&recs[5]).contains(PARAS[0]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("5 of 6 articles failed"), "{stderr}");
    assert!(
        stderr.contains("page limit of 100000 bytes (raise --max-page-bytes to read it)"),
        "{stderr}"
    );

    // The article limit applies to the extracted text.
    let out = run(&[
        "segment",
        "--max-article-bytes",
        "200",
        dir.path().join("6-good.html").to_str().unwrap(),
    ]);
    let r = &records(&out)[0];
    assert_eq!(error_kind(r), "too_large");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("main text")
    );
}

// ---------------------------------------------------------------------------------------
// WARC

/// One WARC record's bytes.
fn warc_record(kind: &str, uri: Option<&str>, content_type: &str, block: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Date: 2026-11-05T10:00:00Z\r\nWARC-Record-ID: <urn:uuid:{}>\r\n",
        uuid_like(block.len() + kind.len())
    );
    if let Some(uri) = uri {
        head.push_str(&format!("WARC-Target-URI: {uri}\r\n"));
    }
    head.push_str(&format!(
        "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        block.len()
    ));
    [head.as_bytes(), block, b"\r\n\r\n"].concat()
}

fn uuid_like(n: usize) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

fn http_response(status: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    [head.as_bytes(), body].concat()
}

fn response(uri: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    warc_record(
        "response",
        Some(uri),
        "application/http; msgtype=response",
        &http_response("200 OK", headers, body),
    )
}

/// A page without a date of its own (the WARC-Date is its last resort).
fn undated_page(n: usize) -> String {
    format!(
        "<html><head><title>Item {n}</title></head><body><nav><a href=/>Home</a> <a href=/news>News</a></nav>\
         <article><p>Article number {n} reports that the regional council met on Tuesday evening to discuss the new budget for schools, roads and the harbour.</p>\
         <p>Members agreed to return to the question of ferry subsidies at the next meeting in {n} weeks, when the figures from the transport office are ready.</p></article>\
         <footer>Contact the newsroom</footer></body></html>"
    )
}

/// The records of a small crawl, and the ids (or `None` for skipped records) in order.
fn crawl() -> Vec<(Vec<u8>, Option<&'static str>)> {
    let html = page();
    let mut chunked = Vec::new();
    {
        // A Heritrix-style response kept as it came: gzip-encoded and chunked.
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(undated_page(2).as_bytes()).unwrap();
        let body = gz.finish().unwrap();
        for chunk in body.chunks(100) {
            chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            chunked.extend_from_slice(chunk);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
    }
    vec![
        (
            warc_record(
                "warcinfo",
                None,
                "application/warc-fields",
                b"software: test\r\n",
            ),
            None,
        ),
        (
            warc_record(
                "request",
                Some("https://gazette.example/quay"),
                "application/http; msgtype=request",
                b"GET /quay HTTP/1.1\r\nHost: gazette.example\r\n\r\n",
            ),
            None,
        ),
        (
            response(
                "https://gazette.example/quay",
                &["Content-Type: text/html; charset=utf-8"],
                html.as_bytes(),
            ),
            Some("https://gazette.example/quay"),
        ),
        (
            response(
                "https://gazette.example/logo.png",
                &["Content-Type: image/png"],
                b"\x89PNG\r\n\x1a\n",
            ),
            None,
        ),
        (
            warc_record(
                "response",
                Some("https://gazette.example/old"),
                "application/http; msgtype=response",
                &http_response("301 Moved Permanently", &["Location: /new"], b""),
            ),
            None,
        ),
        (
            response(
                "https://gazette.example/item-2",
                &[
                    "Content-Type: text/html",
                    "Content-Encoding: gzip",
                    "Transfer-Encoding: chunked",
                ],
                &chunked,
            ),
            Some("https://gazette.example/item-2"),
        ),
        (
            warc_record(
                "metadata",
                Some("https://gazette.example/item-2"),
                "application/warc-fields",
                b"fetchTimeMs: 12\r\n",
            ),
            None,
        ),
    ]
}

fn gzip_member(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_warc_file_gives_one_article_per_html_response() {
    let dir = tempfile::tempdir().unwrap();
    let records_: Vec<_> = crawl();
    let plain: Vec<u8> = records_.iter().flat_map(|(r, _)| r.clone()).collect();
    let members: Vec<u8> = records_.iter().flat_map(|(r, _)| gzip_member(r)).collect();
    let expected: Vec<&str> = records_.iter().filter_map(|(_, id)| *id).collect();
    fs::write(dir.path().join("crawl.warc"), &plain).unwrap();
    fs::write(dir.path().join("crawl.warc.gz"), &members).unwrap();
    // A whole file compressed as one member, as some writers do it.
    fs::write(dir.path().join("whole.warc.gz"), gzip_member(&plain)).unwrap();
    for name in ["crawl.warc", "crawl.warc.gz", "whole.warc.gz"] {
        let out = run(&["segment", dir.path().join(name).to_str().unwrap()]);
        assert_ok(&out);
        let recs = records(&out);
        let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, expected, "{name}");
        assert_eq!(recs[0]["published"], "2026-11-02", "the page's own date");
        assert_eq!(
            recs[1]["published"], "2026-11-05",
            "the WARC-Date as last resort"
        );
        assert!(text_of(&recs[1]).contains("Article number 2 reports"));
        recs.iter().for_each(assert_offsets);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("5 WARC records skipped (not HTML pages): 1 metadata, 1 request, 1 response (image/png), 1 response (status 301), 1 warcinfo"),
            "{stderr}"
        );
    }
    // On stdin, sniffed.
    let out = run_stdin(&["extract", "-q"], &plain);
    assert_ok(&out);
    let recs = records(&out);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["url"], "https://gazette.example/quay");
    assert_eq!(recs[0]["site"], "Harbour Gazette");
    assert!(
        out.stderr.is_empty(),
        "-q: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_broken_warc_record_is_an_error_in_its_place_and_the_rest_come_out() {
    let dir = tempfile::tempdir().unwrap();
    let good = |n: usize| {
        response(
            &format!("https://gazette.example/item-{n}"),
            &["Content-Type: text/html"],
            undated_page(n).as_bytes(),
        )
    };
    // Plain WARC: a record whose header is garbage, one whose Content-Length is missing, one
    // whose HTTP response is not HTTP, then a truncated last record.
    let mut plain = good(1);
    plain.extend_from_slice(
        b"WARC/1.0\r\nthis is not a header line\r\n\r\n<html>lost</html>\r\n\r\n",
    );
    plain.extend(good(2));
    plain.extend_from_slice(
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://gazette.example/no-length\r\n\r\n",
    );
    plain.extend(good(3));
    plain.extend(warc_record(
        "response",
        Some("https://gazette.example/not-http"),
        "application/http; msgtype=response",
        b"\x00\x01 not an http response",
    ));
    plain.extend(good(4));
    let last = good(5);
    plain.extend_from_slice(&last[..last.len() - 200]);
    fs::write(dir.path().join("broken.warc"), &plain).unwrap();
    let out = run(&["segment", dir.path().join("broken.warc").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let recs = records(&out);
    let summary: Vec<(String, Option<&str>)> = recs
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["error"]["kind"].as_str(),
            )
        })
        .collect();
    let path = dir.path().join("broken.warc");
    let item = |n: usize| format!("https://gazette.example/item-{n}");
    assert_eq!(
        summary,
        [
            (item(1), None),
            (format!("{}#record-2", path.display()), Some("io")),
            (item(2), None),
            ("https://gazette.example/no-length".to_string(), Some("io")),
            (item(3), None),
            ("https://gazette.example/not-http".to_string(), Some("io")),
            (item(4), None),
            (item(5), Some("io")),
        ]
    );
    assert!(
        recs[7]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("truncated")
    );

    // Gzip member per record: a damaged member costs its record only.
    let mut members = Vec::new();
    for n in 1..=4 {
        let mut member = gzip_member(&good(n));
        if n == 2 {
            let mid = member.len() / 2;
            for b in &mut member[mid..mid + 16] {
                *b ^= 0x5a;
            }
        }
        members.extend(member);
    }
    fs::write(dir.path().join("damaged.warc.gz"), &members).unwrap();
    let out = run(&[
        "segment",
        dir.path().join("damaged.warc.gz").to_str().unwrap(),
    ]);
    let recs = records(&out);
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert_eq!(ids[0], item(1));
    assert_eq!(error_kind(&recs[1]), "io");
    assert_eq!((ids[2], ids[3]), (item(3).as_str(), item(4).as_str()));
}

/// SIGKILL a `segment -o FILE --resume` run over a WARC file at many points, resume until it
/// finishes: every page is in the file exactly once, and the file is what one run writes.
#[test]
fn warc_survives_sigkill_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let n = 400;
    let mut warc = Vec::new();
    let mut ids = Vec::new();
    for i in 0..n {
        let uri = format!("https://gazette.example/item-{i}");
        warc.extend(gzip_member(&response(
            &uri,
            &["Content-Type: text/html"],
            undated_page(i).as_bytes(),
        )));
        ids.push(uri);
    }
    let path = dir.path().join("crawl.warc.gz");
    fs::write(&path, &warc).unwrap();
    let path = path.to_str().unwrap();
    let reference = dir.path().join("reference.jsonl");
    assert_ok(&run(&[
        "segment",
        "-q",
        path,
        "-o",
        reference.to_str().unwrap(),
    ]));

    let out = dir.path().join("out.jsonl");
    let out_s = out.to_str().unwrap();
    let args = [
        "segment",
        "-q",
        "--batch-size",
        "4",
        "--threads",
        "1",
        path,
        "-o",
        out_s,
        "--resume",
    ];
    let len = || fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let mut kills = 0;
    for cycle in 0..200u64 {
        let before = len();
        let mut child = bin()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill once the output has grown by a varying amount (always mid-run).
        let target = before + 1 + (cycle * 7919) % 6000;
        while len() < target && child.try_wait().unwrap().is_none() {
            sleep(Duration::from_micros(200));
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap();
        if child.wait().unwrap().code().is_none() {
            kills += 1;
        }
    }
    assert!(kills >= 5, "only {kills} kills landed");
    assert_ok(&run(&args));
    let text = fs::read_to_string(&out).unwrap();
    let mut found: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    found.sort();
    ids.sort();
    assert_eq!(found, ids, "each page exactly once");
    assert_eq!(text, fs::read_to_string(&reference).unwrap());
}

// ---------------------------------------------------------------------------------------
// No panic, whatever the bytes.

fn read_all(path: &Path) -> usize {
    newstag::read_sources(
        vec![newstag::Source::Path(path.to_path_buf())],
        newstag::ReadOptions::default(),
    )
    .map(|input| match input {
        newstag::Input::Article(a) => {
            // Extraction, as the pipeline's prepare stage runs it.
            let _ = newstag::pipeline::prepare(a);
            1
        }
        newstag::Input::Failed { .. } => 1,
    })
    .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary bytes as an HTML page, and as HTML with arbitrary text spliced into markup.
    #[test]
    fn arbitrary_pages_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096),
                                   text in "\\PC{0,300}") {
        let _ = newstag::page::extract(&bytes, None, None);
        let _ = newstag::page::extract(&bytes, Some("text/html; charset=shift_jis"), Some("http://x.jp/"));
        let html = format!("<html><body><article><p>{text}</p><div><p>{text}</div></article>");
        let _ = newstag::page::extract(html.as_bytes(), None, None);
    }

    /// Arbitrary bytes, and a real WARC cut or corrupted anywhere, as .warc and .warc.gz:
    /// no panic, no endless loop, one input per record at most (plus the broken one).
    #[test]
    fn arbitrary_warc_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048),
                                   cut in 0usize..4000, flip in 0usize..4000) {
        let dir = tempfile::tempdir().unwrap();
        let mut real: Vec<u8> = crawl().into_iter().flat_map(|(r, _)| r).collect();
        real.truncate(cut.max(1) * real.len() / 4000 + 1);
        let at = flip % real.len();
        real[at] ^= 0x20;
        for (name, data) in [
            ("a.warc", bytes.clone()),
            ("b.warc.gz", bytes.clone()),
            ("c.warc", real.clone()),
            ("d.warc.gz", crawl().iter().flat_map(|(r, _)| gzip_member(r)).enumerate()
                .map(|(i, b)| if i == flip % 2000 { b ^ 0x11 } else { b }).collect()),
        ] {
            let path = dir.path().join(name);
            fs::write(&path, &data).unwrap();
            let n = read_all(&path);
            prop_assert!(n <= data.len() / 8 + 8, "{n} inputs from {} bytes", data.len());
        }
    }
}

/// A deeply nested page (every tag unclosed) is refused, not a stack overflow, on a thread
/// with a worker's 2 MiB stack; a page nested as deep as the limit allows still extracts.
#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            for html in [
                "<div>".repeat(100_000) + "Text deep down.",
                "<p><b><i>".repeat(30_000),
            ] {
                let e = newstag::page::extract(html.as_bytes(), None, None).unwrap_err();
                assert_eq!(e.kind, newstag::article::DocErrorKind::TooLarge, "{e:?}");
            }
            let para = PARAS.join(" ");
            let html = format!("{}<article><p>{para}</p>", "<div>".repeat(500));
            let found = newstag::page::extract(html.as_bytes(), None, None).unwrap();
            assert!(found.text.contains(PARAS[2]));
        })
        .unwrap()
        .join()
        .unwrap();
}

/// `annotate` on pages: the records carry the extracted text, the page's title, date and site,
/// entities whose offsets are into that text, and they validate against the published schema.
#[test]
fn annotated_pages_match_the_schema() {
    ensure_models();
    let schema: Value = serde_json::from_str(
        &fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/record.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quay.html");
    fs::write(&path, page()).unwrap();
    fs::write(dir.path().join("z-empty.html"), "").unwrap();
    let out = run(&["annotate", "-q", dir.path().to_str().unwrap()]);
    let recs = records(&out);
    assert_eq!(recs.len(), 2);
    for r in &recs {
        let problems: Vec<String> = validator.iter_errors(r).map(|e| e.to_string()).collect();
        assert!(problems.is_empty(), "{}: {problems:?}", r["id"]);
    }
    let r = &recs[0];
    assert_eq!(r["title"], "Tromsø quay opening delayed to March");
    assert_eq!(r["published"], "2026-11-02");
    assert_eq!(r["source"], "Harbour Gazette");
    assert_offsets(r);
    let chars: Vec<char> = text_of(r).chars().collect();
    let mut people = Vec::new();
    for e in r["entities"].as_array().unwrap() {
        let (s, end) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            chars[s..end].iter().collect::<String>(),
            e["text"].as_str().unwrap()
        );
        if e["category"] == "person" {
            people.push(e["text"].as_str().unwrap());
        }
    }
    assert!(people.contains(&"Maria Lindqvist"), "{people:?}");
    assert_eq!(error_kind(&recs[1]), "empty");
}
