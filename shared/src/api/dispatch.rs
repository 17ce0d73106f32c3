//! Routes of the `dispatch` component: the staff side of the case lifecycle. The queue and the
//! case page, every move of the state machine (accept, reject, merge, dispatch, extension
//! decisions, verification, closing, self-handling), routing and its preview, mediation of
//! disputes, the outbox of department webhooks, the sweep, and the directory.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::routes::{Access::*, Route};
use super::{Items, ready, respond};
use crate::access::auth::{self, ADMINS, CITY, OPERATORS, StaffRole};
use crate::app::staff_move::{self, StaffMove, case_in_scope};
use crate::case::clock::Light;
use crate::case::evidence::{self, EvidenceInput};
use crate::case::report::Channel;
use crate::case::store::{self, Actor, Case, CaseFilter};
use crate::case::{Move, MoveInput, Status};
use crate::db::in_transaction;
use crate::directory::{self, CategoryInput, DepartmentInput};
use crate::exchange::outbox;
use crate::grid::code::{Crs, GridCode, Wgs84Point};
use crate::http::problem::FieldError;
use crate::http::{MAX_PHOTO_BODY_BYTES, routes};
use crate::{
    ApiRequest, ApiResponse, Env, Problem, case::mediation, case::privacy, directory::routing, grid,
};

/// The routes of the `dispatch` component.
#[rustfmt::skip]
pub const ROUTES: &[Route<Op>] = &[
    Route::get("/api/cases", Staff(auth::CASE_STAFF), Op::List),
    Route::get("/api/cases/{id}", Staff(auth::CASE_STAFF), Op::Read),
    // The state machine then checks the move against the caller's role.
    Route::post("/api/cases/{id}/moves", Staff(auth::CASE_STAFF), Op::Move).limit(MAX_PHOTO_BODY_BYTES),
    Route::post("/api/cases/{id}/dispatch", Staff(auth::CASE_STAFF), Op::Dispatch),
    Route::get("/api/cases/{id}/mediation", Staff(auth::CASE_STAFF), Op::MediationRecord),
    Route::post("/api/cases/{id}/mediation", Staff(auth::CASE_STAFF), Op::AddMediation),
    Route::get("/api/cases/{id}/evidence/{evidence_id}", Staff(auth::CASE_STAFF), Op::EvidenceFile),
    // What public answers show of a case: operators decide (docs/publication.md).
    Route::put("/api/cases/{id}/publication", Staff(OPERATORS), Op::Publication),
    Route::get("/api/routing", Staff(ROUTING_READERS), Op::RoutingRules),
    Route::get("/api/departments", AnyStaff, Op::ListDepartments),
    Route::post("/api/routing/preview", Staff(OPERATORS), Op::RoutingPreview),
    Route::put("/api/admin/routing", Staff(ADMINS), Op::PutRouting),
    Route::get("/api/outbox", Staff(CITY), Op::OutboxList),
    Route::post("/api/outbox/{id}/resend", Staff(CITY), Op::Resend),
    Route::post("/api/sweep", Staff(CITY), Op::Sweep),
    Route::put("/api/admin/departments/{code}", Staff(ADMINS), Op::PutDepartment),
    Route::put("/api/admin/categories/{code}", Staff(ADMINS), Op::PutCategory),
    Route::put("/api/admin/categories/{code}/open311", Staff(ADMINS), Op::PutOpen311),
];

/// Who reads the routing rules: the operators who dispatch, and the administrator who writes them.
const ROUTING_READERS: &[StaffRole] = &[
    StaffRole::CityOperator,
    StaffRole::DistrictOperator,
    StaffRole::StreetOperator,
    StaffRole::Admin,
];

/// The operations of [`ROUTES`], one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Read,
    Move,
    Dispatch,
    MediationRecord,
    AddMediation,
    EvidenceFile,
    Publication,
    RoutingRules,
    ListDepartments,
    RoutingPreview,
    PutRouting,
    OutboxList,
    Resend,
    Sweep,
    PutDepartment,
    PutCategory,
    PutOpen311,
}

