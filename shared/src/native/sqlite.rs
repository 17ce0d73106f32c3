//! [`Database`] and [`KeyValue`] on rusqlite. The key-value store is a SQLite table laid out as
//! Spin's local store keeps it (`spin_key_value`), so a data directory reads the same to both.
//! Nothing here knows what the tables mean.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};

use super::group_commit::GroupSync;
use crate::ports::{Database, KeyValue};
use crate::{Rows, StoreError, Value};

/// How long a statement waits for another connection's write lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);
/// Statements kept prepared per connection: the handlers use fewer distinct ones than this.
const STATEMENT_CACHE: usize = 128;

fn store_error(e: rusqlite::Error) -> StoreError {
    StoreError(e.to_string())
}

fn opening(what: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError(format!("opening {what}: {e}"))
}

/// How a connection makes its commits durable: on a file, through the file's [`GroupSync`]
/// (see `group_commit`); otherwise alone.
struct Durability {
    group: Option<Arc<GroupSync>>,
    /// Set by SQLite's commit hook when a write transaction commits on this connection.
    committed: Arc<AtomicBool>,
    /// This connection holds the file's writer turn (from `BEGIN IMMEDIATE` to the end).
    has_turn: AtomicBool,
}

impl Durability {
    /// For a file: WAL, commits without their own fsync, and the file's group sync. SQLite
    /// calls the commit hook for write transactions only, so reads never wait.
    fn on_file(conn: &Connection, path: &Path) -> rusqlite::Result<Durability> {
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // No WAL, no group: every commit syncs itself.
            conn.pragma_update(None, "synchronous", "FULL")?;
            return Ok(Durability::alone());
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let group = GroupSync::of(path);
        if group.checkpointed() {
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        let committed = Arc::new(AtomicBool::new(false));
        let hook = committed.clone();
        conn.commit_hook(Some(move || {
            hook.store(true, Ordering::Relaxed);
            false // false: let the commit go on
        }));
        Ok(Durability {
            group: Some(group),
            committed,
            has_turn: AtomicBool::new(false),
        })
    }

    /// Without a group: in memory (nothing to sync), or a file not in WAL (`synchronous=FULL`:
    /// each commit syncs itself).
    fn alone() -> Durability {
        Durability {
            group: None,
            committed: Arc::new(AtomicBool::new(false)),
            has_turn: AtomicBool::new(false),
        }
    }

    /// Before a statement: a write transaction first waits for the file's writer turn, so that
    /// this process's writers hand SQLite's write lock on without its busy handler's sleeps.
    fn before(&self, statement: &str) {
        if let Some(group) = &self.group
            && statement.starts_with("BEGIN IMMEDIATE")
            && !self.has_turn.swap(true, Ordering::Relaxed)
        {
            group.take_turn();
        }
    }

    /// After a statement, with the connection back out of any transaction: the turn goes on.
    fn after_transaction(&self) {
        if let Some(group) = &self.group
            && self.has_turn.swap(false, Ordering::Relaxed)
        {
            group.give_turn();
        }
    }

    /// One write statement outside a transaction (a key-value set or delete): it too takes the
    /// file's writer turn, and returns once durable.
    fn write_alone<T>(
        &self,
        write: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if let Some(group) = &self.group {
            group.take_turn();
        }
        let outcome = write();
        if let Some(group) = &self.group {
            group.give_turn();
        }
        self.settle(outcome)
    }

    /// After a statement: if it committed a write, returns only once that is on disk.
    fn settle<T>(&self, outcome: Result<T, StoreError>) -> Result<T, StoreError> {
        let committed = self.committed.swap(false, Ordering::Relaxed);
        let value = outcome?;
        if let (true, Some(group)) = (committed, &self.group) {
            group.wait_durable()?;
        }
        Ok(value)
    }
}

/// A connection closed inside a write transaction (its thread unwound, say) gives its turn on:
/// SQLite rolls the transaction back as the connection closes.
impl Drop for Durability {
    fn drop(&mut self) {
        self.after_transaction();
    }
}

/// The app database on one connection.
pub struct Sqlite {
    /// Declared first, so closed first: its transaction is rolled back before the turn goes on.
    conn: Connection,
    durability: Durability,
}

impl Sqlite {
    /// A database file (created if missing).
    pub fn open(path: &Path) -> Result<Sqlite, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open(path).map_err(opening(&name))?;
        // Switching the journal may wait for another connection's lock.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(opening(&name))?;
        let durability = Durability::on_file(&conn, path).map_err(opening(&name))?;
        Sqlite::set_up(conn, durability).map_err(opening(&name))
    }

