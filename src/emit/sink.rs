//! Where a run's records go: a JSONL stream or file, or a Parquet file, each written so that a
//! killed or failed run never leaves a file that lies. A JSONL file is pushed to the disk once
//! a second (a power cut loses at most that second, at the end of the file, where `--resume`
//! cuts it off); a Parquet file is written beside its name and renamed into place once its
//! footer is on the disk, so the name never holds a file that cannot be read.

use std::fs::File;
use std::io::{BufWriter, Write};
#[cfg(feature = "parquet")]
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::emit::RecordWriter;
#[cfg(feature = "parquet")]
use crate::emit::Shape;
use crate::error::{Context, Result};

/// The writer of a run's records, in either format.
pub struct RecordSink(Inner);

enum Inner {
    Jsonl(RecordWriter<BufWriter<Box<dyn Write>>>, Option<Syncer>),
    #[cfg(feature = "parquet")]
    Parquet(Box<ParquetSink>),
}

impl RecordSink {
    /// JSON lines to a stream (stdout, a pipe): nothing to sync.
    pub fn jsonl(out: Box<dyn Write>) -> Self {
        RecordSink(Inner::Jsonl(RecordWriter::new(BufWriter::new(out)), None))
    }

    /// JSON lines to a file, synced to the disk as it grows when it is a regular file (a
    /// device or a FIFO has nothing to sync).
    pub fn jsonl_file(file: File) -> Result<Self> {
        let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
        let sync = if regular {
            Some(Syncer {
                file: file
                    .try_clone()
                    .context("duplicating the output file's handle")?,
                last: Instant::now(),
            })
        } else {
            None
        };
        let out: Box<dyn Write> = Box::new(file);
        Ok(RecordSink(Inner::Jsonl(
            RecordWriter::new(BufWriter::new(out)),
            sync,
        )))
    }

    /// Parquet rows of `shape`, `row_group_rows` to a row group, to `path` (through a
    /// temporary file beside it, renamed to it by [`RecordSink::finish`], so that `path` is
    /// never a file without a footer) or, without a path, to stdout.
    #[cfg(feature = "parquet")]
    pub fn parquet(path: Option<&Path>, shape: Shape, row_group_rows: usize) -> Result<Self> {
        use crate::emit::parquet::ParquetWriter;
        let (out, path) = match path {
            Some(path) => {
                if path.is_dir() {
                    crate::error::bail!("{} is a directory", path.display());
                }
                let dir = match path.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir,
                    _ => Path::new("."),
                };
                let mut temp = tempfile::Builder::new();
                temp.prefix(".newstag-").suffix(".parquet.partial");
                // A temporary file is private (0600); the finished one is an ordinary output,
                // created as `File::create` creates the JSONL (0666 less the umask).
                #[cfg(unix)]
                temp.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
                let temp = temp
                    .tempfile_in(dir)
                    .with_context(|| format!("creating a file in {}", dir.display()))?;
                (ParquetOut::File(temp), Some(path.to_path_buf()))
            }
            None => (ParquetOut::Stdout(std::io::stdout()), None),
        };
        Ok(RecordSink(Inner::Parquet(Box::new(ParquetSink {
            writer: ParquetWriter::new(out, shape, row_group_rows)?,
            path,
        }))))
    }

    /// Writes one rendered record ([`crate::render`]); `is_error` counts it as an error record.
    pub fn write(&mut self, line: &[u8], is_error: bool) -> Result<()> {
        match &mut self.0 {
            Inner::Jsonl(w, _) => Ok(w.write(line, is_error)?),
            #[cfg(feature = "parquet")]
            Inner::Parquet(p) => p
                .writer
                .write(line, is_error)
                .with_context(|| parquet_failed(&p.path)),
        }
    }

    /// The end of a batch: JSON lines go out now (a pipe stage downstream, or a `tail -f`,
    /// sees records as they are made, and a killed run loses at most the batch in flight,
    /// which --resume redoes); Parquet rows wait for their row group. A file is also synced
    /// to the disk (see [`Syncer`]).
    pub fn end_batch(&mut self) -> Result<()> {
        match &mut self.0 {
            Inner::Jsonl(w, sync) => {
                w.flush()?;
                if let Some(sync) = sync
                    && sync.last.elapsed() >= SYNC_EVERY
                {
                    sync.sync()?;
                }
                Ok(())
            }
            #[cfg(feature = "parquet")]
            Inner::Parquet(_) => Ok(()),
        }
    }

    /// (records written, of which errors)
    pub fn counts(&self) -> (usize, usize) {
        match &self.0 {
            Inner::Jsonl(w, _) => (w.written, w.failed),
            #[cfg(feature = "parquet")]
            Inner::Parquet(p) => (p.writer.written, p.writer.failed),
        }
    }

    /// Flushes JSON lines; writes Parquet's last row group and footer and renames the file
    /// into place.
    pub fn finish(self) -> Result<()> {
        match self.0 {
            Inner::Jsonl(mut w, sync) => {
                w.flush()?;
                if let Some(mut sync) = sync {
                    sync.sync()?;
                }
                Ok(())
            }
            #[cfg(feature = "parquet")]
            Inner::Parquet(sink) => {
                let ParquetSink { writer, path } = *sink;
                let out = writer.finish().with_context(|| parquet_failed(&path))?;
                if let (ParquetOut::File(temp), Some(path)) = (out, &path) {
                    // On the disk before it takes the name: a power cut never leaves a
                    // named file without its footer.
                    temp.as_file()
                        .sync_all()
                        .context("syncing the Parquet file to disk")?;
                    // `PersistError` carries the file back; its I/O error says what failed.
                    temp.persist(path).map_err(|e| e.error).with_context(|| {
                        format!("renaming the Parquet file to {}", path.display())
                    })?;
                }
                Ok(())
            }
        }
    }
}

/// A Parquet run's output: its writer, and the path the finished file is renamed to.
#[cfg(feature = "parquet")]
struct ParquetSink {
    writer: crate::emit::parquet::ParquetWriter<ParquetOut>,
    path: Option<PathBuf>,
}

#[cfg(feature = "parquet")]
enum ParquetOut {
    File(tempfile::NamedTempFile),
    Stdout(std::io::Stdout),
}

#[cfg(feature = "parquet")]
impl Write for ParquetOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            ParquetOut::File(f) => f.write(buf),
            ParquetOut::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            ParquetOut::File(f) => f.flush(),
            ParquetOut::Stdout(s) => s.flush(),
        }
    }
}

/// How often a JSONL output file is pushed to the disk, at most.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// Pushes a JSONL output file to the disk (`fdatasync`) at the end of a batch when a second has
/// passed since the last time, and at the end of the run: a power cut then loses at most the
/// last second's records, and the damage it may leave past the last sync (zero bytes where the
/// file grew) is at the end of the file, where `--resume` cuts it off. Once a second, not once
/// a batch: `segment` makes a batch in a millisecond, and a sync can take longer than that.
struct Syncer {
    file: File,
    last: Instant,
}

impl Syncer {
    fn sync(&mut self) -> Result<()> {
        self.file
            .sync_data()
            .context("syncing the output file to disk")?;
        self.last = Instant::now();
        Ok(())
    }
}

/// What a failed Parquet write leaves behind.
#[cfg(feature = "parquet")]
fn parquet_failed(path: &Option<PathBuf>) -> String {
    match path {
        Some(path) => format!(
            "writing Parquet for {} (not written: it would have no footer)",
            path.display()
        ),
        None => "writing Parquet to stdout (what was written has no footer: unreadable)".into(),
    }
}
