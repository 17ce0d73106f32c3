//! A report comes in: a citizen's from the web form or a QR sign, or a grid worker's from patrol.
//! The category and the cell are found first (a point outside every cell is refused); the write
//! transaction then holds the case, its first event, its counters and its photos, so that a
//! report that got its 201 has all of them.

use crate::access::auth::Principal;
use crate::case::evidence::{self, Prepared};
use crate::case::report::{Channel, Report};
use crate::case::store::{Case, Reporter, ReporterKind};
use crate::directory::{self, Category};
use crate::grid::{self, CellMatch};
use crate::http::problem::FieldError;
use crate::{Env, Problem};

/// What a stored report is.
pub struct Submitted {
    pub case: Case,
    /// The reporter's one-time secret (only its hash is kept).
    pub secret: String,
    pub category: Category,
    pub cell: CellMatch,
}

/// Stores a checked report with its photos (already stripped of metadata). `patrol` is the grid
/// worker who reports on patrol, who may report only in their own cells.
pub async fn submit<E: Env>(
    env: &E,
    mut report: Report,
    photos: &[Prepared],
    patrol: Option<&Principal>,
) -> Result<Submitted, Problem> {
    let reporter = match patrol {
        Some(who) => {
            report.channel = Channel::Patrol;
            Reporter {
                kind: ReporterKind::GridWorker,
                id: Some(who.id.clone()),
            }
        }
        None => Reporter::citizen(),
    };
    let Some(category) = directory::category(env, &report.category).await? else {
        return Err(Problem::validation(vec![FieldError::new(
            "category",
            format!("no category {}", report.category),
        )]));
    };
    let Some(cell) = grid::locate(env, report.point).await? else {
        return Err(Problem::outside_jurisdiction(format!(
            "no grid cell within {} m of {:.6}, {:.6} (WGS-84)",
            grid::TOLERANCE_M,
            report.point.lat,
            report.point.lng
        )));
    };
    if let Some(who) = patrol
        && !who.covers(&cell.cell.code)
    {
        return Err(Problem::forbidden(format!(
            "cell {} is not one of this grid worker's cells",
            cell.cell.code
        )));
    }
    let now = env.now_ms();
    let (case, secret) =
        super::cases::create_with(env, &report, &category, &cell, &reporter, now, async |id| {
            evidence::store(env, &id, 1, evidence::REPORTER, photos, now).await?;
            Ok(())
        })
        .await?;
    Ok(Submitted {
        case,
        secret,
        category,
        cell,
    })
}
