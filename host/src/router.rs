//! Routing as Spin does it, from the `[[trigger.http]]` tables of spin.toml: an exact route
//! beats any wildcard, `/prefix/...` matches `/prefix` and everything under it, the longest
//! wildcard prefix wins, `/...` is the catch-all, and of two equal routes the last one wins.

use std::fmt;

use anyhow::bail;

use crate::manifest::Manifest;

/// The components the host can run, by their name in spin.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Intake,
    Grid,
    Assets,
    Dispatch,
    Callbacks,
    Indicators,
    Accounts,
    Ingest,
    Open311,
    StaticFiles,
}

impl Component {
    fn from_name(name: &str) -> Option<Component> {
        Some(match name {
            "intake" => Component::Intake,
            "grid" => Component::Grid,
            "assets" => Component::Assets,
            "dispatch" => Component::Dispatch,
            "callbacks" => Component::Callbacks,
            "indicators" => Component::Indicators,
            "accounts" => Component::Accounts,
            "ingest" => Component::Ingest,
            "open311" => Component::Open311,
            "static-files" => Component::StaticFiles,
            _ => return None,
        })
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Component::Intake => "intake",
            Component::Grid => "grid",
            Component::Assets => "assets",
            Component::Dispatch => "dispatch",
            Component::Callbacks => "callbacks",
            Component::Indicators => "indicators",
            Component::Accounts => "accounts",
            Component::Ingest => "ingest",
            Component::Open311 => "open311",
            Component::StaticFiles => "static-files",
        })
    }
}

#[derive(Debug)]
struct Route {
    segments: Vec<String>,
    wildcard: bool,
    component: Component,
}

#[derive(Debug)]
pub struct Router {
    routes: Vec<Route>,
}

/// A path as its non-empty segments: `//a/b/` is `a`, `b`, as Spin's router reads it.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

impl Router {
    /// Fails on a component the host does not know or a trigger naming no component.
    pub fn from_manifest(manifest: &Manifest) -> anyhow::Result<Router> {
        let mut routes = Vec::new();
        for trigger in &manifest.trigger.http {
            let name = trigger.component.as_str();
            let Some(component) = Component::from_name(name) else {
                bail!("spin.toml: the host has no handler for component {name:?}");
            };
            if !manifest.component.contains_key(name) {
                bail!(
                    "spin.toml: route {} names the undeclared component {name:?}",
                    trigger.route
                );
            }
            let (prefix, wildcard) = match trigger.route.strip_suffix("/...") {
                Some(prefix) => (prefix, true),
                None => (trigger.route.as_str(), false),
            };
            if segments(prefix).any(|s| s.starts_with(':') || s == "*" || s == "...") {
                bail!(
                    "spin.toml: the host does not support the route {}",
                    trigger.route
                );
            }
            let segments = segments(prefix).map(str::to_owned).collect();
            routes.push(Route {
                segments,
                wildcard,
                component,
            });
        }
        Ok(Router { routes })
    }

    /// The component for a path (without its query string).
    pub fn route(&self, path: &str) -> Option<Component> {
        let path: Vec<&str> = segments(path).collect();
        let mut best: Option<((bool, usize), Component)> = None;
        for route in &self.routes {
            let n = route.segments.len();
            let fits = if route.wildcard {
                path.len() >= n
            } else {
                path.len() == n
            };
            if !fits || !path.iter().zip(&route.segments).all(|(a, b)| a == b) {
                continue;
            }
            let rank = (!route.wildcard, n);
            if best.is_none_or(|(r, _)| rank >= r) {
                best = Some((rank, route.component));
            }
        }
        best.map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::Component::*;
    use super::*;

    fn real() -> Router {
        Router::from_manifest(&Manifest::embedded().unwrap()).unwrap()
    }

    #[test]
    fn the_real_manifest_routes_like_spin() {
        let router = real();
        let cases = [
            ("/api/reports", Intake),
            ("/api/reports/", Intake),
            ("/api/reports/AB", Intake),
            ("/api/reports/AB/rating", Intake),
            ("/api/categories", Intake),
            ("/api/health", Intake),
            ("/api/health/", Intake),
            ("/api/healthz", StaticFiles),
            ("/api/categories/x", StaticFiles),
            ("/api/grid/lookup", Grid),
            ("/api/grid", Grid),
            ("/api/grids", Grid),
            ("/api/grids/", Grid),
            ("/api/grids/350211", Grid),
            ("/api/admin/grids", Grid),
            ("/api/admin/grids/x", StaticFiles),
            ("/api/cases", Dispatch),
            ("/api/cases/01J/dispatch", Dispatch),
            ("/api/sweep", Dispatch),
            ("/api/departments", Dispatch),
            ("/api/departments/x", StaticFiles),
            ("/api/admin/departments/x", Dispatch),
            ("/api/admin/categories/x", Dispatch),
            ("/api/callbacks/roads", Callbacks),
            ("/api/openapi.json", Intake),
            ("/api/ingest/12345", Ingest),
            ("/api/admin/platforms", Ingest),
            ("/api/admin/keys/key_01", Ingest),
            ("/open311/v2/services.xml", Open311),
            ("/open311/v2/requests/K7QM-4XPT.json", Open311),
            ("/api/open311/pending", Open311),
            ("/api/indicators", Indicators),
            ("/api/indicators/x", Indicators),
            ("/api/session", Accounts),
            ("/api/admin/accounts", Accounts),
            ("/api/admin/accounts/01J", Accounts),
            ("/", StaticFiles),
            ("/index.html", StaticFiles),
            ("/css/app.css", StaticFiles),
            ("/api", StaticFiles),
        ];
        for (path, want) in cases {
            assert_eq!(router.route(path), Some(want), "{path}");
        }
    }

    fn manifest(routes: &[(&str, &str)]) -> Manifest {
        let mut text = String::new();
        for (route, component) in routes {
            text +=
                &format!("[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{component}\"\n");
        }
        for name in ["intake", "grid", "dispatch", "callbacks", "static-files"] {
            text += &format!("[component.{name}]\nsource = \"x.wasm\"\n");
        }
        Manifest::parse(&text).unwrap()
    }

    #[test]
    fn longest_wildcard_and_exact_win_whatever_the_order() {
        let m = manifest(&[
            ("/a/...", "intake"),
            ("/a/b/c/...", "dispatch"),
            ("/a/b/...", "grid"),
            ("/a/b", "callbacks"),
        ]);
        let router = Router::from_manifest(&m).unwrap();
        assert_eq!(router.route("/a/b/c/d"), Some(Dispatch));
        assert_eq!(router.route("/a/b/x"), Some(Grid));
        assert_eq!(router.route("/a/b"), Some(Callbacks));
        assert_eq!(router.route("/a/x"), Some(Intake));
        assert_eq!(router.route("/z"), None, "no catch-all here");
    }

    #[test]
    fn unknown_components_fail_at_start() {
        let m = manifest(&[("/x", "weather")]);
        let err = Router::from_manifest(&m).unwrap_err().to_string();
        assert!(err.contains("weather"), "{err}");
    }
}
