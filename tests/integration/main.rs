//! The integration tests, one binary (as ripgrep gathers its own in `tests/tests.rs`): each
//! file below is a module, and the binary links newstag, ONNX Runtime's bindings, Arrow, axum
//! and the rest once instead of once per file. Tests that need a process of their own start
//! one (the `newstag` binary, a server, or this binary again, as `hub::from_env_reads_the_hf_variables`
//! does to change its environment), so every test here can share the process with the others.
//!
//! One group: `cargo test --release --test integration serve_api::` (a module's tests); one
//! test: `cargo test --release --test integration -- --exact errors::a_corrupt_model`.

mod common;

mod accurate_cli;
mod annotate_cli;
mod config_cli;
mod editor_page;
mod errors;
mod faults;
mod golden_rules;
mod html_cli;
mod hub;
mod iptc;
mod lean_core;
#[cfg(feature = "openvino")]
mod minilm_bf16;
mod minilm_fp32;
mod minilm_parity;
mod parquet_out;
mod pipelines;
mod places;
mod properties;
mod segment_cli;
mod serve_api;
mod spacy_parity;
mod store;
mod tags_cli;
mod topics_bbc;
mod transformers_parity;
