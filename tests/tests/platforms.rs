//! Another platform (the 12345 hotline) pushes its work orders in with an API key. A work
//! order is one case; a re-sent event of it changes nothing; another work order is another
//! case, even when the platform numbered its event the same.

use onegrid_tests::serde_json::{Value, json};
use onegrid_tests::{FakeDepartment, hotline_key, point_inside_a_cell, spawn_app};

fn work_order(number: &str, event_id: &str) -> Value {
    let (lat, lng, _) = point_inside_a_cell();
    json!({
        "workOrderNo": number, "eventId": event_id, "orderStatus": "transferred",
        "statusTime": "2026-11-14 14:10:00", "matterCode": "0301", "title": "绿道指示牌损坏",
        "content": "市民来电反映：绿道指示牌倒在路上，影响通行。",
        "address": "集美区月美路绿道入口",
        "location": {"lat": format!("{lat:.7}"), "lng": format!("{lng:.7}"), "coordType": "wgs84"},
        "remark": ""
    })
}

#[test]
fn two_work_orders_with_the_same_event_id_are_two_cases() {
    let app = spawn_app();
    let fake = FakeDepartment::start(200);
    let key = hotline_key(&app, &fake);
    let push = |body: &Value| {
        app.public().send(
            "POST",
            "/api/ingest/12345",
            &[
                ("authorization", &format!("Bearer {key}")),
                ("content-type", "application/json"),
            ],
            body.to_string().into_bytes(),
        )
    };
    let first = push(&work_order("GD-1001", "1"));
    first.expect_status(201);
    let again = push(&work_order("GD-1001", "1"));
    assert_eq!(
        again.body["case_id"], first.body["case_id"],
        "a re-sent event is the same: {}",
        again.text
    );
    let second = push(&work_order("GD-1002", "1"));
    second.expect_status(201);
    assert_ne!(
        second.body["case_id"], first.body["case_id"],
        "another work order is another case: {}",
        second.text
    );
    for answer in [&first, &second] {
        let id = answer.body["case_id"].as_str().expect("a case id");
        app.operator()
            .get(&format!("/api/cases/{id}"))
            .expect_status(200);
    }
}
