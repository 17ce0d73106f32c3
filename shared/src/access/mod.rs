//! Who is calling and what they may do: staff principals and their scopes ([`auth`]), accounts
//! and sessions, API keys of other systems, and the rate limits of public routes.

pub mod accounts;
pub mod auth;
pub mod keys;
pub mod limits;
pub mod principal;
pub mod sessions;

/// Access's part of schema version 3 (accounts, sessions), version 5 (API keys) and version 7
/// (rate-limit counts), as `app::schema` applies them.
pub const MIGRATION_3: &str = include_str!("sql/003_accounts.sql");
pub const MIGRATION_5: &str = include_str!("sql/005_api_keys.sql");
pub const MIGRATION_7: &str = include_str!("sql/007_rate_limits.sql");
pub const MIGRATION_8: &str = include_str!("sql/008_sign_in_locks.sql");
