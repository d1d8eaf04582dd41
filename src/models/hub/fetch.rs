//! One file's download: streamed into its `.part` (resumed with `Range` when the Hub's answer
//! continues it), checked against the length and sha256 the Hub announced, then moved into place
//! with its metadata beside it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Context, Result, bail};
use crate::store::sha256_file;

use super::protocol::{encode, header, is_hex, parse_content_range};
use super::{FileMeta, HubClient, INCOMPLETE_DIR, Origin, meta_path, remove_if_exists, write_meta};

impl HubClient {
    /// Downloads one file through its `.part`, verifies it and moves it into place.
    pub(super) fn fetch_file(
        &self,
        repo_id: &str,
        revision: &str,
        file: &str,
        dest_dir: &Path,
        log: &mut dyn FnMut(&str),
    ) -> Result<PathBuf> {
        let fetch = Fetch::new(&self.endpoint, repo_id, revision, file, dest_dir)?;
        let (origin, expected) = self.receive(&fetch, log)?;
        let (size, sha256) = fetch.verify(&origin, expected)?;
        fetch.install(origin, size, sha256, log)
    }

    /// Streams the file into its part, resuming what an earlier call left there when the Hub's
    /// answer continues it. Three answers that do not are an error. Returns the Hub's headers
    /// and the length it announced.
    fn receive(&self, fetch: &Fetch, log: &mut dyn FnMut(&str)) -> Result<(Origin, Option<u64>)> {
        let mut may_resume = true;
        for _ in 0..3 {
            let offset = match fs::metadata(&fetch.part) {
                Ok(m) if may_resume => m.len(),
                _ => 0,
            };
            match self.attempt(fetch, offset, log)? {
                Some(received) => return Ok(received),
                None => may_resume = false,
            }
        }
        let Fetch { what, url, .. } = fetch;
        bail!("the Hub's answers for {what} do not continue the partial download ({url})");
    }

    /// One request for the file from byte `offset` on, written into the part. `None` when the
    /// answer does not continue the part, so the download has to start again.
    fn attempt(
        &self,
        fetch: &Fetch,
        offset: u64,
        log: &mut dyn FnMut(&str),
    ) -> Result<Option<(Origin, Option<u64>)>> {
        let Fetch {
            repo_id,
            revision,
            file,
            url,
            what,
            part_etag,
            ..
        } = fetch;
        let (response, origin) = self.get(url, offset, repo_id, revision, file)?;
        let status = response.status().as_u16();
        if status == 416 && offset > 0 {
            // The part is no prefix of what the server has now: start again.
            log(&format!(
                "{what}: the partial download does not fit, restarting"
            ));
            return Ok(None);
        }
        if status != 200 && status != 206 {
            bail!("the Hub answered HTTP {status} for {what} ({url})");
        }
        let (start, expected) = announced(status, response.headers(), &origin, what)?;
        if status == 206 {
            let recorded = fs::read_to_string(part_etag).ok();
            if start != offset || recorded.as_deref() != origin.etag.as_deref() {
                // Another version of the file, or another range than asked: the bytes
                // would not continue the part.
                log(&format!("{what}: the file changed on the Hub, restarting"));
                return Ok(None);
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
        let out = fetch.open_part(status == 206, &origin)?;
        fetch.write_part(response.into_body().into_reader(), out, expected)?;
        Ok(Some((origin, expected)))
    }
}

/// Where the bytes of an answer start and how long the whole file is, as far as the Hub says:
/// Content-Range for a 206, else Content-Length, else X-Linked-Size.
fn announced(
    status: u16,
    headers: &ureq::http::HeaderMap,
    origin: &Origin,
    what: &str,
) -> Result<(u64, Option<u64>)> {
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
    Ok((start, expected))
}

/// One file on its way from the Hub: where it comes from, where its part waits and where it
/// ends up.
struct Fetch<'a> {
    repo_id: &'a str,
    revision: &'a str,
    file: &'a str,
    url: String,
    /// `<file> of <repo> at revision <revision>`, for messages.
    what: String,
    target: PathBuf,
    part: PathBuf,
    /// The ETag the part was started under: a resume must continue the same version.
    part_etag: PathBuf,
}

impl<'a> Fetch<'a> {
    fn new(
        endpoint: &str,
        repo_id: &'a str,
        revision: &'a str,
        file: &'a str,
        dest_dir: &Path,
    ) -> Result<Self> {
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
            endpoint,
            encode(repo_id, true),
            encode(revision, false),
            encode(file, true)
        );
        let what = format!("{file} of {repo_id} at revision {revision}");
        Ok(Fetch {
            repo_id,
            revision,
            file,
            url,
            what,
            target,
            part,
            part_etag,
        })
    }

    /// Opens the part: for appending when the answer resumes it, else afresh, recording the
    /// ETag the new part is started under.
    fn open_part(&self, resume: bool, origin: &Origin) -> Result<File> {
        let (part, part_etag) = (&self.part, &self.part_etag);
        let opened = if resume {
            OpenOptions::new().append(true).open(part)
        } else {
            match &origin.etag {
                Some(etag) => fs::write(part_etag, etag),
                None => remove_if_exists(part_etag),
            }
            .with_context(|| format!("writing {}", part_etag.display()))?;
            File::create(part)
        };
        opened.with_context(|| format!("opening {}", part.display()))
    }

    /// Streams `body` into the opened part. A body cut short keeps the part, for the next
    /// call to resume.
    fn write_part(&self, body: impl Read, out: File, expected: Option<u64>) -> Result<()> {
        let (what, part) = (&self.what, &self.part);
        let copied = copy_body(body, out);
        let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
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
        Ok(())
    }

    /// Checks the complete part against the announced length, X-Linked-Size and a sha256
    /// ETag, and deletes it when one disagrees. Returns its size and the sha256 it matched.
    fn verify(&self, origin: &Origin, expected: Option<u64>) -> Result<(u64, Option<String>)> {
        let (what, part, part_etag) = (&self.what, &self.part, &self.part_etag);
        let size = fs::metadata(part)?.len();
        if let Some(total) = expected.filter(|&t| t != size) {
            discard(part, part_etag);
            bail!(
                "{what}: received {size} bytes, the Hub announced {total}; the download was deleted"
            );
        }
        if let Some(linked) = origin.linked_size.filter(|&n| n != size) {
            discard(part, part_etag);
            bail!(
                "{what}: received {size} bytes, the Hub's X-Linked-Size says {linked}; the download was deleted"
            );
        }
        let sha256 = match origin.etag.as_deref().filter(|e| is_hex(e, 64)) {
            Some(expected_sha) => {
                let actual = sha256_file(part)?;
                if actual != expected_sha {
                    discard(part, part_etag);
                    bail!(
                        "sha256 mismatch for {what}: expected {expected_sha} (the Hub's ETag), \
                         got {actual}; the corrupted download was deleted"
                    );
                }
                Some(actual)
            }
            None => None,
        };
        Ok((size, sha256))
    }

    /// Moves the verified part into place and writes its metadata beside it.
    fn install(
        self,
        origin: Origin,
        size: u64,
        sha256: Option<String>,
        log: &mut dyn FnMut(&str),
    ) -> Result<PathBuf> {
        let Fetch {
            repo_id,
            revision,
            file,
            what,
            target,
            part,
            part_etag,
            ..
        } = self;
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

fn discard(part: &Path, part_etag: &Path) {
    let _ = fs::remove_file(part);
    let _ = fs::remove_file(part_etag);
}
