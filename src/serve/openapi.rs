//! `GET /openapi.json`: an OpenAPI 3.1 description of every route. The record schemas are the
//! published `schema/record.schema.json`, compiled in, so the document and the CLI's contract
//! cannot drift apart; `tests/integration/serve_api.rs` validates real responses against this document, and
//! `scripts/ci/test_openapi` runs an OpenAPI-driven fuzzer (schemathesis) against a real server
//! with and without a token.
//!
//! The document describes the server that serves it: security and the 401 answers appear only
//! when a token is configured, because a client generated from the document of a server without
//! one would otherwise send (or be asked for) a header the server never reads.

use serde_json::{Map, Value, json};

use strum::VariantArray;

use super::api::{ApiKind, Refusal};
use crate::article::DocErrorKind;

const RECORD_SCHEMA: &str = include_str!("../../schema/record.schema.json");

/// Every error kind an API error body can carry: the record error kinds, then the API's own
/// (each named once, by the variant's name, through [`ApiKind::as_str`]).
pub fn error_kinds() -> Vec<&'static str> {
    let records = DocErrorKind::VARIANTS.iter().copied().map(ApiKind::from);
    let own = Refusal::VARIANTS.iter().copied().map(ApiKind::from);
    records.chain(own).map(ApiKind::as_str).collect()
}

/// The record schema's definitions as OpenAPI components: `$defs/X` becomes
/// `components/schemas/X` (references rewritten), and the record itself `Record`.
fn record_components() -> Map<String, Value> {
    let mut schema: Value =
        serde_json::from_str(RECORD_SCHEMA).expect("schema/record.schema.json is valid JSON");
    rewrite_refs(&mut schema);
    let mut components = Map::new();
    if let Some(Value::Object(defs)) = schema.as_object_mut().and_then(|o| o.remove("$defs")) {
        components.extend(defs);
    }
    if let Some(root) = schema.as_object_mut() {
        root.remove("$schema");
        root.remove("$id");
    }
    components.insert("Record".into(), schema);
    components
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "$ref"
                    && let Value::String(s) = v
                    && let Some(name) = s.strip_prefix("#/$defs/")
                {
                    *s = format!("#/components/schemas/{name}");
                } else {
                    rewrite_refs(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema_ref("ApiError")}}
    })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// Characters the server counts as blank in a text (Rust's `char::is_whitespace`, the Unicode
/// White_Space property), spelled out: JSON Schema's `\s` is ECMA-262's set, which differs
/// (it has U+FEFF, lacks U+0085), so `\S` would let a client send a text the server rejects.
const BLANK: &str =
    "\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/// `pattern` for a string with at least one non-blank character (JSON Schema patterns are not
/// anchored: one such character anywhere matches).
pub fn non_blank_pattern() -> String {
    format!("[^{BLANK}]")
}

/// The responses every authenticated route can give besides its own (when a token is set).
fn common_errors(responses: &mut Map<String, Value>, auth: bool) {
    if !auth {
        return;
    }
    responses.insert(
        "401".into(),
        error_response(
            "A token is configured and the request has no valid Authorization: Bearer header.",
        ),
    );
}

fn articles_operation(summary: &str, description: &str, record: &str, auth: bool) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": "One record for one article object; an array of records, in input order, for an array (a bad element gets its error record in its place); JSON Lines for JSON Lines.",
            "content": {
                "application/json": {"schema": {"oneOf": [
                    schema_ref(record),
                    {"type": "array", "items": schema_ref(record)}
                ]}},
                "application/x-ndjson": {"schema": {"type": "string", "description": format!("One {record} per line, in input order.")}}
            }
        }),
    );
    responses.insert("400".into(), error_response("The request is not what the schema above allows, or the query is malformed. kind: malformed_json (not JSON; not an article object, an array or JSON Lines; an id or title of the wrong type), missing_text (no text, or text not a string), empty (a blank text, or a body with no article), invalid_utf8, malformed_query (top not a non-negative integer, or given twice). For one article object the body is its error record (with its id); in an array or JSON Lines a bad article gets its error record in its place and the request is answered 200."));
    responses.insert("422".into(), error_response("One article object in a language the models do not read (annotate and tags; the models read English): a text more than half of whose letters are in other scripts than Latin, or a language field other than English over a text of 200 letters or more that reads as another language. kind: language. In an array or JSON Lines the article gets its error record in its place and the request is answered 200."));
    responses.insert("413".into(), error_response("The body is over --max-body-bytes, the request has more than --max-articles articles, or (one article object) its text is over --max-article-bytes: kind too_large."));
    responses.insert(
        "500".into(),
        error_response("The annotator failed (kind model or internal)."),
    );
    responses.insert("503".into(), json!({
        "description": "The queue is full (--queue): retry after the Retry-After header's seconds (kind overloaded); or the server is shutting down.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": schema_ref("ApiError")}}
    }));
    responses.insert(
        "504".into(),
        error_response("Not answered within --deadline-ms (kind deadline_exceeded)."),
    );
    common_errors(&mut responses, auth);
    json!({
        "summary": summary,
        "description": description,
        "requestBody": {
            "required": true,
            "content": {
                "application/json": {"schema": {"oneOf": [
                    schema_ref("Article"),
                    {"type": "array", "items": {}, "description": "Articles; each element is read on its own, a bad one gives its error record."}
                ]}},
                "application/x-ndjson": {"schema": {"type": "string", "pattern": "[^\\t\\n\\f\\r ]", "description": "JSON Lines: one article object per line (also accepted as application/jsonl); blank lines are skipped, and a body with none but blank lines is answered 400 (kind empty). A line without id gets its line number; a bad line gets its error record in its place."}}
            }
        },
        "responses": responses,
    })
}

