//! OneGrid's ports on Spin: the one place, with the thin components, that names `spin_sdk`.
//! [`SpinEnv`] implements [`Database`], [`KeyValue`] and [`Platform`] on spin-sdk 6, and
//! [`read_request`] / [`write_response`] convert between Spin's HTTP types and the plain
//! [`ApiRequest`] / [`ApiResponse`] every handler speaks. The move to spin-sdk 7 happens here.
//! [`read_request`], the first call of every component, also installs the log (stderr).

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use onegrid::api::routes::body_limit;
use onegrid::ports::{OutboundRequest, OutboundResponse};
use onegrid::{
    ApiRequest, ApiResponse, Database, KeyValue, Platform, Problem, Rows, StoreError, Value,
};
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{FullBody, IntoResponse};
use spin_sdk::key_value::Store;
use spin_sdk::sqlite::{self, Connection};

/// The most of an outbound response body that is read; the rest is left unread.
pub const MAX_OUTBOUND_BODY_BYTES: usize = 64 * 1024;

/// The ports of one request. The SQLite connection and the key-value store are opened on first
/// use and then kept, so a transaction holds across calls and a route that needs neither
/// (e.g. the grid lookup runs no SQL) never opens them.
#[derive(Default)]
pub struct SpinEnv {
    db: RefCell<Option<Rc<Connection>>>,
    /// Whether a `BEGIN` on this connection has not yet ended: outside one, a connection whose
    /// libSQL stream expired may be replaced ([`is_stream_expired`]).
    in_transaction: Cell<bool>,
    kv: OnceCell<Store>,
}

impl SpinEnv {
    pub fn new() -> Self {
        Self::default()
    }

    async fn db(&self) -> Result<Rc<Connection>, StoreError> {
        if let Some(conn) = self.db.borrow().as_ref() {
            return Ok(conn.clone());
        }
        let conn = Connection::open_default()
            .await
            .map_err(|e| store_error("sqlite open", e))?;
        // If a concurrent call opened one first, keep that one: one connection per request.
        Ok(self.db.borrow_mut().get_or_insert(Rc::new(conn)).clone())
    }

    async fn kv(&self) -> Result<&Store, StoreError> {
        if let Some(store) = self.kv.get() {
            return Ok(store);
        }
        let store = Store::open_default()
            .await
            .map_err(|e| store_error("key-value open", e))?;
        Ok(self.kv.get_or_init(|| store))
    }
}

fn store_error(what: &str, err: impl std::fmt::Debug) -> StoreError {
    StoreError(format!("{what}: {err:?}"))
}

fn to_spin(value: &Value) -> sqlite::Value {
    match value {
        Value::Integer(v) => sqlite::Value::Integer(*v),
        Value::Real(v) => sqlite::Value::Real(*v),
        Value::Text(v) => sqlite::Value::Text(v.clone()),
        Value::Blob(v) => sqlite::Value::Blob(v.clone()),
        Value::Null => sqlite::Value::Null,
    }
}

fn from_spin(value: sqlite::Value) -> Value {
    match value {
        sqlite::Value::Integer(v) => Value::Integer(v),
        sqlite::Value::Real(v) => Value::Real(v),
        sqlite::Value::Text(v) => Value::Text(v),
        sqlite::Value::Blob(v) => Value::Blob(v),
        sqlite::Value::Null => Value::Null,
    }
}

async fn run(conn: &Connection, statement: &str, params: &[Value]) -> Result<Rows, StoreError> {
    let result = conn
        .execute(statement, params.iter().map(to_spin))
        .await
        .map_err(|e| store_error("sqlite execute", e))?;
    let columns = result.columns().to_vec();
    // `collect` drains the row stream, then awaits the statement's own result.
    let rows = result
        .collect()
        .await
        .map_err(|e| store_error("sqlite execute", e))?;
    Ok(Rows {
        columns,
        rows: rows
            .into_iter()
            .map(|row| row.values.into_iter().map(from_spin).collect())
            .collect(),
    })
}

