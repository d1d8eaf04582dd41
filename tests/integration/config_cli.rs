//! `--config FILE`: a run configured from a TOML or JSON file, flags winning over it.

use crate::common;

use std::fs;
use std::path::Path;

use common::*;

const RULES: &str = "[[entity]]\nphrase = \"Arctic cooperation body\"\nlabel = \"ORG\"\n";
const VOCABULARY: &str = "tag,kind,aliases\nVladimir Putin,person,Putin|President Putin\n";

/// A directory holding entity rules and a vocabulary, for configs to name relatively.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("rules.toml"), RULES).unwrap();
    fs::write(dir.path().join("desk.csv"), VOCABULARY).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs newstag and returns its stdout, asserting success.
fn stdout(args: &[&str]) -> Vec<u8> {
    let out = run(args);
    assert_ok(&out);
    assert!(!out.stdout.is_empty());
    out.stdout
}

#[test]
fn a_config_file_gives_the_records_of_the_same_flags() {
    ensure_models();
    let dir = workspace();
    let articles = fixtures();
    let articles = path(&articles);
    let rules = dir.path().join("rules.toml");
    let vocabulary = dir.path().join("desk.csv");

    // TOML, relative paths taken from the file's directory.
    let toml = dir.path().join("run.toml");
    fs::write(
        &toml,
        "profile = \"fast\"\nthreshold = 0.2\ndepth = 2\nentity_rules = \"rules.toml\"\n\
         vocabulary = \"desk.csv\"\nbatch_size = 2\nthreads = 1\n",
    )
    .unwrap();
    let flags = stdout(&[
        "annotate",
        "-q",
        "--threshold",
        "0.2",
        "--depth",
        "2",
        "--entity-rules",
        path(&rules),
        "--vocabulary",
        path(&vocabulary),
        "--batch-size",
        "2",
        "--threads",
        "1",
        articles,
    ]);
    let file = stdout(&["annotate", "-q", "--config", path(&toml), articles]);
    assert!(flags == file, "annotate --config differs from the flags");
    let tags_flags = stdout(&[
        "tags",
        "--json",
        "-q",
        "--vocabulary",
        path(&vocabulary),
        "--vocabulary-only",
        articles,
    ]);
    let tags_toml = dir.path().join("tags.toml");
    fs::write(
        &tags_toml,
        "vocabulary = \"desk.csv\"\nvocabulary_only = true\n",
    )
    .unwrap();
    let tags_file = stdout(&[
        "tags",
        "--json",
        "-q",
        "--config",
        path(&tags_toml),
        articles,
    ]);
    assert!(
        tags_flags == tags_file,
        "tags --config differs from the flags"
    );

    // JSON, with labels and no NER.
    let json = dir.path().join("run.json");
    fs::write(
        &json,
        r#"{"ner": "none", "labels": ["Football", "Central banks"], "threshold": 0.1}"#,
    )
    .unwrap();
    let flags = stdout(&[
        "annotate",
        "-q",
        "--ner",
        "none",
        "--label",
        "Football",
        "--label",
        "Central banks",
        "--threshold",
        "0.1",
        articles,
    ]);
    let file = stdout(&["annotate", "-q", "--config", path(&json), articles]);
    assert!(
        flags == file,
        "annotate --config (JSON) differs from the flags"
    );
}

#[test]
fn flags_win_over_the_file() {
    ensure_models();
    let dir = workspace();
    let articles = fixtures();
    let articles = path(&articles);
    let toml = dir.path().join("run.toml");
    fs::write(
        &toml,
        "ner = \"none\"\nlabels = [\"Football\"]\nthreshold = 0.9\ndepth = 1\n",
    )
    .unwrap();
    let flags = stdout(&[
        "annotate",
        "-q",
        "--ner",
        "none",
        "--threshold",
        "0.2",
        "--depth",
        "3",
        articles,
    ]);
    // The flags' labels, threshold and depth replace the file's; its `ner` stays.
    let overridden = stdout(&[
        "annotate",
        "-q",
        "--config",
        path(&toml),
        "--label",
        "Central banks",
        "--threshold",
        "0.2",
        "--depth",
        "3",
        articles,
    ]);
    let expected = stdout(&[
        "annotate",
        "-q",
        "--ner",
        "none",
        "--label",
        "Central banks",
        "--threshold",
        "0.2",
        "--depth",
        "3",
        articles,
    ]);
    assert!(overridden == expected, "flags did not win over the file");
    assert!(flags != overridden, "the labels flag changed nothing");
}

