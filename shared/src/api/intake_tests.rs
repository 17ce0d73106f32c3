//! A citizen's photos: stored with the report in its own transaction, stripped of their
//! metadata, shown in the public view by tracking code, and refused when broken or too many.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;

use super::testkit::*;
use crate::case::evidence::samples::{jpeg_with_exif, png_with_text};

const AT: (f64, f64) = (24.4455, 118.0805);

fn body_with(photos: serde_json::Value) -> serde_json::Value {
    json!({"category": "landscape.greenway_sign", "description": "The sign is broken",
           "lat": AT.0, "lng": AT.1, "photos": photos})
}

#[test]
fn a_reports_photos_are_public_by_tracking_code_and_stripped() {
    let env = city();
    let photos = json!([
        {"data": STANDARD.encode(jpeg_with_exif()), "caption": "from the path"},
        {"data": format!("data:image/png;base64,{}", STANDARD.encode(png_with_text()))},
    ]);
    let (s, created) = call_json(
        &env,
        request("POST", "/api/reports", None, Some(body_with(photos))),
    );
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["photos"], 2);
    let code = created["tracking_code"].as_str().unwrap();

    let (s, view) = call_json(
        &env,
        request("GET", &format!("/api/reports/{code}"), None, None),
    );
    assert_eq!(s, 200);
    let listed = view["photos"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["caption"], "from the path");

    let first = call(
        &env,
        request("GET", listed[0]["href"].as_str().unwrap(), None, None),
    );
    assert_eq!(first.status, 200);
    assert_eq!(first.header("content-type"), Some("image/jpeg"));
    // The Exif segment (APP1) with its GPS tag is gone; the picture itself is kept.
    assert!(!first.body.windows(4).any(|w| w == b"Exif"));
    assert!(first.body.len() < jpeg_with_exif().len());
    let second = call(
        &env,
        request("GET", listed[1]["href"].as_str().unwrap(), None, None),
    );
    assert_eq!(second.header("content-type"), Some("image/png"));
    assert!(!second.body.windows(4).any(|w| w == b"tEXt"));

    // Another report's code does not open this report's photo.
    let other = report(&env, "landscape.greenway_sign", AT);
    let wrong = format!(
        "/api/reports/{}/photos/{}",
        other["tracking_code"].as_str().unwrap(),
        listed[0]["id"].as_str().unwrap()
    );
    assert_eq!(call(&env, request("GET", &wrong, None, None)).status, 404);
}

#[test]
fn broken_or_too_many_photos_are_refused_with_nothing_stored() {
    let env = city();
    let before = count(&env, "cases");
    let good = json!({"data": STANDARD.encode(jpeg_with_exif())});
    for (photos, field) in [
        (json!([good, good, good, good]), "photos"),
        (json!([{"data": "not base64!"}]), "photos[0].data"),
        (
            json!([{"data": STANDARD.encode(b"GIF89a, not ours")}]),
            "photos[0].data",
        ),
        (json!([{"url": "https://example.org/a.jpg"}]), "photos[0]"),
    ] {
        let (s, answer) = call_json(
            &env,
            request("POST", "/api/reports", None, Some(body_with(photos))),
        );
        assert_eq!(s, 422, "{answer}");
        let fields: Vec<&str> = answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{field} not in {fields:?}");
    }
    assert_eq!(count(&env, "cases"), before);
}

#[test]
fn no_department_can_file_photos_under_the_reporters_name() {
    // The public view shows the photos of this one source; a department's result photos are
    // filed under its code, which can never be it.
    assert!(!crate::directory::valid_code(
        crate::case::evidence::REPORTER
    ));
}
