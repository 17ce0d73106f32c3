//! The server end to end on a loopback port: body caps, routing into handlers, headers.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;

use onegrid::http::{MAX_BODY_BYTES, MAX_MAP_BODY_BYTES};

use super::*;

fn running(tag: &str) -> SocketAddr {
    running_with(tag, Timeouts::default())
}

fn running_with(tag: &str, timeouts: Timeouts) -> SocketAddr {
    let dir = std::env::temp_dir().join(format!("onegrid-server-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = EnvConfig {
        data_dir: dir.clone(),
        // Set, so that a request without the token is refused with 401 rather than 503.
        variables: Arc::new(HashMap::from([(
            "admin_token".to_owned(),
            "test-admin-token".to_owned(),
        )])),
    };
    let router = Router::embedded().unwrap();
    let app = Arc::new(App {
        router,
        static_dir: Folder(dir),
    });
    start_with("127.0.0.1:0", &config, app, 2, timeouts)
        .unwrap()
        .addr
}

/// Writes `bytes` on a new connection (a refusal half way is fine) and reads what comes
/// back until the server closes, resets, or stays silent for 10 s.
fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.write_all(bytes);
    read_all(&mut stream)
}

fn read_all(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0; 4096];
    while let Ok(n @ 1..) = stream.read(&mut buf) {
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

fn health_is_answered(addr: SocketAddr) {
    let response = agent()
        .get(format!("http://{addr}/api/health"))
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

#[test]
fn requests_reach_the_handlers_and_big_bodies_get_413() {
    let addr = running("http");
    let agent = agent();
    let mut health = agent
        .get(format!("http://{addr}/api/health?x=1"))
        .call()
        .unwrap();
    assert_ne!(health.status(), 413);
    let content_type = health
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.contains("json"), "{content_type}");
    assert!(!health.body_mut().read_to_vec().unwrap().is_empty());

    let big = vec![b'a'; 300 * 1024];
    let mut refused = agent
        .post(format!("http://{addr}/api/session"))
        .content_type("application/json")
        .send(&big[..])
        .unwrap();
    assert_eq!(refused.status(), 413);
    let problem: serde_json::Value =
        serde_json::from_slice(&refused.body_mut().read_to_vec().unwrap()).unwrap();
    assert_eq!(problem["type"], "/problems/body-too-large");

    let exact = vec![b'a'; MAX_BODY_BYTES];
    let fits = agent
        .post(format!("http://{addr}/api/session"))
        .send(&exact[..])
        .unwrap();
    assert_ne!(fits.status(), 413);
}

fn chunked(path: &str, total: usize) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n"
    )
    .into_bytes();
    let chunk = vec![b'a'; 32 * 1024];
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len());
        out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        out.extend_from_slice(&chunk[..n]);
        out.extend_from_slice(b"\r\n");
        left -= n;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[test]
fn a_chunked_body_is_capped_while_reading() {
    let addr = running("chunked");
    let answer = raw(addr, &chunked("/api/session", 320 * 1024));
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("/problems/body-too-large"), "{answer}");
    health_is_answered(addr);
}

#[test]
fn a_huge_content_length_is_refused_unread_and_the_server_lives_on() {
    let addr = running("huge");
    for path in ["/api/reports", "/api/admin/grids"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: 1000000000000\r\n\r\n{{}}"
        );
        let answer = raw(addr, head.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("/problems/body-too-large"), "{answer}");
        health_is_answered(addr);
    }
}

#[test]
fn the_map_import_takes_bodies_past_the_ordinary_cap() {
    let addr = running("map");
    let body = vec![b' '; 1024 * 1024];
    let response = agent()
        .post(format!("http://{addr}/api/admin/grids"))
        .header("authorization", "Bearer test-admin-token")
        .content_type("application/geo+json")
        .send(&body[..])
        .unwrap();
    // The admin's megabyte is read, and refused for what it is (not a map), not for its size.
    assert!(
        (400..500).contains(&response.status().as_u16()) && response.status() != 413,
        "{}",
        response.status()
    );

    let answer = raw(addr, &chunked("/api/admin/grids", 1024 * 1024));
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(!answer.starts_with("HTTP/1.1 413"), "{answer}");

    let head = format!(
        "POST /api/admin/grids HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\
         Content-Length: {}\r\n\r\n",
        MAX_MAP_BODY_BYTES + 1
    );
    let answer = raw(addr, head.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[test]
fn slow_clients_do_not_hold_the_server() {
    let addr = running("slow");
    // Far more than the 2 workers: some promise a body and never send it, some send
    // half a request head, some nothing at all.
    let mut idle = Vec::new();
    for i in 0..12 {
        let mut stream = TcpStream::connect(addr).unwrap();
        let bytes: &[u8] = match i % 3 {
            0 => b"POST /api/reports HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
            1 => b"GET /api/health HTTP/1.1\r\nHo",
            _ => b"",
        };
        stream.write_all(bytes).unwrap();
        idle.push(stream);
    }
    let started = Instant::now();
    for _ in 0..4 {
        health_is_answered(addr);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(idle);
}

#[test]
fn a_body_that_never_comes_gets_408_and_a_silent_head_is_cut() {
    let timeouts = Timeouts {
        header: Duration::from_millis(500),
        body: Duration::from_millis(500),
    };
    let addr = running_with("timeouts", timeouts);
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = "POST /api/reports HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{";
    stream.write_all(head.as_bytes()).unwrap();
    let answer = read_all(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("/problems/request-timeout"), "{answer}");

    let started = Instant::now();
    let answer = raw(addr, b"GET /api/health HTTP/1.1\r\nHo");
    assert!(!answer.contains(" 200 "), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    health_is_answered(addr);
}

#[test]
fn a_panicking_handler_answers_500() {
    let response = guarded(|| panic!("boom"));
    assert_eq!(response.status, 500);
    assert_eq!(
        guarded(|| Problem::conflict("x").into_response()).status,
        409
    );
}
