//! The command line: what was typed (`Cli` and its argument groups), what it means (the run's
//! [`Config`], flags written over a `--config` file), and one entry point per command.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::article::{DocErrorKind, Input};
use crate::config::Config;
use crate::emit::{RecordWriter, Shape, render};
use crate::entities::Precision;
use crate::ingest::{Source, read_sources};
use crate::pipeline::{Outcome, Pipeline};
use crate::profile::Profile;
use crate::resume::{DoneIds, open_for_resume};
use crate::store::{self, Store};

/// Exit status: every article annotated.
pub const EXIT_OK: i32 = 0;
/// The run could not start (bad model store, unreadable topic set, output not writable).
pub const EXIT_FAILED: i32 = 1;
/// Usage error (clap's own exit status for bad arguments).
pub const EXIT_USAGE: i32 = 2;
/// Some articles failed; their error records were written.
pub const EXIT_SOME_FAILED: i32 = 3;

#[derive(Parser)]
#[command(
    name = "newstag",
    version,
    about = "Who and what is in news articles: sentences, topics and entities as JSON Lines or Parquet."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Annotate articles: sentences, boilerplate, dateline, entities and topics, one JSON record each.
    Annotate(AnnotateArgs),
    /// Suggest tags for editors: a ranked table per article (or --json).
    Tags(TagsArgs),
    /// Split articles into sentences and boilerplate only (no models needed).
    Segment(InputArgs),
    /// The main text and metadata of web pages (HTML files, WARC files, JSONL with "html"),
    /// one JSON record per page, as annotate reads them (no models needed).
    #[cfg(feature = "html")]
    Extract(InputArgs),
    /// Serve the annotator over HTTP (JSON API, metrics, the editor's page) until SIGTERM.
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
    /// List, fetch, verify or locate the models in the store.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
}

#[derive(Args)]
struct InputArgs {
    /// Files (.txt, .md, .jsonl, .ndjson, .html, .htm, .xhtml, .warc, optionally .gz),
    /// directories, or - for stdin.
    paths: Vec<String>,
    /// Write records here instead of stdout (Parquet when FILE ends in .parquet).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Output format [default: parquet for an -o FILE ending in .parquet, else jsonl].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Parquet: articles per row group (a smaller group holds less in memory, a larger one
    /// compresses and filters better) [default: 1000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    row_group_size: Option<u64>,
    /// No progress bar or messages on stderr.
    #[arg(short, long)]
    quiet: bool,
    /// Articles larger than this many bytes get a too_large error record [default: 1048576].
    #[arg(long, value_name = "N")]
    max_article_bytes: Option<usize>,
    /// Web pages (HTML files, WARC payloads, JSONL "html") larger than this many bytes get a
    /// too_large error record; --max-article-bytes applies to their extracted text
    /// [default: 8388608].
    #[arg(long, value_name = "N")]
    max_page_bytes: Option<usize>,
    /// Articles per batch: model calls are batched across this many articles [default: 64].
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Skip articles whose id is already in the -o file and append the rest (a killed run
    /// continues without duplicating or losing a record).
    #[arg(long, requires = "output")]
    resume: bool,
    /// Read the run's configuration (TOML, or JSON when FILE ends in .json) from FILE; the
    /// flags given beside it win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// What the records are written as.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet, one row per article, with the record's nested schema (needs -o FILE,
    /// or a stdout that is not a terminal).
    Parquet,
}

#[derive(Args)]
struct AnnotateArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    models: ModelArgs,
}

#[derive(Args)]
struct TagsArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    models: ModelArgs,
    /// One JSON object per article ({"id", "tags"}) instead of a table.
    #[arg(long)]
    json: bool,
    /// Show at most this many tags per article.
    #[arg(long, default_value_t = crate::emit::DEFAULT_TOP_TAGS)]
    top: usize,
}

