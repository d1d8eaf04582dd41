//! Fuzz target: gzip-compressed JSON Lines from arbitrary bytes: no panic, no endless read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| newstag::invariants::gzip(data));
