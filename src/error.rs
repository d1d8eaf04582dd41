//! The library's error: what went wrong, in words, and which kind of failure it is, so that a
//! front end (the CLI, a server, a Python package) can tell a missing model from a network
//! failure, a bad configuration or bad input without reading the message.
//!
//! A failure is raised with its kind where it happens ([`Error::new`]); the layers above add
//! what they were doing with the crate's `Context` trait (`.context("reading X")`), which
//! keeps the kind and the model of the error below. An error from elsewhere (I/O, JSON, ONNX Runtime, ...) is of
//! kind [`ErrorKind::Other`] unless the caller says otherwise ([`Error::with_kind`]).

use std::error::Error as StdError;
use std::fmt;

use strum::{IntoStaticStr, VariantArray};

/// The library's result: an [`Error`] on failure.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The failures a caller must tell apart; every kind is in [`VariantArray::VARIANTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A model is not in the store and may not be fetched (offline), or the Hub has no such
    /// model or file.
    ModelMissing,
    /// A model's files fail their sha256 check.
    ModelCorrupt,
    /// The Hub could not be reached.
    Network,
    /// The configuration cannot describe a run: a value, or a topic set, entity rules or
    /// vocabulary it names that cannot be read.
    Config,
    /// Bad input handed to the library by a front end: an article that is not JSON, has no
    /// text, is not UTF-8, is empty or too large ([`crate::ingest::input_from_json`]).
    Input,
    /// Anything else (an I/O error in the store, a model ONNX Runtime cannot run, ...).
    Other,
}

impl ErrorKind {
    /// The kind's name where a front end shows it (the Python exception's `kind`):
    /// `model_missing`, ..., derived from the variant's.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A configuration that cannot describe a run ([`crate::config::Config::validate`],
/// [`crate::config::Config::from_file`]); it becomes an [`Error`] of kind
/// [`ErrorKind::Config`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// An error from the library: its [`ErrorKind`], the model it is about (if any), and the
/// message with its chain of causes (`source()`).
///
/// `{}` prints the outermost message; `{:#}` prints the whole chain, `outer: inner: cause`
/// (as `anyhow` prints it).
pub struct Error {
    kind: ErrorKind,
    model: Option<String>,
    inner: Box<dyn StdError + Send + Sync + 'static>,
}

impl Error {
    /// `error` (an error, or a message) as a failure of `kind`.
    pub fn new(kind: ErrorKind, error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Error {
            kind,
            model: None,
            inner: error.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The model the failure is about, when it is about one (a store model's name, or
    /// `repo@revision` on the Hub).
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// What a user can do about the failure, when there is a known step, to append to the
    /// message: fetch a store model that is missing or damaged, or lift the offline switch
    /// (named as the front end names it: `--offline`, `offline=True`) that forbade a download
    /// from the Hub. One wording for every front end.
    pub fn remedy(&self, offline_switch: Option<&str>) -> Option<String> {
        let model = self.model()?;
        match self.kind {
            ErrorKind::ModelMissing | ErrorKind::ModelCorrupt
                if crate::store::spec(model).is_some() =>
            {
                Some(format!(" (run: newstag models fetch {model})"))
            }
            ErrorKind::ModelMissing => offline_switch.map(|switch| {
                format!("; {switch} forbids downloading it: run once without {switch}")
            }),
            _ => None,
        }
    }

    /// The same failure, about `model`.
    pub fn for_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The same failure, of `kind`: for a caller that knows better what a failure below it
    /// means (a topic file that cannot be read is a bad configuration).
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// Whether this is, or was caused by, a write to a reader that went away (`| head`): for
    /// a command line a normal end, not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        let mut cause: Option<&(dyn StdError + 'static)> = Some(&*self.inner);
        while let Some(e) = cause {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                return io.kind() == std::io::ErrorKind::BrokenPipe;
            }
            // `source()` of an Error skips its own inner error: look inside.
            cause = match e.downcast_ref::<Error>() {
                Some(inner) => Some(&*inner.inner),
                None => e.source(),
            };
        }
        false
    }

    /// This error under a message saying what was being done; kind and model stay.
    fn wrap(self, context: String) -> Self {
        let (kind, model) = (self.kind, self.model.clone());
        Error {
            kind,
            model,
            inner: Box::new(Wrapped {
                context,
                source: self,
            }),
        }
    }
}

/// A message over the error it explains: the link of a chain that [`Context`] adds.
#[derive(Debug)]
struct Wrapped {
    context: String,
    source: Error,
}

impl fmt::Display for Wrapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl StdError for Wrapped {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

impl fmt::Display for Error {
    // The outermost message only (`source()` gives the rest); `{:#}` prints the whole chain.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner)?;
        if f.alternate() {
            let mut cause = self.inner.source();
            while let Some(c) = cause {
                write!(f, ": {c}")?;
                cause = c.source();
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {:?}", self.kind, self.inner)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source()
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Error::new(ErrorKind::Config, error)
    }
}

impl From<crate::article::DocError> for Error {
    /// An article's error record, as an error of kind [`ErrorKind::Input`]; its message is the
    /// record's message.
    fn from(error: crate::article::DocError) -> Self {
        Error::new(ErrorKind::Input, error.message)
    }
}

/// Errors of the crates the library calls: failures of kind [`ErrorKind::Other`], so that `?`
/// takes them as they are.
macro_rules! other_errors {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for Error {
            fn from(error: $t) -> Self {
                Error::new(ErrorKind::Other, error)
            }
        })*
    };
}

other_errors!(
    std::io::Error,
    Box<dyn StdError + Send + Sync>,
    serde_json::Error,
    toml::de::Error,
    ort::Error,
    zip::result::ZipError,
    regex::Error,
    fancy_regex::Error,
    rmpv::decode::Error,
);

// Parquet output (emit::parquet) only: the lean core has neither crate.
#[cfg(feature = "parquet")]
other_errors!(arrow_schema::ArrowError, ::parquet::errors::ParquetError);

/// Adds what was being done to an error, keeping its kind and model: `.context("reading X")`,
/// or `.with_context(|| format!("reading {path}"))` when the message costs something to make.
/// On an `Option`, `None` becomes an error of kind [`ErrorKind::Other`] with that message.
pub(crate) trait Context<T> {
    fn context(self, context: impl fmt::Display) -> Result<T>;
    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().wrap(context.to_string()))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| e.into().wrap(context().to_string()))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.ok_or_else(|| Error::new(ErrorKind::Other, context.to_string()))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.ok_or_else(|| Error::new(ErrorKind::Other, context().to_string()))
    }
}

