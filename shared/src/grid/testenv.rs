//! An `Env` for the grid's tests: SQLite in memory (rusqlite, as the native host), the
//! key-value store in a map, fixed variables, a clock the test sets, and a fake network that
//! records every request and answers the status the test sets.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::ports::{Database, KeyValue, OutboundRequest, OutboundResponse, Platform};
use crate::{Rows, StoreError, Value};

pub struct TestEnv {
    db: rusqlite::Connection,
    pub kv: RefCell<BTreeMap<String, Vec<u8>>>,
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
        TestEnv {
            db: rusqlite::Connection::open_in_memory().expect("an in-memory database"),
            kv: RefCell::new(BTreeMap::new()),
            variables,
            now: Cell::new(1_700_000_000_000),
            sent: RefCell::new(Vec::new()),
            answer_status: Cell::new(0),
        }
    }
}

fn store_error(e: rusqlite::Error) -> StoreError {
    StoreError(e.to_string())
}

impl Database for TestEnv {
    async fn execute(&self, statement: &str, params: &[Value]) -> Result<Rows, StoreError> {
        let mut stmt = self.db.prepare_cached(statement).map_err(store_error)?;
        let bound = rusqlite::params_from_iter(params.iter().map(|v| {
            ToSqlOutput::Borrowed(match v {
                Value::Integer(v) => ValueRef::Integer(*v),
                Value::Real(v) => ValueRef::Real(*v),
                Value::Text(v) => ValueRef::Text(v.as_bytes()),
                Value::Blob(v) => ValueRef::Blob(v),
                Value::Null => ValueRef::Null,
            })
        }));
        let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
        let mut cursor = stmt.query(bound).map_err(store_error)?;
        let mut rows = Vec::new();
        while let Some(row) = cursor.next().map_err(store_error)? {
            let values = (0..columns.len())
                .map(|i| {
                    row.get_ref(i).map(|v| match v {
                        ValueRef::Integer(v) => Value::Integer(v),
                        ValueRef::Real(v) => Value::Real(v),
                        ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
                        ValueRef::Blob(v) => Value::Blob(v.to_vec()),
                        ValueRef::Null => Value::Null,
                    })
                })
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(store_error)?;
            rows.push(values);
        }
        Ok(Rows { columns, rows })
    }
}

impl KeyValue for TestEnv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.kv.borrow().get(key).cloned())
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.kv.borrow_mut().insert(key.to_owned(), value.to_vec());
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.kv.borrow_mut().remove(key);
        Ok(())
    }
    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.kv.borrow().contains_key(key))
    }
}

impl Platform for TestEnv {
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
