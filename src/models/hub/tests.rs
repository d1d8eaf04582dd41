use super::protocol::{encode, is_loopback, origin_of};
use super::*;

#[test]
fn etags() {
    assert_eq!(clean_etag("W/\"ABCdef\""), "abcdef");
    assert_eq!(clean_etag("\"x\""), "x");
}

#[test]
fn content_range() {
    assert_eq!(
        parse_content_range("bytes 100-299/300"),
        Some((100, Some(300)))
    );
    assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
    assert_eq!(parse_content_range("items 1-2/3"), None);
}

#[test]
fn origins_and_locations() {
    assert_eq!(
        origin_of("https://huggingface.co/a/b"),
        "https://huggingface.co:443"
    );
    assert_eq!(
        origin_of("http://127.0.0.1:80/x"),
        origin_of("http://127.0.0.1/y")
    );
    assert_ne!(
        origin_of("http://127.0.0.1:1/x"),
        origin_of("http://127.0.0.1:2/x")
    );
    assert_eq!(
        resolve_location("http://h:1/a/b/c?q", "/x/y"),
        "http://h:1/x/y"
    );
    assert_eq!(resolve_location("http://h:1/a/b", "c"), "http://h:1/a/c");
    assert_eq!(resolve_location("https://h/a", "//cdn/z"), "https://cdn/z");
    assert_eq!(resolve_location("https://h/a", "http://o/z"), "http://o/z");
    assert!(is_loopback("http://127.0.0.1:8080"));
    assert!(is_loopback("http://localhost"));
    assert!(is_loopback("http://[::1]:9/x"));
    assert!(!is_loopback("https://huggingface.co"));
    assert!(!is_loopback("https://127.example.com"));
}

#[test]
fn paths() {
    assert!(check_file_path("onnx/model.onnx").is_ok());
    for bad in [
        "",
        "/etc/passwd",
        "../x",
        "a//b",
        "a/./b",
        ".incomplete/x",
        "a\\b",
    ] {
        assert!(check_file_path(bad).is_err(), "{bad}");
    }
    assert!(check_repo_id("org/tiny-model").is_ok());
    assert!(check_repo_id("gpt2").is_ok());
    assert!(check_repo_id("a/b/c").is_err());
    assert!(check_repo_id("../x").is_err());
    assert_eq!(encode("refs/pr/1", false), "refs%2Fpr%2F1");
    assert_eq!(encode("a b/c.onnx", true), "a%20b/c.onnx");
}
