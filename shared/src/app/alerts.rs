//! An operator moves an early-warning alert of their area along its lifecycle: the move checked
//! against it, the status and the trail entry in one transaction.

use crate::access::auth::Principal;
use crate::db;
use crate::http::problem::{FieldError, ProblemType};
use crate::warning::{self, Alert, AlertAction, AlertStatus, Mover};
use crate::{Env, Problem};

/// The longest note a move keeps.
pub const NOTE_MAX_CHARS: usize = 500;

/// The body of `POST /api/alerts/{id}/moves`.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertMove {
    pub action: AlertAction,
    /// What is done (`act`), why it is no episode (`dismiss`, required), or a word on the others.
    #[serde(default)]
    pub note: Option<String>,
}

/// An alert in the caller's part of the city; another's is not found, as if it did not exist.
pub async fn visible<E: Env>(env: &E, who: &Principal, id: &str) -> Result<Alert, Problem> {
    match warning::by_id(env, id).await? {
        Some(alert) if who.covers(&alert.area) => Ok(alert),
        _ => Err(Problem::not_found("alert", id)),
    }
}

pub async fn move_alert<E: Env>(
    env: &E,
    who: &Principal,
    id: &str,
    input: &AlertMove,
) -> Result<Alert, Problem> {
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let mut errors = Vec::new();
    if input.action.needs_note() && note.is_none() {
        errors.push(
            FieldError::new("note", "say what is done, or why it is no episode")
                .with_code("required"),
        );
    }
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX_CHARS) {
        errors.push(
            FieldError::new("note", format!("at most {NOTE_MAX_CHARS} characters"))
                .with_code("too_long"),
        );
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let now = env.now_ms();
    db::in_transaction(env, async {
        let alert = visible(env, who, id).await?;
        let Some(to) = warning::after(alert.status, input.action) else {
            return Err(refused(alert.status, input.action));
        };
        let by = Mover {
            id: &who.id,
            role: who.role.as_str(),
            name: &who.name,
        };
        Ok(warning::apply(env, &alert, input.action, to, &by, note, now).await?)
    })
    .await
}

fn refused(status: AlertStatus, action: AlertAction) -> Problem {
    Problem::new(
        ProblemType::ForbiddenMove,
        format!(
            "an alert in status {} cannot move by {}",
            status.as_str(),
            action.as_str()
        ),
    )
    .with("status_now", serde_json::json!(status.as_str()))
    .with(
        "allowed_moves",
        serde_json::json!(
            warning::allowed(status)
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
        ),
    )
}
