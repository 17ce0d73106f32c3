//! Cases: the one state machine every case goes through ([`machine`]), the store that is the only
//! writer of cases and their audit trail ([`store`]), the step clock and its lights ([`clock`]),
//! what a report must be ([`report`]), evidence, personal data and mediation records.

pub mod clock;
pub mod evidence;
pub mod machine;
pub mod mediation;
pub mod privacy;
pub mod publication;
pub mod report;
pub mod store;

/// The cases' part of schema versions 1, 3 (retention) and 5 (evidence), as `app::schema`
/// applies them.
pub const MIGRATION_1: &str = include_str!("sql/001_cases.sql");
pub const MIGRATION_3: &str = include_str!("sql/003_retention.sql");
pub const MIGRATION_5: &str = include_str!("sql/005_cases.sql");
pub const MIGRATION_9: &str = include_str!("sql/009_publication.sql");
pub const MIGRATION_10: &str = include_str!("sql/010_near_square.sql");

pub use machine::{
    MAX_EXTENSION_HOURS, Move, MoveError, MoveInput, Rating, Requirement, Role, Rule, Satisfaction,
    Status, Target, replay,
};
