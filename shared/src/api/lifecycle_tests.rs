//! The case lifecycle through the handlers, on real SQLite with a clock the test moves and a
//! fake network: every step of the closed loop, deadlines and escalation, routing, duplicates
//! and merging, the outbox, mediation and the citizen's rating.

use futures::executor::block_on;
use serde_json::{Value as Json, json};

use super::testkit::{
    HOUR, IN_CELL_1, IN_CELL_2, SECRET, area, call_json as call, request, square,
};
use crate::Database;
use crate::native::testenv::{ADMIN_TOKEN, OPERATOR_TOKEN, TestEnv};

/// A two-street map, two departments with webhooks, a street office, and three categories.
fn city() -> TestEnv {
    let env = TestEnv::new();
    let map = json!({"type": "FeatureCollection", "features": [
        area("350203"), area("350203001"), area("350203002"), area("350203001001"), area("350203002001"),
        square("350203001001001", 118.08, 24.445), square("350203002001001", 118.09, 24.445),
    ]});
    let (status, body) = call(
        &env,
        request("POST", "/api/admin/grids", Some(ADMIN_TOKEN), Some(map)),
    );
    assert_eq!(status, 201, "{body}");
    for (code, area) in [
        ("gardens", None),
        ("municipal", None),
        ("street-350203001", Some("350203001")),
    ] {
        let dept = json!({"name": code, "webhook_url": format!("http://127.0.0.1:9/{code}"), "secret": SECRET, "area_code": area});
        let (status, body) = call(
            &env,
            request(
                "PUT",
                &format!("/api/admin/departments/{code}"),
                Some(ADMIN_TOKEN),
                Some(dept),
            ),
        );
        assert_eq!(status, 200, "{body}");
    }
    for (code, kind, dept) in [
        ("landscape.sign", "component", "gardens"),
        ("environment.litter", "event", "municipal"),
        ("dispute.neighbours", "dispute", "municipal"),
    ] {
        let cat = json!({"name_zh": code, "name_en": code, "kind": kind, "department": dept,
                         "sign_for_hours": 2.0, "handle_hours": 24.0, "verify_hours": 12.0});
        let (status, body) = call(
            &env,
            request(
                "PUT",
                &format!("/api/admin/categories/{code}"),
                Some(ADMIN_TOKEN),
                Some(cat),
            ),
        );
        assert_eq!(status, 200, "{body}");
    }
    env.answer_status.set(200);
    env
}

fn report(env: &TestEnv, category: &str, at: (f64, f64)) -> Json {
    let body = json!({"category": category, "description": "Something is broken here", "lat": at.0, "lng": at.1,
                      "contact_phone": "13800138000"});
    let (status, answer) = call(env, request("POST", "/api/reports", None, Some(body)));
    assert_eq!(status, 201, "{answer}");
    answer
}

fn operator_move(env: &TestEnv, id: &str, body: Json) -> (u16, Json) {
    call(
        env,
        request(
            "POST",
            &format!("/api/cases/{id}/moves"),
            Some(OPERATOR_TOKEN),
            Some(body),
        ),
    )
}

fn callback(env: &TestEnv, department: &str, body: Json) -> (u16, Json) {
    let id = format!("msg_{}", rand::random::<u64>());
    call(
        env,
        super::testkit::signed_callback(env, department, SECRET, &id, &body),
    )
}

