//! Another platform (12345, 数字城管, public safety) pushes an event: authenticated by its API
//! key, read through its mapping, and known by its event id (or its bytes). The first event of an
//! external id creates a case (the link and the case in one transaction, under a unique key);
//! every later one becomes an event of that case or a move through the one state machine. A
//! message's first answer is kept in the inbox, so a re-sent one is answered the same.

use std::cell::{Cell, RefCell};

use serde_json::{Value as Json, json};

use super::callback::replay;
use crate::access::keys;
use crate::case::report::Channel;
use crate::case::store::{self, Actor, Reporter, ReporterKind};
use crate::case::{MoveInput, Role};
use crate::db::in_transaction;
use crate::exchange::inbox;
use crate::exchange::platforms::{self, Action, Inbound, Platform};
use crate::http::problem::{FieldError, ProblemType};
use crate::{ApiRequest, ApiResponse, Env, Problem, directory, grid};

/// What became of an event whose external id was not linked yet.
enum Created {
    Answer(ApiResponse),
    /// A concurrent request linked the id first: the event is an update of its case.
    LinkedMeanwhile,
    /// A concurrent delivery of this very message answered first.
    Replayed,
}

/// Authenticates, reads (through the platform's mapping), applies once and answers one event.
pub async fn receive<E: Env>(
    env: &E,
    req: &ApiRequest,
    code: &str,
) -> Result<ApiResponse, Problem> {
    crate::app::schema::ensure(env).await?;
    let platform = platforms::config(env, code)
        .await?
        .ok_or_else(|| Problem::not_found("platform", code))?;
    keys::authorize(env, keys::presented(req), keys::ACTION_INGEST, Some(code))
        .await?
        .map_err(Problem::from)?;
    let payload: Json = req.json()?;
    let event = platform.mapping.read(&payload)?;
    let source = platforms::actor_id(code);
    // A message is known by its event id within its work order (platforms number events per
    // order, and two orders may carry the same event id), or by its bytes: a re-sent body is
    // the same message. The external id goes in by its hash, so the key stays short.
    let message = match &event.event_id {
        Some(id) => format!(
            "event:{}:{id}",
            &crate::crypto::secret_hash(&event.external_id)[..16]
        ),
        None => format!(
            "sha256:{}",
            crate::crypto::secret_hash(&String::from_utf8_lossy(&req.body))
        ),
    };
    if let Some(first) = inbox::receipt(env, &source, &message).await? {
        return Ok(replay(first));
    }
    let now = env.now_ms();
    let linked = match platforms::linked_case(env, code, &event.external_id).await? {
        Some(case_id) => case_id,
        None => match create(env, &platform, &event, &message, now).await? {
            Created::Answer(answer) => return Ok(answer),
            Created::Replayed => {
                let first = inbox::receipt(env, &source, &message).await?;
                return Ok(replay(first.ok_or_else(Problem::internal)?));
            }
            Created::LinkedMeanwhile => platforms::linked_case(env, code, &event.external_id)
                .await?
                .ok_or_else(Problem::internal)?,
        },
    };
    match update(env, &platform, &event, &linked, &message, now).await? {
        Some(answer) => {
            crate::exchange::outbox::deliver_new_for_case(env, &linked, now).await;
            Ok(answer)
        }
        None => {
            let first = inbox::receipt(env, &source, &message).await?;
            Ok(replay(first.ok_or_else(Problem::internal)?))
        }
    }
}

fn event_details(platform: &Platform, event: &Inbound, message: &str) -> Json {
    // The platform's own note stays out of `note`: the public timeline shows `note`, and a
    // hotline's remark may name the caller.
    json!({
        "platform": platform.code, "external_id": event.external_id, "message": message,
        "platform_status": event.status, "platform_note": event.note,
        "occurred_at": event.occurred_at.map(crate::time::rfc3339),
    })
}

