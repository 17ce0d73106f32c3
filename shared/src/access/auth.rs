//! Who is calling. Two service tokens from Spin variables stand for the city operator
//! (`operator_token`) and the administrator (`admin_token`), for automation; staff accounts sign
//! in for session tokens (`sessions`). A wrong or missing token is a 401; a role a route does not
//! serve is a 403; a case outside the caller's scope is a 404, so that its existence is not told.

pub use super::principal::*;
use crate::crypto::same_secret;
use crate::{ApiRequest, Env, Platform, Problem};

async fn variable_matches<P: Platform>(env: &P, name: &str, given: &str) -> Result<bool, Problem> {
    Ok(env
        .variable(name)
        .await?
        .filter(|t| !t.is_empty())
        .is_some_and(|expected| same_secret(given.as_bytes(), expected.as_bytes())))
}

/// The principal behind the request's bearer token; 401 without a valid one.
pub async fn authenticate<E: Env>(env: &E, req: &ApiRequest) -> Result<Principal, Problem> {
    let Some(token) = req.bearer() else {
        return Err(Problem::unauthorized("send Authorization: Bearer <token>"));
    };
    if variable_matches(env, "operator_token", token).await? {
        return Ok(Principal::city_operator());
    }
    if variable_matches(env, "admin_token", token).await? {
        return Ok(Principal::admin());
    }
    crate::access::sessions::principal_of(env, token).await
}

/// Like [`authenticate`], and the principal must be one of `roles`; otherwise 403.
pub async fn require<E: Env>(
    env: &E,
    req: &ApiRequest,
    roles: &[StaffRole],
) -> Result<Principal, Problem> {
    let principal = authenticate(env, req).await?;
    if roles.contains(&principal.role) {
        Ok(principal)
    } else {
        Err(Problem::forbidden(format!(
            "the role {} may not use this route",
            principal.role.as_str()
        )))
    }
}
