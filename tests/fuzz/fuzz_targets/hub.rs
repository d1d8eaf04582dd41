//! Fuzz target: what the Hub client parses from a server (Content-Range, ETag, redirects, cached metadata) and the repo/revision/path checks that keep files inside the cache.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Text stages take a &str: invalid UTF-8 is the ingestion targets' business.
    if let Ok(text) = std::str::from_utf8(data) {
        newstag::invariants::hub(text);
    }
});