/// `newstag serve`: the model options of `annotate`, the batching and thread options, and the
/// server's own ([`crate::serve::ServeOptions`]).
#[cfg(feature = "serve")]
#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    models: ModelArgs,
    #[command(flatten)]
    server: crate::serve::ServeOptions,
    /// Read the run's configuration (TOML, or JSON when FILE ends in .json) from FILE; the
    /// flags given beside it win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Most articles in one model pass, gathered across concurrent requests [default: 64].
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// Articles larger than this many bytes get a too_large error [default: 1048576].
    #[arg(long, value_name = "N")]
    max_article_bytes: Option<usize>,
    /// Worker threads for the pipeline (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No messages on stderr but the `listening on` line and errors.
    #[arg(short, long)]
    quiet: bool,
}

/// What the models do: shared by `annotate`, `tags` and `serve`.
#[derive(Args)]
struct ModelArgs {
    /// Topic set (TOML) to use instead of the shipped news topics.
    #[arg(long, value_name = "FILE", conflicts_with = "label")]
    topics: Option<PathBuf>,
    /// Classify against this ad-hoc label ("This article is about {label}."); repeatable.
    #[arg(long, value_name = "TEXT")]
    label: Vec<String>,
    /// Score from which a topic other than the best one is reported, in [0, 1].
    #[arg(long)]
    threshold: Option<f32>,
    /// Report IPTC concepts at most this many levels deep (1: top-level topics only).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=6))]
    depth: Option<u64>,
    /// Never fetch: a missing model is an error naming the command that fetches it.
    #[arg(long, overrides_with = "no_offline")]
    offline: bool,
    /// Fetch missing models even when the --config file says `offline = true`.
    #[arg(long, overrides_with = "offline")]
    no_offline: bool,
    /// Model defaults: `fast` (offline: spaCy-port NER, MiniLM topics) or `accurate`
    /// (transformer NER and NLI zero-shot from the Hugging Face Hub).
    /// [default: fast]
    #[arg(long, value_enum)]
    profile: Option<Profile>,
    /// Entity recogniser: `sm` (spaCy en_core_web_sm, ported to Rust), `none`, or a token
    /// classifier as a directory or Hub repo (`org/name[@revision]`) with an ONNX model.
    #[arg(long, value_name = "sm|none|DIR|REPO")]
    ner: Option<String>,
    /// Topic classifier: `embedding` (MiniLM similarity, fp32), `embedding-int8` (the same
    /// from a 4x smaller int8 export), or an NLI cross-encoder as a directory or Hub repo
    /// (`org/name[@revision]`) with an ONNX model.
    #[arg(long, value_name = "embedding|embedding-int8|DIR|REPO")]
    topic_model: Option<String>,
    /// How a transformer NER merges word pieces and B-/I- tags: simple, first, average, max.
    /// [default: simple]
    #[arg(long)]
    aggregation: Option<String>,
    /// Run the transformer models' int8 exports (`model_quantized.onnx`, as Hugging Face ONNX
    /// repositories ship them and `scripts/gen/quantize.py` makes them): 2-2.7x faster than fp32
    /// on real-size models here, at an accuracy cost (docs/models.md and docs/benchmarks.md).
    #[arg(long, overrides_with = "no_int8")]
    int8: bool,
    /// Run the fp32 models even when the --config file says `precision = "int8"`.
    #[arg(long, overrides_with = "int8")]
    no_int8: bool,
    /// With an NLI topic model: let the embedding classifier shortlist this many topics per
    /// article and run NLI only on those (a 50-topic set then costs K passes, not 50).
    #[arg(long, value_name = "K")]
    cascade: Option<usize>,
    /// Entity rules (TOML): phrases or regexes that force or relabel entities.
    #[arg(long, value_name = "FILE")]
    entity_rules: Option<PathBuf>,
    /// Controlled vocabulary (TOML or CSV): tag suggestions snap to it.
    #[arg(long, value_name = "FILE")]
    vocabulary: Option<PathBuf>,
    /// Suggest only tags from the vocabulary.
    #[arg(long, overrides_with = "no_vocabulary_only")]
    vocabulary_only: bool,
    /// Suggest tags outside the vocabulary too, even when the --config file says
    /// `vocabulary_only = true`.
    #[arg(long, overrides_with = "vocabulary_only")]
    no_vocabulary_only: bool,
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Every model newstag knows, and whether it is in the store.
    List,
    /// Fetch models into the store (all defaults when no name is given).
    Fetch { names: Vec<String> },
    /// Re-check the sha256 of stored models.
    Verify { names: Vec<String> },
    /// Print the store directory, or a model's directory.
    Path { name: Option<String> },
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
    match try_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("newstag: error: {e:#}");
            EXIT_FAILED
        }
    }
}

