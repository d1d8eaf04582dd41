//! Routes, request parsing, and the JSON error bodies.
//!
//! Request bodies are parsed here, on the I/O threads, with the library's reader
//! ([`crate::ingest::parse_json`], [`crate::ingest::input_from_value`]), so an article reads
//! the same over HTTP as in a JSONL file; the batcher gets articles (or their error records)
//! ready to run.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use strum::{IntoStaticStr, VariantArray};
use tokio::sync::oneshot;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::AppState;
use super::batch::{Job, Rejected, Rendered};
use super::page;
use crate::article::{DocError, DocErrorKind, Input};
use crate::config::Config;
use crate::emit::DEFAULT_TOP_TAGS;
use crate::emit::Shape;
use crate::ingest::{ReadOptions, input_from_value, parse_json};
use crate::pipeline::Pipeline;
use crate::store::{self, Store};

/// Routes open without a token: the health checks (for a load balancer or orchestrator), and
/// the page's compiled-in files, which hold no data and which a browser loads without being
/// able to add a header; the page's own API calls carry the token.
const OPEN_ROUTES: &[&str] = &["/healthz", "/readyz", "/", "/app.js", "/style.css"];

pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/v1/annotate", post(annotate))
        .route("/v1/tags", post(tags))
        .route("/v1/topics", get(topics))
        .route("/v1/models", get(models))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        .route("/", get(page::index))
        .route("/app.js", get(page::app_js))
        .route("/style.css", get(page::style_css))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.options.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate));
    // The origin was checked at start-up (`super::run`).
    if let Some(origin) = &state.options.cors_origin
        && let Ok(origin) = HeaderValue::from_str(origin.trim_end_matches('/'))
    {
        // Outside authentication: a browser's preflight carries no token, and is answered
        // here for the one allowed origin.
        router = router.layer(cors(origin));
    }
    router
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

fn cors(origin: HeaderValue) -> CorsLayer {
    // A list, not `exact`: the header is sent only to that origin, not to every caller.
    CorsLayer::new()
        .allow_origin(AllowOrigin::list([origin]))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([CONTENT_TYPE, AUTHORIZATION])
}

/// An error answer: `{"error": {"kind", "message"}}` with its status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    /// The article's id, when one article object failed before the pipeline (its error record,
    /// as a record that failed in the pipeline carries it).
    id: Option<String>,
    kind: ApiKind,
    message: String,
}

/// What an error body's `kind` says: the record error kind of the article that failed, or
/// one of the API's own refusals (before or around any article).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiKind {
    Record(DocErrorKind),
    Refused(Refusal),
}

/// The API's own kinds, in the order the OpenAPI document lists them after the record's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub(crate) enum Refusal {
    MalformedQuery,
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    Overloaded,
    ShuttingDown,
    DeadlineExceeded,
    Internal,
}

impl ApiKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ApiKind::Record(kind) => kind.as_str(),
            ApiKind::Refused(refusal) => refusal.into(),
        }
    }
}

impl From<DocErrorKind> for ApiKind {
    fn from(kind: DocErrorKind) -> Self {
        ApiKind::Record(kind)
    }
}

impl From<Refusal> for ApiKind {
    fn from(refusal: Refusal) -> Self {
        ApiKind::Refused(refusal)
    }
}

