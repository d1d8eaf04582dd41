//! The name a mention stands for, shared by the mention repairs (`mentions`) and the grouping
//! of mentions into document entities (`group`).

use crate::document::Category;

/// Titles and honorifics dropped from a name (kept in the mention spans).
const TITLES: &[&str] = &[
    "president",
    "vice president",
    "prime minister",
    "deputy prime minister",
    "foreign minister",
    "defense minister",
    "defence minister",
    "minister",
    "chancellor",
    "secretary",
    "secretary of state",
    "secretary-general",
    "general",
    "gen.",
    "gen",
    "lt.",
    "col.",
    "maj.",
    "adm.",
    "admiral",
    "sen.",
    "senator",
    "rep.",
    "representative",
    "gov.",
    "governor",
    "mayor",
    "mr.",
    "mr",
    "mrs.",
    "mrs",
    "ms.",
    "ms",
    "dr.",
    "dr",
    "prof.",
    "professor",
    "king",
    "queen",
    "prince",
    "princess",
    "pope",
    "sir",
    "dame",
    "lord",
    "lady",
    "judge",
    "justice",
    "chief",
    "ceo",
    "chairman",
    "chairwoman",
    "leader",
    "premier",
    "ambassador",
    "commander",
    "captain",
    "capt.",
    "sgt.",
    "sergeant",
    "rev.",
    "reverend",
    "sheikh",
    "comrade",
    "chief executive",
];

/// The name a mention stands for: possessive, leading "the" and titles removed, whitespace
/// collapsed.
pub fn normalize_name(surface: &str, category: Category) -> String {
    let mut s: String = surface.split_whitespace().collect::<Vec<_>>().join(" ");
    for suffix in ["’s", "'s", "’", "'"] {
        if let Some(stripped) = s.strip_suffix(suffix)
            && !stripped.is_empty()
        {
            s = stripped.to_string();
            break;
        }
    }
    if let Some(rest) = s.strip_prefix("the ").or_else(|| s.strip_prefix("The ")) {
        s = rest.to_string();
    }
    if category == Category::Person {
        // Longest title first, repeatedly: "Prime Minister Gen. X" -> "X".
        loop {
            let lower = s.to_lowercase();
            let hit = TITLES
                .iter()
                .filter(|t| {
                    lower.starts_with(*t)
                        && lower[t.len()..].starts_with(' ')
                        && s.len() > t.len() + 1
                })
                .max_by_key(|t| t.len());
            match hit {
                Some(t) => s = s[t.len() + 1..].trim_start().to_string(),
                None => break,
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_titles_and_possessives() {
        assert_eq!(normalize_name("President Putin", Category::Person), "Putin");
        assert_eq!(normalize_name("Xi’s", Category::Person), "Xi");
        assert_eq!(
            normalize_name("Prime Minister Gen. Ann Lee", Category::Person),
            "Ann Lee"
        );
        assert_eq!(
            normalize_name("the Northern Sea Route", Category::Place),
            "Northern Sea Route"
        );
        assert_eq!(normalize_name("Beijing’s", Category::Place), "Beijing");
        assert_eq!(normalize_name("President", Category::Person), "President");
    }
}
