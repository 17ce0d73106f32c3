//! Open311 as FixMyStreet's client (`perllib/Open311.pm`) uses it: the service list, a request
//! posted form-encoded with `jurisdiction_id` and `api_key`, the request and update lists read
//! as XML, and its users' comments posted to `servicerequestupdates.xml`, which reach the case
//! and, through the outbox, its department. Errors, 404 and 405 included, are the spec's
//! `errors/error` list in the format asked for.

use std::time::{Duration, Instant};

use onegrid_tests::serde_json::{Value, json};
use onegrid_tests::{
    FakeDepartment, Reply, TestApp, callback, category_for, dispatch_to, new_department,
    operator_case, point_inside_a_cell, spawn_app,
};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn open311_key(app: &TestApp) -> String {
    let key = app.admin().post_json(
        "/api/admin/keys",
        &json!({"name": "FixMyStreet", "actions": ["open311.submit"]}),
    );
    key.expect_status(201);
    key.body["key"].as_str().expect("a key").to_owned()
}

/// The XML answer, with its content type checked.
fn xml(reply: &Reply) -> roxmltree::Document<'_> {
    assert!(
        reply.media_type() == "text/xml",
        "{} {}",
        reply.status,
        reply.text
    );
    roxmltree::Document::parse(&reply.text).expect("well-formed XML")
}

