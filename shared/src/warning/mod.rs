//! Early warning (研判): detectors that read what the city reports for what is building up before
//! it shows, and the alerts they raise for the centre of the area, with a lifecycle of their own
//! (new → acknowledged → acting → closed, or dismissed with a reason from any open status) and a
//! trail like a case's.
//!
//! A detector runs with each report on counters of its own: one primary-key range of
//! `warning_counts` read before the report's write transaction, one upsert inside it, so an
//! alert stands the moment the report that triggers it is stored, and the cost does not grow
//! with the number of cases.
//!
//! Built so far: the cluster detector ([`CLUSTER`]), the repeat detector ([`REPEAT`]) and, of
//! the tension between parties, a department's returns ([`RETURNS`]). A dismissal tunes nothing by itself: it
//! counts against its rule version in the precision figures ([`figures`]).

use serde::Serialize;

use crate::directory::Category;
use crate::grid::CellMatch;
use crate::grid::code::Level;
use crate::time::{CITY_UTC_OFFSET_MS, DAY_MS, city_day};
use crate::{Database, StoreError, Value};

/// The early-warning migration (schema version 12), as `app::schema` applies it.
pub const MIGRATION_12: &str = include_str!("sql/012_warning.sql");

/// The most cases an alert lists as its evidence.
pub const EVIDENCE_MAX: usize = 100;

/// The cluster rule: several reports of one category in one cell within a few days, beyond what
/// that cell usually has. Its parameters are versioned: every alert records the version that
/// raised it, and the precision figures are kept per version.
///
/// The window spans several weekdays, so its baseline is the cell's mean over the eight weeks
/// before it (every weekday alike), not a per-weekday figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ClusterRule {
    pub version: i64,
    /// The window, in city days, today included.
    pub window_days: i64,
    /// The days before the window its baseline is taken from.
    pub baseline_days: i64,
    /// The fewest reports in the window that can raise an alert.
    pub min_reports: i64,
    /// The rate (reports a day) a cell is taken to have at the least: one never reported is not
    /// certain to stay quiet, so a few reports there are not yet a cluster.
    pub floor_per_day: f64,
    /// The false-alarm rate of one test: an alert is raised when as many reports or more would
    /// come by chance less often than this at the baseline rate (a Poisson tail).
    pub false_alarm: f64,
}

/// Chosen on the labelled synthetic city (`benches/warning.rs`, three seeds, eighteen rules): of
/// the rules with precision ≥ 0.8 it has the best recall (0.83 at precision 0.87). A quiet
/// cell's alert comes with its fourth report: at three, a year of the city's ~49,000 series
/// gives several thousand chance alerts for 300 real episodes.
pub const CLUSTER: ClusterRule = ClusterRule {
    version: 1,
    window_days: 3,
    baseline_days: 56,
    min_reports: 3,
    floor_per_day: 1.0 / 56.0,
    false_alarm: 1e-6,
};

/// The repeat rule: a problem reported again where a case of its kind was closed a short while
/// ago — the fix did not hold, or the cause is still there. Within the category's duplicate
/// radius, as a duplicate is found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RepeatRule {
    pub version: i64,
    /// A case closed this many days ago or less is brought back by a new report.
    pub closed_within_days: i64,
    /// The oldest receipt such a case may have (bounds the read of the place index).
    pub received_within_days: i64,
}

pub const REPEAT: RepeatRule = RepeatRule {
    version: 1,
    closed_within_days: 30,
    received_within_days: 180,
};

/// The returns rule: a department sending back (退单) more cases within a week than it usually
/// does — a dispute over who is responsible, building up. The cluster test on the department's
/// returns; departments are few, so a looser false-alarm rate than a cell's.
pub const RETURNS: ClusterRule = ClusterRule {
    version: 1,
    window_days: 7,
    baseline_days: 56,
    min_reports: 3,
    floor_per_day: 1.0 / 56.0,
    false_alarm: 1e-3,
};

/// What a detector saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Several reports of one kind in one cell within days, beyond its usual.
    Cluster,
    /// A problem reported again where a case of its kind was closed shortly before.
    Repeat,
    /// A department returning more cases than it usually does.
    Returns,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Cluster => "cluster",
            Signal::Repeat => "repeat",
            Signal::Returns => "returns",
        }
    }
    pub fn parse(s: &str) -> Option<Signal> {
        [Signal::Cluster, Signal::Repeat, Signal::Returns]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Where an alert is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    New,
    Acknowledged,
    /// Someone is acting on it (what they do is the move's note).
    Acting,
    Closed,
    Dismissed,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 5] = [
        AlertStatus::New,
        AlertStatus::Acknowledged,
        AlertStatus::Acting,
        AlertStatus::Closed,
        AlertStatus::Dismissed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::New => "new",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Acting => "acting",
            AlertStatus::Closed => "closed",
            AlertStatus::Dismissed => "dismissed",
        }
    }
    pub fn parse(s: &str) -> Option<AlertStatus> {
        AlertStatus::ALL.into_iter().find(|a| a.as_str() == s)
    }
    pub fn is_open(self) -> bool {
        matches!(
            self,
            AlertStatus::New | AlertStatus::Acknowledged | AlertStatus::Acting
        )
    }
}

