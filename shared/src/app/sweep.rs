//! The sweep: scheduled work behind `POST /api/sweep` (the native host calls it every minute; on
//! Spin a scheduler does). It escalates overdue cases, retries the webhooks that are due, removes
//! personal data past its retention, and forgets expired sign-outs and past rate-limit windows. Idempotent and safe to run
//! twice at once: every case change goes through the case store's writer, which lands only on
//! the version it read, and every message is claimed by one conditional UPDATE.

use serde::Serialize;
use serde_json::json;

use crate::access::{limits, sessions};
use crate::case::Role;
use crate::case::clock::level_above;
use crate::case::privacy::{self, RetentionReport};
use crate::case::report::Channel;
use crate::case::store::{self, Actor, Change, WriteError};
use crate::db::in_transaction;
use crate::exchange::{open311, outbox};
use crate::{Env, Problem};

/// How many due messages and overdue cases one sweep takes at most; the next sweep takes the rest.
pub const SWEEP_BATCH: i64 = 200;

/// What one escalation pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct EscalationReport {
    /// Cases found past their deadline and escalated (or kept at the city level).
    pub escalated: u32,
}

/// What one sweep did.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct SweepReport {
    pub webhooks: outbox::SweepReport,
    pub deadlines: EscalationReport,
    /// Personal data removed from cases that ended longer ago than `retention_days`.
    pub retention: RetentionReport,
    /// Revocation records of signed-out sessions deleted once the sessions expired anyway.
    pub expired_revocations: u32,
    /// Rate-limit counts of past windows deleted.
    pub expired_rate_limits: u32,
    /// Early-warning counters of days no detector reads any more, deleted.
    pub expired_warning_counts: u32,
}

/// Runs every part of the sweep once.
pub async fn sweep<E: Env>(env: &E) -> Result<SweepReport, Problem> {
    crate::app::schema::ensure(env).await?;
    let now = env.now_ms();
    let deadlines = escalate_overdue(env, now, SWEEP_BATCH).await?;
    let webhooks = outbox::sweep(env, SWEEP_BATCH).await?;
    let days = privacy::retention_days(env).await?;
    let retention = purge_ended(env, now, days, SWEEP_BATCH).await?;
    let expired_revocations = sessions::sweep_revocations(env, now, SWEEP_BATCH).await?;
    let expired_rate_limits = limits::sweep(env, now).await?;
    let expired_warning_counts =
        crate::warning::prune_counts(env, now, crate::warning::PRUNE_BATCH).await?;
    Ok(SweepReport {
        webhooks,
        deadlines,
        retention,
        expired_revocations,
        expired_rate_limits,
        expired_warning_counts,
    })
}

fn sweeper() -> Actor {
    Actor {
        role: Role::System,
        id: "sweep".into(),
        channel: Channel::System,
    }
}

const DUE: &str = "SELECT id FROM cases WHERE next_check_at <= ? ORDER BY next_check_at LIMIT ?";

/// Marks and escalates the overdue cases (at most `batch`): one level up, looked at again one
/// step period later, and never again once at the city level. A case another sweep (or a move)
/// changed meanwhile is left to the next sweep.
pub async fn escalate_overdue<E: Env>(
    env: &E,
    now: i64,
    batch: i64,
) -> Result<EscalationReport, Problem> {
    let due = env.execute(DUE, &[now.into(), batch.into()]).await?;
    let mut report = EscalationReport::default();
    for row in due.iter() {
        let Some(case) = store::by_id(env, &row.text("id")?).await? else {
            continue;
        };
        let above = level_above(&case.escalation_level);
        let level = above.unwrap_or("city");
        let period = case
            .step_deadline_ms
            .zip(case.step_started_ms)
            .map(|(d, s)| d - s);
        // From the street centre the district looks one period later; from there the city's is the last look.
        let next_check_at = match case.escalation_level.as_str() {
            "street" => period.map(|p| now + p),
            _ => None,
        };
        let change = Change::Escalate {
            level,
            next_check_at,
            moves_up: above.is_some(),
        };
        let written = in_transaction(env, async {
            Ok(store::write(env, &case, change, &sweeper(), json!({"level": level}), now).await)
        })
        .await?;
        match written {
            Ok(_) => report.escalated += 1,
            Err(WriteError::Changed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}

/// Removes the personal data of cases that ended more than `days` ago (at most `batch` of them;
/// the next sweep takes the rest): contact name and phone are emptied, numbers in the
/// description and the rating comment masked, and what an Open311 client sent about the
/// reporter goes too. The case, its trail and its statistics stay.
pub async fn purge_ended<E: Env>(
    env: &E,
    now: i64,
    days: i64,
    batch: i64,
) -> Result<RetentionReport, Problem> {
    let mut report = RetentionReport {
        purged: 0,
        retention_days: days,
    };
    for id in privacy::ended_before(env, now, days, batch).await? {
        let Some(case) = store::by_id(env, &id).await? else {
            continue;
        };
        let events = store::events(env, &case.id).await?;
        let change = privacy::purged(&case, &events);
        let masked = crate::mask::mask_free_text(&case.description);
        let written = in_transaction(env, async {
            match store::write(
                env,
                &case,
                change,
                &sweeper(),
                json!({"retention_days": days}),
                now,
            )
            .await
            {
                Ok(seq) => {
                    open311::purge_reporter(env, &case.id, &masked).await?;
                    Ok(Ok(seq))
                }
                Err(e) => Ok(Err(e)),
            }
        })
        .await?;
        match written {
            Ok(_) => report.purged += 1,
            Err(WriteError::Changed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}
