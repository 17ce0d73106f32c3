//! The pages as a browser fetches them: compressed when it says it can decode brotli or gzip,
//! byte for byte the same page once decoded, revalidated with `If-None-Match` for a 304 and no
//! body. Over a plain socket, so that no client library decodes anything on the way.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use onegrid_tests::{TestApp, spawn_app};

/// An answer as it came over the wire.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One GET on its own connection (`connection: close`), the body read to the end.
fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Raw {
    let authority = app
        .base_url()
        .strip_prefix("http://")
        .expect("an http:// deployment");
    let authority = authority.split('/').next().unwrap_or(authority);
    let mut stream = TcpStream::connect(authority).expect("connecting");
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut head = format!("GET {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("sending");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("reading the answer");
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head");
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = bytes[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(&body) } else { body };
    Raw {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size");
        let size_text = String::from_utf8_lossy(&rest[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .expect("a hex chunk size");
        rest = &rest[end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("valid brotli");
    out
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// The report page, its script, the report rules' module and the map bundle: what a citizen's
/// phone loads first.
const PAGES: [&str; 4] = [
    "/",
    "/js/report.js",
    "/pkg/onegrid_web_validate_bg.wasm",
    "/build/map.js",
];

#[test]
fn pages_come_compressed_to_a_browser_that_decodes_them() {
    let app = spawn_app();
    let (mut plain_total, mut br_total) = (0, 0);
    for path in PAGES {
        let plain = get(&app, path, &[]);
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        assert_eq!(plain.header("vary"), Some("accept-encoding"), "{path}");

        let br = get(
            &app,
            path,
            &[("accept-encoding", "gzip, deflate, br, zstd")],
        );
        assert_eq!(br.status, 200, "{path}");
        assert_eq!(br.header("content-encoding"), Some("br"), "{path}");
        assert_eq!(
            unbrotli(&br.body),
            plain.body,
            "{path}: the same page once decoded"
        );
        assert!(
            br.body.len() * 2 < plain.body.len(),
            "{path}: {} bytes compressed of {}",
            br.body.len(),
            plain.body.len()
        );

        let gz = get(&app, path, &[("accept-encoding", "br;q=0, gzip")]);
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(gunzip(&gz.body), plain.body, "{path}");
        assert!(gz.body.len() < plain.body.len(), "{path}");

        let none = get(&app, path, &[("accept-encoding", "identity")]);
        assert_eq!(none.header("content-encoding"), None, "{path}");
        assert_eq!(none.body, plain.body, "{path}");

        plain_total += plain.body.len();
        br_total += br.body.len();
    }
    println!("the report page's first files: {plain_total} bytes, {br_total} in brotli");
}

#[test]
fn a_browser_that_holds_the_page_gets_304_without_a_body() {
    let app = spawn_app();
    let accept = ("accept-encoding", "br, gzip");
    let first = get(&app, "/js/report.js", &[accept]);
    assert_eq!(first.status, 200);
    let tag = first.header("etag").expect("an ETag").to_owned();
    assert!(first.header("cache-control").is_some());

    let again = get(&app, "/js/report.js", &[accept, ("if-none-match", &tag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(tag.as_str()));

    // The uncompressed variant is another entity: its own tag, a full answer for the other.
    let plain = get(&app, "/js/report.js", &[("if-none-match", &tag)]);
    assert_eq!(plain.status, 200);
    assert_ne!(plain.header("etag"), Some(tag.as_str()));
    assert!(!plain.body.is_empty());

    // A page (no-cache) revalidates the same way.
    let page = get(&app, "/", &[accept]);
    let page_tag = page.header("etag").expect("an ETag").to_owned();
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let page_again = get(&app, "/", &[accept, ("if-none-match", &page_tag)]);
    assert_eq!(page_again.status, 304);
}
