//! The centre's indicators (received, accepted, dispatched, on-time sign-for and handling,
//! closure, rework, returns, satisfaction, handling time) per department, area, category and
//! period. Rollup rows are written by `cases::create` and `cases::apply_move` in the case's own
//! transaction, so they can never disagree with the cases; a query reads only rollup rows and
//! must never scan cases.
//!
//! Every counter lands on the day (city time, UTC+8) the case was *received*: a period's
//! figures describe the cases received in it, and grow as those cases move on. Each move is
//! counted for the department that had the case when it moved (`''`: the centre, before any
//! dispatch or for a grid worker's self-handling). Rows exist per day and per month (a year is
//! twelve month rows plus at most two partial months of days) and per *cuboid* (the subset of
//! department, area and category a row keeps), so that a query sums few rows whatever it asks.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value as Json;

use crate::case::clock::{ClockChange, clock_change};
use crate::case::store::Case;
use crate::case::{Move, MoveInput, Status};
use crate::{Database, StoreError, Value};

// Days are counted in the city's time (UTC+8, no daylight saving).
pub use crate::time::{
    CITY_UTC_OFFSET_MS, DAY_MS, city_day, date_string, month_start, next_month_start, parse_date,
};
const HOUR_MS: f64 = 3_600_000.0;

// ---- the rollup's columns

/// The counters of a rollup row. All count moves, except `Registered` (cases, counted with
/// whoever holds them now: the centre or a department) and `HandlingMs` (a sum of times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Received,
    Accepted,
    Rejected,
    Merged,
    Registered,
    Dispatched,
    SignedFor,
    SignedForOnTime,
    Returned,
    Handled,
    HandledOnTime,
    HandlingMs,
    Verified,
    Reworked,
    SelfHandled,
    Closed,
    ClosedOnTime,
    Rated,
    Satisfied,
    BasicallySatisfied,
}

/// The counters' column names, in [`Counter`] order.
const COUNTER_COLUMNS: [&str; 20] = [
    "received",
    "accepted",
    "rejected",
    "merged",
    "registered",
    "dispatched",
    "signed_for",
    "signed_for_on_time",
    "returned",
    "handled",
    "handled_on_time",
    "handling_ms",
    "verified",
    "reworked",
    "self_handled",
    "closed",
    "closed_on_time",
    "rated",
    "satisfied",
    "basically_satisfied",
];

/// Upper edges of the handling-time buckets: 2^(k/2) hours for k = −2…23, i.e. 0.5 h to 2,896 h
/// (120 days), each bucket √2 times as wide as the one before. Bucket 0 is [0, 0.5 h), bucket
/// 26 is everything from 2,896 h. A p90 read from them lies in the same bucket as the true
/// one: within a factor √2 at worst, and interpolated inside the bucket.
pub const EDGES_MS: [i64; 26] = [
    1_800_000,
    2_545_584,
    3_600_000,
    5_091_169,
    7_200_000,
    10_182_338,
    14_400_000,
    20_364_675,
    28_800_000,
    40_729_351,
    57_600_000,
    81_458_701,
    115_200_000,
    162_917_402,
    230_400_000,
    325_834_805,
    460_800_000,
    651_669_610,
    921_600_000,
    1_303_339_219,
    1_843_200_000,
    2_606_678_438,
    3_686_400_000,
    5_213_356_876,
    7_372_800_000,
    10_426_713_753,
];
pub const BUCKETS: usize = EDGES_MS.len() + 1;
/// Counters, then the histogram's buckets (`h00` … `h26`).
pub const COLUMNS: usize = COUNTER_COLUMNS.len() + BUCKETS;

/// Every column of a rollup row after its key, in order.
pub fn column_names() -> Vec<String> {
    COUNTER_COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .chain((0..BUCKETS).map(|b| format!("h{b:02}")))
        .collect()
}

/// The bucket of a handling time.
pub fn bucket_of(ms: i64) -> usize {
    EDGES_MS.partition_point(|&edge| edge <= ms)
}

/// One rollup row's values (or the sum of several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts(pub [i64; COLUMNS]);

impl Default for Counts {
    fn default() -> Self {
        Counts([0; COLUMNS])
    }
}

