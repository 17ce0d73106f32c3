//! The native adapter: the ports of [`crate::ports`] on rusqlite, and Spin's routing read from
//! spin.toml, for whatever runs the handlers without Spin — the native host, the unit tests and
//! the benches. It sits beside the Spin adapter: it depends on `ports` alone, and no domain
//! module may import it. Behind the `native` feature (always on in unit tests), so that a
//! component (wasm32-wasip2) never links SQLite.
//!
//! [`NativeEnv`] is the app database ([`Sqlite`]) and the key-value store ([`SqliteKv`]) with a
//! [`Platform`] of the caller's: the host's real clock and network, a test's fake ones.

mod group_commit;
pub mod router;
mod sqlite;

pub use group_commit::{DurabilityCount, durability_counts};
pub use sqlite::{Sqlite, SqliteKv};

use crate::ports::{Database, KeyValue, OutboundRequest, OutboundResponse, Platform};
use crate::{Rows, StoreError, Value};

/// The three ports of one thread: its own connections, and the platform `P`.
/// Not shared between threads: each opens its own.
pub struct NativeEnv<P> {
    pub db: Sqlite,
    pub kv: SqliteKv,
    pub platform: P,
}

impl<P> NativeEnv<P> {
    /// Spin gives every request a fresh connection, so a transaction never outlives it.
    /// Ours live on: call this after each request. True if a transaction was left open.
    pub fn end_request(&self) -> bool {
        self.db.end_request()
    }
}

impl<P> Database for NativeEnv<P> {
    async fn execute(&self, statement: &str, params: &[Value]) -> Result<Rows, StoreError> {
        self.db.execute(statement, params).await
    }
}

impl<P> KeyValue for NativeEnv<P> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.kv.get(key).await
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.kv.set(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.kv.delete(key).await
    }
    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.kv.exists(key).await
    }
}

impl<P: Platform> Platform for NativeEnv<P> {
    async fn variable(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.platform.variable(name).await
    }
    fn now_ms(&self) -> i64 {
        self.platform.now_ms()
    }
    async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, String> {
        self.platform.send(request).await
    }
}

#[cfg(test)]
pub(crate) mod testenv;

#[cfg(test)]
mod tests;
