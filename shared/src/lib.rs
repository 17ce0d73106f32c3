//! OneGrid's domain: one net for every citizen problem of a city. Types that refuse bad data,
//! the grid map and its lookup, routing, the one case state machine, webhook signatures, the
//! SQL schema, and the handlers of every HTTP route, written against the ports in [`ports`].
//! Nothing here knows whether it runs in a Spin component or in the native host.

pub mod accounts;
pub mod api;
pub mod assets;
pub mod auth;
pub mod case;
pub mod cases;
pub mod datetime;
pub mod deadlines;
pub mod demo;
pub mod directory;
pub mod evidence;
pub mod grid;
pub mod indicators;
pub mod keys;
pub mod limits;
pub mod mediation;
pub mod model;
pub mod open311;
pub mod outbox;
pub mod platforms;
pub mod ports;
pub mod privacy;
pub mod problem;
pub mod routing;
pub mod schema;
pub mod sessions;
pub mod statics;
pub mod web;
pub mod webhook;

pub use ports::{Database, Env, KeyValue, Platform, Rows, StoreError, Value};
pub use problem::Problem;
pub use web::{ApiRequest, ApiResponse};
