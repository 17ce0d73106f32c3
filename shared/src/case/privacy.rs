//! Personal data in cases: the reporter's name and phone, and the phone and ID-card numbers
//! people type into free text. They are masked in every answer (public and staff), in webhooks
//! and in exports; a staff member sees them whole only by asking (`?reveal=contact`), which is
//! an audit event on the case. The retention sweep removes them from cases that ended long ago,
//! keeping the case and its statistics (the sweep, `app::sweep`, runs it; the case store writes).
//! Nothing here may log a value it masks.

use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::case::store::{self, Actor, Case, Change, WriteError};
use crate::db::in_transaction;
use crate::mask::{mask_free_text, mask_name, mask_phone};
use crate::time::DAY_MS;
use crate::{Database, Platform, Problem, StoreError};

pub use crate::case::store::{PRIVATE_EVENTS, PURGE_EVENT, REVEAL_EVENT};

/// How long contact data stays after a case ended, unless the Spin variable `retention_days`
/// says otherwise: a year, long enough for complaints about a closed case to come back.
pub const DEFAULT_RETENTION_DAYS: i64 = 365;

/// A case as a staff answer shows it unless its contact data was asked for.
pub fn masked(case: &Case) -> Case {
    let mut case = case.clone();
    case.contact_name = case.contact_name.as_deref().map(mask_name);
    case.contact_phone = case.contact_phone.as_deref().map(mask_phone);
    case.description = mask_free_text(&case.description);
    case.address = case.address.as_deref().map(mask_free_text);
    case.rating_comment = case.rating_comment.as_deref().map(mask_free_text);
    case
}

/// Keys of a trail's details whose strings are codes and ids, not anyone's words: they stay
/// whole in a staff answer (a grid code would otherwise read as an old ID number).
const CODE_KEYS: &[&str] = &[
    "grid",
    "grid_code",
    "category",
    "department",
    "parent",
    "helpers",
    "routing",
    "match",
    "probable_duplicates",
    "status",
    "from_status",
    "move",
    "fields",
    "kind",
    "role",
    "channel",
    "platform",
    "external_id",
    "message_id",
    "webhook_id",
    "id",
    "href",
    "content_type",
    "code",
    "level",
    "upload",
    "outcome",
    "held_at",
    "visited_at",
];

/// The details of a trail's event, or a mediation entry, as a staff answer shows them until a
/// recorded reveal: every string someone typed (notes, reasons, the rating comment, a
/// platform's note, a session's notes) through [`mask_free_text`], a party's `name` and the
/// `participants` like a contact name, a `contact` or `phone` like a phone number. Codes and
/// ids ([`CODE_KEYS`]) and numbers stay.
pub fn masked_details(details: &Json) -> Json {
    mask_json(details, None)
}

fn mask_json(value: &Json, key: Option<&str>) -> Json {
    match value {
        Json::String(s) => Json::String(match key {
            Some(k) if CODE_KEYS.contains(&k) => s.clone(),
            Some("name" | "participants") => mask_name(s),
            Some("contact" | "phone" | "contact_phone") => mask_phone(s),
            Some("contact_name") => mask_name(s),
            _ => mask_free_text(s),
        }),
        Json::Array(items) => Json::Array(items.iter().map(|v| mask_json(v, key)).collect()),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), mask_json(v, Some(k.as_str()))))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether a case holds anything that `masked` hides.
pub fn has_personal_data(case: &Case) -> bool {
    case.contact_name.is_some()
        || case.contact_phone.is_some()
        || mask_free_text(&case.description) != case.description
        || case
            .address
            .as_deref()
            .is_some_and(|a| mask_free_text(a) != a)
        || case
            .rating_comment
            .as_deref()
            .is_some_and(|c| mask_free_text(c) != c)
}

/// Records that `actor` saw the case's personal data whole, through the case store's one
/// writer (retried if the case moves meanwhile). Returns the event's sequence number.
pub async fn record_reveal<D: Database>(
    db: &D,
    case: &Case,
    actor: &Actor,
    now: i64,
) -> Result<i64, Problem> {
    let details = json!({"fields": ["contact_name", "contact_phone", "description", "address", "rating_comment", "trail", "mediation"]});
    let mut case = case.clone();
    for _ in 0..3 {
        let written = in_transaction(db, async {
            Ok(store::write(
                db,
                &case,
                Change::Note { kind: REVEAL_EVENT },
                actor,
                details.clone(),
                now,
            )
            .await)
        })
        .await?;
        match written {
            Ok(seq) => return Ok(seq),
            Err(WriteError::Changed) => {
                case = store::by_id(db, &case.id)
                    .await?
                    .ok_or_else(|| Problem::not_found("case", &case.id))?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(WriteError::Changed.into())
}

/// What one retention sweep did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RetentionReport {
    /// Cases whose personal data was removed.
    pub purged: u32,
    /// The retention period applied, in days.
    pub retention_days: i64,
}

/// The retention period: the Spin variable `retention_days` (a whole number of days, at least 1),
/// else [`DEFAULT_RETENTION_DAYS`].
pub async fn retention_days<P: Platform>(env: &P) -> Result<i64, StoreError> {
    Ok(match env.variable("retention_days").await? {
        None => DEFAULT_RETENTION_DAYS,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(days) if days >= 1 => days,
            _ => {
                tracing::warn!(
                    "retention_days must be a whole number of days, at least 1; using {DEFAULT_RETENTION_DAYS}"
                );
                DEFAULT_RETENTION_DAYS
            }
        },
    })
}

/// Cases not yet purged that ended (closed, or rejected or merged) before a time; the
/// expression is the one of the `cases_to_purge` index, so this is an index range.
const ENDED_BEFORE: &str = "SELECT id FROM cases WHERE purged_at IS NULL \
     AND COALESCE(closed_at, CASE WHEN status IN ('rejected', 'merged') THEN updated_at END) < ? LIMIT ?";

/// The ids of at most `batch` cases that ended more than `days` before `now` and still hold
/// their personal data.
pub async fn ended_before<D: Database>(
    db: &D,
    now: i64,
    days: i64,
    batch: i64,
) -> Result<Vec<String>, StoreError> {
    let cutoff = now - days * DAY_MS;
    let rows = db
        .execute(ENDED_BEFORE, &[cutoff.into(), batch.into()])
        .await?;
    rows.iter().map(|r| r.text("id")).collect()
}

/// What retention leaves of a case: the contact data goes; the description, the address, the
/// rating's comment and what people wrote in the trail (`events`, as read) are masked.
pub fn purged(case: &Case, events: &[store::Event]) -> Change<'static> {
    let trail = events
        .iter()
        .filter_map(|e| {
            let masked = masked_details(&e.details);
            (masked != e.details).then_some((e.seq, masked))
        })
        .collect();
    Change::Purge {
        description: mask_free_text(&case.description),
        address: case.address.as_deref().map(mask_free_text),
        rating_comment: case.rating_comment.as_deref().map(mask_free_text),
        trail,
    }
}
