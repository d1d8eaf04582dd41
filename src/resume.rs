//! Resumable batch runs: a killed `annotate -o FILE` continues where it stopped, without
//! duplicating or losing a record.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result};

/// Reads the ids already in `path` (one JSON record per line), cuts off a trailing partial
/// line left by a killed run, and returns the ids and the file opened for appending.
/// A missing file is an empty run.
pub fn open_for_resume(path: &Path) -> Result<(HashSet<String>, File)> {
    let mut done = HashSet::new();
    let mut complete_len = 0u64;
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
            // A line that is not a record with an id was not written by us; keep it, but it
            // cannot mark anything done.
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&line)
                && let Some(id) = value.get("id").and_then(|v| v.as_str())
            {
                done.insert(id.to_string());
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
            "{\"id\":\"a\"}\n{\"id\":\"b\",\"error\":{}}\n{\"id\":\"c\",\"sen",
        )
        .unwrap();
        let (done, file) = open_for_resume(&path).unwrap();
        drop(file);
        assert_eq!(done, HashSet::from(["a".to_string(), "b".to_string()]));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"id\":\"a\"}\n{\"id\":\"b\",\"error\":{}}\n"
        );
        let (done, _) = open_for_resume(&dir.path().join("new.jsonl")).unwrap();
        assert!(done.is_empty());
    }
}
