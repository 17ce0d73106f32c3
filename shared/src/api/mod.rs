//! The handlers of every HTTP route, one module per Spin component. Each takes the request
//! already read into memory and answers; the components and the native host only convert.

pub mod accounts;
pub mod assets;
pub mod callbacks;
pub mod dispatch;
pub mod grid;
pub mod indicators;
pub mod ingest;
pub mod intake;
pub mod open311;

use crate::{ApiResponse, Env, Problem};

/// Collapse a handler's `Result` into the response; errors become problem details.
pub(crate) fn respond(result: Result<ApiResponse, Problem>) -> ApiResponse {
    result.unwrap_or_else(Problem::into_response)
}

/// Every SQL-using route starts here: the schema is brought up to date if it is not.
pub(crate) async fn ready<E: Env>(env: &E) -> Result<(), Problem> {
    crate::schema::ensure(env).await?;
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
mod staff_tests;
#[cfg(test)]
pub(crate) mod testkit;
