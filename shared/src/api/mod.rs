//! The handlers of every HTTP route, one module per Spin component. Each takes the request
//! already read into memory and answers; the components and the native host only convert.
//! Each module opens with its route table (`ROUTES`, see [`routes`]) and the `handle` that
//! matches a request against it.

pub mod accounts;
pub mod alerts;
pub mod assets;
pub mod callbacks;
pub mod dispatch;
pub mod grid;
pub mod indicators;
pub mod ingest;
pub mod intake;
pub mod open311;
pub mod openapi;
pub mod registry;
pub mod routes;
pub mod static_files;

use crate::access::auth::{self, Principal, StaffRole};
use crate::access::limits::{self, Limit};
use crate::{ApiRequest, ApiResponse, Env, Problem};

/// Collapse a handler's `Result` into the response; errors become problem details.
pub(crate) fn respond(result: Result<ApiResponse, Problem>) -> ApiResponse {
    result.unwrap_or_else(Problem::into_response)
}

/// The staff member behind the request, of one of `roles` (401, 403 otherwise). The schema comes
/// first: a session's account lives in SQL. Nothing of the body is read before this.
pub(crate) async fn staff<E: Env>(
    env: &E,
    req: &ApiRequest,
    roles: &[StaffRole],
) -> Result<Principal, Problem> {
    ready(env).await?;
    auth::require(env, req, roles).await
}

/// The staff member behind the request, of any role (401 without one).
pub(crate) async fn caller<E: Env>(env: &E, req: &ApiRequest) -> Result<Principal, Problem> {
    ready(env).await?;
    auth::authenticate(env, req).await
}

/// Whether a caller may send a large body at all, from the request's method, path and headers
/// alone (`req.body` is not read): the native host asks this before it reads a body larger than
/// the ordinary limit, so that nobody unknown makes it hold megabytes. Staff routes check the
/// token or session and the role, as their handlers will; a department's callback needs its
/// signature headers (the signature itself needs the body); a citizen's report with photos
/// passes, counted by its handler, and bounded by the host's budget for bodies in flight.
pub async fn admit<E: Env>(env: &E, req: &ApiRequest) -> Result<(), Problem> {
    use routes::Access;
    let Some(route) = routes::every_route().into_iter().find(|r| {
        r.method.as_str().eq_ignore_ascii_case(&req.method)
            && crate::http::routes::matches(r.path, &req.path).is_some()
    }) else {
        return Ok(());
    };
    if route.limit <= crate::http::MAX_BODY_BYTES {
        return Ok(());
    }
    match route.access {
        Access::Staff(roles) => staff(env, req, roles).await.map(drop),
        Access::PublicOrStaff(roles) if req.bearer().is_some() => {
            staff(env, req, roles).await.map(drop)
        }
        Access::AnyStaff | Access::Session => caller(env, req).await.map(drop),
        Access::Signed => {
            let signed = ["webhook-id", "webhook-timestamp", "webhook-signature"]
                .iter()
                .all(|h| req.header(h).is_some_and(|v| !v.trim().is_empty()));
            if signed {
                Ok(())
            } else {
                Err(Problem::bad_signature(
                    "webhook-id, webhook-timestamp and webhook-signature are required",
                ))
            }
        }
        Access::PublicRateLimited
        | Access::PublicOrStaff(_)
        | Access::Reporter
        | Access::ApiKey => Ok(()),
    }
}

/// Counts the request against a per-client limit (429 past it). The counts are a table, so the
/// schema comes first.
pub(crate) async fn limited<E: Env>(
    env: &E,
    req: &ApiRequest,
    limit: Limit,
) -> Result<(), Problem> {
    // Limits switched off (a load test on loopback) open no database: the grid lookup runs
    // no SQL of its own, and a connection costs more than the lookup on Spin.
    if !limits::enabled(env).await? {
        return Ok(());
    }
    ready(env).await?;
    limits::check_client(env, req, limit).await
}

/// The answer of a route counted against `limit`: `answer` runs only within it.
pub(crate) async fn counted<E: Env>(
    env: &E,
    req: &ApiRequest,
    limit: Limit,
    answer: impl Future<Output = Result<ApiResponse, Problem>>,
) -> Result<ApiResponse, Problem> {
    limited(env, req, limit).await?;
    answer.await
}

/// Every SQL-using route starts here: the schema is brought up to date if it is not.
pub(crate) async fn ready<E: Env>(env: &E) -> Result<(), Problem> {
    crate::app::schema::ensure(env).await?;
    Ok(())
}

#[cfg(test)]
mod access_tests;
#[cfg(test)]
mod assets_tests;
#[cfg(test)]
mod callbacks_tests;
#[cfg(test)]
mod directory_tests;
#[cfg(test)]
pub(crate) mod ingest_tests;
#[cfg(test)]
mod intake_tests;
#[cfg(test)]
mod lifecycle_tests;
#[cfg(test)]
mod open311_tests;
#[cfg(test)]
mod openapi_tests;
#[cfg(test)]
mod routes_tests;
#[cfg(test)]
mod staff_tests;
#[cfg(test)]
pub(crate) mod testkit;

/// A list answer: `{"items": [...]}`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "{T}Items")]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// A refusal made before any handler ran (a body too large or too slow, the server busy), in the
/// format the path's callers read: Open311's error list, as the path's suffix asks, under
/// `/open311/` (a client there reads nothing else); problem details everywhere else.
pub fn refusal(path: &str, problem: Problem) -> ApiResponse {
    use crate::exchange::open311;
    if path.starts_with("/open311/") {
        let last = path.rsplit('/').next().unwrap_or("");
        return open311::error_response(&problem, open311::split_format(last).1);
    }
    problem.into_response()
}