fn try_main(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Annotate(args) => annotate(args),
        Command::Tags(args) => tags(args),
        Command::Segment(args) => segment(args),
        #[cfg(feature = "html")]
        Command::Extract(args) => extract(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve(args),
        Command::Models { command } => models(command),
    }
}

/// Runs the full pipeline over the inputs and prints one annotation record per article.
fn annotate(args: AnnotateArgs) -> Result<i32> {
    let Some(format) = output_format(&args.input, Shape::Annotate) else {
        return Ok(EXIT_USAGE);
    };
    let Some((config, pipeline)) = load_pipeline(&args.models, &args.input)? else {
        return Ok(EXIT_USAGE);
    };
    let (inputs, out) = open_run(&args.input, &config, format, Shape::Annotate)?;
    let batches = pipeline.annotate_stream(inputs, config.batch_size);
    write_records(
        &args.input,
        out,
        Shape::Annotate,
        &pipeline.models(),
        batches,
    )
}

/// What an editor runs: ranked tag suggestions per article, as a table or JSON.
fn tags(args: TagsArgs) -> Result<i32> {
    let shape = Shape::Tags {
        top: args.top,
        json: args.json,
    };
    let Some(format) = output_format(&args.input, shape) else {
        return Ok(EXIT_USAGE);
    };
    let Some((config, pipeline)) = load_pipeline(&args.models, &args.input)? else {
        return Ok(EXIT_USAGE);
    };
    let (inputs, out) = open_run(&args.input, &config, format, shape)?;
    let batches = pipeline.annotate_stream(inputs, config.batch_size);
    write_records(&args.input, out, shape, &pipeline.models(), batches)
}

/// Loads the models once and serves them over HTTP until SIGTERM or SIGINT.
#[cfg(feature = "serve")]
fn serve(args: ServeArgs) -> Result<i32> {
    // The same meaning as annotate's flags: the server is one more front end on one Config.
    let input = InputArgs {
        paths: Vec::new(),
        output: None,
        quiet: args.quiet,
        max_article_bytes: args.max_article_bytes,
        max_page_bytes: None,
        batch_size: args.batch_size,
        threads: args.threads,
        resume: false,
        config: args.config,
        // The server answers in JSON; it writes no files.
        format: None,
        row_group_size: None,
    };
    args.server.check()?;
    let Some((config, pipeline)) = load_pipeline(&args.models, &input)? else {
        return Ok(EXIT_USAGE);
    };
    crate::serve::run(args.server, &config, pipeline, &Store::from_env()?)?;
    Ok(EXIT_OK)
}

/// What the options mean: the run's [`Config`], and the pipeline loaded from it. `None`
/// means a usage error was already reported.
fn load_pipeline(args: &ModelArgs, input: &InputArgs) -> Result<Option<(Config, Pipeline)>> {
    if let Some(t) = args.threshold
        && !(0.0..=1.0).contains(&t)
    {
        eprintln!("newstag: error: --threshold must be in [0, 1]");
        return Ok(None);
    }
    let Some(config) = run_config(input, Some(args))? else {
        return Ok(None);
    };
    let quiet = input.quiet;
    let mut log = |msg: &str| {
        if !quiet {
            eprintln!("newstag: {msg}");
        }
    };
    let pipeline = Pipeline::load(&config, &Store::from_env()?, &mut log)
        .map_err(|e| with_hint(e, &config))?;
    Ok(Some((config, pipeline)))
}

/// The library says what is wrong and what to do about it ([`crate::Error::remedy`]).
fn with_hint(error: crate::Error, config: &Config) -> anyhow::Error {
    match error.remedy(config.offline.then_some("--offline")) {
        Some(hint) => anyhow::anyhow!("{:#}{hint}", anyhow::Error::from(error)),
        None => error.into(),
    }
}

