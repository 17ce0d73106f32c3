//! Notices to departments about their cases: the signed webhooks a dispatch, a rework or an
//! extension decision queue in the outbox, and what they carry.

use serde_json::{Value as Json, json};

use crate::case::store::Case;
use crate::exchange::outbox;
use crate::{Env, Problem, directory};

/// Queues a webhook message to a department that has an endpoint; returns its id.
pub async fn notify<E: Env>(
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
pub fn webhook_data(case: &Case, department: &str) -> Json {
    json!({
        "case_id": case.id,
        "tracking_code": case.tracking_code,
        "category": case.category,
        // Departments get the contact data only through the console's audited reveal.
        "description": crate::mask::mask_free_text(&case.description),
        "lat": case.lat,
        "lng": case.lng,
        "address": case.address.as_deref().map(crate::mask::mask_free_text),
        "grid": case.grid_code,
        "status": case.status,
        "priority": case.priority,
        "deadline": case.step_deadline_at,
        "callback_url": format!("/api/callbacks/{department}"),
    })
}
