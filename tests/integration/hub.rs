//! The Hub client against a real HTTP server on loopback that speaks the Hub's URL layout
//! (`/{repo}/resolve/{revision}/{path}`), with its headers, redirects, ranges and failures.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use newstag::hub::{HubClient, read_meta};
use sha2::{Digest, Sha256};

const REPO: &str = "org/tiny-model";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const CONFIG_SHA1: &str = "5d41402abc4b2a76b9719d911017c592ae1f3a2b";
const TOKEN: &str = "hf_test_secret";

fn model_bytes() -> Vec<u8> {
    // xorshift64*: 300 KB that do not compress and are the same every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..300 * 1024)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

fn config_bytes() -> Vec<u8> {
    br#"{"model_type": "bert", "hidden_size": 384}"#.to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// What the server does for one path.
#[derive(Clone)]
enum Behaviour {
    /// 200 (or 206 for a Range) with the Hub's headers.
    Serve,
    /// The first full GET sends only this many bytes, then closes the connection.
    TruncateOnce(usize),
    /// Sends other bytes than the ETag's sha256 says.
    Corrupt,
    /// Ignores Range: always a whole 200.
    NoRanges,
    /// 302 to this location with the Hub's headers (X-Repo-Commit, ETag).
    Redirect(String),
}

#[derive(Clone)]
struct Route {
    body: Vec<u8>,
    etag: Option<String>,
    /// Sent with a `W/` prefix, as the Hub may.
    weak: bool,
    commit: Option<String>,
    /// Answers 401 unless the request carries `Authorization: Bearer TOKEN`.
    private: bool,
    behaviour: Behaviour,
}

impl Route {
    fn new(body: Vec<u8>, etag: &str) -> Route {
        Route {
            body,
            etag: Some(etag.to_string()),
            weak: false,
            commit: Some(COMMIT.to_string()),
            private: false,
            behaviour: Behaviour::Serve,
        }
    }
}

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    range: Option<String>,
    authorization: Option<String>,
    status: u16,
}

#[derive(Default)]
struct State {
    routes: Mutex<HashMap<String, Route>>,
    seen: Mutex<Vec<Seen>>,
    truncated: AtomicBool,
}

/// A small HTTP/1.1 server on 127.0.0.1 and an ephemeral port; one thread per connection,
/// `Connection: close` on every answer.
struct Server {
    url: String,
    state: Arc<State>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                thread::spawn(move || {
                    let _ = handle(stream, &state);
                });
            }
        });
        Server { url, state }
    }

    /// The standard repo: model.onnx (LFS-style, sha256 ETag, weak), config.json (git blob
    /// sha1 ETag) and onnx/model.onnx.
    fn hub() -> Server {
        let server = Server::start();
        let model = model_bytes();
        let mut lfs = Route::new(model.clone(), &sha256_hex(&model));
        lfs.weak = true;
        server.route(REPO, "main", "model.onnx", lfs.clone());
        server.route(REPO, "main", "onnx/model.onnx", lfs);
        server.route(
            REPO,
            "main",
            "config.json",
            Route::new(config_bytes(), CONFIG_SHA1),
        );
        server
    }

    fn route(&self, repo: &str, revision: &str, file: &str, route: Route) {
        self.raw_route(&format!("/{repo}/resolve/{revision}/{file}"), route);
    }

    fn raw_route(&self, path: &str, route: Route) {
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), route);
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    fn gets(&self) -> usize {
        self.seen().iter().filter(|s| s.method == "GET").count()
    }

    fn client(&self) -> HubClient {
        HubClient::new(&self.url, None, false)
    }
}

