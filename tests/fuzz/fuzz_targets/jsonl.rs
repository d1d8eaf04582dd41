//! Fuzz target: JSON Lines ingestion (plain and re-compressed with gzip): one input per non-blank line, in order.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| newstag::invariants::jsonl(data));
