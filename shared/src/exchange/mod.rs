//! Everything that crosses to other systems: the outbox of signed webhooks, the inbox of
//! department callbacks' receipts, other platforms' mappings and notices, and Open311.

pub mod inbox;
pub mod open311;
pub mod outbox;
pub mod platforms;

/// The exchange's part of schema version 1 (outbox, callback receipts) and version 5 (other
/// platforms, Open311), as `app::schema` applies them.
pub const MIGRATION_1: &str = include_str!("sql/001_exchange.sql");
pub const MIGRATION_5: &str = include_str!("sql/005_exchange.sql");