impl ApiError {
    fn new(status: StatusCode, kind: impl Into<ApiKind>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            id: None,
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = json!({"kind": self.kind.as_str(), "message": self.message});
        let body = match self.id {
            Some(id) => json!({"id": id, "error": error}),
            None => json!({"error": error}),
        }
        .to_string();
        let mut response = (self.status, [(CONTENT_TYPE, JSON)], body).into_response();
        let headers = response.headers_mut();
        match self.status {
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
            }
            StatusCode::UNAUTHORIZED => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

const JSON: &str = "application/json";
const NDJSON: &str = "application/x-ndjson";

/// The status a lone article's error record is answered with.
fn status_of(kind: DocErrorKind) -> StatusCode {
    match kind {
        DocErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        DocErrorKind::Model | DocErrorKind::Io => StatusCode::INTERNAL_SERVER_ERROR,
        // Well-formed, but not in a language the models read.
        DocErrorKind::Language => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// How the articles came, which decides how the records go back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One article object: its record, as an object.
    One,
    /// A JSON array: an array of records.
    Array,
    /// JSON Lines: JSON Lines, one record per article line.
    Lines,
}

/// One article as the OpenAPI document's `Article` schema allows it: the library's reader
/// ([`input_from_value`]) keeps a wrong-typed `id` as its JSON text and a wrong-typed `title`
/// under `meta`, which suits a JSONL file nobody can fix mid-run, but the server publishes a
/// contract, and a client that sends `"id": true` should hear that it broke it, not get a record
/// with `"id": "true"`.
fn read_article(value: Value, default_id: String, opts: ReadOptions) -> Input {
    if let Value::Object(obj) = &value {
        let id = match obj.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Null) | None => default_id.clone(),
            Some(_) => {
                return Input::Failed {
                    id: default_id,
                    error: DocError::new(
                        DocErrorKind::MalformedJson,
                        "\"id\" must be a string, a number or null",
                    ),
                };
            }
        };
        if obj
            .get("title")
            .is_some_and(|t| !t.is_string() && !t.is_null())
        {
            return Input::Failed {
                id,
                error: DocError::new(
                    DocErrorKind::MalformedJson,
                    "\"title\" must be a string or null",
                ),
            };
        }
    }
    input_from_value(value, default_id, opts)
}

/// One article from one JSON document's bytes (the body, or a line of it), by the library's
/// reader's rules; `not_what` is the message's name for a document that is not JSON.
fn read_article_bytes(
    bytes: &[u8],
    default_id: String,
    opts: ReadOptions,
    not_what: &str,
) -> Input {
    match parse_json(bytes, not_what) {
        Ok(value) => read_article(value, default_id, opts),
        Err(error) => Input::Failed {
            id: default_id,
            error,
        },
    }
}

/// Reads the body into articles (or, per article, the error record that replaces it).
fn parse_body(
    bytes: &[u8],
    headers: &HeaderMap,
    state: &AppState,
) -> Result<(Layout, Vec<Input>), ApiError> {
    let opts = state.read_options;
    let max = state.options.max_articles;
    let too_many = |n: usize| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            DocErrorKind::TooLarge,
            format!("{n} articles in one request; at most {max} (--max-articles)"),
        )
    };
    let jsonl = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/x-ndjson" || v == "application/jsonl");
    if jsonl {
        // Ids default to line numbers, as a JSONL file's do (without the file name).
        let lines: Vec<(usize, &[u8])> = bytes
            .split(|&b| b == b'\n')
            .enumerate()
            .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
            .collect();
        if lines.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                DocErrorKind::Empty,
                "the body has no article lines",
            ));
        }
        if lines.len() > max {
            return Err(too_many(lines.len()));
        }
        let inputs = lines
            .into_iter()
            .map(|(i, line)| {
                read_article_bytes(line, (i + 1).to_string(), opts, "line is not a JSON object")
            })
            .collect();
        return Ok((Layout::Lines, inputs));
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            DocErrorKind::Empty,
            "the body is empty: send an article object, an array of them, or JSON Lines",
        )),
        Some(b'{') => {
            match read_article_bytes(bytes, "1".into(), opts, "body is not a JSON object") {
                Input::Failed { id, error } => Err(ApiError {
                    id: Some(id),
                    ..ApiError::new(status_of(error.kind), error.kind, error.message)
                }),
                article => Ok((Layout::One, vec![article])),
            }
        }
        Some(b'[') => {
            let values: Vec<Value> =
                parse_json(bytes, "body is not a JSON array").map_err(|error| {
                    ApiError::new(StatusCode::BAD_REQUEST, error.kind, error.message)
                })?;
            if values.len() > max {
                return Err(too_many(values.len()));
            }
            // Each element is read exactly as a JSONL line would be, so a bad element gets
            // its own error record (in its place) and the others still run.
            let inputs = values
                .into_iter()
                .enumerate()
                .map(|(i, value)| read_article(value, (i + 1).to_string(), opts))
                .collect();
            Ok((Layout::Array, inputs))
        }
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            DocErrorKind::MalformedJson,
            "the body must be an article object ({\"text\": ...}), an array of them, or JSON \
             Lines (Content-Type: application/x-ndjson)",
        )),
    }
}