fn status_of(env: &TestEnv, id: &str) -> Json {
    call(
        env,
        request(
            "GET",
            &format!("/api/cases/{id}"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    )
    .1
}

#[test]
fn a_case_goes_around_the_whole_loop_and_its_trail_replays_to_its_status() {
    let env = city();
    let r = report(&env, "landscape.sign", IN_CELL_1);
    let (id, code, secret) = (
        r["id"].as_str().unwrap(),
        r["tracking_code"].as_str().unwrap(),
        r["secret"].as_str().unwrap(),
    );

    let (s, b) = call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["routing"]["basis"], "component_owner");
    assert_eq!(b["case"]["department"], "gardens");
    assert_eq!(b["case"]["step"], "sign_for");
    assert_eq!(b["case"]["light"], "green");
    assert_eq!(b["delivery"]["status"], "delivered");
    assert_eq!(env.sent.borrow().len(), 1);

    for (action, extra) in [
        ("signed_for", json!({})),
        ("in_progress", json!({})),
        (
            "extension_requested",
            json!({"reason": "parts on order", "hours": 48}),
        ),
    ] {
        env.now.set(env.now.get() + HOUR);
        let mut body = json!({"case_id": id, "action": action});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (s, b) = callback(&env, "gardens", body);
        assert_eq!(s, 200, "{action}: {b}");
    }
    let before = status_of(&env, id)["case"]["step_deadline_at"].clone();
    let (s, b) = operator_move(&env, id, json!({"move": "approve_extension"}));
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["case"]["status"], "in_progress");
    assert_ne!(
        b["case"]["step_deadline_at"], before,
        "the approved extension moves the deadline"
    );

    let (s, _) = callback(
        &env,
        "gardens",
        json!({"case_id": id, "action": "handled", "note": "sign replaced"}),
    );
    assert_eq!(s, 200);
    let (s, b) = operator_move(
        &env,
        id,
        json!({"move": "verify_fail", "reason": "the new sign is crooked"}),
    );
    assert_eq!((s, b["case"]["status"].as_str()), (200, Some("rework")));
    assert_eq!(b["case"]["step"], "handle");
    let (s, _) = callback(
        &env,
        "gardens",
        json!({"case_id": id, "action": "handled", "note": "straightened"}),
    );
    assert_eq!(s, 200);
    for mv in ["verify_pass", "close"] {
        let (s, b) = operator_move(&env, id, json!({"move": mv}));
        assert_eq!(s, 200, "{mv}: {b}");
    }

    // The citizen rates with the secret; a wrong secret is refused.
    let rate = |secret: &str, rating: &str| {
        call(
            &env,
            request(
                "POST",
                &format!("/api/reports/{code}/rating"),
                None,
                Some(json!({"secret": secret, "rating": rating, "comment": "slow"})),
            ),
        )
    };
    assert_eq!(rate("not-the-secret", "satisfied").0, 403);
    let (s, b) = rate(secret, "unsatisfied");
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["review_opened"], true);
    assert_eq!(rate(secret, "satisfied").0, 409, "a case is rated once");

    // The trail replays through the machine to the stored status.
    let events = status_of(&env, id)["events"].as_array().unwrap().clone();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "reported",
            "accept",
            "dispatch",
            "sign_for",
            "start",
            "request_extension",
            "approve_extension",
            "handle",
            "verify_fail",
            "handle",
            "verify_pass",
            "close",
            "evaluate"
        ]
    );
    let mut status = crate::case::Status::Collected;
    for e in &events[1..] {
        assert_eq!(e["from_status"], status.as_str());
        status = crate::case::Status::parse(e["status"].as_str().unwrap()).unwrap();
    }
    assert_eq!(status.as_str(), "evaluated");
    let reviews = block_on(env.execute("SELECT COUNT(*) AS n FROM reviews", &[])).unwrap();
    assert_eq!(reviews.first().unwrap().i64("n").unwrap(), 1);
}

#[test]
fn a_forbidden_move_answers_409_with_the_allowed_moves() {
    let env = city();
    let id = report(&env, "landscape.sign", IN_CELL_1)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = operator_move(&env, &id, json!({"move": "close"}));
    assert_eq!(s, 409);
    assert_eq!(b["type"], "/problems/forbidden-move");
    assert_eq!(
        b["allowed_moves"],
        json!(["accept", "reject", "merge", "self_handle", "correct"])
    );
    let (s, b) = operator_move(&env, &id, json!({"move": "reject"}));
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("reason")));
    let (s, b) = operator_move(&env, &id, json!({"move": "sign_for"}));
    assert_eq!(
        (s, b["type"].as_str()),
        (409, Some("/problems/forbidden-move"))
    );
    let (s, b) = operator_move(&env, &id, json!({"move": "accept"}));
    assert_eq!((s, b["case"]["status"].as_str()), (200, Some("accepted")));
    let (s, _) = operator_move(&env, &id, json!({"move": "dispatch"}));
    assert_eq!(s, 200);
    let (s, b) = operator_move(&env, &id, json!({"move": "sign_for"}));
    assert_eq!(
        (s, b["type"].as_str()),
        (403, Some("/problems/forbidden")),
        "an operator does not sign for: {b}"
    );
}

