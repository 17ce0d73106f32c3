//! Routes of the `accounts` component: staff sign in and out, and see who they are signed in
//! as; administrators create, list and change accounts.

use serde::Deserialize;

use super::routes::{Access::*, Route};
use super::{ready, respond};
use crate::access::accounts::{self, AccountPatch, NewAccount};
use crate::access::auth::{ADMINS, StaffRole};
use crate::http::problem::FieldError;
use crate::http::routes;
use crate::time::rfc3339;
use crate::{ApiRequest, ApiResponse, Env, Problem, access::limits, access::sessions};

/// The routes of the `accounts` component.
#[rustfmt::skip]
pub const ROUTES: &[Route<Op>] = &[
    Route::post("/api/session", PublicRateLimited, Op::SignIn),
    Route::get("/api/session", AnyStaff, Op::WhoAmI),
    Route::delete("/api/session", Session, Op::SignOut),
    Route::post("/api/admin/accounts", Staff(ADMINS), Op::Create),
    Route::get("/api/admin/accounts", Staff(ADMINS), Op::List),
    Route::get("/api/admin/accounts/{id}", Staff(ADMINS), Op::Read),
    Route::patch("/api/admin/accounts/{id}", Staff(ADMINS), Op::Update),
];

/// The operations of [`ROUTES`], one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    SignIn,
    WhoAmI,
    SignOut,
    Create,
    List,
    Read,
    Update,
}

/// Answers every route of the `accounts` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let (route, p) = match routes::find(ROUTES, &req) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    respond(match route.id {
        Op::SignIn => sign_in(env, &req).await,
        Op::WhoAmI => who_am_i(env, &req).await,
        Op::SignOut => sign_out(env, &req).await,
        Op::Create => create(env, &req).await,
        Op::List => list(env, &req).await,
        Op::Read => read(env, &req, &p["id"]).await,
        Op::Update => update(env, &req, &p["id"]).await,
    })
}

/// A staff member's username and password.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

/// Answers that carry a token or personal data stay out of every cache.
fn private(response: ApiResponse) -> ApiResponse {
    response.with_header("cache-control", "no-store")
}

async fn sign_in<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::limited(env, req, limits::SIGN_IN_PER_CLIENT).await?;
    let input: Credentials = req.json()?;
    if input.username.len() > 64 || input.password.len() > 1024 {
        return Err(Problem::unauthorized(
            "the username or the password is wrong",
        ));
    }
    ready(env).await?;
    // Sessions must be configured before a password is even looked at.
    if sessions::keys(env).await?.is_empty() {
        return Err(Problem::not_configured(
            "session_keys (at least one key of 32 or more characters)",
        ));
    }
    let now = env.now_ms();
    let client = limits::client_key(req);
    let account = accounts::sign_in(
        env,
        &input.username,
        &input.password,
        client.as_deref(),
        now,
    )
    .await?;
    let (token, claims) = sessions::issue(env, &account, now).await?;
    let principal = accounts::principal(env, &account).await?;
    Ok(private(ApiResponse::json(
        201,
        &SignedIn {
            token,
            token_type: "Bearer",
            expires_at: rfc3339(claims.exp),
            principal,
        },
    )))
}

async fn who_am_i<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let token = req.bearer().unwrap_or_default();
    let body = if sessions::is_session_token(token) {
        ready(env).await?;
        let (principal, claims) = sessions::session_of(env, token).await?;
        WhoAmI {
            principal,
            session: Some(SessionTerm {
                expires_at: rfc3339(claims.exp),
            }),
        }
    } else {
        // A service token, or no valid token at all (401).
        WhoAmI {
            principal: super::caller(env, req).await?,
            session: None,
        }
    };
    Ok(private(ApiResponse::json(200, &body)))
}

async fn sign_out<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let token = req.bearer().unwrap_or_default();
    if !sessions::is_session_token(token) {
        super::caller(env, req).await?;
        return Err(Problem::bad_request(
            "a service token is not a session: it cannot sign out",
        ));
    }
    ready(env).await?;
    let (_, claims) = sessions::session_of(env, token).await?;
    sessions::revoke(env, &claims).await?;
    Ok(ApiResponse {
        status: 204,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

async fn create<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let input: NewAccount = req.json()?;
    ready(env).await?;
    let account = accounts::create(env, input, env.now_ms()).await?;
    let location = format!("/api/admin/accounts/{}", account.id);
    Ok(private(ApiResponse::json(201, &account)).with_header("location", location))
}

async fn list<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let mut errors = Vec::new();
    let role = req.query_param("role").and_then(|r| {
        let parsed = StaffRole::parse(&r);
        if parsed.is_none() {
            errors.push(FieldError::new("role", "a staff role"));
        }
        parsed
    });
    let limit = match req.query_param("limit").map(|l| l.parse::<i64>()) {
        None => 50,
        Some(Ok(l)) if (1..=200).contains(&l) => l,
        Some(_) => {
            errors.push(FieldError::new("limit", "1 to 200"));
            50
        }
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    ready(env).await?;
    let after = req.query_param("after");
    let (items, next) = accounts::list(env, role, limit, after.as_deref()).await?;
    Ok(private(ApiResponse::json(
        200,
        &AccountList { items, next },
    )))
}

async fn read<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    ready(env).await?;
    let account = accounts::by_id(env, id)
        .await?
        .ok_or_else(|| Problem::not_found("account", id))?;
    Ok(private(ApiResponse::json(200, &account)))
}

async fn update<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let patch: AccountPatch = req.json()?;
    ready(env).await?;
    let account = accounts::update(env, id, patch, env.now_ms()).await?;
    Ok(private(ApiResponse::json(200, &account)))
}

// ---- the answers' types (their JSON Schemas are docs/openapi.json's, `api::openapi`)

/// A new session: its bearer token (shown this once) and who it is.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct SignedIn {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: String,
    pub principal: crate::access::principal::Principal,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct SessionTerm {
    pub expires_at: String,
}

/// The caller; `session` is null for a service token.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct WhoAmI {
    pub principal: crate::access::principal::Principal,
    pub session: Option<SessionTerm>,
}

/// A page of accounts; `next` is the cursor of the next page (`?after=`).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct AccountList {
    pub items: Vec<accounts::Account>,
    pub next: Option<String>,
}