/// A move of an alert's lifecycle.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// The centre has seen it.
    Acknowledge,
    /// Someone acts on it; the note says what.
    Act,
    /// Done: the action was taken (it counts as a true alert).
    Close,
    /// Not a real episode; the note says why (it counts as a false one).
    Dismiss,
}

impl AlertAction {
    pub const ALL: [AlertAction; 4] = [
        AlertAction::Acknowledge,
        AlertAction::Act,
        AlertAction::Close,
        AlertAction::Dismiss,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Acknowledge => "acknowledge",
            AlertAction::Act => "act",
            AlertAction::Close => "close",
            AlertAction::Dismiss => "dismiss",
        }
    }
    /// Whether the move needs a note: what is done, why it is dismissed.
    pub fn needs_note(self) -> bool {
        matches!(self, AlertAction::Act | AlertAction::Dismiss)
    }
}

/// The status a move leads to from `from`; none if the lifecycle does not allow it.
pub fn after(from: AlertStatus, action: AlertAction) -> Option<AlertStatus> {
    use AlertAction as A;
    use AlertStatus as S;
    match (from, action) {
        (S::New, A::Acknowledge) => Some(S::Acknowledged),
        (S::New | S::Acknowledged, A::Act) => Some(S::Acting),
        (S::Acknowledged | S::Acting, A::Close) => Some(S::Closed),
        (S::New | S::Acknowledged | S::Acting, A::Dismiss) => Some(S::Dismissed),
        _ => None,
    }
}

/// The moves open from a status.
pub fn allowed(from: AlertStatus) -> Vec<AlertAction> {
    AlertAction::ALL
        .into_iter()
        .filter(|a| after(from, *a).is_some())
        .collect()
}

/// An alert as the board shows it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Alert {
    pub id: String,
    pub signal: Signal,
    pub rule_version: i64,
    pub status: AlertStatus,
    /// The grid code the signal is about (a cell) and its name with its community's.
    pub area: String,
    pub area_name: String,
    /// The unit expected to act: the comprehensive centre of this street, with `department`.
    pub street: String,
    pub street_name: String,
    pub category: String,
    /// The department the category goes to.
    pub department: String,
    /// Reports in the window (a repeat: reports since the closure), and what the area usually
    /// has in as many days (a repeat: none).
    pub observed: i64,
    pub expected: f64,
    /// How often as many reports would come by chance at the usual rate (a cluster's test; none
    /// for a repeat).
    pub p_value: Option<f64>,
    pub window_days: i64,
    /// The first day (city time, YYYY-MM-DD) of the window it was raised on (a repeat: the day
    /// the earlier case was closed).
    pub window_from: String,
    /// The evidence in plain words (Chinese, the centre's language; the figures are above).
    pub explanation: String,
    pub opened_at: String,
    pub updated_at: String,
    pub ended_at: Option<String>,
    /// The moves open now.
    pub allowed_actions: Vec<AlertAction>,
    #[serde(skip)]
    pub opened_ms: i64,
    #[serde(skip)]
    pub last_seq: i64,
}

const ALERT_COLUMNS: &str = "a.id, a.signal, a.rule_version, a.status, a.area, a.area_name, a.street, \
     a.street_name, a.category, a.department, a.observed, a.expected, a.p_value, a.window_days, \
     a.window_first_day, a.explanation, a.opened_at, a.updated_at, a.ended_at, a.last_seq";

fn alert_of(r: crate::ports::Row<'_>) -> Result<Alert, StoreError> {
    let bad = |what: &str, v: String| StoreError(format!("alert {what} {v:?}"));
    let status = r.text("status")?;
    let status = AlertStatus::parse(&status).ok_or_else(|| bad("status", status))?;
    let signal = r.text("signal")?;
    Ok(Alert {
        id: r.text("id")?,
        signal: Signal::parse(&signal).ok_or_else(|| bad("signal", signal))?,
        rule_version: r.i64("rule_version")?,
        status,
        area: r.text("area")?,
        area_name: r.text("area_name")?,
        street: r.text("street")?,
        street_name: r.text("street_name")?,
        category: r.text("category")?,
        department: r.text("department")?,
        observed: r.i64("observed")?,
        expected: r.f64("expected")?,
        p_value: r.opt_f64("p_value")?,
        window_days: r.i64("window_days")?,
        window_from: crate::time::date_string(r.i64("window_first_day")?),
        explanation: r.text("explanation")?,
        opened_at: crate::time::rfc3339(r.i64("opened_at")?),
        updated_at: crate::time::rfc3339(r.i64("updated_at")?),
        ended_at: r.opt_i64("ended_at")?.map(crate::time::rfc3339),
        allowed_actions: allowed(status),
        opened_ms: r.i64("opened_at")?,
        last_seq: r.i64("last_seq")?,
    })
}

