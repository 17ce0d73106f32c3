//! Staff session tokens. Until staff accounts exist, no token but the two service tokens
//! (checked in `auth`) is valid, and this says so.

use crate::auth::Principal;
use crate::{Env, Problem};

/// The principal of a session token, or 401.
pub async fn principal_of<E: Env>(_env: &E, _token: &str) -> Result<Principal, Problem> {
    Err(Problem::unauthorized("the bearer token is not valid"))
}
