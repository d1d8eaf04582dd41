//! Where a command's records go: the output format (checked before any model loads), the
//! sink it opens (with `--resume`, less the articles already written), and the loop that
//! writes each batch with the progress bar and per-article messages on stderr.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, IsTerminal};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::args::{Format, InputArgs};
use super::{EXIT_OK, EXIT_SOME_FAILED, usage};
use crate::article::{DocErrorKind, Input};
use crate::config::Config;
use crate::emit::sink::RecordSink;
use crate::emit::{Shape, render};
use crate::ingest::{Source, read_sources};
use crate::pipeline::Outcome;
use crate::resume::{DoneIds, open_for_resume};

/// The output format: `--format`, else Parquet for an `-o` file ending in `.parquet`, else
/// JSONL; checked before any model loads.
pub(super) fn output_format(args: &InputArgs, shape: Shape) -> Result<Format> {
    let by_name = args.output.as_ref().is_some_and(|p| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    });
    let format = match args.format {
        Some(format) => format,
        None if by_name => Format::Parquet,
        None => Format::Jsonl,
    };
    if args.row_group_size.is_some() && format != Format::Parquet {
        return Err(usage("--row-group-size is for Parquet output"));
    }
    if format == Format::Jsonl {
        return Ok(format);
    }
    let refusal = if !cfg!(feature = "parquet") {
        Some("this newstag was built without Parquet output (cargo feature `parquet`)")
    } else if args.resume {
        // Parquet's footer, which indexes every row, is written when the run ends: a killed
        // run's file cannot be read back, so there is nothing to resume from.
        Some(
            "--resume needs JSONL output: a Parquet file is readable only once its run has \
             finished (write JSONL to resume a long run, or rerun the Parquet one)",
        )
    } else if matches!(shape, Shape::Tags { json: false, .. }) {
        Some("tags writes Parquet with --json only (the table is for reading)")
    } else if args.output.is_none() && io::stdout().is_terminal() {
        Some("Parquet is binary: give -o FILE or redirect stdout")
    } else {
        None
    };
    match refusal {
        Some(message) => Err(usage(message)),
        None => Ok(format),
    }
}

/// A run's articles (less, with `--resume`, those already in the output) and where their
/// records go.
pub(super) struct Run<I> {
    pub(super) inputs: I,
    pub(super) sink: RecordSink,
}

impl Run<()> {
    pub(super) fn open(
        args: &InputArgs,
        config: &Config,
        format: Format,
        shape: Shape,
    ) -> Result<Run<impl Iterator<Item = Input> + use<>>> {
        let sources = args.paths.iter().map(|p| Source::parse(p)).collect();
        let mut done = DoneIds::default();
        let sink = match (format, &args.output, args.resume) {
            (Format::Parquet, path, _) => parquet(path.as_deref(), shape, args.row_group_size)?,
            (Format::Jsonl, Some(path), true) => {
                let (ids, file) = open_for_resume(path)?;
                if !args.quiet && !ids.is_empty() {
                    eprintln!(
                        "newstag: resuming: {} records already in {}",
                        ids.len(),
                        path.display()
                    );
                }
                done = ids;
                RecordSink::jsonl_file(file)?
            }
            (Format::Jsonl, Some(path), false) => RecordSink::jsonl_file(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            )?,
            (Format::Jsonl, None, _) => RecordSink::jsonl(Box::new(io::stdout().lock())),
        };
        let inputs = read_sources(sources, config.read_options())
            .filter(move |input| !done.contains(input.id()));
        Ok(Run { inputs, sink })
    }
}

#[cfg(feature = "parquet")]
fn parquet(path: Option<&std::path::Path>, shape: Shape, rows: Option<u64>) -> Result<RecordSink> {
    use crate::emit::parquet::DEFAULT_ROW_GROUP_ROWS;
    let rows = rows.map_or(DEFAULT_ROW_GROUP_ROWS, |n| n as usize);
    Ok(RecordSink::parquet(path, shape, rows)?)
}

#[cfg(not(feature = "parquet"))]
fn parquet(_: Option<&std::path::Path>, _: Shape, _: Option<u64>) -> Result<RecordSink> {
    unreachable!("output_format refuses Parquet without the parquet feature")
}

/// Writes the records of each batch in input order, flushing after each, with the progress
/// bar and per-article error messages on stderr; returns the exit status.
pub(super) fn write_records(
    args: &InputArgs,
    mut sink: RecordSink,
    shape: Shape,
    models: &BTreeMap<&'static str, String>,
    batches: impl Iterator<Item = Vec<Outcome>>,
) -> Result<i32> {
    let progress = if !args.quiet && io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} articles  {per_sec}  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    for batch in batches {
        for outcome in batch {
            let line = render(&outcome, shape, models)?;
            let is_error = matches!(outcome, Outcome::Failed { .. });
            if is_error
                && !args.quiet
                && let Outcome::Failed { id, error } = &outcome
            {
                // The record says what is wrong; what to type about it is the command line's.
                let hint = match error.kind {
                    // A web page has two limits: the page's, and its extracted text's.
                    DocErrorKind::TooLarge if error.message.contains("page limit") => {
                        " (raise --max-page-bytes to read it)"
                    }
                    DocErrorKind::TooLarge => " (raise --max-article-bytes to annotate it)",
                    _ => "",
                };
                progress.suspend(|| eprintln!("newstag: {id}: {}{hint}", error.message));
            }
            if let Err(e) = sink.write(&line, is_error) {
                return broken_pipe_or(e);
            }
            progress.inc(1);
        }
        if let Err(e) = sink.end_batch() {
            return broken_pipe_or(e);
        }
    }
    let (written, failed) = sink.counts();
    if let Err(e) = sink.finish() {
        return broken_pipe_or(e);
    }
    progress.finish_and_clear();
    #[cfg(feature = "html")]
    if !args.quiet {
        // A WARC file holds requests, metadata, images and redirects besides pages: say how
        // many records were passed over, so that a short output is not a mystery.
        let skipped = crate::warc::skipped();
        if !skipped.is_empty() {
            let total: u64 = skipped.values().sum();
            let by_kind: Vec<String> = skipped.iter().map(|(k, n)| format!("{n} {k}")).collect();
            eprintln!(
                "newstag: {total} WARC records skipped (not HTML pages): {}",
                by_kind.join(", ")
            );
        }
    }
    if !args.quiet && failed > 0 {
        eprintln!(
            "newstag: {failed} of {written} articles failed (their error records were written)"
        );
    }
    Ok(if failed > 0 {
        EXIT_SOME_FAILED
    } else {
        EXIT_OK
    })
}

/// A reader that went away (`| head`) is a normal end, not an error.
fn broken_pipe_or(e: crate::Error) -> Result<i32> {
    if e.is_broken_pipe() {
        Ok(EXIT_OK)
    } else {
        Err(anyhow::Error::from(e).context("writing records"))
    }
}
