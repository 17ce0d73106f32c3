//! Personal data in cases: the reporter's name and phone, and the phone and ID-card numbers
//! people type into free text. They are masked in every answer (public and staff), in webhooks
//! and in exports; a staff member sees them whole only by asking (`?reveal=contact`), which is
//! an audit event on the case. The retention sweep removes them from cases that ended long ago,
//! keeping the case and its statistics. Nothing here may log a value it masks.

use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::case::store::{Actor, Case};
use crate::db::in_transaction;
use crate::mask::{mask_free_text, mask_name, mask_phone};
use crate::ports::Row;
use crate::time::DAY_MS;
use crate::{Database, Platform, Problem, StoreError};

/// Event types that are part of the staff audit trail only, never of the public timeline.
pub const PRIVATE_EVENTS: [&str; 2] = [REVEAL_EVENT, PURGE_EVENT];
pub const REVEAL_EVENT: &str = "reveal_contact";
pub const PURGE_EVENT: &str = "purge_personal_data";

/// How long contact data stays after a case ended, unless the Spin variable `retention_days`
/// says otherwise: a year, long enough for complaints about a closed case to come back.
pub const DEFAULT_RETENTION_DAYS: i64 = 365;

/// A case as a staff answer shows it unless its contact data was asked for.
pub fn masked(case: &Case) -> Case {
    let mut case = case.clone();
    case.contact_name = case.contact_name.as_deref().map(mask_name);
    case.contact_phone = case.contact_phone.as_deref().map(mask_phone);
    case.description = mask_free_text(&case.description);
    case.rating_comment = case.rating_comment.as_deref().map(mask_free_text);
    case
}

/// Whether a case holds anything that `masked` hides.
pub fn has_personal_data(case: &Case) -> bool {
    case.contact_name.is_some()
        || case.contact_phone.is_some()
        || mask_free_text(&case.description) != case.description
        || case
            .rating_comment
            .as_deref()
            .is_some_and(|c| mask_free_text(c) != c)
}

// A note on the trail that changes no status: the event count moves on (it is the case's
// version, so a move racing with this one gets a 409 and retries), the status stays.
const BUMP: &str =
    "UPDATE cases SET event_count = event_count + 1 WHERE id = ? RETURNING event_count, status";
const INSERT_NOTE: &str = "INSERT INTO case_events (case_id, seq, type, from_status, to_status, actor_role, actor, channel, details, at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// Appends a note event after [`BUMP`]; `bumped` is the row it returned (the event's number and
/// the status, which stays). Returns the event's sequence number.
async fn append_note<D: Database>(
    db: &D,
    case_id: &str,
    bumped: Row<'_>,
    kind: &str,
    actor: &Actor,
    details: &Json,
    now: i64,
) -> Result<i64, StoreError> {
    let (seq, status) = (bumped.i64("event_count")?, bumped.text("status")?);
    let status = status.as_str();
    db.execute(
        INSERT_NOTE,
        &[
            case_id.into(),
            seq.into(),
            kind.into(),
            status.into(),
            status.into(),
            actor.role.as_str().into(),
            actor.id.as_str().into(),
            actor.channel.as_str().into(),
            details.to_string().into(),
            now.into(),
        ],
    )
    .await?;
    Ok(seq)
}

/// Records that `actor` saw the case's personal data whole; returns the event's sequence number.
pub async fn record_reveal<D: Database>(
    db: &D,
    case_id: &str,
    actor: &Actor,
    now: i64,
) -> Result<i64, Problem> {
    in_transaction(db, async {
        let rows = db.execute(BUMP, &[case_id.into()]).await?;
        let row = rows
            .first()
            .ok_or_else(|| Problem::not_found("case", case_id))?;
        let details =
            json!({"fields": ["contact_name", "contact_phone", "description", "rating_comment"]});
        Ok(append_note(db, case_id, row, REVEAL_EVENT, actor, &details, now).await?)
    })
    .await
}

/// What one retention sweep did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RetentionReport {
    /// Cases whose personal data was removed.
    pub purged: u32,
    /// The retention period applied, in days.
    pub retention_days: i64,
}

/// The retention period: the Spin variable `retention_days` (a whole number of days, at least 1),
/// else [`DEFAULT_RETENTION_DAYS`].
pub async fn retention_days<P: Platform>(env: &P) -> Result<i64, StoreError> {
    Ok(match env.variable("retention_days").await? {
        None => DEFAULT_RETENTION_DAYS,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(days) if days >= 1 => days,
            _ => {
                tracing::warn!(
                    "retention_days must be a whole number of days, at least 1; using {DEFAULT_RETENTION_DAYS}"
                );
                DEFAULT_RETENTION_DAYS
            }
        },
    })
}

/// Cases not yet purged that ended (closed, or rejected or merged) before a time; the
/// expression is the one of the `cases_to_purge` index, so this is an index range.
const ENDED_BEFORE: &str = "SELECT id FROM cases WHERE purged_at IS NULL \
     AND COALESCE(closed_at, CASE WHEN status IN ('rejected', 'merged') THEN updated_at END) < ? LIMIT ?";
const PURGE: &str = "UPDATE cases SET contact_name = NULL, contact_phone = NULL, description = ?, rating_comment = ?, \
     purged_at = ?, event_count = event_count + 1 WHERE id = ? AND purged_at IS NULL RETURNING event_count, status";

/// What an Open311 client sent about the reporter beside the case.
const PURGE_OPEN311: &str = "UPDATE open311_requests SET description = ?, email = NULL, first_name = NULL, \
     last_name = NULL, phone = NULL, device_id = NULL, account_id = NULL WHERE case_id = ?";

/// Removes the personal data of cases that ended more than `days` ago (at most `batch` of
/// them; the next sweep takes the rest): contact name and phone are emptied, numbers in the
/// description and the rating comment masked. The case, its trail and its statistics stay.
/// Idempotent, and safe to run twice at once (the UPDATE only lands on an unpurged case).
pub async fn purge_ended<D: Database>(
    db: &D,
    now: i64,
    days: i64,
    batch: i64,
) -> Result<RetentionReport, Problem> {
    let cutoff = now - days * DAY_MS;
    let due = db
        .execute(ENDED_BEFORE, &[cutoff.into(), batch.into()])
        .await?;
    let mut report = RetentionReport {
        purged: 0,
        retention_days: days,
    };
    let sweep = Actor {
        role: crate::case::Role::System,
        id: "sweep".into(),
        channel: crate::case::report::Channel::System,
    };
    for row in due.iter() {
        let id = row.text("id")?;
        let Some(case) = crate::case::store::by_id(db, &id).await? else {
            continue;
        };
        let description = mask_free_text(&case.description);
        let comment = case.rating_comment.as_deref().map(mask_free_text);
        in_transaction(db, async {
            let params = [
                description.as_str().into(),
                comment.clone().into(),
                now.into(),
                id.as_str().into(),
            ];
            let rows = db.execute(PURGE, &params).await?;
            if let Some(r) = rows.first() {
                let details = json!({"retention_days": days});
                append_note(db, &id, r, PURGE_EVENT, &sweep, &details, now).await?;
                db.execute(
                    "UPDATE reviews SET comment = ? WHERE case_id = ?",
                    &[comment.clone().into(), id.as_str().into()],
                )
                .await?;
                db.execute(
                    PURGE_OPEN311,
                    &[description.as_str().into(), id.as_str().into()],
                )
                .await?;
                report.purged += 1;
            }
            Ok(())
        })
        .await?;
    }
    Ok(report)
}
