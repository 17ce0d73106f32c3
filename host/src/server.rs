//! The HTTP server: hyper (HTTP/1.1) on a small tokio runtime reads requests, and a fixed pool
//! of worker threads, each with its own `NativeEnv`, answers them. A request's body is read on
//! the runtime, capped at the `body_limit` of its route and within `Timeouts::body`, into an
//! `ApiRequest` that goes to the pool; a worker routes it as Spin routes it, runs the
//! component's handler, and the answer goes back. Slow clients only hold a cheap task, never a
//! worker. Each request runs in a `request` span (its id, method and component, and a keyed
//! hash of its path: paths carry tracking codes and ids); its status and time are logged at the
//! end. Nothing of the path in clear, the query, the headers or the body is ever logged.
//!
//! Memory is bounded whatever clients send: at most [`MAX_CONNECTIONS`] connections are served
//! at once (the rest wait in the kernel's backlog); request bodies in flight share a budget of
//! [`BODY_BUDGET_BYTES`] (a body that finds no room within [`BUDGET_WAIT`] gets 503 `busy`);
//! at most [`QUEUE_DEPTH`] requests wait for a worker (503 `busy` past it); and before a body
//! larger than the ordinary limit is read, a worker checks that the caller may send it at all
//! (`api::admit`: the staff token or session, a callback's signature headers), so an unknown
//! client's large upload is refused unread.

use std::convert::Infallible;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use futures::executor::block_on;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Incoming};
use hyper::header::{EXPECT, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use onegrid::api::routes::body_limit;
use onegrid::api::static_files::{self, Folder};
use onegrid::native::router::{Component, Router};
use onegrid::{ApiRequest, ApiResponse, Problem, access::limits, api};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tracing::{Instrument, Span};

use crate::native::{EnvConfig, NativeEnv};

pub const WORKERS: usize = 16;
/// Threads of the tokio runtime; they only move bytes, the handlers run on the workers.
const IO_THREADS: usize = 2;
/// Connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 1024;
/// The bytes of request bodies held at once, read or being read: 32 photo reports of 6 MiB.
pub const BODY_BUDGET_BYTES: usize = 192 * 1024 * 1024;
/// How long a body waits for room in the budget before the answer is 503 `busy`.
const BUDGET_WAIT: Duration = Duration::from_secs(5);
/// Requests waiting for a worker; past it the answer is 503 `busy` at once.
pub const QUEUE_DEPTH: usize = 512;

/// What every worker shares, read-only.
pub struct App {
    pub router: Router,
    pub static_dir: Folder,
}

pub struct Running {
    pub addr: SocketAddr,
    /// The worker threads and the thread of the HTTP runtime; none of them ends on its own.
    pub workers: Vec<JoinHandle<()>>,
}

/// How long a client may take, so that slow or silent ones cannot hold the server.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// From the moment the server waits for a request (idle keep-alive included) to the end
    /// of its headers; past it the connection is closed.
    pub header: Duration,
    /// To read the whole body once the headers are in; past it the answer is 408.
    pub body: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header: Duration::from_secs(10),
            body: Duration::from_secs(30),
        }
    }
}

/// What a worker does with a request.
enum Task {
    /// Answer it with the component's handler.
    Answer(Option<Component>),
    /// Only say whether its caller may send its (not yet read) large body: `api::admit`.
    Admit,
}

/// A request (read in full for an answer, without its body to admit it), the task, and where
/// the answer goes.
struct Job {
    request: ApiRequest,
    task: Task,
    /// The request's span, entered on the worker too, so that the handler's events are the
    /// request's.
    span: Span,
    reply: oneshot::Sender<ApiResponse>,
}

/// What every connection task shares.
struct Front {
    app: Arc<App>,
    jobs: mpsc::SyncSender<Job>,
    timeouts: Timeouts,
    /// Permits are bytes of request bodies (see [`BODY_BUDGET_BYTES`]).
    bodies: Arc<Semaphore>,
}

/// Binds, opens one `NativeEnv` per worker, and returns once all of them are ready.
pub fn start(
    listen: &str,
    config: &EnvConfig,
    app: Arc<App>,
    workers: usize,
) -> anyhow::Result<Running> {
    start_with(listen, config, app, workers, Timeouts::default())
}

