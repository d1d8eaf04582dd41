//! The core library, without the default features, depends on no command-line crate and no
//! HTTP-server crate: a Python package or another front end built on it pulls in neither clap
//! and indicatif (the `cli` feature) nor tokio, axum, hyper and tower-http (`serve`), nor
//! anyhow (the library's errors are its own typed `newstag::Error`; anyhow is the binary's),
//! nor, without the `parquet` feature, arrow or parquet, nor, without the `html` feature,
//! rs-trafilatura, its HTML parser and chardetng, nor, without the `openvino` feature,
//! OpenVINO's bindings.

use std::process::Command;

/// `cargo tree` of the core's normal dependencies without default features, one crate a line
/// (`name vX.Y.Z`), with `extra` arguments; empty when cargo finds nothing to print.
fn core_tree(extra: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "-p",
            "newstag",
            "-e",
            "normal",
            "--no-default-features",
            "--prefix",
            "none",
        ])
        .args(extra)
        .output()
        .expect("run cargo tree");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_core_depends_on_no_front_end_crate() {
    let tree = core_tree(&[]);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"ort"), "unexpected tree:\n{tree}");
    for banned in [
        "indicatif",
        "anyhow",
        "tokio",
        "axum",
        "hyper",
        "tower-http",
        // Web pages are the `html` feature's (on by default for the binary).
        "rs-trafilatura",
        "dom_query",
        "html5ever",
        "chardetng",
        // bf16 topics are the `openvino` feature's (on by default for the binary).
        "openvino",
        "openvino-sys",
    ] {
        assert!(!crates.contains(&banned), "{banned} in the core:\n{tree}");
    }
    // Parquet output is a feature of its own (on by default for the binary): a front end that
    // writes no Parquet does not compile arrow.
    for c in &crates {
        assert!(
            *c != "parquet" && !c.starts_with("arrow"),
            "{c} in the core:\n{tree}"
        );
    }
    // clap comes only with sentencex, whose published crate lists it for its own binary (an
    // upstream packaging matter; docs/development.md): nothing of newstag's own pulls it in.
    let dependents = core_tree(&["-i", "clap", "--depth", "1"]);
    for line in dependents.lines().skip(1) {
        assert!(
            line.starts_with("sentencex "),
            "clap pulled in by {line}:\n{dependents}"
        );
    }
}
