//! What every change of a case brings along, beside the change itself: the indicators' counters
//! and the early-warning detectors in the same transaction, and a notice to the platform a case
//! came from. Every command that
//! creates or moves a case goes through here, never through the store alone.

use serde_json::Value as Json;

use crate::case::report::{Channel, Report};
use crate::case::store::{self, Actor, Case, Reporter};
use crate::case::{Move, MoveInput};
use crate::directory::Category;
use crate::exchange::{outbox, platforms};
use crate::grid::CellMatch;
use crate::{Database, Problem, indicators, warning};

/// A new case ([`store::create_with`]) counted as received, with `also` in its transaction.
pub async fn create_with<D: Database>(
    db: &D,
    report: &Report,
    category: &Category,
    cell: &CellMatch,
    reporter: &Reporter,
    now: i64,
    also: impl AsyncFnOnce(String) -> Result<(), Problem>,
) -> Result<(Case, String), Problem> {
    // Worked out before the transaction, which then only writes it.
    let received = indicators::received(&cell.cell.code, &category.code, now);
    let watch = warning::watch(db, cell, category, report.point, now).await?;
    store::create_with(
        db,
        report,
        category,
        cell,
        reporter,
        now,
        async |id: String| {
            received.write(db, &id).await?;
            watch.observe(db, &id).await?;
            also(id).await
        },
    )
    .await
}

/// One move of the state machine ([`store::apply_move`]), counted, and told to the case's source
/// platform. Call inside a transaction.
pub async fn apply_move<D: Database>(
    db: &D,
    case: &Case,
    mv: Move,
    actor: &Actor,
    input: &MoveInput,
    details: Json,
    now: i64,
) -> Result<(Case, i64), Problem> {
    let (after, seq) = store::apply_move(db, case, mv, actor, input, details.clone(), now).await?;
    indicators::record_move(db, case, mv, after.status, input, &details, now).await?;
    if mv == Move::Return
        && let Some(department) = &case.department
    {
        warning::observe_return(db, &case.id, department, now).await?;
    }
    if mv == Move::Correct {
        indicators::record_correction(db, case, &after.grid_code, &after.category).await?;
    }
    // A case that came from another platform tells it of every status change (outbox).
    if after.channel == Channel::Platform
        && after.status != case.status
        && let Some((code, data)) =
            platforms::status_notice(db, &after, mv, actor, seq, now).await?
    {
        let target = format!("{}{code}", outbox::PLATFORM_TARGET_PREFIX);
        outbox::enqueue(db, &case.id, &target, "case.status_changed", data, now).await?;
    }
    Ok((after, seq))
}
