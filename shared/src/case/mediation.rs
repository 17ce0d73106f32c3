//! Disputes (矛盾纠纷) are cases whose handling is mediation: the parties, the sessions (date,
//! participants, notes), the outcome (agreement, failed, referred) and a follow-up visit. The
//! record is append-only beside the case; the outcome is also the case's `handle` move, so the
//! dispute runs through the same state machine and deadlines as any case.

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::http::problem::FieldError;
use crate::{Database, Problem, StoreError};

/// One entry of a mediation record, as sent to `POST /api/cases/{id}/mediation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "MediationEntry")]
pub enum Entry {
    Party {
        name: String,
        role: String,
        contact: Option<String>,
    },
    Session {
        held_at: String,
        participants: Vec<String>,
        notes: String,
    },
    Outcome {
        outcome: Outcome,
        agreement: Option<String>,
    },
    FollowUp {
        visited_at: String,
        notes: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Agreement,
    Failed,
    Referred,
}

impl Entry {
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Party { .. } => "party",
            Entry::Session { .. } => "session",
            Entry::Outcome { .. } => "outcome",
            Entry::FollowUp { .. } => "follow_up",
        }
    }

    pub fn validate(&self) -> Result<(), Problem> {
        let mut errors = Vec::new();
        let mut text = |field: &str, v: &str, max: usize| {
            if v.trim().is_empty() || v.chars().count() > max {
                errors.push(FieldError::new(field, format!("1 to {max} characters")));
            }
        };
        match self {
            Entry::Party { name, role, .. } => {
                text("name", name, 100);
                text("role", role, 100);
            }
            Entry::Session {
                held_at,
                participants,
                notes,
            } => {
                text("held_at", held_at, 40);
                text("notes", notes, 4000);
                if participants.is_empty() || participants.iter().any(|p| p.trim().is_empty()) {
                    errors.push(FieldError::new(
                        "participants",
                        "at least one named participant",
                    ));
                }
            }
            Entry::Outcome { outcome, agreement } => {
                if *outcome == Outcome::Agreement
                    && agreement.as_deref().is_none_or(|a| a.trim().is_empty())
                {
                    errors.push(FieldError::new(
                        "agreement",
                        "an agreement outcome needs its terms",
                    ));
                }
            }
            Entry::FollowUp { visited_at, notes } => {
                text("visited_at", visited_at, 40);
                text("notes", notes, 4000);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(errors))
        }
    }

    /// The note an outcome leaves on the case's `handle` move.
    pub fn outcome_note(&self) -> Option<String> {
        match self {
            Entry::Outcome { outcome, agreement } => Some(match outcome {
                Outcome::Agreement => format!("agreement: {}", agreement.as_deref().unwrap_or("")),
                Outcome::Failed => "mediation failed".into(),
                Outcome::Referred => "referred to another body".into(),
            }),
            _ => None,
        }
    }
}

/// Appends an entry to a case's mediation record; returns its sequence number.
pub async fn append<D: Database>(
    db: &D,
    case_id: &str,
    entry: &Entry,
    now: i64,
) -> Result<i64, StoreError> {
    let rows = db
        .execute(
            "INSERT INTO mediation (case_id, seq, kind, details, at) \
             VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM mediation WHERE case_id = ?), ?, ?, ?) RETURNING seq",
            &[
                case_id.into(),
                case_id.into(),
                entry.kind().into(),
                serde_json::to_string(entry).unwrap_or_default().into(),
                now.into(),
            ],
        )
        .await?;
    rows.first().map_or(Ok(0), |r| r.i64("seq"))
}

/// The whole mediation record of a case, oldest first.
pub async fn record<D: Database>(db: &D, case_id: &str) -> Result<Vec<Json>, StoreError> {
    let rows = db
        .execute(
            "SELECT seq, details, at FROM mediation WHERE case_id = ? ORDER BY seq",
            &[case_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let details: Json = serde_json::from_str(&r.text("details")?).unwrap_or(Json::Null);
            Ok(json!({"seq": r.i64("seq")?, "at": crate::time::rfc3339(r.i64("at")?), "entry": details}))
        })
        .collect()
}