pub fn start_with(
    listen: &str,
    config: &EnvConfig,
    app: Arc<App>,
    workers: usize,
    timeouts: Timeouts,
) -> anyhow::Result<Running> {
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().context("not an IP listener")?;
    listener.set_nonblocking(true)?;

    let (jobs_tx, jobs_rx) = mpsc::sync_channel::<Job>(QUEUE_DEPTH);
    let jobs_rx = Arc::new(Mutex::new(jobs_rx));
    let (ready_tx, ready_rx) = mpsc::channel();
    let opening = Arc::new(Mutex::new(()));
    let mut handles = Vec::new();
    for i in 0..workers {
        let (jobs, opening, app, config, ready) = (
            jobs_rx.clone(),
            opening.clone(),
            app.clone(),
            config.clone(),
            ready_tx.clone(),
        );
        let handle = thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || {
                // One at a time: SQLite may refuse a second connection that is switching a
                // new key-value file to WAL at the same moment ("database is locked").
                let opened = {
                    let _turn = opening.lock().unwrap_or_else(PoisonError::into_inner);
                    config.open()
                };
                let env = match opened {
                    Ok(env) => env,
                    Err(e) => return drop(ready.send(Err(e))),
                };
                let _ = ready.send(Ok(()));
                work(&env, &app, &jobs);
            })?;
        handles.push(handle);
    }
    drop(ready_tx);
    for _ in 0..workers {
        ready_rx.recv().context("a worker died while starting")??;
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(IO_THREADS)
        .thread_name("http-io")
        .enable_io()
        .enable_time()
        .build()
        .context("starting the HTTP runtime")?;
    let front = Arc::new(Front {
        app,
        jobs: jobs_tx,
        timeouts,
        bodies: Arc::new(Semaphore::new(BODY_BUDGET_BYTES)),
    });
    runtime.spawn(crate::stats::log_on_sigusr1());
    let http = thread::Builder::new()
        .name("http".into())
        .spawn(move || runtime.block_on(accept(listener, front)))?;
    handles.push(http);
    Ok(Running {
        addr,
        workers: handles,
    })
}

/// A worker: takes the next request, answers it, rolls back what the handler left open.
fn work(env: &NativeEnv, app: &App, jobs: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        // The lock is held only while waiting, never while a handler runs.
        let next = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(Job {
            request,
            task,
            span,
            reply,
        }) = next
        else {
            return;
        };
        let _in_request = span.enter();
        let response = guarded(|| match task {
            Task::Answer(component) => app.call(env, component, request),
            // 204: admitted; anything else is the refusal to send.
            Task::Admit => match block_on(api::admit(env, &request)) {
                Ok(()) => ApiResponse::new(204, "text/plain", Vec::new()),
                Err(problem) => api::refusal(&request.path, problem),
            },
        });
        if env.end_request() {
            tracing::warn!("the handler left a transaction open; rolled back");
        }
        // The client may have gone away; its answer is dropped.
        let _ = reply.send(response);
    }
}

async fn accept(listener: std::net::TcpListener, front: Arc<Front>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => return tracing::error!(error = %e, "cannot serve"),
    };
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        // At the cap, the next connection waits in the backlog until one ends.
        let Ok(connection) = connections.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: wait a little rather than spin.
                tracing::error!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let front = front.clone();
        tokio::spawn(async move {
            let header_timeout = front.timeouts.header;
            let service = service_fn(move |request| {
                let front = front.clone();
                async move { Ok::<_, Infallible>(answer(&front, request, peer).await) }
            });
            // A client that goes away or times out ends its own connection; nothing to log.
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(connection);
        });
    }
}

/// Request ids, in the order the requests came, from 1 at every start.
static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// The span of one request: its id, its method, the component spin.toml routes it to, and
/// its path as a short hash keyed anew at every start (so that a log line tells two requests
/// for the same path apart from others, but no tracking code or id can be read back from it).
fn request_span(method: &str, component: Option<Component>, path: &str) -> Span {
    static PATH_KEY: OnceLock<RandomState> = OnceLock::new();
    let hash = PATH_KEY.get_or_init(RandomState::new).hash_one(path);
    tracing::info_span!(
        "request",
        id = REQUEST_IDS.fetch_add(1, Ordering::Relaxed),
        method = %method,
        component = %component.map_or("none", Component::name),
        path = format_args!("{:08x}", hash >> 32),
    )
}