fn handle(stream: TcpStream, state: &State) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let range = headers.get("range").cloned();
    let authorization = headers.get("authorization").cloned();
    let route = state.routes.lock().unwrap().get(&path).cloned();
    let mut out = stream;
    let record = |status: u16| {
        state.seen.lock().unwrap().push(Seen {
            method: method.clone(),
            path: path.clone(),
            range: range.clone(),
            authorization: authorization.clone(),
            status,
        })
    };

    let Some(route) = route else {
        record(404);
        let body = b"Entry not found";
        write!(
            out,
            "HTTP/1.1 404 Not Found\r\nX-Error-Code: EntryNotFound\r\nX-Error-Message: Entry not found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        return out.write_all(body);
    };
    if route.private && authorization.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        record(401);
        return write!(
            out,
            "HTTP/1.1 401 Unauthorized\r\nX-Error-Code: RepoNotFound\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }
    let mut hub_headers = String::new();
    if let Some(commit) = &route.commit {
        hub_headers.push_str(&format!("X-Repo-Commit: {commit}\r\n"));
    }
    if let Some(etag) = &route.etag {
        let weak = if route.weak { "W/" } else { "" };
        hub_headers.push_str(&format!("ETag: {weak}\"{etag}\"\r\n"));
    }
    if let Behaviour::Redirect(location) = &route.behaviour {
        record(302);
        return write!(
            out,
            "HTTP/1.1 302 Found\r\n{hub_headers}Location: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }

    let mut body = route.body.clone();
    if let Behaviour::Corrupt = route.behaviour {
        body[1000] ^= 0xFF;
    }
    let total = body.len();
    let start = match (&route.behaviour, range.as_deref()) {
        (Behaviour::NoRanges, _) => None,
        (_, Some(r)) => r
            .strip_prefix("bytes=")
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|n| n.parse::<usize>().ok()),
        _ => None,
    };
    if let Some(start) = start {
        if start >= total {
            record(416);
            return write!(
                out,
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
        record(206);
        write!(
            out,
            "HTTP/1.1 206 Partial Content\r\n{hub_headers}Content-Range: bytes {start}-{}/{total}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            total - 1,
            total - start
        )?;
        return out.write_all(&body[start..]);
    }
    record(200);
    write!(
        out,
        "HTTP/1.1 200 OK\r\n{hub_headers}Content-Length: {total}\r\nConnection: close\r\n\r\n"
    )?;
    if let Behaviour::TruncateOnce(n) = route.behaviour
        && !state.truncated.swap(true, Ordering::SeqCst)
    {
        out.write_all(&body[..n])?;
        out.flush()?;
        return out.shutdown(std::net::Shutdown::Both);
    }
    out.write_all(&body)
}

fn quiet() -> impl FnMut(&str) {
    |_: &str| {}
}

fn err_text(e: newstag::Error) -> String {
    format!("{e:#}")
}

#[test]
fn downloads_verifies_records_and_skips_complete_files() {
    let server = Server::hub();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("hub").join("org--tiny-model").join("main");
    let files = ["config.json", "model.onnx", "onnx/model.onnx"];
    let mut lines = Vec::new();
    let paths = server
        .client()
        .download(REPO, "main", &files, &dest, &mut |l: &str| {
            lines.push(l.to_string())
        })
        .unwrap();
    assert_eq!(
        paths,
        files.iter().map(|f| dest.join(f)).collect::<Vec<_>>()
    );
    assert_eq!(std::fs::read(&paths[0]).unwrap(), config_bytes());
    assert_eq!(std::fs::read(&paths[1]).unwrap(), model_bytes());
    assert_eq!(std::fs::read(&paths[2]).unwrap(), model_bytes());
    assert_eq!(server.gets(), 3);

    let meta = read_meta(&paths[1]).unwrap();
    assert_eq!(meta.commit.as_deref(), Some(COMMIT));
    assert_eq!(
        meta.etag.as_deref(),
        Some(sha256_hex(&model_bytes()).as_str())
    );
    assert_eq!(meta.size, 300 * 1024);
    assert_eq!(meta.sha256, meta.etag, "a sha256 ETag is verified");
    assert_eq!(meta.repo_id, REPO);
    let meta = read_meta(&paths[0]).unwrap();
    assert_eq!(meta.etag.as_deref(), Some(CONFIG_SHA1));
    assert_eq!(meta.sha256, None, "a sha1 ETag is only recorded");
    assert_eq!(meta.size, config_bytes().len() as u64);
    assert!(
        lines.iter().any(|l| l.contains("sha256 verified")),
        "{lines:?}"
    );
    assert!(!dest.join(".incomplete/model.onnx.part").exists());

    // Second call: everything is in place, nothing is asked.
    let again = server
        .client()
        .download(REPO, "", &files, &dest, &mut quiet())
        .unwrap();
    assert_eq!(again, paths);
    assert_eq!(server.gets(), 3, "complete files are not downloaded again");

    // A file in place whose metadata disagrees with it is fetched again.
    std::fs::write(&paths[0], b"{}").unwrap();
    server
        .client()
        .download(REPO, "main", &files, &dest, &mut quiet())
        .unwrap();
    assert_eq!(server.gets(), 4);
    assert_eq!(std::fs::read(&paths[0]).unwrap(), config_bytes());
}

#[test]
fn follows_a_redirect_on_the_same_server() {
    let server = Server::hub();
    let model = model_bytes();
    let mut hop = Route::new(Vec::new(), &sha256_hex(&model));
    hop.behaviour = Behaviour::Redirect("/cdn/blobs/abc123?sig=1".to_string());
    server.route(REPO, "v1.0", "model.onnx", hop);
    // The CDN's own ETag is no sha256 and has no commit: the Hub's headers count.
    let mut blob = Route::new(model.clone(), "cdn-etag-1");
    blob.commit = None;
    server.raw_route("/cdn/blobs/abc123?sig=1", blob);

    let dir = tempfile::tempdir().unwrap();
    let paths = server
        .client()
        .download(REPO, "v1.0", &["model.onnx"], dir.path(), &mut quiet())
        .unwrap();
    assert_eq!(std::fs::read(&paths[0]).unwrap(), model);
    let meta = read_meta(&paths[0]).unwrap();
    assert_eq!(meta.commit.as_deref(), Some(COMMIT));
    assert_eq!(meta.sha256.as_deref(), Some(sha256_hex(&model).as_str()));
    let statuses: Vec<(String, u16)> = server
        .seen()
        .into_iter()
        .map(|s| (s.path, s.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (format!("/{REPO}/resolve/v1.0/model.onnx"), 302),
            ("/cdn/blobs/abc123?sig=1".to_string(), 200)
        ]
    );
}

#[test]
fn missing_file_is_a_clear_not_found() {
    let server = Server::hub();
    let dir = tempfile::tempdir().unwrap();
    let err = err_text(
        server
            .client()
            .download(REPO, "main", &["nope.bin"], dir.path(), &mut quiet())
            .unwrap_err(),
    );
    assert!(err.contains("not found"), "{err}");
    assert!(err.contains("nope.bin"), "{err}");
    assert!(err.contains(REPO), "{err}");
    assert!(err.contains("main"), "{err}");
    assert!(
        err.contains("(check the repo id, revision and file name)"),
        "{err}"
    );
    assert!(!dir.path().join("nope.bin").exists());
}

#[test]
fn truncated_download_resumes_with_a_range() {
    let server = Server::hub();
    let model = model_bytes();
    let mut route = Route::new(model.clone(), &sha256_hex(&model));
    route.behaviour = Behaviour::TruncateOnce(100_000);
    server.route(REPO, "main", "model.onnx", route);
    let dir = tempfile::tempdir().unwrap();
    let client = server.client();

    let err = err_text(
        client
            .download(REPO, "main", &["model.onnx"], dir.path(), &mut quiet())
            .unwrap_err(),
    );
    assert!(err.contains("interrupted"), "{err}");
    assert!(err.contains("resume"), "{err}");
    let part = dir.path().join(".incomplete/model.onnx.part");
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 100_000);
    assert!(!dir.path().join("model.onnx").exists());

    let mut lines = Vec::new();
    let paths = client
        .download(REPO, "main", &["model.onnx"], dir.path(), &mut |l: &str| {
            lines.push(l.to_string())
        })
        .unwrap();
    assert_eq!(std::fs::read(&paths[0]).unwrap(), model);
    assert!(!part.exists());
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].status, 200);
    assert_eq!(seen[0].range, None);
    assert_eq!(seen[1].status, 206);
    assert_eq!(seen[1].range.as_deref(), Some("bytes=100000-"));
    assert!(
        lines.iter().any(|l| l.contains("resuming at byte 100000")),
        "{lines:?}"
    );
    assert_eq!(read_meta(&paths[0]).unwrap().size, model.len() as u64);
}

#[test]
fn a_server_without_ranges_restarts_the_part() {
    let server = Server::hub();
    let model = model_bytes();
    let mut route = Route::new(model.clone(), &sha256_hex(&model));
    route.behaviour = Behaviour::NoRanges;
    server.route(REPO, "main", "model.onnx", route);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".incomplete")).unwrap();
    std::fs::write(
        dir.path().join(".incomplete/model.onnx.part"),
        vec![7u8; 5000],
    )
    .unwrap();

    let paths = server
        .client()
        .download(REPO, "main", &["model.onnx"], dir.path(), &mut quiet())
        .unwrap();
    assert_eq!(std::fs::read(&paths[0]).unwrap(), model);
    let seen = server.seen();
    assert_eq!(seen[0].range.as_deref(), Some("bytes=5000-"));
    assert_eq!(seen[0].status, 200);
}

