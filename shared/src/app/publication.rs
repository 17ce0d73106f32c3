//! Staff decide what public answers show of a case (`case::publication`): withdraw it from the
//! public lists (or put it back, where its reporter chose publication), and approve which of
//! its photos the public may see. One event records each decision, before and after.

use serde::Deserialize;
use serde_json::json;

use crate::case::evidence;
use crate::case::store::{self, Actor, Case, Change};
use crate::db::in_transaction;
use crate::http::problem::FieldError;
use crate::{Database, Problem};

/// `PUT /api/cases/{id}/publication`: the whole publication state of a case.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicationInput {
    /// Whether the case shows on public answers.
    pub public: bool,
    /// The images of the case the public may see (its own evidence ids); the others are not.
    #[serde(default)]
    pub photos: Vec<String>,
    /// Why: the trail keeps it (required when a case is withdrawn).
    pub reason: Option<String>,
}

/// What a case shows on public answers now.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Publication {
    pub public: bool,
    pub public_id: Option<String>,
    /// Whether the reporter chose publication (and the channel allows it): only then can the
    /// case be public.
    pub publishable: bool,
    pub photos: Vec<String>,
}

/// The publication state of a case, for the staff answer.
pub async fn of<D: Database>(db: &D, case: &Case) -> Result<Publication, Problem> {
    Ok(Publication {
        public: case.public,
        public_id: case.public_id.clone(),
        publishable: case.public_id.is_some(),
        photos: evidence::public_of(db, &case.id).await?,
    })
}

/// Sets what public answers show of `case`, on the version the caller read.
pub async fn set<D: Database>(
    db: &D,
    case: &Case,
    input: &PublicationInput,
    actor: &Actor,
    now: i64,
) -> Result<Publication, Problem> {
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let mut errors = Vec::new();
    if case.public && !input.public && reason.is_none() {
        errors.push(
            FieldError::new("reason", "say why the case is withdrawn from the public")
                .with_code("required"),
        );
    }
    if reason.is_some_and(|r| r.chars().count() > 500) {
        errors.push(FieldError::new("reason", "at most 500 characters").with_code("too_long"));
    }
    if input.photos.len() > 20 {
        errors.push(FieldError::new("photos", "at most 20 photos").with_code("too_many"));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    if input.public && case.public_id.is_none() {
        return Err(Problem::conflict(
            "the reporter did not choose publication (or the channel does not allow it): the case stays private",
        ));
    }
    let mut photos: Vec<String> = Vec::new();
    for id in &input.photos {
        if !photos.contains(id) {
            photos.push(id.clone());
        }
    }
    let images = evidence::images_of(db, &case.id, &photos).await?;
    if let Some(unknown) = photos.iter().find(|p| !images.contains(p)) {
        return Err(Problem::validation(vec![
            FieldError::new("photos", format!("{unknown} is not an image of this case"))
                .with_code("unknown"),
        ]));
    }
    let before = evidence::public_of(db, &case.id).await?;
    let details = json!({
        "from": {"public": case.public, "photos": before},
        "to": {"public": input.public, "photos": photos},
        "reason": reason,
    });
    in_transaction(db, async {
        store::write(
            db,
            case,
            Change::Publication {
                public: input.public,
            },
            actor,
            details,
            now,
        )
        .await?;
        evidence::set_public(db, &case.id, &photos, now).await?;
        Ok::<_, Problem>(())
    })
    .await?;
    Ok(Publication {
        public: input.public,
        public_id: case.public_id.clone(),
        publishable: case.public_id.is_some(),
        photos,
    })
}
