//! Serving the web pages of `static/`, the same in the Spin component (over a files mount) and
//! in the native host (from disk). Pages get strict security headers: no inline script, no
//! framing, no sniffing. A path never leaves the static folder.

use crate::{ApiRequest, ApiResponse, Problem};

/// Content security policy of every page: only our own scripts, styles and images; map tiles,
/// once configured, are the one place that may widen `img-src`.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// The file a URL path names, relative to the static folder; `None` for anything that could
/// step outside it or reach a hidden file.
pub fn file_for(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('.') || segment.contains('\\') || segment.contains('\0') {
            return None;
        }
        parts.push(segment);
    }
    let mut rel = parts.join("/");
    if rel.is_empty() || path.ends_with('/') {
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str("index.html");
    }
    Some(rel)
}

fn with_security_headers(response: ApiResponse) -> ApiResponse {
    response
        .with_header("content-security-policy", CSP)
        .with_header("x-content-type-options", "nosniff")
        .with_header("x-frame-options", "DENY")
        .with_header("referrer-policy", "no-referrer")
        .with_header("permissions-policy", "geolocation=(self), camera=(self)")
}

/// Serves a file of `static/`; `read` gets a relative path without `..` and returns its bytes.
pub fn serve(req: &ApiRequest, read: impl Fn(&str) -> Option<Vec<u8>>) -> ApiResponse {
    // Unknown API paths fall through to this catch-all route; they get a problem, not a page.
    if req.path == "/api" || req.path.starts_with("/api/") || req.path.starts_with("/open311/") {
        return Problem::no_route(&req.method, &req.path).into_response();
    }
    if req.method != "GET" && req.method != "HEAD" {
        return Problem::method_not_allowed(&req.method, &req.path, &["GET", "HEAD"])
            .into_response();
    }
    let found = file_for(&req.path).and_then(|rel| read(&rel).map(|bytes| (rel, bytes)));
    let response = match found {
        Some((rel, bytes)) => {
            let cache = if rel.ends_with(".html") {
                "no-cache"
            } else {
                "public, max-age=300"
            };
            ApiResponse::new(200, content_type(&rel), bytes).with_header("cache-control", cache)
        }
        None => match read("404.html") {
            Some(page) => ApiResponse::new(404, "text/html; charset=utf-8", page),
            None => Problem::not_found("page", &req.path).into_response(),
        },
    };
    let mut response = with_security_headers(response);
    if req.method == "HEAD" {
        response.body.clear();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_static_folder() {
        assert_eq!(file_for("/").as_deref(), Some("index.html"));
        assert_eq!(file_for("/js/app.js").as_deref(), Some("js/app.js"));
        assert_eq!(file_for("/docs/").as_deref(), Some("docs/index.html"));
        assert_eq!(file_for("/../etc/passwd"), None);
        assert_eq!(file_for("/.git/config"), None);
        assert_eq!(file_for("/a\\..\\b"), None);
    }

    #[test]
    fn pages_carry_security_headers_and_api_misses_are_problems() {
        let page = serve(&ApiRequest::new("GET", "/"), |p| {
            (p == "index.html").then(|| b"<html>".to_vec())
        });
        assert_eq!(page.status, 200);
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert!(
            page.header("content-security-policy")
                .unwrap()
                .contains("script-src 'self'")
        );
        let miss = serve(&ApiRequest::new("GET", "/api/nothing"), |_| None);
        assert_eq!(miss.status, 404);
        assert_eq!(
            miss.header("content-type"),
            Some("application/problem+json")
        );
    }
}
