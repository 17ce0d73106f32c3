//! Helpers of OneGrid's black-box tests. A test speaks only HTTP to a running deployment:
//! by default a fresh deployment of its own on `127.0.0.1:0` with its own data directory and
//! its own random tokens, so that tests are independent and run in parallel: the native host
//! (`onegrid`), or real `spin up` when `ONEGRID_RUNTIME` says so ([`runtime`]). With
//! `ONEGRID_BASE_URL` set, an existing deployment (tokens from `ONEGRID_OPERATOR_TOKEN` and
//! `ONEGRID_ADMIN_TOKEN`; it must hold the demo city of seed 1).
//!
//! The shared crate is used for what a real client would know anyway: the demo city's cells,
//! the CRS conversions, and Standard Webhooks signatures. No handler is called directly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex, Once, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

pub use serde_json;

pub mod runtime;
pub use runtime::Runtime;

/// How long the host may take to print its listening line (the first start loads a city).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest any one HTTP exchange of a test may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A random lower-case hex string of `bytes` random bytes.
pub fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Seconds since the Unix epoch, as webhook timestamps count them.
pub fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

// ---------------------------------------------------------------- the application under test

/// A deployment this test started (the native host or `spin up`, and a Redis of its own on
/// `spin-redis`); killed and its data directory removed on drop.
struct Server {
    child: Child,
    /// The child leads a process group to be killed whole (`spin up` and its trigger).
    group: bool,
    /// Stopped after the app, saving its snapshot: a restart on the same data finds every key.
    redis: Option<runtime::Redis>,
    /// The libSQL server of `spin-libsql`, stopped after the app.
    hrana: Option<runtime::Hrana>,
    /// How a Spin deployment was started, for a second instance on the same state.
    spin: Option<SpinLaunch>,
    data_dir: PathBuf,
    /// A data directory the test owns (see [`spawn_app_at`]) outlives the host.
    keep_data: bool,
}

impl Server {
    fn kill(&mut self) {
        if self.group {
            runtime::kill_group(&mut self.child);
        } else {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if let Some(redis) = self.redis.take() {
            redis.stop_saving();
        }
        if let Some(hrana) = self.hrana.take() {
            hrana.stop();
        }
        if std::thread::panicking() {
            // The host's own log (one line per request) next to the failed assertion.
            let log = std::fs::read_to_string(self.data_dir.join("host.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            eprintln!("--- the host's stderr (last {} lines):", tail.len());
            for line in tail {
                eprintln!("{line}");
            }
        }
        if !self.keep_data {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// What a second `spin up` on the same state needs: the runtime, the Spin variables, and the
/// Redis the first one started.
struct SpinLaunch {
    runtime: Runtime,
    variables: Vec<(String, String)>,
    shared: runtime::Shared,
}

/// The deployment a test talks to.
pub struct TestApp {
    base_url: String,
    operator_token: String,
    admin_token: String,
    /// The demo staff's passwords by username (`null` when this test does not know them).
    staff_passwords: Value,
    agent: ureq::Agent,
    _server: Option<Server>,
}

/// One answer: status, headers (names in lower case), the body as text and, when it is JSON,
/// parsed (`Value::Null` otherwise).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type of `content-type`, without parameters, in lower case.
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// Asserts the status, with the whole answer in the message when it is not the one.
    #[track_caller]
    pub fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "expected status {status}, got {} with {:?}: {}",
            self.status, self.headers, self.text
        );
        self
    }

    /// Asserts an RFC 9457 problem: the status, `application/problem+json`, a `type` that ends
    /// with `/problems/<slug>`, and the same status in the body.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, slug: &str) -> &Self {
        self.expect_status(status);
        assert_eq!(
            self.media_type(),
            "application/problem+json",
            "a problem must be application/problem+json: {:?} {}",
            self.headers,
            self.text
        );
        let kind = self.body["type"].as_str().unwrap_or_default();
        assert!(
            kind.ends_with(&format!("/problems/{slug}")),
            "expected a problem of type …/problems/{slug}, got {kind:?}: {}",
            self.text
        );
        assert_eq!(
            self.body["status"],
            json!(status),
            "the problem's status member: {}",
            self.text
        );
        assert!(
            self.body["title"].is_string(),
            "a problem has a title: {}",
            self.text
        );
        self
    }

    /// The `field`s of a `validation-failed` problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Requests as someone: nobody (public), the operator or the administrator.
#[derive(Clone, Copy)]
pub struct Client<'a> {
    app: &'a TestApp,
    token: Option<&'a str>,
}

impl Client<'_> {
    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], Vec::new())
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, &[JSON], body.to_string().into_bytes())
    }

    pub fn put_json(&self, path: &str, body: &Value) -> Reply {
        self.send("PUT", path, &[JSON], body.to_string().into_bytes())
    }

    /// A POST with exactly these headers and bytes (no content-type is added).
    pub fn post_raw(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Vec<u8>>,
    ) -> Reply {
        self.send("POST", path, headers, body.into())
    }

    /// Any request. An `authorization` header among `headers` replaces the client's token.
    ///
    /// Against a shared deployment (`ONEGRID_BASE_URL`) every test counts against the same
    /// per-address rate limits, so a 429 there is waited out (its `Retry-After`) and retried a
    /// few times; a host of this test's own never sees enough requests to get one.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        let mut reply = self.send_once(method, path, headers, body.clone());
        let shared = self.app._server.is_none();
        for _ in 0..3 {
            if !(shared && reply.status == 429) {
                break;
            }
            let wait = reply
                .header("retry-after")
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(5)
                .clamp(1, 61);
            std::thread::sleep(Duration::from_secs(wait));
            reply = self.send_once(method, path, headers, body.clone());
        }
        reply
    }

    fn send_once(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let url = format!("{}{path}", self.app.base_url);
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        let overrides_auth = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
        if let (Some(token), false) = (self.token, overrides_auth) {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let result = if body.is_empty() && matches!(method, "GET" | "HEAD" | "DELETE") {
            self.app
                .agent
                .run(builder.body(()).expect("a valid request"))
        } else {
            self.app
                .agent
                .run(builder.body(body).expect("a valid request"))
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let bytes = response
            .body_mut()
            .read_to_vec()
            .unwrap_or_else(|e| panic!("reading the body of {method} {url}: {e}"));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            body,
        }
    }
}

