//! The host's `Env`: the native adapter of `onegrid::native` (the app database
//! `<data>/onegrid.db` and the key-value store `<data>/kv.db`, laid out like Spin's local store)
//! with the host's platform: variables from the environment then secrets.json, the system
//! clock, and outbound HTTP on ureq.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use onegrid::StoreError;
use onegrid::native::{Sqlite, SqliteKv};
use onegrid::ports::{OutboundRequest, OutboundResponse, Platform};

use crate::outbound;

/// One worker's connections and platform. Not shared between threads: each opens its own.
pub type NativeEnv = onegrid::native::NativeEnv<HostPlatform>;

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
            db: Sqlite::open(&self.db_path())?,
            kv: SqliteKv::open(&self.data_dir.join("kv.db"))?,
            platform: HostPlatform {
                variables: Arc::clone(&self.variables),
                http: outbound::agent(),
            },
        })
    }
}

pub struct HostPlatform {
    variables: Arc<HashMap<String, String>>,
    http: ureq::Agent,
}

/// `SPIN_VARIABLE_<NAME>` when set and not empty, as `spin up` reads it.
pub fn env_variable(name: &str) -> Option<String> {
    let key = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

impl Platform for HostPlatform {
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
