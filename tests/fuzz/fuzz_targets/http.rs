//! Fuzz target: the HTTP server's request parsing, end to end. Raw bytes go down a real TCP
//! connection to `newstag serve` on loopback (hyper's HTTP/1 parser, axum's routing, the
//! bearer-token check, the body limits, the article reader), and every response that comes
//! back is checked: never a 5xx but the deliberate 503/504, an error body that is
//! `{"error": {"kind", "message"}}`, records that are JSON objects with an `id`, no file's
//! content from the server, and a server that still answers afterwards.
//!
//! The first byte picks the server: one with a bearer token (the seeds carry it) and one
//! without. The routes, state and limits are `newstag serve`'s own (`serve::router`); the
//! connections are served by hyper's HTTP/1 as axum's `serve` does, with half-close on (see
//! [`start`]). Both run the segment-only pipeline, so a request costs microseconds rather than
//! a model pass: what is fuzzed here is how a request is read, not the models (the other
//! targets cover the text stages).
#![no_main]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use newstag::serve::ServeOptions;
use newstag::{Config, Pipeline, Store};
use serde_json::Value;

/// The token the guarded server wants; the seed corpus sends it.
const TOKEN: &str = "fuzz-token";

/// A line of a file no response may ever contain: the server serves no files.
const CANARY: &str = "newstag-fuzz-canary-7c1e";

struct Servers {
    open: SocketAddr,
    guarded: SocketAddr,
}

fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("newstag-fuzz-http-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("canary.txt"), CANARY).expect("canary");
        let token_file = dir.join("token");
        std::fs::write(&token_file, TOKEN).expect("token file");
        Servers {
            open: start(&dir, None),
            guarded: start(&dir, Some(token_file)),
        }
    })
}

/// Starts a server on a free loopback port: newstag's routes, served by hyper's HTTP/1 as
/// `newstag serve` serves them, but with half-close allowed, so that the harness can close its
/// sending side to say "that was all" and still read every answer (by default hyper takes a
/// client's half-close for a hang-up and drops requests still being answered).
fn start(dir: &std::path::Path, token_file: Option<std::path::PathBuf>) -> SocketAddr {
    let options = ServeOptions {
        addr: "127.0.0.1:0".parse().expect("an address"),
        token_file,
        cors_origin: Some("https://cms.example.org".into()),
        max_body_bytes: 32 << 10,
        max_articles: 20,
        queue: 200,
        deadline_ms: 5_000,
        batch_wait_ms: 1,
    };
    // Topics from labels: no taxonomy to read from the store, which stays empty.
    let config = Config {
        labels: vec!["Arctic".into(), "Trade".into()],
        threads: Some(1),
        ..Config::default()
    };
    let store = Store::new(dir.join("store"));
    let pipeline = Pipeline::segmenter(&config).expect("segment-only pipeline");
    let router = newstag::serve::router(options, &config, pipeline, &store).expect("the routes");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a free port");
            tx.send(listener.local_addr().expect("its address"))
                .expect("the harness waits");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = hyper_util::service::TowerToHyperService::new(router.clone());
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .half_close(true)
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the server did not start")
}

/// One response: status, headers (names lower-cased) and the decoded body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The answer to a HEAD: the headers of a GET's answer, no body.
    head: bool,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The responses in `bytes`, in order. `cut`: the connection was reset, so the last response
/// may be cut short (the server closed after an early answer, such as a 413, while the
/// request was still being sent); it is then left out. Otherwise every byte must belong to a
/// whole response.
fn responses(mut bytes: &[u8], cut: bool, methods: &[String]) -> Vec<Response> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        // Past the requests whose method is known, a HEAD could not be told from a GET; a
        // first request that does not parse gets one answer (hyper's 400), then a close.
        let method = match methods.get(out.len()) {
            Some(m) => m.as_str(),
            None if out.is_empty() => "",
            None => break,
        };
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut head = httparse::Response::new(&mut headers);
        let len = match head.parse(bytes) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if cut => break,
            other => panic!("the server sent an unreadable response head: {other:?}"),
        };
        let status = head.code.expect("a status code");
        let headers: Vec<(String, String)> = head
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        bytes = &bytes[len..];
        let chunked = headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map(|(_, v)| v.trim().parse::<usize>().expect("a numeric Content-Length"));
        let informational = (100..200).contains(&status);
        let body = if informational || status == 204 || status == 304 || method == "HEAD" {
            Vec::new()
        } else if chunked {
            let (body, rest) = dechunk(bytes);
            bytes = rest;
            body
        } else if let Some(n) = length {
            if cut && n > bytes.len() {
                break;
            }
            assert!(n <= bytes.len(), "a body shorter than its Content-Length");
            let body = bytes[..n].to_vec();
            bytes = &bytes[n..];
            body
        } else {
            std::mem::take(&mut bytes).to_vec()
        };
        let response = Response {
            status,
            headers,
            body,
            head: method == "HEAD",
        };
        if informational {
            // `100 Continue` comes before the request's own response.
            check(&response);
        } else {
            out.push(response);
        }
    }
    out
}