/// P(X ≥ k) for X Poisson with mean `mean`: how often `k` or more reports come by chance.
pub fn poisson_at_least(k: i64, mean: f64) -> f64 {
    if k <= 0 {
        return 1.0;
    }
    if mean <= 0.0 {
        return 0.0;
    }
    // 1 − P(X < k), the terms built one from the last; beyond the mean's tail a term underflows
    // to nothing, which is the answer's precision anyway.
    let mut term = (-mean).exp();
    let mut below = term;
    for i in 1..k {
        term *= mean / i as f64;
        below += term;
    }
    (1.0 - below).max(0.0)
}

/// The first millisecond of a city day.
pub fn day_start_ms(day: i64) -> i64 {
    day * DAY_MS - CITY_UTC_OFFSET_MS
}

/// What the detectors need of a report about to be stored, read before its write transaction
/// (the command opens it for writes only): the counts of every day of the window but today, and
/// of its baseline. Today's count comes from the upsert itself, so reports stored at once count
/// each other exactly.
#[derive(Debug, Clone)]
pub struct Watch<'a> {
    cell: &'a CellMatch,
    category: &'a Category,
    at: i64,
    day: i64,
    /// Reports in the window's earlier days, and in the baseline before it.
    window_before_today: i64,
    history: i64,
    /// Cases of the kind closed nearby within the repeat rule's days, with their closing times.
    closed_nearby: Vec<(String, i64)>,
}

/// Reads what [`Watch::observe`] will need for a report in `cell` of `category` at `at`.
pub async fn watch<'a, D: Database>(
    db: &D,
    cell: &'a CellMatch,
    category: &'a Category,
    point: crate::grid::code::Wgs84Point,
    at: i64,
) -> Result<Watch<'a>, StoreError> {
    let closed_nearby = crate::case::store::nearby_closed(
        db,
        category,
        point,
        at - REPEAT.received_within_days * DAY_MS,
        at - REPEAT.closed_within_days * DAY_MS,
    )
    .await?;
    let rule = CLUSTER;
    let day = city_day(at);
    let window_first = day - rule.window_days + 1;
    let rows = db
        .execute(
            "SELECT day, reports FROM warning_counts WHERE cell = ? AND category = ? AND day BETWEEN ? AND ?",
            &[
                cell.cell.code.as_str().into(),
                category.code.as_str().into(),
                (window_first - rule.baseline_days).into(),
                (day - 1).into(),
            ],
        )
        .await?;
    let days = rows
        .iter()
        .map(|r| Ok((r.i64("day")?, r.i64("reports")?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let (window_before_today, history) = window_and_baseline(&rule, day, days);
    Ok(Watch {
        cell,
        category,
        at,
        day,
        window_before_today,
        history,
        closed_nearby,
    })
}

/// A series' daily counts (day, reports) split into the window ending on `day` and the baseline
/// before it; days outside both count for neither.
pub fn window_and_baseline(
    rule: &ClusterRule,
    day: i64,
    days: impl IntoIterator<Item = (i64, i64)>,
) -> (i64, i64) {
    let window_first = day - rule.window_days + 1;
    let baseline_first = window_first - rule.baseline_days;
    let (mut window, mut baseline) = (0, 0);
    for (d, n) in days {
        if (window_first..=day).contains(&d) {
            window += n;
        } else if (baseline_first..window_first).contains(&d) {
            baseline += n;
        }
    }
    (window, baseline)
}

impl Watch<'_> {
    /// Counts the report just stored (call inside its write transaction, after the case row) and
    /// runs the detectors on it: one upsert, and on the rare report that fires, the alert's
    /// writes. Returns the alerts it raised or grew.
    pub async fn observe<D: Database>(
        &self,
        db: &D,
        case_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut alerts = Vec::new();
        if let Some(id) = self.cluster(db, case_id).await? {
            alerts.push(id);
        }
        if !self.closed_nearby.is_empty() {
            alerts.push(repeat_alert(db, case_id, self).await?);
        }
        Ok(alerts)
    }

    async fn cluster<D: Database>(
        &self,
        db: &D,
        case_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let rows = db
            .execute(
                "INSERT INTO warning_counts (cell, category, day, reports) VALUES (?, ?, ?, 1) \
                 ON CONFLICT (cell, category, day) DO UPDATE SET reports = reports + 1 RETURNING reports",
                &[
                    self.cell.cell.code.as_str().into(),
                    self.category.code.as_str().into(),
                    self.day.into(),
                ],
            )
            .await?;
        let today = match rows.first() {
            Some(r) => r.i64("reports")?,
            None => 1,
        };
        let rule = CLUSTER;
        let test = ClusterTest::of(&rule, self.window_before_today + today, self.history);
        if !test.fires(&rule) {
            return Ok(None);
        }
        cluster_alert(db, case_id, self, &rule, &test).await
    }
}

/// What the cluster test found on a cell and category up to `day`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterTest {
    pub observed: i64,
    pub expected: f64,
    pub p_value: f64,
}

