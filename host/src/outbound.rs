//! Outbound HTTP for `Platform::send` (department webhooks) on ureq. Like Spin's outbound
//! HTTP it follows no redirects and hands back any status, 4xx and 5xx included; only a
//! transport failure is an error. Bodies that come back are cut at 64 KiB.

use std::io::Read;
use std::time::Duration;

use onegrid::ports::{OutboundRequest, OutboundResponse};

/// Most of a response body we keep.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024;
const TIMEOUT: Option<Duration> = Some(Duration::from_secs(5));

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(TIMEOUT)
        .timeout_recv_response(TIMEOUT)
        .timeout_recv_body(TIMEOUT)
        .timeout_per_write(TIMEOUT)
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

pub fn send(agent: &ureq::Agent, request: OutboundRequest) -> Result<OutboundResponse, String> {
    let mut builder = ureq::http::Request::builder()
        .method(request.method.as_str())
        .uri(request.url.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let built = builder
        .body(request.body)
        .map_err(|e| format!("invalid request: {e}"))?;
    let mut response = agent.run(built).map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    // The status is the answer; a body that breaks off or stalls is kept as far as it came.
    let _ = response
        .body_mut()
        .as_reader()
        .take(MAX_RESPONSE_BYTES)
        .read_to_end(&mut body);
    Ok(OutboundResponse { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-request server answering `status` with a body of `size` bytes. It reads the
    /// whole request (head, then a Content-Length body) before it answers.
    fn serve_once(status: u16, size: usize) -> String {
        use std::io::{BufRead, BufReader, Write};

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut sink = vec![0; length];
            reader.read_exact(&mut sink).unwrap();
            let mut stream = reader.into_inner();
            let head = format!(
                "HTTP/1.1 {status} Test\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&vec![b'x'; size]).unwrap();
        });
        format!("http://{addr}/hook")
    }

    fn post(url: String) -> OutboundRequest {
        OutboundRequest {
            method: "POST".into(),
            url,
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{}".to_vec(),
        }
    }

    #[test]
    fn error_statuses_are_answers_and_bodies_are_capped() {
        let got = send(&agent(), post(serve_once(503, 100_000))).unwrap();
        assert_eq!(got.status, 503);
        assert_eq!(got.body.len() as u64, MAX_RESPONSE_BYTES);
        let got = send(&agent(), post(serve_once(302, 3))).unwrap();
        assert_eq!((got.status, got.body.len()), (302, 3));
    }

    #[test]
    fn transport_failures_are_errors() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(send(&agent(), post(format!("http://127.0.0.1:{port}/"))).is_err());
        assert!(send(&agent(), post("not a url".into())).is_err());
    }
}
