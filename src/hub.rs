//! Downloads from the Hugging Face Hub into a directory of the model store.
//!
//! The Hub serves a file of a repository at `{endpoint}/{repo_id}/resolve/{revision}/{path}`,
//! often through a redirect to a CDN. Its first answer carries the commit the revision points at
//! (`X-Repo-Commit`) and an `ETag`: for files kept in Git LFS (the weights) the sha256 of the
//! content, for small git files a git blob sha1. A file is streamed into
//! `dest_dir/.incomplete/<path>.part`, checked (length, and sha256 when the ETag is one), then
//! renamed into place with a metadata file beside it (`<path>.hub.json`), so a half-fetched or
//! corrupted file is never used. An interrupted download keeps its `.part` and the next call
//! asks only for the rest (`Range`).
//!
//! A file that is in place with its metadata is used as it is, without asking the Hub whether
//! the revision moved: a branch such as `main` is read once; pin a commit sha for a revision
//! that never changes. `HF_HUB_OFFLINE=1` makes no request at all.
//!
//! [`ModelRef`] names a transformer model (a local directory, or a Hub repo at a revision) and
//! [`ModelRef::materialize`] fetches a Hub model's files into the store with this client.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Context, Result, bail, err};
use serde::{Deserialize, Serialize};

use crate::error::{self, Error};
use crate::runtime::Precision;
use crate::store::{Store, sha256_file};

/// The public Hub, used when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// The revision used when the caller passes an empty one.
pub const DEFAULT_REVISION: &str = "main";

/// Redirects followed for one file (the Hub uses one, to its CDN; renamed repos add one).
const MAX_REDIRECTS: usize = 10;

/// The directory (inside `dest_dir`) where partial downloads wait.
const INCOMPLETE_DIR: &str = ".incomplete";

/// Suffix of the metadata file written beside each downloaded file.
const META_SUFFIX: &str = ".hub.json";

/// A client for the Hub's file downloads. Cheap to share; holds a connection pool.
#[derive(Clone)]
pub struct HubClient {
    endpoint: String,
    token: Option<String>,
    offline: bool,
    agent: ureq::Agent,
}

impl std::fmt::Debug for HubClient {
    // The token is a secret: say only whether there is one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("offline", &self.offline)
            .finish()
    }
}

/// What is recorded beside a downloaded file, and read back to skip it next time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileMeta {
    pub repo_id: String,
    pub revision: String,
    pub path: String,
    /// `X-Repo-Commit` of the answer, when the Hub sent one.
    pub commit: Option<String>,
    /// The ETag without quotes or `W/`: a sha256 for LFS files, a git blob sha1 otherwise.
    pub etag: Option<String>,
    pub size: u64,
    /// Set when the content was checked against a sha256 ETag.
    pub sha256: Option<String>,
}

/// Headers gathered along a redirect chain: the Hub's own answer carries them, the CDN's
/// answer after it has its own (unrelated) ETag.
#[derive(Debug, Default)]
struct Origin {
    commit: Option<String>,
    etag: Option<String>,
    linked_size: Option<u64>,
}

