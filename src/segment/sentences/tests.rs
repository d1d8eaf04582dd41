use super::*;

fn sents(text: &str) -> Vec<&str> {
    sentence_spans(text).into_iter().map(|r| &text[r]).collect()
}

fn check_invariants(text: &str) {
    let spans = sentence_spans(text);
    let mut prev_end = 0;
    for r in &spans {
        assert!(r.start < r.end, "empty span {r:?}");
        assert!(r.start >= prev_end, "overlap/out of order {r:?}");
        assert!(r.end <= text.len());
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        let s = &text[r.clone()];
        assert_eq!(s, s.trim(), "untrimmed span {s:?}");
        prev_end = r.end;
    }
}

#[test]
fn titles() {
    assert_eq!(
        sents("Gen. Mark Milley spoke Tuesday. Sen. Elizabeth Warren replied."),
        [
            "Gen. Mark Milley spoke Tuesday.",
            "Sen. Elizabeth Warren replied."
        ]
    );
    assert_eq!(
        sents("Lt. Col. John Smith arrived. He was tired."),
        ["Lt. Col. John Smith arrived.", "He was tired."]
    );
    assert_eq!(
        sents("Dr. Jones met Mr. Smith and Gov. Newsom. Rep. Pelosi was absent."),
        [
            "Dr. Jones met Mr. Smith and Gov. Newsom.",
            "Rep. Pelosi was absent."
        ]
    );
    assert_eq!(
        sents("Sen. Warren (D-Mass.) said no. Rep. Smith (R-Texas) agreed."),
        [
            "Sen. Warren (D-Mass.) said no.",
            "Rep. Smith (R-Texas) agreed."
        ]
    );
    assert_eq!(
        sents("The bill was backed by Sen.\nJohn Smith of Ohio."),
        ["The bill was backed by Sen.\nJohn Smith of Ohio."]
    );
}

#[test]
fn initials() {
    assert_eq!(
        sents("The book was written by J. R. R. Tolkien in England. It sold well."),
        [
            "The book was written by J. R. R. Tolkien in England.",
            "It sold well."
        ]
    );
    assert_eq!(
        sents("J.R.R. Tolkien wrote it. It sold well."),
        ["J.R.R. Tolkien wrote it.", "It sold well."]
    );
    assert_eq!(
        sents("President John F. Kennedy spoke. We make a good team, you and I. Did you see?"),
        [
            "President John F. Kennedy spoke.",
            "We make a good team, you and I.",
            "Did you see?"
        ]
    );
}

#[test]
fn us_uk() {
    assert_eq!(
        sents("He moved to the U.S. in 1990. Later he left."),
        ["He moved to the U.S. in 1990.", "Later he left."]
    );
    assert_eq!(
        sents("Prices rose in the U.S. The Fed reacted."),
        ["Prices rose in the U.S.", "The Fed reacted."]
    );
    assert_eq!(
        sents("He served in the U.S. Army for years. Then he retired."),
        ["He served in the U.S. Army for years.", "Then he retired."]
    );
    assert_eq!(
        sents("The U.K. Government said no. Talks ended in the U.K. Brussels was silent."),
        [
            "The U.K. Government said no.",
            "Talks ended in the U.K.",
            "Brussels was silent."
        ]
    );
}

#[test]
fn decimals_and_numbers() {
    assert_eq!(
        sents("Growth was 2.5 percent. It was 3.1% last year. She has $100.00. Fine."),
        [
            "Growth was 2.5 percent.",
            "It was 3.1% last year.",
            "She has $100.00.",
            "Fine."
        ]
    );
}

#[test]
fn quotes() {
    assert_eq!(
        sents("\u{201c}We will win.\u{201d} He said that. \u{201c}Never.\u{201d} She smiled."),
        [
            "\u{201c}We will win.\u{201d}",
            "He said that.",
            "\u{201c}Never.\u{201d}",
            "She smiled."
        ]
    );
    assert_eq!(
        sents("She said, \"This is great.\" He agreed."),
        ["She said, \"This is great.\"", "He agreed."]
    );
    assert_eq!(
        sents("\u{201c}Go home.\u{201d} he said. \"Stay.\" she said."),
        ["\u{201c}Go home.\u{201d} he said.", "\"Stay.\" she said."]
    );
    assert_eq!(
        sents("\"We will win,\" he said. \"Never.\""),
        ["\"We will win,\" he said.", "\"Never.\""]
    );
}