/// The text of each `<item>/<field>` under the root, as XML::Simple would read it.
fn fields(doc: &roxmltree::Document<'_>, item: &str, field: &str) -> Vec<String> {
    doc.root_element()
        .children()
        .filter(|n| n.has_tag_name(item))
        .map(|n| {
            n.children()
                .find(|c| c.has_tag_name(field))
                .and_then(|c| c.text())
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// The updates of one request, as FixMyStreet reads them: (update_id, status, datetime,
/// description).
fn updates_of(app: &TestApp, request_id: &str) -> Vec<(String, String, String, String)> {
    let reply = app.get("/open311/v2/servicerequestupdates.xml?jurisdiction_id=onegrid&locale=en");
    reply.expect_status(200);
    let doc = xml(&reply);
    let ids = fields(&doc, "request_update", "update_id");
    let requests = fields(&doc, "request_update", "service_request_id");
    let statuses = fields(&doc, "request_update", "status");
    let times = fields(&doc, "request_update", "updated_datetime");
    let descriptions = fields(&doc, "request_update", "description");
    (0..ids.len())
        .filter(|i| requests[*i] == request_id)
        .map(|i| {
            (
                ids[i].clone(),
                statuses[i].clone(),
                times[i].clone(),
                descriptions[i].clone(),
            )
        })
        .collect()
}

fn wait_for_webhook(fake: &FakeDepartment, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(found) = fake
            .received()
            .iter()
            .map(|r| r.json())
            .find(|b| b["type"] == kind)
        {
            return found;
        }
        assert!(Instant::now() < deadline, "no {kind} webhook came");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn fixmystreet_lists_posts_reads_and_comments_and_the_comment_reaches_the_department() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (department, secret) = new_department(&app, &fake);
    let service = category_for(&department);
    let key = open311_key(&app);

    // The service list: ours is there, disputes are not offered.
    let services = app.get("/open311/v2/services.xml?jurisdiction_id=onegrid");
    services.expect_status(200);
    let codes = fields(&xml(&services), "service", "service_code");
    assert!(codes.contains(&service), "{}", services.text);
    assert!(
        codes.iter().all(|c| !c.starts_with("dispute.")),
        "{codes:?}"
    );
    app.get(&format!(
        "/open311/v2/services/{service}.xml?jurisdiction_id=onegrid"
    ))
    .expect_status(200);

    // The request, as send_service_request posts it.
    let (lat, lng, _) = point_inside_a_cell();
    let posted = app.post_raw(
        "/open311/v2/requests.xml",
        &[FORM],
        form(&[
            ("jurisdiction_id", "onegrid"),
            ("api_key", &key),
            ("lat", &lat.to_string()),
            ("long", &lng.to_string()),
            ("email", "resident@example.org"),
            ("description", "title: Broken sign\n\ndetail: The sign by the gate is broken\n\nurl: https://fms.example.org/report/1\n\nSubmitted via FixMyStreet\n"),
            ("service_code", &service),
            ("first_name", "Ada"),
            ("last_name", "Resident"),
            ("media_url", "https://fms.example.org/photo/1.jpeg"),
        ]),
    );
    posted.expect_status(201);
    let request_id = fields(&xml(&posted), "request", "service_request_id")
        .pop()
        .expect("a service_request_id");

    let one = app.get(&format!(
        "/open311/v2/requests.xml?jurisdiction_id=onegrid&service_request_id={request_id}"
    ));
    one.expect_status(200);
    assert_eq!(fields(&xml(&one), "request", "status"), ["open"]);

    // The centre dispatches it; the department signs for it.
    let cases = app
        .operator()
        .get(&format!("/api/cases?category={service}"));
    cases.expect_status(200);
    let case_id = cases.body["items"][0]["id"]
        .as_str()
        .expect("the request's case")
        .to_owned();
    assert_eq!(cases.body["items"][0]["public_id"], request_id.as_str());
    dispatch_to(&app, &case_id, &department).expect_status(200);
    callback(
        &app,
        &department,
        &secret,
        &json!({"case_id": case_id, "action": "signed_for"}),
    )
    .expect_status(200);

    // The updates: every one in words, each with its own time, in order, and statuses that
    // FixMyStreet keeps open.
    let updates = updates_of(&app, &request_id);
    let statuses: Vec<&str> = updates.iter().map(|u| u.1.as_str()).collect();
    assert_eq!(
        statuses,
        ["investigating", "investigating", "action_scheduled"],
        "accept, dispatch, sign for: {updates:?}"
    );
    assert!(
        updates[0].3.starts_with("Accepted"),
        "the accept says so: {updates:?}"
    );
    assert!(
        updates.iter().all(|u| !u.3.trim().is_empty()),
        "{updates:?}"
    );
    let times: Vec<&str> = updates.iter().map(|u| u.2.as_str()).collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "distinct, increasing times: {times:?}"
    );

    // A user's comment, as post_service_request_update sends it.
    let comment = form(&[
        ("jurisdiction_id", "onegrid"),
        ("api_key", &key),
        ("update_id_ext", "4242"),
        ("updated_datetime", "2026-11-27T09:30:00+08:00"),
        ("service_request_id", &request_id),
        ("service_request_id_ext", "1"),
        ("status", "OPEN"),
        ("email", "resident@example.org"),
        ("description", "The sign has now fallen onto the path"),
        ("last_name", "Resident"),
        ("first_name", "Ada"),
        ("public_anonymity_required", "FALSE"),
        ("email_alerts_requested", "FALSE"),
    ]);
    let answer = app.post_raw(
        "/open311/v2/servicerequestupdates.xml",
        &[FORM],
        comment.clone(),
    );
    answer.expect_status(201);
    let doc = xml(&answer);
    assert_eq!(
        doc.root_element().tag_name().name(),
        "service_request_updates"
    );
    let update_id = fields(&doc, "request_update", "update_id")
        .pop()
        .expect("an update_id");
    assert_eq!(update_id, format!("{request_id}-5"), "{}", answer.text);

    // Sent again (a retry): the same answer, nothing added.
    let again = app.post_raw("/open311/v2/servicerequestupdates.xml", &[FORM], comment);
    again.expect_status(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        fields(&xml(&again), "request_update", "update_id"),
        std::slice::from_ref(&update_id)
    );

    // It reached the case (once), without the commenter's name or address…
    let case = operator_case(&app, &case_id);
    let events = case["events"].as_array().expect("events");
    let comments: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "open311_update")
        .collect();
    assert_eq!(comments.len(), 1, "{events:?}");
    assert_eq!(
        case["case"]["status"], "signed_for",
        "a comment moves nothing"
    );
    let details = comments[0]["details"].to_string();
    assert!(details.contains("fallen onto the path"), "{details}");
    assert!(details.contains("\"client_status\":\"open\""), "{details}");
    assert!(
        !details.contains("resident@example.org") && !details.contains("Ada"),
        "{details}"
    );
    // …the department, through the outbox…
    let webhook = wait_for_webhook(&fake, "case.comment");
    assert_eq!(webhook["data"]["case_id"], case_id.as_str());
    assert_eq!(
        webhook["data"]["comment"],
        "The sign has now fallen onto the path"
    );
    // …and the update list, under the id FixMyStreet was given.
    let updates = updates_of(&app, &request_id);
    let listed = updates
        .iter()
        .find(|u| u.0 == update_id)
        .expect("the comment is listed");
    assert_eq!(listed.1, "action_scheduled");
    assert_eq!(listed.3, "The sign has now fallen onto the path");
}

#[test]
fn open311_errors_are_the_specs_list_in_the_format_asked_for_404_and_405_included() {
    let app = spawn_app();
    let key = open311_key(&app);

    let missing = app.get("/open311/v2/nothing-here.json");
    missing.expect_status(404);
    assert_eq!(missing.media_type(), "application/json", "{}", missing.text);
    assert_eq!(missing.body[0]["code"], 404, "{}", missing.text);
    assert!(missing.body[0]["description"].is_string());

    let wrong_method = app
        .public()
        .send("DELETE", "/open311/v2/requests.xml", &[], Vec::new());
    wrong_method.expect_status(405);
    assert_eq!(wrong_method.header("allow"), Some("GET, POST"));
    let doc = xml(&wrong_method);
    assert_eq!(doc.root_element().tag_name().name(), "errors");
    assert_eq!(fields(&doc, "error", "code"), ["405"]);

    let put = app.public().send(
        "PUT",
        "/open311/v2/servicerequestupdates.json",
        &[FORM],
        Vec::new(),
    );
    put.expect_status(405);
    assert_eq!(put.header("allow"), Some("GET, POST"));
    assert_eq!(put.body[0]["code"], 405, "{}", put.text);

    // No key; an unknown request; no id of the update: the spec's codes.
    let unsigned = app.post_raw(
        "/open311/v2/servicerequestupdates.xml",
        &[FORM],
        form(&[
            ("service_request_id", "X"),
            ("update_id_ext", "1"),
            ("description", "hi"),
        ]),
    );
    unsigned.expect_status(403);
    assert_eq!(fields(&xml(&unsigned), "error", "code"), ["403"]);
    let unknown = app.post_raw(
        "/open311/v2/servicerequestupdates.json",
        &[FORM],
        form(&[
            ("api_key", &key),
            ("service_request_id", "ZZZZ-ZZZZ"),
            ("update_id_ext", "1"),
            ("description", "hi"),
        ]),
    );
    unknown.expect_status(404);
    assert_eq!(unknown.body[0]["code"], 404, "{}", unknown.text);
    let no_id = app.post_raw(
        "/open311/v2/servicerequestupdates.json",
        &[FORM],
        form(&[
            ("api_key", &key),
            ("service_request_id", "X"),
            ("description", "hi"),
        ]),
    );
    no_id.expect_status(400);
    assert!(no_id.text.contains("update_id"), "{}", no_id.text);

    // A dispute is not a service here.
    let dispute = app.post_raw(
        "/open311/v2/requests.json",
        &[FORM],
        form(&[
            ("api_key", &key),
            ("service_code", "dispute.neighbourhood"),
            ("address_string", "Building 3"),
            ("description", "My neighbour's dog"),
        ]),
    );
    dispute.expect_status(404);
    assert_eq!(dispute.body[0]["code"], 404, "{}", dispute.text);
    app.get("/open311/v2/services/dispute.neighbourhood.json")
        .expect_status(404);

    // Refused before any handler runs (the body is past the ordinary limit): still the spec's
    // list, in the format asked for.
    let big = form(&[("api_key", &key), ("description", &"x".repeat(300 * 1024))]);
    let too_large = app.public().send_expecting_continue(
        "POST",
        "/open311/v2/requests.json",
        &[FORM],
        big.as_bytes(),
    );
    too_large.expect_status(413);
    assert_eq!(
        too_large.media_type(),
        "application/json",
        "{}",
        too_large.text
    );
    assert_eq!(too_large.body[0]["code"], 413, "{}", too_large.text);
    let too_large = app.public().send_expecting_continue(
        "POST",
        "/open311/v2/servicerequestupdates.xml",
        &[FORM],
        big.as_bytes(),
    );
    too_large.expect_status(413);
    assert_eq!(fields(&xml(&too_large), "error", "code"), ["413"]);
}

#[test]
fn a_service_question_may_have_order_zero() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (department, _) = new_department(&app, &fake);
    let service = category_for(&department);
    app.admin()
        .put_json(
            &format!("/api/admin/categories/{service}/open311"),
            &json!({"attributes": [
                {"code": "SIZE", "datatype": "string", "description": "How large?", "order": 1},
                {"code": "WHERE", "datatype": "string", "description": "Where exactly?", "order": 0},
            ]}),
        )
        .expect_status(200);
    let definition = app.get(&format!("/open311/v2/services/{service}.json"));
    definition.expect_status(200);
    assert_eq!(
        definition.body["attributes"][0]["code"], "WHERE",
        "{}",
        definition.text
    );
    assert_eq!(definition.body["attributes"][0]["order"], 0);
}