impl Client<'_> {
    /// A request over a plain socket with `Expect: 100-continue`, for bodies a server may
    /// refuse by their `Content-Length` alone (413): the body is sent only after `100 Continue`
    /// (or a short wait for a server that ignores `Expect`), and a final answer that comes
    /// first is read even if the server then closes without reading the body. An ordinary
    /// client would see a broken pipe there instead of the server's answer.
    pub fn send_expecting_continue(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let base = &self.app.base_url;
        let authority = base
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("only http:// deployments are supported here, not {base}"));
        let authority = authority.split('/').next().unwrap_or(authority);
        let mut stream = TcpStream::connect(authority)
            .unwrap_or_else(|e| panic!("connecting to {authority}: {e}"));
        stream.set_read_timeout(Some(REQUEST_TIMEOUT)).ok();
        stream.set_write_timeout(Some(REQUEST_TIMEOUT)).ok();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n",
            body.len()
        );
        if let Some(token) = self.token {
            head.push_str(&format!("authorization: Bearer {token}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .expect("writing the request head");
        let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));

        // Wait a little for `100 Continue` or an early final answer.
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok();
        let mut first = String::new();
        let early = match reader.read_line(&mut first) {
            Ok(n) if n > 0 => Some(first),
            _ => None,
        };
        stream.set_read_timeout(Some(REQUEST_TIMEOUT)).ok();
        let status_line = match early {
            Some(line)
                if !line.starts_with("HTTP/1.1 100") && !line.starts_with("HTTP/1.0 100") =>
            {
                line
            }
            continued => {
                if continued.is_some() {
                    // The rest of the interim answer, up to its blank line.
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                            break;
                        }
                    }
                }
                // A server may answer and close while the body is still on its way; the
                // answer is what counts, so a write error here is not the test's failure.
                let _ = stream.write_all(body);
                let mut line = String::new();
                reader
                    .read_line(&mut line)
                    .unwrap_or_else(|e| panic!("reading the answer to {method} {path}: {e}"));
                line
            }
        };
        read_response(&mut reader, &status_line, method, path)
    }
}