#[test]
fn a_bad_config_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let seed = seed();
    for (name, text, says) in [
        ("typo.toml", "treshold = 0.2\n", "treshold"),
        ("syntax.toml", "threshold = \n", "config "),
        (
            "range.toml",
            "threshold = 1.5\n",
            "threshold must be in [0, 1]",
        ),
        ("kind.json", r#"{"profile": "quick"}"#, "quick"),
        (
            "both.toml",
            "topics = \"t.toml\"\nlabels = [\"Sport\"]\n",
            "exclude each other",
        ),
    ] {
        let file = dir.path().join(name);
        fs::write(&file, text).unwrap();
        let out = run(&["annotate", "-q", "--config", path(&file), &seed]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}");
        assert!(
            stderr.starts_with(&format!("newstag: error: config {}: ", file.display()))
                && stderr.contains(says),
            "{name}: {stderr}"
        );
    }
    for (name, text, says) in [
        (
            "label.toml",
            "labels = [\"Sport\", \" \"]\n",
            "a label is empty",
        ),
        ("batch.toml", "batch_size = 0\n", "at least 1"),
    ] {
        let file = dir.path().join(name);
        fs::write(&file, text).unwrap();
        let out = run(&["annotate", "-q", "--config", path(&file), &seed]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{name}"
        );
    }
    // The same rules hold for flags: one Config::validate behind both.
    for (flags, says) in [
        (
            &["--label", "Sport", "--label", " "][..],
            "a label is empty",
        ),
        (&["--batch-size", "0"][..], "at least 1"),
        (&["--threads", "0"][..], "at least 1"),
    ] {
        let mut args = vec!["annotate", "-q"];
        args.extend_from_slice(flags);
        args.push(&seed);
        let out = run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(
            stderr.starts_with("newstag: error: ") && stderr.contains(says),
            "{flags:?}: {stderr}"
        );
    }
    let missing = dir.path().join("missing.toml");
    let out = run(&["tags", "--config", path(&missing), &seed]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));

    // A valid file naming a topic set that cannot be read: the run cannot start (exit 1), as
    // with --topics.
    let file = dir.path().join("topics.toml");
    fs::write(&file, "topics = \"no-such-topics.toml\"\n").unwrap();
    let out = run(&["annotate", "-q", "--config", path(&file), &seed]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-topics.toml"));
}

#[test]
fn segment_reads_a_config_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let seed = seed();
    let toml = dir.path().join("segment.toml");
    fs::write(
        &toml,
        "max_article_bytes = 100\nbatch_size = 1\nthreads = 1\n",
    )
    .unwrap();
    let out = run(&["segment", "-q", "--config", path(&toml), &seed]);
    assert_eq!(out.status.code(), Some(3), "one article failed");
    assert_eq!(records(&out)[0]["error"]["kind"], "too_large");
    // The flag wins over the file: the same limit as the defaults gives the default records.
    let flag = stdout(&[
        "segment",
        "--config",
        path(&toml),
        "--max-article-bytes",
        "1048576",
        &seed,
    ]);
    assert!(flag == stdout(&["segment", &seed]), "the flag did not win");
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, "max_article_bytez = 100\n").unwrap();
    let out = run(&["segment", "--config", path(&bad), &seed]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_flag_switches_off_what_the_file_turns_on() {
    ensure_models();
    let dir = workspace();
    let articles = fixtures();
    let articles = path(&articles);
    let toml = dir.path().join("only.toml");
    fs::write(&toml, "vocabulary = \"desk.csv\"\nvocabulary_only = true\n").unwrap();
    let tags = |extra: &[&str]| {
        let mut args = vec!["tags", "--json", "-q"];
        args.extend_from_slice(extra);
        args.push(articles);
        stdout(&args)
    };
    let vocabulary = dir.path().join("desk.csv");
    let all = tags(&["--vocabulary", path(&vocabulary)]);
    let only = tags(&["--config", path(&toml)]);
    assert!(all != only, "vocabulary_only changed nothing");
    assert!(
        tags(&["--config", path(&toml), "--no-vocabulary-only"]) == all,
        "--no-vocabulary-only did not win over the file"
    );
    // Of a --X / --no-X pair the last given wins.
    assert!(
        tags(&[
            "--config",
            path(&toml),
            "--no-vocabulary-only",
            "--vocabulary-only"
        ]) == only
    );
}
