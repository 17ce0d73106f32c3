//! Personal data a resident types into a report's free text — the description, the address,
//! a photo's caption — in the forms people really write it: full-width digits, Chinese
//! numerals, dots and double spaces between the groups, a first-generation ID number, a name
//! after 我叫 or before 来电. None of it may leave whole on the public side (the tracking view,
//! Open311), to a department's webhook, or in a staff answer before a recorded reveal.

use base64::Engine;
use onegrid_tests::serde_json::{Value, json};
use onegrid_tests::{
    FakeDepartment, PNG_1X1, category_for, dispatch_to, new_department, point_inside_a_cell,
    spawn_app,
};

/// What must not appear anywhere in an answer that was not revealed: the numbers in every form
/// they were written, and the given names.
const SECRETS: &[&str] = &[
    "００１３", // the middle of the full-width mobile
    "零零一三", // the middle of the spelled-out mobile
    "0013",     // the middle of the dotted mobile
    "5123",     // the landline's middle
    "900101",   // the old ID card's date of birth
    "志强",     // the name after 我叫
    "小明",     // the name before 来电
    "芳",       // the name in the caption
];

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{what} shows {secret:?} whole: {text}"
        );
    }
}

#[test]
fn free_text_personal_data_is_masked_on_every_side_until_a_recorded_reveal() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (department, _secret) = new_department(&app, &fake);
    let (lat, lng, _) = point_inside_a_cell();
    let photo = base64::engine::general_purpose::STANDARD.encode(PNG_1X1);
    let report = app.post_json(
        "/api/reports",
        &json!({
            "category": category_for(&department),
            "description": "我叫陈志强，手机１３８００１３８０００，也可打一三八零零一三八零零零；井盖丢了。",
            "address": "莲前西路 王小明来电 家门口 电话138.0013.8000 座机0592  5123456 身份证350203900101123",
            "lat": lat, "lng": lng, "crs": "wgs84", "channel": "web", "public": true,
            "photos": [{"data": photo, "caption": "姓名：林芳 拍的"}],
        }),
    );
    report.expect_status(201);
    let code = report.body["tracking_code"]
        .as_str()
        .expect("a code")
        .to_owned();
    let id = report.body["id"].as_str().expect("an id").to_owned();
    let public_id = report.body["public_id"]
        .as_str()
        .expect("the reporter chose publication")
        .to_owned();

    // The public side: the tracking view and Open311.
    let view = app.get(&format!("/api/reports/{code}"));
    view.expect_status(200);
    assert_eq!(
        view.body["photos"].as_array().map(Vec::len),
        Some(1),
        "{}",
        view.text
    );
    assert_no_secret("the tracking view", &view.text);
    assert!(
        view.body["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("莲前西路")),
        "{}",
        view.text
    );
    for path in [
        format!("/open311/v2/requests/{public_id}.json"),
        format!("/open311/v2/requests/{public_id}.xml"),
        format!("/api/public/reports/{public_id}"),
    ] {
        let reply = app.get(&path);
        reply.expect_status(200);
        assert_no_secret(&path, &reply.text);
    }

    // A department's webhook.
    dispatch_to(&app, &id, &department).expect_status(200);
    let webhooks = fake.received();
    assert!(!webhooks.is_empty(), "the dispatch sent a webhook");
    for webhook in &webhooks {
        assert_no_secret(
            "the department's webhook",
            &String::from_utf8_lossy(&webhook.body),
        );
    }

    // Staff answers before a reveal, then the reveal, which is on the case's trail.
    let list = app.operator().get("/api/cases?limit=50");
    list.expect_status(200);
    assert_no_secret("the staff list", &list.text);
    let case = app.operator().get(&format!("/api/cases/{id}"));
    case.expect_status(200);
    assert_no_secret("the staff case view", &case.text);
    let revealed = app
        .operator()
        .get(&format!("/api/cases/{id}?reveal=contact"));
    revealed.expect_status(200);
    let whole: &Value = &revealed.body["case"];
    assert!(
        whole["description"]
            .as_str()
            .is_some_and(|d| d.contains("陈志强")),
        "{}",
        revealed.text
    );
    assert!(
        whole["address"]
            .as_str()
            .is_some_and(|a| a.contains("138.0013.8000")),
        "{}",
        revealed.text
    );
    let events = revealed.body["events"].as_array().expect("events");
    let reveal = events.last().expect("the reveal's event");
    assert_eq!(reveal["type"], "reveal_contact", "{}", revealed.text);
    assert!(
        reveal["details"]["fields"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("address"))),
        "the reveal records that the address was seen: {reveal}"
    );
}

