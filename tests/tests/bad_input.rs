//! Every kind of bad request gets its own RFC 9457 problem: the right status, the
//! `application/problem+json` type and a stable `type`.

use onegrid_tests::serde_json::json;
use onegrid_tests::{point_inside_a_cell, report_body, spawn_app};

const JSON: (&str, &str) = ("content-type", "application/json");

#[test]
fn malformed_json_is_refused_with_malformed_json() {
    let app = spawn_app();
    let reply = app.post_raw(
        "/api/reports",
        &[JSON],
        r#"{"category": "landscape.greenway_sign", "lat": "#,
    );
    reply.expect_problem(400, "malformed-json");
}

#[test]
fn a_body_that_is_not_declared_as_json_is_refused_with_unsupported_media_type() {
    let app = spawn_app();
    let (lat, lng, _) = point_inside_a_cell();
    let body = report_body("landscape.greenway_sign", lat, lng).to_string();
    let reply = app.post_raw("/api/reports", &[("content-type", "text/plain")], body);
    reply.expect_problem(415, "unsupported-media-type");
}

#[test]
fn a_report_without_its_required_fields_lists_each_missing_field() {
    let app = spawn_app();
    let reply = app.post_json("/api/reports", &json!({"address": "somewhere"}));
    reply.expect_problem(422, "validation-failed");
    let fields = reply.error_fields();
    for field in ["category", "description", "lat", "lng"] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} missing from {fields:?}: {}",
            reply.text
        );
    }
    let messages_are_text = reply.body["errors"].as_array().is_some_and(|e| {
        e.iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty()))
    });
    assert!(messages_are_text, "{}", reply.text);
}

#[test]
fn out_of_range_coordinates_are_refused_with_validation_failed() {
    let app = spawn_app();
    let reply = app.post_json(
        "/api/reports",
        &report_body("landscape.greenway_sign", 91.0, 181.0),
    );
    reply.expect_problem(422, "validation-failed");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["lat", "lng"], "{}", reply.text);
}

#[test]
fn a_description_that_is_too_short_is_refused_with_validation_failed() {
    let app = spawn_app();
    let (lat, lng, _) = point_inside_a_cell();
    let mut body = report_body("landscape.greenway_sign", lat, lng);
    body["description"] = json!("  bad ");
    let reply = app.post_json("/api/reports", &body);
    reply.expect_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["description"], "{}", reply.text);
}

#[test]
fn report_outside_every_cell_is_refused_with_outside_jurisdiction() {
    let app = spawn_app();
    let reply = app.post_json(
        "/api/reports",
        &report_body("landscape.greenway_sign", 30.0, 100.0),
    );
    reply.expect_problem(404, "outside-jurisdiction");
}

#[test]
fn an_oversized_body_is_refused_with_body_too_large() {
    let app = spawn_app();
    let (lat, lng, _) = point_inside_a_cell();
    let mut body = report_body("landscape.greenway_sign", lat, lng);
    // Past the 6 MiB a report may carry with its photos.
    body["description"] = json!("x".repeat(7 * 1024 * 1024));
    let bytes = body.to_string();
    assert!(bytes.len() > 7 * 1024 * 1024);
    // Sent with `Expect: 100-continue`: a server may answer 413 from the length alone and
    // close without reading the body, which an ordinary client reports as a broken pipe.
    let reply =
        app.public()
            .send_expecting_continue("POST", "/api/reports", &[JSON], bytes.as_bytes());
    reply.expect_problem(413, "body-too-large");
}

#[test]
fn an_unknown_category_is_refused_with_validation_failed() {
    let app = spawn_app();
    let (lat, lng, _) = point_inside_a_cell();
    let reply = app.post_json("/api/reports", &report_body("no.such_category", lat, lng));
    reply.expect_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["category"], "{}", reply.text);
}

#[test]
fn an_unknown_tracking_code_is_not_found() {
    let app = spawn_app();
    let reply = app.get("/api/reports/ZZZZ-ZZZZ");
    reply.expect_problem(404, "not-found");
}

#[test]
fn operator_routes_without_a_token_are_unauthorized() {
    let app = spawn_app();
    let public = app.public();
    for reply in [
        public.get("/api/cases"),
        public.get("/api/cases?status=collected"),
        public.get("/api/cases/01JD8XAAAAAAAAAAAAAAAAAAAA"),
        public.post_raw(
            "/api/cases/01JD8XAAAAAAAAAAAAAAAAAAAA/dispatch",
            &[],
            Vec::new(),
        ),
        public.post_raw("/api/sweep", &[], Vec::new()),
    ] {
        reply.expect_problem(401, "unauthorized");
    }
}

#[test]
fn operator_routes_with_a_wrong_token_are_unauthorized() {
    let app = spawn_app();
    let wrong = format!("Bearer {}x", app.operator_token());
    for (method, path) in [("GET", "/api/cases"), ("POST", "/api/sweep")] {
        let reply = app
            .public()
            .send(method, path, &[("authorization", &wrong)], Vec::new());
        reply.expect_problem(401, "unauthorized");
    }
}

#[test]
fn admin_routes_with_a_wrong_token_are_unauthorized() {
    let app = spawn_app();
    let wrong = format!("Bearer {}x", app.admin_token());
    let body = json!({"name": "Intruder", "webhook_url": "http://127.0.0.1:9/hook"}).to_string();
    let reply = app.public().send(
        "PUT",
        "/api/admin/departments/intruder",
        &[
            ("authorization", &wrong),
            ("content-type", "application/json"),
        ],
        body.into_bytes(),
    );
    reply.expect_problem(401, "unauthorized");
    let reply = app.public().put_json(
        "/api/admin/categories/intruder.category",
        &json!({"name_zh": "入侵", "name_en": "Intrusion", "kind": "event", "department": "urban"}),
    );
    reply.expect_problem(401, "unauthorized");
}

#[test]
fn the_other_roles_token_is_forbidden() {
    // docs/problems.md: 403 `forbidden` when "the caller's role may not use this route".
    let app = spawn_app();
    app.admin()
        .get("/api/cases")
        .expect_problem(403, "forbidden");
    app.operator()
        .put_json(
            "/api/admin/departments/intruder",
            &json!({"name": "Intruder", "webhook_url": "http://127.0.0.1:9/hook"}),
        )
        .expect_problem(403, "forbidden");
}

#[test]
fn dispatching_an_unknown_case_is_not_found() {
    let app = spawn_app();
    let reply = app.operator().post_raw(
        "/api/cases/01JD8XAAAAAAAAAAAAAAAAAAAA/dispatch",
        &[],
        Vec::new(),
    );
    reply.expect_problem(404, "not-found");
}

#[test]
fn reading_an_unknown_case_is_not_found() {
    let app = spawn_app();
    let reply = app.operator().get("/api/cases/01JD8XAAAAAAAAAAAAAAAAAAAA");
    reply.expect_problem(404, "not-found");
}

#[test]
fn a_list_with_an_unknown_status_is_refused_with_validation_failed() {
    let app = spawn_app();
    let reply = app.operator().get("/api/cases?status=lost");
    reply.expect_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["status"], "{}", reply.text);
}