/// The run's configuration: the `--config` file (or the defaults) with the flags given
/// written over it (the model flags, for the commands that have them), validated. `None`
/// means a usage error was already reported.
fn run_config(input: &InputArgs, models: Option<&ModelArgs>) -> Result<Option<Config>> {
    let config = match &input.config {
        Some(path) => match Config::from_file(path) {
            Ok(config) => config,
            Err(e) => {
                eprintln!("newstag: error: {e}");
                return Ok(None);
            }
        },
        None => Config::default(),
    };
    let mut config = match models {
        Some(args) => with_model_flags(config, args)?,
        None => config,
    };
    with_input_flags(&mut config, input);
    if let Err(e) = config.validate() {
        eprintln!("newstag: error: {e}");
        return Ok(None);
    }
    Ok(Some(config))
}

/// The model flags that were given, written over `config` (from a file, or the defaults).
fn with_model_flags(mut config: Config, args: &ModelArgs) -> Result<Config> {
    if let Some(profile) = args.profile {
        config.profile = profile;
    }
    if args.ner.is_some() {
        config.ner = args.ner.clone();
    }
    if args.topic_model.is_some() {
        config.topic_model = args.topic_model.clone();
    }
    // A topic file and labels exclude each other: the one given on the command line replaces
    // whichever the file chose.
    if args.topics.is_some() {
        config.topics = args.topics.clone();
        config.labels.clear();
    }
    if !args.label.is_empty() {
        config.labels = args.label.clone();
        config.topics = None;
    }
    if args.threshold.is_some() {
        config.threshold = args.threshold;
    }
    if let Some(depth) = args.depth {
        config.depth = Some(depth as usize);
    }
    if let Some(aggregation) = &args.aggregation {
        config.aggregation = aggregation.parse()?;
    }
    match switch(args.int8, args.no_int8) {
        Some(true) => config.precision = Precision::Int8,
        Some(false) => config.precision = Precision::Fp32,
        None => {}
    }
    if args.cascade.is_some() {
        config.cascade = args.cascade;
    }
    if args.entity_rules.is_some() {
        config.entity_rules = args.entity_rules.clone();
    }
    if args.vocabulary.is_some() {
        config.vocabulary = args.vocabulary.clone();
    }
    if let Some(on) = switch(args.vocabulary_only, args.no_vocabulary_only) {
        config.vocabulary_only = on;
    }
    if let Some(on) = switch(args.offline, args.no_offline) {
        config.offline = on;
    }
    Ok(config)
}

/// What a `--X` / `--no-X` pair says (the last one given wins, clap keeps only it): on, off,
/// or nothing, leaving the file's choice.
fn switch(on: bool, off: bool) -> Option<bool> {
    if on {
        Some(true)
    } else if off {
        Some(false)
    } else {
        None
    }
}

/// The input flags that were given (threads, batching, the size limit), written over `config`.
fn with_input_flags(config: &mut Config, input: &InputArgs) {
    if input.threads.is_some() {
        config.threads = input.threads;
    }
    if let Some(n) = input.batch_size {
        config.batch_size = n;
    }
    if let Some(n) = input.max_article_bytes {
        config.max_article_bytes = n;
    }
    if let Some(n) = input.max_page_bytes {
        config.max_page_bytes = n;
    }
}

/// Prints sentences and boilerplate per article; needs no model. Of a `--config` file it uses
/// what segmenting needs: threads, batch size and the size limit.
fn segment(args: InputArgs) -> Result<i32> {
    let Some(format) = output_format(&args, Shape::Segment) else {
        return Ok(EXIT_USAGE);
    };
    let Some(config) = run_config(&args, None)? else {
        return Ok(EXIT_USAGE);
    };
    let pipeline = Pipeline::segmenter(&config)?;
    let (inputs, out) = open_run(&args, &config, format, Shape::Segment)?;
    let batches = pipeline.annotate_stream(inputs, config.batch_size);
    write_records(&args, out, Shape::Segment, &Default::default(), batches)
}

