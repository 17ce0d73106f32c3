//! Departments report back by Standard Webhooks: only a good, fresh signature is heard, a
//! repeated `webhook-id` changes nothing, and the state machine decides what may happen.

use onegrid_tests::serde_json::json;
use onegrid_tests::{
    FakeDepartment, as_refs, callback, dispatched_case, now_seconds, operator_case, sign_callback,
    sign_callback_with, spawn_app,
};

fn event_count(app: &onegrid_tests::TestApp, id: &str) -> usize {
    operator_case(app, id)["events"]
        .as_array()
        .expect("events")
        .len()
}

#[test]
fn a_good_callback_moves_the_case() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, secret) = dispatched_case(&app, &fake);
    let reply = callback(
        &app,
        &department,
        &secret,
        &json!({"case_id": id, "action": "signed_for"}),
    );
    reply.expect_status(200);
    assert_eq!(reply.body["status"], "signed_for");
    assert_eq!(reply.body["event_seq"], 4, "{}", reply.text);
    assert_eq!(operator_case(&app, &id)["case"]["status"], "signed_for");
}

#[test]
fn a_callback_with_a_wrong_signature_is_refused_with_bad_signature() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, _secret) = dispatched_case(&app, &fake);
    let body = json!({"case_id": id, "action": "signed_for"}).to_string();
    // Signed with another department's secret.
    let headers = sign_callback(&onegrid::http::webhook::new_secret(), &body);
    let reply = app.post_raw(
        &format!("/api/callbacks/{department}"),
        &as_refs(&headers),
        body,
    );
    reply.expect_problem(401, "bad-signature");
    assert_eq!(event_count(&app, &id), 3, "nothing was applied");
}

#[test]
fn a_callback_whose_body_was_changed_after_signing_is_refused_with_bad_signature() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, secret) = dispatched_case(&app, &fake);
    let signed = json!({"case_id": id, "action": "signed_for"}).to_string();
    let headers = sign_callback(&secret, &signed);
    let sent = json!({"case_id": id, "action": "returned", "reason": "not ours"}).to_string();
    let reply = app.post_raw(
        &format!("/api/callbacks/{department}"),
        &as_refs(&headers),
        sent,
    );
    reply.expect_problem(401, "bad-signature");
    assert_eq!(operator_case(&app, &id)["case"]["status"], "dispatched");
}

#[test]
fn an_unsigned_callback_is_refused_with_bad_signature() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, _secret) = dispatched_case(&app, &fake);
    let reply = app.post_raw(
        &format!("/api/callbacks/{department}"),
        &[("content-type", "application/json")],
        json!({"case_id": id, "action": "signed_for"}).to_string(),
    );
    reply.expect_problem(401, "bad-signature");
}

#[test]
fn a_callback_signed_ten_minutes_ago_is_refused_with_stale_timestamp() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, secret) = dispatched_case(&app, &fake);
    let body = json!({"case_id": id, "action": "signed_for"}).to_string();
    let headers = sign_callback_with(&secret, "msg_stale_0001", now_seconds() - 600, &body);
    let reply = app.post_raw(
        &format!("/api/callbacks/{department}"),
        &as_refs(&headers),
        body,
    );
    reply.expect_problem(401, "stale-timestamp");
    assert_eq!(event_count(&app, &id), 3, "nothing was applied");
}

#[test]
fn a_replayed_webhook_id_gets_the_first_answer_and_changes_nothing() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, secret) = dispatched_case(&app, &fake);
    let body = json!({"case_id": id, "action": "signed_for"}).to_string();
    let headers = sign_callback(&secret, &body);
    let path = format!("/api/callbacks/{department}");

    let first = app.post_raw(&path, &as_refs(&headers), body.clone());
    first.expect_status(200);
    assert_eq!(first.body["status"], "signed_for");
    assert_eq!(first.body["applied"], true, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    let events_after_first = event_count(&app, &id);
    assert_eq!(events_after_first, 4);

    let again = app.post_raw(&path, &as_refs(&headers), body);
    assert_eq!(again.status, first.status, "{}", again.text);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        event_count(&app, &id),
        events_after_first,
        "the repeat applied nothing"
    );
    assert_eq!(operator_case(&app, &id)["case"]["status"], "signed_for");
}

#[test]
fn a_replayed_refusal_gets_the_same_refusal() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, secret) = dispatched_case(&app, &fake);
    callback(
        &app,
        &department,
        &secret,
        &json!({"case_id": id, "action": "signed_for"}),
    )
    .expect_status(200);
    // `handled` without its note: refused, and the refusal is kept for the webhook-id.
    let body = json!({"case_id": id, "action": "handled"}).to_string();
    let headers = sign_callback(&secret, &body);
    let path = format!("/api/callbacks/{department}");
    let first = app.post_raw(&path, &as_refs(&headers), body.clone());
    first.expect_problem(422, "validation-failed");
    let again = app.post_raw(&path, &as_refs(&headers), body);
    again.expect_problem(422, "validation-failed");
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(event_count(&app, &id), 4);
}

