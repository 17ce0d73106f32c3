//! The unit tests' `Env`: the native adapter on SQLite in memory (the app database and the
//! key-value store, as the host keeps them in files), with a fake platform — fixed variables,
//! a clock the test sets, and a network that records every request and answers the status the
//! test sets.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use super::{NativeEnv, Sqlite, SqliteKv};
use crate::StoreError;
use crate::ports::{OutboundRequest, OutboundResponse, Platform};

pub type TestEnv = NativeEnv<FakePlatform>;

pub struct FakePlatform {
    pub variables: HashMap<String, String>,
    pub now: Cell<i64>,
    /// Every outbound request, in order.
    pub sent: RefCell<Vec<OutboundRequest>>,
    /// What the fake network answers: a status, or 0 for a connection failure.
    pub answer_status: Cell<u16>,
}

pub const OPERATOR_TOKEN: &str = "op-test-token";
pub const ADMIN_TOKEN: &str = "admin-test-token";

impl TestEnv {
    pub fn new() -> TestEnv {
        let variables = HashMap::from([
            ("operator_token".to_owned(), OPERATOR_TOKEN.to_owned()),
            ("admin_token".to_owned(), ADMIN_TOKEN.to_owned()),
        ]);
        NativeEnv {
            db: Sqlite::in_memory().expect("an in-memory database"),
            kv: SqliteKv::in_memory().expect("an in-memory key-value store"),
            platform: FakePlatform {
                variables,
                now: Cell::new(1_700_000_000_000),
                sent: RefCell::new(Vec::new()),
                answer_status: Cell::new(0),
            },
        }
    }
}

impl Default for TestEnv {
    fn default() -> TestEnv {
        TestEnv::new()
    }
}

/// The tests read and set the fake platform as the env's own fields (`env.now.set(…)`,
/// `env.sent.borrow()`): they are the test's knobs, beside the ports.
impl Deref for TestEnv {
    type Target = FakePlatform;
    fn deref(&self) -> &FakePlatform {
        &self.platform
    }
}

impl DerefMut for TestEnv {
    fn deref_mut(&mut self) -> &mut FakePlatform {
        &mut self.platform
    }
}

impl Platform for FakePlatform {
    async fn variable(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.variables.get(name).cloned())
    }
    fn now_ms(&self) -> i64 {
        self.now.get()
    }
    async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, String> {
        self.sent.borrow_mut().push(request);
        match self.answer_status.get() {
            0 => Err("connection refused (test network)".into()),
            status => Ok(OutboundResponse {
                status,
                body: b"ok".to_vec(),
            }),
        }
    }
}
