//! The one state machine every case goes through: collect → accept → dispatch → sign for →
//! handle → verify → close → evaluate, with the side roads of the field (reject, merge, return,
//! extension, rework, self-handling). Each move names the roles that may make it and what it
//! requires. No code anywhere else may change a case's status: storage calls [`Status::apply`].

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Collected,
    Accepted,
    Rejected,
    Merged,
    Dispatched,
    SignedFor,
    Returned,
    InProgress,
    ExtensionRequested,
    Handled,
    Verified,
    Rework,
    Closed,
    Evaluated,
}

impl Status {
    pub const ALL: [Status; 14] = [
        Status::Collected,
        Status::Accepted,
        Status::Rejected,
        Status::Merged,
        Status::Dispatched,
        Status::SignedFor,
        Status::Returned,
        Status::InProgress,
        Status::ExtensionRequested,
        Status::Handled,
        Status::Verified,
        Status::Rework,
        Status::Closed,
        Status::Evaluated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Collected => "collected",
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
            Status::Merged => "merged",
            Status::Dispatched => "dispatched",
            Status::SignedFor => "signed_for",
            Status::Returned => "returned",
            Status::InProgress => "in_progress",
            Status::ExtensionRequested => "extension_requested",
            Status::Handled => "handled",
            Status::Verified => "verified",
            Status::Rework => "rework",
            Status::Closed => "closed",
            Status::Evaluated => "evaluated",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A case in one of these needs nothing more from anyone.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Rejected | Status::Merged | Status::Evaluated)
    }

    /// The moves that are possible from this status, for any role.
    pub fn allowed_moves(self) -> Vec<Move> {
        Move::ALL
            .into_iter()
            .filter(|m| m.rule().from.contains(&self))
            .collect()
    }

    /// The one way a case changes status: checks the move, the role and what it requires.
    pub fn apply(self, mv: Move, role: Role, input: &MoveInput) -> Result<Status, MoveError> {
        let rule = mv.rule();
        if !rule.from.contains(&self) {
            return Err(MoveError::NotFromHere {
                status: self,
                attempted: mv,
                allowed: self.allowed_moves(),
            });
        }
        if !rule.roles.contains(&role) {
            return Err(MoveError::RoleMayNot {
                role,
                attempted: mv,
            });
        }
        for need in rule.requires {
            let present = match need {
                Requirement::Reason => input
                    .reason
                    .as_deref()
                    .is_some_and(|r| !r.trim().is_empty()),
                Requirement::Note => input.note.as_deref().is_some_and(|n| !n.trim().is_empty()),
                Requirement::Parent => input.parent.as_deref().is_some_and(|p| !p.is_empty()),
                Requirement::Department => {
                    input.department.as_deref().is_some_and(|d| !d.is_empty())
                }
                Requirement::Hours => input
                    .hours
                    .is_some_and(|h| h > 0.0 && h <= MAX_EXTENSION_HOURS),
                Requirement::Correction => input.category.is_some() || input.point.is_some(),
            };
            if !present {
                return Err(MoveError::Missing {
                    attempted: mv,
                    field: need.field(),
                });
            }
        }
        Ok(rule.to.after(self))
    }
}

/// Who makes a move. Departments and grid workers act on their own cases only (checked by
/// the caller, which knows the case); the machine checks the kind of actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    Operator,
    Department,
    GridWorker,
    /// Rules and sweeps acting without a person.
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Operator => "operator",
            Role::Department => "department",
            Role::GridWorker => "grid_worker",
            Role::System => "system",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Move {
    Accept,
    Reject,
    Merge,
    Dispatch,
    SignFor,
    Return,
    Start,
    RequestExtension,
    ApproveExtension,
    RefuseExtension,
    Handle,
    VerifyPass,
    VerifyFail,
    SelfHandle,
    Close,
    Evaluate,
    /// A correction of the category or the place by the city centre; the status stays.
    Correct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    Reason,
    Note,
    Parent,
    Department,
    /// Hours of an extension, more than 0 and at most [`MAX_EXTENSION_HOURS`].
    Hours,
    /// A correction: a new category, a new place, or both.
    Correction,
}