impl Counts {
    pub fn get(&self, c: Counter) -> i64 {
        self.0[c as usize]
    }
    pub fn add(&mut self, c: Counter, n: i64) {
        self.0[c as usize] += n;
    }
    /// One handling time: into the sum and into its bucket.
    pub fn sample(&mut self, ms: i64) {
        let ms = ms.max(0);
        self.add(Counter::HandlingMs, ms);
        self.0[COUNTER_COLUMNS.len() + bucket_of(ms)] += 1;
    }
    pub fn histogram(&self) -> &[i64] {
        &self.0[COUNTER_COLUMNS.len()..]
    }
    pub fn merge(&mut self, other: &Counts) {
        self.0
            .iter_mut()
            .zip(other.0.iter())
            .for_each(|(a, b)| *a += b);
    }
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|v| *v == 0)
    }
}

// ---- the schema (migration 4)

/// Migration 4 (the rollups, the per-case trackers, and the backfill of the cases stored before
/// them), as `app::schema` applies it.
pub const MIGRATION_4: &str = include_str!("sql/004_indicators.sql");

/// The cuboids, by the dimensions they keep: (department, area, category).
const CUBOIDS: [(&str, bool, bool, bool); 7] = [
    ("dac", true, true, true),
    ("da", true, true, false),
    ("dc", true, false, true),
    ("ac", false, true, true),
    ("d", true, false, false),
    ("a", false, true, false),
    ("c", false, false, true),
];

/// The dimension value a row of a cuboid that drops it holds.
const ALL: &str = "*";

// ---- dates in the city's time

// ---- the write path

/// Where a case's counters go: the day it was received, its district, street and category.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseKey {
    pub day: i64,
    pub district: String,
    pub street: String,
    pub category: String,
}

impl CaseKey {
    pub fn new(grid_code: &str, category: &str, received_ms: i64) -> CaseKey {
        CaseKey {
            day: city_day(received_ms),
            district: grid_code.get(..6).unwrap_or(grid_code).to_owned(),
            street: grid_code.get(..9).unwrap_or(grid_code).to_owned(),
            category: category.to_owned(),
        }
    }
}

/// What the indicators remember of a case between its moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    pub key: CaseKey,
    /// Who holds the case's registration: `""` the centre, a department, `None` not registered.
    pub holder: Option<String>,
    /// Steps (sign for, handle, verify) that ended after their deadline.
    pub late_steps: i64,
    pub dispatched_at: Option<i64>,
}

impl Tracker {
    /// A new case: its tracker, and its `received` count for the centre.
    pub fn received(key: CaseKey) -> (Tracker, Counts) {
        let mut counts = Counts::default();
        counts.add(Counter::Received, 1);
        (
            Tracker {
                key,
                holder: None,
                late_steps: 0,
                dispatched_at: None,
            },
            counts,
        )
    }
}

/// Who holds the registration of a case in a status (also what the migration's backfill says).
pub fn holder_for(status: Status, department: Option<&str>) -> Option<String> {
    match status {
        Status::Collected | Status::Rejected | Status::Merged => None,
        Status::Accepted | Status::Returned => Some(String::new()),
        Status::Dispatched
        | Status::SignedFor
        | Status::InProgress
        | Status::ExtensionRequested
        | Status::Handled
        | Status::Verified
        | Status::Rework
        | Status::Closed
        | Status::Evaluated => Some(department.unwrap_or_default().to_owned()),
    }
}

/// A move as the indicators see it: the case just before, and what the move brings.
#[derive(Debug, Clone, Copy)]
pub struct MoveFacts<'a> {
    pub mv: Move,
    pub to: Status,
    /// The deadline of the step running before the move.
    pub deadline_ms: Option<i64>,
    /// The case's lead department before the move.
    pub department: Option<&'a str>,
    /// The department a dispatch sends the case to.
    pub dispatched_to: Option<&'a str>,
    /// The citizen's rating of an `evaluate` move.
    pub rating: Option<&'a str>,
    pub at: i64,
}

/// The counts one move adds, per department.
#[derive(Debug, Default)]
pub struct Changes(pub Vec<(String, Counts)>);

