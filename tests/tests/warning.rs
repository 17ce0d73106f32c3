//! Early warning as the centre meets it over HTTP: reports of one kind pile up in a quiet cell,
//! the fourth raises one alert with its evidence and its explanation on the board of the area's
//! operators (and of no other area's); a dismissal needs its reason, is on the alert's trail and
//! counts against the detector; reports spread as background noise raise nothing; a problem
//! reported again where its case was just closed is a repeat; and a department returning cases
//! beyond its usual is an alert for the city centre.

use std::collections::BTreeMap;

use onegrid_tests::serde_json::{Value, json};
use onegrid_tests::{
    FakeDepartment, TestApp, as_refs, category_for, dispatch_to, file_report, new_department,
    plain_cells, point_inside_a_cell, random_hex, report_body, send_as, sign_callback,
    signed_in_staff, spawn_app, spawn_app_at,
};

const CATEGORY: &str = "landscape.greenway_sign";

/// Files a report of `category` at a cell's centre; its case id.
fn report_at(app: &TestApp, category: &str, lat: f64, lng: f64) -> String {
    let reply = app.post_json("/api/reports", &report_body(category, lat, lng));
    reply.expect_status(201);
    reply.body["id"].as_str().expect("a case id").to_owned()
}

/// Every alert (of any status) the city's board has on `area`.
fn alerts_on(app: &TestApp, area: &str) -> Vec<Value> {
    let reply = app.operator().get("/api/alerts?status=all&limit=200");
    reply.expect_status(200);
    reply.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|a| a["area"] == area)
        .cloned()
        .collect()
}

