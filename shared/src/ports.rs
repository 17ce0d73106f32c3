//! The storage and platform ports: what the domain needs from the world.
//! They are shaped after Spin's own APIs (SQLite `execute`, key-value get/set/delete/exists,
//! variables, outbound HTTP) so that the Spin adapter is a thin mapping; the native host
//! implements the same traits on rusqlite. Nothing here may name Spin.
//!
//! Components are single-threaded, so the ports need no `Send`.

use std::fmt;

/// A SQLite value, as Spin's `sqlite::Value`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Null,
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The answer of one statement: column names and rows of values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// The rows as name-addressable records.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }
    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }
}

/// One row, read by column name. A missing column or a wrong type is a storage error:
/// it means the SQL and the code disagree, never the caller's mistake.
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Row<'_> {
    fn value(&self, name: &str) -> Result<&Value, StoreError> {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|i| &self.values[i])
            .ok_or_else(|| StoreError(format!("no column {name}")))
    }
    pub fn i64(&self, name: &str) -> Result<i64, StoreError> {
        match self.value(name)? {
            Value::Integer(v) => Ok(*v),
            other => Err(StoreError(format!(
                "column {name}: integer expected, got {other:?}"
            ))),
        }
    }
    pub fn f64(&self, name: &str) -> Result<f64, StoreError> {
        match self.value(name)? {
            Value::Real(v) => Ok(*v),
            Value::Integer(v) => Ok(*v as f64),
            other => Err(StoreError(format!(
                "column {name}: real expected, got {other:?}"
            ))),
        }
    }
    pub fn text(&self, name: &str) -> Result<String, StoreError> {
        match self.value(name)? {
            Value::Text(v) => Ok(v.clone()),
            other => Err(StoreError(format!(
                "column {name}: text expected, got {other:?}"
            ))),
        }
    }
    pub fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.value(name)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.clone())),
            other => Err(StoreError(format!(
                "column {name}: text expected, got {other:?}"
            ))),
        }
    }
    pub fn opt_f64(&self, name: &str) -> Result<Option<f64>, StoreError> {
        match self.value(name)? {
            Value::Null => Ok(None),
            _ => self.f64(name).map(Some),
        }
    }
    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.value(name)? {
            Value::Null => Ok(None),
            Value::Integer(v) => Ok(Some(*v)),
            other => Err(StoreError(format!(
                "column {name}: integer expected, got {other:?}"
            ))),
        }
    }
}

/// A failure of the storage or the platform underneath: never the caller's fault (a 500).
#[derive(Debug, Clone, PartialEq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for StoreError {}

/// SQLite, one statement per call (Spin refuses several in one string).
/// A transaction holds across calls on the same `Database` value, as on one Spin connection.
#[allow(async_fn_in_trait)]
pub trait Database {
    async fn execute(&self, statement: &str, params: &[Value]) -> Result<Rows, StoreError>;
}

/// The key-value store: no atomic increment, no compare-and-swap, no TTL, and no listing on a
/// request path. Keys ≤ 250 characters without `/ \ ? #`, values ≤ 400 KB, on every backend.
#[allow(async_fn_in_trait)]
pub trait KeyValue {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    async fn exists(&self, key: &str) -> Result<bool, StoreError>;
}

/// An outbound HTTP request (department webhooks).
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What came back; a transport failure is an `Err` with its reason.
#[derive(Debug, Clone)]
pub struct OutboundResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Variables (secrets), the clock and outbound HTTP.
#[allow(async_fn_in_trait)]
pub trait Platform {
    /// A Spin variable by its lower-case name; `None` when it is not set.
    async fn variable(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, String>;
}

/// Everything a handler may touch. Each adapter implements the three ports on one value.
pub trait Env: Database + KeyValue + Platform {}
impl<T: Database + KeyValue + Platform> Env for T {}
