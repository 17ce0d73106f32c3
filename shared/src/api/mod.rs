//! The handlers of every HTTP route, one module per Spin component. Each takes the request
//! already read into memory and answers; the components and the native host only convert.

pub mod callbacks;
pub mod dispatch;
pub mod grid;
pub mod intake;

use crate::{ApiResponse, Env, Platform, Problem};

/// Collapse a handler's `Result` into the response; errors become problem details.
pub(crate) fn respond(result: Result<ApiResponse, Problem>) -> ApiResponse {
    result.unwrap_or_else(Problem::into_response)
}

/// Constant-time comparison, so that a token cannot be guessed byte by byte from timings.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks the bearer token against a Spin variable (`operator_token`, `admin_token`).
pub(crate) async fn require_token<P: Platform>(env: &P, req: &crate::ApiRequest, variable: &str) -> Result<(), Problem> {
    let expected = env
        .variable(variable)
        .await?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Problem::not_configured(variable))?;
    match req.bearer() {
        Some(given) if same_secret(given.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(Problem::unauthorized("the bearer token is not valid")),
        None => Err(Problem::unauthorized("send Authorization: Bearer <token>")),
    }
}

/// Every SQL-using route starts here: the schema is brought up to date if it is not.
pub(crate) async fn ready<E: Env>(env: &E) -> Result<(), Problem> {
    crate::schema::ensure(env).await?;
    Ok(())
}

#[cfg(test)]
mod lifecycle_tests;