#[test]
fn a_rejected_case_reads_as_not_the_citys_and_a_merged_one_as_duplicate() {
    let app = spawn_app();
    let key = open311_key(&app);
    let fake = FakeDepartment::start(200);
    let (department, _) = new_department(&app, &fake);
    let service = category_for(&department);
    let (lat, lng, _) = point_inside_a_cell();
    let post = || {
        let reply = app.post_raw(
            "/open311/v2/requests.json",
            &[FORM],
            form(&[
                ("api_key", &key),
                ("service_code", &service),
                ("lat", &lat.to_string()),
                ("long", &lng.to_string()),
                ("description", "The greenway sign at the corner is broken"),
            ]),
        );
        reply.expect_status(201);
        reply.body[0]["service_request_id"]
            .as_str()
            .expect("an id")
            .to_owned()
    };
    let case_of = |request_id: &str| {
        let cases = app
            .operator()
            .get(&format!("/api/cases?category={service}&limit=200"));
        cases.expect_status(200);
        cases.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|c| c["public_id"] == request_id)
            .expect("the case")["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    };
    let (parent, rejected, merged) = (post(), post(), post());
    let mv = |request_id: &str, body: Value| {
        app.operator()
            .post_json(&format!("/api/cases/{}/moves", case_of(request_id)), &body)
            .expect_status(200);
    };
    mv(
        &rejected,
        json!({"move": "reject", "reason": "Out of scope: private land"}),
    );
    mv(
        &merged,
        json!({"move": "merge", "parent": case_of(&parent)}),
    );
    let last_status = |request_id: &str| {
        let updates = updates_of(&app, request_id);
        updates.last().expect("an update").1.clone()
    };
    assert_eq!(last_status(&rejected), "not_councils_responsibility");
    assert_eq!(last_status(&merged), "duplicate");
    for request_id in [&rejected, &merged] {
        let one = app.get(&format!("/open311/v2/requests/{request_id}.json"));
        assert_eq!(one.body[0]["status"], "closed", "{}", one.text);
    }
}