#[test]
fn a_merged_report_shows_its_parents_state_but_not_its_tracking_code() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let (department, _secret) = new_department(&app, &fake);
    let category = category_for(&department);
    let first = onegrid_tests::file_report(&app, &category);
    let second = onegrid_tests::file_report(&app, &category);
    let (parent, child) = (
        first["id"].as_str().expect("an id"),
        second["id"].as_str().expect("an id"),
    );
    app.operator()
        .post_json(
            &format!("/api/cases/{child}/moves"),
            &json!({"move": "merge", "parent": parent}),
        )
        .expect_status(200);
    let view = app.get(&format!(
        "/api/reports/{}",
        second["tracking_code"].as_str().expect("a code")
    ));
    view.expect_status(200);
    assert_eq!(view.body["merged"], true, "{}", view.text);
    assert_eq!(
        view.body["status"], "collected",
        "the parent's status: {}",
        view.text
    );
    let parent_code = first["tracking_code"].as_str().expect("a code");
    assert!(
        !view.text.contains(parent_code),
        "the merged reporter's view holds the parent's capability: {}",
        view.text
    );
}

#[test]
fn what_people_wrote_in_the_trail_and_the_mediation_record_is_masked_until_a_reveal() {
    let app = spawn_app();
    let (lat, lng, _) = point_inside_a_cell();
    let report = app.post_json(
        "/api/reports",
        &json!({"category": "dispute.neighbourhood", "lat": lat, "lng": lng, "crs": "wgs84",
                "description": "Loud music from the flat upstairs every night after midnight."}),
    );
    report.expect_status(201);
    let id = report.body["id"].as_str().expect("an id").to_owned();
    app.operator()
        .post_json(
            &format!("/api/cases/{id}/moves"),
            &json!({"move": "accept", "note": "王小明来电补充：请回电１３９００１３９０００"}),
        )
        .expect_status(200);
    app.operator()
        .post_json(
            &format!("/api/cases/{id}/mediation"),
            &json!({"kind": "party", "name": "林志芳", "role": "申请人", "contact": "13700001111"}),
        )
        .expect_status(201);

    let secrets = ["小明", "００１３", "志芳", "1370000"];
    let masked = |what: &str, text: &str| {
        for secret in secrets {
            assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
        }
    };
    let page = app.operator().get(&format!("/api/cases/{id}"));
    page.expect_status(200);
    masked("the case page's trail and mediation record", &page.text);
    assert_eq!(
        page.body["case"]["grid_code"].as_str().map(str::len),
        Some(15),
        "codes stay whole"
    );
    let record = app.operator().get(&format!("/api/cases/{id}/mediation"));
    record.expect_status(200);
    masked("the mediation record", &record.text);

    let revealed = app
        .operator()
        .get(&format!("/api/cases/{id}?reveal=contact"));
    revealed.expect_status(200);
    for secret in secrets {
        assert!(
            revealed.text.contains(secret),
            "the reveal shows {secret:?}: {}",
            revealed.text
        );
    }
    let events = revealed.body["events"].as_array().expect("events");
    assert_eq!(
        events.last().expect("an event")["type"],
        "reveal_contact",
        "{}",
        revealed.text
    );
}

#[test]
fn a_photo_keeps_only_what_an_image_needs() {
    let app = spawn_app();
    // A JPEG whose comment, APP12 and APP3 segments carry a place: none of it may be served.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    jpeg.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    for marker in [0xFE, 0xEC, 0xE3] {
        let payload = b"GPSLatitude 24.58N GPSLongitude 118.09E";
        jpeg.extend([0xFF, marker]);
        jpeg.extend(((payload.len() + 2) as u16).to_be_bytes());
        jpeg.extend(payload);
    }
    jpeg.extend([0xFF, 0xDB, 0x00, 0x05, 1, 2, 3]);
    jpeg.extend([0xFF, 0xC0, 0x00, 0x0B, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
    jpeg.extend([0xFF, 0xDA, 0x00, 0x04, 9, 9, 0x12, 0x34, 0xFF, 0xD9]);
    let (lat, lng, _) = point_inside_a_cell();
    let report = app.post_json(
        "/api/reports",
        &json!({"category": "landscape.greenway_sign", "lat": lat, "lng": lng, "crs": "wgs84",
                "description": "The greenway sign at the corner is broken and lying on the path.",
                "photos": [{"data": base64::engine::general_purpose::STANDARD.encode(&jpeg)}]}),
    );
    report.expect_status(201);
    let code = report.body["tracking_code"].as_str().expect("a code");
    let view = app.get(&format!("/api/reports/{code}"));
    let href = view.body["photos"][0]["href"]
        .as_str()
        .expect("a photo")
        .to_owned();
    let photo = app.get(&href);
    photo.expect_status(200);
    assert_eq!(photo.header("content-type"), Some("image/jpeg"));
    assert!(
        !photo.text.contains("GPS"),
        "the served photo still carries the place"
    );
    assert!(photo.text.contains("JFIF"), "what a decoder needs stays");
}
