//! What the staff pages read instead of lists of their own: the department directory
//! (`GET /api/departments`), the top-level areas of the map (`GET /api/grids`), and the names
//! of the staff in a case's trail (`actors` of `GET /api/cases/{id}`). Requests go through the
//! component spin.toml routes them to.

use std::collections::{BTreeMap, BTreeSet};

use futures::executor::block_on;
use serde_json::json;

use super::access_tests::{self, IN_A, SECRET, account, callback};
use super::testkit::{area, call_json, component_for, request, square};
use crate::Database;
use crate::native::testenv::{ADMIN_TOKEN, OPERATOR_TOKEN, TestEnv};

// ---- GET /api/departments

#[test]
fn every_department_is_listed_by_code_without_its_secret_or_webhook_address() {
    let env = access_tests::city(); // gardens and municipal, both with a webhook
    let office = json!({"name": "鼓浪屿街道办事处", "area_code": "350203001"});
    let (s, b) = call_json(
        &env,
        request(
            "PUT",
            "/api/admin/departments/street-350203001",
            Some(ADMIN_TOKEN),
            Some(office),
        ),
    );
    assert_eq!(s, 200, "{b}");

    let (s, b) = call_json(
        &env,
        request("GET", "/api/departments", Some(OPERATOR_TOKEN), None),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"items": [
            {"code": "gardens", "name": "gardens", "area_code": null, "has_webhook": true},
            {"code": "municipal", "name": "municipal", "area_code": null, "has_webhook": true},
            {"code": "street-350203001", "name": "鼓浪屿街道办事处", "area_code": "350203001", "has_webhook": false},
        ]})
    );
    let text = b.to_string();
    assert!(
        !text.contains(&SECRET[6..]) && !text.contains("127.0.0.1"),
        "no secret, no webhook address: {text}"
    );

    // Every signed-in role reads it (the matrix of access_tests.rs has each role); the
    // administrator, who keeps the directory, too.
    let (_, worker) = account(&env, "gw.a", "grid_worker", json!({"worker_id": "gw-a"}));
    for token in [ADMIN_TOKEN, worker.as_str()] {
        let (s, b) = call_json(&env, request("GET", "/api/departments", Some(token), None));
        assert_eq!(
            (s, b["items"].as_array().map(Vec::len)),
            (200, Some(3)),
            "{b}"
        );
    }
}

#[test]
fn the_department_list_wants_a_staff_token_and_a_get() {
    let env = access_tests::city();
    for token in [None, Some("not-a-token")] {
        let (s, b) = call_json(&env, request("GET", "/api/departments", token, None));
        assert_eq!(
            (s, b["type"].as_str()),
            (401, Some("/problems/unauthorized")),
            "{b}"
        );
    }
    let (s, b) = call_json(
        &env,
        request("POST", "/api/departments", Some(OPERATOR_TOKEN), None),
    );
    assert_eq!(
        (s, b["type"].as_str()),
        (405, Some("/problems/method-not-allowed")),
        "{b}"
    );
}

// ---- GET /api/grids

#[test]
fn the_top_level_areas_are_the_districts_of_the_current_map() {
    let env = TestEnv::new();
    // Before any map: none, and still a 200.
    let (s, b) = call_json(&env, request("GET", "/api/grids", None, None));
    assert_eq!((s, b), (200, json!({"items": []})));

    let (s, b) = call_json(
        &env,
        request(
            "POST",
            "/api/admin/grids",
            Some(ADMIN_TOKEN),
            Some(access_tests::map()),
        ),
    );
    assert_eq!(s, 201, "{b}");
    // Public, like the rest of the hierarchy; the streets, communities and cells are not listed.
    let (s, b) = call_json(&env, request("GET", "/api/grids", None, None));
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"items": [
            {"code": "350203", "name": "350203", "level": "district"},
            {"code": "350206", "name": "350206", "level": "district"},
        ]})
    );

    // A new map replaces the old one: only its districts are listed.
    let one = json!({"type": "FeatureCollection", "features": [
        area("350211"), area("350211001"), area("350211001001"),
        square("350211001001001", 118.08, 24.445),
    ]});
    let (s, b) = call_json(
        &env,
        request("POST", "/api/admin/grids", Some(ADMIN_TOKEN), Some(one)),
    );
    assert_eq!(s, 201, "{b}");
    let (_, b) = call_json(&env, request("GET", "/api/grids", None, None));
    assert_eq!(
        b,
        json!({"items": [{"code": "350211", "name": "350211", "level": "district"}]})
    );

    let (s, b) = call_json(&env, request("POST", "/api/grids", Some(ADMIN_TOKEN), None));
    assert_eq!(
        (s, b["type"].as_str()),
        (405, Some("/problems/method-not-allowed")),
        "{b}"
    );
    // The wildcard route of the grid component serves the bare path, and a code still works.
    assert_eq!(component_for("/api/grids").as_deref(), Some("grid"));
    let (s, _) = call_json(&env, request("GET", "/api/grids/350211", None, None));
    assert_eq!(s, 200);
}

