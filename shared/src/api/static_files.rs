//! Serving the web pages of `static/`, the same in the Spin component (over a files mount) and
//! in the native host (from disk). Pages get strict security headers: no inline script, no
//! framing, no sniffing. A path never leaves the static folder.
//!
//! Compression is done once, at build time (web/pages): beside each text file or module, a
//! brotli and a gzip copy under `static/.compressed/`, named by the xxh3 hash of the file they
//! were made from (`js/report.js` → `.compressed/js/report.js.<hash>.br`). A request hashes the
//! file it is about to serve and sends the copy of that very content when the client accepts
//! its encoding, so a file edited after the build (the native host serves `static/` live) is
//! sent as it is, uncompressed, never an old copy — whatever the mount did to file times. The
//! same hash is the `ETag`, so a browser revalidates with `If-None-Match` and gets a 304.

use std::path::{Component as PathPart, Path, PathBuf};

use crate::{ApiRequest, ApiResponse, Problem};

/// The folder of `static/` holding the precompressed copies; hidden, so no URL reaches it.
pub const COMPRESSED_DIR: &str = ".compressed";

/// Where the web pages are: a directory on disk for the native host, the files mount for the
/// Spin component. Paths are relative and have passed [`file_for`].
pub trait StaticDir {
    fn read(&self, rel: &str) -> Option<Vec<u8>>;
}

/// `static/` as a directory of the file system (the host's folder, the component's mount `/`).
pub struct Folder(pub PathBuf);

impl StaticDir for Folder {
    fn read(&self, rel: &str) -> Option<Vec<u8>> {
        let rel = Path::new(rel);
        // `file_for` never gives `..`; refuse anything but plain relative parts all the same.
        if !rel
            .components()
            .all(|part| matches!(part, PathPart::Normal(_)))
        {
            return None;
        }
        std::fs::read(self.0.join(rel)).ok()
    }
}

/// Files from a function, for tests.
impl<F: Fn(&str) -> Option<Vec<u8>>> StaticDir for F {
    fn read(&self, rel: &str) -> Option<Vec<u8>> {
        self(rel)
    }
}

/// The content hash that names a file's compressed copies and is its `ETag`; web/pages names
/// the copies with the same function of the same bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(bytes))
}

/// Where the copy of `rel` in `encoding` (`br`, `gz`) made from content of this hash is.
pub fn compressed_copy(rel: &str, hash: &str, encoding: &str) -> String {
    format!("{COMPRESSED_DIR}/{rel}.{hash}.{encoding}")
}

/// The content codings we hold copies in, best first: (`Content-Encoding`, file suffix).
const ENCODINGS: [(&str, &str); 2] = [("br", "br"), ("gzip", "gz")];

/// Whether `Accept-Encoding` allows this coding: named with a q above 0, or `*` when it is not
/// named at all (RFC 9110 §12.5.3).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let mut star = false;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return q > 0.0;
        }
        if name == "*" {
            star = q > 0.0;
        }
    }
    star
}

/// Whether an `If-None-Match` list holds this entity tag (weak comparison, as for GET).
fn none_match(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag
    })
}

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

