//! One entry point per command: each reads its arguments' meaning, builds what it needs from
//! the library and hands the records to [`super::output`].

use std::io::{self, Write};

use anyhow::{Context, Result, bail};

use super::args::{AnnotateArgs, Command, Format, InputArgs, ModelsCommand, TagsArgs};
use super::output::{Run, output_format, write_records};
use super::{Cli, EXIT_OK, load_pipeline, run_config, usage};
use crate::config::Overrides;
use crate::emit::Shape;
use crate::pipeline::Pipeline;
use crate::store::{self, Store};

/// Runs the command; returns the exit status.
pub(super) fn run(cli: Cli) -> Result<i32> {
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
    annotate_as(&args.input, &args.models, Shape::Annotate)
}

/// What an editor runs: ranked tag suggestions per article, as a table or JSON.
fn tags(args: TagsArgs) -> Result<i32> {
    let shape = Shape::Tags {
        top: args.top,
        json: args.json,
    };
    annotate_as(&args.input, &args.models, shape)
}

/// Annotates the inputs and writes their records in `shape`.
fn annotate_as(input: &InputArgs, models: &super::args::ModelArgs, shape: Shape) -> Result<i32> {
    // The output is checked before any model loads: a refused option costs nothing.
    let format = output_format(input, shape)?;
    let mut given = Overrides::default();
    models.overrides(&mut given);
    input.overrides(&mut given);
    let config = run_config(input.config.as_deref(), given)?;
    let pipeline = load_pipeline(&config, input.quiet)?;
    let run = Run::open(input, &config, format, shape)?;
    let batches = pipeline.annotate_stream(run.inputs, config.batch_size);
    write_records(input, run.sink, shape, &pipeline.models(), batches)
}

/// Loads the models once and serves them over HTTP until SIGTERM or SIGINT.
#[cfg(feature = "serve")]
fn serve(args: super::args::ServeArgs) -> Result<i32> {
    // The same meaning as annotate's flags: the server is one more front end on one Config.
    args.server.check()?;
    let mut given = Overrides::default();
    args.models.overrides(&mut given);
    args.overrides(&mut given);
    let config = run_config(args.config.as_deref(), given)?;
    let pipeline = load_pipeline(&config, args.quiet)?;
    crate::serve::run(args.server, &config, pipeline, &Store::from_env()?)?;
    Ok(EXIT_OK)
}

/// The configuration of a command without models: the `--config` file and the run flags.
fn input_config(args: &InputArgs) -> Result<crate::Config> {
    let mut given = Overrides::default();
    args.overrides(&mut given);
    run_config(args.config.as_deref(), given)
}

/// Prints sentences and boilerplate per article; needs no model. Of a `--config` file it uses
/// what segmenting needs: threads, batch size and the size limit.
fn segment(args: InputArgs) -> Result<i32> {
    let format = output_format(&args, Shape::Segment)?;
    let config = input_config(&args)?;
    let pipeline = Pipeline::segmenter(&config)?;
    let run = Run::open(&args, &config, format, Shape::Segment)?;
    let batches = pipeline.annotate_stream(run.inputs, config.batch_size);
    write_records(
        &args,
        run.sink,
        Shape::Segment,
        &Default::default(),
        batches,
    )
}

/// Prints one record per web page: its extracted text and metadata (`{"id", "url"?, "title"?,
/// "published"?, "author"?, "site"?, "language"?, "text"}`); an input that is not a page gives
/// `{"id", "text"}`. Needs no model; pages are extracted in parallel, a batch at a time.
#[cfg(feature = "html")]
fn extract(args: InputArgs) -> Result<i32> {
    if output_format(&args, Shape::Extract)? == Format::Parquet {
        return Err(usage("extract writes JSONL only"));
    }
    let config = input_config(&args)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.thread_count())
        .build()
        .context("starting the worker threads")?;
    let run = Run::open(&args, &config, Format::Jsonl, Shape::Extract)?;
    let batches = crate::pipeline::Batches::new(run.inputs, config.batch_size, move |batch| {
        use rayon::prelude::*;
        pool.install(|| {
            batch
                .into_par_iter()
                .map(crate::pipeline::extract_only)
                .collect()
        })
    });
    write_records(
        &args,
        run.sink,
        Shape::Extract,
        &Default::default(),
        batches,
    )
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
