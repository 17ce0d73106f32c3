//! The transactional outbox of department webhooks. A message is written in the same
//! transaction as the move that causes it, so it cannot be lost; it is delivered right after
//! the commit and, if that fails, by the sweep, with exponential backoff and jitter. A message
//! is claimed by one atomic UPDATE before sending, so two sweeps never send it at once, and it
//! is marked delivered as soon as the department answers 2xx, so it is not sent again.

use serde::Serialize;
use serde_json::Value as Json;

use crate::directory;
use crate::ports::OutboundRequest;
use crate::{Database, Env, Problem, StoreError};

/// After this many failed attempts a message is dead-lettered for operators.
pub const MAX_ATTEMPTS: i64 = 8;
/// First retry after 30 s, then doubling: 30 s, 1 min, 2 min … about 1 h by the last.
const BACKOFF_BASE_MS: i64 = 30_000;
/// How long a claim holds a message against other senders (longer than a send can take).
const CLAIM_MS: i64 = 60_000;
const EXCERPT_CHARS: usize = 500;

const INSERT: &str = "INSERT INTO outbox (id, case_id, department, event_type, body, status, next_attempt_at, created_at) \
     VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)";
const CLAIM: &str = "UPDATE outbox SET claimed_until = ? WHERE id = ? AND status = 'pending' AND claimed_until < ? \
     RETURNING id, department, body, attempts";
const DUE: &str = "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?";
const MARK_DELIVERED: &str = "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, last_status = ?, \
     last_error = NULL, delivered_at = ?, claimed_until = 0 WHERE id = ?";
const MARK_FAILED: &str = "UPDATE outbox SET status = ?, attempts = attempts + 1, last_status = ?, last_error = ?, \
     next_attempt_at = ?, claimed_until = 0 WHERE id = ?";
// Numbered by the log itself: a resent message keeps counting where its history left off.
const LOG_ATTEMPT: &str = "INSERT INTO delivery_attempts (outbox_id, attempt, at, status, latency_ms, excerpt) \
     VALUES (?1, (SELECT COALESCE(MAX(attempt), 0) + 1 FROM delivery_attempts WHERE outbox_id = ?1), ?2, ?3, ?4, ?5)";

/// A message goes to a department (its code) or to another platform (`platform:<code>`, in the
/// same `department` column): the target names where to look up the endpoint and secret.
pub const PLATFORM_TARGET_PREFIX: &str = "platform:";

/// The endpoint of a target and every secret that signs for it now: the current one, and the
/// previous one while a rotation's overlap lasts (Standard Webhooks allows several signatures).
async fn endpoint<E: Env>(
    env: &E,
    target: &str,
    now: i64,
) -> Result<Option<(String, Vec<String>)>, StoreError> {
    if let Some(code) = target.strip_prefix(PLATFORM_TARGET_PREFIX) {
        return crate::exchange::platforms::endpoint(env, code).await;
    }
    let Some(d) = directory::department(env, target).await? else {
        return Ok(None);
    };
    let (Some(url), Some(secret)) = (d.webhook_url, d.secret) else {
        return Ok(None);
    };
    let mut secrets = vec![secret];
    if let (Some(previous), Some(until)) = (d.previous_secret, d.previous_secret_until)
        && until > now
    {
        secrets.push(previous);
    }
    Ok(Some((url, secrets)))
}

