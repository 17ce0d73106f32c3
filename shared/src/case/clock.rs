//! Every step of a case runs against a clock: signing for, handling, verifying. A step's
//! deadline is computed when the step starts, from the category's hours; the case shows green,
//! yellow (in the last quarter of its time) or red (overdue). The sweep marks overdue cases
//! and escalates them one level up (street centre → district → city), once per step period.

use serde::Serialize;
use serde_json::json;

use crate::case::{Move, Status};
use crate::directory::Category;
use crate::{Database, Problem, StoreError};

const HOUR_MS: f64 = 3_600_000.0;

/// The clocked steps of the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    SignFor,
    Handle,
    Verify,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::SignFor => "sign_for",
            Step::Handle => "handle",
            Step::Verify => "verify",
        }
    }
}

/// What a move does to the clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockChange {
    /// A new step starts now.
    Start(Step),
    /// The running deadline moves later by this many hours (an approved extension).
    Extend(f64),
    /// No step runs any more (returned, verified, closed, …).
    Stop,
    Keep,
}

/// The one table of how moves drive the clock.
pub fn clock_change(mv: Move, to: Status) -> ClockChange {
    match mv {
        Move::Dispatch => ClockChange::Start(Step::SignFor),
        Move::SignFor => ClockChange::Start(Step::Handle),
        // Rework restarts handling with a fresh period.
        Move::VerifyFail => ClockChange::Start(Step::Handle),
        Move::Handle => ClockChange::Start(Step::Verify),
        Move::ApproveExtension => ClockChange::Extend(0.0),
        Move::Start | Move::RequestExtension | Move::RefuseExtension => ClockChange::Keep,
        _ if to.is_final() => ClockChange::Stop,
        _ => ClockChange::Stop,
    }
}

/// The hours a category gives a step.
pub fn hours_for(category: &Category, step: Step) -> f64 {
    match step {
        Step::SignFor => category.sign_for_hours,
        Step::Handle => category.handle_hours,
        Step::Verify => category.verify_hours,
    }
}

pub fn deadline(start_ms: i64, hours: f64) -> i64 {
    start_ms + (hours * HOUR_MS).round() as i64
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Light {
    Green,
    Yellow,
    Red,
}

impl Light {
    pub fn as_str(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }
    pub fn parse(s: &str) -> Option<Light> {
        [Light::Green, Light::Yellow, Light::Red]
            .into_iter()
            .find(|l| l.as_str() == s)
    }
}

/// The light of a running step: red once overdue, yellow in the last quarter of its time.
pub fn light(started_ms: i64, deadline_ms: i64, now_ms: i64) -> Light {
    if now_ms > deadline_ms {
        Light::Red
    } else if (deadline_ms - now_ms) * 4 <= deadline_ms - started_ms {
        Light::Yellow
    } else {
        Light::Green
    }
}

/// The SQL condition (on alias `c`) that selects cases of a light at `now`; one parameter list.
pub fn light_filter(light: Light, now: i64) -> (String, Vec<crate::Value>) {
    match light {
        Light::Red => ("c.step_deadline_at < ?".into(), vec![now.into()]),
        // In the last quarter: deadline - now <= (deadline - start) / 4.
        Light::Yellow => (
            "c.step_deadline_at >= ? AND 4 * (c.step_deadline_at - ?) <= c.step_deadline_at - c.step_started_at".into(),
            vec![now.into(), now.into()],
        ),
        Light::Green => (
            "c.step_deadline_at >= ? AND 4 * (c.step_deadline_at - ?) > c.step_deadline_at - c.step_started_at".into(),
            vec![now.into(), now.into()],
        ),
    }
}

/// The next level up from an escalation level.
pub fn level_above(level: &str) -> Option<&'static str> {
    match level {
        "street" => Some("district"),
        "district" => Some("city"),
        _ => None,
    }
}

/// What one escalation sweep did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EscalationReport {
    /// Cases found past their deadline and escalated (or kept at the city level).
    pub escalated: u32,
}

