//! A staff member's move on a case: the console's and the desk's buttons, the dispatch, and the
//! city centre's correction of a case's category or place. Everything the move needs from
//! outside the case (routing, the departments, the parent of a merge, the corrected cell) is
//! read and checked first; the write transaction holds only the case store's writes, the
//! evidence and the outbox messages; the webhooks go out after the commit.

use serde_json::{Value as Json, json};

use crate::access::auth::{Principal, StaffRole};
use crate::case::clock::{ClockChange, clock_change};
use crate::case::evidence::{self, Prepared};
use crate::case::report::Channel;
use crate::case::store::{self, Actor, Case};
use crate::case::{Move, MoveInput, Status};
use crate::db::in_transaction;
use crate::directory::routing::{self, Routing};
use crate::exchange::outbox::{self, Delivery};
use crate::grid::code::Wgs84Point;
use crate::{Env, Problem, StoreError, directory, grid};

/// What a staff member asked for.
#[derive(Debug, Clone)]
pub struct StaffMove {
    pub mv: Move,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub parent: Option<String>,
    pub department: Option<String>,
    pub helpers: Vec<String>,
    pub hours: Option<f64>,
    /// Photos already checked and stripped of their metadata.
    pub evidence: Vec<Prepared>,
    /// A correction's new category and place.
    pub category: Option<String>,
    pub point: Option<Wgs84Point>,
}

/// What the move did.
pub struct Moved {
    pub case: Case,
    /// The routing rule a dispatch followed, when the caller named no department.
    pub routed: Option<Routing>,
    /// The department webhooks sent for this move, and how each went.
    pub deliveries: Vec<Json>,
    /// The evidence stored with the move's event.
    pub evidence: Vec<Json>,
}

/// The moves that report what was found or done on site, and so may carry photos: a
/// department's result, a grid worker's self-handling, and a verification (pass or fail).
pub fn takes_evidence(mv: Move) -> bool {
    matches!(
        mv,
        Move::Handle | Move::SelfHandle | Move::VerifyPass | Move::VerifyFail
    )
}

/// Whether this staff member may ever make the move (beyond what the state machine's roles
/// say): a correction re-files a case across the city, so only the city centre corrects.
pub fn may_make(who: &Principal, mv: Move) -> bool {
    mv != Move::Correct || who.role == StaffRole::CityOperator
}

/// Why a move was not made (`app::problems` says which problem each is).
#[derive(Debug, thiserror::Error)]
pub enum MoveRefused {
    #[error("this account makes no case moves")]
    NoCaseMoves,
    #[error("a {role} may not {mv}")]
    NotForRole {
        role: &'static str,
        mv: &'static str,
    },
    /// No such case, or one outside the caller's scope: its existence is not told.
    #[error("no case {0}")]
    NoSuchCase(String),
    #[error(
        "only a move that reports a result carries evidence (handle, self_handle, verify_pass, verify_fail), not {0}"
    )]
    EvidenceNotTaken(&'static str),
    #[error("no department {0}")]
    UnknownDepartment(String),
    #[error("no case {0} in your scope")]
    ParentNotInScope(String),
    #[error("a case cannot merge into itself or into a merged or rejected case")]
    BadParent,
    #[error("no category {0}")]
    UnknownCategory(String),
    #[error(
        "no grid cell within {} m of {lat:.6}, {lng:.6} (WGS-84)",
        grid::TOLERANCE_M
    )]
    OutsideJurisdiction { lat: f64, lng: f64 },
    #[error("the case already has this category and place")]
    NothingToCorrect,
    #[error("only the lead department moves its case")]
    NotLead,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A layer below refused: the state machine, the case store, the routing.
    #[error(transparent)]
    Refused(#[from] Problem),
}

/// A staff member's case, or 404 (also for a case outside their scope: its existence is not told).
pub async fn case_in_scope<E: Env>(
    env: &E,
    who: &Principal,
    id: &str,
) -> Result<Case, MoveRefused> {
    store::by_id(env, id)
        .await?
        .filter(|c| who.may_see(c))
        .ok_or_else(|| MoveRefused::NoSuchCase(id.to_owned()))
}

