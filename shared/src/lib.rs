//! OneGrid's domain: one net for every citizen problem of a city. Nothing here knows whether it
//! runs in a Spin component or in the native host: everything outside comes through [`ports`].
//!
//! The modules are layers, and arrows only point down (a test in `architecture_tests` holds it):
//!
//! 1. the ground: [`ports`], [`time`], [`crypto`], [`mask`], [`http`] (requests, responses,
//!    problem details, route tables, webhook signatures), [`db`] (transactions, migrations);
//! 2. the contexts, each the one writer of its tables: [`grid`], [`directory`] (departments,
//!    categories, routing), [`assets`], [`case`] (the state machine and the case store, the only
//!    writer of cases and their trail), [`access`] (who is calling), [`exchange`] (webhooks out
//!    and in, other platforms, Open311), [`indicators`], [`warning`] (early warning: detectors and
//!    their alerts);
//! 3. [`app`]: one command per use case, which runs its transaction and calls the side effects;
//! 4. [`demo`], the demo city; [`api`]: one module per Spin component, route table → command.
//!
//! Beside the layers, an adapter: `native` (feature `native`, always in unit tests) implements
//! [`ports`] on rusqlite and routes as spin.toml does, for the native host, the tests and the
//! benches. It depends on `ports` only, and no module of the layers may import it (tests do).

pub mod crypto;
pub mod db;
pub mod http;
pub mod mask;
pub mod ports;
pub mod time;

pub mod access;
pub mod assets;
pub mod case;
pub mod directory;
pub mod exchange;
pub mod grid;
pub mod indicators;
pub mod registry;
pub mod warning;

pub mod app;

pub mod api;

#[cfg(test)]
mod architecture_tests;
pub mod demo;
pub mod demo_registry;

#[cfg(any(test, feature = "native"))]
pub mod native;

pub use http::problem::Problem;
pub use http::{ApiRequest, ApiResponse};
pub use ports::{Database, Env, KeyValue, Platform, Rows, StoreError, Value};