async fn answer(
    front: &Front,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let (head, body) = request.into_parts();
    let method = head.method.as_str().to_ascii_uppercase();
    let path = head.uri.path().to_owned();
    let component = front.app.router.route(&path);
    let span = request_span(&method, component, &path);
    let response = respond(front, head, body, peer, component)
        .instrument(span.clone())
        .await;
    let _in_request = span.enter();
    tracing::info!(
        status = response.status,
        ms = started.elapsed().as_millis() as u64,
        "answered"
    );
    to_hyper(response)
}

/// Reads the body, then hands the request to a worker; runs in the request's span.
async fn respond(
    front: &Front,
    head: hyper::http::request::Parts,
    body: Incoming,
    peer: SocketAddr,
    component: Option<Component>,
) -> ApiResponse {
    let method = head.method.as_str().to_ascii_uppercase();
    let path = head.uri.path().to_owned();
    let expects_continue = head
        .headers
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    // The client's address as Spin gives it (rate limits key on it); a client's own header of
    // that name is dropped.
    let mut headers: Vec<(String, String)> = head
        .headers
        .iter()
        .filter(|(name, _)| name.as_str() != limits::CLIENT_ADDR_HEADER)
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    headers.push((limits::CLIENT_ADDR_HEADER.to_owned(), peer.to_string()));
    let mut request = ApiRequest {
        method,
        path,
        query: head.uri.query().unwrap_or("").to_owned(),
        headers,
        body: Vec::new(),
    };
    let limit = body_limit(&request.method, &request.path);
    // A body announced larger than the route takes is refused by its length alone (413, in
    // `read_body`); any other large body is read only for a caller who may send it.
    if limit > onegrid::http::MAX_BODY_BYTES && body.size_hint().lower() <= limit as u64 {
        let admitted = front
            .call(request.clone(), Task::Admit, Span::current())
            .await;
        if admitted.status != 204 {
            // Nothing of the body is read; the connection closes after the answer.
            return admitted;
        }
    }
    let budget = Budget {
        bodies: &front.bodies,
        held: None,
    };
    match read_body(body, limit, front.timeouts.body, expects_continue, budget).await {
        Err(problem) => api::refusal(&request.path, problem),
        Ok((body, _held)) => {
            // `_held` keeps the body's bytes in the budget until the answer is in.
            request.body = body;
            front
                .call(request, Task::Answer(component), Span::current())
                .await
        }
    }
}

/// The bytes of one body in the shared budget, taken as they arrive.
struct Budget<'a> {
    bodies: &'a Arc<Semaphore>,
    held: Option<OwnedSemaphorePermit>,
}

impl Budget<'_> {
    /// Room for `bytes` more, waiting at most [`BUDGET_WAIT`]; 503 `busy` when none comes.
    async fn take(&mut self, bytes: usize) -> Result<(), Problem> {
        if bytes == 0 {
            return Ok(());
        }
        let permits = u32::try_from(bytes).map_err(|_| Problem::busy(5))?;
        let wait = self.bodies.clone().acquire_many_owned(permits);
        match tokio::time::timeout(BUDGET_WAIT, wait).await {
            Ok(Ok(permit)) => {
                match &mut self.held {
                    Some(held) => held.merge(permit),
                    None => self.held = Some(permit),
                }
                Ok(())
            }
            _ => Err(Problem::busy(5)),
        }
    }
}

impl Front {
    /// The answer of a worker; 503 `busy` when the queue is full, 500 if no worker is left.
    async fn call(&self, request: ApiRequest, task: Task, span: Span) -> ApiResponse {
        let (reply, answer) = oneshot::channel();
        let path = request.path.clone();
        let job = Job {
            request,
            task,
            span,
            reply,
        };
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(_)) => return api::refusal(&path, Problem::busy(1)),
            Err(mpsc::TrySendError::Disconnected(_)) => {
                tracing::error!("no worker is left to answer");
                return Problem::internal().into_response();
            }
        }
        answer
            .await
            .unwrap_or_else(|_| Problem::internal().into_response())
    }
}

fn request_timeout() -> Problem {
    Problem::request_timeout()
}

