//! The route tables through the component handlers: a 405 names the path's methods in `Allow`
//! and in `allowed`, and each route refuses or serves a caller as its `Access` says.

use serde_json::Value as Json;

use super::routes::{Access, Entry, every_route};
use super::testkit::{call, city, request};
use crate::ApiRequest;
use crate::access::auth::StaffRole;
use crate::native::testenv::{ADMIN_TOKEN, OPERATOR_TOKEN, TestEnv};

/// The `Allow` header of a 405, checked against the problem's `allowed` (under `/open311/`,
/// where the answer is the spec's error list, against its code).
fn allow(env: &TestEnv, method: &str, path: &str) -> String {
    let response = call(env, ApiRequest::new(method, path));
    let body: Json = serde_json::from_slice(&response.body).unwrap_or(Json::Null);
    if path.starts_with("/open311/") {
        assert_eq!(
            (response.status, &body[0]["code"]),
            (405, &Json::from(405)),
            "{method} {path}: {body}"
        );
        return response.header("allow").unwrap_or_default().to_owned();
    }
    assert_eq!(
        (response.status, body["type"].as_str()),
        (405, Some("/problems/method-not-allowed")),
        "{method} {path}: {body}"
    );
    let header = response.header("allow").unwrap_or_default().to_owned();
    let listed: Vec<&str> = body["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(header, listed.join(", "), "{method} {path}");
    header
}

#[test]
fn a_405_of_any_component_lists_the_methods_of_its_path_in_allow() {
    let env = TestEnv::new();
    for (method, path, methods) in [
        ("DELETE", "/api/reports", "POST"),
        ("PUT", "/api/session", "POST, GET, DELETE"),
        ("PATCH", "/api/cases/01ABC/mediation", "GET, POST"),
        ("GET", "/api/callbacks/gardens", "POST"),
        ("DELETE", "/open311/v2/requests.json", "GET, POST"),
        ("POST", "/api/grids/350203.geojson", "GET"),
        ("POST", "/track.html", "GET, HEAD"),
    ] {
        assert_eq!(allow(&env, method, path), methods, "{method} {path}");
    }
}

/// A path of the route with its parameters filled in: `.json` for a format, a department and
/// a platform that the test city has, `x` for the rest.
pub(super) fn example(route: &Entry) -> String {
    let mut out = route
        .path
        .replace(".{format}", ".json")
        .replace("{department}", "gardens")
        .replace("{platform}", "12345");
    while let (Some(open), Some(close)) = (out.find('{'), out.find('}')) {
        out.replace_range(open..=close, "x");
    }
    out
}

#[test]
fn every_path_of_every_table_answers_another_method_with_exactly_its_methods() {
    let env = TestEnv::new();
    let all = every_route();
    let mut seen = Vec::new();
    for route in &all {
        if seen.contains(&route.path) {
            continue;
        }
        seen.push(route.path);
        let methods: Vec<&str> = all
            .iter()
            .filter(|r| r.path == route.path)
            .map(|r| r.method.as_str())
            .collect();
        assert_eq!(
            allow(&env, "OPTIONS", &example(route)),
            methods.join(", "),
            "{}",
            route.path
        );
    }
}

fn status(env: &TestEnv, route: &Entry, token: Option<&str>) -> u16 {
    call(
        env,
        request(route.method.as_str(), &example(route), token, None),
    )
    .status
}

#[test]
fn every_route_refuses_or_serves_callers_as_its_access_says() {
    let env = city();
    for route in every_route() {
        let what = format!(
            "{} {} ({:?})",
            route.method.as_str(),
            route.path,
            route.access
        );
        let anonymous = status(&env, &route, None);
        match route.access {
            Access::Staff(_) | Access::AnyStaff | Access::Session => {
                assert_eq!(anonymous, 401, "{what} without a token")
            }
            Access::Signed | Access::ApiKey => assert!(
                matches!(anonymous, 401 | 403),
                "{what} without credentials: {anonymous}"
            ),
            Access::PublicRateLimited | Access::Reporter | Access::PublicOrStaff(_) => assert!(
                !matches!(anonymous, 401 | 403),
                "{what} without a token: {anonymous}"
            ),
        }
        // The service tokens act as a city operator and as the administrator.
        for (token, role) in [
            (OPERATOR_TOKEN, StaffRole::CityOperator),
            (ADMIN_TOKEN, StaffRole::Admin),
        ] {
            let with_token = status(&env, &route, Some(token));
            let what = format!("{what} as {}: {with_token}", role.as_str());
            match route.access {
                Access::Staff(roles) | Access::PublicOrStaff(roles) if !roles.contains(&role) => {
                    assert_eq!(with_token, 403, "{what}")
                }
                Access::Staff(_) | Access::PublicOrStaff(_) | Access::AnyStaff => {
                    assert!(!matches!(with_token, 401 | 403), "{what}")
                }
                // A service token is no session to sign out of.
                Access::Session => assert!((400..500).contains(&with_token), "{what}"),
                Access::PublicRateLimited | Access::Reporter | Access::Signed | Access::ApiKey => {}
            }
        }
    }
}

#[test]
fn every_public_route_answers_429_past_its_limit_and_counts_per_client() {
    let env = TestEnv::new();
    env.now.set(env.now.get() - env.now.get() % 60_000); // the start of a minute
    let from = |route: &Entry, addr: &str| {
        let mut req = request(route.method.as_str(), &example(route), None, None);
        req.headers.push((
            crate::access::limits::CLIENT_ADDR_HEADER.into(),
            addr.into(),
        ));
        call(&env, req)
    };
    let public = every_route().into_iter().filter(|r| {
        matches!(
            r.access,
            Access::PublicRateLimited | Access::Reporter | Access::PublicOrStaff(_)
        )
    });
    // Each route's own client, so that routes sharing a limit do not spend each other's.
    for (i, route) in public.enumerate() {
        let what = format!("{} {}", route.method.as_str(), route.path);
        let client = format!("203.0.113.{}:5000", i + 1);
        // The highest limit of a public route is 120 a minute.
        let refused = (0..=120).find_map(|_| {
            let r = from(&route, &client);
            (r.status == 429).then_some(r)
        });
        let refused = refused.unwrap_or_else(|| panic!("{what}: no 429 after 121 requests"));
        assert!(
            refused.header("retry-after").is_some(),
            "{what}: Retry-After"
        );
        assert_ne!(
            from(&route, "198.51.100.77:1").status,
            429,
            "{what}: another client has its own allowance"
        );
    }
}