#[test]
fn a_part_of_an_older_version_is_not_continued() {
    let server = Server::hub();
    let dir = tempfile::tempdir().unwrap();
    let incomplete = dir.path().join(".incomplete");
    std::fs::create_dir_all(&incomplete).unwrap();
    std::fs::write(incomplete.join("model.onnx.part"), vec![1u8; 4096]).unwrap();
    // The part was started when the file had another content (another ETag).
    std::fs::write(incomplete.join("model.onnx.part.etag"), "0".repeat(64)).unwrap();

    let mut lines = Vec::new();
    let paths = server
        .client()
        .download(REPO, "main", &["model.onnx"], dir.path(), &mut |l: &str| {
            lines.push(l.to_string())
        })
        .unwrap();
    assert_eq!(std::fs::read(&paths[0]).unwrap(), model_bytes());
    let seen: Vec<(Option<String>, u16)> = server
        .seen()
        .into_iter()
        .map(|s| (s.range, s.status))
        .collect();
    assert_eq!(
        seen,
        vec![(Some("bytes=4096-".to_string()), 206), (None, 200)]
    );
    assert!(
        lines.iter().any(|l| l.contains("changed on the Hub")),
        "{lines:?}"
    );
}

#[test]
fn corrupted_download_is_deleted_and_reported() {
    let server = Server::hub();
    let model = model_bytes();
    let mut route = Route::new(model.clone(), &sha256_hex(&model));
    route.behaviour = Behaviour::Corrupt;
    server.route(REPO, "main", "model.onnx", route);
    let dir = tempfile::tempdir().unwrap();

    let err = err_text(
        server
            .client()
            .download(REPO, "main", &["model.onnx"], dir.path(), &mut quiet())
            .unwrap_err(),
    );
    assert!(err.contains("sha256 mismatch"), "{err}");
    assert!(err.contains(&sha256_hex(&model)), "{err}");
    assert!(!dir.path().join("model.onnx").exists());
    assert!(!dir.path().join("model.onnx.hub.json").exists());
    assert!(!dir.path().join(".incomplete/model.onnx.part").exists());
}

