//! Routing as Spin does it, from the `[[trigger.http]]` tables of the workspace's spin.toml
//! (compiled in, so that the host, the tests and `spin up` read the very same manifest): an
//! exact route beats any wildcard, `/prefix/...` matches `/prefix` and everything under it, the
//! longest wildcard prefix wins, `/...` is the catch-all, and of two equal routes the last one
//! wins. It names the components; calling their handlers is the caller's business.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;

pub const SPIN_TOML: &str = include_str!("../../../spin.toml");

/// A manifest the host cannot run: unreadable, or naming a component or route it does not know.
#[derive(Debug, thiserror::Error)]
#[error("spin.toml: {0}")]
pub struct ManifestError(String);

/// What of spin.toml the native runners read.
#[derive(Debug, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, toml::Table>,
}

#[derive(Debug, Deserialize)]
pub struct Variable {
    pub default: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Triggers {
    pub http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
pub struct HttpTrigger {
    pub route: String,
    pub component: String,
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        toml::from_str(text).map_err(|e| ManifestError(e.to_string()))
    }

    pub fn embedded() -> Result<Manifest, ManifestError> {
        Manifest::parse(SPIN_TOML)
    }

    /// The variables that have a default in `[variables]`, as Spin resolves them.
    pub fn variable_defaults(&self) -> HashMap<String, String> {
        self.variables
            .iter()
            .filter_map(|(name, v)| Some((name.clone(), v.default.clone()?)))
            .collect()
    }
}

/// The components the native runners can run, by their name in spin.toml.
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
    Registry,
    StaticFiles,
}

impl Component {
    pub const ALL: [Component; 11] = [
        Component::Intake,
        Component::Grid,
        Component::Assets,
        Component::Dispatch,
        Component::Callbacks,
        Component::Indicators,
        Component::Accounts,
        Component::Ingest,
        Component::Open311,
        Component::Registry,
        Component::StaticFiles,
    ];

    /// Its name in spin.toml.
    pub fn name(self) -> &'static str {
        match self {
            Component::Intake => "intake",
            Component::Grid => "grid",
            Component::Assets => "assets",
            Component::Dispatch => "dispatch",
            Component::Callbacks => "callbacks",
            Component::Indicators => "indicators",
            Component::Accounts => "accounts",
            Component::Ingest => "ingest",
            Component::Open311 => "open311",
            Component::Registry => "registry",
            Component::StaticFiles => "static-files",
        }
    }

    pub fn from_name(name: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
    /// Fails on a component the runners do not know or a trigger naming no component.
    pub fn from_manifest(manifest: &Manifest) -> Result<Router, ManifestError> {
        let mut routes = Vec::new();
        for trigger in &manifest.trigger.http {
            let name = trigger.component.as_str();
            let Some(component) = Component::from_name(name) else {
                return Err(ManifestError(format!(
                    "the host has no handler for component {name:?}"
                )));
            };
            if !manifest.component.contains_key(name) {
                return Err(ManifestError(format!(
                    "route {} names the undeclared component {name:?}",
                    trigger.route
                )));
            }
            let (prefix, wildcard) = match trigger.route.strip_suffix("/...") {
                Some(prefix) => (prefix, true),
                None => (trigger.route.as_str(), false),
            };
            if segments(prefix).any(|s| s.starts_with(':') || s == "*" || s == "...") {
                return Err(ManifestError(format!(
                    "the host does not support the route {}",
                    trigger.route
                )));
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

    /// The router of the workspace's spin.toml.
    pub fn embedded() -> Result<Router, ManifestError> {
        Router::from_manifest(&Manifest::embedded()?)
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

    #[test]
    fn the_real_manifest_routes_like_spin() {
        let router = Router::embedded().unwrap();
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
    fn of_two_equal_routes_the_last_wins() {
        let m = manifest(&[("/a/...", "intake"), ("/a/...", "grid")]);
        assert_eq!(Router::from_manifest(&m).unwrap().route("/a/b"), Some(Grid));
    }

    #[test]
    fn unknown_components_fail_at_start() {
        let m = manifest(&[("/x", "weather")]);
        let err = Router::from_manifest(&m).unwrap_err().to_string();
        assert!(err.contains("weather"), "{err}");
        let m = manifest(&[("/x", "assets")]);
        let err = Router::from_manifest(&m).unwrap_err().to_string();
        assert!(err.contains("undeclared"), "{err}");
        let m = manifest(&[("/x/:id", "intake")]);
        assert!(Router::from_manifest(&m).is_err(), "no route parameters");
    }

    #[test]
    fn every_component_has_its_spin_name() {
        for c in Component::ALL {
            assert_eq!(Component::from_name(c.name()), Some(c));
        }
        let m = Manifest::embedded().unwrap();
        for name in m.component.keys() {
            assert!(Component::from_name(name).is_some(), "{name}");
        }
    }
}
