//! Every step of a case runs against a clock: signing for, handling, verifying. A step's
//! deadline is computed when the step starts, from the category's hours; the case shows green,
//! yellow (in the last quarter of its time) or red (overdue). The sweep (`app::sweep`) marks
//! overdue cases and escalates them one level up (street centre → district → city), once per
//! step period. Pure functions only: the case store writes the clock.

use serde::Serialize;

use crate::case::{Move, Status};
use crate::directory::Category;

const HOUR_MS: f64 = 3_600_000.0;

/// The clocked steps of the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
    pub fn parse(s: &str) -> Option<Step> {
        [Step::SignFor, Step::Handle, Step::Verify]
            .into_iter()
            .find(|step| step.as_str() == s)
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
    /// The running step's deadline is worked out again from its start, with the hours of the
    /// case's (new) category.
    Recompute,
}

/// The one table of how moves drive the clock: every move is named, so that a new move has to
/// say what it does to the running step.
pub fn clock_change(mv: Move, _to: Status) -> ClockChange {
    match mv {
        Move::Dispatch => ClockChange::Start(Step::SignFor),
        Move::SignFor => ClockChange::Start(Step::Handle),
        // Rework restarts handling with a fresh period.
        Move::VerifyFail => ClockChange::Start(Step::Handle),
        Move::Handle => ClockChange::Start(Step::Verify),
        Move::ApproveExtension => ClockChange::Extend(0.0),
        Move::Start | Move::RequestExtension | Move::RefuseExtension => ClockChange::Keep,
        // A new category brings its own hours: the running step keeps its start.
        Move::Correct => ClockChange::Recompute,
        Move::Accept
        | Move::Reject
        | Move::Merge
        | Move::Return
        | Move::VerifyPass
        | Move::SelfHandle
        | Move::Close
        | Move::Evaluate => ClockChange::Stop,
    }
}

/// The clock columns of a case: the running step, since when, until when, when the sweep looks
/// next, and whether the step is overdue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clock {
    pub step: Option<Step>,
    pub started: Option<i64>,
    pub deadline: Option<i64>,
    pub next_check: Option<i64>,
    pub overdue: bool,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