#[test]
fn an_overdue_case_escalates_one_level_per_period_and_the_sweep_is_idempotent() {
    let env = city();
    let id = report(&env, "landscape.sign", IN_CELL_1)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!(s, 200);
    let sweep = |env: &TestEnv| {
        call(
            env,
            request("POST", "/api/sweep", Some(OPERATOR_TOKEN), None),
        )
        .1
    };

    env.now.set(env.now.get() + 90 * 60_000); // 1.5 h of a 2 h sign-for step: the last quarter.
    assert_eq!(status_of(&env, &id)["case"]["light"], "yellow");
    assert_eq!(sweep(&env)["deadlines"]["escalated"], 0);

    env.now.set(env.now.get() + HOUR); // 2.5 h: overdue.
    assert_eq!(status_of(&env, &id)["case"]["light"], "red");
    assert_eq!(sweep(&env)["deadlines"]["escalated"], 1);
    assert_eq!(
        sweep(&env)["deadlines"]["escalated"],
        0,
        "a second sweep changes nothing"
    );
    let case = status_of(&env, &id)["case"].clone();
    assert_eq!(
        (case["escalation_level"].as_str(), case["overdue"].as_bool()),
        (Some("district"), Some(true))
    );

    env.now.set(env.now.get() + 2 * HOUR + 1); // another whole step period: up to the city.
    assert_eq!(sweep(&env)["deadlines"]["escalated"], 1);
    assert_eq!(status_of(&env, &id)["case"]["escalation_level"], "city");
    env.now.set(env.now.get() + 10 * HOUR);
    assert_eq!(
        sweep(&env)["deadlines"]["escalated"],
        0,
        "nothing above the city"
    );
    let (_, red) = call(
        &env,
        request(
            "GET",
            "/api/cases?light=red&level=city",
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!(red["items"].as_array().unwrap().len(), 1);
}

#[test]
fn routing_takes_the_most_specific_rule_and_events_go_to_their_locality() {
    let env = city();
    let preview = |category: &str, at: (f64, f64)| {
        let body = json!({"category": category, "lat": at.0, "lng": at.1});
        call(
            &env,
            request(
                "POST",
                "/api/routing/preview",
                Some(OPERATOR_TOKEN),
                Some(body),
            ),
        )
        .1
    };
    assert_eq!(
        preview("environment.litter", IN_CELL_1)["routing"]["lead"],
        "street-350203001"
    );
    assert_eq!(
        preview("environment.litter", IN_CELL_1)["routing"]["basis"],
        "locality"
    );
    assert_eq!(
        preview("environment.litter", IN_CELL_2)["routing"]["basis"],
        "category_default"
    );
    assert_eq!(
        preview("landscape.sign", IN_CELL_1)["routing"]["lead"],
        "gardens"
    );

    let rules = json!({"note": "street 2 handles its own signs", "rules": [
        {"category": "landscape.sign", "lead": "municipal"},
        {"category": "landscape.sign", "area_code": "350203002", "lead": "street-350203001", "helpers": ["gardens"]},
    ]});
    let (s, b) = call(
        &env,
        request("PUT", "/api/admin/routing", Some(ADMIN_TOKEN), Some(rules)),
    );
    assert_eq!(s, 200, "{b}");
    let p = preview("landscape.sign", IN_CELL_2);
    assert_eq!(
        (
            p["routing"]["lead"].as_str(),
            p["routing"]["rule"]["position"].as_u64()
        ),
        (Some("street-350203001"), Some(1))
    );
    assert_eq!(p["routing"]["helpers"], json!(["gardens"]));
    assert_eq!(
        preview("landscape.sign", IN_CELL_1)["routing"]["lead"],
        "municipal"
    );

    let bad = json!({"note": "x", "rules": [{"lead": "nobody"}]});
    let (s, b) = call(
        &env,
        request("PUT", "/api/admin/routing", Some(ADMIN_TOKEN), Some(bad)),
    );
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("rules[0].lead"))
    );

    // Dispatch follows the rule and notifies the helper too.
    let id = report(&env, "landscape.sign", IN_CELL_2)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["case"]["helpers"], json!(["gardens"]));
    assert_eq!(b["deliveries"].as_array().unwrap().len(), 2);
}

