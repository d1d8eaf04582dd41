//! What was typed: the command line's arguments (`Cli` and its argument groups), and what
//! each group means for the run's [`Config`]: the flags given, as [`Overrides`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Overrides;
use crate::entities::Precision;
use crate::profile::Profile;

#[derive(Parser)]
#[command(
    name = "newstag",
    version,
    about = "Who and what is in news articles: sentences, topics and entities as JSON Lines or Parquet."
)]
pub struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Subcommand)]
pub(super) enum Command {
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
pub(super) struct InputArgs {
    /// Files (.txt, .md, .jsonl, .ndjson, .html, .htm, .xhtml, .warc, optionally .gz),
    /// directories, or - for stdin.
    pub(super) paths: Vec<String>,
    /// Write records here instead of stdout (Parquet when FILE ends in .parquet).
    #[arg(short, long, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,
    /// Output format [default: parquet for an -o FILE ending in .parquet, else jsonl].
    #[arg(long, value_enum)]
    pub(super) format: Option<Format>,
    /// Parquet: articles per row group (a smaller group holds less in memory, a larger one
    /// compresses and filters better) [default: 1000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) row_group_size: Option<u64>,
    /// No progress bar or messages on stderr.
    #[arg(short, long)]
    pub(super) quiet: bool,
    /// Articles larger than this many bytes get a too_large error record [default: 1048576].
    #[arg(long, value_name = "N")]
    pub(super) max_article_bytes: Option<usize>,
    /// Web pages (HTML files, WARC payloads, JSONL "html") larger than this many bytes get a
    /// too_large error record; --max-article-bytes applies to their extracted text
    /// [default: 8388608].
    #[arg(long, value_name = "N")]
    pub(super) max_page_bytes: Option<usize>,
    /// Articles per batch: model calls are batched across this many articles [default: 64].
    #[arg(long, value_name = "N")]
    pub(super) batch_size: Option<usize>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub(super) threads: Option<usize>,
    /// Skip articles whose id is already in the -o file and append the rest (a killed run
    /// continues without duplicating or losing a record).
    #[arg(long, requires = "output")]
    pub(super) resume: bool,
    /// Read the run's configuration (TOML, or JSON when FILE ends in .json) from FILE; the
    /// flags given beside it win.
    #[arg(long, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
}

/// What the records are written as.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet, one row per article, with the record's nested schema (needs -o FILE,
    /// or a stdout that is not a terminal).
    Parquet,
}

#[derive(Args)]
pub(super) struct AnnotateArgs {
    #[command(flatten)]
    pub(super) input: InputArgs,
    #[command(flatten)]
    pub(super) models: ModelArgs,
}

#[derive(Args)]
pub(super) struct TagsArgs {
    #[command(flatten)]
    pub(super) input: InputArgs,
    #[command(flatten)]
    pub(super) models: ModelArgs,
    /// One JSON object per article ({"id", "tags"}) instead of a table.
    #[arg(long)]
    pub(super) json: bool,
    /// Show at most this many tags per article.
    #[arg(long, default_value_t = crate::emit::DEFAULT_TOP_TAGS)]
    pub(super) top: usize,
}

/// `newstag serve`: the model options of `annotate`, the batching and thread options, and the
/// server's own ([`crate::serve::ServeOptions`]).
#[cfg(feature = "serve")]
#[derive(Args)]
pub(super) struct ServeArgs {
    #[command(flatten)]
    pub(super) models: ModelArgs,
    #[command(flatten)]
    pub(super) server: crate::serve::ServeOptions,
    /// Read the run's configuration (TOML, or JSON when FILE ends in .json) from FILE; the
    /// flags given beside it win.
    #[arg(long, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
    /// Most articles in one model pass, gathered across concurrent requests [default: 64].
    #[arg(long, value_name = "N")]
    pub(super) batch_size: Option<usize>,
    /// Articles larger than this many bytes get a too_large error [default: 1048576].
    #[arg(long, value_name = "N")]
    pub(super) max_article_bytes: Option<usize>,
    /// Worker threads for the pipeline (default: all cores).
    #[arg(long)]
    pub(super) threads: Option<usize>,
    /// No messages on stderr but the `listening on` line and errors.
    #[arg(short, long)]
    pub(super) quiet: bool,
}