/// A GET route; `open`: answered without a token even when one is configured.
fn get_operation(summary: &str, ok: Value, open: bool, auth: bool) -> Value {
    let mut responses = Map::new();
    responses.insert("200".into(), ok);
    common_errors(&mut responses, auth && !open);
    let mut operation = json!({"summary": summary, "responses": responses});
    if auth && open {
        operation["security"] = json!([]);
    }
    operation
}

fn text_response(description: &str, media: &str) -> Value {
    json!({"description": description, "content": {media: {"schema": {"type": "string"}}}})
}

/// The whole document, for a server with (`auth`) or without a bearer token.
pub fn document(auth: bool) -> Value {
    let schemas = schemas();
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "newstag",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Who and what is in a news article: sentences, entities, topics and tag suggestions, as the records `newstag annotate` prints. Requests from concurrent clients share model passes."
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths(auth),
        "components": {"schemas": schemas}
    });
    if auth {
        document["security"] = json!([{"bearer": []}]);
        document["components"]["securitySchemes"] = json!({"bearer": {"type": "http", "scheme": "bearer", "description": "This server runs with --token-file or NEWSTAG_TOKEN: every route but the health checks and the page's files needs Authorization: Bearer TOKEN."}});
    }
    document
}

/// The record schema's components, and the API's own request and answer bodies.
fn schemas() -> Map<String, Value> {
    let mut schemas = record_components();
    schemas.insert("Article".into(), article_schema());
    schemas.insert("TagsRecord".into(), tags_record_schema());
    schemas.insert("ApiError".into(), api_error_schema());
    schemas.insert("Topics".into(), topics_schema());
    schemas.insert("Models".into(), models_schema());
    schemas.insert("Status".into(), status_schema());
    schemas
}

/// The routes, each with its operations.
fn paths(auth: bool) -> Value {
    let mut tags = articles_operation(
        "Suggest tags",
        "The same input as /v1/annotate; {\"id\", \"tags\"} per article as `newstag tags --json` prints them, honouring the vocabulary.",
        "TagsRecord",
        auth,
    );
    tags["parameters"] = json!([{"name": "top", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "default": crate::emit::DEFAULT_TOP_TAGS}, "description": "Most tags per article: decimal digits; a number too large to count is every tag. Anything else is answered 400 (kind malformed_query)."}]);
    json!({
        "/v1/annotate": {"post": articles_operation(
            "Annotate articles",
            "One article object, a JSON array of them, or JSON Lines; records as `newstag annotate` prints them, one per article, in order.",
            "Record",
            auth)},
        "/v1/tags": {"post": tags},
        "/v1/topics": {"get": get_operation("The topics in use", json_response("The topic set, and the IPTC tree when it is reported.", schema_ref("Topics")), false, auth)},
        "/v1/models": {"get": get_operation("The models loaded", json_response("Which model makes which layer; the stored models with versions and sha256.", schema_ref("Models")), false, auth)},
        "/healthz": {"get": get_operation("The process is up", json_response("Always, while the process runs.", schema_ref("Status")), true, auth)},
        "/readyz": {"get": get_operation("The models are loaded", json_response("Models load before the port is bound, so always once it answers.", schema_ref("Status")), true, auth)},
        "/metrics": {"get": get_operation("Prometheus metrics", text_response("OpenMetrics text: requests by route and status, latency histograms, articles annotated, batch sizes, queue depth.", "application/openmetrics-text"), false, auth)},
        "/openapi.json": {"get": get_operation("This document", json_response("OpenAPI 3.1.", json!({"type": "object"})), false, auth)},
        "/": {"get": get_operation("The editor's page", text_response("HTML.", "text/html"), true, auth)},
        "/app.js": {"get": get_operation("The page's script", text_response("JavaScript.", "text/javascript"), true, auth)},
        "/style.css": {"get": get_operation("The page's style sheet", text_response("CSS.", "text/css"), true, auth)}
    })
}

