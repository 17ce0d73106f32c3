//! Cases and their audit trail in SQLite: the only writer of `cases`, `case_events`,
//! `case_departments` and `reviews` (a test reads the tree for writes anywhere else). Every
//! change goes through [`write`], which runs the state machine for a move, lands only on the
//! version of the case its caller read, and appends the event in the caller's transaction; the
//! event log is append-only and replays to the case's status. Contact data is stored here and
//! leaves only through the operator view.

use crate::crypto::secret_hash;
use crate::db::in_transaction;
use crate::time::rfc3339;
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::case::clock::{Clock, ClockChange, Step, clock_change, deadline, hours_for};
use crate::case::report::{Channel, PublicId, Report, TrackingCode};
use crate::case::{Move, MoveInput, Role, Status};
use crate::directory::Category;
use crate::grid::CellMatch;
use crate::ports::Row;
use crate::{Database, Problem, StoreError, Value};

/// Who did something, as the audit trail records it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub role: Role,
    /// An operator's name, a department's code, `citizen`, or `system`.
    pub id: String,
    pub channel: Channel,
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Case {
    pub id: String,
    pub tracking_code: String,
    pub category: String,
    pub description: String,
    pub lat: f64,
    pub lng: f64,
    pub crs_given: String,
    pub address: Option<String>,
    pub grid_code: String,
    pub status: Status,
    pub channel: Channel,
    pub asset_id: Option<String>,
    pub department: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub event_count: i64,
    pub priority: i64,
    /// The running step (`sign_for`, `handle`, `verify`) and its deadline.
    pub step: Option<Step>,
    pub step_deadline_at: Option<String>,
    #[serde(skip)]
    pub step_started_ms: Option<i64>,
    #[serde(skip)]
    pub step_deadline_ms: Option<i64>,
    pub overdue: bool,
    /// Who watches the case: the `street` centre, then `district`, then `city`.
    pub escalation_level: String,
    /// The case this one was merged into.
    pub parent_id: Option<String>,
    /// Open cases nearby of the same category when this one came in: probable duplicates.
    pub duplicate_candidates: Vec<String>,
    pub reporter_kind: ReporterKind,
    pub reporter_id: Option<String>,
    pub rating: Option<String>,
    pub rating_comment: Option<String>,
    /// The helper departments (协办) beside the lead department.
    pub helpers: Vec<String>,
    /// Whether public answers show the case, and its id there (`case::publication`).
    pub public: bool,
    pub public_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Case {
    /// The light of the running step at `now`, if a step runs.
    pub fn light(&self, now_ms: i64) -> Option<crate::case::clock::Light> {
        Some(crate::case::clock::light(
            self.step_started_ms?,
            self.step_deadline_ms?,
            now_ms,
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Event {
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub from_status: Option<String>,
    pub status: String,
    pub actor_role: String,
    pub actor: String,
    pub channel: String,
    pub details: Json,
    pub at: String,
}

/// Read with the table aliased `c`.
pub(crate) const CASE_COLUMNS: &str = "c.id, c.tracking_code, c.category, c.description, c.lat, c.lng, c.crs_given, \
     c.address, c.grid_code, c.status, c.channel, c.asset_id, c.department, c.contact_name, c.contact_phone, \
     c.event_count, c.priority, c.step, c.step_started_at, c.step_deadline_at, c.overdue, c.escalation_level, \
     c.parent_id, c.duplicate_candidates, c.reporter_kind, c.reporter_id, c.rating, c.rating_comment, \
     c.public, c.public_id, c.created_at, c.updated_at, \
     (SELECT group_concat(d.department) FROM case_departments d WHERE d.case_id = c.id AND d.role = 'helper') AS helpers";

const INSERT_CASE: &str = "INSERT INTO cases (id, tracking_code, secret_hash, category, description, lat, lng, \
     crs_given, address, grid_code, status, channel, asset_id, contact_name, contact_phone, event_count, \
     priority, duplicate_candidates, reporter_kind, reporter_id, public, public_id, created_at, updated_at, \
     near_square) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT DO NOTHING RETURNING id, tracking_code, category, description, lat, lng, \
     crs_given, address, grid_code, status, channel, asset_id, department, contact_name, contact_phone, \
     event_count, priority, step, step_started_at, step_deadline_at, overdue, escalation_level, parent_id, \
     duplicate_candidates, reporter_kind, reporter_id, rating, rating_comment, public, public_id, \
     created_at, updated_at, NULL AS helpers";
const INSERT_EVENT: &str = "INSERT INTO case_events (case_id, seq, type, from_status, to_status, actor_role, \
     actor, channel, details, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const EVENTS_OF: &str = "SELECT seq, type, from_status, to_status, actor_role, actor, channel, details, at \
     FROM case_events WHERE case_id = ? ORDER BY seq";

/// A column that holds one of an enum's names; anything else means the SQL and the code disagree.
fn parsed<T>(r: &Row<'_>, column: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    let text = r.text(column)?;
    parse(&text).ok_or_else(|| StoreError(format!("column {column}: unknown value {text:?}")))
}

fn case_of(r: Row<'_>) -> Result<Case, StoreError> {
    let r = &r;
    Ok(Case {
        id: r.text("id")?,
        tracking_code: r.text("tracking_code")?,
        category: r.text("category")?,
        description: r.text("description")?,
        lat: r.f64("lat")?,
        lng: r.f64("lng")?,
        crs_given: r.text("crs_given")?,
        address: r.opt_text("address")?,
        grid_code: r.text("grid_code")?,
        status: parsed(r, "status", Status::parse)?,
        channel: parsed(r, "channel", Channel::parse)?,
        asset_id: r.opt_text("asset_id")?,
        department: r.opt_text("department")?,
        contact_name: r.opt_text("contact_name")?,
        contact_phone: r.opt_text("contact_phone")?,
        event_count: r.i64("event_count")?,
        priority: r.i64("priority")?,
        step: r.opt_text("step")?.as_deref().and_then(Step::parse),
        step_deadline_at: r.opt_i64("step_deadline_at")?.map(rfc3339),
        step_started_ms: r.opt_i64("step_started_at")?,
        step_deadline_ms: r.opt_i64("step_deadline_at")?,
        overdue: r.i64("overdue")? != 0,
        escalation_level: r.text("escalation_level")?,
        parent_id: r.opt_text("parent_id")?,
        duplicate_candidates: r
            .opt_text("duplicate_candidates")?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
        reporter_kind: parsed(r, "reporter_kind", ReporterKind::parse)?,
        reporter_id: r.opt_text("reporter_id")?,
        rating: r.opt_text("rating")?,
        rating_comment: r.opt_text("rating_comment")?,
        helpers: r
            .opt_text("helpers")?
            .map(|h| h.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        public: r.i64("public")? != 0,
        public_id: r.opt_text("public_id")?,
        created_at: rfc3339(r.i64("created_at")?),
        updated_at: rfc3339(r.i64("updated_at")?),
    })
}

fn event_of(r: Row<'_>) -> Result<Event, StoreError> {
    Ok(Event {
        seq: r.i64("seq")?,
        kind: r.text("type")?,
        from_status: r.opt_text("from_status")?,
        status: r.text("to_status")?,
        actor_role: r.text("actor_role")?,
        actor: r.text("actor")?,
        channel: r.text("channel")?,
        details: serde_json::from_str(&r.text("details")?).unwrap_or(Json::Null),
        at: rfc3339(r.i64("at")?),
    })
}

/// Whether `secret` is the reporter's secret of a case (compared as hashes, in constant time).
pub async fn secret_matches<D: Database>(
    db: &D,
    case_id: &str,
    secret: &str,
) -> Result<bool, StoreError> {
    let rows = db
        .execute(
            "SELECT secret_hash FROM cases WHERE id = ?",
            &[case_id.into()],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(false);
    };
    Ok(crate::crypto::same_secret(
        row.text("secret_hash")?.as_bytes(),
        secret_hash(secret.trim()).as_bytes(),
    ))
}

/// Who sent a report in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReporterKind {
    /// A citizen, anonymous until they leave contact data.
    Citizen,
    /// A grid worker on patrol.
    GridWorker,
    /// A citizen's report relayed by another platform (12345, …).
    Platform,
    /// A citizen's report relayed by an Open311 client.
    Open311,
}

impl ReporterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReporterKind::Citizen => "citizen",
            ReporterKind::GridWorker => "grid_worker",
            ReporterKind::Platform => "platform",
            ReporterKind::Open311 => "open311",
        }
    }
    pub fn parse(s: &str) -> Option<ReporterKind> {
        [
            ReporterKind::Citizen,
            ReporterKind::GridWorker,
            ReporterKind::Platform,
            ReporterKind::Open311,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Who sent a report in, and their id where they have one (a worker's account, a platform).
#[derive(Debug, Clone)]
pub struct Reporter {
    pub kind: ReporterKind,
    pub id: Option<String>,
}

impl Reporter {
    pub fn citizen() -> Reporter {
        Reporter {
            kind: ReporterKind::Citizen,
            id: None,
        }
    }
}

/// The side of a duplicate-search square, in degrees (migration 10).
const NEAR_SQUARE_DEG: f64 = 0.005;
/// The squares one search reads at most; a radius that touches more (over about 250 m) reads
/// the category's window instead.
const NEAR_SQUARES: usize = 4;

fn square_index(degrees: f64) -> i64 {
    (degrees / NEAR_SQUARE_DEG).floor() as i64
}

/// The duplicate-search square of a point, as migration 10 computes it for older cases.
pub fn near_square(point: crate::grid::code::Wgs84Point) -> i64 {
    square_index(point.lat) * 100_000 + square_index(point.lng)
}

/// The ids of the open cases of the same category within the category's radius and time window
/// of a point: probable duplicates. Read through the `cases_near` index (category, the squares
/// the radius touches, time), then the box, and only the id and the point: a report reads this
/// on every submission, so its cost must not grow with the city's day.
pub async fn nearby_open<D: Database>(
    db: &D,
    category: &Category,
    point: crate::grid::code::Wgs84Point,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let since = now - (category.duplicate_window_hours * 3_600_000.0) as i64;
    let found = nearby(
        db,
        category,
        point,
        since,
        "c.status NOT IN ('rejected', 'merged', 'closed', 'evaluated')",
        &[],
    )
    .await?;
    Ok(found.into_iter().map(|(id, _)| id).collect())
}

/// The cases of the same category within the category's radius of a point that were closed at
/// or after `closed_since` (and received after `received_since`, which bounds the index range):
/// the problem a new report there may bring back. With each one's closing time.
pub async fn nearby_closed<D: Database>(
    db: &D,
    category: &Category,
    point: crate::grid::code::Wgs84Point,
    received_since: i64,
    closed_since: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    nearby(
        db,
        category,
        point,
        received_since,
        "c.status IN ('closed', 'evaluated') AND c.closed_at >= ?",
        &[closed_since.into()],
    )
    .await
}

/// The cases of a category within its radius of a point, received since `since`, that meet
/// `status_sql` (its parameters after the rest): (id, closed_at or 0), oldest first, 20 at most.
async fn nearby<D: Database>(
    db: &D,
    category: &Category,
    point: crate::grid::code::Wgs84Point,
    since: i64,
    status_sql: &str,
    status_params: &[Value],
) -> Result<Vec<(String, i64)>, StoreError> {
    let radius = category.duplicate_radius_m;
    let dlat = radius / 110_574.0;
    let dlng = radius / (111_320.0 * point.lat.to_radians().cos().max(0.01));
    let box_params: [Value; 5] = [
        since.into(),
        (point.lat - dlat).into(),
        (point.lat + dlat).into(),
        (point.lng - dlng).into(),
        (point.lng + dlng).into(),
    ];
    let lat_squares = square_index(point.lat - dlat)..=square_index(point.lat + dlat);
    let lng_squares = square_index(point.lng - dlng)..=square_index(point.lng + dlng);
    let squares: Vec<i64> = lat_squares
        .flat_map(|lat| lng_squares.clone().map(move |lng| lat * 100_000 + lng))
        .take(NEAR_SQUARES + 1)
        .collect();
    let mut params: Vec<Value> = vec![category.code.as_str().into()];
    let sql = if squares.len() <= NEAR_SQUARES {
        // Always four squares, so that it is one prepared statement: repeats are harmless.
        params.extend((0..NEAR_SQUARES).map(|i| squares[i.min(squares.len() - 1)].into()));
        format!(
            "SELECT c.id, c.lat, c.lng, c.closed_at FROM cases c WHERE c.category = ? \
             AND c.near_square IN (?, ?, ?, ?) AND c.created_at >= ? \
             AND c.lat BETWEEN ? AND ? AND c.lng BETWEEN ? AND ? \
             AND {status_sql} ORDER BY c.created_at LIMIT 20"
        )
    } else {
        format!(
            "SELECT c.id, c.lat, c.lng, c.closed_at FROM cases c WHERE c.category = ? AND c.created_at >= ? \
             AND c.lat BETWEEN ? AND ? AND c.lng BETWEEN ? AND ? \
             AND {status_sql} ORDER BY c.created_at LIMIT 20"
        )
    };
    params.extend(box_params);
    params.extend(status_params.iter().cloned());
    let rows = db.execute(&sql, &params).await?;
    let mut found = Vec::new();
    for r in rows.iter() {
        // The box is a pre-filter; keep those truly within the radius.
        let dy = (r.f64("lat")? - point.lat) * 110_574.0;
        let dx = (r.f64("lng")? - point.lng) * 111_320.0 * point.lat.to_radians().cos();
        if (dx * dx + dy * dy).sqrt() <= radius {
            found.push((r.text("id")?, r.opt_i64("closed_at")?.unwrap_or(0)));
        }
    }
    Ok(found)
}

/// A new case and its first event, and `also` in the same transaction with the new case's id:
/// a link that must exist exactly when the case does (a platform's external id, an Open311
/// request). An error from `also` rolls the case back. Returns the case as its insert stored
/// it (its `RETURNING` row: no read after the commit), and the reporter's one-time secret (only
/// its hash is stored). An `also` that moves the case reads it again itself.
pub async fn create_with<D: Database>(
    db: &D,
    report: &Report,
    category: &Category,
    cell: &CellMatch,
    reporter: &Reporter,
    now: i64,
    also: impl AsyncFnOnce(String) -> Result<(), Problem>,
) -> Result<(Case, String), Problem> {
    let id = ulid::Ulid::from_parts(now as u64, rand::random()).to_string();
    let secret: String = crate::crypto::random_hex(16);
    let duplicates = nearby_open(db, category, report.point, now).await?;
    // Every parameter is worked out before the write transaction: inside it, only the writes.
    const TRACKING: usize = 1;
    const PUBLIC_ID: usize = 20;
    let public =
        report.public && crate::case::publication::may_publish(report.channel, &category.kind);
    let mut case_row: Vec<Value> = vec![
        id.as_str().into(),
        Value::Null, // the tracking code, drawn for each attempt
        secret_hash(&secret).into(),
        category.code.as_str().into(),
        report.description.as_str().into(),
        report.point.lat.into(),
        report.point.lng.into(),
        report.crs_given.as_str().into(),
        report.address.clone().into(),
        cell.cell.code.as_str().into(),
        Status::Collected.as_str().into(),
        report.channel.as_str().into(),
        report.asset_id.clone().into(),
        report.contact_name.clone().into(),
        report.contact_phone.clone().into(),
        category.priority.into(),
        (!duplicates.is_empty())
            .then(|| serde_json::to_string(&duplicates).unwrap_or_default())
            .into(),
        reporter.kind.as_str().into(),
        reporter.id.clone().into(),
        i64::from(public).into(),
        Value::Null, // the public id of a public case, drawn for each attempt
        now.into(),
        now.into(),
        near_square(report.point).into(),
    ];
    let details = json!({
        "grid": cell.cell.code, "match": cell.kind, "distance_m": cell.distance_m,
        "probable_duplicates": duplicates,
    });
    let (role, actor) = match reporter.kind {
        ReporterKind::GridWorker => (Role::GridWorker, reporter.id.clone().unwrap_or_default()),
        // A citizen's report relayed by another system: the trail names the system.
        ReporterKind::Platform | ReporterKind::Open311 => (
            Role::Citizen,
            reporter.id.clone().unwrap_or_else(|| "citizen".to_owned()),
        ),
        ReporterKind::Citizen => (Role::Citizen, "citizen".to_owned()),
    };
    let first_event: [Value; 10] = [
        id.as_str().into(),
        1.into(),
        "reported".into(),
        Value::Null,
        Status::Collected.as_str().into(),
        role.as_str().into(),
        actor.into(),
        report.channel.as_str().into(),
        details.to_string().into(),
        now.into(),
    ];
    let case = in_transaction(db, async {
        // A tracking-code or public-id collision (40 and 50 random bits) is retried, not
        // surfaced: the insert itself says whether the codes were free, so the transaction
        // holds only writes.
        let mut inserted = None;
        for _ in 0..4 {
            case_row[TRACKING] = TrackingCode::random().as_str().into();
            if public {
                case_row[PUBLIC_ID] = PublicId::random().as_str().into();
            }
            let rows = db.execute(INSERT_CASE, &case_row).await?;
            if let Some(row) = rows.first() {
                inserted = Some(case_of(row)?);
                break;
            }
        }
        let Some(case) = inserted else {
            return Err(Problem::internal());
        };
        db.execute(INSERT_EVENT, &first_event).await?;
        also(id.clone()).await?;
        Ok(case)
    })
    .await?;
    Ok((case, secret))
}

pub async fn by_id<D: Database>(db: &D, id: &str) -> Result<Option<Case>, StoreError> {
    let rows = db
        .execute(
            &format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.id = ?"),
            &[id.into()],
        )
        .await?;
    rows.first().map(case_of).transpose()
}

/// The ids of a cell's cases of one category received since `since` (ms), oldest first, at most
/// `limit`: read through the cell's index, so it costs that cell's cases, never the city's (an
/// alert's evidence when it is raised).
pub async fn in_cell_since<D: Database>(
    db: &D,
    grid_code: &str,
    category: &str,
    since: i64,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let rows = db
        .execute(
            "SELECT id FROM cases INDEXED BY cases_by_grid WHERE grid_code = ? AND category = ? \
             AND created_at >= ? ORDER BY created_at, id LIMIT ?",
            &[
                grid_code.into(),
                category.into(),
                since.into(),
                (limit as i64).into(),
            ],
        )
        .await?;
    rows.iter().map(|r| r.text("id")).collect()
}

pub async fn by_tracking_code<D: Database>(db: &D, code: &str) -> Result<Option<Case>, StoreError> {
    let rows = db
        .execute(
            &format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.tracking_code = ?"),
            &[code.into()],
        )
        .await?;
    rows.first().map(case_of).transpose()
}

pub async fn events<D: Database>(db: &D, case_id: &str) -> Result<Vec<Event>, StoreError> {
    let rows = db.execute(EVENTS_OF, &[case_id.into()]).await?;
    rows.iter().map(event_of).collect()
}

/// The step clock after a move: a new step's deadline from the category's hours, an extension
/// added to the running deadline, a recomputed deadline after a correction, or no step.
async fn next_clock<D: Database>(
    db: &D,
    case: &Case,
    mv: Move,
    to: Status,
    input: &MoveInput,
    now: i64,
) -> Result<Clock, Problem> {
    let keep = Clock {
        step: case.step,
        started: case.step_started_ms,
        deadline: case.step_deadline_ms,
        next_check: case.step_deadline_ms.filter(|d| *d > now && !case.overdue),
        overdue: case.overdue,
    };
    let hours_of = async |code: &str, step: Step| -> Result<f64, Problem> {
        if let Some(category) = input.step_hours.as_ref().filter(|c| c.code == code) {
            return Ok(hours_for(category, step));
        }
        let category = crate::directory::category(db, code)
            .await?
            .ok_or_else(Problem::internal)?;
        Ok(hours_for(&category, step))
    };
    Ok(match clock_change(mv, to) {
        ClockChange::Start(step) => {
            let due = deadline(now, hours_of(&case.category, step).await?);
            Clock {
                step: Some(step),
                started: Some(now),
                deadline: Some(due),
                next_check: Some(due),
                overdue: false,
            }
        }
        ClockChange::Extend(_) => {
            // The hours granted: the operator's, else those the department asked for.
            let hours = match input.hours {
                Some(h) => h,
                None => requested_extension_hours(db, &case.id)
                    .await?
                    .unwrap_or(0.0),
            };
            match case.step_deadline_ms {
                Some(old) => {
                    let due = deadline(old, hours);
                    Clock {
                        deadline: Some(due),
                        next_check: Some(due.max(now)),
                        overdue: due < now,
                        ..keep
                    }
                }
                None => keep,
            }
        }
        ClockChange::Recompute => match (case.step, case.step_started_ms) {
            (Some(step), Some(started)) => {
                let category = input.category.as_deref().unwrap_or(&case.category);
                let due = deadline(started, hours_of(category, step).await?);
                Clock {
                    deadline: Some(due),
                    next_check: Some(due.max(now)),
                    overdue: due < now,
                    ..keep
                }
            }
            _ => keep,
        },
        ClockChange::Stop => Clock::default(),
        ClockChange::Keep => keep,
    })
}

async fn requested_extension_hours<D: Database>(
    db: &D,
    case_id: &str,
) -> Result<Option<f64>, StoreError> {
    let rows = db
        .execute(
            "SELECT details FROM case_events WHERE case_id = ? AND type = 'request_extension' ORDER BY seq DESC LIMIT 1",
            &[case_id.into()],
        )
        .await?;
    Ok(rows
        .first()
        .map(|r| r.text("details"))
        .transpose()?
        .and_then(|d| serde_json::from_str::<Json>(&d).ok())
        .and_then(|d| d.get("hours").and_then(Json::as_f64)))
}

/// Event types that are part of the staff audit trail only, never of the public timeline.
pub const PRIVATE_EVENTS: [&str; 3] = [REVEAL_EVENT, PURGE_EVENT, PUBLICATION_EVENT];
pub const REVEAL_EVENT: &str = "reveal_contact";
pub const PURGE_EVENT: &str = "purge_personal_data";
/// Staff set what public answers show of the case (whether it is public, which photos).
pub const PUBLICATION_EVENT: &str = "publication";

/// What a change does to a case besides appending its event to the trail.
pub enum Change<'a> {
    /// A move of the state machine, with the step clock it leads to ([`apply_move`] computes it),
    /// and for a dispatch the helper departments beside the lead.
    Move {
        mv: Move,
        input: &'a MoveInput,
        clock: Clock,
        helpers: &'a [String],
    },
    /// Something happened that moves no status: a late status, a platform's note, a staff
    /// member's look at the personal data. `kind` is the event's type.
    Note { kind: &'a str },
    /// The running step is overdue: the case is marked so and goes to `level`, looked at again at
    /// `next_check_at` (never, once at the city level). `moves_up` is false when it is at the
    /// city level already, which keeps the time it got there.
    Escalate {
        level: &'static str,
        next_check_at: Option<i64>,
        moves_up: bool,
    },
    /// Whether the case shows on public answers (an operator's decision, within the reporter's
    /// choice: a case without a public id never does).
    Publication { public: bool },
    /// Retention: the contact data goes; the free text stays, masked: the description, the
    /// address, the rating's comment, and what people wrote in the trail (`trail`: each
    /// event's seq and its details as masked).
    Purge {
        description: String,
        address: Option<String>,
        rating_comment: Option<String>,
        trail: Vec<(i64, Json)>,
    },
}

/// Why a change was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Somebody changed the case since the caller read it (its `event_count` moved on).
    #[error("the case changed meanwhile; read it again and retry")]
    Changed,
    #[error(transparent)]
    Move(#[from] crate::case::MoveError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<WriteError> for Problem {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Changed => Problem::conflict(err.to_string()),
            WriteError::Move(e) => e.into(),
            WriteError::Store(e) => e.into(),
        }
    }
}

// Every write of a case row carries the version the caller read (`event_count`) and moves it on:
// a change only lands if nobody changed the case meanwhile.
const UPDATE_STATUS: &str = "UPDATE cases SET status = ?, department = COALESCE(?, department), \
     parent_id = COALESCE(?, parent_id), step = ?, step_started_at = ?, step_deadline_at = ?, \
     next_check_at = ?, overdue = ?, closed_at = COALESCE(?, closed_at), \
     rating = COALESCE(?, rating), rating_comment = COALESCE(?, rating_comment), \
     event_count = event_count + 1, updated_at = ? WHERE id = ? AND event_count = ? RETURNING event_count";
const BUMP_EVENT_COUNT: &str = "UPDATE cases SET event_count = event_count + 1, updated_at = ? \
     WHERE id = ? AND event_count = ? RETURNING event_count";
// `next_check_at <= now` too: of two sweeps at once, the second finds it moved on.
const ESCALATE: &str = "UPDATE cases SET overdue = 1, escalation_level = ?, \
     escalated_at = CASE WHEN ? THEN ? ELSE escalated_at END, next_check_at = ?, \
     event_count = event_count + 1, updated_at = ? \
     WHERE id = ? AND event_count = ? AND next_check_at <= ? RETURNING event_count";
const PURGE: &str = "UPDATE cases SET contact_name = NULL, contact_phone = NULL, description = ?, \
     address = ?, rating_comment = ?, purged_at = ?, event_count = event_count + 1 \
     WHERE id = ? AND event_count = ? AND purged_at IS NULL RETURNING event_count";
// A correction's category brings its priority.
const CORRECT: &str = "UPDATE cases SET category = COALESCE(?, category), \
     priority = COALESCE((SELECT priority FROM categories WHERE code = ?), priority), \
     lat = COALESCE(?, lat), lng = COALESCE(?, lng), grid_code = COALESCE(?, grid_code) WHERE id = ?";
const SET_PUBLIC: &str = "UPDATE cases SET public = ?, event_count = event_count + 1, updated_at = ? \
     WHERE id = ? AND event_count = ? AND (? = 0 OR public_id IS NOT NULL) RETURNING event_count";
const PURGE_REVIEW: &str = "UPDATE reviews SET comment = ? WHERE case_id = ?";
// The one change to a past event: retention masks what people wrote in it.
const PURGE_EVENT_DETAILS: &str =
    "UPDATE case_events SET details = ? WHERE case_id = ? AND seq = ?";
const OPEN_REVIEW: &str =
    "INSERT INTO reviews (case_id, opened_at, comment) VALUES (?, ?, ?) ON CONFLICT DO NOTHING";

/// The one writer of cases and their trail: every change of a case row goes through here, lands
/// only on the version the caller read, and appends its event (who, when, from which channel,
/// what). Call inside a transaction. Returns the event's sequence number.
pub async fn write<D: Database>(
    db: &D,
    case: &Case,
    change: Change<'_>,
    actor: &Actor,
    mut details: Json,
    now: i64,
) -> Result<i64, WriteError> {
    let from = case.status;
    let version = Value::from(case.event_count);
    let id = Value::from(case.id.as_str());
    let (kind, to, rows) = match change {
        Change::Move {
            mv,
            input,
            clock,
            helpers,
        } => {
            let to = from.apply(mv, actor.role, input)?;
            let department = (mv == Move::Dispatch)
                .then(|| input.department.clone())
                .flatten();
            let parent = (mv == Move::Merge).then(|| input.parent.clone()).flatten();
            let closed_at = (to == Status::Closed).then_some(now);
            let rating = input.rating.as_ref();
            let rows = db
                .execute(
                    UPDATE_STATUS,
                    &[
                        to.as_str().into(),
                        department.clone().into(),
                        parent.into(),
                        clock.step.map(|s| s.as_str()).into(),
                        clock.started.into(),
                        clock.deadline.into(),
                        clock.next_check.into(),
                        i64::from(clock.overdue).into(),
                        closed_at.into(),
                        rating.map(|r| r.rating.as_str()).into(),
                        rating.and_then(|r| r.comment.clone()).into(),
                        now.into(),
                        id.clone(),
                        version,
                    ],
                )
                .await?;
            if let Some(lead) = &department {
                set_departments(db, &case.id, lead, helpers).await?;
            }
            if mv == Move::Correct && !rows.is_empty() {
                let point = input.point;
                db.execute(
                    CORRECT,
                    &[
                        input.category.clone().into(),
                        input.category.clone().into(),
                        point.map(|p| p.lat).into(),
                        point.map(|p| p.lng).into(),
                        input.grid_code.clone().into(),
                        id.clone(),
                    ],
                )
                .await?;
            }
            if let Some(r) = rating.filter(|r| r.is_unsatisfied()) {
                db.execute(
                    OPEN_REVIEW,
                    &[id.clone(), now.into(), r.comment.clone().into()],
                )
                .await?;
            }
            if let Json::Object(map) = &mut details {
                for (key, value) in [
                    ("reason", &input.reason),
                    ("note", &input.note),
                    ("parent", &input.parent),
                    ("department", &input.department),
                ] {
                    if let Some(v) = value {
                        map.insert(key.into(), json!(v));
                    }
                }
                if let Some(h) = input.hours {
                    map.insert("hours".into(), json!(h));
                }
                if let Some(d) = clock.deadline.filter(|_| clock.started.is_some()) {
                    map.insert("deadline".into(), json!(rfc3339(d)));
                }
            }
            (mv.as_str(), to, rows)
        }
        Change::Note { kind } => {
            let rows = db
                .execute(BUMP_EVENT_COUNT, &[now.into(), id.clone(), version])
                .await?;
            (kind, from, rows)
        }
        Change::Publication { public } => {
            let flag = Value::from(i64::from(public));
            let rows = db
                .execute(
                    SET_PUBLIC,
                    &[flag.clone(), now.into(), id.clone(), version, flag],
                )
                .await?;
            (PUBLICATION_EVENT, from, rows)
        }
        Change::Escalate {
            level,
            next_check_at,
            moves_up,
        } => {
            let rows = db
                .execute(
                    ESCALATE,
                    &[
                        level.into(),
                        i64::from(moves_up).into(),
                        now.into(),
                        next_check_at.into(),
                        now.into(),
                        id.clone(),
                        version,
                        now.into(),
                    ],
                )
                .await?;
            ("escalate", from, rows)
        }
        Change::Purge {
            description,
            address,
            rating_comment,
            trail,
        } => {
            let rows = db
                .execute(
                    PURGE,
                    &[
                        description.into(),
                        address.into(),
                        rating_comment.clone().into(),
                        now.into(),
                        id.clone(),
                        version,
                    ],
                )
                .await?;
            if !rows.is_empty() {
                db.execute(PURGE_REVIEW, &[rating_comment.into(), id.clone()])
                    .await?;
                for (seq, details) in trail {
                    db.execute(
                        PURGE_EVENT_DETAILS,
                        &[details.to_string().into(), id.clone(), seq.into()],
                    )
                    .await?;
                }
            }
            (PURGE_EVENT, from, rows)
        }
    };
    let Some(row) = rows.first() else {
        return Err(WriteError::Changed);
    };
    let seq = row.i64("event_count")?;
    db.execute(
        INSERT_EVENT,
        &[
            id,
            seq.into(),
            kind.into(),
            from.as_str().into(),
            to.as_str().into(),
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

/// A move of the state machine: the step clock it leads to is worked out (from the category's
/// hours, or the extension asked for), then [`write`]. Call inside a transaction. Returns the
/// case after the move and the event's sequence number.
pub async fn apply_move<D: Database>(
    db: &D,
    case: &Case,
    mv: Move,
    actor: &Actor,
    input: &MoveInput,
    details: Json,
    now: i64,
) -> Result<(Case, i64), Problem> {
    let to = case.status.apply(mv, actor.role, input)?;
    let clock = next_clock(db, case, mv, to, input, now).await?;
    let change = Change::Move {
        mv,
        input,
        clock,
        helpers: &input.helpers,
    };
    let seq = write(db, case, change, actor, details, now).await?;
    let after = by_id(db, &case.id).await?.ok_or_else(Problem::internal)?;
    Ok((after, seq))
}

/// Records what happened to a case without moving it (a late status, a platform's note): the
/// same append-only trail, with `from_status` = `to_status`. Call inside a transaction.
/// Returns the event's sequence number.
pub async fn record_event<D: Database>(
    db: &D,
    case: &Case,
    kind: &str,
    actor: &Actor,
    details: Json,
    now: i64,
) -> Result<i64, Problem> {
    Ok(write(db, case, Change::Note { kind }, actor, details, now).await?)
}

/// When the case's status last changed, in the time of whoever changed it: the `occurred_at`
/// a department or platform gave with its move, else our clock. An older status never
/// overrides a newer one: callers compare against this.
pub async fn status_changed_at<D: Database>(
    db: &D,
    case_id: &str,
) -> Result<Option<i64>, StoreError> {
    let rows = db
        .execute(
            "SELECT details, at FROM case_events WHERE case_id = ? AND from_status IS NOT NULL AND from_status != to_status \
             ORDER BY seq DESC LIMIT 1",
            &[case_id.into()],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let given = serde_json::from_str::<Json>(&row.text("details")?)
        .ok()
        .and_then(|d| {
            d.get("occurred_at")
                .and_then(Json::as_str)
                .and_then(|t| crate::time::parse(t, 0))
        });
    Ok(Some(given.unwrap_or(row.i64("at")?)))
}

/// Records the lead department and the helpers of a dispatch (replacing an earlier dispatch's).
async fn set_departments<D: Database>(
    db: &D,
    case_id: &str,
    lead: &str,
    helpers: &[String],
) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM case_departments WHERE case_id = ?",
        &[case_id.into()],
    )
    .await?;
    db.execute(
        "INSERT INTO case_departments (case_id, department, role) VALUES (?, ?, 'lead')",
        &[case_id.into(), lead.into()],
    )
    .await?;
    for h in helpers.iter().filter(|h| h.as_str() != lead) {
        db.execute(
            "INSERT INTO case_departments (case_id, department, role) VALUES (?, ?, 'helper') ON CONFLICT DO NOTHING",
            &[case_id.into(), h.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

/// One entry of the public timeline: what happened, never who (beyond the kind of actor).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PublicEvent {
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub at: String,
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl From<&Event> for PublicEvent {
    fn from(e: &Event) -> Self {
        // Departments' notes and reasons are public by design (the citizen should read what
        // was done); operators' internal details are not copied.
        let note = ["note", "reason"]
            .iter()
            .find_map(|k| e.details.get(*k).and_then(Json::as_str))
            .map(str::to_owned);
        PublicEvent {
            seq: e.seq,
            kind: e.kind.clone(),
            status: e.status.clone(),
            at: e.at.clone(),
            channel: e.channel.clone(),
            note,
        }
    }
}

/// Filters of the case queue.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub status: Option<Status>,
    pub light: Option<crate::case::clock::Light>,
    /// The escalation level: street, district or city.
    pub level: Option<String>,
    /// A grid code prefix: district, street, community or cell.
    pub area: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
}

/// A page of cases, newest first, within `scope` (a SQL condition on alias `c` and its
/// parameters, from the principal); `after` is the cursor `created_at:id`.
pub async fn list<D: Database>(
    db: &D,
    scope: (String, Vec<Value>),
    filter: &CaseFilter,
    now: i64,
    limit: i64,
    after: Option<(i64, String)>,
) -> Result<(Vec<Case>, Option<String>), StoreError> {
    let (scope_sql, mut params) = scope;
    let mut sql = format!(
        "SELECT {CASE_COLUMNS}, c.created_at AS created_ms FROM cases c WHERE ({scope_sql})"
    );
    if let Some(s) = filter.status {
        sql.push_str(" AND c.status = ?");
        params.push(s.as_str().into());
    }
    if let Some(light) = filter.light {
        let (cond, p) = crate::case::clock::light_filter(light, now);
        sql.push_str(&format!(" AND c.step_deadline_at IS NOT NULL AND {cond}"));
        params.extend(p);
    }
    if let Some(level) = &filter.level {
        sql.push_str(" AND c.escalation_level = ?");
        params.push(level.as_str().into());
    }
    if let Some(area) = &filter.area {
        sql.push_str(" AND c.grid_code >= ? AND c.grid_code < ?");
        params.extend([area.as_str().into(), format!("{area}~").into()]);
    }
    if let Some(category) = &filter.category {
        sql.push_str(" AND c.category = ?");
        params.push(category.as_str().into());
    }
    if let Some(department) = &filter.department {
        sql.push_str(" AND c.department = ?");
        params.push(department.as_str().into());
    }
    if let Some((at, id)) = after {
        sql.push_str(" AND (c.created_at < ? OR (c.created_at = ? AND c.id < ?))");
        params.extend([at.into(), at.into(), id.into()]);
    }
    sql.push_str(" ORDER BY c.created_at DESC, c.id DESC LIMIT ?");
    params.push((limit + 1).into());
    let rows = db.execute(&sql, &params).await?;
    let mut cases = Vec::new();
    let mut cursor = None;
    for (i, r) in rows.iter().enumerate() {
        if i as i64 == limit {
            break;
        }
        cursor = Some(format!("{}:{}", r.i64("created_ms")?, r.text("id")?));
        cases.push(case_of(r)?);
    }
    let next = if rows.rows.len() as i64 > limit {
        cursor
    } else {
        None
    };
    Ok((cases, next))
}
