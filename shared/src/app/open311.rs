//! An Open311 client's update of a request (the service request updates extension, as
//! FixMyStreet posts its users' comments): the update joins the case's trail as an event, never
//! moves the case (a comment from outside is read by the people who handle the case, the state
//! machine is theirs), and reaches the case's department through the outbox. The client's own
//! id of the update is the idempotency key, per API key: a repeat gets the first answer again.

use serde_json::{Value as Json, json};

use crate::case::report::Channel;
use crate::case::store::{self, Actor, Case};
use crate::case::{Role, Status};
use crate::db::in_transaction;
use crate::exchange::{inbox, outbox};
use crate::{Env, Problem};

/// The event type of a client's update in the case's trail.
pub const UPDATE_EVENT: &str = "open311_update";
/// The webhook a department gets for it.
pub const UPDATE_WEBHOOK: &str = "case.comment";

/// What a client sent, checked by the handler.
#[derive(Debug, Clone)]
pub struct Update {
    /// The API key's id: updates are the key's, and so are their ids.
    pub key_id: String,
    /// The client's id of the update (FixMyStreet's `update_id_ext`).
    pub client_update_id: String,
    pub description: String,
    /// The client's status word (lower case), as it sees the request; recorded, not applied.
    pub client_status: Option<String>,
    /// When it happened at the client.
    pub updated_at: Option<i64>,
    pub media_urls: Vec<String>,
}

/// The answer to an update: the id of the event it became, `{tracking code}-{seq}` (the
/// `update_id` that `GET servicerequestupdates` lists it under), and whether this was a repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    pub update_id: String,
    pub status: u16,
    pub replayed: bool,
}

/// The inbox sender of a key's updates (kept apart from departments' and platforms' ids).
fn sender(key_id: &str) -> String {
    format!("open311:{key_id}")
}

/// Appends the update to `case` (found by the handler, never a dispute) once per client id.
pub async fn post_update<E: Env>(env: &E, case: &Case, update: &Update) -> Result<Posted, Problem> {
    let source = sender(&update.key_id);
    if let Some(first) = inbox::receipt(env, &source, &update.client_update_id).await? {
        return replayed(first);
    }
    let now = env.now_ms();
    let claimed = in_transaction(env, async {
        if !inbox::claim(env, &source, &update.client_update_id, now).await? {
            return Ok(None);
        }
        let actor = Actor {
            role: Role::Citizen,
            id: source.clone(),
            channel: Channel::Open311,
        };
        let mut details = json!({
            "client_update_id": update.client_update_id,
            // Public like any note of the trail (masked where it is shown).
            "note": update.description,
        });
        if let Some(status) = &update.client_status {
            details["client_status"] = json!(status);
        }
        if let Some(at) = update.updated_at {
            details["client_updated_at"] = json!(crate::time::rfc3339(at));
        }
        if !update.media_urls.is_empty() {
            details["media_urls"] = json!(update.media_urls);
        }
        let seq = store::record_event(env, case, UPDATE_EVENT, &actor, details, now).await?;
        // As the update list names it: by the case's public id, never its tracking code.
        let update_id = format!("{}-{seq}", case.public_id.as_deref().unwrap_or_default());
        // The department handling the case reads it at once; before a dispatch the centre
        // reads it in the case's trail, and the department gets the case with its trail.
        if let Some(department) = case
            .department
            .as_deref()
            .filter(|_| is_with_department(case.status))
        {
            let extra = json!({
                "comment": crate::mask::mask_free_text(&update.description),
                "media_urls": update.media_urls,
                "event_seq": seq,
                "source": "open311",
            });
            super::notices::notify(env, case, department, UPDATE_WEBHOOK, extra, now).await?;
        }
        let body = json!({"update_id": update_id}).to_string();
        inbox::answer(env, &source, &update.client_update_id, 201, &body).await?;
        Ok(Some(update_id))
    })
    .await?;
    match claimed {
        Some(update_id) => {
            outbox::deliver_new_for_case(env, &case.id, now).await;
            Ok(Posted {
                update_id,
                status: 201,
                replayed: false,
            })
        }
        // Another delivery of the same id answered first.
        None => {
            let first = inbox::receipt(env, &source, &update.client_update_id)
                .await?
                .ok_or_else(Problem::internal)?;
            replayed(first)
        }
    }
}

/// A case a department holds: dispatched to it and not yet back with the centre or ended.
fn is_with_department(status: Status) -> bool {
    matches!(
        status,
        Status::Dispatched
            | Status::SignedFor
            | Status::InProgress
            | Status::ExtensionRequested
            | Status::Handled
            | Status::Rework
    )
}

fn replayed(first: inbox::Receipt) -> Result<Posted, Problem> {
    if first.status == 0 {
        return Err(Problem::conflict(
            "this update is being applied; retry shortly",
        ));
    }
    let body: Json = serde_json::from_str(&first.body).map_err(|_| Problem::internal())?;
    let update_id = body["update_id"]
        .as_str()
        .ok_or_else(Problem::internal)?
        .to_owned();
    Ok(Posted {
        update_id,
        status: first.status as u16,
        replayed: true,
    })
}