/// The rest of an HTTP/1.1 response after its status line: headers, then the body by
/// `content-length`, chunks, or up to the end of the connection.
fn read_response(reader: &mut impl BufRead, status_line: &str, method: &str, path: &str) -> Reply {
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{method} {path}: not an HTTP status line: {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v): &(String, String)| v.clone())
    };
    let mut bytes = Vec::new();
    if let Some(length) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        bytes.resize(length, 0);
        reader
            .read_exact(&mut bytes)
            .unwrap_or_else(|e| panic!("reading the body of {method} {path}: {e}"));
    } else if header("transfer-encoding").is_some_and(|v| is_chunked(&v)) {
        bytes = read_chunked(reader)
            .unwrap_or_else(|e| panic!("reading the chunked body of {method} {path}: {e}"));
    } else {
        // Up to the end of the connection; a reset after the answer leaves what came.
        let _ = reader.read_to_end(&mut bytes);
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        text,
        body,
    }
}

const JSON: (&str, &str) = ("content-type", "application/json");

impl TestApp {
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn operator_token(&self) -> &str {
        &self.operator_token
    }

    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The demo staff's passwords by username, as JSON (`null` when unknown, e.g. for a shared
    /// deployment without `ONEGRID_STAFF_PASSWORDS`).
    pub fn staff_passwords(&self) -> &Value {
        &self.staff_passwords
    }

