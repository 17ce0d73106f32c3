//! Cases: the one state machine every case goes through ([`machine`]), the store that is the only
//! writer of cases and their audit trail ([`store`]), the step clock and its lights ([`clock`]),
//! what a report must be ([`report`]), evidence, personal data and mediation records.

pub mod clock;
pub mod evidence;
pub mod machine;
pub mod mediation;
pub mod privacy;
pub mod report;
pub mod store;

pub use machine::{
    MAX_EXTENSION_HOURS, Move, MoveError, MoveInput, Rating, Requirement, Role, Rule, Satisfaction,
    Status, Target, replay,
};