#[test]
fn the_districts_are_found_through_the_parent_index_not_a_scan_of_the_cells() {
    let env = access_tests::city();
    let plan = block_on(env.execute(
        &format!("EXPLAIN QUERY PLAN {}", crate::grid::TOP_AREAS),
        &[],
    ))
    .unwrap();
    let detail: Vec<String> = plan.iter().map(|r| r.text("detail").unwrap()).collect();
    assert!(
        detail
            .iter()
            .any(|d| d.contains("grids_by_parent") && d.contains("parent=? AND version=?")),
        "{detail:?}"
    );
    assert!(
        !detail
            .iter()
            .any(|d| d.starts_with("SCAN g") || d == "SCAN grids"),
        "{detail:?}"
    );
}

// ---- actors of GET /api/cases/{id}

#[test]
fn a_case_names_the_staff_accounts_of_its_trail_and_no_other_actor() {
    let env = access_tests::city();
    let (op_id, op) = account(&env, "wang.op", "city_operator", json!({}));
    let (s, b) = call_json(
        &env,
        request(
            "PATCH",
            &format!("/api/admin/accounts/{op_id}"),
            Some(ADMIN_TOKEN),
            Some(json!({"display_name": "王调度"})),
        ),
    );
    assert_eq!(s, 200, "{b}");
    let (_, dept) = account(
        &env,
        "gardens.staff",
        "department",
        json!({"department": "gardens"}),
    );
    let id = access_tests::report(&env, "landscape.sign", IN_A);

    // Before any staff move: the citizen's report alone, no names.
    let (s, b) = call_json(
        &env,
        request("GET", &format!("/api/cases/{id}"), Some(&op), None),
    );
    assert_eq!((s, b["actors"].clone()), (200, json!({})), "{b}");

    // The operator accepts in a session; the service token dispatches; the department signs
    // for it by a callback (actor: its code).
    let moves = format!("/api/cases/{id}/moves");
    let (s, b) = call_json(
        &env,
        request("POST", &moves, Some(&op), Some(json!({"move": "accept"}))),
    );
    assert_eq!(s, 200, "{b}");
    let body = json!({"move": "dispatch", "department": "gardens"});
    let (s, b) = call_json(
        &env,
        request("POST", &moves, Some(OPERATOR_TOKEN), Some(body)),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = callback(
        &env,
        "gardens",
        json!({"case_id": id, "action": "signed_for"}),
    );
    assert_eq!(s, 200, "{b}");

    for token in [op.as_str(), dept.as_str(), OPERATOR_TOKEN] {
        let (s, b) = call_json(
            &env,
            request("GET", &format!("/api/cases/{id}"), Some(token), None),
        );
        assert_eq!(s, 200, "{b}");
        let actors: Vec<&str> = b["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["actor"].as_str().unwrap())
            .collect();
        assert_eq!(
            actors,
            ["citizen", op_id.as_str(), "operator", "gardens"],
            "{b}"
        );
        assert_eq!(b["actors"], json!({ op_id.clone(): "王调度" }), "{b}");
    }
}

#[test]
fn display_names_answer_the_accounts_among_the_ids_and_skip_the_rest() {
    let env = access_tests::city();
    let accounts: Vec<String> = (0..3)
        .map(|n| account(&env, &format!("op.{n}"), "city_operator", json!({})).0)
        .collect();
    let ids: BTreeSet<String> = accounts
        .iter()
        .cloned()
        .chain([
            "citizen".to_owned(),
            "gardens".to_owned(),
            "operator".to_owned(),
        ])
        .collect();
    let names = block_on(crate::access::accounts::display_names(&env, &ids)).unwrap();
    let expected: BTreeMap<String, String> = accounts
        .iter()
        .enumerate()
        .map(|(n, id)| (id.clone(), format!("op.{n}")))
        .collect();
    assert_eq!(names, expected);
    let none = block_on(crate::access::accounts::display_names(
        &env,
        &BTreeSet::new(),
    ))
    .unwrap();
    assert!(none.is_empty());
}