/// Prints one record per web page: its extracted text and metadata (`{"id", "url"?, "title"?,
/// "published"?, "author"?, "site"?, "language"?, "text"}`); an input that is not a page gives
/// `{"id", "text"}`. Needs no model; pages are extracted in parallel, a batch at a time.
#[cfg(feature = "html")]
fn extract(args: InputArgs) -> Result<i32> {
    if args.format == Some(Format::Parquet)
        || args.output.as_ref().is_some_and(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
        })
    {
        eprintln!("newstag: error: extract writes JSONL only");
        return Ok(EXIT_USAGE);
    }
    let Some(config) = run_config(&args, None)? else {
        return Ok(EXIT_USAGE);
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.thread_count())
        .build()
        .context("starting the worker threads")?;
    let (inputs, out) = open_run(&args, &config, Format::Jsonl, Shape::Segment)?;
    let batches = crate::pipeline::Batches::new(inputs, config.batch_size, move |batch| {
        use rayon::prelude::*;
        pool.install(|| {
            batch
                .into_par_iter()
                .map(crate::pipeline::extract_only)
                .collect()
        })
    });
    write_records(&args, out, Shape::Extract, &Default::default(), batches)
}

/// The output format: `--format`, else Parquet for an `-o` file ending in `.parquet`, else
/// JSONL; checked before any model loads. `None` means a usage error was already reported.
fn output_format(args: &InputArgs, shape: Shape) -> Option<Format> {
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
        eprintln!("newstag: error: --row-group-size is for Parquet output");
        return None;
    }
    if format == Format::Jsonl {
        return Some(format);
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
        Some(message) => {
            eprintln!("newstag: error: {message}");
            None
        }
        None => Some(format),
    }
}

/// Where the records of a run go. A JSONL file comes with what pushes it to the disk.
enum Output {
    Jsonl(Box<dyn Write>, Option<Syncer>),
    #[cfg(feature = "parquet")]
    Parquet(Box<ParquetSink>),
}

/// The articles to read (less, with `--resume`, those already in the output) and where their
/// records go.
fn open_run(
    args: &InputArgs,
    config: &Config,
    format: Format,
    shape: Shape,
) -> Result<(impl Iterator<Item = Input> + use<>, Output)> {
    let sources = args.paths.iter().map(|p| Source::parse(p)).collect();
    let opts = config.read_options();
    let mut done = DoneIds::default();
    let out = match (format, &args.output, args.resume) {
        (Format::Parquet, path, _) => parquet_output(path.as_deref(), shape, args.row_group_size)?,
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
            jsonl_file(file)?
        }
        (Format::Jsonl, Some(path), false) => {
            jsonl_file(File::create(path).with_context(|| format!("creating {}", path.display()))?)?
        }
        (Format::Jsonl, None, _) => Output::Jsonl(Box::new(io::stdout().lock()), None),
    };
    let inputs = read_sources(sources, opts).filter(move |input| !done.contains(input.id()));
    Ok((inputs, out))
}

/// A JSONL output file, with a [`Syncer`] on a second handle when it is a regular file (a
/// device or a FIFO has nothing to sync).
fn jsonl_file(file: File) -> Result<Output> {
    let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    let sync = if regular {
        Some(Syncer {
            file: file
                .try_clone()
                .context("duplicating the output file's handle")?,
            last: Instant::now(),
        })
    } else {
        None
    };
    Ok(Output::Jsonl(Box::new(file), sync))
}

#[cfg(not(feature = "parquet"))]
fn parquet_output(_: Option<&std::path::Path>, _: Shape, _: Option<u64>) -> Result<Output> {
    unreachable!("output_format refuses Parquet without the parquet feature")
}