impl Changes {
    fn of(&mut self, department: &str) -> &mut Counts {
        let i = match self.0.iter().position(|(d, _)| d == department) {
            Some(i) => i,
            None => {
                self.0.push((department.to_owned(), Counts::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
    fn bump(&mut self, department: &str, c: Counter) {
        self.of(department).add(c, 1);
    }
}

/// Moves the case's registration to a new holder: one less for the old, one more for the new.
fn hand_over(t: &mut Tracker, to: Option<&str>, changes: &mut Changes) {
    if t.holder.as_deref() == to {
        return;
    }
    if let Some(old) = t.holder.take() {
        changes.of(&old).add(Counter::Registered, -1);
    }
    if let Some(new) = to {
        changes.of(new).add(Counter::Registered, 1);
    }
    t.holder = to.map(str::to_owned);
}

/// The one table of what each move counts, and for which department. Pure: the write path and
/// the benchmark's generator both run it.
pub fn effects(t: &mut Tracker, f: &MoveFacts<'_>) -> Changes {
    let mut changes = Changes::default();
    let dept = f.department.unwrap_or_default();
    // A move that starts or stops the clock ends the running step: late if past its deadline.
    let ends_step = matches!(
        clock_change(f.mv, f.to),
        ClockChange::Start(_) | ClockChange::Stop
    );
    if ends_step && f.deadline_ms.is_some_and(|d| f.at > d) {
        t.late_steps += 1;
    }
    let on_time = f.deadline_ms.is_none_or(|d| f.at <= d);
    use Counter as C;
    match f.mv {
        // A correction re-files the case under its new category or place
        // ([`record_correction`]); it is no step of the flow and counts nothing here.
        Move::Correct => {}
        Move::Accept => {
            changes.bump("", C::Accepted);
            hand_over(t, Some(""), &mut changes);
        }
        Move::Reject => changes.bump("", C::Rejected),
        Move::Merge => {
            changes.bump("", C::Merged);
            hand_over(t, None, &mut changes);
        }
        Move::Dispatch => {
            let to = f.dispatched_to.unwrap_or(dept);
            changes.bump(to, C::Dispatched);
            hand_over(t, Some(to), &mut changes);
            t.dispatched_at = Some(f.at);
        }
        Move::SignFor => {
            changes.bump(dept, C::SignedFor);
            if on_time {
                changes.bump(dept, C::SignedForOnTime);
            }
        }
        Move::Return => {
            changes.bump(dept, C::Returned);
            hand_over(t, Some(""), &mut changes);
        }
        Move::Handle => {
            changes.bump(dept, C::Handled);
            if on_time {
                changes.bump(dept, C::HandledOnTime);
            }
            if let Some(since) = t.dispatched_at {
                changes.of(dept).sample(f.at - since);
            }
        }
        Move::VerifyPass => changes.bump(dept, C::Verified),
        Move::VerifyFail => {
            changes.bump(dept, C::Verified);
            changes.bump(dept, C::Reworked);
        }
        Move::SelfHandle => {
            hand_over(t, Some(""), &mut changes);
            changes.bump("", C::SelfHandled);
            changes.bump("", C::Closed);
            if t.late_steps == 0 {
                changes.bump("", C::ClosedOnTime);
            }
        }
        Move::Close => {
            changes.bump(dept, C::Closed);
            if t.late_steps == 0 {
                changes.bump(dept, C::ClosedOnTime);
            }
        }
        Move::Evaluate => {
            let counter = match f.rating {
                Some("satisfied") => Some(C::Satisfied),
                Some("basically_satisfied") => Some(C::BasicallySatisfied),
                _ => None,
            };
            if f.rating.is_some() {
                changes.bump(dept, C::Rated);
            }
            if let Some(c) = counter {
                changes.bump(dept, c);
            }
        }
        Move::Start | Move::RequestExtension | Move::ApproveExtension | Move::RefuseExtension => {}
    }
    changes
}

/// The key of one rollup row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    pub cuboid: &'static str,
    pub grain: &'static str,
    pub day: i64,
    pub department: String,
    pub district: String,
    pub street: String,
    pub category: String,
}

/// The fourteen rows a department's counts for a case go to: every cuboid, by day and by month.
pub fn rows_of<'a>(key: &'a CaseKey, department: &'a str) -> impl Iterator<Item = RowKey> + 'a {
    let keep = |kept: bool, value: &str| {
        if kept {
            value.to_owned()
        } else {
            ALL.to_owned()
        }
    };
    CUBOIDS.iter().flat_map(move |&(cuboid, d, a, c)| {
        [("day", key.day), ("month", month_start(key.day))]
            .into_iter()
            .map(move |(grain, day)| RowKey {
                cuboid,
                grain,
                day,
                department: keep(d, department),
                district: keep(a, &key.district),
                street: keep(a, &key.street),
                category: keep(c, &key.category),
            })
    })
}

/// Counts to add, merged by row: what one move writes, or what a bulk load writes at once.
#[derive(Debug, Default)]
pub struct Batch(pub BTreeMap<RowKey, Counts>);

impl Batch {
    pub fn add(&mut self, key: &CaseKey, department: &str, counts: &Counts) {
        if counts.is_zero() {
            return;
        }
        for row in rows_of(key, department) {
            self.0.entry(row).or_default().merge(counts);
        }
    }
}

/// Rows per statement: 32 × 54 parameters stays far under SQLite's limit of 32,766.
const ROWS_PER_STATEMENT: usize = 32;

/// The upsert of `rows` rows that sets only `columns` (the others keep their value, or their
/// default 0 in a new row).
fn upsert_sql(columns: &[String], rows: usize) -> String {
    let one = format!("({})", vec!["?"; 7 + columns.len()].join(", "));
    let sets: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} = {c} + excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO indicator_rollups (cuboid, grain, day, department, district, street, category, {}) VALUES {} \
         ON CONFLICT (cuboid, grain, day, department, district, street, category) DO UPDATE SET {}",
        columns.join(", "),
        vec![one; rows].join(", "),
        sets.join(", ")
    )
}

/// The statements that add a batch to the rollup: one for a move's rows (up to 32), naming
/// only the counters the batch changes (a new case: `received` alone, not all 47), so that
/// the statement run inside the write transaction is short to prepare. A bulk load's batch
/// (more rows than one statement takes) names every counter instead: its chunks would each
/// change another set of counters, and parsing a new 1,700-parameter statement per chunk cost
/// more than the load's inserts; named alike, they are prepared once and cached.
fn upserts(batch: Batch) -> Vec<(String, Vec<Value>)> {
    let rows: Vec<(RowKey, Counts)> = batch.0.into_iter().collect();
    let names = column_names();
    let bulk = rows.len() > ROWS_PER_STATEMENT;
    let mut statements = Vec::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let changed: Vec<usize> = (0..COLUMNS)
            .filter(|&i| bulk || chunk.iter().any(|(_, counts)| counts.0[i] != 0))
            .collect();
        if changed.is_empty() {
            continue;
        }
        let columns: Vec<String> = changed.iter().map(|&i| names[i].clone()).collect();
        let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * (7 + changed.len()));
        for (k, counts) in chunk {
            params.extend([
                k.cuboid.into(),
                k.grain.into(),
                k.day.into(),
                k.department.as_str().into(),
                k.district.as_str().into(),
                k.street.as_str().into(),
                k.category.as_str().into(),
            ]);
            params.extend(changed.iter().map(|&i| Value::Integer(counts.0[i])));
        }
        statements.push((upsert_sql(&columns, chunk.len()), params));
    }
    statements
}

