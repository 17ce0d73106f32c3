//! docs/openapi.json cannot drift: every operation it documents is a route of a component's
//! table (same method, same path) and answers on TestEnv through the component spin.toml routes
//! it to; every route of every table is documented, with the security and rate limit its
//! `Access` says, and lies under a spin.toml route of its own component; every route of
//! spin.toml is documented.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::routes::{Access, every_route};
use super::routes_tests::example;
use super::testkit::{call, component_for, spin_routes};
use crate::ApiRequest;
use crate::access::auth::StaffRole;
use crate::native::testenv::TestEnv;

fn document() -> Json {
    serde_json::from_str(super::intake::OPENAPI).expect("docs/openapi.json is JSON")
}

fn documented() -> BTreeSet<(String, String)> {
    let doc = document();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

fn table_routes() -> BTreeSet<(String, String)> {
    every_route()
        .iter()
        .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
        .collect()
}

#[test]
fn every_documented_operation_is_a_handler_route_and_every_handler_route_is_documented() {
    let documented = documented();
    let handlers = table_routes();
    assert!(
        handlers.len() > 40,
        "the route tables are all listed: {handlers:?}"
    );
    let undocumented: Vec<_> = handlers.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&handlers).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from docs/openapi.json: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "documented operations no handler answers: {unknown:?}"
    );
}

#[test]
fn every_table_route_is_under_a_spin_route_of_its_own_component() {
    for route in every_route() {
        let path = example(&route);
        assert_eq!(
            component_for(&path).as_deref(),
            Some(route.component),
            "{} {} is in the table of {}, but spin.toml sends {path} elsewhere",
            route.method.as_str(),
            route.path,
            route.component
        );
    }
}

/// The security requirements an operation documents, by scheme name (`{}` is "none needed").
fn security(operation: &Json) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for requirement in operation["security"].as_array().into_iter().flatten() {
        let names: Vec<&String> = requirement.as_object().unwrap().keys().collect();
        match names.as_slice() {
            [] => out.insert("{}".to_owned()),
            [one] => out.insert((*one).clone()),
            more => panic!("one scheme per requirement: {more:?}"),
        };
    }
    out
}

/// What docs/openapi.json must say of a route with this access: its security requirements, and
/// whether it answers 429.
fn expected_security(access: Access) -> (Vec<&'static str>, bool) {
    // The two service tokens act as a city operator and as the administrator.
    let staff = |roles: &[StaffRole]| {
        let mut schemes = vec!["session"];
        if roles.contains(&StaffRole::CityOperator) {
            schemes.push("operatorToken");
        }
        if roles.contains(&StaffRole::Admin) {
            schemes.push("adminToken");
        }
        schemes
    };
    match access {
        Access::PublicRateLimited | Access::Reporter => (vec![], true),
        Access::PublicOrStaff(roles) => ([vec!["{}"], staff(roles)].concat(), true),
        Access::Staff(roles) => (staff(roles), false),
        Access::AnyStaff => (vec!["session", "operatorToken", "adminToken"], false),
        Access::Session => (vec!["session"], false),
        Access::Signed => (vec!["webhookSignature"], false),
        Access::ApiKey => (vec!["apiKey", "apiKeyHeader"], true),
    }
}

#[test]
fn every_operation_documents_the_access_of_its_table_route() {
    let doc = document();
    for route in every_route() {
        let method = route.method.as_str();
        let operation = &doc["paths"][route.path][method.to_lowercase()];
        let (schemes, limited) = expected_security(route.access);
        let schemes: BTreeSet<String> = schemes.into_iter().map(str::to_owned).collect();
        assert_eq!(
            security(operation),
            schemes,
            "{method} {}: the security of {:?}",
            route.path,
            route.access
        );
        if limited {
            assert!(
                operation["responses"].get("429").is_some(),
                "{method} {} is rate-limited ({:?}) but documents no 429",
                route.path,
                route.access
            );
        }
    }
}

