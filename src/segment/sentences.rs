use std::ops::Range;

pub fn sentence_spans(text: &str) -> Vec<Range<usize>> {
    sentencex::get_sentence_boundaries("en", text)
        .into_iter()
        .map(|b| b.start_byte..b.end_byte)
        .collect()
}
