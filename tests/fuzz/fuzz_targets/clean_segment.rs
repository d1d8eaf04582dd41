//! Fuzz target: cleaning and sentence segmentation, rendered as the segment command does: spans, order, code point offsets.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Text stages take a &str: invalid UTF-8 is the ingestion targets' business.
    if let Ok(text) = std::str::from_utf8(data) {
        newstag::invariants::clean_and_segment(text);
    }
});