/// Adds a batch to the rollup ([`upserts`]).
pub async fn write<D: Database>(db: &D, batch: Batch) -> Result<(), StoreError> {
    for (sql, params) in upserts(batch) {
        db.execute(&sql, &params).await?;
    }
    Ok(())
}

const TRACKER_OF: &str = "SELECT day, district, street, category, holder, late_steps, dispatched_at FROM indicator_cases WHERE case_id = ?";
const INSERT_TRACKER: &str = "INSERT INTO indicator_cases \
     (case_id, day, district, street, category, holder, late_steps, dispatched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
const REKEY_TRACKER: &str =
    "UPDATE indicator_cases SET district = ?, street = ?, category = ? WHERE case_id = ?";
const UPDATE_TRACKER: &str =
    "UPDATE indicator_cases SET holder = ?, late_steps = ?, dispatched_at = ? WHERE case_id = ?";

/// Stores a new case's tracker.
pub async fn insert_tracker<D: Database>(
    db: &D,
    case_id: &str,
    t: &Tracker,
) -> Result<(), StoreError> {
    db.execute(
        INSERT_TRACKER,
        &[
            case_id.into(),
            t.key.day.into(),
            t.key.district.as_str().into(),
            t.key.street.as_str().into(),
            t.key.category.as_str().into(),
            t.holder.clone().into(),
            t.late_steps.into(),
            t.dispatched_at.into(),
        ],
    )
    .await?;
    Ok(())
}