/// The longest extension one request may ask for: 30 days.
pub const MAX_EXTENSION_HOURS: f64 = 720.0;

impl Requirement {
    pub fn field(self) -> &'static str {
        match self {
            Requirement::Reason => "reason",
            Requirement::Note => "note",
            Requirement::Parent => "parent",
            Requirement::Department => "department",
            Requirement::Hours => "hours",
            Requirement::Correction => "category",
        }
    }
}

/// Where a move leads: a status, or the one the case is in (a correction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    To(Status),
    Stays,
}

impl Target {
    /// The status a case in `from` is in after the move.
    pub fn after(self, from: Status) -> Status {
        match self {
            Target::To(s) => s,
            Target::Stays => from,
        }
    }
}

/// One line of the transition table.
pub struct Rule {
    pub from: &'static [Status],
    pub to: Target,
    pub roles: &'static [Role],
    pub requires: &'static [Requirement],
}

/// The statuses of a case that is still being worked on: a correction applies to these.
const OPEN: &[Status] = &[
    Status::Collected,
    Status::Accepted,
    Status::Dispatched,
    Status::SignedFor,
    Status::Returned,
    Status::InProgress,
    Status::ExtensionRequested,
    Status::Handled,
    Status::Rework,
    Status::Verified,
];

use Requirement as R;
use Role::{Citizen, Department, GridWorker, Operator, System};
use Status as S;

impl Move {
    pub const ALL: [Move; 17] = [
        Move::Accept,
        Move::Reject,
        Move::Merge,
        Move::Dispatch,
        Move::SignFor,
        Move::Return,
        Move::Start,
        Move::RequestExtension,
        Move::ApproveExtension,
        Move::RefuseExtension,
        Move::Handle,
        Move::VerifyPass,
        Move::VerifyFail,
        Move::SelfHandle,
        Move::Close,
        Move::Evaluate,
        Move::Correct,
    ];

    /// The transition table: the whole lifecycle on one screen.
    pub fn rule(self) -> Rule {
        let (from, to, roles, requires): (&[Status], Status, &[Role], &[Requirement]) = match self {
            // The only move that keeps the status: see below.
            Move::Correct => {
                return Rule {
                    from: OPEN,
                    to: Target::Stays,
                    roles: &[Operator],
                    requires: &[R::Reason, R::Correction],
                };
            }
            Move::Accept => (&[S::Collected], S::Accepted, &[Operator, System], &[]),
            Move::Reject => (&[S::Collected], S::Rejected, &[Operator], &[R::Reason]),
            Move::Merge => (
                &[S::Collected, S::Accepted],
                S::Merged,
                &[Operator],
                &[R::Parent],
            ),
            Move::Dispatch => (
                &[S::Accepted, S::Returned],
                S::Dispatched,
                &[Operator, System],
                &[R::Department],
            ),
            Move::SignFor => (&[S::Dispatched], S::SignedFor, &[Department], &[]),
            Move::Return => (
                &[S::Dispatched, S::SignedFor],
                S::Returned,
                &[Department],
                &[R::Reason],
            ),
            Move::Start => (
                &[S::SignedFor, S::Rework],
                S::InProgress,
                &[Department],
                &[],
            ),
            Move::RequestExtension => (
                &[S::SignedFor, S::InProgress],
                S::ExtensionRequested,
                &[Department],
                &[R::Reason, R::Hours],
            ),
            Move::ApproveExtension => (&[S::ExtensionRequested], S::InProgress, &[Operator], &[]),
            Move::RefuseExtension => (
                &[S::ExtensionRequested],
                S::InProgress,
                &[Operator],
                &[R::Reason],
            ),
            Move::Handle => (
                &[S::SignedFor, S::InProgress, S::Rework],
                S::Handled,
                &[Department],
                &[R::Note],
            ),
            Move::VerifyPass => (&[S::Handled], S::Verified, &[GridWorker, Operator], &[]),
            Move::VerifyFail => (
                &[S::Handled],
                S::Rework,
                &[GridWorker, Operator],
                &[R::Reason],
            ),
            Move::SelfHandle => (
                &[S::Collected, S::Accepted],
                S::Closed,
                &[GridWorker],
                &[R::Note],
            ),
            Move::Close => (&[S::Verified], S::Closed, &[Operator, System], &[]),
            Move::Evaluate => (&[S::Closed], S::Evaluated, &[Citizen], &[]),
        };
        Rule {
            from,
            to: Target::To(to),
            roles,
            requires,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Move::Accept => "accept",
            Move::Reject => "reject",
            Move::Merge => "merge",
            Move::Dispatch => "dispatch",
            Move::SignFor => "sign_for",
            Move::Return => "return",
            Move::Start => "start",
            Move::RequestExtension => "request_extension",
            Move::ApproveExtension => "approve_extension",
            Move::RefuseExtension => "refuse_extension",
            Move::Handle => "handle",
            Move::VerifyPass => "verify_pass",
            Move::VerifyFail => "verify_fail",
            Move::SelfHandle => "self_handle",
            Move::Close => "close",
            Move::Evaluate => "evaluate",
            Move::Correct => "correct",
        }
    }