/// A Parquet writer to a temporary file beside `path` (renamed to it when the run ends, so
/// that `path` is never a file without a footer), or to stdout.
#[cfg(feature = "parquet")]
fn parquet_output(
    path: Option<&std::path::Path>,
    shape: Shape,
    row_group_size: Option<u64>,
) -> Result<Output> {
    use crate::emit::parquet::{DEFAULT_ROW_GROUP_ROWS, ParquetWriter};
    let rows = row_group_size.map_or(DEFAULT_ROW_GROUP_ROWS, |n| n as usize);
    let (out, path) = match path {
        Some(path) => {
            if path.is_dir() {
                bail!("{} is a directory", path.display());
            }
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => std::path::Path::new("."),
            };
            let mut temp = tempfile::Builder::new();
            temp.prefix(".newstag-").suffix(".parquet.partial");
            // A temporary file is private (0600); the finished one is an ordinary output,
            // created as `File::create` creates the JSONL (0666 less the umask).
            #[cfg(unix)]
            temp.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
            let temp = temp
                .tempfile_in(dir)
                .with_context(|| format!("creating a file in {}", dir.display()))?;
            (ParquetOut::File(temp), Some(path.to_path_buf()))
        }
        None => (ParquetOut::Stdout(io::stdout()), None),
    };
    Ok(Output::Parquet(Box::new(ParquetSink {
        writer: ParquetWriter::new(out, shape, rows)?,
        path,
    })))
}

/// A Parquet run's output: its writer, and the path the finished file is renamed to.
#[cfg(feature = "parquet")]
struct ParquetSink {
    writer: crate::emit::parquet::ParquetWriter<ParquetOut>,
    path: Option<PathBuf>,
}

#[cfg(feature = "parquet")]
enum ParquetOut {
    File(tempfile::NamedTempFile),
    Stdout(io::Stdout),
}

#[cfg(feature = "parquet")]
impl Write for ParquetOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            ParquetOut::File(f) => f.write(buf),
            ParquetOut::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            ParquetOut::File(f) => f.flush(),
            ParquetOut::Stdout(s) => s.flush(),
        }
    }
}

/// The writer of a run's records, in either format.
enum Sink {
    Jsonl(RecordWriter<BufWriter<Box<dyn Write>>>, Option<Syncer>),
    #[cfg(feature = "parquet")]
    Parquet(Box<ParquetSink>),
}

impl Sink {
    fn new(out: Output) -> Self {
        match out {
            Output::Jsonl(out, sync) => Sink::Jsonl(RecordWriter::new(BufWriter::new(out)), sync),
            #[cfg(feature = "parquet")]
            Output::Parquet(sink) => Sink::Parquet(sink),
        }
    }

    fn write(&mut self, line: &[u8], is_error: bool) -> Result<()> {
        match self {
            Sink::Jsonl(w, _) => Ok(w.write(line, is_error)?),
            #[cfg(feature = "parquet")]
            Sink::Parquet(p) => p
                .writer
                .write(line, is_error)
                .with_context(|| parquet_failed(&p.path)),
        }
    }

    /// The end of a batch: JSON lines go out now (a pipe stage downstream, or a `tail -f`,
    /// sees records as they are made, and a killed run loses at most the batch in flight,
    /// which --resume redoes); Parquet rows wait for their row group. A file is also synced
    /// to the disk (see [`Syncer`]).
    fn end_batch(&mut self) -> Result<()> {
        match self {
            Sink::Jsonl(w, sync) => {
                w.flush()?;
                if let Some(sync) = sync
                    && sync.last.elapsed() >= SYNC_EVERY
                {
                    sync.sync()?;
                }
                Ok(())
            }
            #[cfg(feature = "parquet")]
            Sink::Parquet(_) => Ok(()),
        }
    }

    /// (records written, of which errors)
    fn counts(&self) -> (usize, usize) {
        match self {
            Sink::Jsonl(w, _) => (w.written, w.failed),
            #[cfg(feature = "parquet")]
            Sink::Parquet(p) => (p.writer.written, p.writer.failed),
        }
    }

    /// Flushes JSON lines; writes Parquet's last row group and footer and renames the file
    /// into place.
    fn finish(self) -> Result<()> {
        match self {
            Sink::Jsonl(mut w, sync) => {
                w.flush()?;
                if let Some(mut sync) = sync {
                    sync.sync()?;
                }
                Ok(())
            }
            #[cfg(feature = "parquet")]
            Sink::Parquet(sink) => {
                let ParquetSink { writer, path } = *sink;
                let out = writer.finish().with_context(|| parquet_failed(&path))?;
                if let (ParquetOut::File(temp), Some(path)) = (out, &path) {
                    // On the disk before it takes the name: a power cut never leaves a
                    // named file without its footer.
                    temp.as_file()
                        .sync_all()
                        .context("syncing the Parquet file to disk")?;
                    temp.persist(path).with_context(|| {
                        format!("renaming the Parquet file to {}", path.display())
                    })?;
                }
                Ok(())
            }
        }
    }
}

