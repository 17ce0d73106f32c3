//! A department reports progress by Standard Webhooks. The signature is checked against the
//! department's secret (during a rotation against the previous one too); the `webhook-id` is the
//! idempotency key: its first answer is stored with the move in one transaction, and a repeat
//! gets that answer again with nothing applied twice. A callback carries the department's own
//! time of the event (`occurred_at`): a status older than the case's last change is recorded,
//! never applied over it. Photos of the result come as base64 and are stored without their
//! metadata. The case and its last change are read first; the transaction holds the claim of
//! the message, the evidence, the case store's write and the answer.

use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::case::evidence::{self, EvidenceInput};
use crate::case::report::Channel;
use crate::case::store::{self, Actor};
use crate::case::{Move, MoveInput, Role};
use crate::db::in_transaction;
use crate::exchange::inbox::{self, Receipt};
use crate::http::problem::{FieldError, ProblemType};
use crate::http::webhook::{self, VerifyError};
use crate::{ApiRequest, ApiResponse, Env, Problem, directory, exchange::outbox};

/// A department's status change of a case it was dispatched, signed with its secret.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackInput {
    case_id: String,
    action: String,
    note: Option<String>,
    reason: Option<String>,
    /// Hours asked for, with `extension_requested`.
    hours: Option<f64>,
    /// When it happened at the department (RFC 3339). Orders statuses that arrive out of order.
    occurred_at: Option<String>,
    /// Photos (base64) or links showing the result.
    #[serde(default)]
    evidence: Vec<EvidenceInput>,
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

/// How far ahead of our clock a department's `occurred_at` may be (its clock may run fast).
const FUTURE_TOLERANCE_MS: i64 = 5 * 60 * 1000;

/// The stored first answer to a message id. A claim whose answer is not written yet (status 0:
/// the first delivery is still running) answers 409, so the sender retries.
pub fn replay(first: Receipt) -> ApiResponse {
    let Receipt { status, body } = first;
    if status == 0 {
        return Problem::conflict("this message is being applied; retry shortly").into_response();
    }
    let content_type = if (200..300).contains(&status) {
        "application/json"
    } else {
        "application/problem+json"
    };
    ApiResponse::new(status as u16, content_type, body.into_bytes())
        .with_header("idempotent-replayed", "true")
}

/// A refusal that depends on the case's state (a move the machine does not allow yet, a case
/// that changed meanwhile) is not stored: the sender retries the same id, and once the earlier
/// status has arrived the retry applies. Every other refusal is final and stored.
fn is_final_refusal(problem: &Problem) -> bool {
    problem.status < 500
        && !matches!(
            problem.kind,
            ProblemType::ForbiddenMove | ProblemType::Conflict
        )
}

/// Verifies, applies (once) and answers a department's callback.
pub async fn receive<E: Env>(
    env: &E,
    req: &ApiRequest,
    department_code: &str,
) -> Result<ApiResponse, Problem> {
    crate::app::schema::ensure(env).await?;
    // An unknown department and one without a secret verify against no secret at all: every
    // unsigned or wrongly signed message is refused alike, so that the answer tells nobody which
    // departments exist or which have a secret.
    let department = directory::department(env, department_code).await?;
    let now = env.now_ms();
    let secrets = department
        .as_ref()
        .map(|d| d.verifying_secrets(now))
        .unwrap_or_default();
    let tolerance = env
        .variable("webhook_tolerance_seconds")
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(webhook::DEFAULT_TOLERANCE_SECONDS);
    let id = req.header("webhook-id");
    webhook::verify(
        &secrets,
        id,
        req.header("webhook-timestamp"),
        req.header("webhook-signature"),
        &req.body,
        now / 1000,
        tolerance,
    )
    .map_err(|e| match e {
        VerifyError::StaleTimestamp => Problem::stale_timestamp(e.to_string()),
        other => Problem::bad_signature(other.to_string()),
    })?;
    // A signature verified against one of its secrets: the department exists.
    let department = department.ok_or_else(Problem::internal)?;
    let webhook_id = id.unwrap_or_default().to_owned();
    if let Some(first) = inbox::receipt(env, &department.code, &webhook_id).await? {
        return Ok(replay(first));
    }

    let outcome = apply(env, req, &department.code, &webhook_id).await;
    match outcome {
        Ok(Applied::Done(response, case_id)) => {
            // The source platform of the case hears of the change now, not at the next sweep.
            outbox::deliver_new_for_case(env, &case_id, now).await;
            Ok(response)
        }
        Ok(Applied::Duplicate) => {
            // Another delivery of the same id won the race; answer what it answered.
            let first = inbox::receipt(env, &department.code, &webhook_id)
                .await?
                .ok_or_else(Problem::internal)?;
            Ok(replay(first))
        }
        Err(problem) if is_final_refusal(&problem) => {
            // The first answer to this id was a refusal: keep it, so a repeat gets the same.
            let response = problem.clone().into_response();
            inbox::keep_refusal(
                env,
                &department.code,
                &webhook_id,
                response.status,
                &String::from_utf8_lossy(&response.body),
                env.now_ms(),
            )
            .await?;
            Err(problem)
        }
        Err(problem) => Err(problem),
    }
}