    pub fn parse(s: &str) -> Option<Move> {
        Move::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// What a move may carry; which parts are required depends on the move.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MoveInput {
    pub reason: Option<String>,
    pub note: Option<String>,
    /// The case this one is a duplicate of (merge).
    pub parent: Option<String>,
    /// The department a case is dispatched to.
    pub department: Option<String>,
    /// Hours of an extension asked for (or granted).
    pub hours: Option<f64>,
    /// The helper departments (协办) of a dispatch, beside the lead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub helpers: Vec<String>,
    /// The citizen's rating (evaluate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// A correction's new category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A correction's new place, and the cell it lies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<crate::grid::code::Wgs84Point>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_code: Option<String>,
    /// The category whose step hours a new or recomputed deadline takes (the correction's new
    /// one, else the case's own), read by the caller before the write transaction, so that the
    /// transaction holds only writes. Absent, or of another code: the move reads it itself.
    #[serde(skip)]
    pub step_hours: Option<crate::directory::Category>,
}

/// How satisfied a citizen is with the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
}

impl Satisfaction {
    pub fn parse(s: &str) -> Option<Satisfaction> {
        [
            Satisfaction::Satisfied,
            Satisfaction::BasicallySatisfied,
            Satisfaction::Unsatisfied,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::BasicallySatisfied => "basically_satisfied",
            Satisfaction::Unsatisfied => "unsatisfied",
        }
    }
}

/// A citizen's rating of a closed case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rating {
    pub rating: Satisfaction,
    pub comment: Option<String>,
}