/// Serves a file of `static/`, compressed when the client accepts an encoding we hold a copy of
/// this content in. `/config.json` is no file: it is the page configuration of this deployment.
pub fn serve(req: &ApiRequest, map: &MapConfig, dir: &impl StaticDir) -> ApiResponse {
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
    let found = file_for(&req.path).and_then(|rel| dir.read(&rel).map(|bytes| (rel, bytes)));
    let response = match found {
        Some((rel, bytes)) => file_response(req, dir, &rel, bytes),
        None => match dir.read("404.html") {
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

/// A file's answer: 304 when the client holds this content, else its bytes or the copy in the
/// best encoding the client accepts.
fn file_response(req: &ApiRequest, dir: &impl StaticDir, rel: &str, bytes: Vec<u8>) -> ApiResponse {
    let cache = if rel.ends_with(".html") {
        "no-cache"
    } else {
        "public, max-age=300"
    };
    let hash = content_hash(&bytes);
    let accept = req.header("accept-encoding").unwrap_or("");
    let copy = ENCODINGS
        .iter()
        .filter(|(coding, _)| accepts(accept, coding))
        .find_map(|(coding, suffix)| {
            let copy = dir.read(&compressed_copy(rel, &hash, suffix))?;
            Some((*coding, copy))
        });
    // A variant per coding has its own tag (RFC 9110 §8.8.3).
    let etag = match &copy {
        Some((coding, _)) => format!("\"{hash}-{coding}\""),
        None => format!("\"{hash}\""),
    };
    let fresh = req
        .header("if-none-match")
        .is_some_and(|list| none_match(list, &etag));
    let mut response = if fresh {
        ApiResponse {
            status: 304,
            headers: Vec::new(),
            body: Vec::new(),
        }
    } else {
        match copy {
            Some((coding, copy)) => ApiResponse::new(200, content_type(rel), copy)
                .with_header("content-encoding", coding),
            None => ApiResponse::new(200, content_type(rel), bytes),
        }
    };
    response = response
        .with_header("cache-control", cache)
        .with_header("etag", etag)
        .with_header("vary", "accept-encoding");
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
        let page = serve(
            &ApiRequest::new("GET", "/"),
            &MapConfig::default(),
            &|p: &str| (p == "index.html").then(|| b"<html>".to_vec()),
        );
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
            &|_: &str| None,
        );
        assert_eq!(miss.status, 404);
        assert_eq!(
            miss.header("content-type"),
            Some("application/problem+json")
        );
    }

    /// A folder with `js/app.js` and its copies made from `made_from`.
    fn folder_with_copies(made_from: &'static [u8]) -> impl Fn(&str) -> Option<Vec<u8>> {
        let hash = content_hash(made_from);
        move |rel: &str| match rel {
            "js/app.js" => Some(b"let current = 1;".to_vec()),
            r if r == compressed_copy("js/app.js", &hash, "br") => Some(b"BR".to_vec()),
            r if r == compressed_copy("js/app.js", &hash, "gz") => Some(b"GZ".to_vec()),
            _ => None,
        }
    }

    fn get(accept_encoding: &str, if_none_match: Option<&str>) -> ApiRequest {
        let mut req = ApiRequest::new("GET", "/js/app.js");
        req.headers
            .push(("accept-encoding".into(), accept_encoding.into()));
        if let Some(tag) = if_none_match {
            req.headers.push(("if-none-match".into(), tag.into()));
        }
        req
    }

    #[test]
    fn the_copy_in_the_best_accepted_encoding_is_sent() {
        let dir = folder_with_copies(b"let current = 1;");
        let map = MapConfig::default();
        let cases = [
            ("gzip, deflate, br, zstd", Some("br")),
            ("br;q=0, gzip", Some("gzip")),
            ("gzip;q=0.5", Some("gzip")),
            ("*", Some("br")),
            ("*;q=0, gzip;q=0", None),
            ("identity", None),
            ("", None),
        ];
        for (accept, coding) in cases {
            let answer = serve(&get(accept, None), &map, &dir);
            assert_eq!(answer.status, 200, "{accept}");
            assert_eq!(answer.header("content-encoding"), coding, "{accept}");
            assert_eq!(answer.header("vary"), Some("accept-encoding"));
            let body: &[u8] = match coding {
                Some("br") => b"BR",
                Some(_) => b"GZ",
                None => b"let current = 1;",
            };
            assert_eq!(answer.body, body, "{accept}");
        }
    }

    #[test]
    fn a_file_changed_after_its_copies_were_made_is_sent_as_it_is() {
        // The copies were made from the file before an edit: their name holds the old hash.
        let dir = folder_with_copies(b"let current = 0;");
        let answer = serve(&get("br, gzip", None), &MapConfig::default(), &dir);
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-encoding"), None);
        assert_eq!(answer.body, b"let current = 1;");
    }

    #[test]
    fn a_client_holding_the_content_gets_304_per_encoding() {
        let dir = folder_with_copies(b"let current = 1;");
        let map = MapConfig::default();
        let br = serve(&get("br", None), &map, &dir);
        let plain = serve(&get("", None), &map, &dir);
        let (br_tag, plain_tag) = (br.header("etag").unwrap(), plain.header("etag").unwrap());
        assert_ne!(br_tag, plain_tag, "each variant has its own tag");
        let again = serve(&get("br", Some(br_tag)), &map, &dir);
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(br_tag));
        let weak = serve(&get("", Some(&format!("\"x\", W/{plain_tag}"))), &map, &dir);
        assert_eq!(weak.status, 304, "weak comparison, any tag of the list");
        // The tag of the other variant is not this one.
        assert_eq!(serve(&get("", Some(br_tag)), &map, &dir).status, 200);
    }

    #[test]
    fn folder_reads_stay_inside_the_directory() {
        let dir = std::env::temp_dir().join(format!("onegrid-static-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("css")).unwrap();
        std::fs::write(dir.join("css/app.css"), "body{}").unwrap();
        let folder = Folder(dir.clone());
        assert_eq!(folder.read("css/app.css").as_deref(), Some(&b"body{}"[..]));
        assert_eq!(folder.read("../etc/passwd"), None);
        assert_eq!(folder.read("/etc/passwd"), None);
        assert_eq!(folder.read("css"), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn no_url_reaches_the_copies() {
        assert_eq!(file_for("/.compressed/js/app.js.0123.br"), None);
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
        let page = serve(&ApiRequest::new("GET", "/config.json"), &map, &|_: &str| {
            None
        });
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
            &|_: &str| None,
        );
        let body: serde_json::Value = serde_json::from_slice(&none.body).unwrap();
        assert!(body["map"]["tiles"].is_null());
    }
}
