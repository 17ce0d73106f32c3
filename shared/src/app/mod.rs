//! The command layer: one function per use case. A command does every read, lookup and
//! computation first, opens the write transaction only for the writes, and calls the side effects
//! (indicators, notices to platforms, webhooks) that a change brings. Handlers in `api`
//! decode, call a command and encode; they never write.

pub mod alerts;
pub mod callback;
pub mod cases;
pub mod ingest;
pub mod notices;
pub mod open311;
pub mod problems;
pub mod publication;
pub mod report;
pub mod schema;
pub mod staff_move;
pub mod sweep;
pub mod visit;