async fn tracker<D: Database>(db: &D, case_id: &str) -> Result<Option<Tracker>, StoreError> {
    let rows = db.execute(TRACKER_OF, &[case_id.into()]).await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(Tracker {
        key: CaseKey {
            day: r.i64("day")?,
            district: r.text("district")?,
            street: r.text("street")?,
            category: r.text("category")?,
        },
        holder: r.opt_text("holder")?,
        late_steps: r.i64("late_steps")?,
        dispatched_at: r.opt_i64("dispatched_at")?,
    }))
}

/// A new case counted as received, worked out before its write transaction ([`received`]):
/// the tracker, and the rollup's statements ready to run.
pub struct Received {
    tracker: Tracker,
    upserts: Vec<(String, Vec<Value>)>,
}

/// Counts a new case of `category` in cell `grid_code` received at `now`: [`Received::write`]
/// in the transaction that inserts it.
pub fn received(grid_code: &str, category: &str, now: i64) -> Received {
    let (tracker, counts) = Tracker::received(CaseKey::new(grid_code, category, now));
    let mut batch = Batch::default();
    batch.add(&tracker.key, "", &counts);
    Received {
        upserts: upserts(batch),
        tracker,
    }
}

impl Received {
    /// The tracker and the rollup's rows of case `case_id`. Call in the transaction that
    /// inserts it.
    pub async fn write<D: Database>(&self, db: &D, case_id: &str) -> Result<(), StoreError> {
        insert_tracker(db, case_id, &self.tracker).await?;
        for (sql, params) in &self.upserts {
            db.execute(sql, params).await?;
        }
        Ok(())
    }
}

/// A case without a tracker (stored by other means than `cases::create`): counted as received
/// and registered as its status stands before this move, as the migration's backfill does.
async fn adopt<D: Database>(db: &D, case: &Case) -> Result<Tracker, StoreError> {
    let rows = db
        .execute(
            "SELECT c.created_at, (SELECT MAX(e.at) FROM case_events e WHERE e.case_id = c.id AND e.type = 'dispatch') \
             AS dispatched_at FROM cases c WHERE c.id = ?",
            &[case.id.as_str().into()],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| StoreError(format!("no case {}", case.id)))?;
    let (mut t, mut counts) = Tracker::received(CaseKey::new(
        &case.grid_code,
        &case.category,
        row.i64("created_at")?,
    ));
    let status = case.status;
    t.holder = holder_for(status, case.department.as_deref());
    t.dispatched_at = row.opt_i64("dispatched_at")?;
    if t.holder.as_deref() == Some("") {
        counts.add(Counter::Registered, 1);
    }
    let mut batch = Batch::default();
    batch.add(&t.key, "", &counts);
    if let Some(holder) = t.holder.as_deref().filter(|h| !h.is_empty()) {
        let mut held = Counts::default();
        held.add(Counter::Registered, 1);
        batch.add(&t.key, holder, &held);
    }
    write(db, batch).await?;
    insert_tracker(db, &case.id, &t).await?;
    Ok(t)
}

