//! `NativeEnv`: the three ports of `onegrid::ports` on local files, for running without Spin.
//! The app database is `<data>/onegrid.db` (rusqlite), the key-value store `<data>/kv.db`
//! (laid out like Spin's local store), variables come from the environment then secrets.json.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use onegrid::ports::{Database, KeyValue, OutboundRequest, OutboundResponse, Platform};
use onegrid::{Rows, StoreError, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};

use crate::outbound;

/// What a thread needs to open its own `NativeEnv`; cheap to clone and `Send`.
#[derive(Clone, Debug)]
pub struct EnvConfig {
    pub data_dir: PathBuf,
    /// Fallback values of variables (secrets.json over spin.toml defaults), by lower-case name.
    pub variables: Arc<HashMap<String, String>>,
}

impl EnvConfig {
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("onegrid.db")
    }

    pub fn open(&self) -> anyhow::Result<NativeEnv> {
        Ok(NativeEnv {
            db: open_db(&self.db_path())?,
            kv: open_kv(&self.data_dir.join("kv.db"))?,
            variables: Arc::clone(&self.variables),
            http: outbound::agent(),
        })
    }
}

/// One worker's connections. Not shared between threads: each thread opens its own.
pub struct NativeEnv {
    db: Connection,
    kv: Connection,
    variables: Arc<HashMap<String, String>>,
    http: ureq::Agent,
}

fn open_db(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_millis(5000))?;
    // A 2xx answer promises the write is on disk.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

fn open_kv(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_millis(5000))?;
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute(
        "CREATE TABLE IF NOT EXISTS spin_key_value (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
        [],
    )?;
    Ok(conn)
}

impl NativeEnv {
    /// Spin gives every request a fresh connection, so a transaction never outlives it.
    /// Our connections live on: roll back whatever a handler left open. True if it had to.
    pub fn end_request(&self) -> bool {
        if self.db.is_autocommit() {
            return false;
        }
        if let Err(e) = self.db.execute_batch("ROLLBACK") {
            eprintln!("onegrid: rolling back a transaction left open failed: {e}");
        }
        true
    }

    fn run(&self, statement: &str, params: &[Value]) -> rusqlite::Result<Rows> {
        let mut stmt = self.db.prepare_cached(statement)?;
        let bound = rusqlite::params_from_iter(params.iter().map(to_sql));
        let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
        if columns.is_empty() {
            stmt.execute(bound)?;
            return Ok(Rows::default());
        }
        let mut rows = Vec::new();
        let mut cursor = stmt.query(bound)?;
        while let Some(row) = cursor.next()? {
            let values = (0..columns.len())
                .map(|i| row.get_ref(i).map(from_sql))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.push(values);
        }
        Ok(Rows { columns, rows })
    }
}

fn to_sql(value: &Value) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(match value {
        Value::Integer(v) => ValueRef::Integer(*v),
        Value::Real(v) => ValueRef::Real(*v),
        Value::Text(v) => ValueRef::Text(v.as_bytes()),
        Value::Blob(v) => ValueRef::Blob(v),
        Value::Null => ValueRef::Null,
    })
}

fn from_sql(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Integer(v) => Value::Integer(v),
        ValueRef::Real(v) => Value::Real(v),
        ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
        ValueRef::Blob(v) => Value::Blob(v.to_vec()),
        ValueRef::Null => Value::Null,
    }
}

fn store_error(e: rusqlite::Error) -> StoreError {
    StoreError(e.to_string())
}

impl Database for NativeEnv {
    async fn execute(&self, statement: &str, params: &[Value]) -> Result<Rows, StoreError> {
        self.run(statement, params).map_err(store_error)
    }
}

impl KeyValue for NativeEnv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut stmt = self
            .kv
            .prepare_cached("SELECT value FROM spin_key_value WHERE key = ?1")
            .map_err(store_error)?;
        stmt.query_row(params![key], |r| r.get(0))
            .optional()
            .map_err(store_error)
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let sql = "INSERT INTO spin_key_value (key, value) VALUES (?1, ?2) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        let mut stmt = self.kv.prepare_cached(sql).map_err(store_error)?;
        stmt.execute(params![key, value]).map_err(store_error)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut stmt = self
            .kv
            .prepare_cached("DELETE FROM spin_key_value WHERE key = ?1")
            .map_err(store_error)?;
        stmt.execute(params![key]).map_err(store_error)?;
        Ok(())
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let mut stmt = self
            .kv
            .prepare_cached("SELECT 1 FROM spin_key_value WHERE key = ?1")
            .map_err(store_error)?;
        let found: Option<i64> = stmt
            .query_row(params![key], |r| r.get(0))
            .optional()
            .map_err(store_error)?;
        Ok(found.is_some())
    }
}

/// `SPIN_VARIABLE_<NAME>` when set and not empty, as `spin up` reads it.
pub fn env_variable(name: &str) -> Option<String> {
    let key = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

impl Platform for NativeEnv {
    async fn variable(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(env_variable(name).or_else(|| self.variables.get(name).cloned()))
    }

    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }

    async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, String> {
        outbound::send(&self.http, request)
    }
}

#[cfg(test)]
mod tests;