    /// The native host's durability counters (its SIGUSR1 log line per SQLite file): commits and
    /// WAL syncs summed over its files. `None` on Spin or a deployment this test did not start.
    pub fn durability_counts(&self) -> Option<(u64, u64)> {
        let server = self
            ._server
            .as_ref()
            .filter(|s| s.spin.is_none() && !s.group)?;
        let log_path = server.data_dir.join("host.log");
        let lines = |text: &str| text.matches("durable writes").count();
        let before = lines(&std::fs::read_to_string(&log_path).unwrap_or_default());
        let sent = Command::new("kill")
            .args(["-USR1", &server.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !sent {
            return None;
        }
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            // One line per file: the database and the key-value store.
            if lines(&log) >= before + 2 {
                let mut last = std::collections::HashMap::new();
                for line in log.lines().filter(|l| l.contains("durable writes")) {
                    let field = |name: &str| -> Option<String> {
                        let at = line.find(&format!("{name}="))? + name.len() + 1;
                        Some(line[at..].split_whitespace().next()?.to_owned())
                    };
                    let count = |name| field(name).and_then(|v| v.parse::<u64>().ok());
                    if let (Some(file), Some(commits), Some(syncs)) =
                        (field("file"), count("commits"), count("syncs"))
                    {
                        last.insert(file, (commits, syncs));
                    }
                }
                return Some(
                    last.values()
                        .fold((0, 0), |(c, s), (dc, ds)| (c + dc, s + ds)),
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Kills the host this test started (SIGKILL on Unix) and waits for it, leaving its data
    /// directory as the crash left it. Nothing happens for a deployment of `ONEGRID_BASE_URL`.
    pub fn kill(&mut self) {
        if let Some(server) = self._server.as_mut() {
            server.kill();
        }
    }

    /// A second `spin up` on this deployment's state: the same SQLite file, the same key-value
    /// store (its file, or its Redis on `spin-redis`), the same variables; as two replicas of
    /// one deployment run. `None` unless this test started the deployment on Spin. The first
    /// instance keeps owning the data (this one leaves it on drop).
    pub fn second_instance(&self) -> Option<TestApp> {
        let server = self._server.as_ref()?;
        let launch = server.spin.as_ref()?;
        let log_path = server.data_dir.join("host-2.log");
        let variables: Vec<(&str, &str)> = launch
            .variables
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let processes = runtime::start_spin(
            launch.runtime,
            &server.data_dir,
            &log_path,
            &variables,
            &launch.shared,
        );
        Some(TestApp {
            base_url: processes.base_url,
            operator_token: self.operator_token.clone(),
            admin_token: self.admin_token.clone(),
            staff_passwords: self.staff_passwords.clone(),
            agent: agent(),
            _server: Some(Server {
                child: processes.spin,
                group: true,
                redis: None,
                hrana: None,
                spin: None,
                data_dir: server.data_dir.clone(),
                keep_data: true,
            }),
        })
    }

    /// Requests without a token, as a citizen (or an attacker) sends them.
    pub fn public(&self) -> Client<'_> {
        Client {
            app: self,
            token: None,
        }
    }

    /// Requests with `Authorization: Bearer <operator_token>`.
    pub fn operator(&self) -> Client<'_> {
        Client {
            app: self,
            token: Some(&self.operator_token),
        }
    }

    /// Requests with `Authorization: Bearer <admin_token>`.
    pub fn admin(&self) -> Client<'_> {
        Client {
            app: self,
            token: Some(&self.admin_token),
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.public().get(path)
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.public().post_json(path, body)
    }

    pub fn put_json(&self, path: &str, body: &Value) -> Reply {
        self.public().put_json(path, body)
    }

    pub fn post_raw(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Vec<u8>>,
    ) -> Reply {
        self.public().post_raw(path, headers, body)
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .build()
        .into()
}

/// The deployment of one test: `ONEGRID_BASE_URL` if set, otherwise a fresh native host.
pub fn spawn_app() -> TestApp {
    if let Some(base) = std::env::var("ONEGRID_BASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
    {
        return TestApp {
            base_url: base.trim_end_matches('/').to_owned(),
            operator_token: std::env::var("ONEGRID_OPERATOR_TOKEN").unwrap_or_default(),
            admin_token: std::env::var("ONEGRID_ADMIN_TOKEN").unwrap_or_default(),
            staff_passwords: std::env::var("ONEGRID_STAFF_PASSWORDS")
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or(Value::Null),
            agent: agent(),
            _server: None,
        };
    }
    let data_dir = std::env::temp_dir().join(format!(
        "onegrid-test-{}-{}",
        std::process::id(),
        random_hex(8)
    ));
    let operator_token = format!("op-{}", random_hex(24));
    let admin_token = format!("admin-{}", random_hex(24));
    start_host(&data_dir, &operator_token, &admin_token, false, &[])
}

/// A native host on `data_dir` (created if missing, kept afterwards) with these tokens and
/// extra environment variables: for tests that stop a host and start another on the same data,
/// as a restart would. Ignores `ONEGRID_BASE_URL`: the caller must own the process.
pub fn spawn_app_at(
    data_dir: &Path,
    operator_token: &str,
    admin_token: &str,
    env: &[(&str, &str)],
) -> TestApp {
    start_host(data_dir, operator_token, admin_token, true, env)
}

fn start_host(
    data_dir: &Path,
    operator_token: &str,
    admin_token: &str,
    keep_data: bool,
    env: &[(&str, &str)],
) -> TestApp {
    let runtime = Runtime::from_env();
    let data_dir = data_dir.to_owned();
    std::fs::create_dir_all(&data_dir).expect("creating the data directory");
    let log_path = data_dir.join("host.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .expect("opening the host log");
    let (operator_token, admin_token) = (operator_token.to_owned(), admin_token.to_owned());
    // The session keys are a required Spin variable; the native host would make its own.
    let session_keys = random_hex(32);
    let registry_key = random_hex(32);
    let mut variables = vec![
        ("SPIN_VARIABLE_OPERATOR_TOKEN", operator_token.as_str()),
        ("SPIN_VARIABLE_ADMIN_TOKEN", admin_token.as_str()),
    ];
    if runtime.is_spin() {
        variables.push(("SPIN_VARIABLE_SESSION_KEYS", session_keys.as_str()));
        variables.push(("SPIN_VARIABLE_REGISTRY_KEY", registry_key.as_str()));
    }
    variables.extend_from_slice(env);

    if runtime.is_spin() {
        runtime::prepare_state(runtime, &data_dir);
        let staff_passwords = runtime::staff_passwords(&data_dir);
        drop(log);
        let processes = runtime::start_spin(
            runtime,
            &data_dir,
            &log_path,
            &variables,
            &runtime::Shared::default(),
        );
        let launch = SpinLaunch {
            runtime,
            variables: variables
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            shared: runtime::Shared {
                redis_url: processes.redis.as_ref().map(runtime::Redis::url),
                libsql: processes.hrana.as_ref().map(|h| h.at.clone()),
            },
        };
        return TestApp {
            base_url: processes.base_url,
            operator_token,
            admin_token,
            staff_passwords,
            agent: agent(),
            _server: Some(Server {
                child: processes.spin,
                group: true,
                redis: processes.redis,
                hrana: processes.hrana,
                spin: Some(launch),
                data_dir,
                keep_data,
            }),
        };
    }

    let binary = host_binary();
    let mut child = Command::new(&binary)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data")
        .arg(&data_dir)
        .envs(variables.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("stdout is piped");
    let server = Server {
        child,
        group: false,
        redis: None,
        hrana: None,
        spin: None,
        data_dir,
        keep_data,
    };

    // Read lines in a thread (it keeps draining stdout afterwards) and wait for the address.
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent && let Some(url) = line.trim().strip_prefix("OneGrid listening on ") {
                sent = tx.send(url.trim().to_owned()).is_ok();
            }
        }
    });
    let base_url = match rx.recv_timeout(START_TIMEOUT) {
        Ok(url) => url.trim_end_matches('/').to_owned(),
        Err(_) => {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            drop(server);
            panic!(
                "{} did not print its listening line within {START_TIMEOUT:?}; its stderr:\n{log}",
                binary.display()
            );
        }
    };
    // The native host's first start seeds the demo staff with one password, kept in
    // secrets.json.
    let staff_passwords = std::fs::read(server.data_dir.join("secrets.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|secrets| secrets["demo_staff_password"].as_str().map(str::to_owned))
        .map(|password| {
            onegrid::demo::STAFF
                .iter()
                .map(|(username, ..)| ((*username).to_owned(), Value::from(password.as_str())))
                .collect::<serde_json::Map<_, _>>()
                .into()
        })
        .unwrap_or(Value::Null);
    TestApp {
        base_url,
        operator_token,
        admin_token,
        staff_passwords,
        agent: agent(),
        _server: Some(server),
    }
}

/// The workspace this crate lives in.
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_owned()
}

/// The workspace's target directory (`CARGO_TARGET_DIR` if set).
pub fn target_dir() -> PathBuf {
    let workspace = workspace_dir();
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_relative() {
                workspace.join(t)
            } else {
                t
            }
        })
        .unwrap_or_else(|| workspace.join("target"))
}

/// `ONEGRID_BIN`, or the debug host of this workspace, built once per test binary.
pub fn host_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("ONEGRID_BIN").filter(|s| !s.is_empty()) {
        return PathBuf::from(bin);
    }
    static BUILD: Once = Once::new();
    let workspace = workspace_dir();
    BUILD.call_once(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--quiet", "-p", "onegrid", "--bin", "onegrid"])
            .current_dir(&workspace)
            .stdin(Stdio::null())
            .output()
            .expect("running cargo build -p onegrid");
        assert!(
            output.status.success(),
            "cargo build -p onegrid failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    });
    target_dir()
        .join("debug")
        .join(format!("onegrid{}", std::env::consts::EXE_SUFFIX))
}

// ---------------------------------------------------------------- a department's webhook endpoint

/// One request the fake department received. Header names are in lower case.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A department's webhook receiver on `127.0.0.1:0`: records every request and answers the
/// configured status. Minimal HTTP/1.1: one request per connection, bodies by Content-Length or
/// chunked, as real receivers get both.
pub struct FakeDepartment {
    addr: std::net::SocketAddr,
    status: Arc<AtomicU16>,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeDepartment {
    pub fn start(respond_with_status: u16) -> FakeDepartment {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the fake department");
        let addr = listener.local_addr().expect("its address");
        let status = Arc::new(AtomicU16::new(respond_with_status));
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (status, received, stop) = (status.clone(), received.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    serve_one(stream, status.load(Ordering::SeqCst), &received);
                }
            })
        };
        FakeDepartment {
            addr,
            status,
            received,
            stop,
            thread: Some(thread),
        }
    }

    /// The webhook URL to register for the department.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }

    /// Changes the status the next requests get.
    pub fn respond_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

impl Drop for FakeDepartment {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request, records it and answers `status`. A broken request is dropped unrecorded.
fn serve_one(mut stream: TcpStream, status: u16, received: &Mutex<Vec<Received>>) {
    let _ = serve(&mut stream, status, received);
}

fn serve(stream: &mut TcpStream, status: u16, received: &Mutex<Vec<Received>>) -> Option<()> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    // Chunked wins over a length (RFC 9112 §6.3): Spin sends webhooks chunked unless told a length.
    let body = if header("transfer-encoding").is_some_and(|v| is_chunked(v)) {
        read_chunked(&mut reader).ok()?
    } else {
        let length = header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        body
    };
    let request = Received {
        method,
        path,
        headers,
        body,
    };
    let answer = format!(
        "HTTP/1.1 {status} Fake\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
    );
    // Recorded before answering: the host may return to its caller as soon as it has the answer.
    received.lock().expect("not poisoned").push(request);
    let _ = stream.write_all(answer.as_bytes());
    let _ = stream.flush();
    Some(())
}

/// The most a chunked body may hold here: far more than any webhook, far less than a mistake.
const MAX_CHUNKED_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Whether a `Transfer-Encoding` value ends in `chunked`, the coding that frames the body.
fn is_chunked(transfer_encoding: &str) -> bool {
    transfer_encoding
        .rsplit(',')
        .next()
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

/// Decodes a chunked body (RFC 9112 §7.1) up to and including its trailer section: sizes in
/// hex with optional extensions, each chunk's data followed by CRLF, a last chunk of size 0.
/// A malformed frame is an `InvalidData` error rather than a body cut short.
pub fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind};
    let invalid = |what: String| Error::new(ErrorKind::InvalidData, what);
    let read_line = |reader: &mut dyn BufRead| -> std::io::Result<String> {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(Error::new(ErrorKind::UnexpectedEof, "the body ended early"));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    };
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let digits = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(digits, 16)
            .map_err(|_| invalid(format!("not a chunk size: {line:?}")))?;
        if size == 0 {
            break;
        }
        if body.len() + size > MAX_CHUNKED_BODY_BYTES {
            return Err(invalid(format!("over {MAX_CHUNKED_BODY_BYTES} bytes")));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut end = [0; 2];
        reader.read_exact(&mut end)?;
        if &end != b"\r\n" {
            return Err(invalid(format!(
                "chunk of {size} bytes not followed by CRLF"
            )));
        }
    }
    // Trailer fields, if any, up to the empty line.
    while !read_line(reader)?.is_empty() {}
    Ok(body)
}

// ---------------------------------------------------------------- departments and callbacks

/// The category `new_department` maps to the department `code`.
pub fn category_for(department: &str) -> String {
    format!("test.{department}")
}

/// Creates a unique department (`dept-<random>`) whose webhook goes to `fake`, with a fresh
/// `whsec_` secret, and a unique category (`category_for(code)`) routed to it.
/// Returns (department code, secret).
pub fn new_department(app: &TestApp, fake: &FakeDepartment) -> (String, String) {
    let code = format!("dept-{}", random_hex(6));
    let secret = onegrid::http::webhook::new_secret();
    app.admin()
        .put_json(
            &format!("/api/admin/departments/{code}"),
            &json!({"name": format!("Test department {code}"), "webhook_url": fake.url(), "secret": secret}),
        )
        .expect_status(200);
    app.admin()
        .put_json(
            &format!("/api/admin/categories/{}", category_for(&code)),
            &json!({"name_zh": "测试类别", "name_en": "Test category", "kind": "component", "department": code}),
        )
        .expect_status(200);
    (code, secret)
}

/// Standard Webhooks headers (and the JSON content type) for `body`, with a fresh id and now.
pub fn sign_callback(secret: &str, body: &str) -> Vec<(String, String)> {
    sign_callback_with(
        secret,
        &format!("msg_{}", random_hex(12)),
        now_seconds(),
        body,
    )
}

/// Standard Webhooks headers for `body` with the given id and timestamp.
pub fn sign_callback_with(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &str,
) -> Vec<(String, String)> {
    let signature = onegrid::http::webhook::sign(secret, id, timestamp, body.as_bytes())
        .expect("a valid whsec_ secret");
    vec![
        ("content-type".into(), "application/json".into()),
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), timestamp.to_string()),
        ("webhook-signature".into(), signature),
    ]
}

