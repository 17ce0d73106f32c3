//! The whole loop through HTTP only: a citizen reports, an operator dispatches, the department
//! gets a signed webhook and reports back by signed callbacks, and the citizen follows it.

use onegrid_tests::serde_json::json;
use onegrid_tests::{
    FakeDepartment, callback, category_for, dispatch_to, file_report, new_department,
    operator_case, point_inside_a_cell, report_body, spawn_app,
};

#[test]
fn a_report_goes_from_citizen_to_department_and_back_to_the_public_timeline() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (department, secret) = new_department(&app, &fake);
    let category = category_for(&department);
    let (lat, lng, cell) = point_inside_a_cell();

    // 1. The citizen reports, with contact data.
    let name = "陈测试女士";
    let phone = "13912345678";
    let report = app.post_json(
        "/api/reports",
        &json!({
            "category": category,
            "description": "The greenway sign at the corner is broken and lying on the path.",
            "lat": lat, "lng": lng, "crs": "wgs84",
            "contact_name": name, "contact_phone": phone,
        }),
    );
    report.expect_status(201);
    let body = &report.body;
    let tracking = body["tracking_code"]
        .as_str()
        .expect("a tracking code")
        .to_owned();
    let id = body["id"].as_str().expect("a case id").to_owned();
    assert!(!tracking.is_empty() && !id.is_empty());
    assert!(
        body["secret"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert_eq!(body["status"], "collected");
    assert_eq!(body["category"]["code"], category.as_str());
    assert_eq!(
        report.header("location"),
        Some(format!("/api/reports/{tracking}").as_str())
    );
    assert_eq!(body["links"]["self"], format!("/api/reports/{tracking}"));
    assert_eq!(body["grid"]["code"], cell.as_str());
    assert_eq!(body["grid"]["level"], "cell");
    assert_eq!(body["grid"]["match"], "inside");
    let chain: Vec<(&str, &str)> = body["grid"]["chain"]
        .as_array()
        .expect("a chain")
        .iter()
        .map(|g| (g["code"].as_str().unwrap(), g["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        chain,
        [
            (&cell[..6], "district"),
            (&cell[..9], "street"),
            (&cell[..12], "community")
        ]
    );

    // 2. The public view has no contact data.
    let public = app.get(&format!("/api/reports/{tracking}"));
    public.expect_status(200);
    assert_eq!(public.body["status"], "collected");
    assert!(
        !public.text.contains(phone),
        "the phone leaked: {}",
        public.text
    );
    assert!(
        !public.text.contains(name),
        "the name leaked: {}",
        public.text
    );

    // 3. The operator finds it among the collected cases, contact data masked (it is shown
    //    whole only on the case page with `?reveal=contact`, an audited event).
    let listed = app.operator().get("/api/cases?status=collected");
    listed.expect_status(200);
    let items = listed.body["items"].as_array().expect("items");
    let mine = items
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap_or_else(|| panic!("case {id} is not listed: {}", listed.text));
    assert_eq!(mine["contact_phone"], "139****5678");
    assert!(items.iter().all(|c| c["status"] == "collected"));

    // 4. Dispatch to the department: accepted and dispatched, and the webhook delivered.
    let dispatch = dispatch_to(&app, &id, &department);
    dispatch.expect_status(200);
    assert_eq!(dispatch.body["case"]["status"], "dispatched");
    assert_eq!(dispatch.body["case"]["department"], department.as_str());
    assert_eq!(
        dispatch.body["delivery"]["status"], "delivered",
        "{}",
        dispatch.text
    );

    // 5. The department got one signed webhook about this case.
    let received = fake.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let hook = &received[0];
    assert_eq!(hook.method, "POST");
    assert_eq!(hook.path, "/hook");
    let verified = onegrid::http::webhook::verify(
        &[&secret],
        hook.header("webhook-id"),
        hook.header("webhook-timestamp"),
        hook.header("webhook-signature"),
        &hook.body,
        onegrid_tests::now_seconds(),
        onegrid::http::webhook::DEFAULT_TOLERANCE_SECONDS,
    );
    assert_eq!(verified, Ok(()), "the webhook's signature must verify");
    let message = hook.json();
    assert_eq!(message["type"], "case.dispatched");
    assert_eq!(message["data"]["case_id"], id.as_str());
    assert_eq!(message["data"]["tracking_code"], tracking.as_str());
    assert_eq!(message["data"]["category"], category.as_str());
    assert_eq!(message["data"]["grid"], cell.as_str());
    assert_eq!(
        message["data"]["callback_url"],
        format!("/api/callbacks/{department}")
    );
    assert!(
        !String::from_utf8_lossy(&hook.body).contains(phone),
        "contact data is not sent to departments unasked"
    );

    // 6. The department reports back.
    let note = "Replaced the sign with a new one.";
    for (action, extra, status) in [
        ("signed_for", json!({}), "signed_for"),
        ("in_progress", json!({}), "in_progress"),
        ("handled", json!({"note": note}), "handled"),
    ] {
        let mut body = json!({"case_id": id, "action": action});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let reply = callback(&app, &department, &secret, &body);
        reply.expect_status(200);
        assert_eq!(reply.body["case_id"], id.as_str());
        assert_eq!(reply.body["status"], status);
        assert!(reply.body["event_seq"].as_i64().is_some(), "{}", reply.text);
        assert_eq!(reply.body["applied"], true, "{}", reply.text);
    }

    // 7. The public timeline shows every step in order.
    let public = app.get(&format!("/api/reports/{tracking}"));
    public.expect_status(200);
    assert_eq!(public.body["status"], "handled");
    assert_eq!(public.body["department"]["code"], department.as_str());
    let timeline = public.body["timeline"].as_array().expect("a timeline");
    let statuses: Vec<&str> = timeline
        .iter()
        .map(|e| e["status"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        statuses,
        [
            "collected",
            "accepted",
            "dispatched",
            "signed_for",
            "in_progress",
            "handled"
        ]
    );
    let seqs: Vec<i64> = timeline.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert_eq!(timeline[5]["note"], note);
    assert!(timeline.iter().all(|e| e["at"].is_string()));
    assert!(
        timeline.iter().all(|e| e.get("actor").is_none()),
        "no actor identities in public: {}",
        public.text
    );
    assert!(!public.text.contains(phone) && !public.text.contains(name));
}

#[test]
fn a_failed_delivery_leaves_the_case_dispatched_with_the_message_pending() {
    let app = spawn_app();
    let fake = FakeDepartment::start(500);
    let (department, _secret) = new_department(&app, &fake);
    let report = file_report(&app, &category_for(&department));
    let id = report["id"].as_str().unwrap();

    let dispatch = dispatch_to(&app, id, &department);
    dispatch.expect_status(200);
    assert_eq!(dispatch.body["case"]["status"], "dispatched");
    assert_eq!(
        dispatch.body["delivery"]["status"], "pending",
        "{}",
        dispatch.text
    );
    assert_eq!(fake.received().len(), 1, "one attempt right away");

    // Nothing is due yet (the first retry waits), so a sweep now sends nothing.
    let sweep = app.operator().post_raw("/api/sweep", &[], Vec::new());
    sweep.expect_status(200);
    assert_eq!(sweep.body["webhooks"]["delivered"], 0, "{}", sweep.text);
    assert_eq!(fake.received().len(), 1);
    assert_eq!(operator_case(&app, id)["case"]["status"], "dispatched");
}

#[test]
fn a_dispatch_without_a_department_goes_to_the_categorys_department() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (department, _secret) = new_department(&app, &fake);
    let report = file_report(&app, &category_for(&department));
    let id = report["id"].as_str().unwrap();

    // No body at all: without `department`, routing chooses; a component goes to its owner,
    // the category's department.
    let dispatch = app
        .operator()
        .post_raw(&format!("/api/cases/{id}/dispatch"), &[], Vec::new());
    dispatch.expect_status(200);
    assert_eq!(dispatch.body["case"]["status"], "dispatched");
    assert_eq!(
        dispatch.body["case"]["department"],
        department.as_str(),
        "{}",
        dispatch.text
    );
    assert_eq!(dispatch.body["delivery"]["status"], "delivered");
    assert_eq!(fake.received().len(), 1);
}

#[test]
fn the_operator_view_has_the_contact_data_and_every_event() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (department, _secret) = new_department(&app, &fake);
    let (lat, lng, _) = point_inside_a_cell();
    let mut body = report_body(&category_for(&department), lat, lng);
    body["contact_name"] = json!("王测试先生");
    body["contact_phone"] = json!("+8613700001111");
    let report = app.post_json("/api/reports", &body);
    report.expect_status(201);
    let id = report.body["id"].as_str().unwrap();
    dispatch_to(&app, id, &department).expect_status(200);

    // "The whole case, contact data included, with every event (actor and details)."
    let case = operator_case(&app, id);
    assert_eq!(case["case"]["id"], id);
    assert_eq!(case["case"]["department"], department.as_str());
    // Masked unless asked for; asking is itself on the case's trail.
    assert_eq!(case["case"]["contact_name"], "王****", "{case}");
    assert_eq!(case["case"]["contact_phone"], "+86*******1111", "{case}");
    let revealed = app
        .operator()
        .get(&format!("/api/cases/{id}?reveal=contact"));
    revealed.expect_status(200);
    let case = revealed.body;
    assert_eq!(case["case"]["contact_name"], "王测试先生", "{case}");
    assert_eq!(case["case"]["contact_phone"], "+8613700001111", "{case}");
    let events = case["events"].as_array().expect("events");
    let statuses: Vec<&str> = events
        .iter()
        .map(|e| e["status"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        statuses,
        ["collected", "accepted", "dispatched", "dispatched"]
    );
    assert_eq!(events[3]["type"], "reveal_contact", "{case}");
    assert!(
        events
            .iter()
            .all(|e| e["actor"].is_string() && e.get("details").is_some()),
        "{case}"
    );
}

#[test]
fn health_is_ok_with_a_schema_and_a_map() {
    let app = spawn_app();
    let reply = app.get("/api/health");
    reply.expect_status(200);
    assert_eq!(reply.body["status"], "ok");
    assert!(
        reply.body["schema_version"]
            .as_i64()
            .is_some_and(|v| v >= 1),
        "{}",
        reply.text
    );
    assert!(
        reply.body["map_version"].as_i64().is_some(),
        "the demo city is loaded: {}",
        reply.text
    );
}

#[test]
fn the_category_list_has_the_demo_categories() {
    let app = spawn_app();
    let reply = app.get("/api/categories");
    reply.expect_status(200);
    let list = reply.body.as_array().expect("a list");
    let greenway = list
        .iter()
        .find(|c| c["code"] == "landscape.greenway_sign")
        .expect("the demo category");
    assert_eq!(greenway["department"], "gardens");
    assert_eq!(greenway["kind"], "component");
}