/// Counts one move of a case (`case` as it was before the move). Call in the move's transaction.
pub async fn record_move<D: Database>(
    db: &D,
    case: &Case,
    mv: Move,
    to: Status,
    input: &MoveInput,
    details: &Json,
    now: i64,
) -> Result<(), StoreError> {
    let mut t = match tracker(db, &case.id).await? {
        Some(t) => t,
        None => adopt(db, case).await?,
    };
    let before = t.clone();
    let facts = MoveFacts {
        mv,
        to,
        deadline_ms: case.step_deadline_ms,
        department: case.department.as_deref(),
        dispatched_to: input.department.as_deref(),
        rating: details.get("rating").and_then(Json::as_str),
        at: now,
    };
    let mut batch = Batch::default();
    for (department, counts) in effects(&mut t, &facts).0 {
        batch.add(&t.key, &department, &counts);
    }
    write(db, batch).await?;
    if t != before {
        db.execute(
            UPDATE_TRACKER,
            &[
                t.holder.clone().into(),
                t.late_steps.into(),
                t.dispatched_at.into(),
                case.id.as_str().into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// A correction of a case's category or place: the case is counted as received, and held, under
/// its new category and area instead of the old ones, from the day it was received; later moves
/// count there. What happened to it before (accepted, dispatched, …) stays where it happened.
pub async fn record_correction<D: Database>(
    db: &D,
    case: &Case,
    grid_code: &str,
    category: &str,
) -> Result<(), StoreError> {
    let t = match tracker(db, &case.id).await? {
        Some(t) => t,
        None => adopt(db, case).await?,
    };
    let moved = CaseKey {
        day: t.key.day,
        ..CaseKey::new(grid_code, category, 0)
    };
    if moved == t.key {
        return Ok(());
    }
    let mut gone = Counts::default();
    gone.add(Counter::Received, -1);
    let mut came = Counts::default();
    came.add(Counter::Received, 1);
    let mut batch = Batch::default();
    batch.add(&t.key, "", &gone);
    batch.add(&moved, "", &came);
    if let Some(holder) = t.holder.as_deref() {
        let mut left = Counts::default();
        left.add(Counter::Registered, -1);
        let mut held = Counts::default();
        held.add(Counter::Registered, 1);
        batch.add(&t.key, holder, &left);
        batch.add(&moved, holder, &held);
    }
    write(db, batch).await?;
    db.execute(
        REKEY_TRACKER,
        &[
            moved.district.as_str().into(),
            moved.street.as_str().into(),
            moved.category.as_str().into(),
            case.id.as_str().into(),
        ],
    )
    .await?;
    Ok(())
}

// ---- the read path

/// What the figures are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Department,
    District,
    Street,
    Category,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        [
            GroupBy::Department,
            GroupBy::District,
            GroupBy::Street,
            GroupBy::Category,
        ]
        .into_iter()
        .find(|g| g.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Department => "department",
            GroupBy::District => "district",
            GroupBy::Street => "street",
            GroupBy::Category => "category",
        }
    }
}

/// One indicator query: a grouping, a period of city days (both ends included), and filters.
#[derive(Debug, Clone)]
pub struct Query {
    pub group_by: GroupBy,
    pub from: i64,
    pub to: i64,
    /// A department's code; `Some("")` for the centre's own row.
    pub department: Option<String>,
    /// A district (6 digits) or street (9 digits) code.
    pub area: Option<String>,
    pub category: Option<String>,
}

/// The ranges a period is read in: days before the first whole month, whole months, days after.
fn ranges(from: i64, to: i64) -> Vec<(&'static str, i64, i64)> {
    let first = if month_start(from) == from {
        from
    } else {
        next_month_start(from)
    };
    let end = month_start(to + 1); // the first day after the last whole month
    if first >= end {
        return vec![("day", from, to)];
    }
    let mut out = vec![("month", first, end - 1)];
    if from < first {
        out.push(("day", from, first - 1));
    }
    if end <= to {
        out.push(("day", end, to));
    }
    out
}

/// The cuboid that keeps exactly the query's grouping and filters.
fn cuboid_for(q: &Query) -> &'static str {
    let d = q.group_by == GroupBy::Department || q.department.is_some();
    let a = matches!(q.group_by, GroupBy::District | GroupBy::Street) || q.area.is_some();
    let c = q.group_by == GroupBy::Category || q.category.is_some();
    CUBOIDS
        .iter()
        .find(|x| (x.1, x.2, x.3) == (d, a, c))
        .map_or("dac", |x| x.0)
}

/// The summed counts of a query, per group key (`""`: the centre, for `department`).
pub async fn totals<D: Database>(
    db: &D,
    q: &Query,
) -> Result<BTreeMap<String, Counts>, StoreError> {
    totals_in(db, q, cuboid_for(q)).await
}

/// The statement of a query on a cuboid (its parameters: grain, first and last day, then the
/// filters in the order department, area, category) and the filters' values.
fn select_sql(q: &Query, cuboid: &'static str) -> (String, Vec<Value>) {
    let sums: Vec<String> = column_names()
        .iter()
        .map(|c| format!("SUM({c}) AS {c}"))
        .collect();
    let mut filters = String::new();
    let mut params: Vec<Value> = Vec::new();
    if let Some(d) = &q.department {
        filters.push_str(" AND department = ?");
        params.push(d.as_str().into());
    }
    if let Some(a) = &q.area {
        filters.push_str(if a.len() <= 6 {
            " AND district = ?"
        } else {
            " AND street = ?"
        });
        params.push(a.as_str().into());
    }
    if let Some(c) = &q.category {
        filters.push_str(" AND category = ?");
        params.push(c.as_str().into());
    }
    // The full cuboid is read through a partial index, named so that the plan does not depend
    // on whether the database was ever ANALYZEd; `cuboid_for` gives it a department or a
    // category filter. The cuboid is one of our constants, written into the SQL, because
    // SQLite uses a partial index only when the statement itself implies its WHERE.
    let index = match cuboid {
        "dac" if q.department.is_some() => " INDEXED BY indicator_cube_by_department",
        "dac" if q.category.is_some() => " INDEXED BY indicator_cube_by_category",
        _ => "",
    };
    let sql = format!(
        "SELECT {group} AS g, {sums} FROM indicator_rollups{index} \
         WHERE cuboid = '{cuboid}' AND grain = ? AND day BETWEEN ? AND ?{filters} GROUP BY g",
        group = q.group_by.as_str(),
        sums = sums.join(", "),
    );
    (sql, params)
}

async fn totals_in<D: Database>(
    db: &D,
    q: &Query,
    cuboid: &'static str,
) -> Result<BTreeMap<String, Counts>, StoreError> {
    let columns = column_names();
    let (sql, filter_params) = select_sql(q, cuboid);
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for (grain, from, to) in ranges(q.from, q.to) {
        let mut params: Vec<Value> = vec![grain.into(), from.into(), to.into()];
        params.extend(filter_params.iter().cloned());
        let rows = db.execute(&sql, &params).await?;
        for r in rows.iter() {
            let mut counts = Counts::default();
            for (i, c) in columns.iter().enumerate() {
                counts.0[i] = r.opt_i64(c)?.unwrap_or_default();
            }
            out.entry(r.text("g")?).or_default().merge(&counts);
        }
    }
    Ok(out)
}

/// The names of group keys: departments', categories' (zh and en), or the current map's areas.
pub async fn names<D: Database>(
    db: &D,
    group_by: GroupBy,
    keys: &[&str],
) -> Result<HashMap<String, String>, StoreError> {
    let keys: Vec<&str> = keys.iter().copied().filter(|k| !k.is_empty()).collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let marks = vec!["?"; keys.len()].join(", ");
    let sql = match group_by {
        GroupBy::Department => {
            format!("SELECT code, name FROM departments WHERE code IN ({marks})")
        }
        GroupBy::Category => {
            format!(
                "SELECT code, name_zh || ' ' || name_en AS name FROM categories WHERE code IN ({marks})"
            )
        }
        GroupBy::District | GroupBy::Street => format!(
            "SELECT g.code, g.name FROM grids g JOIN map_versions m ON m.version = g.version AND m.is_current = 1 \
             WHERE g.code IN ({marks})"
        ),
    };
    let params: Vec<Value> = keys.iter().map(|k| (*k).into()).collect();
    let rows = db.execute(&sql, &params).await?;
    rows.iter()
        .map(|r| Ok((r.text("code")?, r.text("name")?)))
        .collect()
}

/// The figures of a group: its counts and the indicators computed from them.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Figures {
    pub received: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub merged: i64,
    pub registered: i64,
    pub dispatched: i64,
    pub signed_for: i64,
    pub signed_for_on_time: i64,
    pub returned: i64,
    pub handled: i64,
    pub handled_on_time: i64,
    pub verified: i64,
    pub reworked: i64,
    pub self_handled: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    /// signed_for_on_time / signed_for
    pub on_time_sign_for_rate: Option<f64>,
    /// handled_on_time / handled
    pub on_time_handling_rate: Option<f64>,
    /// closed / registered
    pub closure_rate: Option<f64>,
    /// closed_on_time / closed
    pub on_time_closure_rate: Option<f64>,
    /// reworked / verified
    pub rework_rate: Option<f64>,
    /// returned / dispatched
    pub return_rate: Option<f64>,
    /// (satisfied + basically_satisfied) / rated
    pub satisfaction_rate: Option<f64>,
    /// From the last dispatch to the handling report, over every handling report.
    pub mean_handling_hours: Option<f64>,
    pub p90_handling_hours: Option<f64>,
}