const DUE: &str = "SELECT id FROM cases WHERE next_check_at <= ? ORDER BY next_check_at LIMIT ?";
// One statement decides and records, so two sweeps at once cannot both escalate a case: the
// second finds `next_check_at` already moved on. The next look comes one step period later,
// and none once the case is at the city level.
const ESCALATE: &str = "UPDATE cases SET overdue = 1, \
     escalation_level = CASE escalation_level WHEN 'street' THEN 'district' ELSE 'city' END, \
     escalated_at = CASE WHEN escalation_level = 'city' THEN escalated_at ELSE ? END, \
     next_check_at = CASE WHEN escalation_level = 'street' THEN ? + (step_deadline_at - step_started_at) ELSE NULL END, \
     event_count = event_count + 1, updated_at = ? \
     WHERE id = ? AND next_check_at <= ? \
     RETURNING status, escalation_level, event_count";

/// Marks and escalates the overdue cases (at most `batch`). Idempotent; safe to run twice at once.
pub async fn sweep<D: Database>(db: &D, now: i64, batch: i64) -> Result<EscalationReport, Problem> {
    let due = db.execute(DUE, &[now.into(), batch.into()]).await?;
    let mut report = EscalationReport::default();
    for row in due.iter() {
        let id = row.text("id")?;
        let params = [
            now.into(),
            now.into(),
            now.into(),
            id.as_str().into(),
            now.into(),
        ];
        crate::db::in_transaction(db, async {
            let rows = db.execute(ESCALATE, &params).await?;
            if let Some(r) = rows.first() {
                let level = r.text("escalation_level")?;
                append_system_event(
                    db,
                    &id,
                    r.i64("event_count")?,
                    "escalate",
                    &r.text("status")?,
                    json!({"level": level}),
                    now,
                )
                .await?;
                report.escalated += 1;
            }
            Ok(())
        })
        .await?;
    }
    Ok(report)
}

/// An audit event that is not a status change (overdue, escalation): from and to are the same.
async fn append_system_event<D: Database>(
    db: &D,
    case_id: &str,
    seq: i64,
    kind: &str,
    status: &str,
    details: serde_json::Value,
    now: i64,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO case_events (case_id, seq, type, from_status, to_status, actor_role, actor, channel, details, at) \
         VALUES (?, ?, ?, ?, ?, 'system', 'sweep', 'system', ?, ?)",
        &[case_id.into(), seq.into(), kind.into(), status.into(), status.into(), details.to_string().into(), now.into()],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::rfc3339;

    const H: i64 = 3_600_000;

    #[test]
    fn lights_turn_yellow_in_the_last_quarter_and_red_after() {
        let (start, end) = (0, 8 * H);
        assert_eq!(light(start, end, 5 * H), Light::Green);
        assert_eq!(light(start, end, 6 * H), Light::Yellow);
        assert_eq!(light(start, end, 8 * H), Light::Yellow);
        assert_eq!(light(start, end, 8 * H + 1), Light::Red);
    }

    #[test]
    fn deadlines_cross_midnight_and_month_ends_on_the_clock() {
        // 2026-01-31 23:30 UTC + 2 h → 2026-02-01 01:30 UTC.
        let start = 1_769_902_200_000;
        assert_eq!(rfc3339(start), "2026-01-31T23:30:00.000Z");
        assert_eq!(rfc3339(deadline(start, 2.0)), "2026-02-01T01:30:00.000Z");
        // 2028-02-28 12:00 + 36 h crosses a leap day.
        let leap = 1_835_352_000_000;
        assert_eq!(rfc3339(leap), "2028-02-28T12:00:00.000Z");
        assert_eq!(rfc3339(deadline(leap, 36.0)), "2028-03-01T00:00:00.000Z");
    }

    #[test]
    fn moves_drive_the_clock() {
        assert_eq!(
            clock_change(Move::Dispatch, Status::Dispatched),
            ClockChange::Start(Step::SignFor)
        );
        assert_eq!(
            clock_change(Move::Start, Status::InProgress),
            ClockChange::Keep
        );
        assert_eq!(
            clock_change(Move::Return, Status::Returned),
            ClockChange::Stop
        );
        assert_eq!(
            clock_change(Move::VerifyFail, Status::Rework),
            ClockChange::Start(Step::Handle)
        );
        assert_eq!(level_above("street"), Some("district"));
        assert_eq!(level_above("city"), None);
    }
}