impl Rating {
    pub fn is_unsatisfied(&self) -> bool {
        self.rating == Satisfaction::Unsatisfied
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MoveError {
    #[error("a case in status {} cannot move by {}", status.as_str(), attempted.as_str())]
    NotFromHere {
        status: Status,
        attempted: Move,
        allowed: Vec<Move>,
    },
    #[error("a {} may not {}", role.as_str(), attempted.as_str())]
    RoleMayNot { role: Role, attempted: Move },
    #[error("{} requires {field}", attempted.as_str())]
    Missing {
        attempted: Move,
        field: &'static str,
    },
}

impl From<MoveError> for crate::Problem {
    fn from(err: MoveError) -> Self {
        match err {
            MoveError::NotFromHere {
                status,
                attempted,
                allowed,
            } => crate::Problem::forbidden_move(
                status.as_str(),
                attempted.as_str(),
                allowed.into_iter().map(|m| m.as_str().to_owned()).collect(),
            ),
            MoveError::RoleMayNot { role, attempted } => crate::Problem::forbidden(format!(
                "a {} may not {}",
                role.as_str(),
                attempted.as_str()
            )),
            MoveError::Missing { attempted, field } => {
                crate::Problem::validation(vec![crate::http::problem::FieldError::new(
                    field,
                    format!("{} requires {field}", attempted.as_str()),
                )])
            }
        }
    }
}

/// The status a case's audit trail leads to, replaying every move from `collected`.
/// `None` if the trail holds a move the machine would not have allowed.
pub fn replay<'a>(
    moves: impl IntoIterator<Item = (&'a Move, &'a Role, &'a MoveInput)>,
) -> Option<Status> {
    moves
        .into_iter()
        .try_fold(Status::Collected, |status, (mv, role, input)| {
            status.apply(*mv, *role, input).ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn full_input() -> MoveInput {
        MoveInput {
            reason: Some("r".into()),
            note: Some("n".into()),
            parent: Some("p".into()),
            department: Some("d".into()),
            hours: Some(24.0),
            category: Some("c".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_happy_path_closes_the_loop() {
        let input = full_input();
        let path = [
            (Move::Accept, Operator),
            (Move::Dispatch, Operator),
            (Move::SignFor, Department),
            (Move::Start, Department),
            (Move::Handle, Department),
            (Move::VerifyPass, GridWorker),
            (Move::Close, Operator),
            (Move::Evaluate, Citizen),
        ];
        let mut status = Status::Collected;
        for (mv, role) in path {
            status = status.apply(mv, role, &input).unwrap();
        }
        assert_eq!(status, Status::Evaluated);
    }

    #[test]
    fn a_forbidden_move_lists_the_allowed_ones() {
        let err = Status::Collected
            .apply(Move::SignFor, Department, &full_input())
            .unwrap_err();
        assert_eq!(
            err,
            MoveError::NotFromHere {
                status: Status::Collected,
                attempted: Move::SignFor,
                allowed: vec![
                    Move::Accept,
                    Move::Reject,
                    Move::Merge,
                    Move::SelfHandle,
                    Move::Correct
                ],
            }
        );
    }

    #[test]
    fn a_role_outside_the_rule_is_refused_and_requirements_are_checked() {
        assert!(matches!(
            Status::Dispatched.apply(Move::SignFor, Citizen, &full_input()),
            Err(MoveError::RoleMayNot { .. })
        ));
        assert_eq!(
            Status::SignedFor.apply(Move::Return, Department, &MoveInput::default()),
            Err(MoveError::Missing {
                attempted: Move::Return,
                field: "reason"
            })
        );
        let blank = MoveInput {
            reason: Some("  ".into()),
            ..Default::default()
        };
        assert!(
            Status::SignedFor
                .apply(Move::Return, Department, &blank)
                .is_err()
        );
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for m in Move::ALL {
            assert_eq!(Move::parse(m.as_str()), Some(m));
        }
    }

    #[test]
    fn final_statuses_have_no_moves_and_every_other_status_is_reachable() {
        for s in Status::ALL {
            assert_eq!(s.is_final(), s.allowed_moves().is_empty(), "{s:?}");
        }
        let reached: Vec<Status> = Move::ALL
            .iter()
            .filter_map(|m| match m.rule().to {
                Target::To(s) => Some(s),
                Target::Stays => None,
            })
            .collect();
        for s in Status::ALL.into_iter().filter(|s| *s != Status::Collected) {
            assert!(reached.contains(&s), "{s:?} unreachable");
        }
    }

    const ROLES: [Role; 5] = [Citizen, Operator, Department, GridWorker, System];

    proptest! {
        // Random moves by random roles: every status reached is one the table allows, and the
        // accepted moves replay to the same status.
        #[test]
        fn random_moves_never_leave_the_machine(steps in proptest::collection::vec((0..Move::ALL.len(), 0..ROLES.len(), any::<bool>()), 0..60)) {
            let mut status = Status::Collected;
            let mut trail: Vec<(Move, Role, MoveInput)> = Vec::new();
            for (m, r, with_input) in steps {
                let (mv, role) = (Move::ALL[m], ROLES[r]);
                let input = if with_input { full_input() } else { MoveInput::default() };
                match status.apply(mv, role, &input) {
                    Ok(next) => {
                        prop_assert!(mv.rule().from.contains(&status));
                        prop_assert!(mv.rule().roles.contains(&role));
                        prop_assert_eq!(next, mv.rule().to.after(status));
                        status = next;
                        trail.push((mv, role, input));
                    }
                    Err(_) => prop_assert!(!mv.rule().from.contains(&status) || !mv.rule().roles.contains(&role) || !with_input),
                }
            }
            let replayed = replay(trail.iter().map(|(m, r, i)| (m, r, i)));
            prop_assert_eq!(replayed, Some(status));
        }
    }
}
