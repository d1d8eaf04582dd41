//! Name matching: a mention cleaned of punctuation, "the" and possessives, then keyed (case and
//! Latin diacritics folded); and the reader of the small CSV tables compiled in.

/// Rows of a small `a,b` table: `#` comments and the header skipped, the first field may be
/// double-quoted (it may hold commas); the last comma splits.
pub(super) fn csv_rows(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .skip(1)
        .filter_map(|l| {
            let (a, b) = l.rsplit_once(',')?;
            let a = a.trim();
            let a = a
                .strip_prefix('"')
                .and_then(|a| a.strip_suffix('"'))
                .unwrap_or(a);
            Some((a.to_string(), b.trim().to_string()))
        })
}

/// Latin-script names only: the articles are English, and other scripts only add collisions.
pub(super) fn is_latin(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii() || ('\u{00C0}'..='\u{024F}').contains(&c) || "’‘ʻʼ".contains(c))
}

/// The mention without surrounding punctuation, a leading "the" or a trailing possessive.
/// Case is kept (ISO codes are only read in capitals).
pub(super) fn clean(raw: &str) -> String {
    let s: String = raw
        .chars()
        .map(|c| match c {
            '’' | '‘' | 'ʼ' | '`' | '´' => '\'',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    let trim = |s: &str| -> String {
        s.trim_matches(|c: char| {
            c.is_whitespace() || "\"“”«»()[]{},;:!?*_".contains(c) || c == '\''
        })
        .to_string()
    };
    let mut s = trim(&s);
    // Possessive: "Beijing's"; the apostrophe of "the Philippines'" went with the trim.
    if let Some(stem) = s.strip_suffix("'s").or_else(|| s.strip_suffix("'S")) {
        s = trim(stem);
    }
    if s.len() > 4 && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("the ")) {
        s = trim(&s[4..]);
    }
    s
}

/// The matching key: lower case, Latin diacritics folded, single spaces.
pub(super) fn key(s: &str) -> String {
    const FROM: &str = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳ";
    const TO: &str = "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooy";
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        // Most names are ASCII, and no ASCII character is folded: skip the table scan.
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        match c {
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'þ' => out.push_str("th"),
            'ø' => out.push('o'),
            'đ' | 'ð' => out.push('d'),
            'ł' => out.push('l'),
            'ı' => out.push('i'),
            'ħ' => out.push('h'),
            'ŧ' => out.push('t'),
            '\'' => out.push('\''),
            c => match FROM.chars().position(|f| f == c) {
                Some(p) => out.push(TO.as_bytes()[p] as char),
                None => out.push(c),
            },
        }
    }
    out
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::places::build::{ALIASES_CSV, DEMONYMS_CSV};

    #[test]
    fn cleaning() {
        assert_eq!(clean("the United States"), "United States");
        assert_eq!(clean("Beijing’s"), "Beijing");
        assert_eq!(clean("Beijing's"), "Beijing");
        assert_eq!(clean("the Philippines'"), "Philippines");
        assert_eq!(clean("“Moscow,”"), "Moscow");
        assert_eq!(clean("U.S."), "U.S.");
        assert_eq!(clean("the"), "the");
        assert_eq!(clean(""), "");
        assert_eq!(clean("'s"), "s");
    }

    #[test]
    fn keys() {
        assert_eq!(key("São  Paulo"), "sao paulo");
        assert_eq!(key("Köln"), "koln");
        assert_eq!(key("Côte d'Ivoire"), "cote d'ivoire");
        assert_eq!(key(" Łódź "), "lodz");
    }

    #[test]
    fn tables_parse() {
        assert!(csv_rows(DEMONYMS_CSV).count() >= 150);
        assert!(
            csv_rows(ALIASES_CSV)
                .any(|(a, b)| a == "Washington, D.C." && b.starts_with("geonames:"))
        );
    }
}