#[test]
fn a_duplicate_across_a_corner_of_the_search_squares_is_found() {
    let env = city();
    // 24.450 and 118.085 are edges of the 0.005° squares: the two points, 30 m apart, lie in
    // diagonally opposite squares.
    report(&env, "landscape.sign", (24.4499, 118.0849));
    let other = report(&env, "landscape.sign", (24.4501, 118.0851));
    assert_eq!(other["probable_duplicate"], true, "{other}");
    let beyond = report(&env, "landscape.sign", (24.4503, 118.0855));
    assert_eq!(
        beyond["probable_duplicate"], true,
        "within 50 m of the second"
    );
    let far = report(&env, "landscape.sign", (24.4499, 118.0880));
    assert_eq!(far["probable_duplicate"], false, "{far}");
}

#[test]
fn a_nearby_report_is_flagged_as_a_duplicate_and_after_merging_follows_its_parent() {
    let env = city();
    let first = report(&env, "landscape.sign", IN_CELL_1);
    env.now.set(env.now.get() + HOUR);
    let second = report(&env, "landscape.sign", (IN_CELL_1.0 + 0.0002, IN_CELL_1.1)); // about 22 m away
    assert_eq!(second["probable_duplicate"], true);
    let far = report(&env, "landscape.sign", IN_CELL_2);
    assert_eq!(far["probable_duplicate"], false);
    let other_category = report(&env, "environment.litter", IN_CELL_1);
    assert_eq!(other_category["probable_duplicate"], false);

    let (parent, child) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    let page = status_of(&env, child);
    assert_eq!(page["probable_duplicates"][0]["id"], parent);
    let (s, b) = operator_move(&env, child, json!({"move": "merge", "parent": parent}));
    assert_eq!(s, 200, "{b}");
    let (s, _) = call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{parent}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!(s, 200);
    let code = second["tracking_code"].as_str().unwrap();
    let (_, public) = call(
        &env,
        request("GET", &format!("/api/reports/{code}"), None, None),
    );
    assert_eq!(
        public["status"], "dispatched",
        "the merged report shows its parent's status"
    );
    assert_eq!(public["merged"], true);
    let parent_code = first["tracking_code"].as_str().unwrap();
    assert!(
        !public.to_string().contains(parent_code),
        "the parent's tracking code is its reporter's capability: {public}"
    );
    let (s, _) = operator_move(&env, child, json!({"move": "accept"}));
    assert_eq!(s, 409, "a merged case moves no more");
    let (s, _) = operator_move(&env, parent, json!({"move": "merge", "parent": child}));
    assert_eq!(s, 422, "nothing merges into a merged case");
}

