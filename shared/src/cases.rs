//! Cases and their audit trail in SQLite. A case changes only through [`apply_move`], which runs
//! the state machine and appends the event in the caller's transaction; the event log is
//! append-only and replays to the case's status. Contact data is stored here and leaves only
//! through the operator view.

use serde::Serialize;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use crate::case::{Move, MoveInput, Role, Status};
use crate::directory::Category;
use crate::grid::CellMatch;
use crate::model::{Channel, Report, TrackingCode};
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub status: String,
    pub channel: String,
    pub asset_id: Option<String>,
    pub department: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub event_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
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

const CASE_COLUMNS: &str = "id, tracking_code, category, description, lat, lng, crs_given, address, grid_code, \
     status, channel, asset_id, department, contact_name, contact_phone, event_count, created_at, updated_at";

const INSERT_CASE: &str = "INSERT INTO cases (id, tracking_code, secret_hash, category, description, lat, lng, \
     crs_given, address, grid_code, status, channel, asset_id, contact_name, contact_phone, event_count, \
     created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)";
const INSERT_EVENT: &str = "INSERT INTO case_events (case_id, seq, type, from_status, to_status, actor_role, \
     actor, channel, details, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
// Optimistic: the update only lands if nobody moved the case since we read it.
const UPDATE_STATUS: &str = "UPDATE cases SET status = ?, department = COALESCE(?, department), \
     event_count = event_count + 1, updated_at = ? WHERE id = ? AND event_count = ?";
const EVENTS_OF: &str = "SELECT seq, type, from_status, to_status, actor_role, actor, channel, details, at \
     FROM case_events WHERE case_id = ? ORDER BY seq";

/// RFC 3339 UTC with milliseconds, from Unix milliseconds. Civil-from-days after Howard Hinnant's
/// public-domain algorithm, so that no date crate is needed in the components for this one format.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn case_of(r: Row<'_>) -> Result<Case, StoreError> {
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
        status: r.text("status")?,
        channel: r.text("channel")?,
        asset_id: r.opt_text("asset_id")?,
        department: r.opt_text("department")?,
        contact_name: r.opt_text("contact_name")?,
        contact_phone: r.opt_text("contact_phone")?,
        event_count: r.i64("event_count")?,
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

pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `work` inside `BEGIN IMMEDIATE … COMMIT`, rolling back on any error.
pub async fn in_transaction<D: Database, T>(
    db: &D,
    work: impl Future<Output = Result<T, Problem>>,
) -> Result<T, Problem> {
    db.execute("BEGIN IMMEDIATE", &[]).await?;
    match work.await {
        Ok(value) => {
            db.execute("COMMIT", &[]).await?;
            Ok(value)
        }
        Err(e) => {
            let _ = db.execute("ROLLBACK", &[]).await;
            Err(e)
        }
    }
}

/// A new case and its first event, in one transaction. Returns the case and the reporter's
/// one-time secret (only its hash is stored).
pub async fn create<D: Database>(
    db: &D,
    report: &Report,
    category: &Category,
    cell: &CellMatch,
    now: i64,
) -> Result<(Case, String), Problem> {
    let id = ulid::Ulid::from_parts(now as u64, rand::random()).to_string();
    let secret: String = (0..16).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
    in_transaction(db, async {
        // A tracking-code collision (40 random bits) is retried, not surfaced.
        let mut tracking = TrackingCode::random();
        for _ in 0..3 {
            let taken = db
                .execute("SELECT 1 AS x FROM cases WHERE tracking_code = ?", &[tracking.as_str().into()])
                .await?;
            if taken.is_empty() {
                break;
            }
            tracking = TrackingCode::random();
        }
        db.execute(
            INSERT_CASE,
            &[
                id.as_str().into(),
                tracking.as_str().into(),
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
                now.into(),
                now.into(),
            ],
        )
        .await?;
        let details = json!({"grid": cell.cell.code, "match": cell.kind, "distance_m": cell.distance_m});
        db.execute(
            INSERT_EVENT,
            &[
                id.as_str().into(),
                1.into(),
                "reported".into(),
                Value::Null,
                Status::Collected.as_str().into(),
                Role::Citizen.as_str().into(),
                "citizen".into(),
                report.channel.as_str().into(),
                details.to_string().into(),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    })
    .await?;
    let case = by_id(db, &id).await?.ok_or_else(Problem::internal)?;
    Ok((case, secret))
}

pub async fn by_id<D: Database>(db: &D, id: &str) -> Result<Option<Case>, StoreError> {
    let rows = db.execute(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ?"), &[id.into()]).await?;
    rows.first().map(case_of).transpose()
}

pub async fn by_tracking_code<D: Database>(db: &D, code: &str) -> Result<Option<Case>, StoreError> {
    let rows = db
        .execute(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE tracking_code = ?"), &[code.into()])
        .await?;
    rows.first().map(case_of).transpose()
}

pub async fn events<D: Database>(db: &D, case_id: &str) -> Result<Vec<Event>, StoreError> {
    let rows = db.execute(EVENTS_OF, &[case_id.into()]).await?;
    rows.iter().map(event_of).collect()
}

/// The one way to change a case: the state machine decides, the event is appended, and the
/// update only lands if the case did not move meanwhile. Call inside a transaction.
/// Returns the case after the move and the event's sequence number.
pub async fn apply_move<D: Database>(
    db: &D,
    case: &Case,
    mv: Move,
    actor: &Actor,
    input: &MoveInput,
    mut details: Json,
    now: i64,
) -> Result<(Case, i64), Problem> {
    let from = Status::parse(&case.status).ok_or_else(Problem::internal)?;
    let to = from.apply(mv, actor.role, input)?;
    let department = (mv == Move::Dispatch).then(|| input.department.clone()).flatten();
    let updated = db
        .execute(
            &format!("{UPDATE_STATUS} RETURNING event_count"),
            &[
                to.as_str().into(),
                department.into(),
                now.into(),
                case.id.as_str().into(),
                case.event_count.into(),
            ],
        )
        .await?;
    let Some(row) = updated.first() else {
        return Err(Problem::conflict("the case changed meanwhile; read it again and retry"));
    };
    let seq = row.i64("event_count")?;
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
    }
    db.execute(
        INSERT_EVENT,
        &[
            case.id.as_str().into(),
            seq.into(),
            mv.as_str().into(),
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
    let after = by_id(db, &case.id).await?.ok_or_else(Problem::internal)?;
    Ok((after, seq))
}

/// One entry of the public timeline: what happened, never who (beyond the kind of actor).
#[derive(Debug, Clone, Serialize)]
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

/// A page of cases for operators, newest first; `after` is the cursor `created_at:id`.
pub async fn list<D: Database>(
    db: &D,
    status: Option<Status>,
    limit: i64,
    after: Option<(i64, String)>,
) -> Result<(Vec<Case>, Option<String>), StoreError> {
    let mut sql = format!("SELECT {CASE_COLUMNS}, created_at AS created_ms FROM cases WHERE 1 = 1");
    let mut params: Vec<Value> = Vec::new();
    if let Some(s) = status {
        sql.push_str(" AND status = ?");
        params.push(s.as_str().into());
    }
    if let Some((at, id)) = after {
        sql.push_str(" AND (created_at < ? OR (created_at = ? AND id < ?))");
        params.extend([at.into(), at.into(), id.into()]);
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
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
    let next = if rows.rows.len() as i64 > limit { cursor } else { None };
    Ok((cases, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(rfc3339(1_735_689_600_000), "2025-01-01T00:00:00.000Z");
    }
}