/// How often a JSONL output file is pushed to the disk, at most.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// Pushes a JSONL output file to the disk (`fdatasync`) at the end of a batch when a second has
/// passed since the last time, and at the end of the run: a power cut then loses at most the
/// last second's records, and the damage it may leave past the last sync (zero bytes where the
/// file grew) is at the end of the file, where `--resume` cuts it off. Once a second, not once
/// a batch: `segment` makes a batch in a millisecond, and a sync can take longer than that.
struct Syncer {
    file: File,
    last: Instant,
}

impl Syncer {
    fn sync(&mut self) -> Result<()> {
        self.file
            .sync_data()
            .context("syncing the output file to disk")?;
        self.last = Instant::now();
        Ok(())
    }
}

/// What a failed Parquet write leaves behind.
#[cfg(feature = "parquet")]
fn parquet_failed(path: &Option<PathBuf>) -> String {
    match path {
        Some(path) => format!(
            "writing Parquet for {} (not written: it would have no footer)",
            path.display()
        ),
        None => "writing Parquet to stdout (what was written has no footer: unreadable)".into(),
    }
}

/// Writes the records of each batch in input order, flushing after each, with the progress
/// bar and per-article error messages on stderr; returns the exit status.
fn write_records(
    args: &InputArgs,
    out: Output,
    shape: Shape,
    models: &std::collections::BTreeMap<&'static str, String>,
    batches: impl Iterator<Item = Vec<Outcome>>,
) -> Result<i32> {
    let mut sink = Sink::new(out);
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
fn broken_pipe_or(e: anyhow::Error) -> Result<i32> {
    match e.downcast_ref::<io::Error>() {
        Some(io) if io.kind() == io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Some(_) => Err(e).context("writing records"),
        None => Err(e),
    }
}

/// Lists, fetches, verifies or locates models in the store.
fn models(command: ModelsCommand) -> Result<i32> {
    let store = Store::from_env()?;
    let pick = |names: &[String]| -> Result<Vec<&'static store::ModelSpec>> {
        if names.is_empty() {
            return Ok(store::DEFAULTS.to_vec());
        }
        names
            .iter()
            .map(|n| {
                store::spec(n)
                    .with_context(|| format!("unknown model '{n}' (see: newstag models list)"))
            })
            .collect()
    };
    match command {
        ModelsCommand::List => {
            let mut out = io::stdout().lock();
            for spec in store::CATALOG {
                let state = if store.is_present(spec) {
                    "present"
                } else {
                    "missing"
                };
                let source: Vec<String> = spec
                    .files
                    .iter()
                    .map(|f| format!("{}=={}", f.package.name, f.package.version))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                writeln!(
                    out,
                    "{:<24} {:<8} {:<21} {}  [{}]",
                    spec.name,
                    state,
                    spec.licence,
                    spec.description,
                    source.join(", ")
                )?;
            }
        }
        ModelsCommand::Fetch { names } => {
            for spec in pick(&names)? {
                std::fs::create_dir_all(store.root())?;
                let dir = store.fetch(spec, &mut |m| eprintln!("newstag: {m}"))?;
                println!("{}", dir.display());
            }
        }
        ModelsCommand::Verify { names } => {
            for spec in pick(&names)? {
                store.require(spec)?;
                store.verify(spec)?;
                println!("{}: ok", spec.name);
            }
        }
        ModelsCommand::Path { name } => match name {
            None => println!("{}", store.root().display()),
            Some(n) => match store::spec(&n) {
                Some(spec) => println!("{}", store.model_dir(spec).display()),
                None => bail!("unknown model '{n}' (see: newstag models list)"),
            },
        },
    }
    Ok(EXIT_OK)
}