/// An article as a request body holds it.
fn article_schema() -> Value {
    json!({
        "type": "object",
        "required": ["text"],
        "properties": {
            "id": {"type": ["string", "number", "null"], "description": "The record's id (a number as JSON writes it). Absent or null: the article's position, from \"1\"."},
            "title": {"type": ["string", "null"]},
            "text": {"type": "string", "minLength": 1, "pattern": non_blank_pattern(), "description": "The article text, with at least one non-whitespace character; every offset in the record refers to it."}
        },
        "additionalProperties": true,
        "description": "An article. Any other field passes through, unchanged, under the record's meta. An id or title of another type is answered 400 (kind malformed_json), a missing or non-string text 400 (missing_text), a blank text 400 (empty)."
    })
}

/// A record of `/v1/tags`: an article's tags, or its error record.
fn tags_record_schema() -> Value {
    json!({"oneOf": [
        {
            "type": "object",
            "required": ["id", "tags"],
            "properties": {"id": {"type": "string"}, "tags": {"type": "array", "items": schema_ref("tag")}},
            "additionalProperties": false
        },
        schema_ref("error")
    ]})
}

/// An error answer's body.
fn api_error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {
            "id": {"type": "string", "description": "Present when one article object failed: its error record."},
            "error": {
                "type": "object",
                "required": ["kind", "message"],
                "properties": {"kind": {"enum": error_kinds()}, "message": {"type": "string"}},
                "additionalProperties": false
            }
        },
        "additionalProperties": false
    })
}

/// The body of `GET /v1/topics`.
fn topics_schema() -> Value {
    json!({
        "type": "object",
        "required": ["set", "topics"],
        "properties": {
            "set": {"type": "string", "description": "news (the shipped set), labels, or the topic file's path."},
            "iptc": {"type": ["object", "null"], "properties": {"updated": {"type": "string"}}, "description": "The IPTC Media Topics release, when its tree is reported."},
            "threshold": {"type": ["number", "null"], "description": "The threshold given (--threshold); null: the defaults."},
            "depth": {"type": ["integer", "null"], "description": "The depth given for IPTC concepts (--depth); null: the default, or no tree."},
            "topics": {"type": "array", "items": {
                "type": "object",
                "required": ["label", "code", "description", "path", "level", "set"],
                "properties": {
                    "label": {"type": "string"},
                    "code": {"type": ["string", "null"]},
                    "description": {"type": "string"},
                    "path": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "level": {"type": "integer", "minimum": 1},
                    "set": {"type": "string"}
                },
                "additionalProperties": false
            }}
        },
        "additionalProperties": false
    })
}

/// The body of `GET /v1/models`.
fn models_schema() -> Value {
    json!({
        "type": "object",
        "required": ["newstag", "profile", "models", "store"],
        "properties": {
            "newstag": {"type": "string"},
            "profile": {"enum": ["fast", "accurate"]},
            "models": {"type": "object", "additionalProperties": {"type": "string"}, "description": "The model behind each layer, as in each record's models field."},
            "store": {"type": "array", "items": {
                "type": "object",
                "required": ["name", "description", "licence", "files"],
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "licence": {"type": "string"},
                    "files": {"type": "array", "items": {
                        "type": "object",
                        "required": ["name", "sha256", "package", "version"],
                        "properties": {
                            "name": {"type": "string"},
                            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                            "package": {"type": "string"},
                            "version": {"type": "string"}
                        },
                        "additionalProperties": false
                    }}
                },
                "additionalProperties": false
            }}
        },
        "additionalProperties": false
    })
}

/// The body of the health checks.
fn status_schema() -> Value {
    json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}, "additionalProperties": false})
}