#[test]
fn a_cluster_of_reports_in_one_cell_raises_one_alert_with_its_evidence_for_that_area_only() {
    let app = spawn_app();
    let mut cells = plain_cells();
    let (lat, lng, cell) = cells.next().expect("a cell");
    let (_, _, elsewhere) = cells
        .find(|(_, _, c)| c[..9] != cell[..9])
        .expect("a cell of another street");
    let street_operator =
        signed_in_staff(&app, "street_operator", json!({"area_code": &cell[..9]}));
    let other_street = signed_in_staff(
        &app,
        "street_operator",
        json!({"area_code": &elsewhere[..9]}),
    );

    let mut cases: Vec<String> = (0..3)
        .map(|_| report_at(&app, CATEGORY, lat, lng))
        .collect();
    assert!(
        alerts_on(&app, &cell).is_empty(),
        "three reports in a quiet cell are no cluster"
    );
    // Another kind in the same cell does not add to this one.
    report_at(&app, "environment.litter", lat, lng);
    assert!(alerts_on(&app, &cell).is_empty());

    cases.push(report_at(&app, CATEGORY, lat, lng));
    let raised = alerts_on(&app, &cell);
    assert_eq!(
        raised.len(),
        1,
        "the fourth report raises one alert: {raised:?}"
    );
    let alert = &raised[0];
    assert_eq!(alert["signal"], "cluster");
    assert_eq!(alert["status"], "new");
    assert_eq!(alert["category"], CATEGORY);
    assert_eq!(alert["street"], &cell[..9]);
    assert_eq!(alert["observed"], 4);
    assert!(alert["expected"].as_f64().unwrap() < 0.1, "{alert}");
    assert!(alert["p_value"].as_f64().unwrap() < 1e-6, "{alert}");
    let explanation = alert["explanation"].as_str().unwrap();
    assert!(explanation.contains("3 天内 4 件"), "{explanation}");
    assert!(
        explanation.contains("绿道"),
        "the category in words: {explanation}"
    );
    assert_eq!(
        alert["allowed_actions"],
        json!(["acknowledge", "act", "dismiss"])
    );
    let id = alert["id"].as_str().unwrap().to_owned();

    // Its evidence: the four cases, linked to the console.
    let detail = app.operator().get(&format!("/api/alerts/{id}"));
    detail.expect_status(200);
    let evidence: Vec<&str> = detail.body["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        evidence,
        cases.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(
        detail.body["evidence"][0]["href"],
        format!("/console.html#case/{}", cases[0])
    );
    assert!(
        !detail.body.to_string().contains("月美路"),
        "nothing a reporter wrote comes with the evidence"
    );
    assert_eq!(detail.body["events"][0]["action"], "raise");

    // The fifth report grows the same alert.
    cases.push(report_at(&app, CATEGORY, lat, lng));
    let grown = alerts_on(&app, &cell);
    assert_eq!(grown.len(), 1);
    assert_eq!(grown[0]["observed"], 5);
    let detail = app.operator().get(&format!("/api/alerts/{id}"));
    assert_eq!(detail.body["evidence"].as_array().unwrap().len(), 5);

    // The street's operators see it; another street's do not, even by its id.
    let board = send_as(&app, &street_operator, "GET", "/api/alerts", None);
    board.expect_status(200);
    assert!(
        board.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str())
    );
    let board = send_as(&app, &other_street, "GET", "/api/alerts", None);
    board.expect_status(200);
    assert!(
        !board.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str())
    );
    send_as(
        &app,
        &other_street,
        "GET",
        &format!("/api/alerts/{id}"),
        None,
    )
    .expect_problem(404, "not-found");
    send_as(
        &app,
        &other_street,
        "POST",
        &format!("/api/alerts/{id}/moves"),
        Some(&json!({"action": "acknowledge"})),
    )
    .expect_problem(404, "not-found");

    // The street's centre takes it on and closes it.
    let moved = send_as(
        &app,
        &street_operator,
        "POST",
        &format!("/api/alerts/{id}/moves"),
        Some(&json!({"action": "acknowledge"})),
    );
    moved.expect_status(200);
    assert_eq!(moved.body["status"], "acknowledged");
    send_as(
        &app,
        &street_operator,
        "POST",
        &format!("/api/alerts/{id}/moves"),
        Some(&json!({"action": "act"})),
    )
    .expect_problem(422, "validation-failed");
    let acting = send_as(
        &app,
        &street_operator,
        "POST",
        &format!("/api/alerts/{id}/moves"),
        Some(&json!({"action": "act", "note": "园林所今天上午统一更换该路段标识牌"})),
    );
    acting.expect_status(200);
    let closed = send_as(
        &app,
        &street_operator,
        "POST",
        &format!("/api/alerts/{id}/moves"),
        Some(&json!({"action": "close"})),
    );
    closed.expect_status(200);
    assert_eq!(closed.body["status"], "closed");
    assert!(closed.body["ended_at"].is_string());
    let trail: Vec<&str> = closed.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(trail, ["raise", "acknowledge", "act", "close"]);
    assert_eq!(
        closed.body["events"][2]["note"],
        "园林所今天上午统一更换该路段标识牌"
    );
    assert_eq!(closed.body["events"][2]["actor_role"], "street_operator");
    assert_eq!(
        closed.body["events"][2]["actor_name"], "测试",
        "the trail names who"
    );
    assert_eq!(closed.body["events"][0]["actor_role"], "system");
    // A closed alert is not raised again by the same days' reports.
    report_at(&app, CATEGORY, lat, lng);
    assert_eq!(alerts_on(&app, &cell).len(), 1);
}

#[test]
fn a_dismissal_needs_its_reason_is_on_the_trail_and_counts_against_the_detector() {
    let app = spawn_app();
    let (lat, lng, cell) = plain_cells().nth(3).expect("a cell");
    for _ in 0..4 {
        report_at(&app, CATEGORY, lat, lng);
    }
    let id = alerts_on(&app, &cell)[0]["id"].as_str().unwrap().to_owned();
    let moves = format!("/api/alerts/{id}/moves");
    let refused = app
        .operator()
        .post_json(&moves, &json!({"action": "dismiss", "note": "  "}));
    refused.expect_problem(422, "validation-failed");
    assert_eq!(refused.error_fields(), ["note"]);
    app.operator()
        .post_json(&moves, &json!({"action": "close"}))
        .expect_problem(409, "forbidden-move");
    app.operator()
        .post_json(&moves, &json!({"action": "retire"}))
        .expect_problem(400, "malformed-json");

    let dismissed = app.operator().post_json(
        &moves,
        &json!({"action": "dismiss", "note": "同一块牌子被四位市民分别上报，不是新情况"}),
    );
    dismissed.expect_status(200);
    assert_eq!(dismissed.body["status"], "dismissed");
    assert_eq!(dismissed.body["allowed_actions"], json!([]));
    let last = dismissed.body["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "dismiss");
    assert_eq!(last["note"], "同一块牌子被四位市民分别上报，不是新情况");
    assert_eq!(last["actor_role"], "city_operator");
    app.operator()
        .post_json(&moves, &json!({"action": "acknowledge"}))
        .expect_problem(409, "forbidden-move");

    // Not on the open board any more; on the whole one, and in the figures.
    let open = app.operator().get("/api/alerts");
    assert!(
        !open.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str())
    );
    let figures = app.operator().get("/api/alerts/figures");
    figures.expect_status(200);
    let cluster = &figures.body["detectors"][0];
    assert_eq!(cluster["signal"], "cluster");
    assert_eq!(cluster["rule_version"], 1);
    assert_eq!(cluster["dismissed"], 1);
    assert_eq!(cluster["closed"], 0);
    assert_eq!(cluster["precision"], 0.0);
    assert_eq!(figures.body["cluster_rule"]["min_reports"], 3);

    // Bad input says what is wrong.
    app.operator()
        .get("/api/alerts?status=maybe")
        .expect_problem(422, "validation-failed");
    app.operator()
        .get("/api/alerts/NOT-AN-ALERT")
        .expect_problem(404, "not-found");
    app.get("/api/alerts").expect_problem(401, "unauthorized");
}