#[test]
fn closed_port_says_the_hub_cannot_be_reached() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let err = err_text(
        HubClient::new(&endpoint, None, false)
            .download(REPO, "main", &["config.json"], dir.path(), &mut quiet())
            .unwrap_err(),
    );
    assert!(
        err.contains(&format!("cannot reach the Hub at {endpoint}")),
        "{err}"
    );
    assert!(err.contains("HF_HUB_OFFLINE"), "{err}");
}

/// A private repo whose large file the Hub redirects to a CDN on another port.
fn private_hub() -> (Server, Server) {
    let hub = Server::hub();
    let cdn = Server::start();
    let model = model_bytes();
    let mut hop = Route::new(Vec::new(), &sha256_hex(&model));
    hop.private = true;
    hop.behaviour = Behaviour::Redirect(format!("{}/blobs/xyz", cdn.url));
    hub.route("org/private-model", "main", "model.onnx", hop);
    let mut config = Route::new(config_bytes(), CONFIG_SHA1);
    config.private = true;
    hub.route("org/private-model", "main", "config.json", config);
    let mut blob = Route::new(model, "cdn");
    blob.commit = None;
    cdn.raw_route("/blobs/xyz", blob);
    (hub, cdn)
}

#[test]
fn token_is_sent_as_bearer_to_the_hub_only() {
    let (hub, cdn) = private_hub();
    let files = ["config.json", "model.onnx"];
    let dir = tempfile::tempdir().unwrap();

    let err = err_text(
        hub.client()
            .download(
                "org/private-model",
                "main",
                &files,
                dir.path(),
                &mut quiet(),
            )
            .unwrap_err(),
    );
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("HF_TOKEN"), "{err}");
    assert!(!dir.path().join("config.json").exists());

    let client = HubClient::new(&hub.url, Some(TOKEN.to_string()), false);
    let paths = client
        .download(
            "org/private-model",
            "main",
            &files,
            dir.path(),
            &mut quiet(),
        )
        .unwrap();
    assert_eq!(std::fs::read(&paths[0]).unwrap(), config_bytes());
    assert_eq!(std::fs::read(&paths[1]).unwrap(), model_bytes());
    let authorized: Vec<Option<String>> = hub.seen().into_iter().map(|s| s.authorization).collect();
    assert_eq!(
        authorized,
        vec![
            None,
            Some(format!("Bearer {TOKEN}")),
            Some(format!("Bearer {TOKEN}"))
        ]
    );
    let cdn_seen = cdn.seen();
    assert_eq!(cdn_seen.len(), 1);
    assert_eq!(
        cdn_seen[0].authorization, None,
        "the token stays on the Hub's host"
    );

    let err = err_text(
        HubClient::new(&hub.url, Some("hf_wrong".into()), false)
            .download(
                "org/private-model",
                "main",
                &["config.json"],
                tempfile::tempdir().unwrap().path(),
                &mut quiet(),
            )
            .unwrap_err(),
    );
    assert!(err.contains("HF_TOKEN was refused"), "{err}");
    assert!(
        !format!("{client:?}").contains(TOKEN),
        "Debug hides the token"
    );
}