fn body_error(rejection: BytesRejection, max: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            DocErrorKind::TooLarge,
            format!("the body is over {max} bytes (--max-body-bytes)"),
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            DocErrorKind::Io,
            format!("reading the body: {}", rejection.body_text()),
        )
    }
}

/// `POST /v1/annotate`: records as `newstag annotate` prints them.
async fn annotate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    run(state, headers, body, Shape::Annotate).await
}

/// `POST /v1/tags[?top=N]`: `{"id", "tags"}` as `newstag tags --json` prints them.
async fn tags(
    State(state): State<Arc<AppState>>,
    query: Result<Query<TagsQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // The one way the query can fail (a bad or repeated `top`) has one message, in the API's
    // error shape rather than axum's plain-text rejection.
    let Query(query) = query.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Refusal::MalformedQuery,
            "top must be a non-negative integer (decimal digits), given once",
        )
    })?;
    let top = query.top.unwrap_or(DEFAULT_TOP_TAGS);
    run(state, headers, body, Shape::Tags { top, json: true }).await
}

/// `/v1/tags`'s query string; other parameters are ignored.
#[derive(Debug, Deserialize)]
struct TagsQuery {
    #[serde(default, deserialize_with = "top")]
    top: Option<usize>,
}

fn top<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    let value = String::deserialize(deserializer)?;
    parse_top(&value)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("not decimal digits"))
}

/// `?top=`: decimal digits only (no sign, which `usize::from_str` would take and the document's
/// `integer, minimum 0` does not promise); a number past `usize` asks for more tags than any
/// article has, so it means every tag rather than an error for a valid integer.
fn parse_top(value: &str) -> Option<usize> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(value.parse().unwrap_or(usize::MAX))
}

/// Parses, queues, waits for the batcher (within the deadline) and answers.
async fn run(
    state: Arc<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    shape: Shape,
) -> Result<Response, ApiError> {
    let started = tokio::time::Instant::now();
    let bytes = body.map_err(|r| body_error(r, state.options.max_body_bytes))?;
    let (layout, inputs) = parse_body(&bytes, &headers, &state)?;
    drop(bytes);
    if inputs.is_empty() {
        // `[]`: nothing to annotate, nothing to queue.
        return Ok(respond(layout, Vec::new()));
    }
    let (reply, answer) = oneshot::channel();
    state
        .batcher
        .submit(Job {
            inputs,
            shape,
            reply,
        })
        .map_err(|rejected| match rejected {
            Rejected::Full => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Refusal::Overloaded,
                "the queue is full (--queue); retry shortly",
            ),
            Rejected::Closed => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Refusal::ShuttingDown,
                "the server is shutting down",
            ),
        })?;
    let deadline = started + std::time::Duration::from_millis(state.options.deadline_ms);
    // On timeout `answer` is dropped, which tells the batcher to skip the job if it has not
    // started on it.
    let records = match tokio::time::timeout_at(deadline, answer).await {
        Ok(Ok(Ok(records))) => records,
        Ok(Ok(Err(failure))) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                Refusal::Internal,
                failure.0,
            ));
        }
        Ok(Err(_)) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                Refusal::Internal,
                "the annotator stopped before answering",
            ));
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                Refusal::DeadlineExceeded,
                format!(
                    "not answered within {} ms (--deadline-ms)",
                    state.options.deadline_ms
                ),
            ));
        }
    };
    Ok(respond(layout, records))
}

fn respond(layout: Layout, records: Vec<Rendered>) -> Response {
    match layout {
        Layout::One => {
            let Some(record) = records.into_iter().next() else {
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Refusal::Internal,
                    "no record came back",
                )
                .into_response();
            };
            // A lone article that fails is the request's failure: its error record (which
            // has the `{"error": {"kind", "message"}}` shape, plus its id) with a 4xx/5xx.
            let status = record.error.map_or(StatusCode::OK, status_of);
            (status, [(CONTENT_TYPE, JSON)], record.json).into_response()
        }
        Layout::Array => {
            let len = records.iter().map(|r| r.json.len() + 1).sum::<usize>() + 2;
            let mut body = Vec::with_capacity(len);
            body.push(b'[');
            for (i, record) in records.into_iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(&record.json);
            }
            body.push(b']');
            ([(CONTENT_TYPE, JSON)], body).into_response()
        }
        Layout::Lines => {
            let mut body = Vec::new();
            for record in records {
                body.extend_from_slice(&record.json);
                body.push(b'\n');
            }
            ([(CONTENT_TYPE, NDJSON)], body).into_response()
        }
    }
}

