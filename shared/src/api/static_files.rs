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

/// The map of the pages: a raster tile URL template (`https://{s}.tile.example/{z}/{x}/{y}.png`)
/// and its attribution, from the Spin variables `map_tiles_url` and `map_tiles_attribution`.
/// Without tiles the map still draws the grid cells, and a place can be typed or located.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapConfig {
    pub tiles: Option<String>,
    pub attribution: String,
}

impl MapConfig {
    /// A usable template or none: https (or http on loopback, for a local tile server), with
    /// `{z}`, `{x}` and `{y}`, and nothing that could break out of the CSP header.
    pub fn new(tiles: Option<String>, attribution: Option<String>) -> MapConfig {
        let tiles = tiles.map(|t| t.trim().to_owned()).filter(|t| {
            let local = ["http://127.0.0.1", "http://localhost"]
                .iter()
                .any(|p| t.starts_with(p));
            (t.starts_with("https://") || local)
                && ["{z}", "{x}", "{y}"].iter().all(|p| t.contains(p))
                && t.len() <= 500
                && !t
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, ';' | ',' | '\'' | '"'))
        });
        let attribution = attribution
            .map(|a| a.trim().chars().take(300).collect())
            .unwrap_or_default();
        MapConfig { tiles, attribution }
    }

    /// The tile server's origin for `img-src`; `{s}` subdomains become a wildcard.
    pub fn tile_origin(&self) -> Option<String> {
        let url = self.tiles.as_deref()?;
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next()?;
        Some(format!("{scheme}://{}", host.replace("{s}.", "*.")))
    }

    fn csp(&self) -> String {
        match self.tile_origin() {
            Some(origin) => CSP.replace(
                "img-src 'self' data: blob:",
                &format!("img-src 'self' data: blob: {origin}"),
            ),
            None => CSP.to_owned(),
        }
    }
}

/// The deployment's map configuration from its variables; unreadable variables mean no tiles.
pub async fn map_config<P: crate::ports::Platform>(platform: &P) -> MapConfig {
    let tiles = platform.variable("map_tiles_url").await.ok().flatten();
    let attribution = platform
        .variable("map_tiles_attribution")
        .await
        .ok()
        .flatten();
    MapConfig::new(tiles, attribution)
}

fn with_security_headers(response: ApiResponse, map: &MapConfig) -> ApiResponse {
    response
        .with_header("content-security-policy", map.csp())
        .with_header("x-content-type-options", "nosniff")
        .with_header("x-frame-options", "DENY")
        .with_header("referrer-policy", "no-referrer")
        .with_header("permissions-policy", "geolocation=(self), camera=(self)")
}

/// Serves a file of `static/`; `read` gets a relative path without `..` and returns its bytes.
/// `/config.json` is no file: it is the page configuration of this deployment.
pub fn serve(
    req: &ApiRequest,
    map: &MapConfig,
    read: impl Fn(&str) -> Option<Vec<u8>>,
) -> ApiResponse {
    // Unknown API paths fall through to this catch-all route; they get a problem, not a page.
    if req.path == "/api" || req.path.starts_with("/api/") || req.path.starts_with("/open311/") {
        return Problem::no_route(&req.method, &req.path).into_response();
    }
    if req.method != "GET" && req.method != "HEAD" {
        return Problem::method_not_allowed(&req.method, &req.path, &["GET", "HEAD"])
            .into_response();
    }
    if req.path == "/config.json" {
        let body = serde_json::json!({"map": {"tiles": map.tiles, "attribution": map.attribution}});
        let response = ApiResponse::json(200, &body).with_header("cache-control", "no-cache");
        return with_security_headers(response, map);
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
    let mut response = with_security_headers(response, map);
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
        let page = serve(&ApiRequest::new("GET", "/"), &MapConfig::default(), |p| {
            (p == "index.html").then(|| b"<html>".to_vec())
        });
        assert_eq!(page.status, 200);
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert!(
            page.header("content-security-policy")
                .unwrap()
                .contains("script-src 'self'")
        );
        let miss = serve(
            &ApiRequest::new("GET", "/api/nothing"),
            &MapConfig::default(),
            |_| None,
        );
        assert_eq!(miss.status, 404);
        assert_eq!(
            miss.header("content-type"),
            Some("application/problem+json")
        );
    }

    #[test]
    fn tiles_widen_only_img_src_and_only_to_a_clean_https_origin() {
        let map = MapConfig::new(
            Some("https://{s}.tiles.example.city/osm/{z}/{x}/{y}.png".into()),
            Some("© OpenStreetMap".into()),
        );
        assert_eq!(
            map.tile_origin().as_deref(),
            Some("https://*.tiles.example.city")
        );
        let page = serve(&ApiRequest::new("GET", "/config.json"), &map, |_| None);
        let csp = page.header("content-security-policy").unwrap();
        assert!(csp.contains("img-src 'self' data: blob: https://*.tiles.example.city;"));
        assert!(csp.contains("connect-src 'self';"));
        let body: serde_json::Value = serde_json::from_slice(&page.body).unwrap();
        assert_eq!(body["map"]["attribution"], "© OpenStreetMap");
        for bad in [
            "http://tiles.example/{z}/{x}/{y}.png",
            "https://tiles.example/{z}/{x}.png",
            "https://a.example/{z}/{x}/{y}.png; script-src *",
            "javascript:{z}{x}{y}",
        ] {
            assert_eq!(MapConfig::new(Some(bad.into()), None).tiles, None, "{bad}");
        }
        let none = serve(
            &ApiRequest::new("GET", "/config.json"),
            &MapConfig::default(),
            |_| None,
        );
        let body: serde_json::Value = serde_json::from_slice(&none.body).unwrap();
        assert!(body["map"]["tiles"].is_null());
    }
}
