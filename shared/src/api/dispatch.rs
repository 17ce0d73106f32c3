//! Routes of the `dispatch` component: the staff side of the case lifecycle. The queue and the
//! case page, every move of the state machine (accept, reject, merge, dispatch, extension
//! decisions, verification, closing, self-handling), routing and its preview, mediation of
//! disputes, the outbox of department webhooks, the sweep, and the directory.

use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{ready, respond};
use crate::access::auth::{self, ADMINS, CITY, OPERATORS, Principal, StaffRole};
use crate::case::clock::{self, Light};
use crate::case::evidence::{self, EvidenceInput};
use crate::case::report::Channel;
use crate::case::store::{self, Actor, Case, CaseFilter};
use crate::case::{Move, MoveInput, Status};
use crate::db::in_transaction;
use crate::directory::{self, CategoryInput, DepartmentInput};
use crate::exchange::outbox::{self, Delivery};
use crate::grid::code::{Crs, GridCode, Wgs84Point};
use crate::http::problem::FieldError;
use crate::{
    ApiRequest, ApiResponse, Env, Problem, case::mediation, case::privacy, directory::routing, grid,
};

/// How many due messages and overdue cases one sweep takes at most; the next sweep takes the rest.
const SWEEP_BATCH: i64 = 200;

/// Answers every route of the `dispatch` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let segments = req.segments();
    respond(match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["api", "cases"]) => list(env, &req).await,
        ("GET", ["api", "cases", id]) => read(env, &req, id).await,
        ("POST", ["api", "cases", id, "moves"]) => move_case(env, &req, id, None).await,
        ("POST", ["api", "cases", id, "dispatch"]) => {
            move_case(env, &req, id, Some(Move::Dispatch)).await
        }
        ("GET", ["api", "cases", id, "mediation"]) => mediation_record(env, &req, id).await,
        ("POST", ["api", "cases", id, "mediation"]) => add_mediation(env, &req, id).await,
        ("GET", ["api", "cases", id, "evidence", evidence_id]) => {
            evidence_file(env, &req, id, evidence_id).await
        }
        ("GET", ["api", "routing"]) => routing_rules(env, &req).await,
        ("GET", ["api", "departments"]) => list_departments(env, &req).await,
        ("POST", ["api", "routing", "preview"]) => routing_preview(env, &req).await,
        ("PUT", ["api", "admin", "routing"]) => put_routing(env, &req).await,
        ("GET", ["api", "outbox"]) => outbox_list(env, &req).await,
        ("POST", ["api", "outbox", id, "resend"]) => resend(env, &req, id).await,
        ("POST", ["api", "sweep"]) => run_sweep(env, &req).await,
        ("PUT", ["api", "admin", "departments", code]) => put_department(env, &req, code).await,
        ("PUT", ["api", "admin", "categories", code]) => put_category(env, &req, code).await,
        ("PUT", ["api", "admin", "categories", code, "open311"]) => {
            super::open311::put_definition(env, &req, code).await
        }
        (
            _,
            ["api", "cases"]
            | ["api", "cases", _]
            | ["api", "routing"]
            | ["api", "departments"]
            | ["api", "outbox"]
            | ["api", "cases", _, "evidence", _],
        ) => Err(Problem::method_not_allowed(
            &req.method,
            &req.path,
            &["GET"],
        )),
        (_, ["api", "cases", _, "mediation"]) => Err(Problem::method_not_allowed(
            &req.method,
            &req.path,
            &["GET", "POST"],
        )),
        (
            _,
            ["api", "cases", _, "moves" | "dispatch"]
            | ["api", "routing", "preview"]
            | ["api", "outbox", _, "resend"]
            | ["api", "sweep"],
        ) => Err(Problem::method_not_allowed(
            &req.method,
            &req.path,
            &["POST"],
        )),
        (
            _,
            ["api", "admin", "departments" | "categories", _]
            | ["api", "admin", "routing"]
            | ["api", "admin", "categories", _, "open311"],
        ) => Err(Problem::method_not_allowed(
            &req.method,
            &req.path,
            &["PUT"],
        )),
        _ => Err(Problem::no_route(&req.method, &req.path)),
    })
}

