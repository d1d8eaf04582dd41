//! The command line: what was typed ([`args`]: clap's argument groups, and the overrides they
//! give a [`Config`]), one entry point per command ([`commands`]), and where their records go
//! ([`output`]: the format, `--resume`, the progress bar). Everything a run means is the
//! library's: the configuration is [`Config::with_overrides`], the records
//! [`crate::emit`]'s, the sinks [`crate::emit::sink`]'s.

mod args;
mod commands;
mod output;

use std::path::Path;

use anyhow::Result;
use clap::Parser;

pub use args::Cli;

use crate::config::{Config, Overrides};
use crate::pipeline::Pipeline;
use crate::store::Store;

/// Exit status: every article annotated.
pub const EXIT_OK: i32 = 0;
/// The run could not start (bad model store, unreadable topic set, output not writable).
pub const EXIT_FAILED: i32 = 1;
/// Usage error (clap's own exit status for bad arguments).
pub const EXIT_USAGE: i32 = 2;
/// Some articles failed; their error records were written.
pub const EXIT_SOME_FAILED: i32 = 3;

/// A usage error: arguments that cannot describe a run (a bad value, a configuration file
/// that does not parse, an output option the format refuses). Returned like any error, it is
/// reported the same way and exits with [`EXIT_USAGE`] instead of [`EXIT_FAILED`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

/// A [`Usage`] error as the commands return it.
fn usage(message: impl Into<String>) -> anyhow::Error {
    Usage(message.into()).into()
}

/// Parses arguments and runs the command; returns the process exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("newstag: error: {e:#}");
            if e.is::<Usage>() {
                EXIT_USAGE
            } else {
                EXIT_FAILED
            }
        }
    }
}

/// The run's configuration: the `--config` file (or the defaults) with the flags `given`
/// written over it, validated: a [`Usage`] error when it cannot describe a run.
fn run_config(file: Option<&Path>, given: Overrides) -> Result<Config> {
    let base = match file {
        Some(path) => Config::from_file(path).map_err(|e| usage(e.0))?,
        None => Config::default(),
    };
    base.with_overrides(given).map_err(|e| usage(e.0))
}

/// The pipeline `config` describes, its models loaded (fetched unless offline); download
/// messages on stderr unless `quiet`.
fn load_pipeline(config: &Config, quiet: bool) -> Result<Pipeline> {
    let mut log = |msg: &str| {
        if !quiet {
            eprintln!("newstag: {msg}");
        }
    };
    Pipeline::load(config, &Store::from_env()?, &mut log).map_err(|e| with_hint(e, config))
}

/// The library says what is wrong and what to do about it ([`crate::Error::remedy`]).
fn with_hint(error: crate::Error, config: &Config) -> anyhow::Error {
    match error.remedy(config.offline.then_some("--offline")) {
        Some(hint) => anyhow::anyhow!("{:#}{hint}", anyhow::Error::from(error)),
        None => error.into(),
    }
}
