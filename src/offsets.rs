//! Byte offsets (what Rust slices use) to Unicode code point offsets (what Python's `text[a:b]`
//! uses, and what every offset newstag prints is).

/// Maps byte offsets of one text to code point offsets in O(log n) each.
pub struct CharOffsets {
    /// Byte offset of every char, or `None` for ASCII text, where both offsets agree.
    starts: Option<Vec<usize>>,
}

impl CharOffsets {
    pub fn new(text: &str) -> Self {
        CharOffsets {
            starts: (!text.is_ascii()).then(|| text.char_indices().map(|(b, _)| b).collect()),
        }
    }

    /// The code point offset of byte offset `byte`, which must be a char boundary (the end of
    /// the text included).
    pub fn char_at(&self, byte: usize) -> usize {
        match &self.starts {
            None => byte,
            Some(starts) => starts.partition_point(|&b| b < byte),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_scripts() {
        let text = "café 🚢 北极 ok";
        let map = CharOffsets::new(text);
        for (ci, (bi, _)) in text.char_indices().enumerate() {
            assert_eq!(map.char_at(bi), ci);
        }
        assert_eq!(map.char_at(text.len()), text.chars().count());
    }
}
