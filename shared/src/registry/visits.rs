//! The grid worker's day (近邻串门): visits to households — emotional (情感式), routine drop-ins
//! (串门式) and targeted by household type (分类式) — each with its times and what was found,
//! and each cell's three lists (需求清单、民情清单、资源清单) that the findings add to. A finding
//! that needs handling opens a case (`app::visit`), the visit being its origin.
//!
//! A visit comes from the worker's phone, often after a day offline: it carries the device's
//! idempotency key, unique per worker, so that a sync sent twice is stored once and the second
//! answer is the first one.

use serde::{Deserialize, Serialize};

use super::valid_id;
use crate::access::principal::Principal;
use crate::grid::code::{GridCode, Level};
use crate::http::problem::FieldError;
use crate::{Database, Problem, StoreError, Value, mask, time};

/// The daily target of visit time a grid worker keeps (two hours).
pub const DAILY_TARGET_MINUTES: i64 = 120;
/// The longest one visit may last.
pub const VISIT_MAX_MINUTES: i64 = 12 * 60;
/// How long after a visit its sync is still taken (a phone offline for a long holiday).
pub const SYNC_WINDOW_DAYS: i64 = 30;
const FINDINGS_MAX: usize = 20;
const NOTES_MAX: usize = 2000;
const TITLE_MAX: usize = 100;
const DETAIL_MAX: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// 情感式: a visit of care, to someone who lives alone or is in hardship.
    Emotional,
    /// 串门式: the routine drop-in.
    Routine,
    /// 分类式: targeted by household type (the tags marked `targeted`).
    Targeted,
}

impl VisitKind {
    pub const ALL: [VisitKind; 3] = [
        VisitKind::Emotional,
        VisitKind::Routine,
        VisitKind::Targeted,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::Emotional => "emotional",
            VisitKind::Routine => "routine",
            VisitKind::Targeted => "targeted",
        }
    }
    pub fn parse(s: &str) -> Option<VisitKind> {
        VisitKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Which of a cell's three lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// 需求清单: what residents need (a ramp, a visit by a doctor).
    Needs,
    /// 民情清单: what residents are concerned about, before it becomes a dispute.
    Concerns,
    /// 资源清单: what the cell can call on (a volunteer, a hall, a retired lawyer).
    Resources,
}

impl ListKind {
    pub const ALL: [ListKind; 3] = [ListKind::Needs, ListKind::Concerns, ListKind::Resources];
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Needs => "needs",
            ListKind::Concerns => "concerns",
            ListKind::Resources => "resources",
        }
    }
    pub fn parse(s: &str) -> Option<ListKind> {
        ListKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Open,
    InProgress,
    Met,
}

impl ItemState {
    pub const ALL: [ItemState; 3] = [ItemState::Open, ItemState::InProgress, ItemState::Met];
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Open => "open",
            ItemState::InProgress => "in_progress",
            ItemState::Met => "met",
        }
    }
    pub fn parse(s: &str) -> Option<ItemState> {
        ItemState::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A finding of a visit that goes on a list.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingInput {
    /// `needs`, `concerns` or `resources`.
    pub list: String,
    pub title: String,
    #[serde(default)]
    pub detail: String,
}

/// A finding that needs handling: a case, opened at the household's address (or the point).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFinding {
    pub category: String,
    pub description: String,
    /// Where, when the visit has no household (WGS-84).
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
}

/// One visit of `POST /api/registry/visits`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitInput {
    /// The device's key for this visit (8 to 64 of A-Z, a-z, 0-9, `-`, `_`): a second sync
    /// with the same key answers the first one's visit.
    pub key: String,
    /// The household visited; without one, `grid_code` says which cell.
    #[serde(default)]
    pub household_id: Option<String>,
    #[serde(default)]
    pub grid_code: Option<String>,
    /// `emotional` (情感式), `routine` (串门式) or `targeted` (分类式).
    pub kind: String,
    /// RFC 3339; a time without an offset is the city's (UTC+8).
    pub started_at: String,
    pub ended_at: String,
    /// What was found, in the worker's words (masked in every answer but the reveal).
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub findings: Vec<FindingInput>,
    #[serde(default)]
    pub case: Option<CaseFinding>,
}

/// A visit checked and placed, ready to store.
pub struct CheckedVisit {
    pub key: String,
    pub grid_code: String,
    pub household_id: Option<String>,
    pub kind: VisitKind,
    pub started_at: i64,
    pub ended_at: i64,
    pub notes: String,
    pub findings: Vec<(ListKind, String, String)>,
    pub case: Option<CaseFinding>,
    /// The household's address point, where a case finding is placed by default.
    pub address_point: Option<(f64, f64)>,
}

