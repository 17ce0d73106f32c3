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

/// One report field changed from a report that passes every check.
fn report_with(
    field: &str,
    value: onegrid_tests::serde_json::Value,
) -> onegrid_tests::serde_json::Value {
    let (lat, lng, _) = point_inside_a_cell();
    let mut body = report_body("landscape.greenway_sign", lat, lng);
    body[field] = value;
    body
}

#[test]
fn a_description_of_only_invisible_characters_is_refused() {
    let app = spawn_app();
    for description in [
        "\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}",
        "\u{1}\u{2}\u{3}\u{4}\u{5}\u{6}\u{7}\u{8}\u{b}\u{c}\u{e}\u{f}",
        "\u{feff}\u{2060}\u{200d}\u{200c} \u{3000}\u{3164}\u{ad}\u{202e}\u{fe0f}\u{180e}",
    ] {
        let reply = app.post_json(
            "/api/reports",
            &report_with("description", json!(description)),
        );
        reply.expect_problem(422, "validation-failed");
        assert_eq!(reply.error_fields(), ["description"], "{}", reply.text);
    }
}

#[test]
fn a_citizen_cannot_file_a_patrol_report() {
    let app = spawn_app();
    let reply = app.post_json("/api/reports", &report_with("channel", json!("patrol")));
    reply.expect_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["channel"], "{}", reply.text);
}

#[test]
fn a_report_on_an_unknown_asset_is_refused() {
    let app = spawn_app();
    let mut body = report_with("asset_id", json!("GW-999999"));
    body["channel"] = json!("qr");
    let reply = app.post_json("/api/reports", &body);
    reply.expect_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["asset_id"], "{}", reply.text);
}

#[test]
fn an_unknown_crs_is_refused_by_the_report_and_the_lookup() {
    let app = spawn_app();
    let reply = app.post_json("/api/reports", &report_with("crs", json!("epsg:3857")));
    reply.expect_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["crs"], "{}", reply.text);
    let (lat, lng, _) = point_inside_a_cell();
    let lookup = app.get(&format!(
        "/api/grid/lookup?lat={lat}&lng={lng}&crs=mercator"
    ));
    lookup.expect_problem(422, "validation-failed");
}

#[test]
fn a_photo_declaring_ten_billion_pixels_is_refused() {
    use base64::Engine;
    let app = spawn_app();
    // A PNG header that declares 100000 × 100000 pixels, and nothing to decode.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(13u32.to_be_bytes());
    png.extend(b"IHDR");
    png.extend(100_000u32.to_be_bytes());
    png.extend(100_000u32.to_be_bytes());
    png.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    png.extend([0, 0, 0, 0]);
    png.extend(b"IEND");
    png.extend([0, 0, 0, 0]);
    let data = base64::engine::general_purpose::STANDARD.encode(&png);
    let reply = app.post_json(
        "/api/reports",
        &report_with("photos", json!([{"data": data}])),
    );
    reply.expect_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["photos[0].data"], "{}", reply.text);
}

#[test]
fn a_map_import_not_sent_as_json_is_refused_with_unsupported_media_type() {
    let app = spawn_app();
    let reply = app.admin().post_raw(
        "/api/admin/grids",
        &[("content-type", "text/plain")],
        r#"{"type": "FeatureCollection", "features": []}"#,
    );
    reply.expect_problem(415, "unsupported-media-type");
}

#[test]
fn open311_errors_carry_their_code_as_a_whole_number() {
    let app = spawn_app();
    let reply = app.get("/open311/v2/requests/NO-SUCH-REQUEST.json");
    reply.expect_status(404);
    assert_eq!(reply.body[0]["code"], json!(404), "{}", reply.text);
    assert!(reply.text.contains("\"code\":404"), "{}", reply.text);
    let xml = app.get("/open311/v2/requests/NO-SUCH-REQUEST.xml");
    assert!(xml.text.contains("<code>404</code>"), "{}", xml.text);
}

#[test]
fn no_link_is_built_from_a_host_the_request_names() {
    let app = spawn_app();
    let evil = [("host", "evil.example")];
    // The demo city's first sign: its QR code would point at the caller's host.
    let qr = app
        .public()
        .send("GET", "/api/assets/GW-000001/qr.svg", &evil, Vec::new());
    qr.expect_problem(503, "not-configured");
    let discovery = app
        .public()
        .send("GET", "/open311/v2/discovery.json", &evil, Vec::new());
    discovery.expect_status(200);
    assert!(
        !discovery.text.contains("evil.example"),
        "{}",
        discovery.text
    );
    assert_eq!(discovery.header("cache-control"), Some("no-store"));
    // On the developer's own machine the loopback host still serves.
    app.get("/api/assets/GW-000001/qr.svg").expect_status(200);
}

#[test]
fn a_map_with_a_shape_of_too_many_positions_is_refused_at_once() {
    let app = spawn_app();
    // A cell whose ring is a circle of 20,000 positions: the shape check is quadratic in them.
    let n = 20_000;
    let ring: Vec<_> = (0..=n)
        .map(|k| {
            let a = std::f64::consts::TAU * (k % n) as f64 / n as f64;
            json!([118.1 + 0.001 * a.cos(), 24.5 + 0.001 * a.sin()])
        })
        .collect();
    let area = |code: &str| json!({"type": "Feature", "properties": {"code": code, "name": code}, "geometry": null});
    let map = json!({"type": "FeatureCollection", "features": [
        area("350203"), area("350203001"), area("350203001001"),
        {"type": "Feature", "properties": {"code": "350203001001001", "name": "circle"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}},
    ]});
    let started = std::time::Instant::now();
    let reply = app.admin().post_json("/api/admin/grids", &map);
    reply.expect_problem(422, "validation-failed");
    assert!(reply.text.contains("positions"), "{}", reply.text);
    eprintln!("refused in {:?}", started.elapsed());
    // The demo map is still the one served.
    let (lat, lng, code) = point_inside_a_cell();
    let lookup = app.get(&format!("/api/grid/lookup?lat={lat}&lng={lng}"));
    lookup.expect_status(200);
    assert_eq!(
        lookup.body["cell"]["code"],
        code.as_str(),
        "{}",
        lookup.text
    );
}

#[test]
fn an_unknown_username_is_locked_like_a_known_one() {
    let app = spawn_app();
    let attempt = |username: &str| {
        app.post_json(
            "/api/session",
            &json!({"username": username, "password": "a wrong password!"}),
        )
    };
    // Five wrong tries at a name nobody has: each a 401 like a known name's.
    for _ in 0..5 {
        attempt("nobody-here").expect_problem(401, "unauthorized");
    }
    // The sixth is locked for this address, as a real account would be: the answers do not tell
    // which usernames exist.
    let locked = attempt("nobody-here");
    locked.expect_problem(429, "rate-limited");
    assert_eq!(locked.header("retry-after"), Some("900"), "{}", locked.text);
}
