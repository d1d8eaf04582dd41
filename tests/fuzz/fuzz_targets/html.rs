//! Fuzz target: arbitrary bytes as a web page: decoding and main-text extraction never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| newstag::invariants::html(data));
