//! docs/openapi.json cannot drift: every operation it documents is an arm of a handler's route
//! table and answers on TestEnv through the component spin.toml routes it to; every arm of
//! every route table and every route of spin.toml is documented.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::testkit::{call, spin_routes};
use crate::ApiRequest;
use crate::native::testenv::TestEnv;

fn document() -> Json {
    serde_json::from_str(super::intake::OPENAPI).expect("docs/openapi.json is JSON")
}

/// A path's segments with every parameter as `{}`; Open311's `.{format}` suffix is dropped
/// (the handler matches on the name without it).
fn normalize(path: &str) -> String {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.strip_suffix(".{format}").unwrap_or(s))
        .map(|s| {
            if s.contains('{') {
                "{}".to_owned()
            } else {
                s.to_owned()
            }
        })
        .collect();
    format!("/{}", segments.join("/"))
}

fn documented() -> BTreeSet<(String, String)> {
    let doc = document();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert((method.to_uppercase(), normalize(path)));
        }
    }
    out
}

/// The arms `("METHOD", ["api", "cases", id, …])` of the handlers' route tables, read from
/// their source: a literal is a segment, a binding is a parameter.
fn handler_routes() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".rs")
            || name.contains("test")
            || name == "mod.rs"
            || name == "testkit.rs"
        {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let mut rest = source.as_str();
        while let Some(at) = rest.find("(\"") {
            rest = &rest[at + 2..];
            let Some(end) = rest.find('"') else { break };
            let method = &rest[..end];
            let after = &rest[end + 1..];
            if method.is_empty()
                || !method.bytes().all(|b| b.is_ascii_uppercase())
                || !after.starts_with(", [")
            {
                continue;
            }
            let Some(close) = after.find(']') else { break };
            let segments: Vec<String> = after[3..close]
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if s.starts_with('"') {
                        s.trim_matches('"').to_owned()
                    } else {
                        "{}".to_owned()
                    }
                })
                .collect();
            out.insert((method.to_owned(), format!("/{}", segments.join("/"))));
        }
    }
    out
}

#[test]
fn every_documented_operation_is_a_handler_route_and_every_handler_route_is_documented() {
    let documented = documented();
    let handlers = handler_routes();
    assert!(
        handlers.len() > 40,
        "the scan found the route tables: {handlers:?}"
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