/// `Vec<(String, String)>` headers as the `&[(&str, &str)]` the clients take.
pub fn as_refs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Sends a signed callback of the department and returns the answer.
pub fn callback(app: &TestApp, department: &str, secret: &str, body: &Value) -> Reply {
    let text = body.to_string();
    let headers = sign_callback(secret, &text);
    app.post_raw(
        &format!("/api/callbacks/{department}"),
        &as_refs(&headers),
        text,
    )
}

// ---------------------------------------------------------------- staff of every kind

/// A bearer header for a new account of `role` with `scope` (`{"cells": […]}`, `{"area": …}`,
/// `{"department": …}`), made by the administrator and signed in.
pub fn signed_in_staff(app: &TestApp, role: &str, scope: Value) -> String {
    let username = format!("t{}", &random_hex(6));
    let password = random_hex(12);
    let mut account = json!({
        "username": username, "display_name": "测试", "password": password, "role": role,
    });
    for (k, v) in scope.as_object().expect("a scope object") {
        account[k] = v.clone();
    }
    app.admin()
        .post_json("/api/admin/accounts", &account)
        .expect_status(201);
    let session = app.post_json(
        "/api/session",
        &json!({"username": username, "password": password}),
    );
    session.expect_status(201);
    format!(
        "Bearer {}",
        session.body["token"].as_str().expect("a token")
    )
}