/// The methods of the requests in `bytes`, in order, as far as they can be read: up to the
/// first request that does not parse or whose body length is not given by Content-Length.
fn methods(mut bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        let Ok(httparse::Status::Complete(len)) = request.parse(bytes) else {
            return out;
        };
        let Some(method) = request.method else {
            return out;
        };
        out.push(method.to_string());
        let mut length = 0;
        for h in request.headers.iter() {
            if h.name.eq_ignore_ascii_case("transfer-encoding") {
                return out;
            }
            if h.name.eq_ignore_ascii_case("content-length") {
                match std::str::from_utf8(h.value).ok().and_then(|v| v.trim().parse().ok()) {
                    Some(n) => length = n,
                    None => return out,
                }
            }
        }
        match bytes.get(len + length..) {
            Some(rest) if !rest.is_empty() => bytes = rest,
            _ => return out,
        }
    }
}

/// A chunked body and what follows it.
fn dechunk(mut bytes: &[u8]) -> (Vec<u8>, &[u8]) {
    let mut body = Vec::new();
    loop {
        let line_end = bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size line");
        let size = std::str::from_utf8(&bytes[..line_end]).expect("an ASCII chunk size");
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .expect("a hexadecimal chunk size");
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            // Trailers (none are sent) and the final CRLF.
            let end = bytes
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("the last chunk's CRLF");
            return (body, &bytes[end + 2..]);
        }
        body.extend_from_slice(&bytes[..size]);
        bytes = &bytes[size + 2..];
    }
}

/// The error kinds a record or an error body may name: those the server's OpenAPI document
/// declares (the record error kinds, and the server's own for refusals before any article is
/// read).
fn kinds() -> Vec<&'static str> {
    newstag::serve::error_kinds()
}

fn check_error_body(response: &Response) {
    let value: Value = serde_json::from_slice(&response.body).unwrap_or_else(|e| {
        panic!(
            "a {} with a JSON content type but a body that is not JSON: {e}",
            response.status
        )
    });
    let error = &value["error"];
    let kind = error["kind"].as_str().unwrap_or_else(|| {
        panic!(
            "a {} without error.kind: {value}",
            response.status
        )
    });
    assert!(kinds().contains(&kind), "unknown error kind {kind:?}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a {} without an error message: {value}",
        response.status
    );
}

/// A 200 from /v1/annotate or /v1/tags: an object, an array of objects, or JSON Lines, and
/// every record an object with a string id.
fn check_records(response: &Response) {
    let text = std::str::from_utf8(&response.body).expect("records are UTF-8");
    let records: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(records)) => records,
        Ok(record) => vec![record],
        Err(_) => text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each JSONL record is JSON"))
            .collect(),
    };
    for record in records {
        assert!(
            record["id"].is_string(),
            "a record without a string id: {record}"
        );
        if let Some(kind) = record.get("error").and_then(|e| e.get("kind")) {
            let kind = kind.as_str().expect("error.kind is a string");
            assert!(kinds().contains(&kind), "unknown error kind {kind:?}");
        }
    }
}

fn check(response: &Response) {
    let status = response.status;
    assert!(
        status < 500 || status == 503 || status == 504,
        "the server answered {status}: {}",
        String::from_utf8_lossy(&response.body)
    );
    for leak in [CANARY, "root:x:0:0"] {
        assert!(
            !response.body.windows(leak.len()).any(|w| w == leak.as_bytes()),
            "a response carries a file's content ({leak})"
        );
    }
    let json = !response.head
        && response
            .header("content-type")
            .is_some_and(|t| t.contains("json"));
    if status >= 400 && json {
        check_error_body(response);
    }
    if status == 200 && json {
        let value: Option<Value> = serde_json::from_slice(&response.body).ok();
        // Records (annotate, tags) name an id; the documents (topics, models, OpenAPI) do not
        // and are the server's own, not derived from the request.
        let is_records = match &value {
            Some(Value::Array(a)) => a.first().is_some_and(|r| r.get("id").is_some()),
            Some(v) => v.get("id").is_some(),
            None => true,
        };
        if is_records {
            check_records(response);
        }
    }
}

/// Sends `request` on a fresh connection, reads until the server closes it, and returns what
/// came back and whether the connection was reset rather than closed.
fn exchange(addr: SocketAddr, request: &[u8]) -> (Vec<u8>, bool) {
    let mut stream = TcpStream::connect(addr).expect("the server no longer accepts connections");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("read timeout");
    // The server may answer and close before reading it all (a 413, a bad request line):
    // a failed write is then expected, and what it answered is still read below.
    let _ = stream.write_all(request);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut reply = Vec::new();
    let mut buf = [0u8; 16 << 10];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (reply, false),
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (reply, true),
            // libFuzzer's timer (SIGALRM, for -timeout) interrupts the wait.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                panic!("the server neither answered nor closed within 20 s")
            }
            Err(e) => panic!("reading the response: {e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, request)) = data.split_first() else {
        return;
    };
    let servers = servers();
    let addr = if which & 1 == 0 {
        servers.open
    } else {
        servers.guarded
    };
    let (reply, cut) = exchange(addr, request);
    for response in responses(&reply, cut, &methods(request)) {
        check(&response);
    }
    // Still alive, and still right: a well-formed request gets its record.
    let body = r#"{"id":"p","text":"Oslo is cold."}"#;
    let (probe, cut) = exchange(
        addr,
        format!(
            "POST /v1/annotate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert!(!cut, "the probe's connection was reset");
    let probe = responses(&probe, false, &["POST".to_string()]);
    assert_eq!(probe.len(), 1, "the probe got {} responses", probe.len());
    assert_eq!(probe[0].status, 200, "the probe was refused after this input");
    check_records(&probe[0]);
});