fn json_document(text: &str) -> Response {
    ([(CONTENT_TYPE, JSON)], text.to_string()).into_response()
}

async fn topics(State(state): State<Arc<AppState>>) -> Response {
    json_document(&state.topics_json)
}

async fn models(State(state): State<Arc<AppState>>) -> Response {
    json_document(&state.models_json)
}

async fn openapi_json(State(state): State<Arc<AppState>>) -> Response {
    json_document(&state.openapi_json)
}

async fn healthz() -> Response {
    json_document(r#"{"status":"ok"}"#)
}

/// Models are loaded before the port is bound, so a server that answers is ready.
async fn readyz() -> Response {
    json_document(r#"{"status":"ready"}"#)
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        Refusal::NotFound,
        "no such route (see /openapi.json)",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        Refusal::MethodNotAllowed,
        "this route does not take that method (see /openapi.json)",
    )
}

/// sha256 of a token: compared digest against digest, so the comparison's time says nothing
/// about the token (not even its length).
pub fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    // Constant time: every byte is looked at whatever the first difference.
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Requires the bearer token, when one is configured, on every route but the open ones.
async fn authenticate(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = &state.token else {
        return next.run(request).await;
    };
    if OPEN_ROUTES.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
    match given {
        Some(token) if same_digest(&digest(token.trim_ascii()), expected) => {
            next.run(request).await
        }
        Some(_) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            Refusal::Unauthorized,
            "wrong bearer token",
        )
        .into_response(),
        None => ApiError::new(
            StatusCode::UNAUTHORIZED,
            Refusal::Unauthorized,
            "this server needs Authorization: Bearer TOKEN",
        )
        .into_response(),
    }
}

/// Counts every request (whatever answered it: a route, a fallback, authentication, CORS) by
/// route and status, and times it.
async fn count(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // The router's own pattern (this layer runs inside it, per route); a path no route
    // matched is `other`, so a client probing random paths cannot grow the metrics without
    // bound.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "other",
    };
    let response = next.run(request).await;
    state
        .metrics
        .request(route, method, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /v1/models`: which model produced which layer, and the store's models this server
/// has, with their packages, versions and sha256.
pub fn models_document(config: &Config, pipeline: &Pipeline, store: &Store) -> Value {
    let stored: Vec<Value> = store::CATALOG
        .iter()
        .filter(|spec| store.is_present(spec))
        .map(|spec| {
            let files: Vec<Value> = spec
                .files
                .iter()
                .map(|f| {
                    json!({
                        "name": f.name,
                        "sha256": f.sha256,
                        "package": f.package.name,
                        "version": f.package.version,
                    })
                })
                .collect();
            json!({
                "name": spec.name,
                "description": spec.description,
                "licence": spec.licence,
                "files": files,
            })
        })
        .collect();
    json!({
        "newstag": env!("CARGO_PKG_VERSION"),
        "profile": config.profile,
        "models": pipeline.models(),
        "store": stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_is_decimal_digits_and_too_large_means_every_tag() {
        assert_eq!(parse_top("0"), Some(0));
        assert_eq!(parse_top("007"), Some(7));
        assert_eq!(parse_top("99999999999999999999999999"), Some(usize::MAX));
        for bad in ["", "+5", "-1", "1.0", "1e3", " 5", "five"] {
            assert_eq!(parse_top(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_query_takes_one_top_and_ignores_the_rest() {
        let top = |query: &str| {
            let uri: axum::http::Uri = format!("/v1/tags{query}").parse().unwrap();
            Query::<TagsQuery>::try_from_uri(&uri).map(|Query(q)| q.top)
        };
        assert_eq!(top("").unwrap(), None);
        assert_eq!(top("?x=1").unwrap(), None);
        assert_eq!(top("?top=5&x=y").unwrap(), Some(5));
        // Percent-decoded first: `%2B5` is `+5`, still not digits.
        for bad in ["?top=", "?top", "?top=%2B5", "?top=-1", "?top=1&top=2"] {
            assert!(top(bad).is_err(), "{bad}");
        }
    }
}