impl ClusterTest {
    /// Counts in the window and in the baseline before it → the test.
    pub fn of(rule: &ClusterRule, observed: i64, history: i64) -> ClusterTest {
        let per_day = (history as f64 / rule.baseline_days as f64).max(rule.floor_per_day);
        let expected = per_day * rule.window_days as f64;
        ClusterTest {
            observed,
            expected,
            p_value: poisson_at_least(observed, expected),
        }
    }
    pub fn fires(&self, rule: &ClusterRule) -> bool {
        self.observed >= rule.min_reports && self.p_value < rule.false_alarm
    }
}

/// The latest alert of a detector on one subject (an area and a category), as [`outcome`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latest {
    pub open: bool,
    pub ended_at: Option<i64>,
}

/// What a test that fired on `day` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The subject's open alert takes the report as more evidence.
    Grow,
    /// A new alert.
    Raise,
    /// The latest alert was closed or dismissed on these very days: the same reports do not
    /// raise it again; a window that starts after its end may.
    Suppressed,
}

/// The one rule of what a firing test does, for the write path and the benchmark alike.
pub fn outcome(latest: Option<&Latest>, rule: &ClusterRule, day: i64) -> Outcome {
    match latest {
        Some(l) if l.open => Outcome::Grow,
        Some(l) if l.ended_at.unwrap_or(0) >= day_start_ms(day - rule.window_days + 1) => {
            Outcome::Suppressed
        }
        _ => Outcome::Raise,
    }
}

/// A report where a case of its kind was closed shortly before: the subject's open repeat alert
/// takes it (and the closed cases) as evidence, or a new one is raised.
async fn repeat_alert<D: Database>(
    db: &D,
    case_id: &str,
    w: &Watch<'_>,
) -> Result<String, StoreError> {
    let (cell, category, at) = (w.cell, w.category, w.at);
    let closed_at = w.closed_nearby.iter().map(|(_, t)| *t).max().unwrap_or(at);
    let mut evidence: Vec<String> = w.closed_nearby.iter().map(|(id, _)| id.clone()).collect();
    evidence.push(case_id.to_string());
    let latest = latest_alert(db, Signal::Repeat, &cell.cell.code, &category.code, None).await?;
    if let Some((id, l)) = &latest
        && l.open
    {
        add_evidence(db, id, &evidence, at).await?;
        let rows = db
            .execute(
                "UPDATE alerts SET observed = observed + 1, updated_at = ? WHERE id = ? RETURNING observed",
                &[at.into(), id.as_str().into()],
            )
            .await?;
        let observed = rows
            .first()
            .map(|r| r.i64("observed"))
            .transpose()?
            .unwrap_or(1);
        let explanation =
            explain_repeat(&area_name(cell), &category.name_zh, closed_at, at, observed);
        db.execute(
            "UPDATE alerts SET explanation = ? WHERE id = ?",
            &[explanation.into(), id.as_str().into()],
        )
        .await?;
        return Ok(id.clone());
    }
    let explanation = explain_repeat(&area_name(cell), &category.name_zh, closed_at, at, 1);
    let id = insert_alert(
        db,
        NewAlert {
            signal: Signal::Repeat,
            rule_version: REPEAT.version,
            place: Some(cell),
            category: &category.code,
            department: &category.department,
            observed: 1,
            expected: 0.0,
            p_value: None,
            window_days: REPEAT.closed_within_days,
            window_first_day: city_day(closed_at),
            explanation,
            at,
            case_id,
        },
    )
    .await?;
    add_evidence(db, &id, &evidence, at).await?;
    Ok(id)
}

/// "第6社区 第5网格 的「绿道标识损坏」12 天前办结后，在原处又被反映 1 次".
fn explain_repeat(area: &str, category: &str, closed_at: i64, at: i64, times: i64) -> String {
    let days = (at - closed_at).max(0) / DAY_MS;
    let when = if days == 0 {
        "今天".to_string()
    } else {
        format!("{days} 天前")
    };
    format!("{area} 的「{category}」{when}办结后，在原处又被反映 {times} 次")
}

/// A detector's latest alert on an area and category (and, for a department's alert, that
/// department), by the subject index.
async fn latest_alert<D: Database>(
    db: &D,
    signal: Signal,
    area: &str,
    category: &str,
    department: Option<&str>,
) -> Result<Option<(String, Latest)>, StoreError> {
    let rows = db
        .execute(
            "SELECT id, status, ended_at FROM alerts INDEXED BY alerts_by_subject \
             WHERE signal = ? AND area = ? AND category = ? AND (? IS NULL OR department = ?) \
             ORDER BY opened_at DESC LIMIT 1",
            &[
                signal.as_str().into(),
                area.into(),
                category.into(),
                department.into(),
                department.into(),
            ],
        )
        .await?;
    match rows.first() {
        Some(r) => Ok(Some((
            r.text("id")?,
            Latest {
                open: AlertStatus::parse(&r.text("status")?).is_some_and(AlertStatus::is_open),
                ended_at: r.opt_i64("ended_at")?,
            },
        ))),
        None => Ok(None),
    }
}

