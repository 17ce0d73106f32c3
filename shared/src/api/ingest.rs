//! Routes of the `ingest` component: other platforms push their events in, each with its own
//! API key (the command `app::ingest` applies them), and administrators configure the platforms
//! and the keys.

use super::routes::{Access::*, Route};
use super::{ready, respond};
use crate::access::auth::ADMINS;
use crate::access::keys::{self, NewKey};
use crate::exchange::platforms::{self, PlatformInput};
use crate::http::routes;
use crate::{ApiRequest, ApiResponse, Env, Problem};

/// The routes of the `ingest` component.
#[rustfmt::skip]
pub const ROUTES: &[Route<Op>] = &[
    Route::post("/api/ingest/{platform}", ApiKey, Op::Ingest),
    Route::get("/api/admin/platforms", Staff(ADMINS), Op::ListPlatforms),
    Route::get("/api/admin/platforms/{code}", Staff(ADMINS), Op::ReadPlatform),
    Route::put("/api/admin/platforms/{code}", Staff(ADMINS), Op::PutPlatform),
    Route::get("/api/admin/keys", Staff(ADMINS), Op::ListKeys),
    Route::post("/api/admin/keys", Staff(ADMINS), Op::CreateKey),
    Route::delete("/api/admin/keys/{id}", Staff(ADMINS), Op::RevokeKey),
];

/// The operations of [`ROUTES`], one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ingest,
    ListPlatforms,
    ReadPlatform,
    PutPlatform,
    ListKeys,
    CreateKey,
    RevokeKey,
}

/// Answers every route of the `ingest` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let (route, p) = match routes::find(ROUTES, &req) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    respond(match route.id {
        Op::Ingest => crate::app::ingest::receive(env, &req, &p["platform"]).await,
        Op::ListPlatforms => list_platforms(env, &req).await,
        Op::ReadPlatform => read_platform(env, &req, &p["code"]).await,
        Op::PutPlatform => put_platform(env, &req, &p["code"]).await,
        Op::ListKeys => list_keys(env, &req).await,
        Op::CreateKey => create_key(env, &req).await,
        Op::RevokeKey => revoke_key(env, &req, &p["id"]).await,
    })
}

async fn list_platforms<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    ready(env).await?;
    Ok(ApiResponse::json(
        200,
        &super::Items {
            items: platforms::list(env).await?,
        },
    ))
}

async fn read_platform<E: Env>(
    env: &E,
    req: &ApiRequest,
    code: &str,
) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    ready(env).await?;
    let platform = platforms::config(env, code)
        .await?
        .ok_or_else(|| Problem::not_found("platform", code))?;
    Ok(ApiResponse::json(200, &platform))
}

async fn put_platform<E: Env>(
    env: &E,
    req: &ApiRequest,
    code: &str,
) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let input: PlatformInput = req.json()?;
    ready(env).await?;
    platforms::upsert(env, code, &input, env.now_ms()).await?;
    let saved = platforms::config(env, code)
        .await?
        .ok_or_else(Problem::internal)?;
    Ok(ApiResponse::json(200, &saved))
}

async fn list_keys<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    ready(env).await?;
    Ok(ApiResponse::json(
        200,
        &super::Items {
            items: keys::list(env).await?,
        },
    ))
}

/// Makes a key and shows it, this once.
async fn create_key<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let input: NewKey = req.json()?;
    ready(env).await?;
    let (stored, key) = keys::create(env, &input, env.now_ms()).await?;
    let id = stored.id.clone();
    let body = CreatedKey { stored, key };
    Ok(ApiResponse::json(201, &body)
        .with_header("location", format!("/api/admin/keys/{id}"))
        .with_header("cache-control", "no-store"))
}

async fn revoke_key<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    ready(env).await?;
    if !keys::revoke(env, id, env.now_ms()).await? {
        return Err(Problem::not_found("live API key", id));
    }
    let key = keys::by_id(env, id).await?.ok_or_else(Problem::internal)?;
    Ok(ApiResponse::json(200, &key))
}

/// A new API key: shown whole this once, then only by its id and prefix.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub stored: keys::ApiKey,
    pub key: String,
}