#[test]
fn offline_uses_what_is_there_and_names_hf_hub_offline_otherwise() {
    let server = Server::hub();
    let dir = tempfile::tempdir().unwrap();
    server
        .client()
        .download(
            REPO,
            "main",
            &["config.json", "model.onnx"],
            dir.path(),
            &mut quiet(),
        )
        .unwrap();
    let before = server.seen().len();

    let offline = HubClient::new(&server.url, None, true);
    let paths = offline
        .download(
            REPO,
            "main",
            &["config.json", "model.onnx"],
            dir.path(),
            &mut quiet(),
        )
        .unwrap();
    assert_eq!(std::fs::read(&paths[1]).unwrap(), model_bytes());

    let err = err_text(
        offline
            .download(
                REPO,
                "main",
                &["model.onnx", "tokenizer.json"],
                dir.path(),
                &mut quiet(),
            )
            .unwrap_err(),
    );
    assert!(err.contains("HF_HUB_OFFLINE"), "{err}");
    assert!(err.contains("tokenizer.json"), "{err}");
    assert!(!err.contains("model.onnx,"), "{err}");
    assert_eq!(server.seen().len(), before, "offline makes no request");
}

#[test]
fn invalid_paths_are_refused_before_any_request() {
    let server = Server::hub();
    let dir = tempfile::tempdir().unwrap();
    for (repo, file) in [(REPO, "../escape"), (REPO, "/etc/passwd"), ("a/b/c", "x")] {
        assert!(
            server
                .client()
                .download(repo, "main", &[file], dir.path(), &mut quiet())
                .is_err()
        );
    }
    assert_eq!(server.seen().len(), 0);
}

/// Set by `from_env_reads_the_hf_variables` in the child it starts: which check to run.
const CHILD: &str = "NEWSTAG_HUB_TEST_CHILD";

/// `HubClient::from_env` in a child process (this test binary again), so that no test
/// changes its own process's environment.
#[test]
fn from_env_reads_the_hf_variables() {
    let (hub, _cdn) = private_hub();
    let dir = tempfile::tempdir().unwrap();
    let run = |mode: &str, vars: &[(&str, &str)]| {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "hub::from_env_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ]);
        for var in ["HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE"] {
            cmd.env_remove(var);
        }
        cmd.env(CHILD, mode).env("CHILD_DEST", dir.path());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "child {mode}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(stdout.contains("1 passed"), "child {mode} ran: {stdout}");
    };
    run("defaults", &[]);
    run(
        "online",
        &[
            ("HF_ENDPOINT", &format!("{}/", hub.url)),
            ("HF_TOKEN", TOKEN),
        ],
    );
    assert!(
        hub.seen()
            .iter()
            .all(|s| s.authorization.as_deref() == Some(&format!("Bearer {TOKEN}")))
    );
    assert_eq!(hub.seen().len(), 2);
    run(
        "offline",
        &[("HF_ENDPOINT", &hub.url), ("HF_HUB_OFFLINE", "1")],
    );
    assert_eq!(hub.seen().len(), 2, "offline makes no request");
}

#[test]
fn from_env_child() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let dest = std::env::var("CHILD_DEST").unwrap();
    let dest = Path::new(&dest);
    let client = HubClient::from_env();
    let files = ["config.json", "model.onnx"];
    match mode.as_str() {
        "defaults" => {
            assert_eq!(client.endpoint(), "https://huggingface.co");
            assert!(!client.has_token());
            assert!(!client.is_offline());
        }
        "online" => {
            assert!(client.has_token());
            assert!(!client.is_offline());
            let paths = client
                .download("org/private-model", "main", &files, dest, &mut quiet())
                .unwrap();
            assert_eq!(std::fs::read(&paths[1]).unwrap(), model_bytes());
        }
        "offline" => {
            assert!(client.is_offline());
            let paths = client
                .download("org/private-model", "main", &files, dest, &mut quiet())
                .unwrap();
            assert_eq!(std::fs::read(&paths[0]).unwrap(), config_bytes());
            let err = err_text(
                client
                    .download(
                        "org/private-model",
                        "main",
                        &["tokenizer.json"],
                        dest,
                        &mut quiet(),
                    )
                    .unwrap_err(),
            );
            assert!(err.contains("HF_HUB_OFFLINE"), "{err}");
        }
        other => panic!("unknown child mode {other}"),
    }
}