/// Counts a department's return of a case (call inside the move's transaction) and runs the
/// returns detector on it: the department's returns of the window and its baseline are one
/// primary-key range. Returns the alert it raised or grew.
pub async fn observe_return<D: Database>(
    db: &D,
    case_id: &str,
    department: &str,
    at: i64,
) -> Result<Option<String>, StoreError> {
    let rule = RETURNS;
    db.execute(
        "INSERT OR IGNORE INTO warning_returns (department, at, case_id) VALUES (?, ?, ?)",
        &[department.into(), at.into(), case_id.into()],
    )
    .await?;
    let day = city_day(at);
    let window_first = day - rule.window_days + 1;
    let rows = db
        .execute(
            "SELECT at, case_id FROM warning_returns WHERE department = ? AND at >= ? AND at <= ? ORDER BY at",
            &[
                department.into(),
                day_start_ms(window_first - rule.baseline_days).into(),
                at.into(),
            ],
        )
        .await?;
    let mut window_cases = Vec::new();
    let mut days = Vec::new();
    for r in rows.iter() {
        let d = city_day(r.i64("at")?);
        days.push((d, 1));
        if d >= window_first {
            window_cases.push(r.text("case_id")?);
        }
    }
    let (observed, history) = window_and_baseline(&rule, day, days);
    let test = ClusterTest::of(&rule, observed, history);
    if !test.fires(&rule) {
        return Ok(None);
    }
    let name = crate::directory::department(db, department)
        .await?
        .map_or_else(|| department.to_string(), |d| d.name);
    let explanation = format!(
        "{name} {} 天内退回 {} 件案件，通常 {:.1} 件（偶然如此的概率约 {}）",
        rule.window_days,
        test.observed,
        test.expected,
        chance_words(test.p_value)
    );
    let latest = latest_alert(db, Signal::Returns, "", "", Some(department)).await?;
    match outcome(latest.as_ref().map(|(_, l)| l), &rule, day) {
        Outcome::Suppressed => Ok(None),
        Outcome::Grow => {
            let id = latest.expect("grows an alert there is").0;
            add_evidence(db, &id, &[case_id.to_string()], at).await?;
            db.execute(
                "UPDATE alerts SET observed = ?, expected = ?, p_value = ?, explanation = ?, updated_at = ? WHERE id = ?",
                &[
                    test.observed.into(),
                    test.expected.into(),
                    test.p_value.into(),
                    explanation.into(),
                    at.into(),
                    id.as_str().into(),
                ],
            )
            .await?;
            Ok(Some(id))
        }
        Outcome::Raise => {
            let id = insert_alert(
                db,
                NewAlert {
                    signal: Signal::Returns,
                    rule_version: rule.version,
                    place: None,
                    category: "",
                    department,
                    observed: test.observed,
                    expected: test.expected,
                    p_value: Some(test.p_value),
                    window_days: rule.window_days,
                    window_first_day: window_first,
                    explanation,
                    at,
                    case_id,
                },
            )
            .await?;
            window_cases.truncate(EVIDENCE_MAX);
            add_evidence(db, &id, &window_cases, at).await?;
            Ok(Some(id))
        }
    }
}

/// An alert about to be raised. A department's has no place: its area is '' (the city's).
struct NewAlert<'a> {
    signal: Signal,
    rule_version: i64,
    place: Option<&'a CellMatch>,
    /// The category's code ('' for a department's alert) and the department to act.
    category: &'a str,
    department: &'a str,
    observed: i64,
    expected: f64,
    p_value: Option<f64>,
    window_days: i64,
    window_first_day: i64,
    explanation: String,
    at: i64,
    /// The case whose report or move raised it.
    case_id: &'a str,
}

/// The webhook event a department with an endpoint receives when an alert names it.
pub const ALERT_RAISED_EVENT: &str = "alert.raised";