enum Applied {
    /// The answer, and the case it concerned.
    Done(ApiResponse, String),
    Duplicate,
}

async fn apply<E: Env>(
    env: &E,
    req: &ApiRequest,
    department: &str,
    webhook_id: &str,
) -> Result<Applied, Problem> {
    let input: CallbackInput = req.json()?;
    let Some(mv) = move_of(&input.action) else {
        return Err(Problem::validation(vec![FieldError::new(
            "action",
            "one of signed_for, in_progress, handled, returned, extension_requested",
        )]));
    };
    let now = env.now_ms();
    let occurred_at = match input.occurred_at.as_deref() {
        None => None,
        Some(t) => match crate::time::parse(t, 0) {
            Some(ms) if ms <= now + FUTURE_TOLERANCE_MS => Some(ms),
            Some(_) => {
                return Err(Problem::validation(vec![FieldError::new(
                    "occurred_at",
                    "more than 5 minutes in the future",
                )]));
            }
            None => {
                return Err(Problem::validation(vec![FieldError::new(
                    "occurred_at",
                    "an RFC 3339 time with an offset",
                )]));
            }
        },
    };
    let photos = evidence::prepare(&input.evidence)?;
    // Only the lead department moves a case; helpers follow it.
    let case = store::by_id(env, &input.case_id)
        .await?
        .filter(|c| c.department.as_deref() == Some(department))
        .ok_or_else(|| Problem::not_found("case of this department", &input.case_id))?;
    // An older status never overrides a newer one: it joins the trail as a late event. (Read
    // before the transaction: should the case change meanwhile, its write refuses with 409.)
    let newer = match occurred_at {
        Some(at) => store::status_changed_at(env, &case.id)
            .await?
            .filter(|last| *last > at),
        None => None,
    };
    in_transaction(env, async {
        if !inbox::claim(env, department, webhook_id, now).await? {
            return Ok(Applied::Duplicate);
        }
        let actor = Actor {
            role: Role::Department,
            id: department.to_owned(),
            channel: Channel::Webhook,
        };
        let mut details = json!({"webhook_id": webhook_id});
        if let Some(at) = occurred_at {
            details["occurred_at"] = json!(crate::time::rfc3339(at));
        }
        // The evidence belongs to the event this callback appends: the next in the trail
        // (the move or record below lands as exactly that one, or the transaction rolls back).
        let stored = evidence::store(
            env,
            &case.id,
            case.event_count + 1,
            department,
            &photos,
            now,
        )
        .await?;
        if !stored.is_empty() {
            details["evidence"] = Json::Array(stored.clone());
        }
        let (case, seq, applied) = match newer {
            Some(last) => {
                details["action"] = json!(input.action);
                details["applied"] = json!(false);
                details["superseded_by_status_at"] = json!(crate::time::rfc3339(last));
                for (k, v) in [("note", &input.note), ("reason", &input.reason)] {
                    if let Some(v) = v {
                        details[k] = json!(v);
                    }
                }
                let seq =
                    store::record_event(env, &case, "late_status", &actor, details.clone(), now)
                        .await?;
                let case = store::by_id(env, &case.id)
                    .await?
                    .ok_or_else(Problem::internal)?;
                (case, seq, false)
            }
            None => {
                let mv_input = MoveInput {
                    reason: input.reason.clone(),
                    note: input.note.clone(),
                    hours: input.hours,
                    ..Default::default()
                };
                let (case, seq) = super::cases::apply_move(
                    env,
                    &case,
                    mv,
                    &actor,
                    &mv_input,
                    details.clone(),
                    now,
                )
                .await?;
                (case, seq, true)
            }
        };
        let body = CallbackAnswer {
            case_id: case.id.clone(),
            status: case.status,
            event_seq: seq,
            applied,
            reason: (!applied).then(|| {
                "an older status than the case's last change; recorded, not applied".to_owned()
            }),
            evidence: stored,
        };
        let bytes = serde_json::to_string(&body).unwrap_or_default();
        inbox::answer(env, department, webhook_id, 200, &bytes).await?;
        Ok(Applied::Done(ApiResponse::json(200, &body), case.id))
    })
    .await
}

/// What a department's callback did to the case. A replay gets the first answer again.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct CallbackAnswer {
    pub case_id: String,
    pub status: crate::case::Status,
    pub event_seq: i64,
    /// False for a status older than the case's last change: recorded, not applied.
    pub applied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The evidence stored with the event.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<serde_json::Value>,
}
