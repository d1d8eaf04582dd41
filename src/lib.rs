//! newstag: who and what is in news articles.
//!
//! The modules follow the data flow: [`ingest`] reads articles, [`clean`] finds the dateline
//! and boilerplate, [`segment`] splits sentences, [`entities`] recognises names, [`topics`] classifies (on [`encoder`] and
//! [`runtime`], with models from [`store`]), [`pipeline`] drives the stages over batches, and
//! [`emit`] prints records. [`cli`] is the command line on top.

pub mod aggregate;
pub mod article;
pub mod clean;
pub mod cli;
pub mod config;
pub mod document;
pub mod emit;
pub mod encoder;
pub mod entities;
pub mod hub;
pub mod ingest;
pub mod offsets;
pub mod pipeline;
pub mod places;
pub mod profile;
pub mod resume;
pub mod runtime;
pub mod segment;
pub mod store;
pub mod topics;