/// Stores a new alert and the detector's first entry on its trail, and tells the department it
/// names, if that department has a webhook (through the outbox, in the same transaction: the
/// sweep delivers it); its id.
async fn insert_alert<D: Database>(db: &D, a: NewAlert<'_>) -> Result<String, StoreError> {
    let id = ulid::Ulid::from_parts(a.at as u64, rand::random()).to_string();
    let street = a
        .place
        .and_then(|c| c.chain.iter().find(|g| g.level == Level::Street));
    let params: Vec<Value> = vec![
        id.as_str().into(),
        a.signal.as_str().into(),
        a.rule_version.into(),
        a.place.map_or("", |c| c.cell.code.as_str()).into(),
        a.place.map(area_name).unwrap_or_default().into(),
        street.map_or("", |s| s.code.as_str()).into(),
        street.map_or("", |s| s.name.as_str()).into(),
        a.category.into(),
        a.department.into(),
        AlertStatus::New.as_str().into(),
        a.observed.into(),
        a.expected.into(),
        a.p_value.into(),
        a.window_days.into(),
        a.window_first_day.into(),
        a.explanation.as_str().into(),
        a.at.into(),
        a.at.into(),
    ];
    db.execute(
        "INSERT INTO alerts (id, signal, rule_version, area, area_name, street, street_name, category, \
         department, status, observed, expected, p_value, window_days, window_first_day, explanation, \
         opened_at, updated_at, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        &params,
    )
    .await?;
    let detector = Mover {
        id: "detector",
        role: "system",
        name: "预警模型",
    };
    record(db, &id, 1, a.at, "raise", &detector, None).await?;
    let listens = crate::directory::department(db, a.department)
        .await?
        .is_some_and(|d| d.webhook_url.is_some() && d.secret.is_some());
    if listens {
        // Nothing personal: the figures, the words, and the case by its id (the department
        // holds it once dispatched).
        let data = serde_json::json!({
            "alert_id": id,
            "signal": a.signal.as_str(),
            "rule_version": a.rule_version,
            "area": a.place.map_or("", |c| c.cell.code.as_str()),
            "category": a.category,
            "observed": a.observed,
            "expected": a.expected,
            "explanation": a.explanation,
            "case_id": a.case_id,
        });
        crate::exchange::outbox::enqueue(
            db,
            a.case_id,
            a.department,
            ALERT_RAISED_EVENT,
            data,
            a.at,
        )
        .await?;
    }
    Ok(id)
}

/// A cluster that fired: the open alert on the cell and category grows, or a new one is raised
/// with the window's cases as its evidence.
async fn cluster_alert<D: Database>(
    db: &D,
    case_id: &str,
    w: &Watch<'_>,
    rule: &ClusterRule,
    test: &ClusterTest,
) -> Result<Option<String>, StoreError> {
    let (cell, category, at) = (w.cell, w.category, w.at);
    let window_first = w.day - rule.window_days + 1;
    let area_name = area_name(cell);
    let explanation = explain(&area_name, &category.name_zh, rule, test);
    let latest = latest_alert(db, Signal::Cluster, &cell.cell.code, &category.code, None).await?;
    match outcome(latest.as_ref().map(|(_, l)| l), rule, w.day) {
        Outcome::Suppressed => return Ok(None),
        Outcome::Raise => {}
        Outcome::Grow => {
            let id = latest.expect("grows an alert there is").0;
            // The episode goes on: the report joins its evidence and the figures are today's.
            add_evidence(db, &id, &[case_id.to_string()], at).await?;
            db.execute(
                "UPDATE alerts SET observed = ?, expected = ?, p_value = ?, explanation = ?, updated_at = ? WHERE id = ?",
                &[
                    test.observed.into(),
                    test.expected.into(),
                    test.p_value.into(),
                    explanation.into(),
                    at.into(),
                    id.as_str().into(),
                ],
            )
            .await?;
            return Ok(Some(id));
        }
    }
    let id = insert_alert(
        db,
        NewAlert {
            signal: Signal::Cluster,
            rule_version: rule.version,
            place: Some(cell),
            category: &category.code,
            department: &category.department,
            observed: test.observed,
            expected: test.expected,
            p_value: Some(test.p_value),
            window_days: rule.window_days,
            window_first_day: window_first,
            explanation,
            at,
            case_id,
        },
    )
    .await?;
    let mut evidence = crate::case::store::in_cell_since(
        db,
        &cell.cell.code,
        &category.code,
        day_start_ms(window_first),
        EVIDENCE_MAX,
    )
    .await?;
    if !evidence.iter().any(|c| c == case_id) {
        evidence.push(case_id.to_string());
    }
    add_evidence(db, &id, &evidence, at).await?;
    Ok(Some(id))
}

/// The area as people say it: the community, then the cell.
fn area_name(cell: &CellMatch) -> String {
    match cell.chain.iter().find(|g| g.level == Level::Community) {
        Some(community) => format!("{} {}", community.name, cell.cell.name),
        None => cell.cell.name.clone(),
    }
}

/// "深田社区 第3网格 3 天内 5 件「供水管道漏水」，通常 0.4 件".
fn explain(area: &str, category: &str, rule: &ClusterRule, test: &ClusterTest) -> String {
    format!(
        "{area} {} 天内 {} 件「{category}」，通常 {:.1} 件（偶然如此的概率约 {}）",
        rule.window_days,
        test.observed,
        test.expected,
        chance_words(test.p_value)
    )
}