#[test]
fn ellipses() {
    assert_eq!(
        sents("He paused... Then he left."),
        ["He paused...", "Then he left."]
    );
    assert_eq!(
        sents("He paused ... then he left. Next."),
        ["He paused ... then he left.", "Next."]
    );
    assert_eq!(
        sents("It was over. . . . The crowd left."),
        ["It was over.", ". . . The crowd left."]
    );
}

#[test]
fn lists() {
    assert_eq!(
        sents("1. The first item 2. The second item"),
        ["1. The first item", "2. The second item"]
    );
    assert_eq!(
        sents("1. Raise taxes. 2. Cut spending. 3. Balance the budget."),
        [
            "1. Raise taxes.",
            "2. Cut spending.",
            "3. Balance the budget."
        ]
    );
    assert_eq!(
        sents("a. The first item b. The second item"),
        ["a. The first item", "b. The second item"]
    );
    // Consecutive numbers that are not a list stay where sentencex put them.
    assert_eq!(
        sents("He was 9. He turned 10. Then he moved."),
        ["He was 9.", "He turned 10.", "Then he moved."]
    );
}

#[test]
fn parentheses() {
    assert_eq!(
        sents(
            "He teaches science (He worked for 5 years as an engineer.) at the local University. Next."
        ),
        [
            "He teaches science (He worked for 5 years as an engineer.) at the local University.",
            "Next."
        ]
    );
    assert_eq!(
        sents("The vote passed (narrowly). The end."),
        ["The vote passed (narrowly).", "The end."]
    );
}

#[test]
fn lowercase_words_listed_as_abbreviations() {
    assert_eq!(
        sents("He said no. Talks ended. It is a work of art. Critics agree."),
        [
            "He said no.",
            "Talks ended.",
            "It is a work of art.",
            "Critics agree."
        ]
    );
    assert_eq!(
        sents("He was ranked No. 1 in the world."),
        ["He was ranked No. 1 in the world."]
    );
    assert_eq!(
        sents("The \u{201c}U.S. First\u{201d} policy was announced. It failed."),
        [
            "The \u{201c}U.S. First\u{201d} policy was announced.",
            "It failed."
        ]
    );
}

#[test]
fn newlines() {
    assert_eq!(
        sents("Line one is here\nLine two is here"),
        ["Line one is here", "Line two is here"]
    );
    assert_eq!(sents("Para one\n\nPara two"), ["Para one", "Para two"]);
    assert_eq!(
        sents("Headline Without Period\nThe body text starts. And continues."),
        [
            "Headline Without Period",
            "The body text starts.",
            "And continues."
        ]
    );
    assert_eq!(
        sents("A sentence that wraps\nacross lines. Next."),
        ["A sentence that wraps\nacross lines.", "Next."]
    );
    assert_eq!(
        sents("He met with\nJohn Smith on Monday."),
        ["He met with\nJohn Smith on Monday."]
    );
    assert_eq!(
        sents("The plan includes:\n- tax cuts\n- new spending\nCritics disagree."),
        [
            "The plan includes:",
            "- tax cuts",
            "- new spending",
            "Critics disagree."
        ]
    );
    assert_eq!(
        sents(
            "Markets Fall on Fed Fears\nBy Jane Doe\nNEW YORK (Reuters) - Stocks fell.\nThe Dow dropped."
        ),
        [
            "Markets Fall on Fed Fears",
            "By Jane Doe",
            "NEW YORK (Reuters) - Stocks fell.",
            "The Dow dropped."
        ]
    );
    assert_eq!(sents("Para one\n \t\nPara two"), ["Para one", "Para two"]);
}