/// After a 413, up to this much more of the body is read and thrown away (within
/// `DRAIN_TIME`), so that a client that sends all its body before reading (as most do) gets
/// the answer rather than a reset connection. Past it the connection is simply closed.
const DRAIN_BYTES: u64 = 4 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The body, or 413 when it is larger than `limit` (told by Content-Length, then nothing of it
/// is kept; or found while reading), or 408 when it does not arrive within `timeout`. Memory
/// grows only with the bytes that actually came, never with a length the client claims.
async fn read_body<'a>(
    mut body: Incoming,
    limit: usize,
    timeout: Duration,
    expects_continue: bool,
    mut budget: Budget<'a>,
) -> Result<(Vec<u8>, Budget<'a>), Problem> {
    let told = body.size_hint().lower();
    if told > limit as u64 {
        // Reading would send `100 Continue` to a client that waits for it: answer at once.
        if !expects_continue && told - limit as u64 <= DRAIN_BYTES {
            drain(&mut body, told, timeout).await;
        }
        return Err(Problem::body_too_large(limit));
    }
    // Room for the announced length at once (it is within the limit): no doubling regrowth.
    let capacity = usize::try_from(told).unwrap_or(0).min(limit);
    match tokio::time::timeout(timeout, collect(&mut body, limit, capacity, &mut budget)).await {
        Err(_elapsed) => Err(request_timeout()),
        Ok(Err(problem)) => Err(problem),
        Ok(Ok(Some(bytes))) => Ok((bytes, budget)),
        Ok(Ok(None)) => {
            drain(&mut body, DRAIN_BYTES, timeout).await;
            Err(Problem::body_too_large(limit))
        }
    }
}

/// The whole body, or `None` as soon as it passes `limit`; each chunk takes its room in the
/// budget before it is kept.
async fn collect(
    body: &mut Incoming,
    limit: usize,
    capacity: usize,
    budget: &mut Budget<'_>,
) -> Result<Option<Vec<u8>>, Problem> {
    let mut out = Vec::with_capacity(capacity);
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|_| Problem::bad_request("the request body could not be read"))?;
        if let Ok(data) = frame.into_data() {
            if data.len() > limit - out.len() {
                return Ok(None);
            }
            budget.take(data.len()).await?;
            out.extend_from_slice(&data);
        }
    }
    Ok(Some(out))
}

/// Reads and forgets up to about `max` bytes of what is left of a body.
async fn drain(body: &mut Incoming, max: u64, timeout: Duration) {
    let discard = async {
        let mut seen = 0u64;
        while seen <= max {
            match body.frame().await {
                Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len() as u64),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(timeout.min(DRAIN_TIME), discard).await;
}

/// A panicking handler answers 500 and leaves the worker alive.
pub fn guarded(handler: impl FnOnce() -> ApiResponse) -> ApiResponse {
    catch_unwind(AssertUnwindSafe(handler)).unwrap_or_else(|_| {
        tracing::error!("a handler panicked; answered 500");
        Problem::internal().into_response()
    })
}

impl App {
    fn call(
        &self,
        env: &NativeEnv,
        component: Option<Component>,
        request: ApiRequest,
    ) -> ApiResponse {
        match component {
            Some(Component::Intake) => block_on(api::intake::handle(env, request)),
            Some(Component::Grid) => block_on(api::grid::handle(env, request)),
            Some(Component::Assets) => block_on(api::assets::handle(env, request)),
            Some(Component::Dispatch) => block_on(api::dispatch::handle(env, request)),
            Some(Component::Callbacks) => block_on(api::callbacks::handle(env, request)),
            Some(Component::Indicators) => block_on(api::indicators::handle(env, request)),
            Some(Component::Accounts) => block_on(api::accounts::handle(env, request)),
            Some(Component::Ingest) => block_on(api::ingest::handle(env, request)),
            Some(Component::Open311) => block_on(api::open311::handle(env, request)),
            Some(Component::Registry) => block_on(api::registry::handle(env, request)),
            Some(Component::StaticFiles) => {
                let map = block_on(static_files::map_config(env));
                static_files::serve(&request, &map, &self.static_dir)
            }
            None => Problem::no_route(&request.method, &request.path).into_response(),
        }
    }
}

/// Headers that hyper writes itself, or that belong to one connection.
const HOP_BY_HOP: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

fn to_hyper(response: ApiResponse) -> Response<Full<Bytes>> {
    let mut out = Response::new(Full::new(Bytes::from(response.body)));
    *out.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in &response.headers {
        if HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                out.headers_mut().append(name, value);
            }
            _ => tracing::warn!(header = name, "dropped an invalid response header"),
        }
    }
    out
}

#[cfg(test)]
mod tests;
