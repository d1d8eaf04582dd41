//! The library's errors say which kind of failure they are, so a front end can tell a missing
//! model from a corrupt one, the network or a bad configuration without reading the message.

use std::error::Error as _;

use newstag::hub::HubClient;
use newstag::store::{self, Store};
use newstag::{Config, ErrorKind, Pipeline};

fn load(config: &Config, store: &Store) -> newstag::Error {
    match Pipeline::load(config, store, &mut |_| {}) {
        Ok(_) => panic!("loaded"),
        Err(e) => e,
    }
}

#[test]
fn a_missing_model_offline() {
    let root = tempfile::tempdir().unwrap();
    let config = Config {
        offline: true,
        ..Config::default()
    };
    let e = load(&config, &Store::new(root.path()));
    assert_eq!(e.kind(), ErrorKind::ModelMissing, "{e}");
    assert_eq!(e.model(), Some("onnxruntime"));
    // The library says what is wrong; what to type about it is the front end's to say.
    assert!(
        !e.to_string().contains("newstag models") && !e.to_string().contains("--"),
        "{e}"
    );
}

#[test]
fn a_bad_configuration() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    let dir = tempfile::tempdir().unwrap();
    for config in [
        Config {
            threshold: Some(2.0),
            ..Config::default()
        },
        Config {
            topics: Some(dir.path().join("no-such-topics.toml")),
            ..Config::default()
        },
        Config {
            entity_rules: Some(dir.path().join("no-such-rules.toml")),
            ..Config::default()
        },
        Config {
            ner: Some("a/b/c".into()),
            ..Config::default()
        },
    ] {
        let e = load(&config, &store);
        assert_eq!(e.kind(), ErrorKind::Config, "{config:?}: {e}");
    }
    // The message keeps its chain of causes.
    let e = load(
        &Config {
            topics: Some(dir.path().join("no-such-topics.toml")),
            ..Config::default()
        },
        &store,
    );
    assert!(e.to_string().contains("no-such-topics.toml"), "{e}");
    assert!(e.source().is_some(), "{e}");
}

#[test]
fn a_corrupt_model() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    let spec = &store::ONNXRUNTIME_LIB;
    let path = store.file_path(spec, &spec.files[0]);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"not a shared library").unwrap();
    let e = store.verify(spec).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ModelCorrupt, "{e}");
}

#[test]
fn an_unreachable_hub() {
    // Nothing listens on port 1 of the loopback interface: the connection is refused.
    let client = HubClient::new("http://127.0.0.1:1", None, false);
    let dest = tempfile::tempdir().unwrap();
    let e = client
        .download(
            "org/model",
            "main",
            &["config.json"],
            dest.path(),
            &mut |_| {},
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
}

#[test]
fn a_binary_using_anyhow_prints_the_same_chain() {
    // The CLI wraps the library's errors in anyhow and prints them with `{:#}`.
    let root = tempfile::tempdir().unwrap();
    let config = Config {
        topics: Some(root.path().join("no-such-topics.toml")),
        ..Config::default()
    };
    let e = load(&config, &Store::new(root.path()));
    let chain = format!("{e:#}");
    assert!(chain.matches(": ").count() >= 1, "{chain}");
    assert_eq!(format!("{:#}", anyhow::Error::from(e)), chain);
}