#[test]
fn crlf() {
    let text = "Para one.\r\n\r\nPara two\r\nPara three here. Mr. Smith came.\r\n";
    assert_eq!(
        sents(text),
        [
            "Para one.",
            "Para two",
            "Para three here.",
            "Mr. Smith came."
        ]
    );
    check_invariants(text);
    let text = "First line\r\nSecond line\r\n\r\n\r\nThird line";
    assert_eq!(sents(text), ["First line", "Second line", "Third line"]);
}

#[test]
fn empty_and_whitespace() {
    assert!(sentence_spans("").is_empty());
    assert!(sentence_spans("   ").is_empty());
    assert!(sentence_spans("\n\r\n\t \u{3000}\n").is_empty());
    assert!(sentence_spans("\r").is_empty());
}

#[test]
fn unicode_offsets() {
    let texts = [
        "🚀 Launch. 日本語の文です。次の文です。 Done.",
        "Émile a dit «non». Ça va? 👍🏽👍🏽 Oui!",
        "中文句子。另一个句子！第三个？",
        "👨‍👩‍👧 family. 🇺🇸 U.S. flag.\n\n🎉",
        "“Quoted” ‘single’ — dash… ellipsis… end",
        "\u{feff}BOM text. Next\u{2028}line.\u{85}Another.",
        ". . . . ! ? ...\n\n.\n1.\n2.\na.",
    ];
    for t in texts {
        check_invariants(t);
        assert!(!sentence_spans(t).is_empty());
    }
    assert_eq!(
        sents("🚀 Launch. 日本語の文です。次の文です。 Done."),
        ["🚀 Launch.", "日本語の文です。", "次の文です。", "Done."]
    );
}

#[test]
fn odd_inputs_never_panic() {
    let mut s = String::new();
    for c in [
        '.', ' ', '\n', '\r', 'a', 'A', '1', '"', '”', '(', ')', '…', '•', '日', '🚀',
    ] {
        s.push(c);
        check_invariants(&s);
        let rep = s.repeat(7);
        check_invariants(&rep);
    }
}

#[test]
fn pseudo_random_inputs_keep_invariants() {
    const ALPHABET: &[&str] = &[
        ".",
        ". ",
        " ",
        "\n",
        "\r\n",
        "\n\n",
        "a",
        "Mr",
        "U.S.",
        "1",
        "2.",
        "a.",
        "\"",
        "\u{201c}",
        "\u{201d}",
        "(",
        ")",
        "\u{2026}",
        "...",
        ". . .",
        "\u{2022}",
        "\u{65e5}",
        "\u{3002}",
        "\u{1f680}",
        "I",
        "The",
        "no",
        "!",
        "?",
        "-",
        "\u{2019}",
        "\t",
        "\u{a0}",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..3000 {
        let mut s = String::new();
        let len = (state >> 59) as usize + 1;
        for _ in 0..len {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            s.push_str(ALPHABET[(state >> 33) as usize % ALPHABET.len()]);
        }
        check_invariants(&s);
    }
}

#[test]
fn five_megabytes_is_linear() {
    let unit = "Sen. Warren said no. Dr. Smith met J. R. R. Tolkien in the U.S. on Monday, \
                growth was 2.5 percent. \u{201c}We will win,\u{201d} he said... 1. One 2. Two\n";
    let big = unit.repeat(5_000_000 / unit.len() + 1);
    let t = std::time::Instant::now();
    let spans = sentence_spans(&big);
    assert!(spans.len() > 10_000);
    let one_line = big.replace('\n', " ");
    let spans2 = sentence_spans(&one_line);
    assert!(spans2.len() > 10_000);
    // Unbalanced quotes make plain sentencex quadratic; chunking keeps this linear.
    let quotes = "\u{201c}Prices rose. It said ".repeat(5_000_000 / 28);
    check_invariants(&quotes);
    // Generous bound for debug builds on a busy machine; quadratic behaviour would take
    // hours on 5 MB.
    assert!(t.elapsed().as_secs() < 120, "too slow: {:?}", t.elapsed());
}