/// Answers every route of the `dispatch` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let (route, p) = match routes::find(ROUTES, &req) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    respond(match route.id {
        Op::List => list(env, &req).await,
        Op::Read => read(env, &req, &p["id"]).await,
        Op::Move => move_case(env, &req, &p["id"], None).await,
        Op::Dispatch => move_case(env, &req, &p["id"], Some(Move::Dispatch)).await,
        Op::MediationRecord => mediation_record(env, &req, &p["id"]).await,
        Op::AddMediation => add_mediation(env, &req, &p["id"]).await,
        Op::EvidenceFile => evidence_file(env, &req, &p["id"], &p["evidence_id"]).await,
        Op::Publication => set_publication(env, &req, &p["id"]).await,
        Op::RoutingRules => routing_rules(env, &req).await,
        Op::ListDepartments => list_departments(env, &req).await,
        Op::RoutingPreview => routing_preview(env, &req).await,
        Op::PutRouting => put_routing(env, &req).await,
        Op::OutboxList => outbox_list(env, &req).await,
        Op::Resend => resend(env, &req, &p["id"]).await,
        Op::Sweep => run_sweep(env, &req).await,
        Op::PutDepartment => put_department(env, &req, &p["code"]).await,
        Op::PutCategory => put_category(env, &req, &p["code"]).await,
        Op::PutOpen311 => super::open311::put_definition(env, &req, &p["code"]).await,
    })
}

pub use crate::app::sweep::{SweepReport, sweep};

fn staff() -> &'static [StaffRole] {
    auth::CASE_STAFF
}

/// A case as staff answers show it: personal data masked (see [`privacy`]).
fn case_json(case: &Case, now: i64) -> StaffCase {
    case_json_as_stored(&privacy::masked(case), now)
}

/// The case with its personal data whole: only for `GET /api/cases/{id}?reveal=contact`.
fn case_json_as_stored(case: &Case, now: i64) -> StaffCase {
    StaffCase {
        light: case.light(now),
        case: case.clone(),
    }
}

async fn list<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, staff()).await?;
    let mut errors = Vec::new();
    let mut filter = CaseFilter::default();
    for (key, value) in req.query_pairs() {
        match key.as_str() {
            "status" => match Status::parse(&value) {
                Some(s) => filter.status = Some(s),
                None => errors.push(FieldError::new("status", "not a case status")),
            },
            "light" => match Light::parse(&value) {
                Some(l) => filter.light = Some(l),
                None => errors.push(FieldError::new("light", "green, yellow or red")),
            },
            "level" if matches!(value.as_str(), "street" | "district" | "city") => {
                filter.level = Some(value)
            }
            "level" => errors.push(FieldError::new("level", "street, district or city")),
            "area" if GridCode::parse(&value).is_ok() => filter.area = Some(value),
            "area" => errors.push(FieldError::new("area", "a grid code")),
            "category" => filter.category = Some(value),
            "department" => filter.department = Some(value),
            _ => {}
        }
    }
    let limit = match req.query_param("limit").map(|l| l.parse::<i64>()) {
        None => 50,
        Some(Ok(l)) if (1..=200).contains(&l) => l,
        Some(_) => {
            errors.push(FieldError::new("limit", "1 to 200"));
            50
        }
    };
    let after = req.query_param("after").and_then(|a| {
        let parsed = a
            .split_once(':')
            .and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id.to_owned())));
        if parsed.is_none() {
            errors.push(FieldError::new(
                "after",
                "the `next` cursor of a previous page",
            ));
        }
        parsed
    });
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    ready(env).await?;
    let now = env.now_ms();
    let (items, next) = store::list(env, who.scope_filter(), &filter, now, limit, after).await?;
    let items = items.iter().map(|c| case_json(c, now)).collect();
    Ok(ApiResponse::json(200, &CaseList { items, next }))
}