/// A deterministic generator (SplitMix64): the same seed, the same reports.
struct Seeded(u64);
impl Seeded {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

#[test]
fn background_reports_of_a_fixed_seed_raise_nothing_and_only_a_real_pile_up_does() {
    // Sixty reports from one address in a minute: the public limit off, as for a load test.
    let data = std::env::temp_dir().join(format!("onegrid-warning-{}", random_hex(8)));
    let app = spawn_app_at(
        &data,
        &random_hex(16),
        &random_hex(16),
        &[("SPIN_VARIABLE_RATE_LIMITS", "off")],
    );
    let cells: Vec<(f64, f64, String)> = plain_cells().take(24).collect();
    let categories: Vec<String> = app
        .get("/api/categories")
        .body
        .as_array()
        .expect("categories")
        .iter()
        .filter(|c| c["kind"] != "dispute")
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .take(8)
        .collect();
    assert!(categories.len() >= 4, "{categories:?}");
    // The background: reports spread over the cells and kinds at random, never more than three
    // of one kind in one cell (noise at the quiet rate); then one planted pile-up of five.
    let mut rng = Seeded(20261204);
    let mut filed: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    while filed.values().sum::<usize>() < 60 {
        let (c, k) = (rng.below(cells.len()), rng.below(categories.len()));
        if filed.get(&(c, k)).copied().unwrap_or(0) >= 3 {
            continue;
        }
        report_at(&app, &categories[k], cells[c].0, cells[c].1);
        *filed.entry((c, k)).or_default() += 1;
    }
    assert!(filed.values().any(|n| *n == 3), "the noise has threes");
    let all = app.operator().get("/api/alerts?status=all&limit=200");
    assert_eq!(all.body["items"], json!([]), "noise raised an alert");

    let (c, k) = (rng.below(cells.len()), rng.below(categories.len()));
    let before = filed.get(&(c, k)).copied().unwrap_or(0);
    for _ in before..5 {
        report_at(&app, &categories[k], cells[c].0, cells[c].1);
    }
    let all = app.operator().get("/api/alerts?status=all&limit=200");
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["area"], cells[c].2.as_str());
    assert_eq!(items[0]["category"], categories[k].as_str());
    assert_eq!(items[0]["observed"], 5);
    drop(app);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn a_problem_reported_again_where_its_case_was_just_closed_raises_a_repeat_alert() {
    let app = spawn_app();
    let (lat, lng, cell) = plain_cells().nth(5).expect("a cell");
    let worker = signed_in_staff(&app, "grid_worker", json!({"cells": [&cell]}));
    let first = report_at(&app, CATEGORY, lat, lng);
    // An open report is no repeat of anything.
    assert!(alerts_on(&app, &cell).is_empty());
    send_as(
        &app,
        &worker,
        "POST",
        &format!("/api/cases/{first}/moves"),
        Some(&json!({"move": "self_handle", "note": "当场扶正了标识牌"})),
    )
    .expect_status(200);
    // Another kind at the same place, and the same kind elsewhere, bring nothing back.
    report_at(&app, "environment.litter", lat, lng);
    let (far_lat, far_lng, _) = plain_cells().nth(40).expect("another cell");
    report_at(&app, CATEGORY, far_lat, far_lng);
    assert!(alerts_on(&app, &cell).is_empty());

    let again = report_at(&app, CATEGORY, lat + 0.0001, lng);
    let raised = alerts_on(&app, &cell);
    assert_eq!(raised.len(), 1, "{raised:?}");
    let alert = &raised[0];
    assert_eq!(alert["signal"], "repeat");
    assert_eq!(alert["observed"], 1);
    assert_eq!(alert["p_value"], Value::Null);
    let explanation = alert["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("今天办结后，在原处又被反映 1 次"),
        "{explanation}"
    );
    let id = alert["id"].as_str().unwrap();
    let detail = app.operator().get(&format!("/api/alerts/{id}"));
    let evidence: Vec<&str> = detail.body["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(evidence, [first.as_str(), again.as_str()]);
    assert_eq!(detail.body["evidence"][0]["status"], "closed");

    // A third report there joins the same alert.
    report_at(&app, CATEGORY, lat, lng + 0.0001);
    let grown = alerts_on(&app, &cell);
    assert_eq!(grown.len(), 1);
    assert_eq!(grown[0]["observed"], 2);
    let figures = app.operator().get("/api/alerts/figures");
    let repeat = figures.body["detectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["signal"] == "repeat")
        .expect("the repeat detector's line")
        .clone();
    assert_eq!(repeat["raised"], 1);
    assert_eq!(repeat["open"], 1);
}

#[test]
fn a_department_returning_cases_beyond_its_usual_raises_an_alert_for_the_city_centre() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (department, secret) = new_department(&app, &fake);
    let district_operator = signed_in_staff(
        &app,
        "district_operator",
        json!({"area_code": &point_inside_a_cell().2[..6]}),
    );
    let mut returned = Vec::new();
    let returns_alerts = |app: &TestApp| -> Vec<Value> {
        let all = app.operator().get("/api/alerts?status=all&limit=200");
        all.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["signal"] == "returns")
            .cloned()
            .collect()
    };
    for n in 1..=3 {
        let report = file_report(&app, &category_for(&department));
        let id = report["id"].as_str().unwrap().to_owned();
        dispatch_to(&app, &id, &department).expect_status(200);
        let body =
            json!({"case_id": id, "action": "returned", "reason": "不属于本单位职责"}).to_string();
        let headers = sign_callback(&secret, &body);
        app.post_raw(
            &format!("/api/callbacks/{department}"),
            &as_refs(&headers),
            body,
        )
        .expect_status(200);
        returned.push(id);
        if n < 3 {
            assert!(
                returns_alerts(&app).is_empty(),
                "{n} returns are no tension yet"
            );
        }
    }
    let raised = returns_alerts(&app);
    assert_eq!(raised.len(), 1, "{raised:?}");
    let alert = &raised[0];
    assert_eq!(alert["department"], department.as_str());
    assert_eq!(alert["area"], "", "a department's alert has no place");
    assert_eq!(alert["observed"], 3);
    assert!(
        alert["explanation"]
            .as_str()
            .unwrap()
            .contains("7 天内退回 3 件案件"),
        "{alert}"
    );
    let id = alert["id"].as_str().unwrap();
    let detail = app.operator().get(&format!("/api/alerts/{id}"));
    let evidence: Vec<&str> = detail.body["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        evidence,
        returned.iter().map(String::as_str).collect::<Vec<_>>()
    );
    // The city centre's matter: a district's operators do not see it.
    send_as(
        &app,
        &district_operator,
        "GET",
        &format!("/api/alerts/{id}"),
        None,
    )
    .expect_problem(404, "not-found");
    // The department hears of it by its webhook, signed like every message, at the next sweep.
    app.operator()
        .post_json("/api/sweep", &json!({}))
        .expect_status(200);
    let heard: Vec<Value> = fake
        .received()
        .iter()
        .map(|r| r.json())
        .filter(|b| b["type"] == "alert.raised")
        .collect();
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0]["data"]["alert_id"], id);
    assert_eq!(heard[0]["data"]["signal"], "returns");
    assert_eq!(heard[0]["data"]["case_id"], returned[2].as_str());
}