    /// A private database in memory, set up as a file is (tests).
    pub fn in_memory() -> Result<Sqlite, StoreError> {
        let conn = Connection::open_in_memory().map_err(opening("a database in memory"))?;
        Sqlite::set_up(conn, Durability::alone()).map_err(opening("a database in memory"))
    }

    /// A 2xx answer promises the write is on disk: `durability` keeps that promise.
    fn set_up(conn: Connection, durability: Durability) -> rusqlite::Result<Sqlite> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Sqlite { conn, durability })
    }

    /// The connection itself, for what the port does not cover (a benchmark's pragmas).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Rolls back whatever transaction is open; true if one was. See `NativeEnv::end_request`.
    pub fn end_request(&self) -> bool {
        if self.conn.is_autocommit() {
            return false;
        }
        if let Err(e) = self.conn.execute_batch("ROLLBACK") {
            tracing::error!(error = %e, "rolling back a transaction left open failed");
        }
        if self.conn.is_autocommit() {
            self.durability.after_transaction();
        }
        true
    }

    fn run(&self, statement: &str, params: &[Value]) -> rusqlite::Result<Rows> {
        let mut stmt = self.conn.prepare_cached(statement)?;
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

impl Database for Sqlite {
    async fn execute(&self, statement: &str, params: &[Value]) -> Result<Rows, StoreError> {
        self.durability.before(statement);
        let outcome = self.run(statement, params).map_err(store_error);
        if self.conn.is_autocommit() {
            self.durability.after_transaction();
        }
        // The turn is given on before the wait: the next writer's transaction runs meanwhile.
        self.durability.settle(outcome)
    }
}

/// The key-value store on its own connection (its own file, as Spin keeps it apart).
pub struct SqliteKv {
    conn: Connection,
    durability: Durability,
}

impl SqliteKv {
    /// A store file (created if missing).
    pub fn open(path: &Path) -> Result<SqliteKv, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open(path).map_err(opening(&name))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(opening(&name))?;
        // Every worker has a connection to the file; WAL lets them read while one writes.
        let durability = Durability::on_file(&conn, path).map_err(opening(&name))?;
        SqliteKv::set_up(conn, durability).map_err(opening(&name))
    }

    /// A private store in memory (tests, benchmarks).
    pub fn in_memory() -> Result<SqliteKv, StoreError> {
        let conn = Connection::open_in_memory().map_err(opening("a key-value store in memory"))?;
        SqliteKv::set_up(conn, Durability::alone()).map_err(opening("a key-value store in memory"))
    }

    fn set_up(conn: Connection, durability: Durability) -> rusqlite::Result<SqliteKv> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
            [],
        )?;
        // The table is there whoever made it; nothing waits on that commit's sync.
        durability.committed.store(false, Ordering::Relaxed);
        Ok(SqliteKv { conn, durability })
    }

    /// Every key, in order: for tests and tools, never on a request path (the port lists nothing).
    pub fn keys(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key FROM spin_key_value ORDER BY key")
            .map_err(store_error)?;
        let keys = stmt
            .query_map([], |r| r.get(0))
            .map_err(store_error)?
            .collect::<rusqlite::Result<Vec<String>>>();
        keys.map_err(store_error)
    }
}

impl KeyValue for SqliteKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM spin_key_value WHERE key = ?1")
            .map_err(store_error)?;
        stmt.query_row(params![key], |r| r.get(0))
            .optional()
            .map_err(store_error)
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let sql = "INSERT INTO spin_key_value (key, value) VALUES (?1, ?2) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        let mut stmt = self.conn.prepare_cached(sql).map_err(store_error)?;
        let write = || stmt.execute(params![key, value]).map_err(store_error);
        self.durability.write_alone(write).map(drop)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM spin_key_value WHERE key = ?1")
            .map_err(store_error)?;
        let write = || stmt.execute(params![key]).map_err(store_error);
        self.durability.write_alone(write).map(drop)
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM spin_key_value WHERE key = ?1")
            .map_err(store_error)?;
        let found: Option<i64> = stmt
            .query_row(params![key], |r| r.get(0))
            .optional()
            .map_err(store_error)?;
        Ok(found.is_some())
    }
}