/// What one sweep did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SweepReport {
    pub webhooks: outbox::SweepReport,
    pub deadlines: clock::EscalationReport,
    /// Personal data removed from cases that ended longer ago than `retention_days`.
    pub retention: privacy::RetentionReport,
    /// Revocation records of signed-out sessions deleted once the sessions expired anyway.
    pub expired_revocations: u32,
}

/// Retries the webhook messages that are due, escalates overdue cases, removes personal data
/// past its retention, and forgets expired sign-outs. Idempotent; safe to run twice at once
/// (each message and case is claimed by a single conditional UPDATE).
pub async fn sweep<E: Env>(env: &E) -> Result<SweepReport, Problem> {
    ready(env).await?;
    let now = env.now_ms();
    let deadlines = clock::sweep(env, now, SWEEP_BATCH).await?;
    let webhooks = outbox::sweep(env, SWEEP_BATCH).await?;
    let days = privacy::retention_days(env).await?;
    let retention = privacy::purge_ended(env, now, days, SWEEP_BATCH).await?;
    let expired_revocations =
        crate::access::sessions::sweep_revocations(env, now, SWEEP_BATCH).await?;
    Ok(SweepReport {
        webhooks,
        deadlines,
        retention,
        expired_revocations,
    })
}

/// A staff member's case, or 404 (also for a case outside their scope: its existence is not told).
async fn case_in_scope<E: Env>(env: &E, who: &Principal, id: &str) -> Result<Case, Problem> {
    store::by_id(env, id)
        .await?
        .filter(|c| who.may_see(c))
        .ok_or_else(|| Problem::not_found("case", id))
}

fn staff() -> &'static [StaffRole] {
    auth::CASE_STAFF
}

/// A case as staff answers show it: personal data masked (see [`privacy`]).
fn case_json(case: &Case, now: i64) -> Json {
    case_json_as_stored(&privacy::masked(case), now)
}

