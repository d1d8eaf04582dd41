//! Fuzz target: arbitrary bytes as a WARC file, plain and gzip member by member: no panic, no endless read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| newstag::invariants::warc(data));
