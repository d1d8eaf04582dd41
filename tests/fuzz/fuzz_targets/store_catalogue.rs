//! Fuzz target: the model catalogue's names and the store's record of checked files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Text stages take a &str: invalid UTF-8 is the ingestion targets' business.
    if let Ok(text) = std::str::from_utf8(data) {
        newstag::invariants::store_catalogue(text);
    }
});