/// A case with its trail. Personal data is masked unless the caller asks for it with
/// `?reveal=contact`, which is recorded on the case's trail before the answer is given.
async fn read<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, staff()).await?;
    let reveal = match req.query_param("reveal").as_deref() {
        None => false,
        Some("contact") => true,
        Some(_) => {
            return Err(Problem::validation(vec![FieldError::new(
                "reveal", "contact",
            )]));
        }
    };
    ready(env).await?;
    let mut case = case_in_scope(env, &who, id).await?;
    let mut events = store::events(env, id).await?;
    let mut mediation = mediation::record(env, id).await?;
    // A reveal shows the trail and the mediation record whole too, so what people wrote there
    // counts as well; a case with nothing personal left (purged) records no reveal.
    let written_personal = events
        .iter()
        .any(|e| privacy::masked_details(&e.details) != e.details)
        || mediation.iter().any(|m| privacy::masked_details(m) != *m);
    if reveal && (privacy::has_personal_data(&case) || written_personal) {
        let role = who.case_role().ok_or_else(Problem::internal)?;
        let actor = Actor {
            role,
            id: who.id.clone(),
            channel: Channel::Console,
        };
        privacy::record_reveal(env, &case, &actor, env.now_ms()).await?;
        case = store::by_id(env, id).await?.ok_or_else(Problem::internal)?;
        events = store::events(env, id).await?;
    }
    // Staff act under their account id; the trail shows their names. Other actors (a
    // department's code, `citizen`, `system`, a service token) are no account and stay out.
    let actor_ids = events
        .iter()
        .filter(|e| e.actor != e.actor_role)
        .map(|e| e.actor.clone())
        .collect();
    let actors = crate::access::accounts::display_names(env, &actor_ids).await?;
    let role = who.case_role();
    let allowed: Vec<Move> = case
        .status
        .allowed_moves()
        .into_iter()
        .filter(|m| {
            role.is_some_and(|r| m.rule().roles.contains(&r)) && staff_move::may_make(&who, *m)
        })
        .collect();
    // What each allowed move needs, so that the pages keep no copy of the machine's table.
    let moves = allowed
        .iter()
        .map(|&m| AllowedMove {
            mv: m.as_str(),
            requires: m.rule().requires.iter().map(|r| r.field()).collect(),
            evidence: staff_move::takes_evidence(m),
        })
        .collect();
    let allowed = allowed.into_iter().map(Move::as_str).collect();
    let now = env.now_ms();
    let mut duplicates = Vec::new();
    for candidate in &case.duplicate_candidates {
        if let Some(c) = store::by_id(env, candidate)
            .await?
            .filter(|c| who.may_see(c))
        {
            duplicates.push(case_json(&c, now));
        }
    }
    let shown = if reveal {
        case_json_as_stored(&case, now)
    } else {
        // What people wrote in the trail and the mediation record is personal data too.
        for event in &mut events {
            event.details = privacy::masked_details(&event.details);
        }
        for entry in &mut mediation {
            *entry = privacy::masked_details(entry);
        }
        case_json(&case, now)
    };
    let publication = crate::app::publication::of(env, &case).await?;
    Ok(ApiResponse::json(
        200,
        &CaseView {
            case: shown,
            revealed: reveal,
            events,
            allowed_moves: allowed,
            moves,
            probable_duplicates: duplicates,
            mediation,
            actors,
            publication,
        },
    )
    .with_header("cache-control", "private, no-store"))
}

/// One move on a case: `move` names it (`…/dispatch` fixes it), the rest is what that move
/// requires (`GET /api/cases/{id}` lists each allowed move's fields).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    #[serde(rename = "move")]
    mv: Option<String>,
    reason: Option<String>,
    note: Option<String>,
    parent: Option<String>,
    department: Option<String>,
    #[serde(default)]
    helpers: Vec<String>,
    hours: Option<f64>,
    /// Photos (base64) or links of a result seen on site, for the moves that report one.
    #[serde(default)]
    evidence: Vec<EvidenceInput>,
    /// A correction's new category and place (`crs` as the report form gives it).
    category: Option<String>,
    lat: Option<f64>,
    lng: Option<f64>,
    crs: Option<String>,
}

/// A point as a request gives it (`crs` defaults to WGS-84), converted to WGS-84.
fn point_in(lat: f64, lng: f64, crs: Option<&str>) -> Result<Wgs84Point, Problem> {
    let crs = crs.map_or(Some(Crs::Wgs84), Crs::parse).ok_or_else(|| {
        Problem::validation(vec![FieldError::new("crs", "one of wgs84, gcj02, bd09")])
    })?;
    Wgs84Point::parse(lat, lng, crs).map_err(Problem::validation)
}