#[test]
fn a_failed_webhook_waits_in_the_outbox_and_is_sent_once_when_due() {
    let env = city();
    env.answer_status.set(0);
    let id = report(&env, "landscape.sign", IN_CELL_1)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!(
        (s, b["delivery"]["status"].as_str()),
        (200, Some("pending"))
    );
    let sweep = |env: &TestEnv| {
        call(
            env,
            request("POST", "/api/sweep", Some(OPERATOR_TOKEN), None),
        )
        .1
    };
    assert_eq!(sweep(&env)["webhooks"]["attempted"], 0, "not due yet");
    env.answer_status.set(200);
    env.now.set(env.now.get() + 60_000);
    assert_eq!(sweep(&env)["webhooks"]["delivered"], 1);
    env.now.set(env.now.get() + 24 * HOUR);
    assert_eq!(
        sweep(&env)["webhooks"]["attempted"],
        0,
        "a delivered message is not sent again"
    );
    assert_eq!(env.sent.borrow().len(), 2);

    // Eight failures dead-letter a message; an operator resends it.
    env.answer_status.set(503);
    let id = report(&env, "landscape.sign", IN_CELL_2)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    for _ in 0..10 {
        env.now.set(env.now.get() + 48 * HOUR);
        sweep(&env);
    }
    let (_, dead) = call(
        &env,
        request("GET", "/api/outbox?status=dead", Some(OPERATOR_TOKEN), None),
    );
    let message = dead["items"][0].clone();
    assert_eq!(message["attempts"], 8, "{dead}");
    env.answer_status.set(200);
    let (s, b) = call(
        &env,
        request(
            "POST",
            &format!("/api/outbox/{}/resend", message["id"].as_str().unwrap()),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!((s, b["status"].as_str()), (200, Some("delivered")));
}

#[test]
fn a_dispute_is_handled_by_mediation_and_its_outcome_is_the_handle_move() {
    let env = city();
    let id = report(&env, "dispute.neighbours", IN_CELL_1)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    let (s, _) = callback(
        &env,
        "street-350203001",
        json!({"case_id": id, "action": "signed_for"}),
    );
    assert_eq!(s, 200);
    let add = |entry: Json| {
        call(
            &env,
            request(
                "POST",
                &format!("/api/cases/{id}/mediation"),
                Some(OPERATOR_TOKEN),
                Some(entry),
            ),
        )
    };
    assert_eq!(
        add(json!({"kind": "party", "name": "百家阁业委会", "role": "residents"})).0,
        201
    );
    assert_eq!(add(json!({"kind": "session", "held_at": "2024-07-02 15:00", "participants": ["网格员", "律师", "水务公司"], "notes": "first meeting"})).0, 201);
    let (s, b) = add(json!({"kind": "outcome", "outcome": "agreement"}));
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("agreement"))
    );
    let (s, b) = add(
        json!({"kind": "outcome", "outcome": "agreement", "agreement": "shared pipes repaired; fees split by meter"}),
    );
    assert_eq!(s, 201, "{b}");
    let page = status_of(&env, &id);
    assert_eq!(page["case"]["status"], "handled");
    assert_eq!(page["mediation"].as_array().unwrap().len(), 3);
    let litter = report(&env, "environment.litter", IN_CELL_1)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{litter}/mediation"),
            Some(OPERATOR_TOKEN),
            Some(json!({"kind": "party", "name": "x", "role": "y"})),
        ),
    );
    assert_eq!(s, 409, "mediation is for disputes");
}

fn received_by_category(env: &TestEnv) -> Vec<(String, i64)> {
    let (s, b) = call(
        env,
        request(
            "GET",
            "/api/indicators?group_by=category",
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!(s, 200, "{b}");
    b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap_or("").to_owned(),
                i["received"].as_i64().unwrap(),
            )
        })
        .filter(|(_, n)| *n != 0)
        .collect()
}

