//! Brakes on memory: a client nobody knows cannot make the server read a large body. A staff
//! route's large body is read only after its token was checked; a department's callback only
//! with its signature headers. The check answers before the body arrives: each test sends the
//! head and a first piece of a 5 MiB body, and reads the answer without sending the rest.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use onegrid_tests::{TestApp, spawn_app};

// Past the ordinary 256 KiB, within every large route's own limit (a move's is 6 MiB).
const ANNOUNCED: usize = 5 * 1024 * 1024;
const SENT: usize = 256 * 1024;

/// The status line the server answers after the head and the first `SENT` bytes of a body it
/// was told is `ANNOUNCED` long; `None` if no answer came within five seconds (it waits for
/// the rest: it is reading the body).
fn early_answer(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Option<String> {
    let authority = app
        .base_url()
        .strip_prefix("http://")
        .expect("an http:// deployment")
        .split('/')
        .next()
        .expect("an authority")
        .to_owned();
    let mut stream = TcpStream::connect(&authority).expect("connecting");
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    stream.set_write_timeout(Some(Duration::from_secs(5))).ok();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\ncontent-length: {ANNOUNCED}\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    // The server may answer and close before all of this is sent: that is the point.
    let _ = stream.write_all(&vec![b' '; SENT]);
    let mut line = String::new();
    let started = Instant::now();
    match BufReader::new(stream).read_line(&mut line) {
        Ok(n) if n > 0 && started.elapsed() < Duration::from_secs(5) => Some(line),
        _ => None,
    }
}

fn status_of(line: &Option<String>) -> Option<u16> {
    line.as_deref()?.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn an_anonymous_upload_to_a_staff_route_is_refused_before_its_body_is_read() {
    let app = spawn_app();
    for path in [
        "/api/admin/grids",
        "/api/cases/01JD8X0000000000000000000/moves",
    ] {
        let answer = early_answer(&app, path, &[]);
        assert_eq!(status_of(&answer), Some(401), "{path}: {answer:?}");
    }
    // A wrong token, and a staff member of the wrong role, are refused the same way.
    let wrong = early_answer(
        &app,
        "/api/admin/grids",
        &[("authorization", "Bearer not-a-token")],
    );
    assert_eq!(status_of(&wrong), Some(401), "{wrong:?}");
    let operator = format!("Bearer {}", app.operator_token());
    let not_admin = early_answer(
        &app,
        "/api/admin/grids",
        &[("authorization", operator.as_str())],
    );
    assert_eq!(status_of(&not_admin), Some(403), "{not_admin:?}");
    // The server is no worse for it.
    app.get("/api/health").expect_status(200);
}

#[test]
fn an_unsigned_callback_is_refused_before_its_body_is_read() {
    let app = spawn_app();
    let answer = early_answer(&app, "/api/callbacks/gardens", &[]);
    assert_eq!(status_of(&answer), Some(401), "{answer:?}");
}

#[test]
fn the_admin_still_sends_a_large_body() {
    let app = spawn_app();
    // The admin is admitted: the server then waits for (and reads) the rest of the body.
    let admin = format!("Bearer {}", app.admin_token());
    let answer = early_answer(
        &app,
        "/api/admin/grids",
        &[("authorization", admin.as_str())],
    );
    assert_eq!(answer, None, "the admin's body is read: {answer:?}");
}