impl HubClient {
    /// From the environment: `HF_ENDPOINT` (default <https://huggingface.co>), `HF_TOKEN`
    /// (sent as `Authorization: Bearer`), `HF_HUB_OFFLINE=1` (no network: only files already
    /// in the store, a clear error otherwise).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let endpoint = var("HF_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let token = var("HF_TOKEN").map(|t| t.trim().to_string());
        let offline = var("HF_HUB_OFFLINE").is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "on" | "yes" | "true"
            )
        });
        HubClient::new(&endpoint, token, offline)
    }

    pub fn new(endpoint: &str, token: Option<String>, offline: bool) -> Self {
        let endpoint = endpoint.trim().trim_end_matches('/').to_string();
        // A Hub on this machine (a mirror, the tests) is never reached through a proxy.
        let proxy = if is_loopback(&endpoint) {
            None
        } else {
            ureq::Proxy::try_from_env()
        };
        let config = ureq::Agent::config_builder()
            .proxy(proxy)
            // Redirects are followed here, so that the Hub's own headers are kept and the
            // token never leaves the Hub's host.
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(20)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .user_agent(concat!("newstag/", env!("CARGO_PKG_VERSION")))
            .build();
        HubClient {
            endpoint,
            token: token.filter(|t| !t.is_empty()),
            offline,
            agent: config.into(),
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Downloads `files` of `repo_id` at `revision` (empty: "main") into `dest_dir`, a
    /// directory inside the model store, and returns their local paths in the order asked.
    /// Files already complete there are not requested again.
    pub fn download(
        &self,
        repo_id: &str,
        revision: &str,
        files: &[&str],
        dest_dir: &Path,
        log: &mut dyn FnMut(&str),
    ) -> Result<Vec<PathBuf>> {
        let revision = if revision.is_empty() {
            DEFAULT_REVISION
        } else {
            revision
        };
        check_repo_id(repo_id)?;
        check_revision(revision)?;
        for file in files {
            check_file_path(file)?;
        }
        let targets: Vec<PathBuf> = files.iter().map(|f| dest_dir.join(f)).collect();

        if self.offline {
            let missing: Vec<&str> = files
                .iter()
                .zip(&targets)
                .filter(|(_, t)| !t.is_file())
                .map(|(f, _)| *f)
                .collect();
            if !missing.is_empty() {
                return Err(Error::new(
                    error::ErrorKind::ModelMissing,
                    format!(
                        "HF_HUB_OFFLINE is set and {} of {repo_id} at revision {revision} {} not \
                         in {} (unset HF_HUB_OFFLINE to download {})",
                        missing.join(", "),
                        if missing.len() == 1 { "is" } else { "are" },
                        dest_dir.display(),
                        if missing.len() == 1 { "it" } else { "them" },
                    ),
                ));
            }
            return Ok(targets);
        }

        let todo: Vec<usize> = (0..files.len())
            .filter(|&i| {
                let done = is_complete(&targets[i]);
                if done {
                    log(&format!(
                        "{repo_id}@{revision}: {} already downloaded",
                        files[i]
                    ));
                }
                !done
            })
            .collect();
        if todo.is_empty() {
            return Ok(targets);
        }

        let incomplete = dest_dir.join(INCOMPLETE_DIR);
        fs::create_dir_all(&incomplete)
            .with_context(|| format!("creating {}", incomplete.display()))?;
        // One download into a directory at a time: a second process waits, then finds the
        // files in place.
        let lock_path = incomplete.join(".lock");
        let lock = File::create(&lock_path)
            .with_context(|| format!("creating {}", lock_path.display()))?;
        if lock.try_lock().is_err() {
            log(&format!(
                "waiting for another download into {}",
                dest_dir.display()
            ));
            lock.lock()
                .with_context(|| format!("locking {}", lock_path.display()))?;
        }
        for i in todo {
            if is_complete(&targets[i]) {
                continue;
            }
            self.fetch_file(repo_id, revision, files[i], dest_dir, log)?;
        }
        Ok(targets)
    }

    /// Downloads one file through its `.part`, verifies it and moves it into place.
    fn fetch_file(
        &self,
        repo_id: &str,
        revision: &str,
        file: &str,
        dest_dir: &Path,
        log: &mut dyn FnMut(&str),
    ) -> Result<PathBuf> {
        let target = dest_dir.join(file);
        let part = dest_dir.join(INCOMPLETE_DIR).join(format!("{file}.part"));
        let part_etag = dest_dir
            .join(INCOMPLETE_DIR)
            .join(format!("{file}.part.etag"));
        if let Some(parent) = part.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let url = format!(
            "{}/{}/resolve/{}/{}",
            self.endpoint,
            encode(repo_id, true),
            encode(revision, false),
            encode(file, true)
        );
        let what = format!("{file} of {repo_id} at revision {revision}");

        let mut may_resume = true;
        let mut attempts = 0;
        let (origin, expected) = loop {
            attempts += 1;
            if attempts > 3 {
                bail!("the Hub's answers for {what} do not continue the partial download ({url})");
            }
            let offset = match fs::metadata(&part) {
                Ok(m) if may_resume => m.len(),
                _ => 0,
            };
            let (response, origin) = self.get(&url, offset, repo_id, revision, file)?;
            let status = response.status().as_u16();
            if status == 416 && offset > 0 {
                // The part is no prefix of what the server has now: start again.
                log(&format!(
                    "{what}: the partial download does not fit, restarting"
                ));
                may_resume = false;
                continue;
            }
            if status != 200 && status != 206 {
                bail!("the Hub answered HTTP {status} for {what} ({url})");
            }
            let headers = response.headers();
            let content_length: Option<u64> =
                header(headers, "content-length").and_then(|v| v.parse().ok());
            let (start, mut expected) = if status == 206 {
                match header(headers, "content-range").and_then(|v| parse_content_range(&v)) {
                    Some((start, total)) => (start, total.or(content_length.map(|n| start + n))),
                    None => bail!("the Hub answered 206 without a usable Content-Range for {what}"),
                }
            } else {
                (0, content_length)
            };
            if expected.is_none() {
                expected = origin.linked_size;
            }
            if status == 206 {
                let recorded = fs::read_to_string(&part_etag).ok();
                if start != offset || recorded.as_deref() != origin.etag.as_deref() {
                    // Another version of the file, or another range than asked: the bytes
                    // would not continue the part.
                    log(&format!("{what}: the file changed on the Hub, restarting"));
                    may_resume = false;
                    continue;
                }
                log(&format!(
                    "{what}: resuming at byte {offset}{}",
                    expected.map(|t| format!(" of {t}")).unwrap_or_default()
                ));
            } else {
                log(&format!(
                    "downloading {what}{}",
                    expected
                        .map(|t| format!(" ({t} bytes)"))
                        .unwrap_or_default()
                ));
            }

            let out = if status == 206 {
                OpenOptions::new().append(true).open(&part)
            } else {
                match &origin.etag {
                    Some(etag) => fs::write(&part_etag, etag),
                    None => remove_if_exists(&part_etag),
                }
                .with_context(|| format!("writing {}", part_etag.display()))?;
                File::create(&part)
            }
            .with_context(|| format!("opening {}", part.display()))?;

            let copied = copy_body(response.into_body().into_reader(), out);
            let have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
            match copied {
                Ok(()) => {}
                Err(CopyError::Write(err)) => {
                    return Err(err).with_context(|| format!("writing {}", part.display()));
                }
                Err(CopyError::Read(err)) => bail!(
                    "the download of {what} was interrupted after {have}{} bytes ({err}); \
                     the partial file {} is kept and the next download resumes it",
                    expected.map(|t| format!(" of {t}")).unwrap_or_default(),
                    part.display()
                ),
            }
            let short = expected.is_some_and(|total| have < total);
            if short {
                bail!(
                    "the download of {what} was interrupted after {have} of {} bytes; the \
                     partial file {} is kept and the next download resumes it",
                    expected.unwrap_or_default(),
                    part.display()
                );
            }
            break (origin, expected);
        };

        let size = fs::metadata(&part)?.len();
        if let Some(total) = expected.filter(|&t| t != size) {
            discard(&part, &part_etag);
            bail!(
                "{what}: received {size} bytes, the Hub announced {total}; the download was deleted"
            );
        }
        if let Some(linked) = origin.linked_size.filter(|&n| n != size) {
            discard(&part, &part_etag);
            bail!(
                "{what}: received {size} bytes, the Hub's X-Linked-Size says {linked}; the download was deleted"
            );
        }
        let sha256 = match origin.etag.as_deref().filter(|e| is_hex(e, 64)) {
            Some(expected_sha) => {
                let actual = sha256_file(&part)?;
                if actual != expected_sha {
                    discard(&part, &part_etag);
                    bail!(
                        "sha256 mismatch for {what}: expected {expected_sha} (the Hub's ETag), \
                         got {actual}; the corrupted download was deleted"
                    );
                }
                Some(actual)
            }
            None => None,
        };

        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        // Remove the old metadata first: a file in place without it is never trusted.
        remove_if_exists(&meta_path(&target))?;
        // The part lives in the same directory tree, so this rename is atomic.
        fs::rename(&part, &target)
            .with_context(|| format!("moving {} into place", target.display()))?;
        let _ = fs::remove_file(&part_etag);
        let meta = FileMeta {
            repo_id: repo_id.to_string(),
            revision: revision.to_string(),
            path: file.to_string(),
            commit: origin.commit,
            etag: origin.etag,
            size,
            sha256,
        };
        write_meta(&target, &meta)?;
        log(&format!(
            "{what}: {size} bytes{}{}",
            meta.commit
                .as_deref()
                .map(|c| format!(", commit {c}"))
                .unwrap_or_default(),
            if meta.sha256.is_some() {
                ", sha256 verified"
            } else {
                ""
            }
        ));
        Ok(target)
    }

    /// GET `url` (with `Range` from `offset`), following redirects; answers 404/401/403 as
    /// errors that say what to check. The token goes only to the endpoint's own host.
    fn get(
        &self,
        url: &str,
        offset: u64,
        repo_id: &str,
        revision: &str,
        file: &str,
    ) -> Result<(ureq::http::Response<ureq::Body>, Origin)> {
        let home = origin_of(&self.endpoint);
        let mut url = url.to_string();
        let mut origin = Origin::default();
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self.agent.get(&url).header("Accept-Encoding", "identity");
            if offset > 0 {
                request = request.header("Range", format!("bytes={offset}-"));
            }
            if let Some(token) = &self.token
                && origin_of(&url) == home
            {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            let response = request.call().map_err(|err| {
                let message = if origin_of(&url) == home {
                    format!(
                        "cannot reach the Hub at {}: {err} (check the network or HF_ENDPOINT; \
                         HF_HUB_OFFLINE=1 uses only files already downloaded)",
                        self.endpoint
                    )
                } else {
                    format!("cannot reach {url} (the Hub redirected {file} there): {err}")
                };
                Error::new(error::ErrorKind::Network, message)
            })?;
            let headers = response.headers();
            if origin.commit.is_none() {
                origin.commit = header(headers, "x-repo-commit");
            }
            if origin.etag.is_none() {
                origin.etag = header(headers, "x-linked-etag")
                    .or_else(|| header(headers, "etag"))
                    .map(|e| clean_etag(&e));
            }
            if origin.linked_size.is_none() {
                origin.linked_size = header(headers, "x-linked-size").and_then(|v| v.parse().ok());
            }
            let status = response.status().as_u16();
            let hub_message = header(headers, "x-error-message")
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            match status {
                301 | 302 | 303 | 307 | 308 => {
                    let location = header(headers, "location")
                        .ok_or_else(|| err!("HTTP {status} without a Location from {url}"))?;
                    url = resolve_location(&url, &location);
                }
                404 => {
                    return Err(Error::new(
                        error::ErrorKind::ModelMissing,
                        format!(
                            "not found: {file} in {repo_id} at revision {revision} ({url}){hub_message} \
                         (check the repo id, revision and file name)"
                        ),
                    ));
                }
                401 | 403 => {
                    let hint = if self.token.is_some() {
                        "the token in HF_TOKEN was refused or has no access to this repo"
                    } else {
                        "the repo may be private or gated (or not exist): set HF_TOKEN to a \
                         token with access"
                    };
                    bail!(
                        "access denied (HTTP {status}) to {file} in {repo_id} at revision \
                         {revision}{hub_message}: {hint}"
                    )
                }
                _ => return Ok((response, origin)),
            }
        }
        bail!("more than {MAX_REDIRECTS} redirects for {file} of {repo_id} (last: {url})")
    }
}

/// How streaming a body into its part failed.
enum CopyError {
    /// The connection: the part is kept for a resume.
    Read(io::Error),
    /// The local disk.
    Write(io::Error),
}

/// Streams the body into the part. The file is flushed on every path, so an interrupted
/// download keeps all it received.
fn copy_body(mut body: impl Read, out: File) -> std::result::Result<(), CopyError> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let mut buf = vec![0u8; 1 << 16];
    let result = loop {
        match body.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => out.write_all(&buf[..n]).map_err(CopyError::Write)?,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Err(CopyError::Read(e)),
        }
    };
    let file = out
        .into_inner()
        .map_err(|e| CopyError::Write(e.into_error()))?;
    file.sync_all().map_err(CopyError::Write)?;
    result
}