#[test]
fn the_city_centre_corrects_a_cases_category_and_place_and_its_clock_and_counts_follow() {
    let mut env = city();
    env.variables.insert(
        "session_keys".into(),
        super::access_tests::SESSION_KEY.into(),
    );
    // A category with a longer sign-for period than the one the citizen chose.
    let roads = json!({"name_zh": "道路", "name_en": "roads", "kind": "component", "department": "municipal",
                       "sign_for_hours": 6.0, "handle_hours": 48.0, "verify_hours": 12.0, "priority": 1});
    let (s, b) = call(
        &env,
        request(
            "PUT",
            "/api/admin/categories/roads.pothole",
            Some(ADMIN_TOKEN),
            Some(roads),
        ),
    );
    assert_eq!(s, 200, "{b}");
    let id = report(&env, "landscape.sign", IN_CELL_1)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = operator_move(
        &env,
        &id,
        json!({"move": "dispatch", "department": "gardens"}),
    );
    assert_eq!(s, 200, "{b}");
    let dispatched = status_of(&env, &id);
    let started = dispatched["events"].as_array().unwrap().last().unwrap()["at"].clone();
    assert_eq!(
        received_by_category(&env),
        [("landscape.sign".to_owned(), 1)]
    );

    // The city centre's service token may correct; the answer lists what the move needs.
    let moves = dispatched["moves"].as_array().unwrap();
    let correct = moves
        .iter()
        .find(|m| m["move"] == "correct")
        .expect("correct is offered");
    assert_eq!(correct["requires"], json!(["reason", "category"]));

    // Nothing to correct, or no reason: refused before anything is written.
    let (s, b) = operator_move(
        &env,
        &id,
        json!({"move": "correct", "reason": "wrong", "category": "landscape.sign"}),
    );
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("category")),
        "{b}"
    );
    let (s, b) = operator_move(
        &env,
        &id,
        json!({"move": "correct", "category": "roads.pothole"}),
    );
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("reason")),
        "{b}"
    );
    let (s, _) = operator_move(
        &env,
        &id,
        json!({"move": "correct", "reason": "x", "category": "no.such"}),
    );
    assert_eq!(s, 422);

    // A district operator may see the case but not correct it.
    let (_, district) = super::access_tests::account(
        &env,
        "district.fix",
        "district_operator",
        json!({"area_code": "350203"}),
    );
    let (s, b) = call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/moves"),
            Some(&district),
            Some(json!({"move": "correct", "reason": "pothole", "category": "roads.pothole"})),
        ),
    );
    assert_eq!(s, 403, "{b}");
    let (_, seen) = call(
        &env,
        request("GET", &format!("/api/cases/{id}"), Some(&district), None),
    );
    assert!(
        seen["allowed_moves"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m != "correct"),
        "{seen}"
    );

    let (s, b) = operator_move(
        &env,
        &id,
        json!({"move": "correct", "reason": "it is a pothole, across the street",
               "category": "roads.pothole", "lat": IN_CELL_2.0, "lng": IN_CELL_2.1}),
    );
    assert_eq!(s, 200, "{b}");
    let after = status_of(&env, &id);
    let case = &after["case"];
    assert_eq!(
        case["status"], "dispatched",
        "a correction keeps the status"
    );
    assert_eq!(case["category"], "roads.pothole");
    assert_eq!(case["grid_code"], "350203002001001");
    assert_eq!(case["priority"], 1);
    // The running sign-for step keeps its start and gets the new category's six hours.
    let at = |v: &Json| crate::time::parse(v.as_str().unwrap(), 0).unwrap();
    assert_eq!(at(&case["step_deadline_at"]) - at(&started), 6 * HOUR);
    let last = after["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["type"].as_str(),
            last["from_status"].as_str(),
            last["status"].as_str()
        ),
        (Some("correct"), Some("dispatched"), Some("dispatched"))
    );
    assert_eq!(
        last["details"]["corrected"]["from"]["category"],
        "landscape.sign"
    );
    assert_eq!(
        last["details"]["corrected"]["to"]["grid"],
        "350203002001001"
    );
    assert_eq!(
        last["details"]["reason"],
        "it is a pothole, across the street"
    );
    assert_eq!(
        received_by_category(&env),
        [("roads.pothole".to_owned(), 1)]
    );
    // The trail still replays to the status.
    let trail: Vec<(crate::case::Move, crate::case::Role, crate::case::MoveInput)> =
        after["events"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .filter_map(|e| {
                let mv = crate::case::Move::parse(e["type"].as_str()?)?;
                let role: crate::case::Role =
                    serde_json::from_value(e["actor_role"].clone()).ok()?;
                let mut input: crate::case::MoveInput =
                    serde_json::from_value(e["details"].clone()).unwrap_or_default();
                input.category = input.category.or(Some("c".into()));
                Some((mv, role, input))
            })
            .collect();
    assert_eq!(
        crate::case::replay(trail.iter().map(|(m, r, i)| (m, r, i))),
        Some(crate::case::Status::Dispatched)
    );
}

/// The test env, with every SQL statement it runs written down in order.
struct Recording<'a> {
    env: &'a TestEnv,
    statements: std::cell::RefCell<Vec<String>>,
}