/// Makes one move on a case (`POST /api/cases/{id}/moves`, and `…/dispatch`): decode, run the
/// staff-move command, answer with the case after it and what was sent.
async fn move_case<E: Env>(
    env: &E,
    req: &ApiRequest,
    id: &str,
    fixed: Option<Move>,
) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, staff()).await?;
    let input: MoveRequest = if req.body.iter().all(u8::is_ascii_whitespace) {
        MoveRequest::default()
    } else {
        req.json()?
    };
    let mv = match (fixed, input.mv.as_deref()) {
        (Some(m), _) => m,
        (None, Some(name)) => Move::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Move::ALL.iter().map(|m| m.as_str()).collect();
            Problem::validation(vec![FieldError::new(
                "move",
                format!("one of {}", names.join(", ")),
            )])
        })?,
        (None, None) => {
            return Err(Problem::validation(vec![FieldError::new(
                "move", "required",
            )]));
        }
    };
    let point = match (input.lat, input.lng) {
        (None, None) => None,
        (Some(lat), Some(lng)) => Some(point_in(lat, lng, input.crs.as_deref())?),
        _ => {
            return Err(Problem::validation(vec![FieldError::new(
                "lat",
                "give lat and lng together",
            )]));
        }
    };
    // Checked and stripped of metadata before anything is written.
    let evidence = evidence::prepare(&input.evidence)?;
    let asked = StaffMove {
        mv,
        reason: input.reason,
        note: input.note,
        parent: input.parent,
        department: input.department,
        helpers: input.helpers,
        hours: input.hours,
        evidence,
        category: input.category,
        point,
    };
    let moved = staff_move::make(env, &who, id, asked).await?;
    let delivery = match moved.deliveries.first() {
        Some(first) if mv == Move::Dispatch => Some(first.clone()),
        _ if mv == Move::Dispatch => Some(json!({
            "status": "console",
            "detail": "the department has no webhook; it sees the case in its console"
        })),
        _ => None,
    };
    Ok(ApiResponse::json(
        200,
        &MoveAnswer {
            case: case_json(&moved.case, env.now_ms()),
            routing: moved.routed,
            delivery,
            deliveries: moved.deliveries,
            evidence: moved.evidence,
        },
    ))
}

/// A photo a department sent with its result, to staff who may see the case. Served as an
/// image that no browser may sniff into anything else.
async fn evidence_file<E: Env>(
    env: &E,
    req: &ApiRequest,
    id: &str,
    evidence_id: &str,
) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, staff()).await?;
    ready(env).await?;
    let case = case_in_scope(env, &who, id).await?;
    let (content_type, bytes) = crate::case::evidence::fetch(env, &case.id, evidence_id)
        .await?
        .ok_or_else(|| Problem::not_found("evidence", evidence_id))?;
    Ok(ApiResponse::new(200, &content_type, bytes)
        .with_header("cache-control", "private, max-age=3600")
        .with_header("x-content-type-options", "nosniff")
        .with_header("content-security-policy", "default-src 'none'; sandbox")
        .with_header("content-disposition", "inline"))
}

/// `PUT /api/cases/{id}/publication`: whether the case shows on public answers, and which of
/// its photos; an operator of the case's area decides, and the trail records it.
async fn set_publication<E: Env>(
    env: &E,
    req: &ApiRequest,
    id: &str,
) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, OPERATORS).await?;
    let input: crate::app::publication::PublicationInput = req.json()?;
    ready(env).await?;
    let case = case_in_scope(env, &who, id).await?;
    let actor = Actor {
        role: who.case_role().ok_or_else(Problem::internal)?,
        id: who.id.clone(),
        channel: Channel::Console,
    };
    let shown = crate::app::publication::set(env, &case, &input, &actor, env.now_ms()).await?;
    Ok(ApiResponse::json(
        200,
        &PublicationAnswer { publication: shown },
    ))
}

async fn mediation_record<E: Env>(
    env: &E,
    req: &ApiRequest,
    id: &str,
) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, staff()).await?;
    ready(env).await?;
    let case = case_in_scope(env, &who, id).await?;
    // Masked like the case page before a reveal (`GET /api/cases/{id}?reveal=contact`).
    let record: Vec<Json> = mediation::record(env, id)
        .await?
        .iter()
        .map(privacy::masked_details)
        .collect();
    Ok(ApiResponse::json(
        200,
        &MediationRecord {
            case_id: case.id,
            record,
        },
    ))
}

