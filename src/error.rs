//! The library's error: what went wrong, in words, and which kind of failure it is, so that a
//! front end (the CLI, a server, a Python package) can tell a missing model from a network
//! failure or a bad configuration without reading the message.

use std::fmt;

/// The failures a caller must tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Anything else (an I/O error in the store, a model ONNX Runtime cannot run, ...).
    Other,
}

/// One failure of a known kind, raised where it happens; [`Error`] finds it in the chain of
/// contexts above it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    /// The model it is about (a store model's name, or `repo@revision` on the Hub), so a front
    /// end can say how to get it.
    pub model: Option<String>,
}

impl Failure {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
            model: None,
        }
    }

    /// The same failure, about `model`.
    pub fn for_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
}

/// A configuration that cannot describe a run ([`crate::config::Config::validate`],
/// [`crate::config::Config::from_file`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// An error from the library's entry points ([`crate::pipeline::Pipeline::load`]): its
/// [`ErrorKind`], and the message with its chain of causes (`source()`), as displayed before.
pub struct Error {
    kind: ErrorKind,
    model: Option<String>,
    inner: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl Error {
    /// `error` as a failure of `kind`, whatever its chain says.
    pub fn new(
        kind: ErrorKind,
        error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
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
}

impl From<anyhow::Error> for Error {
    /// The kind is the outermost [`Failure`] (or configuration error) in the chain; `Other`
    /// when there is none.
    fn from(error: anyhow::Error) -> Self {
        let (kind, model) = error
            .chain()
            .find_map(|e| {
                if let Some(f) = e.downcast_ref::<Failure>() {
                    Some((f.kind, f.model.clone()))
                } else if e.is::<ConfigError>() {
                    Some((ErrorKind::Config, None))
                } else {
                    None
                }
            })
            .unwrap_or((ErrorKind::Other, None));
        Error {
            model,
            ..Error::new(kind, error)
        }
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Error::new(ErrorKind::Config, error)
    }
}

impl fmt::Display for Error {
    // The outermost message only (`source()` gives the rest, as anyhow's `{:#}` prints it);
    // `{:#}` prints the whole chain, as anyhow's does.
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

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

/// The kind of `error`'s outermost [`Failure`], if it has one.
pub fn kind_of(error: &anyhow::Error) -> Option<ErrorKind> {
    error
        .chain()
        .find_map(|e| e.downcast_ref::<Failure>().map(|f| f.kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn messages_read_as_anyhow_prints_them() {
        let chain = || -> anyhow::Result<()> {
            Err(anyhow::anyhow!(Failure::new(ErrorKind::Network, "refused")))
                .context("fetching model.onnx")
                .context("loading org/model")
        };
        let plain = chain().unwrap_err();
        let typed = Error::from(chain().unwrap_err());
        assert_eq!(typed.kind(), ErrorKind::Network);
        assert_eq!(format!("{typed}"), format!("{plain}"));
        assert_eq!(format!("{typed:#}"), format!("{plain:#}"));
        assert_eq!(
            format!("{:#}", anyhow::Error::new(typed)),
            "loading org/model: fetching model.onnx: refused"
        );
    }
}