/// True when the file is in place and its metadata says it is whole.
fn is_complete(target: &Path) -> bool {
    let Ok(file) = fs::metadata(target) else {
        return false;
    };
    let Ok(text) = fs::read_to_string(meta_path(target)) else {
        return false;
    };
    serde_json::from_str::<FileMeta>(&text).is_ok_and(|m| file.is_file() && m.size == file.len())
}

/// The metadata file beside `target`.
pub fn meta_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(META_SUFFIX);
    target.with_file_name(name)
}

/// Reads the metadata written beside a downloaded file.
pub fn read_meta(target: &Path) -> Result<FileMeta> {
    let path = meta_path(target);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn write_meta(target: &Path, meta: &FileMeta) -> Result<()> {
    let path = meta_path(target);
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, serde_json::to_string_pretty(meta)? + "\n")
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
}

fn discard(part: &Path, part_etag: &Path) {
    let _ = fs::remove_file(part);
    let _ = fs::remove_file(part_etag);
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn header(headers: &ureq::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

/// `W/"abc"` -> `abc`.
pub(crate) fn clean_etag(etag: &str) -> String {
    let etag = etag.trim();
    let etag = etag.strip_prefix("W/").unwrap_or(etag);
    etag.trim_matches('"').to_ascii_lowercase()
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `bytes 100-299/300` -> (100, Some(300)); `bytes 100-299/*` -> (100, None).
pub(crate) fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start.trim().parse().ok()?, total))
}