/// A libSQL server (sqld) closes a Hrana stream idle for 10 s and refuses its baton from then
/// on with `STREAM_EXPIRED`, before running anything; Spin's libSQL client keeps the dead
/// baton, so every later statement on that connection fails the same way. A request that
/// computes longer than that between two statements (the map import builds its index between
/// two transactions) meets it.
fn is_stream_expired(e: &StoreError) -> bool {
    e.0.contains("STREAM_EXPIRED")
}

/// Whether a transaction is open after `statement` ran (`ok`: it succeeded), given whether
/// one was before. OneGrid opens them with `BEGIN IMMEDIATE` and ends them with `COMMIT` or
/// `ROLLBACK`.
fn transaction_after(statement: &str, before: bool, ok: bool) -> bool {
    let mut words = statement.split_whitespace().map(str::to_ascii_uppercase);
    match (words.next().as_deref(), words.next().as_deref()) {
        (Some("BEGIN"), _) => before || ok,
        (Some("ROLLBACK"), Some("TO")) => before,
        // A failed ROLLBACK leaves none either: none was open, or the stream that held it is gone.
        (Some("ROLLBACK"), _) => false,
        (Some("COMMIT" | "END"), _) => before && !ok,
        _ => before,
    }
}

impl Database for SpinEnv {
    async fn execute(&self, statement: &str, params: &[Value]) -> Result<Rows, StoreError> {
        let conn = self.db().await?;
        let mut result = run(&conn, statement, params).await;
        if let Err(e) = &result
            && is_stream_expired(e)
            && !self.in_transaction.get()
        {
            // Outside a transaction nothing is lost with the stream: the statement, refused
            // before it ran, goes again on a fresh connection. Inside one the server rolled
            // it back, and the error stands.
            tracing::info!("the libSQL stream expired while idle; reconnecting");
            self.db.borrow_mut().take_if(|c| Rc::ptr_eq(c, &conn));
            let conn = self.db().await?;
            result = run(&conn, statement, params).await;
        }
        let before = self.in_transaction.get();
        self.in_transaction
            .set(transaction_after(statement, before, result.is_ok()));
        result
    }
}

impl KeyValue for SpinEnv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.kv()
            .await?
            .get(key)
            .await
            .map_err(|e| store_error("key-value get", e))
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.kv()
            .await?
            .set(key, value)
            .await
            .map_err(|e| store_error("key-value set", e))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.kv()
            .await?
            .delete(key)
            .await
            .map_err(|e| store_error("key-value delete", e))
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.kv()
            .await?
            .exists(key)
            .await
            .map_err(|e| store_error("key-value exists", e))
    }
}

impl Platform for SpinEnv {
    async fn variable(&self, name: &str) -> Result<Option<String>, StoreError> {
        match spin_sdk::variables::get(name).await {
            Ok(value) => Ok(Some(value)),
            Err(spin_sdk::variables::Error::Undefined(_)) => Ok(None),
            Err(e) => Err(store_error("variable", e)),
        }
    }

    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, String> {
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        // Without it Spin sends the body chunked, and a receiver that reads by length (many
        // webhook endpoints do) sees an empty body and a failing signature.
        let declares_length = request
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-length"));
        if !declares_length {
            builder = builder.header(http::header::CONTENT_LENGTH, request.body.len());
        }
        let outbound = builder
            .body(FullBody::new(Bytes::from(request.body)))
            .map_err(|e| format!("invalid request: {e}"))?;
        let response = spin_sdk::http::send(outbound)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let mut chunks = response.into_body().stream();
        while body.len() < MAX_OUTBOUND_BODY_BYTES {
            match chunks.next().await {
                Some(Ok(chunk)) => body.extend_from_slice(&chunk),
                Some(Err(e)) => return Err(format!("reading the response: {e:?}")),
                None => break,
            }
        }
        body.truncate(MAX_OUTBOUND_BODY_BYTES);
        Ok(OutboundResponse { status, body })
    }
}