/// Adds to a dispute's mediation record. The outcome is also the case's `handle` move.
async fn add_mediation<E: Env>(
    env: &E,
    req: &ApiRequest,
    id: &str,
) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, staff()).await?;
    let entry: mediation::Entry = req.json()?;
    entry.validate()?;
    ready(env).await?;
    let case = case_in_scope(env, &who, id).await?;
    let category = directory::category(env, &case.category)
        .await?
        .ok_or_else(Problem::internal)?;
    if category.kind != "dispute" {
        return Err(Problem::conflict(format!(
            "case {id} is not a dispute; mediation applies to disputes"
        )));
    }
    let now = env.now_ms();
    let seq = in_transaction(env, async {
        if let Some(note) = entry.outcome_note() {
            // The outcome is the mediating department's handling. The centre's operators, who
            // coordinate the mediation team, may record it on the team's behalf; the trail says so.
            let lead = case.department.clone().ok_or_else(|| {
                Problem::conflict("the dispute has not been dispatched to a mediation team")
            })?;
            let actor = match who.role {
                StaffRole::Department if who.department.as_deref() == Some(lead.as_str()) => {
                    Actor {
                        role: crate::case::Role::Department,
                        id: who.id.clone(),
                        channel: Channel::Console,
                    }
                }
                r if r.is_operator() => Actor {
                    role: crate::case::Role::Department,
                    id: format!("{lead} (recorded by {})", who.id),
                    channel: Channel::Console,
                },
                _ => {
                    return Err(Problem::forbidden(
                        "only the mediating department or an operator records the outcome",
                    ));
                }
            };
            let input = MoveInput {
                note: Some(note),
                ..Default::default()
            };
            crate::app::cases::apply_move(
                env,
                &case,
                Move::Handle,
                &actor,
                &input,
                json!({"mediation": entry}),
                now,
            )
            .await?;
        }
        Ok(mediation::append(env, id, &entry, now).await?)
    })
    .await?;
    Ok(ApiResponse::json(
        201,
        &MediationAdded {
            case_id: id.to_owned(),
            seq,
            entry,
        },
    ))
}

async fn routing_rules<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(
        env,
        req,
        &[
            StaffRole::CityOperator,
            StaffRole::DistrictOperator,
            StaffRole::StreetOperator,
            StaffRole::Admin,
        ],
    )
    .await?;
    ready(env).await?;
    Ok(ApiResponse::json(200, &routing::current(env).await?))
}

/// The directory for the staff pages (names, street offices, who has a webhook): every
/// department by code, without secrets or webhook addresses. Every staff role may read it,
/// the administrator too, who keeps it.
async fn list_departments<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let roles: Vec<StaffRole> = staff().iter().copied().chain([StaffRole::Admin]).collect();
    super::staff(env, req, &roles).await?;
    ready(env).await?;
    Ok(ApiResponse::json(
        200,
        &Items {
            items: directory::departments(env).await?,
        },
    ))
}

/// "Who would get a case of this category here, now (or at `at_ms`)?"
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    category: String,
    lat: Option<f64>,
    lng: Option<f64>,
    crs: Option<String>,
    grid_code: Option<String>,
    /// RFC 3339 is not parsed here: the time is given as Unix milliseconds, default now.
    at_ms: Option<i64>,
}

/// "Who would get this case, and by which rule."
async fn routing_preview<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, OPERATORS).await?;
    let input: PreviewRequest = req.json()?;
    ready(env).await?;
    let category = directory::category(env, &input.category)
        .await?
        .ok_or_else(|| {
            Problem::validation(vec![FieldError::new(
                "category",
                format!("no category {}", input.category),
            )])
        })?;
    let grid_code = match (&input.grid_code, input.lat, input.lng) {
        (Some(code), _, _) => GridCode::parse(code)
            .map_err(|e| Problem::validation(vec![FieldError::new("grid_code", e)]))?
            .as_str()
            .to_owned(),
        (None, Some(lat), Some(lng)) => {
            let point = point_in(lat, lng, input.crs.as_deref())?;
            grid::locate(env, point)
                .await?
                .ok_or_else(|| Problem::outside_jurisdiction("no grid cell there"))?
                .cell
                .code
        }
        _ => {
            return Err(Problem::validation(vec![FieldError::new(
                "grid_code",
                "give grid_code, or lat and lng",
            )]));
        }
    };
    let routed = routing::route(
        env,
        &category,
        &grid_code,
        input.at_ms.unwrap_or_else(|| env.now_ms()),
    )
    .await?;
    Ok(ApiResponse::json(
        200,
        &RoutingPreview {
            category: category.code,
            grid_code,
            routing: routed,
        },
    ))
}

/// The whole rule set, replacing the current one (kept as a new version with the note).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingPut {
    note: String,
    rules: Vec<routing::Rule>,
}