/// `scheme://host:port` of a URL, lowercased, for telling one host from another.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let mut origin = format!("{scheme}://{}", authority.to_ascii_lowercase());
    if !has_port {
        origin.push_str(default_port);
    }
    origin
}

/// True for `localhost`, `127.x.x.x` and `[::1]` endpoints.
fn is_loopback(url: &str) -> bool {
    let origin = origin_of(url);
    let authority = origin.split_once("://").map_or(origin.as_str(), |(_, a)| a);
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A `Location` header made absolute against the URL that sent it.
pub(crate) fn resolve_location(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(loc) = location.strip_prefix("//") {
        return format!("{scheme}://{loc}");
    }
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = rest[authority_end..].split(['?', '#']).next().unwrap_or("");
    let dir = &path[..path.rfind('/').map(|i| i + 1).unwrap_or(0)];
    let dir = if dir.is_empty() { "/" } else { dir };
    format!("{scheme}://{authority}{dir}{location}")
}

/// Percent-encodes all but RFC 3986 unreserved characters (and `/` when `keep_slash`).
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn check_repo_id(repo_id: &str) -> Result<()> {
    let parts: Vec<&str> = repo_id.split('/').collect();
    let ok = !repo_id.is_empty()
        && parts.len() <= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && *p != "."
                && *p != ".."
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
    if !ok {
        bail!("invalid Hub repo id {repo_id:?} (expected NAME or OWNER/NAME)");
    }
    Ok(())
}

pub(crate) fn check_revision(revision: &str) -> Result<()> {
    if revision
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
        || revision.chars().any(|c| c.is_control())
    {
        bail!("invalid revision {revision:?}");
    }
    Ok(())
}

/// A file path of the repo, kept inside `dest_dir`: relative, no `.` or `..`, not our own
/// bookkeeping.
pub(crate) fn check_file_path(file: &str) -> Result<()> {
    let parts: Vec<&str> = file.split('/').collect();
    let ok = !file.is_empty()
        && !file.contains('\\')
        && !file.chars().any(|c| c.is_control())
        && parts
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != "..")
        && parts[0] != INCOMPLETE_DIR
        && !file.ends_with(META_SUFFIX);
    if !ok {
        bail!(
            "invalid file path {file:?} (expected a relative path inside the repo, like onnx/model.onnx)"
        );
    }
    Ok(())
}