/// A request with `authorization: auth` and, if there is one, a JSON body.
pub fn send_as(app: &TestApp, auth: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let mut headers = vec![("authorization", auth)];
    let bytes = match body {
        Some(b) => {
            headers.push(("content-type", "application/json"));
            b.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    app.public().send(method, path, &headers, bytes)
}

// ---------------------------------------------------------------- the demo city

/// A point well inside a cell of the demo city (seed 1): the centre of its first cell that is
/// a plain quadrilateral (no hole, not shrunk). Returns (lat, lng, cell code), WGS-84.
pub fn point_inside_a_cell() -> (f64, f64, String) {
    nth_plain_cell(0)
}

/// Like [`point_inside_a_cell`], for the `n`-th plain quadrilateral cell of the demo city.
pub fn nth_plain_cell(n: usize) -> (f64, f64, String) {
    plain_cells().nth(n).expect("the demo city has plain cells")
}

/// The centres of the demo city's plain quadrilateral cells (no hole, not shrunk), in map
/// order: (lat, lng, cell code), WGS-84.
pub fn plain_cells() -> impl Iterator<Item = (f64, f64, String)> {
    onegrid::demo::city(1).into_iter().filter_map(|f| {
        let shape = f.shape?;
        let [polygon] = shape.0.as_slice() else {
            return None;
        };
        let ring = &polygon.exterior().0;
        // Four corners and the closing point again, and no hole.
        (polygon.interiors().is_empty() && ring.len() == 5).then(|| {
            let corners = &ring[..4];
            let lng = corners.iter().map(|c| c.x).sum::<f64>() / 4.0;
            let lat = corners.iter().map(|c| c.y).sum::<f64>() / 4.0;
            (lat, lng, f.code.as_str().to_owned())
        })
    })
}

/// A report body that passes every check, for `category` at `lat`, `lng` (WGS-84).
pub fn report_body(category: &str, lat: f64, lng: f64) -> Value {
    json!({
        "category": category,
        "description": "The greenway sign at the corner is broken and lying on the path.",
        "lat": lat,
        "lng": lng,
        "crs": "wgs84",
        "address": "月美路 near the bus stop",
        "channel": "web",
    })
}

/// Files a report for `category` inside a cell; returns the `201` answer's body.
pub fn file_report(app: &TestApp, category: &str) -> Value {
    let (lat, lng, _) = point_inside_a_cell();
    let reply = app.post_json("/api/reports", &report_body(category, lat, lng));
    reply.expect_status(201);
    reply.body
}

/// Dispatches a case to `department` by name (`{"department": …}`), as an operator.
pub fn dispatch_to(app: &TestApp, id: &str, department: &str) -> Reply {
    app.operator().post_json(
        &format!("/api/cases/{id}/dispatch"),
        &json!({"department": department}),
    )
}

/// A case of a fresh department, already dispatched to it by name (the fake answered
/// 200). Returns (case id, department code, secret).
pub fn dispatched_case(app: &TestApp, fake: &FakeDepartment) -> (String, String, String) {
    let (department, secret) = new_department(app, fake);
    let report = file_report(app, &category_for(&department));
    let id = report["id"].as_str().expect("an id").to_owned();
    let reply = dispatch_to(app, &id, &department);
    reply.expect_status(200);
    assert_eq!(reply.body["case"]["status"], "dispatched", "{}", reply.text);
    (id, department, secret)
}

/// The case as the operator sees it (`{"case", "events", "allowed_moves"}`).
pub fn operator_case(app: &TestApp, id: &str) -> Value {
    let reply = app.operator().get(&format!("/api/cases/{id}"));
    reply.expect_status(200);
    reply.body
}

/// A 1×1 PNG, so that the report carries a photo with a caption.
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The 12345 hotline as a platform (its webhook to `fake`) and an API key to ingest with.
pub fn hotline_key(app: &TestApp, fake: &FakeDepartment) -> String {
    app.admin()
        .put_json(
            "/api/admin/platforms/12345",
            &json!({"name": "12345 热线", "webhook_url": fake.url(),
                    "secret": onegrid::http::webhook::new_secret()}),
        )
        .expect_status(200);
    let key = app.admin().post_json(
        "/api/admin/keys",
        &json!({"name": "hotline", "platform": "12345", "actions": ["ingest"]}),
    );
    key.expect_status(201);
    key.body["key"].as_str().expect("the key").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(wire: &[u8]) -> std::io::Result<Vec<u8>> {
        read_chunked(&mut BufReader::new(wire))
    }

    #[test]
    fn a_chunked_body_is_its_chunks_joined_with_extensions_and_trailers_ignored() {
        let wire = b"5\r\n{\"a\":\r\n3;name=value\r\n1}\n\r\n0\r\nx-trailer: t\r\n\r\nNEXT";
        let mut reader = BufReader::new(&wire[..]);
        assert_eq!(read_chunked(&mut reader).unwrap(), b"{\"a\":1}\n");
        let mut rest = String::new();
        reader.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "NEXT", "reading stops at the end of the message");
        assert_eq!(
            decode(b"A\r\n0123456789\r\n0\r\n\r\n").unwrap(),
            b"0123456789"
        );
        assert_eq!(decode(b"0\r\n\r\n").unwrap(), b"");
    }

    #[test]
    fn a_malformed_chunked_body_is_an_error_not_a_short_body() {
        for wire in [
            &b"zz\r\nabc\r\n0\r\n\r\n"[..],
            b"3\r\nabcd\r\n0\r\n\r\n",
            b"5\r\nabc",
            b"3\r\nabc\r\n",
        ] {
            assert!(decode(wire).is_err(), "{:?}", String::from_utf8_lossy(wire));
        }
    }

    #[test]
    fn the_fake_department_records_a_chunked_body_and_a_sized_one() {
        let fake = FakeDepartment::start(204);
        for request in [
            "POST /hook HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
            "POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 7\r\n\r\n{\"a\":1}",
        ] {
            let mut stream = TcpStream::connect(fake.addr).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
        }
        let received = fake.received();
        assert_eq!(received.len(), 2);
        for r in &received {
            assert_eq!(
                r.json(),
                json!({"a": 1}),
                "{:?}",
                String::from_utf8_lossy(&r.body)
            );
        }
    }

    #[test]
    fn chunked_is_the_framing_only_when_it_is_the_last_coding() {
        assert!(is_chunked("chunked"));
        assert!(is_chunked("gzip, Chunked"));
        assert!(!is_chunked("chunked, gzip"));
        assert!(!is_chunked("identity"));
    }
}