/// What the models do: shared by `annotate`, `tags` and `serve`.
#[derive(Args)]
pub(super) struct ModelArgs {
    /// Topic set (TOML) to use instead of the shipped news topics.
    #[arg(long, value_name = "FILE", conflicts_with = "label")]
    pub(super) topics: Option<PathBuf>,
    /// Classify against this ad-hoc label ("This article is about {label}."); repeatable.
    #[arg(long, value_name = "TEXT")]
    pub(super) label: Vec<String>,
    /// Score from which a topic other than the best one is reported, in [0, 1].
    #[arg(long)]
    pub(super) threshold: Option<f32>,
    /// Report IPTC concepts at most this many levels deep (1: top-level topics only).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=6))]
    pub(super) depth: Option<u64>,
    /// Embedding topics read the title and N sentences spread over each article, not all of
    /// them: faster, at a measured cost in recall (docs/topics.md). 0 or unset: every one.
    #[arg(long, value_name = "N")]
    pub(super) topic_sentences: Option<usize>,
    /// Never fetch: a missing model is an error naming the command that fetches it.
    #[arg(long, overrides_with = "no_offline")]
    pub(super) offline: bool,
    /// Fetch missing models even when the --config file says `offline = true`.
    #[arg(long, overrides_with = "offline")]
    pub(super) no_offline: bool,
    /// Model defaults: `fast` (offline: spaCy-port NER, MiniLM topics) or `accurate`
    /// (transformer NER and NLI zero-shot from the Hugging Face Hub).
    /// [default: fast]
    #[arg(long, value_enum)]
    pub(super) profile: Option<Profile>,
    /// Entity recogniser: `sm` (spaCy en_core_web_sm, ported to Rust), `none`, or a token
    /// classifier as a directory or Hub repo (`org/name[@revision]`) with an ONNX model.
    #[arg(long, value_name = "sm|none|DIR|REPO")]
    pub(super) ner: Option<String>,
    /// Topic classifier: `embedding` (MiniLM similarity, fp32), `embedding-int8` (the same
    /// from a 4x smaller int8 export), `embedding-bf16` (the articles in bf16 on OpenVINO
    /// where the processor has bf16 instructions: faster, scores within about 0.15; fp32
    /// elsewhere), or an NLI cross-encoder as a directory or Hub repo (`org/name[@revision]`)
    /// with an ONNX model.
    #[arg(long, value_name = "embedding|embedding-int8|embedding-bf16|DIR|REPO")]
    pub(super) topic_model: Option<String>,
    /// How a transformer NER merges word pieces and B-/I- tags: simple, first, average, max.
    /// [default: simple]
    #[arg(long)]
    pub(super) aggregation: Option<String>,
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
    pub(super) cascade: Option<usize>,
    /// Entity rules (TOML): phrases or regexes that force or relabel entities.
    #[arg(long, value_name = "FILE")]
    pub(super) entity_rules: Option<PathBuf>,
    /// Controlled vocabulary (TOML or CSV): tag suggestions snap to it.
    #[arg(long, value_name = "FILE")]
    pub(super) vocabulary: Option<PathBuf>,
    /// Suggest only tags from the vocabulary.
    #[arg(long, overrides_with = "no_vocabulary_only")]
    pub(super) vocabulary_only: bool,
    /// Suggest tags outside the vocabulary too, even when the --config file says
    /// `vocabulary_only = true`.
    #[arg(long, overrides_with = "vocabulary_only")]
    pub(super) no_vocabulary_only: bool,
}

#[derive(Subcommand)]
pub(super) enum ModelsCommand {
    /// Every model newstag knows, and whether it is in the store.
    List,
    /// Fetch models into the store (all defaults when no name is given).
    Fetch { names: Vec<String> },
    /// Re-check the sha256 of stored models.
    Verify { names: Vec<String> },
    /// Print the store directory, or a model's directory.
    Path { name: Option<String> },
}

impl InputArgs {
    /// The run flags given (threads, batching, the size limits), by `Config`'s field names.
    pub(super) fn overrides(&self, given: &mut Overrides) {
        given
            .set("threads", self.threads)
            .set("batch_size", self.batch_size)
            .set("max_article_bytes", self.max_article_bytes)
            .set("max_page_bytes", self.max_page_bytes);
    }
}

#[cfg(feature = "serve")]
impl ServeArgs {
    /// The run flags `serve` shares with `annotate`.
    pub(super) fn overrides(&self, given: &mut Overrides) {
        given
            .set("threads", self.threads)
            .set("batch_size", self.batch_size)
            .set("max_article_bytes", self.max_article_bytes);
    }
}

impl ModelArgs {
    /// The model flags given, by `Config`'s field names; `Config::with_overrides` parses and
    /// checks them as it does a configuration file's values.
    pub(super) fn overrides(&self, given: &mut Overrides) {
        given
            .set("profile", self.profile)
            .set("ner", self.ner.as_ref())
            .set("topic_model", self.topic_model.as_ref())
            .set_path("topics", self.topics.as_deref())
            .set("labels", (!self.label.is_empty()).then_some(&self.label))
            .set("threshold", self.threshold)
            .set("depth", self.depth)
            .set("topic_sentences", self.topic_sentences)
            .set("aggregation", self.aggregation.as_ref())
            .set(
                "precision",
                switch(self.int8, self.no_int8).map(|int8| {
                    if int8 {
                        Precision::Int8
                    } else {
                        Precision::Fp32
                    }
                }),
            )
            .set("cascade", self.cascade)
            .set_path("entity_rules", self.entity_rules.as_deref())
            .set_path("vocabulary", self.vocabulary.as_deref())
            .set(
                "vocabulary_only",
                switch(self.vocabulary_only, self.no_vocabulary_only),
            )
            .set("offline", switch(self.offline, self.no_offline));
    }
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
