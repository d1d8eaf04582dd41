//! What the Hub's requests and answers are made of: header values, ETags and Content-Range,
//! origins and redirect locations, URL encoding, and the checks on repo ids, revisions and file
//! paths before any of them goes into a URL or a local path.

use crate::error::{Result, bail};

use super::{INCOMPLETE_DIR, META_SUFFIX};

pub(super) fn header(headers: &ureq::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

/// `W/"abc"` -> `abc`.
pub(crate) fn clean_etag(etag: &str) -> String {
    let etag = etag.trim();
    let etag = etag.strip_prefix("W/").unwrap_or(etag);
    etag.trim_matches('"').to_ascii_lowercase()
}

pub(super) fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `bytes 100-299/300` -> (100, Some(300)); `bytes 100-299/*` -> (100, None).
pub(crate) fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start.trim().parse().ok()?, total))
}

/// `scheme://host:port` of a URL, lowercased, for telling one host from another.
pub(super) fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let mut origin = format!("{scheme}://{}", authority.to_ascii_lowercase());
    if !has_port {
        origin.push_str(default_port);
    }
    origin
}

/// True for `localhost`, `127.x.x.x` and `[::1]` endpoints.
pub(super) fn is_loopback(url: &str) -> bool {
    let origin = origin_of(url);
    let authority = origin.split_once("://").map_or(origin.as_str(), |(_, a)| a);
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A `Location` header made absolute against the URL that sent it.
pub(crate) fn resolve_location(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(loc) = location.strip_prefix("//") {
        return format!("{scheme}://{loc}");
    }
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = rest[authority_end..].split(['?', '#']).next().unwrap_or("");
    let dir = &path[..path.rfind('/').map(|i| i + 1).unwrap_or(0)];
    let dir = if dir.is_empty() { "/" } else { dir };
    format!("{scheme}://{authority}{dir}{location}")
}

/// Percent-encodes all but RFC 3986 unreserved characters (and `/` when `keep_slash`).
pub(super) fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn check_repo_id(repo_id: &str) -> Result<()> {
    let parts: Vec<&str> = repo_id.split('/').collect();
    let ok = !repo_id.is_empty()
        && parts.len() <= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && *p != "."
                && *p != ".."
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
    if !ok {
        bail!("invalid Hub repo id {repo_id:?} (expected NAME or OWNER/NAME)");
    }
    Ok(())
}

pub(crate) fn check_revision(revision: &str) -> Result<()> {
    if revision
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
        || revision.chars().any(|c| c.is_control())
    {
        bail!("invalid revision {revision:?}");
    }
    Ok(())
}

/// A file path of the repo, kept inside `dest_dir`: relative, no `.` or `..`, not our own
/// bookkeeping.
pub(crate) fn check_file_path(file: &str) -> Result<()> {
    let parts: Vec<&str> = file.split('/').collect();
    let ok = !file.is_empty()
        && !file.contains('\\')
        && !file.chars().any(|c| c.is_control())
        && parts
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != "..")
        && parts[0] != INCOMPLETE_DIR
        && !file.ends_with(META_SUFFIX);
    if !ok {
        bail!(
            "invalid file path {file:?} (expected a relative path inside the repo, like onnx/model.onnx)"
        );
    }
    Ok(())
}
