//! Routes of the `callbacks` component: departments report progress by Standard Webhooks.
//! The `webhook-id` is the idempotency key: its first answer is stored with the move in one
//! transaction, and a repeat gets that answer again with nothing applied twice.

use serde::Deserialize;
use serde_json::json;

use super::{ready, respond};
use crate::case::{Move, MoveInput, Role};
use crate::cases::{self, Actor, in_transaction};
use crate::model::Channel;
use crate::problem::FieldError;
use crate::webhook::{self, VerifyError};
use crate::{ApiRequest, ApiResponse, Env, Problem, directory};

/// Answers every route of the `callbacks` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let segments = req.segments();
    respond(match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["api", "callbacks", department]) => callback(env, &req, department).await,
        (_, ["api", "callbacks", _]) => Err(Problem::method_not_allowed(&req.method, &req.path, &["POST"])),
        _ => Err(Problem::no_route(&req.method, &req.path)),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackInput {
    case_id: String,
    action: String,
    note: Option<String>,
    reason: Option<String>,
    /// Hours asked for, with `extension_requested`.
    hours: Option<f64>,
}

/// The department's words for the moves it may make.
fn move_of(action: &str) -> Option<Move> {
    match action {
        "signed_for" => Some(Move::SignFor),
        "in_progress" => Some(Move::Start),
        "handled" => Some(Move::Handle),
        "returned" => Some(Move::Return),
        "extension_requested" => Some(Move::RequestExtension),
        _ => None,
    }
}

const RECEIPT: &str = "SELECT status, body FROM webhook_receipts WHERE department = ? AND webhook_id = ?";
const CLAIM_RECEIPT: &str = "INSERT INTO webhook_receipts (department, webhook_id, status, body, at) VALUES (?, ?, 0, '', ?) \
     ON CONFLICT DO NOTHING RETURNING webhook_id";
const SAVE_RECEIPT: &str = "UPDATE webhook_receipts SET status = ?, body = ? WHERE department = ? AND webhook_id = ?";
const INSERT_RECEIPT: &str = "INSERT INTO webhook_receipts (department, webhook_id, status, body, at) VALUES (?, ?, ?, ?, ?) \
     ON CONFLICT DO NOTHING";

fn replay(status: i64, body: String) -> ApiResponse {
    let content_type = if (200..300).contains(&status) { "application/json" } else { "application/problem+json" };
    ApiResponse::new(status as u16, content_type, body.into_bytes()).with_header("idempotent-replayed", "true")
}

async fn callback<E: Env>(env: &E, req: &ApiRequest, department_code: &str) -> Result<ApiResponse, Problem> {
    ready(env).await?;
    let department = directory::department(env, department_code)
        .await?
        .ok_or_else(|| Problem::not_found("department", department_code))?;
    let secret = department.secret.clone().ok_or_else(|| Problem::bad_signature("the department has no signing secret"))?;
    let tolerance = env
        .variable("webhook_tolerance_seconds")
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(webhook::DEFAULT_TOLERANCE_SECONDS);
    let id = req.header("webhook-id");
    webhook::verify(
        &[&secret],
        id,
        req.header("webhook-timestamp"),
        req.header("webhook-signature"),
        &req.body,
        env.now_ms() / 1000,
        tolerance,
    )
    .map_err(|e| match e {
        VerifyError::StaleTimestamp => Problem::stale_timestamp(e.to_string()),
        other => Problem::bad_signature(other.to_string()),
    })?;
    let webhook_id = id.unwrap_or_default().to_owned();
    let key = [department.code.as_str().into(), webhook_id.as_str().into()];
    if let Some(row) = env.execute(RECEIPT, &key).await?.first() {
        return Ok(replay(row.i64("status")?, row.text("body")?));
    }

    let outcome = apply(env, req, &department.code, &webhook_id).await;
    match outcome {
        Ok(Applied::Done(response)) => Ok(response),
        Ok(Applied::Duplicate) => {
            // Another delivery of the same id won the race; answer what it answered.
            let rows = env.execute(RECEIPT, &key).await?;
            let row = rows.first().ok_or_else(Problem::internal)?;
            Ok(replay(row.i64("status")?, row.text("body")?))
        }
        Err(problem) if problem.status < 500 => {
            // The first answer to this id was a refusal: keep it, so a repeat gets the same.
            let response = problem.clone().into_response();
            env.execute(
                INSERT_RECEIPT,
                &[
                    department.code.as_str().into(),
                    webhook_id.as_str().into(),
                    (response.status as i64).into(),
                    String::from_utf8_lossy(&response.body).into_owned().into(),
                    env.now_ms().into(),
                ],
            )
            .await?;
            Err(problem)
        }
        Err(problem) => Err(problem),
    }
}

enum Applied {
    Done(ApiResponse),
    Duplicate,
}

async fn apply<E: Env>(env: &E, req: &ApiRequest, department: &str, webhook_id: &str) -> Result<Applied, Problem> {
    let input: CallbackInput = req.json()?;
    let Some(mv) = move_of(&input.action) else {
        return Err(Problem::validation(vec![FieldError::new(
            "action",
            "one of signed_for, in_progress, handled, returned, extension_requested",
        )]));
    };
    let now = env.now_ms();
    in_transaction(env, async {
        let claimed = env.execute(CLAIM_RECEIPT, &[department.into(), webhook_id.into(), now.into()]).await?;
        if claimed.is_empty() {
            return Ok(Applied::Duplicate);
        }
        // Only the lead department moves a case; helpers follow it.
        let case = cases::by_id(env, &input.case_id)
            .await?
            .filter(|c| c.department.as_deref() == Some(department))
            .ok_or_else(|| Problem::not_found("case of this department", &input.case_id))?;
        let actor = Actor { role: Role::Department, id: department.to_owned(), channel: Channel::Webhook };
        let mv_input = MoveInput { reason: input.reason.clone(), note: input.note.clone(), hours: input.hours, ..Default::default() };
        let details = json!({"webhook_id": webhook_id});
        let (case, seq) = cases::apply_move(env, &case, mv, &actor, &mv_input, details, now).await?;
        let body = json!({"case_id": case.id, "status": case.status, "event_seq": seq});
        let bytes = body.to_string();
        env.execute(SAVE_RECEIPT, &[200.into(), bytes.as_str().into(), department.into(), webhook_id.into()]).await?;
        Ok(Applied::Done(ApiResponse::json(200, &body)))
    })
    .await
}
