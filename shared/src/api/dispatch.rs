//! Routes of the `dispatch` component: operators list and read cases and dispatch them; the
//! department's webhook goes out through the outbox; the sweep retries what failed; admins
//! keep the directory of departments and categories.

use serde::Deserialize;
use serde_json::json;

use super::{ready, require_token, respond};
use crate::case::{Move, MoveInput, Role, Status};
use crate::cases::{self, Actor, in_transaction};
use crate::directory::{self, CategoryInput, DepartmentInput};
use crate::model::Channel;
use crate::outbox::{self, Delivery};
use crate::problem::FieldError;
use crate::{ApiRequest, ApiResponse, Env, Problem};

pub use crate::outbox::SweepReport;

/// How many due messages one sweep sends at most; the next sweep takes the rest.
const SWEEP_BATCH: i64 = 100;

/// Answers every route of the `dispatch` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let segments = req.segments();
    respond(match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["api", "cases"]) => list(env, &req).await,
        ("GET", ["api", "cases", id]) => read(env, &req, id).await,
        ("POST", ["api", "cases", id, "dispatch"]) => dispatch(env, &req, id).await,
        ("POST", ["api", "sweep"]) => run_sweep(env, &req).await,
        ("PUT", ["api", "admin", "departments", code]) => put_department(env, &req, code).await,
        ("PUT", ["api", "admin", "categories", code]) => put_category(env, &req, code).await,
        (_, ["api", "cases"] | ["api", "cases", _]) => Err(Problem::method_not_allowed(&req.method, &req.path, &["GET"])),
        (_, ["api", "cases", _, "dispatch"] | ["api", "sweep"]) => {
            Err(Problem::method_not_allowed(&req.method, &req.path, &["POST"]))
        }
        (_, ["api", "admin", "departments" | "categories", _]) => {
            Err(Problem::method_not_allowed(&req.method, &req.path, &["PUT"]))
        }
        _ => Err(Problem::no_route(&req.method, &req.path)),
    })
}

/// Retries the webhook messages that are due. Idempotent; safe to run twice at once.
pub async fn sweep<E: Env>(env: &E) -> Result<SweepReport, Problem> {
    ready(env).await?;
    outbox::sweep(env, SWEEP_BATCH).await
}

async fn list<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    require_token(env, req, "operator_token").await?;
    let mut errors = Vec::new();
    let status = req.query_param("status").and_then(|s| {
        Status::parse(&s).or_else(|| {
            errors.push(FieldError::new("status", "not a case status"));
            None
        })
    });
    let limit = match req.query_param("limit").map(|l| l.parse::<i64>()) {
        None => 50,
        Some(Ok(l)) if (1..=200).contains(&l) => l,
        Some(_) => {
            errors.push(FieldError::new("limit", "1 to 200"));
            50
        }
    };
    let after = req.query_param("after").and_then(|a| {
        let parsed = a.split_once(':').and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id.to_owned())));
        if parsed.is_none() {
            errors.push(FieldError::new("after", "the `next` cursor of a previous page"));
        }
        parsed
    });
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    ready(env).await?;
    let (items, next) = cases::list(env, status, limit, after).await?;
    Ok(ApiResponse::json(200, &json!({"items": items, "next": next})))
}

async fn read<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    require_token(env, req, "operator_token").await?;
    ready(env).await?;
    let case = cases::by_id(env, id).await?.ok_or_else(|| Problem::not_found("case", id))?;
    let events = cases::events(env, id).await?;
    let allowed: Vec<&str> = Status::parse(&case.status)
        .map(|s| s.allowed_moves().into_iter().map(Move::as_str).collect())
        .unwrap_or_default();
    Ok(ApiResponse::json(200, &json!({"case": case, "events": events, "allowed_moves": allowed})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchInput {
    department: Option<String>,
    note: Option<String>,
}

async fn dispatch<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    require_token(env, req, "operator_token").await?;
    let input: DispatchInput = if req.body.iter().all(u8::is_ascii_whitespace) { DispatchInput::default() } else { req.json()? };
    ready(env).await?;
    let case = cases::by_id(env, id).await?.ok_or_else(|| Problem::not_found("case", id))?;
    let department_code = match input.department {
        Some(d) => d,
        None => directory::category(env, &case.category).await?.map(|c| c.department).ok_or_else(Problem::internal)?,
    };
    let Some(department) = directory::department(env, &department_code).await? else {
        return Err(Problem::validation(vec![FieldError::new("department", format!("no department {department_code}"))]));
    };
    let actor = Actor { role: Role::Operator, id: "operator".into(), channel: Channel::Console };
    let now = env.now_ms();
    let (case, message) = in_transaction(env, async {
        let mut case = case;
        // A case still waiting for acceptance is accepted on the way: two moves, two events.
        if case.status == Status::Collected.as_str() {
            case = cases::apply_move(env, &case, Move::Accept, &actor, &MoveInput::default(), json!({}), now).await?.0;
        }
        let mv = MoveInput { department: Some(department.code.clone()), note: input.note.clone(), ..Default::default() };
        let (case, _) = cases::apply_move(env, &case, Move::Dispatch, &actor, &mv, json!({}), now).await?;
        // The webhook message commits with the move, or neither does.
        let message = match &department.webhook_url {
            Some(_) => Some(
                outbox::enqueue(env, &case.id, &department.code, "case.dispatched", webhook_data(&case, &department.code), now)
                    .await?,
            ),
            None => None,
        };
        Ok((case, message))
    })
    .await?;
    let delivery = match &message {
        Some(id) => {
            let outcome = outbox::deliver(env, id).await.unwrap_or_else(|e| {
                eprintln!("onegrid: delivery of {id} failed to run: {e}");
                Delivery::Pending
            });
            json!({"message_id": id, "status": outcome})
        }
        None => json!({"status": "console", "detail": "the department has no webhook; it sees the case in its console"}),
    };
    Ok(ApiResponse::json(200, &json!({"case": case, "delivery": delivery})))
}

/// What a department's webhook carries: enough to act without calling back.
fn webhook_data(case: &cases::Case, department: &str) -> serde_json::Value {
    json!({
        "case_id": case.id,
        "tracking_code": case.tracking_code,
        "category": case.category,
        "description": case.description,
        "lat": case.lat,
        "lng": case.lng,
        "address": case.address,
        "grid": case.grid_code,
        "status": case.status,
        "callback_url": format!("/api/callbacks/{department}"),
    })
}

async fn run_sweep<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    require_token(env, req, "operator_token").await?;
    Ok(ApiResponse::json(200, &sweep(env).await?))
}

async fn put_department<E: Env>(env: &E, req: &ApiRequest, code: &str) -> Result<ApiResponse, Problem> {
    require_token(env, req, "admin_token").await?;
    let input: DepartmentInput = req.json()?;
    directory::validate_department(code, &input)?;
    ready(env).await?;
    directory::upsert_department(env, code, &input, env.now_ms()).await?;
    let saved = directory::department(env, code).await?.ok_or_else(Problem::internal)?;
    Ok(ApiResponse::json(200, &saved))
}

async fn put_category<E: Env>(env: &E, req: &ApiRequest, code: &str) -> Result<ApiResponse, Problem> {
    require_token(env, req, "admin_token").await?;
    let input: CategoryInput = req.json()?;
    ready(env).await?;
    directory::validate_category(env, code, &input).await?;
    directory::upsert_category(env, code, &input).await?;
    let saved = directory::category(env, code).await?.ok_or_else(Problem::internal)?;
    Ok(ApiResponse::json(200, &saved))
}
