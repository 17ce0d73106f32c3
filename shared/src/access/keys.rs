//! API keys of other platforms (12345, city management, public safety) and Open311 clients:
//! scoped to actions and, for platforms, to one platform; revocable; rate-limited per key.
//! A key is shown once, when it is made; only its SHA-256 is stored. The key is 256 random
//! bits, so a fast hash is enough: nobody can search that space, and a slow password hash would
//! only cost every request. Never log or answer a key after its creation.

use serde::{Deserialize, Serialize};

use crate::access::limits;
use crate::http::problem::FieldError;
use crate::time::rfc3339;
use crate::{ApiRequest, Database, Env, Problem, StoreError};

/// What a key may do.
pub const ACTION_INGEST: &str = "ingest";
pub const ACTION_OPEN311_SUBMIT: &str = "open311.submit";
pub const ACTIONS: [&str; 2] = [ACTION_INGEST, ACTION_OPEN311_SUBMIT];

/// Requests a minute by default: a platform pushes a hotline's bursts, an Open311 client
/// submits what people type.
pub const DEFAULT_PLATFORM_RATE: u32 = 600;
pub const DEFAULT_CLIENT_RATE: u32 = 60;
pub const MAX_RATE: u32 = 10_000;
/// `last_used_at` is written at most once a minute per key, so that a busy key does not
/// turn every request into a write.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;
const KEY_PREFIX: &str = "ogk_";

/// A key as the administrator sees it: never the key itself.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    pub platform: Option<String>,
    pub actions: Vec<String>,
    pub rate_per_minute: u32,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// The body of `POST /api/admin/keys`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    pub name: String,
    /// For `ingest`: the one platform the key may push for.
    pub platform: Option<String>,
    pub actions: Vec<String>,
    pub rate_per_minute: Option<u32>,
}

const COLUMNS: &str =
    "id, name, prefix, platform, actions, rate_per_minute, created_at, revoked_at, last_used_at";
const INSERT: &str = "INSERT INTO api_keys (id, name, key_hash, prefix, platform, actions, rate_per_minute, created_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
const REVOKE: &str =
    "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id";
const TOUCH: &str = "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)";

fn key_of(r: crate::ports::Row<'_>) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: r.text("id")?,
        name: r.text("name")?,
        prefix: r.text("prefix")?,
        platform: r.opt_text("platform")?,
        actions: r
            .text("actions")?
            .split(' ')
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect(),
        rate_per_minute: u32::try_from(r.i64("rate_per_minute")?).unwrap_or(0),
        created_at: rfc3339(r.i64("created_at")?),
        revoked_at: r.opt_i64("revoked_at")?.map(rfc3339),
        last_used_at: r.opt_i64("last_used_at")?.map(rfc3339),
    })
}

