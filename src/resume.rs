//! Resumable batch runs: a killed `annotate -o FILE` continues where it stopped, without
//! duplicating or losing a record.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::error::{Context, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The ids of the records already written, kept as 128-bit digests: 17 bytes a hash-table slot
/// whatever the id's length (5 million finished articles: 2²³ slots, ~140 MB, where the id
/// strings took ~370 MB). Two ids share a digest with probability about n²/2¹²⁹: never, for
/// any corpus.
#[derive(Debug, Default)]
pub struct DoneIds(HashSet<u128>);

impl DoneIds {
    pub fn insert(&mut self, id: &str) {
        self.0.insert(digest(id));
    }

    pub fn contains(&self, id: &str) -> bool {
        !self.0.is_empty() && self.0.contains(&digest(id))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn digest(id: &str) -> u128 {
    let hash = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&hash[..16]);
    u128::from_le_bytes(first)
}

/// Only the `id` of a record: the rest of the line is skipped, not built into a JSON tree.
#[derive(Deserialize)]
struct RecordId<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
}

/// Reads the ids already in `path` (one JSON record per line), cuts off a trailing partial
/// line left by a killed run (or, after a power cut, everything from the first line with a
/// NUL byte), and returns the ids and the file opened for appending.
/// A missing file is an empty run, and so is anything that is not a regular file (a device
/// such as `/dev/null` or `/dev/full`, a FIFO): it holds no records to read (`/dev/full`
/// reads as endless zero bytes, a FIFO blocks) and cannot be truncated.
pub fn open_for_resume(path: &Path) -> Result<(DoneIds, File)> {
    let mut done = DoneIds::default();
    let mut complete_len = 0u64;
    let regular = match std::fs::metadata(path) {
        Ok(meta) => meta.is_file(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => {
            return Err(e).with_context(|| format!("reading {}", path.display()));
        }
    };
    if !regular {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("opening {} to resume", path.display()))?;
        return Ok((done, file));
    }
    if path.exists() {
        let mut reader = BufReader::new(
            File::open(path).with_context(|| format!("reading {}", path.display()))?,
        );
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            // A record never holds a NUL byte (JSON escapes control characters), but a file
            // that grew just before a power cut can read back as zeros where the unsynced
            // records were: the damage starts here, and everything from here is redone.
            if line.contains(&0) {
                break;
            }
            // A line that is not a record with a string id was not written by us; keep it, but
            // it cannot mark anything done.
            if let Ok(RecordId { id: Some(id) }) = serde_json::from_slice::<RecordId>(&line) {
                done.insert(&id);
            }
            complete_len += n as u64;
        }
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {} to resume", path.display()))?;
    file.set_len(complete_len)
        .with_context(|| format!("truncating the partial last record of {}", path.display()))?;
    Ok((done, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_line_is_cut_and_ids_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(
            &path,
            "{\"id\":\"a\"}\n{\"id\":\"b\",\"error\":{}}\n{\"id\":7}\nnot json\n\
             {\"id\":\"d\\u00e9\",\"meta\":{\"id\":\"x\"}}\n{\"id\":\"c\",\"sen",
        )
        .unwrap();
        let (done, file) = open_for_resume(&path).unwrap();
        drop(file);
        // Ids as strings, escapes decoded; a number id or a line that is not JSON marks nothing,
        // and neither does an `id` nested deeper in a record.
        assert_eq!(done.len(), 3);
        assert!(done.contains("a") && done.contains("b") && done.contains("dé"));
        assert!(!done.contains("7") && !done.contains("x"));
        assert!(!done.contains("c"), "the partial record is not done");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"id\":\"a\"}\n{\"id\":\"b\",\"error\":{}}\n{\"id\":7}\nnot json\n\
             {\"id\":\"d\\u00e9\",\"meta\":{\"id\":\"x\"}}\n"
        );
        let (done, _) = open_for_resume(&dir.path().join("new.jsonl")).unwrap();
        assert!(done.is_empty());
    }

    #[test]
    fn a_zero_filled_tail_from_a_power_cut_is_cut_from_its_first_line() {
        // What a file that grew just before a power cut can read back as: a block of zeros
        // where unsynced records were, possibly followed by a block that did reach the disk.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut bytes = b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n".to_vec();
        let kept = bytes.len() as u64;
        bytes.extend_from_slice(&[0u8; 4096]);
        bytes.extend_from_slice(b"\"}\n{\"id\":\"d\"}\n\0\0\0");
        std::fs::write(&path, &bytes).unwrap();
        let (done, file) = open_for_resume(&path).unwrap();
        drop(file);
        assert_eq!(done.len(), 2);
        assert!(done.contains("a") && done.contains("b"));
        assert!(
            !done.contains("d"),
            "a record past the damage is redone, not kept"
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), kept);
    }
}