/// Makes one move on a case, with what the move brings along: routing and webhooks for a
/// dispatch, the parent check of a merge, the new cell of a correction, notices to the
/// department of rework and extensions.
pub async fn make<E: Env>(
    env: &E,
    who: &Principal,
    id: &str,
    asked: StaffMove,
) -> Result<Moved, MoveRefused> {
    let mv = asked.mv;
    let role = who.case_role().ok_or(MoveRefused::NoCaseMoves)?;
    if !asked.evidence.is_empty() && !takes_evidence(mv) {
        return Err(MoveRefused::EvidenceNotTaken(mv.as_str()));
    }
    if !may_make(who, mv) {
        return Err(MoveRefused::NotForRole {
            role: who.role.as_str(),
            mv: mv.as_str(),
        });
    }
    let case = case_in_scope(env, who, id).await?;
    let now = env.now_ms();

    // What the move needs from outside the case, read before anything is written.
    let mut step_hours = None;
    let mut routed = None;
    let mut department = asked.department.clone();
    let mut helpers = asked.helpers.clone();
    let mut grid_code = None;
    match mv {
        Move::Dispatch => {
            if department.is_none() {
                let category = directory::category(env, &case.category)
                    .await?
                    .ok_or_else(Problem::internal)?;
                let route = routing::route(env, &category, &case.grid_code, now).await?;
                department = Some(route.lead.clone());
                if helpers.is_empty() {
                    helpers = route.helpers.clone();
                }
                routed = Some(route);
                step_hours = Some(category);
            }
            for d in department.iter().chain(helpers.iter()) {
                if directory::department(env, d).await?.is_none() {
                    return Err(MoveRefused::UnknownDepartment(d.clone()));
                }
            }
        }
        Move::Merge => {
            let parent_id = asked.parent.as_deref().unwrap_or_default();
            let parent = case_in_scope(env, who, parent_id)
                .await
                .map_err(|_| MoveRefused::ParentNotInScope(parent_id.to_owned()))?;
            if parent.id == case.id || matches!(parent.status, Status::Merged | Status::Rejected) {
                return Err(MoveRefused::BadParent);
            }
        }
        Move::Correct => {
            if let Some(code) = &asked.category {
                let Some(category) = directory::category(env, code).await? else {
                    return Err(MoveRefused::UnknownCategory(code.clone()));
                };
                step_hours = Some(category);
            }
            if let Some(point) = asked.point {
                let cell =
                    grid::locate(env, point)
                        .await?
                        .ok_or(MoveRefused::OutsideJurisdiction {
                            lat: point.lat,
                            lng: point.lng,
                        })?;
                grid_code = Some(cell.cell.code);
            }
            let same_category = asked.category.as_ref().is_none_or(|c| *c == case.category);
            let same_cell = grid_code.as_ref().is_none_or(|g| *g == case.grid_code);
            if same_category
                && same_cell
                && asked
                    .point
                    .is_none_or(|p| p.lat == case.lat && p.lng == case.lng)
            {
                return Err(MoveRefused::NothingToCorrect);
            }
        }
        Move::Accept
        | Move::Reject
        | Move::SignFor
        | Move::Return
        | Move::Start
        | Move::RequestExtension
        | Move::ApproveExtension
        | Move::RefuseExtension
        | Move::Handle
        | Move::VerifyPass
        | Move::VerifyFail
        | Move::SelfHandle
        | Move::Close
        | Move::Evaluate => {}
    }
    if who.role == StaffRole::Department && case.department != who.department {
        return Err(MoveRefused::NotLead);
    }

    let actor = Actor {
        role,
        id: who.id.clone(),
        channel: Channel::Console,
    };
    let mut input = MoveInput {
        reason: asked.reason.clone(),
        note: asked.note.clone(),
        parent: asked.parent.clone(),
        department: department.clone(),
        hours: asked.hours,
        helpers: helpers.clone(),
        category: asked.category.clone(),
        point: asked.point,
        grid_code: grid_code.clone(),
        rating: None,
        step_hours: None,
    };
    // A move that starts or recomputes a step takes its hours from the category: read here, so
    // that the transaction below holds only writes. (A dispatch of a collected case accepts it
    // first, and both start a step.)
    let starts_a_step = (mv == Move::Dispatch && case.status == Status::Collected)
        || case.status.apply(mv, role, &input).is_ok_and(|to| {
            matches!(
                clock_change(mv, to),
                ClockChange::Start(_) | ClockChange::Recompute
            )
        });
    input.step_hours = match step_hours {
        Some(category) => Some(category),
        None if starts_a_step => directory::category(env, &case.category).await?,
        None => None,
    };
    let mut details = match &routed {
        Some(r) => json!({"routing": r, "helpers": helpers}),
        None if !helpers.is_empty() => json!({"helpers": helpers}),
        None => json!({}),
    };
    if mv == Move::Correct {
        details["corrected"] = json!({
            "from": {"category": case.category, "grid": case.grid_code, "lat": case.lat, "lng": case.lng},
            "to": {"category": input.category, "grid": grid_code, "lat": asked.point.map(|p| p.lat), "lng": asked.point.map(|p| p.lng)},
        });
    }
    let (case, messages, stored) = in_transaction(env, async {
        let mut case = case;
        // A dispatch of a case still waiting for acceptance accepts it on the way: two moves, two events.
        if mv == Move::Dispatch && case.status == Status::Collected {
            case = super::cases::apply_move(
                env,
                &case,
                Move::Accept,
                &actor,
                &MoveInput::default(),
                json!({}),
                now,
            )
            .await?
            .0;
        }
        // The evidence belongs to the event this move appends, the next in the trail (the move
        // lands as exactly that one, or the transaction rolls back). A department's photos are
        // filed under the department, as its callbacks' are; anyone else's under the account.
        let source = match who.role {
            StaffRole::Department => who.department.clone().unwrap_or_else(|| who.id.clone()),
            _ => who.id.clone(),
        };
        let stored = evidence::store(
            env,
            &case.id,
            case.event_count + 1,
            &source,
            &asked.evidence,
            now,
        )
        .await?;
        if !stored.is_empty() {
            details["evidence"] = Json::Array(stored.clone());
        }
        let (case, _) =
            super::cases::apply_move(env, &case, mv, &actor, &input, details, now).await?;
        let mut messages = Vec::new();
        if mv == Move::Dispatch {
            let lead = department.clone().unwrap_or_default();
            for (d, role) in
                std::iter::once((&lead, "lead")).chain(helpers.iter().map(|h| (h, "helper")))
            {
                messages.extend(
                    super::notices::notify(
                        env,
                        &case,
                        d,
                        "case.dispatched",
                        json!({"role": role}),
                        now,
                    )
                    .await?,
                );
            }
        }
        let notice = match mv {
            Move::VerifyFail => Some("case.rework"),
            Move::ApproveExtension => Some("case.extension_approved"),
            Move::RefuseExtension => Some("case.extension_refused"),
            // A dispatch's notices went out above; the department makes the other moves itself.
            Move::Accept
            | Move::Reject
            | Move::Merge
            | Move::Dispatch
            | Move::SignFor
            | Move::Return
            | Move::Start
            | Move::RequestExtension
            | Move::Handle
            | Move::VerifyPass
            | Move::SelfHandle
            | Move::Close
            | Move::Evaluate
            | Move::Correct => None,
        };
        if let (Some(event), Some(d)) = (notice, case.department.clone()) {
            messages.extend(
                super::notices::notify(
                    env,
                    &case,
                    &d,
                    event,
                    json!({"reason": asked.reason, "note": asked.note}),
                    now,
                )
                .await?,
            );
        }
        Ok((case, messages, stored))
    })
    .await?;
    let mut deliveries = Vec::new();
    for id in &messages {
        let outcome = outbox::deliver(env, id).await.unwrap_or_else(|e| {
            tracing::error!(message_id = %id, error = %e, "a delivery failed to run");
            Delivery::Pending
        });
        deliveries.push(json!({"message_id": id, "status": outcome}));
    }
    // And what the move queued for others (the source platform of the case).
    outbox::deliver_new_for_case(env, &case.id, now).await;
    Ok(Moved {
        case,
        routed,
        deliveries,
        evidence: stored,
    })
}