/// An [`Error`] of kind [`ErrorKind::Other`] with a formatted message.
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::error::Error::new($crate::error::ErrorKind::Other, format!($($arg)*))
    };
}

/// Returns an [`Error`] of kind [`ErrorKind::Other`] with a formatted message.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::err!($($arg)*))
    };
}

/// [`bail!`]s with the message unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::error::bail!($($arg)*);
        }
    };
}

pub(crate) use {bail, ensure, err};

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Result<()> {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        Err(Error::new(ErrorKind::Network, refused).for_model("org/model"))
            .context("fetching model.onnx")
            .with_context(|| "loading org/model")
    }

    #[test]
    fn context_keeps_the_kind_and_model_and_chains_the_messages() {
        let e = chain().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network);
        assert_eq!(e.model(), Some("org/model"));
        assert_eq!(format!("{e}"), "loading org/model");
        assert_eq!(
            format!("{e:#}"),
            "loading org/model: fetching model.onnx: refused"
        );
        let mut sources = 0;
        let mut cause = e.source();
        while let Some(c) = cause {
            sources += 1;
            cause = c.source();
        }
        assert_eq!(sources, 2);
    }

    #[test]
    fn foreign_errors_and_none_are_other() {
        let io: std::result::Result<(), _> = Err(std::io::Error::other("disk"));
        let e = io.context("reading x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Other);
        assert_eq!(format!("{e:#}"), "reading x: disk");
        let e = None::<u8>.context("no seed").unwrap_err();
        assert_eq!(
            (e.kind(), e.to_string()),
            (ErrorKind::Other, "no seed".into())
        );
        assert!(e.source().is_none());
        assert_eq!(e.with_kind(ErrorKind::Config).kind(), ErrorKind::Config);
    }

    #[test]
    fn an_article_error_is_bad_input() {
        use crate::article::{DocError, DocErrorKind};
        let e = Error::from(DocError::new(DocErrorKind::Empty, "article text is empty"));
        assert_eq!(e.kind(), ErrorKind::Input);
        assert_eq!(e.to_string(), "article text is empty");
    }

    #[test]
    fn kinds_are_named_in_snake_case() {
        // Pinned: the names are a front end's contract (Python's `kind`), which renaming a
        // variant must not change unnoticed.
        let names: Vec<&str> = ErrorKind::VARIANTS.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "model_missing",
                "model_corrupt",
                "network",
                "config",
                "input",
                "other"
            ]
        );
    }

    #[test]
    fn the_remedy_is_the_same_for_every_front_end() {
        let corrupt =
            Error::new(ErrorKind::ModelCorrupt, "sha256 mismatch").for_model("en-core-web-sm");
        assert_eq!(
            corrupt.remedy(None).as_deref(),
            Some(" (run: newstag models fetch en-core-web-sm)")
        );
        let hub = Error::new(ErrorKind::ModelMissing, "not cached").for_model("org/ner@main");
        assert_eq!(hub.remedy(None), None);
        assert_eq!(
            hub.remedy(Some("--offline")).as_deref(),
            Some("; --offline forbids downloading it: run once without --offline")
        );
        let network = Error::new(ErrorKind::Network, "refused").for_model("org/ner@main");
        assert_eq!(network.remedy(Some("--offline")), None);
        assert_eq!(
            Error::new(ErrorKind::ModelMissing, "no model").remedy(Some("x")),
            None
        );
    }
}