/// The case with its personal data whole: only for `GET /api/cases/{id}?reveal=contact`.
fn case_json_as_stored(case: &Case, now: i64) -> Json {
    let mut value = serde_json::to_value(case).unwrap_or(Json::Null);
    if let Json::Object(map) = &mut value {
        map.insert("light".into(), json!(case.light(now)));
    }
    value
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
    let items: Vec<Json> = items.iter().map(|c| case_json(c, now)).collect();
    Ok(ApiResponse::json(
        200,
        &json!({"items": items, "next": next}),
    ))
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
    if reveal && privacy::has_personal_data(&case) {
        let role = who.case_role().ok_or_else(Problem::internal)?;
        let actor = Actor {
            role,
            id: who.id.clone(),
            channel: Channel::Console,
        };
        privacy::record_reveal(env, &case.id, &actor, env.now_ms()).await?;
        case = store::by_id(env, id).await?.ok_or_else(Problem::internal)?;
    }
    let events = store::events(env, id).await?;
    // Staff act under their account id; the trail shows their names. Other actors (a
    // department's code, `citizen`, `system`, a service token) are no account and stay out.
    let actor_ids = events
        .iter()
        .filter(|e| e.actor != e.actor_role)
        .map(|e| e.actor.clone())
        .collect();
    let actors = crate::access::accounts::display_names(env, &actor_ids).await?;
    let allowed: Vec<&str> = Status::parse(&case.status)
        .map(|s| {
            let role = who.case_role();
            s.allowed_moves()
                .into_iter()
                .filter(|m| role.is_some_and(|r| m.rule().roles.contains(&r)))
                .map(Move::as_str)
                .collect()
        })
        .unwrap_or_default();
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
    let mediation = mediation::record(env, id).await?;
    let shown = if reveal {
        case_json_as_stored(&case, now)
    } else {
        case_json(&case, now)
    };
    Ok(ApiResponse::json(
        200,
        &json!({
            "case": shown, "revealed": reveal, "events": events, "allowed_moves": allowed,
            "probable_duplicates": duplicates, "mediation": mediation, "actors": actors,
        }),
    )
    .with_header("cache-control", "private, no-store"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveRequest {
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
}

/// The moves that report what was found or done on site, and so may carry photos: a
/// department's result, a grid worker's self-handling, and a verification (pass or fail).
fn takes_evidence(mv: Move) -> bool {
    matches!(
        mv,
        Move::Handle | Move::SelfHandle | Move::VerifyPass | Move::VerifyFail
    )
}

/// Makes one move on a case, with what the move brings along: routing and webhooks for a
/// dispatch, the parent check of a merge, notices to the department of rework and extensions.
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
    let role = who
        .case_role()
        .ok_or_else(|| Problem::forbidden("this account makes no case moves"))?;
    if !input.evidence.is_empty() && !takes_evidence(mv) {
        return Err(Problem::validation(vec![FieldError::new(
            "evidence",
            format!(
                "only a move that reports a result carries evidence (handle, self_handle, verify_pass, verify_fail), not {}",
                mv.as_str()
            ),
        )]));
    }
    // Checked and stripped of metadata before anything is written.
    let photos = evidence::prepare(&input.evidence)?;
    ready(env).await?;
    let case = case_in_scope(env, &who, id).await?;
    let now = env.now_ms();

    // What the move needs from outside the case.
    let mut routed = None;
    let mut department = input.department.clone();
    let mut helpers = input.helpers.clone();
    if mv == Move::Dispatch {
        if department.is_none() {
            let category = directory::category(env, &case.category)
                .await?
                .ok_or_else(Problem::internal)?;
            let route = routing::route(env, &category, &case.grid_code, now).await?;
            department = Some(route.lead.clone());
            if helpers.is_empty() {
                helpers = route.helpers.clone();
            }
            routed = Some(route);
        }
        for d in department.iter().chain(helpers.iter()) {
            if directory::department(env, d).await?.is_none() {
                return Err(Problem::validation(vec![FieldError::new(
                    "department",
                    format!("no department {d}"),
                )]));
            }
        }
    }
    if mv == Move::Merge {
        let parent_id = input.parent.as_deref().unwrap_or_default();
        let parent = case_in_scope(env, &who, parent_id).await.map_err(|_| {
            Problem::validation(vec![FieldError::new(
                "parent",
                format!("no case {parent_id} in your scope"),
            )])
        })?;
        if parent.id == case.id || matches!(parent.status.as_str(), "merged" | "rejected") {
            return Err(Problem::validation(vec![FieldError::new(
                "parent",
                "a case cannot merge into itself or into a merged or rejected case",
            )]));
        }
    }
    if who.role == StaffRole::Department && case.department != who.department {
        return Err(Problem::forbidden(
            "only the lead department moves its case",
        ));
    }

    let actor = Actor {
        role,
        id: who.id.clone(),
        channel: Channel::Console,
    };
    let mv_input = MoveInput {
        reason: input.reason.clone(),
        note: input.note.clone(),
        parent: input.parent.clone(),
        department: department.clone(),
        hours: input.hours,
    };
    let mut details = match &routed {
        Some(r) => json!({"routing": r, "helpers": helpers}),
        None if !helpers.is_empty() => json!({"helpers": helpers}),
        None => json!({}),
    };
    let (case, messages, stored) = in_transaction(env, async {
        let mut case = case;
        // A dispatch of a case still waiting for acceptance accepts it on the way: two moves, two events.
        if mv == Move::Dispatch && case.status == Status::Collected.as_str() {
            case = crate::app::cases::apply_move(
                env,
                &case,
                Move::Accept,
                &actor,
                &MoveInput::default(),
                json!({}),
                now,
            )
            .await?
            .0;
        }
        // The evidence belongs to the event this move appends, the next in the trail (the move
        // lands as exactly that one, or the transaction rolls back). A department's photos are
        // filed under the department, as its callbacks' are; anyone else's under the account.
        let source = match who.role {
            StaffRole::Department => who.department.clone().unwrap_or_else(|| who.id.clone()),
            _ => who.id.clone(),
        };
        let stored =
            evidence::store(env, &case.id, case.event_count + 1, &source, &photos, now).await?;
        if !stored.is_empty() {
            details["evidence"] = Json::Array(stored.clone());
        }
        let (mut case, _) =
            crate::app::cases::apply_move(env, &case, mv, &actor, &mv_input, details, now).await?;
        let mut messages = Vec::new();
        if mv == Move::Dispatch {
            let lead = department.clone().unwrap_or_default();
            store::set_departments(env, &case.id, &lead, &helpers).await?;
            case = store::by_id(env, &case.id)
                .await?
                .ok_or_else(Problem::internal)?;
            for (d, role) in
                std::iter::once((&lead, "lead")).chain(helpers.iter().map(|h| (h, "helper")))
            {
                messages.extend(
                    notify(env, &case, d, "case.dispatched", json!({"role": role}), now).await?,
                );
            }
        }
        let notice = match mv {
            Move::VerifyFail => Some("case.rework"),
            Move::ApproveExtension => Some("case.extension_approved"),
            Move::RefuseExtension => Some("case.extension_refused"),
            _ => None,
        };
        if let (Some(event), Some(d)) = (notice, case.department.clone()) {
            messages.extend(
                notify(
                    env,
                    &case,
                    &d,
                    event,
                    json!({"reason": input.reason, "note": input.note}),
                    now,
                )
                .await?,
            );
        }
        Ok((case, messages, stored))
    })
    .await?;
    let mut deliveries = Vec::new();
    for id in &messages {
        let outcome = outbox::deliver(env, id).await.unwrap_or_else(|e| {
            tracing::error!(message_id = %id, error = %e, "a delivery failed to run");
            Delivery::Pending
        });
        deliveries.push(json!({"message_id": id, "status": outcome}));
    }
    // And what the move queued for others (the source platform of the case).
    outbox::deliver_new_for_case(env, &case.id, now).await;
    let delivery = match deliveries.first() {
        Some(first) if mv == Move::Dispatch => first.clone(),
        _ if mv == Move::Dispatch => {
            json!({"status": "console", "detail": "the department has no webhook; it sees the case in its console"})
        }
        _ => Json::Null,
    };
    let mut body = json!({"case": case_json(&case, env.now_ms()), "routing": routed, "delivery": delivery, "deliveries": deliveries});
    if !stored.is_empty() {
        body["evidence"] = Json::Array(stored);
    }
    Ok(ApiResponse::json(200, &body))
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

/// Queues a webhook message to a department that has an endpoint; returns its id.
async fn notify<E: Env>(
    env: &E,
    case: &Case,
    department: &str,
    event: &str,
    extra: Json,
    now: i64,
) -> Result<Option<String>, Problem> {
    let Some(d) = directory::department(env, department).await? else {
        return Ok(None);
    };
    if d.webhook_url.is_none() {
        return Ok(None);
    }
    let mut data = webhook_data(case, department);
    if let (Json::Object(map), Json::Object(more)) = (&mut data, extra) {
        map.extend(more.into_iter().filter(|(_, v)| !v.is_null()));
    }
    Ok(Some(
        outbox::enqueue(env, &case.id, department, event, data, now).await?,
    ))
}

/// What a department's webhook carries: enough to act without calling back.
fn webhook_data(case: &Case, department: &str) -> Json {
    json!({
        "case_id": case.id,
        "tracking_code": case.tracking_code,
        "category": case.category,
        // Departments get the contact data only through the console's audited reveal.
        "description": crate::mask::mask_free_text(&case.description),
        "lat": case.lat,
        "lng": case.lng,
        "address": case.address,
        "grid": case.grid_code,
        "status": case.status,
        "priority": case.priority,
        "deadline": case.step_deadline_at,
        "callback_url": format!("/api/callbacks/{department}"),
    })
}

async fn mediation_record<E: Env>(
    env: &E,
    req: &ApiRequest,
    id: &str,
) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, staff()).await?;
    ready(env).await?;
    let case = case_in_scope(env, &who, id).await?;
    Ok(ApiResponse::json(
        200,
        &json!({"case_id": case.id, "record": mediation::record(env, id).await?}),
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
        &json!({"case_id": id, "seq": seq, "entry": entry}),
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
        &json!({"items": directory::departments(env).await?}),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewRequest {
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
            let crs = input
                .crs
                .as_deref()
                .map_or(Some(Crs::Wgs84), Crs::parse)
                .ok_or_else(|| {
                    Problem::validation(vec![FieldError::new("crs", "one of wgs84, gcj02, bd09")])
                })?;
            let point = Wgs84Point::parse(lat, lng, crs).map_err(Problem::validation)?;
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
        &json!({"category": category.code, "grid_code": grid_code, "routing": routed}),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingPut {
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
        &json!({"items": outbox::list(env, &status, 100).await?}),
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
        &json!({"message_id": id, "status": outcome}),
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