impl<'a> Recording<'a> {
    fn new(env: &'a TestEnv) -> Self {
        Recording {
            env,
            statements: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The statements between the last `BEGIN IMMEDIATE` and its `COMMIT`, and those after it.
    fn transaction(&self) -> (Vec<String>, Vec<String>) {
        let all = self.statements.borrow();
        let begin = all
            .iter()
            .rposition(|s| s == "BEGIN IMMEDIATE")
            .expect("a write transaction");
        let commit = begin + all[begin..].iter().position(|s| s == "COMMIT").unwrap();
        (all[begin + 1..commit].to_vec(), all[commit + 1..].to_vec())
    }
}

impl Database for Recording<'_> {
    async fn execute(
        &self,
        statement: &str,
        params: &[crate::Value],
    ) -> Result<crate::Rows, crate::StoreError> {
        self.statements.borrow_mut().push(statement.to_owned());
        self.env.execute(statement, params).await
    }
}

impl crate::KeyValue for Recording<'_> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, crate::StoreError> {
        self.env.get(key).await
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), crate::StoreError> {
        self.env.set(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), crate::StoreError> {
        self.env.delete(key).await
    }
    async fn exists(&self, key: &str) -> Result<bool, crate::StoreError> {
        self.env.exists(key).await
    }
}

impl crate::Platform for Recording<'_> {
    async fn variable(&self, name: &str) -> Result<Option<String>, crate::StoreError> {
        self.env.variable(name).await
    }
    fn now_ms(&self) -> i64 {
        self.env.now_ms()
    }
    async fn send(
        &self,
        request: crate::ports::OutboundRequest,
    ) -> Result<crate::ports::OutboundResponse, String> {
        self.env.send(request).await
    }
}

#[test]
fn a_reports_write_transaction_holds_only_its_five_inserts_and_nothing_is_read_after_it() {
    let env = city();
    let rec = Recording::new(&env);
    let body = json!({"category": "environment.litter", "description": "Litter by the gate",
                      "lat": IN_CELL_1.0, "lng": IN_CELL_1.1});
    let answer = block_on(crate::api::intake::handle(
        &rec,
        request("POST", "/api/reports", None, Some(body)),
    ));
    assert_eq!(answer.status, 201);
    let (inside, after) = rec.transaction();
    let tables: Vec<&str> = inside
        .iter()
        .map(|s| {
            assert!(s.starts_with("INSERT INTO "), "only writes inside: {s}");
            s["INSERT INTO ".len()..].split(' ').next().unwrap()
        })
        .collect();
    assert_eq!(
        tables,
        [
            "cases",
            "case_events",
            "indicator_cases",
            "indicator_rollups",
            "warning_counts"
        ]
    );
    assert!(
        after.is_empty(),
        "the answer is built from the insert: {after:?}"
    );
    // The answer is the case as stored.
    let answer: Json = serde_json::from_slice(&answer.body).unwrap();
    let case = &status_of(&env, answer["id"].as_str().unwrap())["case"];
    assert_eq!(case["tracking_code"], answer["tracking_code"]);
    assert_eq!(case["status"], answer["status"]);
}

#[test]
fn a_staff_move_reads_its_categorys_hours_before_its_write_transaction() {
    let env = city();
    let id = report(&env, "landscape.sign", IN_CELL_1)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rec = Recording::new(&env);
    let moved = block_on(crate::api::dispatch::handle(
        &rec,
        request(
            "POST",
            &format!("/api/cases/{id}/moves"),
            Some(OPERATOR_TOKEN),
            Some(json!({"move": "dispatch", "department": "gardens"})),
        ),
    ));
    assert_eq!(moved.status, 200);
    let (inside, _) = rec.transaction();
    assert!(
        !inside.iter().any(|s| s.contains("FROM categories")),
        "no category read inside the move's transaction: {inside:#?}"
    );
    // The deadline still comes from the category's hours: sign for within 2 h.
    let case = &status_of(&env, &id)["case"];
    let at = |k: &str| crate::time::parse(case[k].as_str().unwrap(), 0).unwrap();
    assert_eq!(at("step_deadline_at") - at("updated_at"), 2 * HOUR);
}
