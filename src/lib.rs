//! newstag: who and what is in news articles.
//!
//! The modules follow the data flow: [`ingest`] reads articles ([`article`]), [`clean`] finds
//! the dateline and boilerplate, [`segment`] splits sentences, [`entities`] recognises names,
//! [`topics`] classifies (on [`encoder`] and [`runtime`], with models from [`store`] and
//! [`hub`]), [`aggregate`] and [`places`] make document entities and tags, all of them adding
//! layers to a [`document::Document`]; [`pipeline`] drives the stages over batches, and [`emit`]
//! prints records with code point offsets ([`offsets`]). [`config`] holds every choice of a run
//! and loads a [`Pipeline`] from it (models resolved in [`profile`]), failing with an
//! [`Error`] of a known [`ErrorKind`] ([`error`]); [`resume`] lets a killed run continue. The
//! command line (`cli`) is on top, behind the default `cli` feature: without it the library
//! builds with neither clap nor indicatif. The HTTP service (`serve`, `newstag serve`) is behind
//! the default `serve` feature, the only one that brings in tokio and axum.

pub mod aggregate;
pub mod article;
pub mod clean;
#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod document;
pub mod emit;
pub mod encoder;
pub mod entities;
pub mod error;
pub mod hub;
pub mod ingest;
pub mod offsets;
pub mod pipeline;
pub mod places;
pub mod profile;
pub mod resume;
pub mod runtime;
pub mod segment;
#[cfg(feature = "serve")]
pub mod serve;
pub mod store;
pub mod topics;

pub use config::Config;
pub use error::{Error, ErrorKind};
pub use pipeline::Pipeline;