#[test]
fn a_forbidden_move_is_not_kept_so_its_retry_applies_after_its_predecessor() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, secret) = dispatched_case(&app, &fake);
    let path = format!("/api/callbacks/{department}");
    // `handled` arrives before `signed_for`: 409, and not kept for its webhook-id …
    let handled = json!({"case_id": id, "action": "handled", "note": "Fixed."}).to_string();
    let handled_headers = sign_callback(&secret, &handled);
    app.post_raw(&path, &as_refs(&handled_headers), handled.clone())
        .expect_problem(409, "forbidden-move");
    callback(
        &app,
        &department,
        &secret,
        &json!({"case_id": id, "action": "signed_for"}),
    )
    .expect_status(200);
    // … so the department's retry of the same message applies now.
    let retry = app.post_raw(&path, &as_refs(&handled_headers), handled);
    retry.expect_status(200);
    assert_eq!(retry.body["status"], "handled", "{}", retry.text);
    assert_eq!(retry.header("idempotent-replayed"), None);
    assert_eq!(operator_case(&app, &id)["case"]["status"], "handled");
}

#[test]
fn handled_before_signing_for_is_a_forbidden_move_with_the_allowed_moves() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, secret) = dispatched_case(&app, &fake);
    let reply = callback(
        &app,
        &department,
        &secret,
        &json!({"case_id": id, "action": "handled", "note": "Already fixed."}),
    );
    reply.expect_problem(409, "forbidden-move");
    let allowed: Vec<&str> = reply.body["allowed_moves"]
        .as_array()
        .unwrap_or_else(|| panic!("allowed_moves is a list: {}", reply.text))
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    assert!(allowed.contains(&"sign_for"), "{allowed:?}");
    assert!(!allowed.contains(&"handle"), "{allowed:?}");
    assert_eq!(operator_case(&app, &id)["case"]["status"], "dispatched");
}

#[test]
fn handled_without_a_note_is_refused_with_validation_failed() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, secret) = dispatched_case(&app, &fake);
    callback(
        &app,
        &department,
        &secret,
        &json!({"case_id": id, "action": "signed_for"}),
    )
    .expect_status(200);
    let reply = callback(
        &app,
        &department,
        &secret,
        &json!({"case_id": id, "action": "handled"}),
    );
    reply.expect_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["note"], "{}", reply.text);
    assert_eq!(operator_case(&app, &id)["case"]["status"], "signed_for");
}

#[test]
fn a_callback_about_an_unknown_case_is_not_found() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (_id, department, secret) = dispatched_case(&app, &fake);
    let reply = callback(
        &app,
        &department,
        &secret,
        &json!({"case_id": "01JD8XAAAAAAAAAAAAAAAAAAAA", "action": "signed_for"}),
    );
    reply.expect_problem(404, "not-found");
}

#[test]
fn a_department_cannot_move_another_departments_case() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, _owner, _) = dispatched_case(&app, &fake);
    let (_other_case, other, other_secret) = dispatched_case(&app, &fake);
    let reply = callback(
        &app,
        &other,
        &other_secret,
        &json!({"case_id": id, "action": "signed_for"}),
    );
    reply.expect_problem(404, "not-found");
    assert_eq!(operator_case(&app, &id)["case"]["status"], "dispatched");
}

#[test]
fn an_unsigned_callback_is_answered_alike_for_unknown_secretless_and_known_departments() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, known, _secret) = dispatched_case(&app, &fake);
    let secretless = format!("dept-nosecret-{}", onegrid_tests::random_hex(4));
    app.admin()
        .put_json(
            &format!("/api/admin/departments/{secretless}"),
            &json!({"name": "A department without a secret"}),
        )
        .expect_status(200);
    let body = json!({"case_id": id, "action": "signed_for"}).to_string();
    let answers: Vec<(u16, String)> = [known.as_str(), &secretless, "dept-nobody-here"]
        .iter()
        .map(|department| {
            let reply = app.post_raw(
                &format!("/api/callbacks/{department}"),
                &[("content-type", "application/json")],
                body.clone(),
            );
            (reply.status, reply.text.clone())
        })
        .collect();
    assert_eq!(answers[0].0, 401, "{}", answers[0].1);
    assert_eq!(answers[0], answers[1], "a department without a secret");
    assert_eq!(answers[0], answers[2], "an unknown department");
}

#[test]
fn a_put_with_the_same_secret_and_no_overlap_ends_a_rotation_at_once() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (id, department, old_secret) = dispatched_case(&app, &fake);
    let new_secret = onegrid::http::webhook::new_secret();
    let put = |secret: &str, hours: f64| {
        app.admin().put_json(
            &format!("/api/admin/departments/{department}"),
            &json!({"name": "Rotating department", "webhook_url": fake.url(), "secret": secret,
                    "secret_overlap_hours": hours}),
        )
    };
    put(&new_secret, 24.0).expect_status(200);
    // During the overlap the old secret still verifies.
    callback(
        &app,
        &department,
        &old_secret,
        &json!({"case_id": id, "action": "signed_for"}),
    )
    .expect_status(200);
    put(&new_secret, 0.0).expect_status(200);
    callback(
        &app,
        &department,
        &old_secret,
        &json!({"case_id": id, "action": "in_progress"}),
    )
    .expect_problem(401, "bad-signature");
    callback(
        &app,
        &department,
        &new_secret,
        &json!({"case_id": id, "action": "in_progress"}),
    )
    .expect_status(200);
}
