//! Who is calling and what they may do: staff principals and their scopes ([`auth`]), accounts
//! and sessions, API keys of other systems, and the rate limits of public routes.

pub mod accounts;
pub mod auth;
pub mod keys;
pub mod limits;
pub mod principal;
pub mod sessions;
