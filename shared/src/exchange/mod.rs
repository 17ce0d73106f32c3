//! Everything that crosses to other systems: the outbox of signed webhooks, the inbox of
//! department callbacks' receipts, other platforms' mappings and notices, and Open311.

pub mod inbox;
pub mod open311;
pub mod outbox;
pub mod platforms;
