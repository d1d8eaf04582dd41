//! `newstag serve`: the annotator as an HTTP service for editors' tools and CMSs.
//!
//! The models load once (`Pipeline::load`, before the port is bound, so a server that answers
//! is a server that is ready); one batcher thread owns the pipeline work and gathers articles
//! from concurrent requests into shared model passes ([`batch`]); the routes, request parsing
//! and error bodies are in [`api`], Prometheus metrics in [`metrics`], the OpenAPI document in
//! [`openapi`], and the editor's page, compiled into the binary, in [`page`].
//!
//! Everything here is behind the `serve` cargo feature: the library core never compiles the
//! async stack.

mod api;
mod batch;
mod metrics;
mod openapi;
mod page;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::config::Config;
use crate::pipeline::Pipeline;
use crate::store::Store;

/// The error kinds the OpenAPI document declares for error bodies (for the HTTP fuzz target).
#[doc(hidden)]
pub use openapi::error_kinds;

/// The environment variable that holds the bearer token when `--token-file` is not given.
pub const TOKEN_ENV: &str = "NEWSTAG_TOKEN";

/// How the server listens, whom it answers and how much it takes on: the `serve` command's
/// own flags (the model flags are `annotate`'s).
#[derive(clap::Args, Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on; loopback by default (put a reverse proxy in front for anything
    /// else). Port 0 takes any free port; the bound address is printed on stderr.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Require `Authorization: Bearer TOKEN` (TOKEN: the file's content, trimmed) on every
    /// route but /healthz, /readyz and the page's static files. Without it, the
    /// NEWSTAG_TOKEN environment variable, when set, is the token.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Allow cross-origin requests from this origin (e.g. https://cms.example.org); none
    /// without it.
    #[arg(long, value_name = "ORIGIN")]
    pub cors_origin: Option<String>,
    /// Largest request body in bytes (413 above it).
    #[arg(long, value_name = "N", default_value_t = 16 << 20)]
    pub max_body_bytes: usize,
    /// Most articles in one request (413 above it).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_articles: usize,
    /// Most articles waiting for the annotator, all requests together; a request that does
    /// not fit gets 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub queue: usize,
    /// A request not answered within this many milliseconds gets 504; its articles are
    /// dropped if the annotator has not started on them.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub deadline_ms: u64,
    /// How long the annotator waits for more requests to share a batch with the first one.
    #[arg(long, value_name = "MS", default_value_t = 5)]
    pub batch_wait_ms: u64,
}

impl ServeOptions {
    /// Checks what can be checked before the models load, so a typo fails in milliseconds.
    pub fn check(&self) -> Result<()> {
        if self.batch_wait_ms > 60_000 {
            bail!("--batch-wait-ms must be at most 60000");
        }
        if let Some(origin) = &self.cors_origin
            && (!origin.contains("://") || axum::http::HeaderValue::from_str(origin).is_err())
        {
            bail!("--cors-origin must be an origin, e.g. https://cms.example.org (got {origin:?})");
        }
        token(self)?;
        Ok(())
    }
}

/// What the handlers share: the batcher, the metrics, the limits, and the documents computed
/// once at start (topics, models, OpenAPI).
pub(crate) struct AppState {
    batcher: batch::Batcher,
    metrics: metrics::Metrics,
    options: ServeOptions,
    /// sha256 of the token, compared in constant time; `None`: no authentication.
    token: Option<[u8; 32]>,
    read_options: crate::ingest::ReadOptions,
    topics_json: String,
    models_json: String,
    openapi_json: String,
}

/// Serves `pipeline` until SIGTERM or SIGINT, then finishes the requests in flight and returns.
pub fn run(
    options: ServeOptions,
    config: &Config,
    pipeline: Pipeline,
    store: &Store,
) -> Result<()> {
    let state = state(options, config, pipeline, store)?;
    // The HTTP side only parses, waits and writes; the model work runs on the batcher thread
    // and the pipeline's own pool, so two I/O workers are plenty and leave the cores to it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(serve(state.clone()));
    // Every request has been answered (graceful shutdown waits for them); the batcher has
    // nothing left to do, and stops.
    drop(runtime);
    state.batcher.close();
    served
}

/// The routes over `pipeline`, without a listener or signal handling: for the HTTP fuzz target
/// (`tests/fuzz`), which serves them on its own connections. Not part of the API.
#[doc(hidden)]
pub fn router(
    options: ServeOptions,
    config: &Config,
    pipeline: Pipeline,
    store: &Store,
) -> Result<axum::Router> {
    Ok(api::router(state(options, config, pipeline, store)?))
}

/// What the handlers share, with the batcher started.
fn state(
    options: ServeOptions,
    config: &Config,
    pipeline: Pipeline,
    store: &Store,
) -> Result<Arc<AppState>> {
    options.check()?;
    let token = token(&options)?;
    let metrics = metrics::Metrics::new();
    // `GET /v1/topics`: what the loaded classifier reports, serialized once.
    let catalog = pipeline
        .topic_catalog()
        .context("the server needs a pipeline with a topic stage")?;
    let topics_json = serde_json::to_string(&catalog)?;
    let models_json = api::models_document(config, &pipeline, store).to_string();
    let batcher = batch::Batcher::start(
        Arc::new(pipeline),
        batch::Settings {
            batch_size: config.batch_size,
            wait: Duration::from_millis(options.batch_wait_ms),
            capacity: options.queue.max(1),
        },
        metrics.clone(),
    )?;
    Ok(Arc::new(AppState {
        batcher,
        metrics,
        token,
        read_options: config.read_options(),
        topics_json,
        models_json,
        openapi_json: openapi::document(token.is_some()).to_string(),
        options,
    }))
}

async fn serve(state: Arc<AppState>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(state.options.addr)
        .await
        .with_context(|| format!("binding {}", state.options.addr))?;
    let addr = listener.local_addr()?;
    // Tests and scripts read the real port (with --addr HOST:0) from this line.
    eprintln!("listening on http://{addr}");
    let app = api::router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")?;
    eprintln!("newstag: stopped; every request in flight was answered");
    Ok(())
}

/// SIGTERM (a service manager, a container stop) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    eprintln!("newstag: shutting down: finishing the requests in flight");
}

/// The bearer token's digest, from `--token-file` or the environment.
fn token(options: &ServeOptions) -> Result<Option<[u8; 32]>> {
    let token = match &options.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the token file {}", path.display()))?;
            Some(text.trim().to_string())
        }
        None => std::env::var(TOKEN_ENV).ok().map(|t| t.trim().to_string()),
    };
    match token {
        Some(t) if t.is_empty() => bail!("the bearer token is empty"),
        Some(t) => Ok(Some(api::digest(t.as_bytes()))),
        None => Ok(None),
    }
}