/// A transformer model: a local directory, or a Hub repo at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelRef {
    Dir(PathBuf),
    Hub { repo: String, revision: String },
}

impl ModelRef {
    /// `DIR` when it is a directory, else `org/name` or `org/name@revision` on the Hub.
    pub fn parse(spec: &str) -> Result<Self> {
        let path = Path::new(spec);
        if path.is_dir() {
            return Ok(ModelRef::Dir(path.to_path_buf()));
        }
        let (repo, revision) = spec.split_once('@').unwrap_or((spec, "main"));
        let parts: Vec<&str> = repo.split('/').collect();
        if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) || revision.is_empty() {
            bail!(
                "{spec:?} is neither a directory nor a Hub repo id (org/name or org/name@revision)"
            );
        }
        Ok(ModelRef::Hub {
            repo: repo.to_string(),
            revision: revision.to_string(),
        })
    }

    /// Short name for the record's `models` field.
    pub fn describe(&self) -> String {
        match self {
            ModelRef::Dir(d) => d.display().to_string(),
            ModelRef::Hub { repo, revision } => format!("{repo}@{revision}"),
        }
    }

    /// A local directory holding `config.json`, `tokenizer.json` and the ONNX model, fetched
    /// into the store from the Hub when needed (the Hub client honours `HF_ENDPOINT`,
    /// `HF_TOKEN` and `HF_HUB_OFFLINE`; `offline` forbids the network too).
    pub fn materialize(
        &self,
        store: &Store,
        offline: bool,
        precision: Precision,
        log: &mut dyn FnMut(&str),
    ) -> Result<PathBuf> {
        let (repo, revision) = match self {
            ModelRef::Dir(d) => return Ok(d.clone()),
            ModelRef::Hub { repo, revision } => (repo, revision),
        };
        let env = HubClient::from_env();
        let forced_offline = offline && !env.is_offline();
        let client = if forced_offline {
            HubClient::new(env.endpoint(), None, true)
        } else {
            env
        };
        let dest = store
            .root()
            .join("hub")
            .join(repo.replace('/', "--"))
            .join(revision);
        // Hub ONNX exports keep the graph under onnx/; some repos have it at the top.
        let [top, nested] = precision.candidates();
        let layouts = [
            ["config.json", "tokenizer.json", nested.as_str()],
            ["config.json", "tokenizer.json", top.as_str()],
        ];
        let mut last_error = None;
        for files in layouts {
            match client.download(repo, revision, &files, &dest, log) {
                Ok(_) => return Ok(dest),
                Err(e) => {
                    // Another layout is worth trying when this one is missing, not when the
                    // Hub cannot be reached.
                    let next = client.is_offline() || e.kind() == error::ErrorKind::ModelMissing;
                    last_error = Some(e);
                    if !next {
                        break;
                    }
                }
            }
        }
        let error = last_error.unwrap_or_else(|| crate::error::err!("no layout tried"));
        if forced_offline {
            return Err(Error::new(
                error::ErrorKind::ModelMissing,
                format!(
                    "{repo}@{revision} is not in the model store ({}) and the run is offline",
                    dest.display()
                ),
            )
            .for_model(format!("{repo}@{revision}")));
        }
        Err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags() {
        assert_eq!(clean_etag("W/\"ABCdef\""), "abcdef");
        assert_eq!(clean_etag("\"x\""), "x");
    }

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 100-299/300"),
            Some((100, Some(300)))
        );
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("items 1-2/3"), None);
    }

    #[test]
    fn origins_and_locations() {
        assert_eq!(
            origin_of("https://huggingface.co/a/b"),
            "https://huggingface.co:443"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:80/x"),
            origin_of("http://127.0.0.1/y")
        );
        assert_ne!(
            origin_of("http://127.0.0.1:1/x"),
            origin_of("http://127.0.0.1:2/x")
        );
        assert_eq!(
            resolve_location("http://h:1/a/b/c?q", "/x/y"),
            "http://h:1/x/y"
        );
        assert_eq!(resolve_location("http://h:1/a/b", "c"), "http://h:1/a/c");
        assert_eq!(resolve_location("https://h/a", "//cdn/z"), "https://cdn/z");
        assert_eq!(resolve_location("https://h/a", "http://o/z"), "http://o/z");
        assert!(is_loopback("http://127.0.0.1:8080"));
        assert!(is_loopback("http://localhost"));
        assert!(is_loopback("http://[::1]:9/x"));
        assert!(!is_loopback("https://huggingface.co"));
        assert!(!is_loopback("https://127.example.com"));
    }

    #[test]
    fn paths() {
        assert!(check_file_path("onnx/model.onnx").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a//b",
            "a/./b",
            ".incomplete/x",
            "a\\b",
        ] {
            assert!(check_file_path(bad).is_err(), "{bad}");
        }
        assert!(check_repo_id("org/tiny-model").is_ok());
        assert!(check_repo_id("gpt2").is_ok());
        assert!(check_repo_id("a/b/c").is_err());
        assert!(check_repo_id("../x").is_err());
        assert_eq!(encode("refs/pr/1", false), "refs%2Fpr%2F1");
        assert_eq!(encode("a b/c.onnx", true), "a%20b/c.onnx");
    }
}