/// The domain's `tracing` events as lines on stderr, which Spin keeps per component (`spin up`
/// prints them, or writes them under `.spin/logs/`). Info and above: a component has no
/// `RUST_LOG`. Once per instance; a second call (a reused instance) changes nothing.
pub fn init_logging() {
    let _already_set = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Reads a Spin request into memory. A body over the route's [`body_limit`], announced by
/// `Content-Length` or found while reading, answers 413 before anything parses it; a body
/// larger than the ordinary limit is read only after `api::admit` let its caller send it.
/// Installs the log first ([`init_logging`]).
pub async fn read_request(req: spin_sdk::http::Request) -> Result<ApiRequest, ApiResponse> {
    init_logging();
    let (parts, incoming) = req.into_parts();
    let limit = body_limit(parts.method.as_str(), parts.uri.path());
    let path = parts.uri.path().to_owned();
    let too_large = || onegrid::api::refusal(&path, Problem::body_too_large(limit));
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_ascii_lowercase(), value)
        })
        .collect();
    let mut request = ApiRequest {
        method: parts.method.as_str().to_ascii_uppercase(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        body: Vec::new(),
    };
    // A large body is read only for a caller who may send it (`api::admit`), as on the
    // native host.
    if limit > onegrid::http::MAX_BODY_BYTES {
        onegrid::api::admit(&SpinEnv::new(), &request)
            .await
            .map_err(|p| onegrid::api::refusal(&request.path, p))?;
    }
    let mut chunks = incoming.stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| {
            onegrid::api::refusal(
                &path,
                Problem::bad_request("the request body could not be read"),
            )
        })?;
        if request.body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        request.body.extend_from_slice(&chunk);
    }
    Ok(request)
}

/// Writes a handler's answer as a Spin response. A status or header the `http` crate refuses
/// (a handler bug) becomes a bare 500 `internal` problem rather than a trap.
pub fn write_response(resp: ApiResponse) -> impl IntoResponse {
    build_response(resp).unwrap_or_else(|_| {
        let problem = Problem::internal().into_response();
        let mut fallback = http::Response::new(FullBody::new(Bytes::from(problem.body)));
        *fallback.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        fallback.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/problem+json"),
        );
        fallback
    })
}

fn build_response(resp: ApiResponse) -> Result<http::Response<FullBody<Bytes>>, http::Error> {
    let mut builder = http::Response::builder().status(resp.status);
    for (name, value) in &resp.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(FullBody::new(Bytes::from(resp.body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transaction_state_follows_begin_commit_and_rollback() {
        assert!(transaction_after("BEGIN IMMEDIATE", false, true));
        assert!(!transaction_after("BEGIN IMMEDIATE", false, false));
        assert!(transaction_after("SELECT 1", true, true));
        assert!(transaction_after("INSERT INTO t VALUES (1)", true, false));
        assert!(!transaction_after("COMMIT", true, true));
        assert!(
            transaction_after("COMMIT", true, false),
            "a failed COMMIT leaves it open"
        );
        assert!(!transaction_after("rollback", true, true));
        assert!(!transaction_after("ROLLBACK", true, false));
        assert!(transaction_after("ROLLBACK TO sp", true, true));
        assert!(!transaction_after("  end  ", true, true));
    }

    #[test]
    fn only_an_expired_stream_is_told_apart() {
        let expired = StoreError(
            "sqlite execute: Error::Io(\"Hrana: `api error: `{\\\"message\\\":\\\"The stream \
             has expired due to inactivity\\\",\\\"code\\\":\\\"STREAM_EXPIRED\\\"}``\")"
                .into(),
        );
        assert!(is_stream_expired(&expired));
        let other = StoreError("sqlite execute: Error::Io(\"unsupported statement\")".into());
        assert!(!is_stream_expired(&other));
    }
}
