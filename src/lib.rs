//! newstag: who and what is in news articles.
//!
//! # Use
//!
//! A front end (the command line, a server, a Python package) needs little: a [`Config`] (the
//! defaults, a TOML/JSON file, or its own settings mapped onto one), a [`Pipeline`] loaded
//! from it with models from a [`Store`], articles as [`Input`]s (read by [`read_sources`], or
//! one JSON object at a time by [`input_from_json`] / [`input_from_value`]), and the
//! [`Outcome`]s the pipeline gives back ([`Pipeline::annotate_stream`],
//! [`Pipeline::annotate_batch`]), rendered as JSON records by [`render`] in a [`Shape`] and
//! written by a [`RecordWriter`]. Failures are an [`Error`] whose [`ErrorKind`] says what
//! failed (a model missing or corrupt, the network, the configuration, bad input); an article
//! that cannot be annotated is an [`Outcome::Failed`] with a [`DocError`], not an error of the
//! run.
//!
//! ```no_run
//! use newstag::{Config, Input, Pipeline, ReadOptions, Shape, Store, input_from_json, render};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::default();
//! let pipeline = Pipeline::load(&config, &Store::from_env()?, &mut |msg| eprintln!("{msg}"))?;
//! let body = br#"{"id": "a1", "text": "Lagarde spoke in Frankfurt on Thursday."}"#;
//! let input: Input = input_from_json(body, "request".into(), ReadOptions::default());
//! let models = pipeline.models();
//! for outcome in pipeline.annotate_batch(vec![input]) {
//!     let line = render(&outcome, Shape::Annotate, &models)?;
//!     print!("{}", String::from_utf8(line)?);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Modules
//!
//! The front end's API (re-exported above): [`config`] (every choice of a run, and
//! [`Pipeline::load`]), [`pipeline`] (the run loop), [`article`] (articles and their error
//! records), [`ingest`] (reading them), [`document`] (the annotated document and its layer
//! types), [`emit`] (records with code point offsets; with the `parquet` feature, on by default,
//! `emit::parquet` writes them as Parquet rows), [`error`], [`store`] (the model store
//! and fetching), [`resume`] (continuing a killed run).
//!
//! The stages, in data-flow order, are the library's own: `clean` (dateline and boilerplate),
//! `segment` (sentences), `language` (the gate before the models, which read English), `entities` (names: the spaCy port in `entities::spacy_sm`, transformer
//! token classification), `topics` (embedding similarity over IPTC Media Topics with its sentence
//! encoder `topics::encoder`, NLI zero-shot), `aggregate` (document entities, rules, vocabulary and
//! tags), `places` (the gazetteer); under them the model infrastructure, in one folder
//! (`src/models/`) but at the crate root's paths: `store`, `runtime` (the shared ONNX Runtime) and
//! `hub` (Hugging Face Hub downloads); then `profile` (which models a configuration resolves to)
//! and `offsets` (byte to code point offsets). Those the tests and benchmarks reach are public but
//! hidden from these docs; their APIs may change. The checks the property tests and fuzz targets
//! share (`invariants`) exist only with the `invariants` feature, which the tests turn on: no
//! build a user makes carries them. The command line (`cli`) is on top, behind the default `cli`
//! feature: without it the library builds with neither clap, indicatif nor anyhow.
//! The HTTP service (`serve`, `newstag serve`) is behind the default `serve` feature, the only one
//! that brings in tokio and axum.

pub(crate) mod aggregate;
pub mod article;
pub(crate) mod clean;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
pub mod config;
pub mod document;
pub mod emit;
#[doc(hidden)]
pub mod entities;
pub mod error;
pub mod ingest;
#[cfg(feature = "invariants")]
#[doc(hidden)]
pub mod invariants;
pub(crate) mod language;
// Model infrastructure lives in one folder; its modules keep their paths at the crate root
// (`newstag::store::Store` is public API, tests and benchmarks reach the other two).
mod models;
#[cfg(feature = "openvino")]
pub use models::openvino;
pub use models::store;
#[doc(hidden)]
pub use models::{hub, runtime};
pub(crate) mod offsets;
#[cfg(feature = "html")]
pub mod page;
pub mod pipeline;
#[doc(hidden)]
pub mod places;
pub(crate) mod profile;
pub mod resume;
#[doc(hidden)]
pub mod segment;
#[cfg(feature = "serve")]
pub mod serve;
#[doc(hidden)]
pub mod topics;
#[cfg(feature = "html")]
pub mod warc;

pub use article::{Article, DocError, DocErrorKind, Input, Page};
pub use clean::{Boilerplate, BoilerplateKind, Cleaned};
pub use config::{Config, ConfigError, Overrides};
pub use document::{Category, DocEntity, Document, Evidence, Mention, Tag, TopicScore};
pub use emit::{DEFAULT_TOP_TAGS, RecordWriter, Shape, render, tags_table, to_json_line};
pub use entities::{AggregationStrategy, Precision};
pub use error::{Error, ErrorKind};
pub use ingest::{ReadOptions, Source, input_from_json, input_from_value, read_sources};
pub use pipeline::{Outcome, Pipeline};
pub use places::{Place, PlaceKind};
pub use profile::Profile;
pub use resume::{DoneIds, open_for_resume};
pub use store::Store;