/// Queues a message; call inside the transaction of the move that causes it. Returns its id,
/// which is also the `webhook-id` the department sees (and may deduplicate on).
pub async fn enqueue<D: Database>(
    env: &D,
    case_id: &str,
    department: &str,
    event_type: &str,
    data: Json,
    now: i64,
) -> Result<String, StoreError> {
    let id = format!("msg_{}", ulid::Ulid::from_parts(now as u64, rand::random()));
    let body = serde_json::json!({
        "type": event_type,
        "timestamp": crate::time::rfc3339(now),
        "data": data,
    });
    env.execute(
        INSERT,
        &[
            id.as_str().into(),
            case_id.into(),
            department.into(),
            event_type.into(),
            body.to_string().into(),
            now.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// How one delivery went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Delivered,
    /// Failed; will be retried.
    Pending,
    /// Failed for the last time, or the endpoint is gone (410) or missing.
    Dead,
    /// Another sender holds it, or it is no longer pending.
    Skipped,
}

fn backoff_ms(attempts: i64) -> i64 {
    let exp = BACKOFF_BASE_MS.saturating_mul(1_i64 << attempts.clamp(0, 20));
    // Full jitter on the upper half spreads retries of a failed department.
    exp / 2 + (rand::random::<u64>() % (exp as u64 / 2 + 1)) as i64
}

/// Sends one message now if nobody else is sending it.
pub async fn deliver<E: Env>(env: &E, id: &str) -> Result<Delivery, StoreError> {
    let now = env.now_ms();
    let claimed = env
        .execute(CLAIM, &[(now + CLAIM_MS).into(), id.into(), now.into()])
        .await?;
    let Some(row) = claimed.first() else {
        return Ok(Delivery::Skipped);
    };
    let department_code = row.text("department")?;
    let body = row.text("body")?;
    let attempt = row.i64("attempts")? + 1;

    let (url, secrets) = match endpoint(env, &department_code, now).await? {
        Some(endpoint) => endpoint,
        None => {
            let reason = "the target has no webhook endpoint or secret";
            env.execute(
                MARK_FAILED,
                &[
                    "dead".into(),
                    None::<i64>.into(),
                    reason.into(),
                    now.into(),
                    id.into(),
                ],
            )
            .await?;
            return Ok(Delivery::Dead);
        }
    };
    let timestamp = now / 1000;
    let signature = secrets
        .iter()
        .map(|secret| crate::http::webhook::sign(secret, id, timestamp, body.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError)?
        .join(" ");
    let request = OutboundRequest {
        method: "POST".into(),
        url,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("webhook-id".into(), id.into()),
            ("webhook-timestamp".into(), timestamp.to_string()),
            ("webhook-signature".into(), signature),
        ],
        body: body.into_bytes(),
    };
    let started = env.now_ms();
    let result = env.send(request).await;
    let done = env.now_ms();
    let (status, excerpt) = match &result {
        Ok(r) => (
            Some(r.status as i64),
            String::from_utf8_lossy(&r.body)
                .chars()
                .take(EXCERPT_CHARS)
                .collect(),
        ),
        Err(e) => (None, e.chars().take(EXCERPT_CHARS).collect::<String>()),
    };
    env.execute(
        LOG_ATTEMPT,
        &[
            id.into(),
            done.into(),
            status.into(),
            (done - started).into(),
            excerpt.clone().into(),
        ],
    )
    .await?;
    match status {
        Some(s) if (200..300).contains(&s) => {
            env.execute(MARK_DELIVERED, &[s.into(), done.into(), id.into()])
                .await?;
            Ok(Delivery::Delivered)
        }
        Some(410) => {
            // The department says the endpoint is gone for good: stop calling it.
            match department_code.strip_prefix(PLATFORM_TARGET_PREFIX) {
                Some(platform) => super::platforms::forget_webhook(env, platform, done).await?,
                None => directory::forget_webhook(env, &department_code, done).await?,
            };
            env.execute(
                MARK_FAILED,
                &[
                    "dead".into(),
                    410.into(),
                    "410 Gone: endpoint disabled".into(),
                    done.into(),
                    id.into(),
                ],
            )
            .await?;
            Ok(Delivery::Dead)
        }
        _ => {
            let dead = attempt >= MAX_ATTEMPTS;
            let next = done + backoff_ms(attempt - 1);
            let state = if dead { "dead" } else { "pending" };
            env.execute(
                MARK_FAILED,
                &[
                    state.into(),
                    status.into(),
                    excerpt.into(),
                    next.into(),
                    id.into(),
                ],
            )
            .await?;
            Ok(if dead {
                Delivery::Dead
            } else {
                Delivery::Pending
            })
        }
    }
}

/// Sends the messages a request queued for a case (those created since `since` and never
/// tried), such as a platform's status notice queued by a move. Failures stay queued for the
/// sweep; they are logged, never answered.
pub async fn deliver_new_for_case<E: Env>(env: &E, case_id: &str, since: i64) {
    let due = env
        .execute(
            "SELECT id FROM outbox WHERE case_id = ? AND created_at >= ? AND status = 'pending' AND attempts = 0",
            &[case_id.into(), since.into()],
        )
        .await;
    let ids: Vec<String> = match due {
        Ok(rows) => rows.iter().filter_map(|r| r.text("id").ok()).collect(),
        Err(e) => {
            tracing::error!(case_id, error = %e, "could not read the new messages of a case");
            return;
        }
    };
    for id in ids {
        if let Err(e) = deliver(env, &id).await {
            tracing::error!(message_id = %id, error = %e, "a delivery failed to run");
        }
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "OutboxSweep")]
pub struct SweepReport {
    pub attempted: u32,
    pub delivered: u32,
    pub failed: u32,
}

/// Retries the messages that are due (at most `batch` of them).
pub async fn sweep<E: Env>(env: &E, batch: i64) -> Result<SweepReport, Problem> {
    let now = env.now_ms();
    let due = env.execute(DUE, &[now.into(), batch.into()]).await?;
    let mut report = SweepReport::default();
    for row in due.iter() {
        match deliver(env, &row.text("id")?).await? {
            Delivery::Delivered => report.delivered += 1,
            Delivery::Pending | Delivery::Dead => report.failed += 1,
            Delivery::Skipped => continue,
        }
        report.attempted += 1;
    }
    Ok(report)
}

/// A message as operators see it (the dead-letter board).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Message {
    pub id: String,
    pub case_id: String,
    pub department: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
}

/// Messages of one status, newest first.
pub async fn list<E: Env>(env: &E, status: &str, limit: i64) -> Result<Vec<Message>, StoreError> {
    let rows = env
        .execute(
            "SELECT id, case_id, department, event_type, status, attempts, last_status, last_error, created_at \
             FROM outbox WHERE status = ? ORDER BY next_attempt_at DESC LIMIT ?",
            &[status.into(), limit.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Message {
                id: r.text("id")?,
                case_id: r.text("case_id")?,
                department: r.text("department")?,
                event_type: r.text("event_type")?,
                status: r.text("status")?,
                attempts: r.i64("attempts")?,
                last_status: r.opt_i64("last_status")?,
                last_error: r.opt_text("last_error")?,
                created_at: crate::time::rfc3339(r.i64("created_at")?),
            })
        })
        .collect()
}

/// Puts a dead-lettered message back in the queue with fresh attempts; false if it is not dead.
pub async fn requeue<E: Env>(env: &E, id: &str, now: i64) -> Result<bool, StoreError> {
    let rows = env
        .execute(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, claimed_until = 0 \
             WHERE id = ? AND status = 'dead' RETURNING id",
            &[now.into(), id.into()],
        )
        .await?;
    Ok(!rows.is_empty())
}
