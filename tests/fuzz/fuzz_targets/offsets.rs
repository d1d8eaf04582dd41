//! Fuzz target: byte to code point offsets at every character boundary.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Text stages take a &str: invalid UTF-8 is the ingestion targets' business.
    if let Ok(text) = std::str::from_utf8(data) {
        newstag::invariants::offsets(text);
    }
});