/// The names of [`Figures`]' fields, in order: the CSV header.
pub const FIGURE_NAMES: [&str; 28] = [
    "received",
    "accepted",
    "rejected",
    "merged",
    "registered",
    "dispatched",
    "signed_for",
    "signed_for_on_time",
    "returned",
    "handled",
    "handled_on_time",
    "verified",
    "reworked",
    "self_handled",
    "closed",
    "closed_on_time",
    "rated",
    "satisfied",
    "basically_satisfied",
    "on_time_sign_for_rate",
    "on_time_handling_rate",
    "closure_rate",
    "on_time_closure_rate",
    "rework_rate",
    "return_rate",
    "satisfaction_rate",
    "mean_handling_hours",
    "p90_handling_hours",
];

fn rate(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| round(num as f64 / den as f64, 4))
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

/// The 90th percentile (nearest rank) of a handling-time histogram, in hours: the bucket that
/// holds the rank, then linear inside it (the k-th of its n samples at (k − ½)/n of its width).
/// The open last bucket answers its lower edge, a lower bound.
pub fn p90_hours(histogram: &[i64]) -> Option<f64> {
    let n: i64 = histogram.iter().sum();
    if n <= 0 {
        return None;
    }
    let rank = (9 * n + 9) / 10; // ⌈0.9 n⌉
    let mut below = 0;
    for (b, &count) in histogram.iter().enumerate() {
        if count > 0 && below + count >= rank {
            let lo = if b == 0 { 0 } else { EDGES_MS[b - 1] } as f64;
            let ms = match EDGES_MS.get(b) {
                Some(&hi) => lo + (hi as f64 - lo) * ((rank - below) as f64 - 0.5) / count as f64,
                None => lo,
            };
            return Some(round(ms / HOUR_MS, 2));
        }
        below += count;
    }
    None
}