/// A small probability as one in so many.
fn chance_words(p: f64) -> String {
    if p <= 0.0 {
        return "为零".into();
    }
    let n = (1.0 / p).round();
    if n >= 1e6 {
        "不到百万分之一".into()
    } else {
        format!("{n:.0} 分之一")
    }
}

async fn add_evidence<D: Database>(
    db: &D,
    alert_id: &str,
    case_ids: &[String],
    at: i64,
) -> Result<(), StoreError> {
    for case_id in case_ids {
        db.execute(
            "INSERT OR IGNORE INTO alert_cases (alert_id, case_id, added_at) VALUES (?, ?, ?)",
            &[alert_id.into(), case_id.as_str().into(), at.into()],
        )
        .await?;
    }
    Ok(())
}

async fn record<D: Database>(
    db: &D,
    alert_id: &str,
    seq: i64,
    at: i64,
    action: &str,
    by: &Mover<'_>,
    note: Option<&str>,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO alert_events (alert_id, seq, at, action, actor_id, actor_role, actor_name, note) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            alert_id.into(),
            seq.into(),
            at.into(),
            action.into(),
            by.id.into(),
            by.role.into(),
            by.name.into(),
            note.map(str::to_string).into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn by_id<D: Database>(db: &D, id: &str) -> Result<Option<Alert>, StoreError> {
    let rows = db
        .execute(
            &format!("SELECT {ALERT_COLUMNS} FROM alerts a WHERE a.id = ?"),
            &[id.into()],
        )
        .await?;
    rows.first().map(alert_of).transpose()
}

/// Who moves an alert: their account id, role and name (the trail shows the name).
pub struct Mover<'a> {
    pub id: &'a str,
    pub role: &'a str,
    pub name: &'a str,
}

/// Moves an alert one step of its lifecycle (call inside a transaction, the move checked with
/// [`after`]): its status, its end when it ends, and an entry of its trail.
pub async fn apply<D: Database>(
    db: &D,
    alert: &Alert,
    action: AlertAction,
    to: AlertStatus,
    by: &Mover<'_>,
    note: Option<&str>,
    now: i64,
) -> Result<Alert, StoreError> {
    let seq = alert.last_seq + 1;
    let ended: Value = if to.is_open() {
        Value::Null
    } else {
        now.into()
    };
    let changed = db
        .execute(
            "UPDATE alerts SET status = ?, updated_at = ?, ended_at = ?, last_seq = ? \
             WHERE id = ? AND last_seq = ? RETURNING id",
            &[
                to.as_str().into(),
                now.into(),
                ended,
                seq.into(),
                alert.id.as_str().into(),
                alert.last_seq.into(),
            ],
        )
        .await?;
    if changed.is_empty() {
        return Err(StoreError(format!("alert {} moved meanwhile", alert.id)));
    }
    record(db, &alert.id, seq, now, action.as_str(), by, note).await?;
    by_id(db, &alert.id)
        .await?
        .ok_or_else(|| StoreError(format!("alert {} is gone", alert.id)))
}

/// One entry of an alert's trail.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AlertEvent {
    pub seq: i64,
    pub at: String,
    /// `raise`, or a move: `acknowledge`, `act`, `close`, `dismiss`.
    pub action: String,
    pub actor_id: String,
    pub actor_role: String,
    pub actor_name: String,
    pub note: Option<String>,
}

pub async fn events<D: Database>(db: &D, alert_id: &str) -> Result<Vec<AlertEvent>, StoreError> {
    let rows = db
        .execute(
            "SELECT seq, at, action, actor_id, actor_role, actor_name, note FROM alert_events WHERE alert_id = ? ORDER BY seq",
            &[alert_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(AlertEvent {
                seq: r.i64("seq")?,
                at: crate::time::rfc3339(r.i64("at")?),
                action: r.text("action")?,
                actor_id: r.text("actor_id")?,
                actor_role: r.text("actor_role")?,
                actor_name: r.text("actor_name")?,
                note: r.opt_text("note")?,
            })
        })
        .collect()
}

/// The ids of an alert's evidence, in the order they joined.
pub async fn evidence<D: Database>(db: &D, alert_id: &str) -> Result<Vec<String>, StoreError> {
    let rows = db
        .execute(
            "SELECT case_id FROM alert_cases WHERE alert_id = ? ORDER BY added_at, case_id LIMIT ?",
            &[alert_id.into(), (EVIDENCE_MAX as i64).into()],
        )
        .await?;
    rows.iter().map(|r| r.text("case_id")).collect()
}

/// Counter rows one statement of the sweep deletes (ten statements a sweep, about 18 µs a row on
/// the benchmark's file): 20,000 a minute is 400 times what a city 100 times Xiamen's size adds
/// (about 50,000 a day), in a third of a second a sweep.
pub const PRUNE_BATCH: i64 = 2_000;

