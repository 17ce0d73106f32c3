//! Who may call a route, and every component's route table in one list: what the adapters read
//! for a body limit before they read a body, and what the tests hold to docs/openapi.json and
//! spin.toml. Each table lives at the top of its component's module; this module never routes a
//! request and never checks a caller (the handlers do, through `access`).

use crate::access::auth::StaffRole;
use crate::http::MAX_BODY_BYTES;
use crate::http::routes::{self, Method};

/// A route of a component's table, with [`Access`] for who may call it.
pub type Route<Id> = routes::Route<Id, Access>;

/// Who may call a route, as the handler enforces it; the table says it so that a reader, the
/// OpenAPI document and the tests see it without reading the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, counted per client address (429 with `Retry-After` past the limit). There is no
    /// public route without a limit: each one costs the server something a script can repeat.
    PublicRateLimited,
    /// Anyone, anonymous callers counted per client address; with a token, staff of these roles
    /// get more (a grid worker's report is a patrol, an operator sees the workers' whole names).
    /// A token that is sent is checked, so none skips the count.
    PublicOrStaff(&'static [StaffRole]),
    /// Whoever holds the report's secret (from the answer to `POST /api/reports`), counted per
    /// client address.
    Reporter,
    /// A staff session, or a service token, of one of these roles.
    Staff(&'static [StaffRole]),
    /// Any staff session or service token.
    AnyStaff,
    /// A staff session only: a service token is not one.
    Session,
    /// A department, by a Standard Webhooks signature with its secret.
    Signed,
    /// An API key (`ogk_…`) with the route's action, rate-limited per key.
    ApiKey,
}

/// One route of one component, without its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The component's name in spin.toml.
    pub component: &'static str,
    pub method: Method,
    pub path: &'static str,
    pub limit: usize,
    pub access: Access,
}

/// Every route of every component's table, in table order. The static pages have no table:
/// they answer GET and HEAD of any path the tables leave.
pub fn every_route() -> Vec<Entry> {
    use super::{
        accounts, assets, callbacks, dispatch, grid, indicators, ingest, intake, open311, registry,
    };
    let mut all = Vec::new();
    add(&mut all, "intake", intake::ROUTES);
    add(&mut all, "grid", grid::ROUTES);
    add(&mut all, "assets", assets::ROUTES);
    add(&mut all, "dispatch", dispatch::ROUTES);
    add(&mut all, "callbacks", callbacks::ROUTES);
    add(&mut all, "ingest", ingest::ROUTES);
    add(&mut all, "open311", open311::ROUTES);
    add(&mut all, "accounts", accounts::ROUTES);
    add(&mut all, "indicators", indicators::ROUTES);
    add(&mut all, "registry", registry::ROUTES);
    all
}

fn add<Id>(all: &mut Vec<Entry>, component: &'static str, table: &[Route<Id>]) {
    all.extend(table.iter().map(|r| Entry {
        component,
        method: r.method,
        path: r.path,
        limit: r.limit,
        access: r.who,
    }));
}

/// The body limit of the route a request goes to, from its method and path alone: the adapters
/// call this before reading the body. A request no route takes is refused unread, and gets the
/// ordinary limit meanwhile.
pub fn body_limit(method: &str, path: &str) -> usize {
    // Asked before every request's body: the table is made once, not per request.
    static ROUTES: std::sync::OnceLock<Vec<Entry>> = std::sync::OnceLock::new();
    ROUTES
        .get_or_init(every_route)
        .iter()
        .find(|r| {
            r.method.as_str().eq_ignore_ascii_case(method)
                && routes::matches(r.path, path).is_some()
        })
        .map_or(MAX_BODY_BYTES, |r| r.limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{MAX_CALLBACK_BODY_BYTES, MAX_MAP_BODY_BYTES, MAX_PHOTO_BODY_BYTES};

    #[test]
    fn routes_with_photos_get_room_for_them_and_no_other_does() {
        assert_eq!(body_limit("POST", "/api/reports"), MAX_PHOTO_BODY_BYTES);
        assert_eq!(
            body_limit("POST", "/api/cases/01ABC/moves"),
            MAX_PHOTO_BODY_BYTES
        );
        assert_eq!(
            body_limit("POST", "/api/callbacks/gardens"),
            MAX_CALLBACK_BODY_BYTES
        );
        assert_eq!(body_limit("POST", "/api/admin/grids"), MAX_MAP_BODY_BYTES);
        for path in [
            "/api/reports/K7QM-4XPT/rating",
            "/api/cases/01ABC/dispatch",
            "/api/session",
            "/api/cases/01ABC/moves/x",
        ] {
            assert_eq!(body_limit("POST", path), MAX_BODY_BYTES, "{path}");
        }
        // The limit is the route's: another method on the same path is no route, and reads little.
        assert_eq!(body_limit("GET", "/api/admin/grids"), MAX_BODY_BYTES);
    }

    #[test]
    fn every_route_is_in_one_table_once() {
        let all = every_route();
        let mut seen = std::collections::BTreeSet::new();
        for r in &all {
            assert!(
                seen.insert((r.method.as_str(), r.path)),
                "{} {} is twice in the tables",
                r.method.as_str(),
                r.path
            );
        }
    }
}
