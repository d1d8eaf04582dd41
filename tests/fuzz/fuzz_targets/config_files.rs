//! Fuzz target: topic sets, entity rules, vocabularies (TOML and CSV) and run configurations: a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Text stages take a &str: invalid UTF-8 is the ingestion targets' business.
    if let Ok(text) = std::str::from_utf8(data) {
        newstag::invariants::config_files(text);
    }
});