/// Deletes the counters and returns no window or baseline reads any more (older than both, by
/// the city's calendar), `batch` rows a statement and ten statements at most each; returns how
/// many.
pub async fn prune_counts<D: Database>(db: &D, now: i64, batch: i64) -> Result<u32, StoreError> {
    let oldest_read = city_day(now) - CLUSTER.window_days + 1 - CLUSTER.baseline_days;
    let mut removed = 0;
    for _ in 0..10 {
        let rows = db
            .execute(
                "DELETE FROM warning_counts WHERE (cell, category, day) IN \
                 (SELECT cell, category, day FROM warning_counts INDEXED BY warning_counts_by_day \
                 WHERE day < ? LIMIT ?) RETURNING day",
                &[oldest_read.into(), batch.into()],
            )
            .await?;
        let n = rows.iter().count();
        removed += n as u32;
        if (n as i64) < batch {
            break;
        }
    }
    let oldest_return =
        day_start_ms(city_day(now) - RETURNS.window_days + 1 - RETURNS.baseline_days);
    for _ in 0..10 {
        let rows = db
            .execute(
                "DELETE FROM warning_returns WHERE (department, at, case_id) IN \
                 (SELECT department, at, case_id FROM warning_returns INDEXED BY warning_returns_by_time \
                 WHERE at < ? LIMIT ?) RETURNING at",
                &[oldest_return.into(), batch.into()],
            )
            .await?;
        let n = rows.iter().count();
        removed += n as u32;
        if (n as i64) < batch {
            break;
        }
    }
    Ok(removed)
}

/// Which alerts a board lists.
pub struct AlertFilter {
    /// A place condition on `a.area` and its parameters (`Principal::place_filter`).
    pub scope: (String, Vec<Value>),
    /// Open ones only, or these statuses.
    pub statuses: Vec<AlertStatus>,
    pub limit: usize,
    /// The keyset cursor: older than this (opened_at, id).
    pub before: Option<(i64, String)>,
}

/// The alerts of a board, newest first, through the area or the status index.
pub async fn list<D: Database>(db: &D, f: &AlertFilter) -> Result<Vec<Alert>, StoreError> {
    let (scope_sql, scope_params) = &f.scope;
    let marks = vec!["?"; f.statuses.len().max(1)].join(", ");
    let mut params: Vec<Value> = scope_params.clone();
    if f.statuses.is_empty() {
        params.push("".into());
    }
    params.extend(f.statuses.iter().map(|s| s.as_str().into()));
    let mut sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alerts a WHERE ({scope_sql}) AND a.status IN ({marks})"
    );
    if let Some((at, id)) = &f.before {
        sql.push_str(" AND (a.opened_at < ? OR (a.opened_at = ? AND a.id < ?))");
        params.extend([(*at).into(), (*at).into(), id.as_str().into()]);
    }
    sql.push_str(" ORDER BY a.opened_at DESC, a.id DESC LIMIT ?");
    params.push((f.limit as i64).into());
    let rows = db.execute(&sql, &params).await?;
    rows.iter().map(alert_of).collect()
}

/// A detector's record: what its alerts came to, per rule version. Precision is the share of
/// ended alerts that were acted on and closed rather than dismissed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DetectorFigures {
    pub signal: Signal,
    pub rule_version: i64,
    pub raised: i64,
    pub open: i64,
    pub closed: i64,
    pub dismissed: i64,
    /// closed / (closed + dismissed); none before any has ended.
    pub precision: Option<f64>,
}

/// Every detector's figures, city-wide (counted on the outcome index).
pub async fn figures<D: Database>(db: &D) -> Result<Vec<DetectorFigures>, StoreError> {
    let rows = db
        .execute(
            "SELECT signal, rule_version, status, COUNT(*) AS n FROM alerts INDEXED BY alerts_by_outcome \
             GROUP BY signal, rule_version, status ORDER BY signal, rule_version",
            &[],
        )
        .await?;
    let mut out: Vec<DetectorFigures> = Vec::new();
    for r in rows.iter() {
        let signal = r.text("signal")?;
        let Some(signal) = Signal::parse(&signal) else {
            continue;
        };
        let version = r.i64("rule_version")?;
        let status = AlertStatus::parse(&r.text("status")?);
        let n = r.i64("n")?;
        if out
            .last()
            .is_none_or(|f| f.signal != signal || f.rule_version != version)
        {
            out.push(DetectorFigures {
                signal,
                rule_version: version,
                raised: 0,
                open: 0,
                closed: 0,
                dismissed: 0,
                precision: None,
            });
        }
        let f = out.last_mut().expect("pushed above");
        f.raised += n;
        match status {
            Some(AlertStatus::Closed) => f.closed += n,
            Some(AlertStatus::Dismissed) => f.dismissed += n,
            _ => f.open += n,
        }
    }
    for f in &mut out {
        let ended = f.closed + f.dismissed;
        f.precision = (ended > 0).then(|| f.closed as f64 / ended as f64);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
