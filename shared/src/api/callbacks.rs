//! Routes of the `callbacks` component: departments report progress by Standard Webhooks; the
//! command `app::callback` verifies, applies once and answers.

use super::respond;
use super::routes::{Access::*, Route};
use crate::app::callback;
use crate::http::{MAX_CALLBACK_BODY_BYTES, routes};
use crate::{ApiRequest, ApiResponse, Env};

/// The routes of the `callbacks` component.
#[rustfmt::skip]
pub const ROUTES: &[Route<Op>] = &[
    Route::post("/api/callbacks/{department}", Signed, Op::Callback).limit(MAX_CALLBACK_BODY_BYTES),
];

/// The operations of [`ROUTES`], one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Callback,
}

/// Answers every route of the `callbacks` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let (route, p) = match routes::find(ROUTES, &req) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    respond(match route.id {
        Op::Callback => callback::receive(env, &req, &p["department"]).await,
    })
}