async fn put_routing<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let input: RoutingPut = req.json()?;
    ready(env).await?;
    Ok(ApiResponse::json(
        200,
        &routing::replace(env, &input.rules, &input.note).await?,
    ))
}

async fn outbox_list<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    // Every department's messages: the city centre's business, not a district's.
    super::staff(env, req, CITY).await?;
    let status = req.query_param("status").unwrap_or_else(|| "dead".into());
    if !matches!(status.as_str(), "pending" | "delivered" | "dead") {
        return Err(Problem::validation(vec![FieldError::new(
            "status",
            "pending, delivered or dead",
        )]));
    }
    ready(env).await?;
    Ok(ApiResponse::json(
        200,
        &Items {
            items: outbox::list(env, &status, 100).await?,
        },
    ))
}

async fn resend<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    super::staff(env, req, CITY).await?;
    ready(env).await?;
    if !outbox::requeue(env, id, env.now_ms()).await? {
        return Err(Problem::not_found("dead-lettered message", id));
    }
    let outcome = outbox::deliver(env, id).await?;
    Ok(ApiResponse::json(
        200,
        &Resent {
            message_id: id.to_owned(),
            status: outcome,
        },
    ))
}

async fn run_sweep<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, CITY).await?;
    Ok(ApiResponse::json(200, &sweep(env).await?))
}

async fn put_department<E: Env>(
    env: &E,
    req: &ApiRequest,
    code: &str,
) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let input: DepartmentInput = req.json()?;
    directory::validate_department(code, &input)?;
    ready(env).await?;
    directory::upsert_department(env, code, &input, env.now_ms()).await?;
    let saved = directory::department(env, code)
        .await?
        .ok_or_else(Problem::internal)?;
    Ok(ApiResponse::json(200, &saved))
}

async fn put_category<E: Env>(
    env: &E,
    req: &ApiRequest,
    code: &str,
) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let input: CategoryInput = req.json()?;
    ready(env).await?;
    directory::validate_category(env, code, &input).await?;
    directory::upsert_category(env, code, &input).await?;
    let saved = directory::category(env, code)
        .await?
        .ok_or_else(Problem::internal)?;
    Ok(ApiResponse::json(200, &saved))
}

// ---- the answers' types (their JSON Schemas are docs/openapi.json's, `api::openapi`)

/// A case as staff see it: personal data masked unless revealed, with its step's light.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StaffCase {
    #[serde(flatten)]
    pub case: Case,
    pub light: Option<Light>,
}

/// A page of cases, most urgent first; `next` is the cursor of the next page (`?after=`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaseList {
    pub items: Vec<StaffCase>,
    pub next: Option<String>,
}

/// A move the caller may make now, and what it needs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AllowedMove {
    #[serde(rename = "move")]
    pub mv: &'static str,
    /// The fields the move requires.
    pub requires: Vec<&'static str>,
    /// Whether the move may carry photos of the result.
    pub evidence: bool,
}

/// A case with its trail, its allowed moves, its probable duplicates and its mediation record.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaseView {
    pub case: StaffCase,
    /// Whether personal data is shown whole (`?reveal=contact`, recorded on the trail).
    pub revealed: bool,
    pub events: Vec<store::Event>,
    pub allowed_moves: Vec<&'static str>,
    pub moves: Vec<AllowedMove>,
    pub probable_duplicates: Vec<StaffCase>,
    pub mediation: Vec<Json>,
    /// Staff account ids of the trail, by display name.
    pub actors: std::collections::BTreeMap<String, String>,
    pub publication: crate::app::publication::Publication,
}

/// The case after a move, the rule a dispatch followed and what was sent.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MoveAnswer {
    pub case: StaffCase,
    pub routing: Option<routing::Routing>,
    /// For a dispatch: how the department was told (its webhook, or its console).
    pub delivery: Option<Json>,
    pub deliveries: Vec<Json>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Json>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PublicationAnswer {
    pub publication: crate::app::publication::Publication,
}

/// A dispute's mediation record, masked.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MediationRecord {
    pub case_id: String,
    pub record: Vec<Json>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MediationAdded {
    pub case_id: String,
    pub seq: i64,
    pub entry: mediation::Entry,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RoutingPreview {
    pub category: String,
    pub grid_code: String,
    pub routing: routing::Routing,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Resent {
    pub message_id: String,
    pub status: outbox::Delivery,
}
