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

use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Context, Result, bail, err};
use serde::{Deserialize, Serialize};

use crate::error::{self, Error};

mod fetch;
mod model_ref;
mod protocol;
#[cfg(test)]
mod tests;

pub use model_ref::ModelRef;
// Checked by the fuzzing invariants (src/invariants.rs) through `hub::`.
pub(crate) use protocol::{
    check_file_path, check_repo_id, check_revision, clean_etag, resolve_location,
};
// Used here only by the download (fetch.rs, from `protocol`): re-exported for the invariants
// and the unit tests alone, which a build without them would flag as unused.
#[cfg(any(test, feature = "invariants"))]
pub(crate) use protocol::parse_content_range;
use protocol::{header, is_loopback, origin_of};

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

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
