//! Segment: the prose of an article into sentences, as byte ranges into the original text.

mod sentences;

use std::ops::Range;

pub use sentences::sentence_spans;

/// Sentences of each prose block, in order, as ranges into `text`. Boilerplate lies outside the
/// blocks, so it never becomes a sentence.
pub fn segment(text: &str, prose: &[Range<usize>]) -> Vec<Range<usize>> {
    prose
        .iter()
        .flat_map(|block| {
            sentence_spans(&text[block.clone()])
                .into_iter()
                .map(move |r| block.start + r.start..block.start + r.end)
        })
        .collect()
}
