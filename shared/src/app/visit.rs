//! A grid worker's visit comes in from the field page, often synced after a day offline: it is
//! stored once per device key, its findings go on the cell's lists, and a finding that needs
//! handling opens a case (a patrol report at the household's address) in the same transaction,
//! so that a visit and the case it opened land together or not at all.

use crate::access::auth::Principal;
use crate::case::report::ReportInput;
use crate::http::problem::FieldError;
use crate::registry::visits::{self, Visit, VisitInput};
use crate::{Env, Problem, db};

/// Stores a visit, or finds the one its key already stored. Returns the visit and whether this
/// call stored it (`false`: a repeated sync, answered with the first one's visit).
pub async fn record<E: Env>(
    env: &E,
    who: &Principal,
    input: &VisitInput,
) -> Result<(Visit, bool), Problem> {
    let now = env.now_ms();
    if let Some(known) = visits::by_key(env, &who.id, &input.key, now).await? {
        return Ok((known, false));
    }
    let visit = visits::check(env, who, input, now).await?;
    let stored = match &visit.case {
        None => {
            db::in_transaction(env, async {
                visits::store(env, who, &visit, None, now).await.map(drop)
            })
            .await
        }
        Some(finding) => {
            let (lat, lng) = match (finding.lat, finding.lng, visit.address_point) {
                (Some(lat), Some(lng), _) => (lat, lng),
                (None, None, Some(point)) => point,
                _ => {
                    return Err(Problem::validation(vec![FieldError::new(
                        "case.lat",
                        "both lat and lng, or a visit to a household (its address is the place)",
                    )]));
                }
            };
            let report = ReportInput {
                category: Some(finding.category.clone()),
                description: Some(finding.description.clone()),
                lat: Some(lat),
                lng: Some(lng),
                channel: Some("patrol".into()),
                ..Default::default()
            }
            .validate()
            .map_err(|errors| {
                Problem::validation(
                    errors
                        .into_iter()
                        .map(|e| FieldError::new(&format!("case.{}", e.field), e.message))
                        .collect(),
                )
            })?;
            super::report::submit_with(env, report, &[], Some(who), async |case_id| {
                visits::store(env, who, &visit, Some(&case_id), now)
                    .await
                    .map(drop)
            })
            .await
            .map(drop)
            .map_err(Problem::from)
        }
    };
    match stored {
        Ok(()) => {}
        // The same key synced at the same moment by another request: its visit stands.
        Err(p) if p.kind == crate::http::problem::ProblemType::Conflict => {
            if let Some(known) = visits::by_key(env, &who.id, &input.key, now).await? {
                return Ok((known, false));
            }
            return Err(p);
        }
        Err(p) => return Err(p),
    }
    let stored = visits::by_key(env, &who.id, &input.key, now)
        .await?
        .ok_or_else(Problem::internal)?;
    Ok((stored, true))
}
