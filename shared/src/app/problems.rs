//! The one place where a command's error becomes a problem of the catalogue
//! (`http::problem::ProblemType`): which status and type each refusal is answered with.

use super::report::SubmitError;
use super::staff_move::MoveRefused;
use crate::Problem;
use crate::http::problem::FieldError;

fn field(name: &str, message: String) -> Problem {
    Problem::validation(vec![FieldError::new(name, message)])
}

impl From<SubmitError> for Problem {
    fn from(err: SubmitError) -> Problem {
        let text = err.to_string();
        match err {
            SubmitError::UnknownCategory(_) => field("category", text),
            SubmitError::OutsideJurisdiction { .. } => Problem::outside_jurisdiction(text),
            SubmitError::NotYourCell(_) => Problem::forbidden(text),
            SubmitError::PatrolWithoutWorker => field("channel", text),
            SubmitError::UnknownAsset(_) => field("asset_id", text),
            SubmitError::Store(e) => e.into(),
            SubmitError::Refused(p) => p,
        }
    }
}

impl From<MoveRefused> for Problem {
    fn from(err: MoveRefused) -> Problem {
        let text = err.to_string();
        match err {
            MoveRefused::NoCaseMoves | MoveRefused::NotForRole { .. } | MoveRefused::NotLead => {
                Problem::forbidden(text)
            }
            MoveRefused::NoSuchCase(id) => Problem::not_found("case", &id),
            MoveRefused::EvidenceNotTaken(_) => field("evidence", text),
            MoveRefused::UnknownDepartment(_) => field("department", text),
            MoveRefused::ParentNotInScope(_) | MoveRefused::BadParent => field("parent", text),
            MoveRefused::UnknownCategory(_) | MoveRefused::NothingToCorrect => {
                field("category", text)
            }
            MoveRefused::OutsideJurisdiction { .. } => Problem::outside_jurisdiction(text),
            MoveRefused::Store(e) => e.into(),
            MoveRefused::Refused(p) => p,
        }
    }
}