fn validate(input: &NewKey) -> Result<(), Problem> {
    let mut errors = Vec::new();
    if input.name.trim().is_empty() || input.name.chars().count() > 100 {
        errors.push(FieldError::new("name", "1 to 100 characters"));
    }
    if input.actions.is_empty() || input.actions.iter().any(|a| !ACTIONS.contains(&a.as_str())) {
        errors.push(FieldError::new(
            "actions",
            format!("one or more of {}", ACTIONS.join(", ")),
        ));
    }
    match &input.platform {
        Some(p) if !crate::directory::valid_code(p) => errors.push(FieldError::new(
            "platform",
            "1-64 characters of a-z, 0-9, . _ -",
        )),
        None if input.actions.iter().any(|a| a == ACTION_INGEST) => errors.push(FieldError::new(
            "platform",
            "an ingest key names its platform",
        )),
        _ => {}
    }
    if input
        .rate_per_minute
        .is_some_and(|r| r == 0 || r > MAX_RATE)
    {
        errors.push(FieldError::new(
            "rate_per_minute",
            format!("1 to {MAX_RATE}"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

/// Makes a key; returns it as stored and the key itself, which is never shown again.
pub async fn create<D: Database>(
    db: &D,
    input: &NewKey,
    now: i64,
) -> Result<(ApiKey, String), Problem> {
    validate(input)?;
    let id = format!("key_{}", ulid::Ulid::from_parts(now as u64, rand::random()));
    let secret: String = crate::crypto::random_hex(32);
    let key = format!("{KEY_PREFIX}{secret}");
    let prefix: String = key.chars().take(KEY_PREFIX.len() + 6).collect();
    let mut actions = input.actions.clone();
    actions.sort();
    actions.dedup();
    let rate = input
        .rate_per_minute
        .unwrap_or(if input.platform.is_some() {
            DEFAULT_PLATFORM_RATE
        } else {
            DEFAULT_CLIENT_RATE
        });
    db.execute(
        INSERT,
        &[
            id.as_str().into(),
            input.name.trim().into(),
            crate::crypto::secret_hash(&key).into(),
            prefix.into(),
            input.platform.clone().into(),
            actions.join(" ").into(),
            i64::from(rate).into(),
            now.into(),
        ],
    )
    .await?;
    let stored = by_id(db, &id).await?.ok_or_else(Problem::internal)?;
    Ok((stored, key))
}

pub async fn by_id<D: Database>(db: &D, id: &str) -> Result<Option<ApiKey>, StoreError> {
    let rows = db
        .execute(
            &format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?"),
            &[id.into()],
        )
        .await?;
    rows.first().map(key_of).transpose()
}

/// Every key, newest first (a city has tens of them, not thousands).
pub async fn list<D: Database>(db: &D) -> Result<Vec<ApiKey>, StoreError> {
    let rows = db
        .execute(
            &format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at DESC LIMIT 1000"),
            &[],
        )
        .await?;
    rows.iter().map(key_of).collect()
}

/// Revokes a key for good; false if there is no such live key.
pub async fn revoke<E: Env>(env: &E, id: &str, now: i64) -> Result<bool, StoreError> {
    Ok(!env
        .execute(REVOKE, &[now.into(), id.into()])
        .await?
        .is_empty())
}

/// The key a request presents: `Authorization: Bearer`, `X-Api-Key`, or (Open311) the
/// `api_key` parameter the caller passes in.
pub fn presented(req: &ApiRequest) -> Option<&str> {
    req.bearer()
        .or_else(|| req.header("x-api-key").map(str::trim))
        .filter(|k| !k.is_empty())
}

/// Why a key was refused; the caller words it for its protocol (problem details or Open311).
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// No key (401).
    Missing,
    /// Unknown or revoked (401).
    Invalid,
    /// A live key without this action or for another platform (403).
    OutOfScope(String),
    /// Over the key's rate (429), with the seconds to wait.
    RateLimited(u64),
}

impl From<Refusal> for Problem {
    fn from(r: Refusal) -> Problem {
        match r {
            Refusal::Missing => {
                Problem::unauthorized("send an API key: Authorization: Bearer <key> or X-Api-Key")
            }
            Refusal::Invalid => Problem::unauthorized("the API key is not valid or was revoked"),
            Refusal::OutOfScope(why) => Problem::forbidden(why),
            Refusal::RateLimited(s) => Problem::rate_limited(s),
        }
    }
}

/// Checks a presented key for `action` (and `platform`, for platform actions), takes a token
/// from its bucket, and records its use. Storage failures are `Err(Problem)`; refusals are
/// `Ok(Err(Refusal))`.
pub async fn authorize<E: Env>(
    env: &E,
    presented: Option<&str>,
    action: &str,
    platform: Option<&str>,
) -> Result<Result<ApiKey, Refusal>, Problem> {
    let Some(key) = presented else {
        return Ok(Err(Refusal::Missing));
    };
    if !key.starts_with(KEY_PREFIX) || key.len() > 200 {
        return Ok(Err(Refusal::Invalid));
    }
    let rows = env
        .execute(
            &format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?"),
            &[crate::crypto::secret_hash(key).into()],
        )
        .await?;
    let Some(found) = rows.first().map(key_of).transpose()? else {
        return Ok(Err(Refusal::Invalid));
    };
    if found.revoked_at.is_some() {
        return Ok(Err(Refusal::Invalid));
    }
    if !found.actions.iter().any(|a| a == action) {
        return Ok(Err(Refusal::OutOfScope(format!(
            "this key may not {action}"
        ))));
    }
    if let Some(p) = platform
        && found.platform.as_deref() != Some(p)
    {
        return Ok(Err(Refusal::OutOfScope(format!(
            "this key is not for platform {p}"
        ))));
    }
    let now = env.now_ms();
    // A token bucket per key in the key-value store: see `limits::take_token` for how far a
    // race can stretch it.
    if let Err(limited) = limits::take_token(env, "key", &found.id, found.rate_per_minute).await {
        return match limited.retry_after_seconds {
            Some(s) => Ok(Err(Refusal::RateLimited(s))),
            None => Err(limited),
        };
    }
    env.execute(
        TOUCH,
        &[
            now.into(),
            found.id.as_str().into(),
            (now - LAST_USED_GRANULARITY_MS).into(),
        ],
    )
    .await?;
    Ok(Ok(found))
}