impl Figures {
    pub fn of(c: &Counts) -> Figures {
        use Counter as C;
        let samples: i64 = c.histogram().iter().sum();
        Figures {
            received: c.get(C::Received),
            accepted: c.get(C::Accepted),
            rejected: c.get(C::Rejected),
            merged: c.get(C::Merged),
            registered: c.get(C::Registered),
            dispatched: c.get(C::Dispatched),
            signed_for: c.get(C::SignedFor),
            signed_for_on_time: c.get(C::SignedForOnTime),
            returned: c.get(C::Returned),
            handled: c.get(C::Handled),
            handled_on_time: c.get(C::HandledOnTime),
            verified: c.get(C::Verified),
            reworked: c.get(C::Reworked),
            self_handled: c.get(C::SelfHandled),
            closed: c.get(C::Closed),
            closed_on_time: c.get(C::ClosedOnTime),
            rated: c.get(C::Rated),
            satisfied: c.get(C::Satisfied),
            basically_satisfied: c.get(C::BasicallySatisfied),
            on_time_sign_for_rate: rate(c.get(C::SignedForOnTime), c.get(C::SignedFor)),
            on_time_handling_rate: rate(c.get(C::HandledOnTime), c.get(C::Handled)),
            closure_rate: rate(c.get(C::Closed), c.get(C::Registered)),
            on_time_closure_rate: rate(c.get(C::ClosedOnTime), c.get(C::Closed)),
            rework_rate: rate(c.get(C::Reworked), c.get(C::Verified)),
            return_rate: rate(c.get(C::Returned), c.get(C::Dispatched)),
            satisfaction_rate: rate(
                c.get(C::Satisfied) + c.get(C::BasicallySatisfied),
                c.get(C::Rated),
            ),
            mean_handling_hours: (samples > 0)
                .then(|| round(c.get(C::HandlingMs) as f64 / samples as f64 / HOUR_MS, 2)),
            p90_handling_hours: p90_hours(c.histogram()),
        }
    }

    /// The values in [`FIGURE_NAMES`] order, as CSV cells (empty for "no denominator").
    pub fn cells(&self) -> Vec<String> {
        let counts = [
            self.received,
            self.accepted,
            self.rejected,
            self.merged,
            self.registered,
            self.dispatched,
            self.signed_for,
            self.signed_for_on_time,
            self.returned,
            self.handled,
            self.handled_on_time,
            self.verified,
            self.reworked,
            self.self_handled,
            self.closed,
            self.closed_on_time,
            self.rated,
            self.satisfied,
            self.basically_satisfied,
        ];
        let ratios = [
            self.on_time_sign_for_rate,
            self.on_time_handling_rate,
            self.closure_rate,
            self.on_time_closure_rate,
            self.rework_rate,
            self.return_rate,
            self.satisfaction_rate,
            self.mean_handling_hours,
            self.p90_handling_hours,
        ];
        counts
            .iter()
            .map(i64::to_string)
            .chain(
                ratios
                    .iter()
                    .map(|r| r.map(|v| v.to_string()).unwrap_or_default()),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests;
