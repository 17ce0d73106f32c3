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
use crate::{Env, Problem, StoreError};

/// What a stored report is.
pub struct Submitted {
    pub case: Case,
    /// The reporter's one-time secret (only its hash is kept).
    pub secret: String,
    pub category: Category,
    pub cell: CellMatch,
}

/// Why a report was not stored (`app::problems` says which problem each is).
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("no category {0}")]
    UnknownCategory(String),
    #[error(
        "no grid cell within {} m of {lat:.6}, {lng:.6} (WGS-84)",
        grid::TOLERANCE_M
    )]
    OutsideJurisdiction { lat: f64, lng: f64 },
    #[error("cell {0} is not one of this grid worker's cells")]
    NotYourCell(String),
    #[error(
        "a patrol report needs a grid worker's session; a resident reports on the web or by a QR sign"
    )]
    PatrolWithoutWorker,
    #[error("no asset {0}")]
    UnknownAsset(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A layer below refused (the case store, the photos).
    #[error(transparent)]
    Refused(#[from] Problem),
}

/// Stores a checked report with its photos (already stripped of metadata). `patrol` is the grid
/// worker who reports on patrol, who may report only in their own cells.
pub async fn submit<E: Env>(
    env: &E,
    report: Report,
    photos: &[Prepared],
    patrol: Option<&Principal>,
) -> Result<Submitted, SubmitError> {
    submit_with(env, report, photos, patrol, async |_| Ok(())).await
}

/// [`submit`], with `also` run in the case's write transaction once the case has its id (a
/// grid worker's visit that opened it is stored with it).
pub async fn submit_with<E: Env>(
    env: &E,
    mut report: Report,
    photos: &[Prepared],
    patrol: Option<&Principal>,
    also: impl AsyncFnOnce(String) -> Result<(), Problem>,
) -> Result<Submitted, SubmitError> {
    let reporter = match patrol {
        Some(who) => {
            report.channel = Channel::Patrol;
            Reporter {
                kind: ReporterKind::GridWorker,
                id: Some(who.id.clone()),
            }
        }
        None if report.channel == Channel::Patrol => return Err(SubmitError::PatrolWithoutWorker),
        None => Reporter::citizen(),
    };
    let Some(category) = directory::category(env, &report.category).await? else {
        return Err(SubmitError::UnknownCategory(report.category));
    };
    if let Some(asset) = &report.asset_id
        && crate::assets::get(env, asset).await?.is_none()
    {
        return Err(SubmitError::UnknownAsset(asset.clone()));
    }
    let Some(cell) = grid::locate(env, report.point).await? else {
        return Err(SubmitError::OutsideJurisdiction {
            lat: report.point.lat,
            lng: report.point.lng,
        });
    };
    if let Some(who) = patrol
        && !who.covers(&cell.cell.code)
    {
        return Err(SubmitError::NotYourCell(cell.cell.code));
    }
    let now = env.now_ms();
    let (case, secret) =
        super::cases::create_with(env, &report, &category, &cell, &reporter, now, async |id| {
            evidence::store(env, &id, 1, evidence::REPORTER, photos, now).await?;
            also(id).await
        })
        .await?;
    Ok(Submitted {
        case,
        secret,
        category,
        cell,
    })
}