/// The first event of an external id: a case, its link and the message's receipt, at once.
async fn create<E: Env>(
    env: &E,
    platform: &Platform,
    event: &Inbound,
    message: &str,
    now: i64,
) -> Result<Created, Problem> {
    let input = event.report_input(&platform.mapping)?;
    let mut report = input.validate().map_err(Problem::validation)?;
    report.channel = Channel::Platform;
    let category = directory::category(env, &report.category)
        .await?
        .ok_or_else(|| {
            Problem::validation(vec![FieldError::new(
                "category",
                format!("no category {}", report.category),
            )])
        })?;
    let cell = grid::locate(env, report.point).await?.ok_or_else(|| {
        Problem::outside_jurisdiction(format!(
            "no grid cell within {} m of {:.6}, {:.6} (WGS-84)",
            grid::TOLERANCE_M,
            report.point.lat,
            report.point.lng
        ))
    })?;
    let source = platforms::actor_id(&platform.code);
    let reporter = Reporter {
        kind: ReporterKind::Platform,
        id: Some(source.clone()),
    };
    let lost = Cell::new(None::<Created>);
    let answer = RefCell::new(None::<ApiResponse>);
    let result = super::cases::create_with(
        env,
        &report,
        &category,
        &cell,
        &reporter,
        now,
        async |case_id: String| {
            if !inbox::claim(env, &source, message, now).await? {
                lost.set(Some(Created::Replayed));
                return Err(Problem::conflict(
                    "the message is being applied by another request",
                ));
            }
            let link = [
                platform.code.as_str().into(),
                event.external_id.as_str().into(),
                case_id.as_str().into(),
                now.into(),
            ];
            if env.execute(platforms::INSERT_LINK, &link).await?.is_empty() {
                lost.set(Some(Created::LinkedMeanwhile));
                return Err(Problem::conflict(
                    "the external id was linked by another request",
                ));
            }
            let mut case = store::by_id(env, &case_id)
                .await?
                .ok_or_else(Problem::internal)?;
            let mut details = event_details(platform, event, message);
            store::record_event(
                env,
                &case,
                "platform_link",
                &platform_actor(&platform.code),
                details.clone(),
                now,
            )
            .await?;
            case = store::by_id(env, &case_id)
                .await?
                .ok_or_else(Problem::internal)?;
            // A platform may send a case already past its first step (a case file registered as
            // it is sent): the machine decides whether that move can be made.
            let mut applied = false;
            if let Action::Move(mv) = platform.mapping.action(event.status.as_deref()) {
                details["applied"] = json!(true);
                match super::cases::apply_move(
                    env,
                    &case,
                    mv,
                    &platform_actor(&platform.code),
                    &MoveInput::default(),
                    details,
                    now,
                )
                .await
                {
                    Ok((moved, _)) => {
                        case = moved;
                        applied = true;
                    }
                    // Refused by the machine before anything was written: the case stays collected.
                    Err(p) if p.status < 500 => {}
                    Err(p) => return Err(p),
                }
            }
            let body = IngestAnswer {
                platform: platform.code.clone(),
                external_id: event.external_id.clone(),
                created: true,
                applied,
                case_id: case.id.clone(),
                tracking_code: case.tracking_code.clone(),
                status: case.status,
                event_seq: case.event_count,
                probable_duplicate: Some(!case.duplicate_candidates.is_empty()),
                reason: None,
            };
            let kept = kept_answer(env, &source, message, 201, &body).await?;
            answer.replace(Some(kept.with_header(
                "location",
                format!("/api/reports/{}", case.tracking_code),
            )));
            Ok(())
        },
    )
    .await;
    match (result, lost.take(), answer.take()) {
        (Ok(_), _, Some(answer)) => Ok(Created::Answer(answer)),
        (Err(_), Some(lost), _) => Ok(lost),
        (Err(p), None, _) => Err(p),
        (Ok(_), _, None) => Err(Problem::internal()),
    }
}

fn platform_actor(code: &str) -> Actor {
    Actor {
        role: Role::System,
        id: platforms::actor_id(code),
        channel: Channel::Platform,
    }
}

/// A later event of a linked external id: a move if its status asks for one the machine allows
/// and it is not older than the case's last change; otherwise an event of the case.
/// `None`: another delivery of the same message answered first.
async fn update<E: Env>(
    env: &E,
    platform: &Platform,
    event: &Inbound,
    case_id: &str,
    message: &str,
    now: i64,
) -> Result<Option<ApiResponse>, Problem> {
    let source = platforms::actor_id(&platform.code);
    in_transaction(env, async {
        if !inbox::claim(env, &source, message, now).await? {
            return Ok(None);
        }
        let case = store::by_id(env, case_id)
            .await?
            .ok_or_else(Problem::internal)?;
        let actor = platform_actor(&platform.code);
        let mut details = event_details(platform, event, message);
        let mut reason = None;
        let moved = match platform.mapping.action(event.status.as_deref()) {
            Action::Move(mv) => {
                let last = store::status_changed_at(env, case_id).await?;
                match (event.occurred_at, last) {
                    (Some(at), Some(last)) if at < last => {
                        reason = Some("an older status than the case's last change".to_owned());
                        None
                    }
                    _ => {
                        let mut with = details.clone();
                        with["applied"] = json!(true);
                        match super::cases::apply_move(
                            env,
                            &case,
                            mv,
                            &actor,
                            &MoveInput::default(),
                            with,
                            now,
                        )
                        .await
                        {
                            Ok(done) => Some(done),
                            Err(p) if p.status < 500 && p.kind != ProblemType::Conflict => {
                                reason = Some(p.detail.clone());
                                None
                            }
                            Err(p) => return Err(p),
                        }
                    }
                }
            }
            Action::Create | Action::Note => None,
        };
        let applied = moved.is_some();
        let (case, seq) = match moved {
            Some(done) => done,
            None => {
                details["applied"] = json!(false);
                if let Some(r) = &reason {
                    details["not_applied_because"] = json!(r);
                }
                let seq = store::record_event(env, &case, "platform_update", &actor, details, now)
                    .await?;
                (
                    store::by_id(env, case_id)
                        .await?
                        .ok_or_else(Problem::internal)?,
                    seq,
                )
            }
        };
        let body = IngestAnswer {
            platform: platform.code.clone(),
            external_id: event.external_id.clone(),
            created: false,
            applied,
            case_id: case.id,
            tracking_code: case.tracking_code,
            status: case.status,
            event_seq: seq,
            probable_duplicate: None,
            reason,
        };
        Ok(Some(kept_answer(env, &source, message, 200, &body).await?))
    })
    .await
}

/// The answer to a message, kept in the inbox so that a replay of it gets the same again.
async fn kept_answer<E: Env>(
    env: &E,
    source: &str,
    message: &str,
    status: u16,
    body: &IngestAnswer,
) -> Result<ApiResponse, Problem> {
    let bytes = serde_json::to_string(body).unwrap_or_default();
    inbox::answer(env, source, message, status, &bytes).await?;
    Ok(ApiResponse::json(status, body))
}

/// What a platform's message did: the case it made (201) or moved (200), or, replayed, the
/// same answer again. A status older than the case's last change is recorded, not applied.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct IngestAnswer {
    pub platform: String,
    pub external_id: String,
    pub created: bool,
    pub applied: bool,
    pub case_id: String,
    pub tracking_code: String,
    pub status: crate::case::Status,
    pub event_seq: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probable_duplicate: Option<bool>,
    /// Why the message was not applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