#[test]
fn every_spin_route_is_documented() {
    let paths: Vec<String> = document()["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for (route, component) in spin_routes() {
        if route == "/..." {
            continue; // the static pages
        }
        let covered = match route.strip_suffix("/...") {
            Some(prefix) => paths
                .iter()
                .any(|p| p == prefix || p.starts_with(&format!("{prefix}/"))),
            None => paths.contains(&route),
        };
        assert!(
            covered,
            "spin.toml routes {route} to {component}; docs/openapi.json has no path for it"
        );
    }
}

#[test]
fn every_documented_operation_answers_through_the_component_spin_routes_it_to() {
    let env = TestEnv::new();
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete: String = path
            .replace("{format}", "xml")
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let response = call(&env, ApiRequest::new(&method.to_uppercase(), &concrete));
            let body: Json = serde_json::from_slice(&response.body).unwrap_or(Json::Null);
            let kind = body["type"].as_str().unwrap_or("");
            assert!(
                kind != "/problems/no-such-route" && kind != "/problems/method-not-allowed",
                "{method} {path} ({concrete}) is documented but answers {kind}"
            );
        }
    }
}

#[test]
fn the_document_is_served_and_is_openapi_3_1() {
    let env = TestEnv::new();
    let response = call(&env, ApiRequest::new("GET", "/api/openapi.json"));
    assert_eq!(
        (response.status, response.header("content-type")),
        (200, Some("application/json"))
    );
    let served: Json = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(served["openapi"], "3.1.0");
    // Every reference points at something the document defines.
    let text = super::intake::OPENAPI;
    let mut rest = text;
    while let Some(at) = rest.find("\"$ref\": \"#/") {
        rest = &rest[at + 10..];
        let end = rest.find('"').unwrap();
        let pointer = &rest[..end];
        assert!(
            served.pointer(pointer).is_some(),
            "dangling $ref #{pointer}"
        );
    }
}

/// docs/openapi.json is a fixed point of `api::openapi::generate`: its schemas are the types',
/// every typed body refers to them, and every route lists the statuses its kind can give.
/// `UPDATE_OPENAPI=1` writes what the generator makes instead of failing.
#[test]
fn the_document_is_what_the_generator_makes_of_it() {
    let file = document();
    let made = super::openapi::generate(&file);
    if made == file {
        return;
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        let text = serde_json::to_string_pretty(&made).unwrap() + "\n";
        std::fs::write(path, text).unwrap();
        return;
    }
    let differ: Vec<String> = made
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| file.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    panic!(
        "docs/openapi.json is not what the types and the route tables make of it (differs in {differ:?}): \
         run `UPDATE_OPENAPI=1 cargo test -p onegrid-shared openapi` and commit the file"
    );
}

/// Every JSON body the document describes is a reference to a named schema (or an array of
/// one), so that a client or a fuzzer learns its fields; the free-form ones are named too.
#[test]
fn every_json_body_is_a_named_schema() {
    let doc = document();
    let named = |schema: &Json| {
        schema.get("$ref").is_some()
            || (schema["type"] == "array" && schema["items"].get("$ref").is_some())
    };
    let mut bare = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/api/openapi.json" {
            continue; // the document itself
        }
        for (method, operation) in item.as_object().unwrap() {
            let request = operation["requestBody"]["content"].as_object();
            for (kind, media) in request.into_iter().flatten() {
                if kind.contains("json") && !named(&media["schema"]) {
                    bare.push(format!("{method} {path} request {kind}"));
                }
            }
            for (status, answer) in operation["responses"].as_object().unwrap() {
                for (kind, media) in answer["content"].as_object().into_iter().flatten() {
                    if kind.contains("json") && !named(&media["schema"]) {
                        bare.push(format!("{method} {path} {status} {kind}"));
                    }
                }
            }
        }
    }
    assert!(
        bare.is_empty(),
        "JSON bodies without a named schema: {bare:#?}"
    );
}