fn valid_key(key: &str) -> bool {
    (8..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn bounded(
    value: &str,
    field: &str,
    min: usize,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let v = value.trim();
    let n = v.chars().count();
    if n < min || n > max {
        errors.push(FieldError::new(field, format!("{min} to {max} characters")));
    }
    v.to_owned()
}

/// Checks a visit: its fields, its times (ended after started, at most 12 hours, not in the
/// future, not older than the sync window), its household and that the worker covers its cell.
pub async fn check<D: Database>(
    db: &D,
    who: &Principal,
    input: &VisitInput,
    now: i64,
) -> Result<CheckedVisit, Problem> {
    let mut errors = Vec::new();
    if !valid_key(&input.key) {
        errors.push(FieldError::new(
            "key",
            "8 to 64 of A-Z, a-z, 0-9, - and _ (the device's key for this visit)",
        ));
    }
    let kind = VisitKind::parse(&input.kind);
    if kind.is_none() {
        errors.push(
            FieldError::new("kind", "one of emotional, routine, targeted").with_code("one_of"),
        );
    }
    let time_of = |value: &str, field: &str, errors: &mut Vec<FieldError>| {
        let t = time::parse(value, time::CITY_UTC_OFFSET_MINUTES);
        if t.is_none() {
            errors.push(FieldError::new(
                field,
                "an RFC 3339 time, e.g. 2026-12-04T09:30:00+08:00",
            ));
        }
        t
    };
    let started = time_of(&input.started_at, "started_at", &mut errors);
    let ended = time_of(&input.ended_at, "ended_at", &mut errors);
    if let (Some(s), Some(e)) = (started, ended) {
        if e <= s || e - s > VISIT_MAX_MINUTES * 60_000 {
            errors.push(FieldError::new(
                "ended_at",
                format!("after started_at, at most {VISIT_MAX_MINUTES} minutes later"),
            ));
        }
        if e > now + 5 * 60_000 {
            errors.push(FieldError::new("ended_at", "not in the future"));
        }
        if s < now - SYNC_WINDOW_DAYS * time::DAY_MS {
            errors.push(FieldError::new(
                "started_at",
                format!("within the last {SYNC_WINDOW_DAYS} days"),
            ));
        }
    }
    let notes = bounded(&input.notes, "notes", 0, NOTES_MAX, &mut errors);
    if input.findings.len() > FINDINGS_MAX {
        errors.push(FieldError::new(
            "findings",
            format!("at most {FINDINGS_MAX}"),
        ));
    }
    let mut findings = Vec::new();
    for (i, f) in input.findings.iter().enumerate() {
        let at = format!("findings[{i}]");
        let list = ListKind::parse(&f.list);
        if list.is_none() {
            errors.push(FieldError::new(
                &format!("{at}.list"),
                "one of needs, concerns, resources",
            ));
        }
        let title = bounded(&f.title, &format!("{at}.title"), 1, TITLE_MAX, &mut errors);
        let detail = bounded(
            &f.detail,
            &format!("{at}.detail"),
            0,
            DETAIL_MAX,
            &mut errors,
        );
        if let Some(list) = list {
            findings.push((list, title, detail));
        }
    }
    if let Some(id) = &input.household_id
        && !valid_id(id)
    {
        errors.push(super::id_error("household_id"));
    }
    let cell_given = match input.grid_code.as_deref() {
        None => None,
        Some(code) => match GridCode::parse(code) {
            Ok(c) if c.level() == Level::Cell => Some(c),
            _ => {
                errors.push(FieldError::new("grid_code", "a cell code (15 digits)"));
                None
            }
        },
    };
    if input.household_id.is_none() && input.grid_code.is_none() {
        errors.push(FieldError::new(
            "household_id",
            "the household visited, or the cell's grid_code",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let (grid_code, address_point) = match &input.household_id {
        Some(id) => {
            let rows = db
                .execute(
                    "SELECT h.grid_code, a.lat, a.lng FROM registry_households h \
                     JOIN registry_addresses a ON a.id = h.address_id WHERE h.id = ?",
                    &[id.into()],
                )
                .await?;
            let Some(r) = rows.first() else {
                return Err(Problem::validation(vec![FieldError::new(
                    "household_id",
                    format!("no household {id} is registered"),
                )]));
            };
            (r.text("grid_code")?, Some((r.f64("lat")?, r.f64("lng")?)))
        }
        None => (cell_given.expect("checked").as_str().to_owned(), None),
    };
    if !who.covers(&grid_code) {
        return Err(Problem::forbidden(format!(
            "cell {grid_code} is not one of your cells"
        )));
    }
    Ok(CheckedVisit {
        key: input.key.clone(),
        grid_code,
        household_id: input.household_id.clone(),
        kind: kind.expect("checked"),
        started_at: started.expect("checked"),
        ended_at: ended.expect("checked"),
        notes,
        findings,
        case: input.case.clone(),
        address_point,
    })
}

/// A list item as the cell's lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ListItem {
    pub id: String,
    pub grid_code: String,
    pub list: ListKind,
    pub title: String,
    /// Masked of numbers and names, as free text is everywhere.
    pub detail: String,
    pub state: ItemState,
    pub household_id: Option<String>,
    pub visit_id: Option<String>,
    pub case_id: Option<String>,
    pub created_by: String,
    pub met_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Days since it was put on the list.
    pub age_days: i64,
}

/// A stored visit, as its sync is answered and a cell's recent visits list it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Visit {
    pub id: String,
    pub key: String,
    pub worker: String,
    pub grid_code: String,
    pub household_id: Option<String>,
    pub kind: VisitKind,
    pub started_at: String,
    pub ended_at: String,
    pub minutes: i64,
    /// Masked of numbers and names.
    pub notes: String,
    pub case_id: Option<String>,
    pub items: Vec<ListItem>,
}

fn new_id(prefix: &str, now: i64) -> String {
    format!(
        "{prefix}-{}",
        ulid::Ulid::from_parts(now as u64, rand::random())
    )
}

/// Stores a checked visit and its findings' list items (call inside the write transaction);
/// a second visit with the same worker and key is refused by the unique index (a conflict).
pub async fn store<D: Database>(
    db: &D,
    who: &Principal,
    visit: &CheckedVisit,
    case_id: Option<&str>,
    now: i64,
) -> Result<String, Problem> {
    let id = new_id("V", now);
    let minutes = (visit.ended_at - visit.started_at) / 60_000;
    db.execute(
        "INSERT INTO visits (id, worker, idempotency_key, grid_code, household_id, kind, \
         started_at, ended_at, minutes, day, notes, case_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            id.as_str().into(),
            who.id.as_str().into(),
            visit.key.as_str().into(),
            visit.grid_code.as_str().into(),
            visit.household_id.clone().into(),
            visit.kind.as_str().into(),
            visit.started_at.into(),
            visit.ended_at.into(),
            minutes.into(),
            time::city_day(visit.started_at).into(),
            visit.notes.as_str().into(),
            case_id.into(),
            now.into(),
        ],
    )
    .await
    .map_err(|e| {
        if e.0.contains("UNIQUE") {
            Problem::conflict("this visit's key was synced already")
        } else {
            e.into()
        }
    })?;
    for (list, title, detail) in &visit.findings {
        insert_item(
            db,
            &NewItem {
                grid_code: &visit.grid_code,
                list: *list,
                title,
                detail,
                household_id: visit.household_id.as_deref(),
                visit_id: Some(&id),
                // The case is the visit's (its case finding), not each list item's.
                case_id: None,
            },
            who,
            now,
        )
        .await?;
    }
    Ok(id)
}

struct NewItem<'a> {
    grid_code: &'a str,
    list: ListKind,
    title: &'a str,
    detail: &'a str,
    household_id: Option<&'a str>,
    visit_id: Option<&'a str>,
    case_id: Option<&'a str>,
}

async fn insert_item<D: Database>(
    db: &D,
    item: &NewItem<'_>,
    who: &Principal,
    now: i64,
) -> Result<String, StoreError> {
    let id = new_id("L", now);
    db.execute(
        "INSERT INTO cell_list_items (id, grid_code, list, title, detail, state, household_id, \
         visit_id, case_id, created_by, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?)",
        &[
            id.as_str().into(),
            item.grid_code.into(),
            item.list.as_str().into(),
            item.title.into(),
            item.detail.into(),
            item.household_id.into(),
            item.visit_id.into(),
            item.case_id.into(),
            who.id.as_str().into(),
            now.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

const ITEM_COLUMNS: &str = "id, grid_code, list, title, detail, state, household_id, visit_id, \
     case_id, created_by, met_by, created_at, updated_at";

fn item_of(r: &crate::ports::Row<'_>, now: i64) -> Result<ListItem, StoreError> {
    let list = r.text("list")?;
    let state = r.text("state")?;
    let created = r.i64("created_at")?;
    Ok(ListItem {
        id: r.text("id")?,
        grid_code: r.text("grid_code")?,
        list: ListKind::parse(&list).ok_or_else(|| StoreError(format!("list {list}")))?,
        title: mask::mask_free_text(&r.text("title")?),
        detail: mask::mask_free_text(&r.text("detail")?),
        state: ItemState::parse(&state).ok_or_else(|| StoreError(format!("state {state}")))?,
        household_id: r.opt_text("household_id")?,
        visit_id: r.opt_text("visit_id")?,
        case_id: r.opt_text("case_id")?,
        created_by: r.text("created_by")?,
        met_by: r.opt_text("met_by")?,
        created_at: time::rfc3339(created),
        updated_at: time::rfc3339(r.i64("updated_at")?),
        age_days: (now - created).max(0) / time::DAY_MS,
    })
}

/// The visit a worker synced with `key`, with its items; `None` when there is none.
pub async fn by_key<D: Database>(
    db: &D,
    worker: &str,
    key: &str,
    now: i64,
) -> Result<Option<Visit>, StoreError> {
    let rows = db
        .execute(
            "SELECT id, worker, idempotency_key, grid_code, household_id, kind, started_at, \
             ended_at, minutes, notes, case_id FROM visits WHERE worker = ? AND idempotency_key = ?",
            &[worker.into(), key.into()],
        )
        .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let mut visit = visit_of(&r)?;
    let items = db
        .execute(
            &format!("SELECT {ITEM_COLUMNS} FROM cell_list_items WHERE visit_id = ? ORDER BY id"),
            &[visit.id.as_str().into()],
        )
        .await?;
    visit.items = items
        .iter()
        .map(|i| item_of(&i, now))
        .collect::<Result<_, _>>()?;
    Ok(Some(visit))
}

fn visit_of(r: &crate::ports::Row<'_>) -> Result<Visit, StoreError> {
    let kind = r.text("kind")?;
    Ok(Visit {
        id: r.text("id")?,
        key: r.text("idempotency_key")?,
        worker: r.text("worker")?,
        grid_code: r.text("grid_code")?,
        household_id: r.opt_text("household_id")?,
        kind: VisitKind::parse(&kind).ok_or_else(|| StoreError(format!("visit kind {kind}")))?,
        started_at: time::rfc3339(r.i64("started_at")?),
        ended_at: time::rfc3339(r.i64("ended_at")?),
        minutes: r.i64("minutes")?,
        notes: mask::mask_free_text(&r.text("notes")?),
        case_id: r.opt_text("case_id")?,
        items: Vec::new(),
    })
}

/// A cell's most recent visits, newest first (a range of `visits_by_grid`).
pub async fn recent_visits<D: Database>(
    db: &D,
    cell: &str,
    limit: usize,
) -> Result<Vec<Visit>, StoreError> {
    let rows = db
        .execute(
            "SELECT id, worker, idempotency_key, grid_code, household_id, kind, started_at, \
             ended_at, minutes, notes, case_id FROM visits WHERE grid_code = ? \
             ORDER BY started_at DESC LIMIT ?",
            &[cell.into(), (limit as i64).into()],
        )
        .await?;
    rows.iter().map(|r| visit_of(&r)).collect()
}

/// A cell's list items, of one list and one state when asked, oldest first.
pub async fn items<D: Database>(
    db: &D,
    cell: &str,
    list: Option<ListKind>,
    state: Option<ItemState>,
    now: i64,
) -> Result<Vec<ListItem>, StoreError> {
    let mut sql = format!("SELECT {ITEM_COLUMNS} FROM cell_list_items WHERE grid_code = ?");
    let mut params: Vec<Value> = vec![cell.into()];
    if let Some(l) = list {
        sql.push_str(" AND list = ?");
        params.push(l.as_str().into());
    }
    if let Some(s) = state {
        sql.push_str(" AND state = ?");
        params.push(s.as_str().into());
    }
    sql.push_str(" ORDER BY created_at, id LIMIT 500");
    let rows = db.execute(&sql, &params).await?;
    rows.iter().map(|r| item_of(&r, now)).collect()
}

/// An item put on a list directly (not from a visit): `POST /api/registry/cells/{code}/items`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    pub list: String,
    pub title: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub household_id: Option<String>,
}

pub async fn add_item<D: Database>(
    db: &D,
    who: &Principal,
    cell: &GridCode,
    input: &ItemInput,
    now: i64,
) -> Result<ListItem, Problem> {
    let mut errors = Vec::new();
    let list = ListKind::parse(&input.list);
    if list.is_none() {
        errors.push(FieldError::new("list", "one of needs, concerns, resources"));
    }
    let title = bounded(&input.title, "title", 1, TITLE_MAX, &mut errors);
    let detail = bounded(&input.detail, "detail", 0, DETAIL_MAX, &mut errors);
    if let Some(id) = &input.household_id
        && !valid_id(id)
    {
        errors.push(super::id_error("household_id"));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    if let Some(h) = &input.household_id {
        let rows = db
            .execute(
                "SELECT grid_code FROM registry_households WHERE id = ?",
                &[h.into()],
            )
            .await?;
        if rows
            .first()
            .map(|r| r.text("grid_code"))
            .transpose()?
            .as_deref()
            != Some(cell.as_str())
        {
            return Err(Problem::validation(vec![FieldError::new(
                "household_id",
                format!("no household {h} is registered in cell {}", cell.as_str()),
            )]));
        }
    }
    let id = crate::db::in_transaction(db, async {
        Ok(insert_item(
            db,
            &NewItem {
                grid_code: cell.as_str(),
                list: list.expect("checked"),
                title: &title,
                detail: &detail,
                household_id: input.household_id.as_deref(),
                visit_id: None,
                case_id: None,
            },
            who,
            now,
        )
        .await?)
    })
    .await?;
    item(db, &id, now).await?.ok_or_else(Problem::internal)
}

pub async fn item<D: Database>(db: &D, id: &str, now: i64) -> Result<Option<ListItem>, StoreError> {
    let rows = db
        .execute(
            &format!("SELECT {ITEM_COLUMNS} FROM cell_list_items WHERE id = ?"),
            &[id.into()],
        )
        .await?;
    rows.first().map(|r| item_of(&r, now)).transpose()
}

/// `PATCH /api/registry/items/{id}`: a new state, and the case it was handed to.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    /// `open`, `in_progress` or `met`.
    pub state: String,
    #[serde(default)]
    pub case_id: Option<String>,
}

/// Moves an item to a state; `met` records who met it. `None`: no such item in scope.
pub async fn update_item<D: Database>(
    db: &D,
    who: &Principal,
    id: &str,
    patch: &ItemPatch,
    now: i64,
) -> Result<Option<ListItem>, Problem> {
    let Some(state) = ItemState::parse(&patch.state) else {
        return Err(Problem::validation(vec![FieldError::new(
            "state",
            "one of open, in_progress, met",
        )]));
    };
    if let Some(case) = &patch.case_id
        && !(1..=64).contains(&case.len())
    {
        return Err(Problem::validation(vec![FieldError::new(
            "case_id",
            "a case id",
        )]));
    }
    let Some(current) = item(db, id, now).await? else {
        return Ok(None);
    };
    if !who.covers(&current.grid_code) {
        return Ok(None);
    }
    let met_by = (state == ItemState::Met).then(|| who.id.clone());
    crate::db::in_transaction(db, async {
        db.execute(
            "UPDATE cell_list_items SET state = ?, met_by = ?, case_id = COALESCE(?, case_id), \
         updated_at = ? WHERE id = ?",
            &[
                state.as_str().into(),
                met_by.into(),
                patch.case_id.clone().into(),
                now.into(),
                id.into(),
            ],
        )
        .await?;
        Ok(())
    })
    .await?;
    Ok(item(db, id, now).await?)
}

/// A worker's visit time on one city day, against the two-hour target.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct WorkerDay {
    pub worker: String,
    pub date: String,
    pub visits: i64,
    pub minutes: i64,
    pub target_minutes: i64,
    pub met_target: bool,
}

pub async fn worker_day<D: Database>(
    db: &D,
    worker: &str,
    day: i64,
) -> Result<WorkerDay, StoreError> {
    let rows = db
        .execute(
            "SELECT COUNT(*) AS n, COALESCE(SUM(minutes), 0) AS m FROM visits \
             WHERE worker = ? AND day = ?",
            &[worker.into(), day.into()],
        )
        .await?;
    let r = rows.first().ok_or_else(|| StoreError("no count".into()))?;
    let minutes = r.i64("m")?;
    Ok(WorkerDay {
        worker: worker.to_owned(),
        date: time::date_string(day),
        visits: r.i64("n")?,
        minutes,
        target_minutes: DAILY_TARGET_MINUTES,
        met_target: minutes >= DAILY_TARGET_MINUTES,
    })
}
