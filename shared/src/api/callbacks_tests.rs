//! Department callbacks in full, on TestEnv: replay, bad signatures and stale timestamps,
//! secret rotation with an overlap, out-of-order statuses, and evidence photos.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;

use super::testkit::*;
use crate::http::webhook;
use crate::native::testenv::{ADMIN_TOKEN, OPERATOR_TOKEN, TestEnv};

fn dispatched(env: &TestEnv, category: &str) -> String {
    let id = report(env, category, IN_CELL_2)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = call_json(
        env,
        request(
            "POST",
            &format!("/api/cases/{id}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!(s, 200, "{b}");
    id
}

fn at(env: &TestEnv, minutes: i64) -> String {
    crate::time::rfc3339(env.now.get() + minutes * 60_000)
}

#[test]
fn a_repeated_webhook_id_gets_the_first_answer_and_changes_nothing() {
    let env = city();
    let id = dispatched(&env, "landscape.greenway_sign");
    let body = json!({"case_id": id, "action": "signed_for"});
    let first = call(
        &env,
        signed_callback(&env, "gardens", SECRET, "msg_once", &body),
    );
    assert_eq!(first.status, 200);
    let events = count(&env, &format!("case_events WHERE case_id = '{id}'"));
    env.now.set(env.now.get() + 60_000);
    let again = call(
        &env,
        signed_callback(&env, "gardens", SECRET, "msg_once", &body),
    );
    assert_eq!((again.status, &again.body), (200, &first.body));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        count(&env, &format!("case_events WHERE case_id = '{id}'")),
        events,
        "nothing applied twice"
    );
}

#[test]
fn a_wrong_signature_or_a_stale_timestamp_is_refused() {
    let env = city();
    let id = dispatched(&env, "landscape.greenway_sign");
    let body = json!({"case_id": id, "action": "signed_for"});
    let forged = signed_callback(&env, "gardens", &webhook::new_secret(), "msg_forged", &body);
    let (s, b) = call_json(&env, forged);
    assert_eq!(
        (s, b["type"].as_str()),
        (401, Some("/problems/bad-signature"))
    );
    let mut unsigned = signed_callback(&env, "gardens", SECRET, "msg_unsigned", &body);
    unsigned.headers.retain(|(k, _)| k != "webhook-signature");
    assert_eq!(call_json(&env, unsigned).0, 401);
    let old = signed_callback(&env, "gardens", SECRET, "msg_old", &body);
    env.now.set(env.now.get() + 6 * 60_000);
    let (s, b) = call_json(&env, old);
    assert_eq!(
        (s, b["type"].as_str()),
        (401, Some("/problems/stale-timestamp"))
    );
    let tampered = {
        let mut r = signed_callback(&env, "gardens", SECRET, "msg_tampered", &body);
        r.body =
            serde_json::to_vec(&json!({"case_id": id, "action": "returned", "reason": "not ours"}))
                .unwrap();
        r
    };
    assert_eq!(call_json(&env, tampered).0, 401);
    assert_eq!(
        count(
            &env,
            &format!("case_events WHERE case_id = '{id}' AND type = 'sign_for'")
        ),
        0
    );
}

#[test]
fn during_a_rotation_both_secrets_verify_and_after_the_overlap_only_the_new_one() {
    let env = city();
    let id = dispatched(&env, "landscape.greenway_sign");
    let new_secret = webhook::new_secret();
    let put = json!({"name": "gardens", "webhook_url": "http://127.0.0.1:9/gardens", "secret": new_secret, "secret_overlap_hours": 1});
    let (s, b) = call_json(
        &env,
        request(
            "PUT",
            "/api/admin/departments/gardens",
            Some(ADMIN_TOKEN),
            Some(put),
        ),
    );
    assert_eq!(s, 200, "{b}");
    assert!(b["previous_secret_valid_until"].is_string(), "{b}");
    assert!(
        b.get("secret").is_none() && b.get("previous_secret").is_none(),
        "secrets never leave"
    );

    let (s, _) = call_json(
        &env,
        signed_callback(
            &env,
            "gardens",
            SECRET,
            "msg_r1",
            &json!({"case_id": id, "action": "signed_for"}),
        ),
    );
    assert_eq!(s, 200, "the old secret still verifies during the overlap");
    let (s, _) = call_json(
        &env,
        signed_callback(
            &env,
            "gardens",
            &new_secret,
            "msg_r2",
            &json!({"case_id": id, "action": "in_progress"}),
        ),
    );
    assert_eq!(s, 200, "the new one verifies");

    // What OneGrid sends during the overlap carries both signatures: a department that has not
    // switched yet still verifies it.
    dispatched(&env, "landscape.greenway_sign");
    let sent = env.sent.borrow().last().cloned().unwrap();
    let header = |name: &str| {
        sent.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let signature = header("webhook-signature").unwrap();
    assert_eq!(signature.split(' ').count(), 2, "{signature}");
    let ts = header("webhook-timestamp");
    for secret in [SECRET, new_secret.as_str()] {
        webhook::verify(
            &[secret],
            header("webhook-id"),
            ts,
            Some(signature),
            &sent.body,
            env.now.get() / 1000,
            300,
        )
        .unwrap();
    }

    env.now.set(env.now.get() + 2 * HOUR);
    let late = json!({"case_id": id, "action": "handled", "note": "done"});
    let (s, b) = call_json(
        &env,
        signed_callback(&env, "gardens", SECRET, "msg_r3", &late),
    );
    assert_eq!(
        (s, b["type"].as_str()),
        (401, Some("/problems/bad-signature")),
        "the overlap is over"
    );
    let (s, _) = call_json(
        &env,
        signed_callback(&env, "gardens", &new_secret, "msg_r4", &late),
    );
    assert_eq!(s, 200);
}

#[test]
fn an_older_status_never_overrides_a_newer_one() {
    let env = city();
    let id = dispatched(&env, "landscape.greenway_sign");
    let send = |msg: &str, body: serde_json::Value| {
        call_json(&env, signed_callback(&env, "gardens", SECRET, msg, &body))
    };
    env.now.set(env.now.get() + HOUR);
    // The department signed for it, started, then handled it; the start arrives last.
    let (s, b) = send(
        "m1",
        json!({"case_id": id, "action": "signed_for", "occurred_at": at(&env, -50)}),
    );
    assert_eq!((s, b["applied"].as_bool()), (200, Some(true)), "{b}");
    let (s, b) = send(
        "m3",
        json!({"case_id": id, "action": "handled", "note": "replaced", "occurred_at": at(&env, -10)}),
    );
    assert_eq!((s, b["status"].as_str()), (200, Some("handled")), "{b}");
    let (s, b) = send(
        "m2",
        json!({"case_id": id, "action": "in_progress", "occurred_at": at(&env, -30)}),
    );
    assert_eq!(
        (s, b["applied"].as_bool(), b["status"].as_str()),
        (200, Some(false), Some("handled")),
        "{b}"
    );

    let page = call_json(
        &env,
        request(
            "GET",
            &format!("/api/cases/{id}"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    )
    .1;
    assert_eq!(page["case"]["status"], "handled");
    let late = page["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            late["type"].as_str(),
            late["from_status"].as_str(),
            late["status"].as_str()
        ),
        (Some("late_status"), Some("handled"), Some("handled"))
    );
    assert_eq!(late["details"]["action"], "in_progress");

    // A time in the future beyond the tolerance is refused.
    let (s, _) = send(
        "m4",
        json!({"case_id": id, "action": "in_progress", "occurred_at": at(&env, 30)}),
    );
    assert_eq!(s, 422);
}

#[test]
fn a_status_that_arrives_before_its_predecessor_is_refused_then_applies_on_retry() {
    let env = city();
    let id = dispatched(&env, "landscape.greenway_sign");
    let start = json!({"case_id": id, "action": "in_progress"});
    let (s, b) = call_json(
        &env,
        signed_callback(&env, "gardens", SECRET, "m_start", &start),
    );
    assert_eq!(
        (s, b["type"].as_str()),
        (409, Some("/problems/forbidden-move"))
    );
    let (s, _) = call_json(
        &env,
        signed_callback(
            &env,
            "gardens",
            SECRET,
            "m_sign",
            &json!({"case_id": id, "action": "signed_for"}),
        ),
    );
    assert_eq!(s, 200);
    // The sender retries the same message: the 409 was not kept as its answer.
    let (s, b) = call_json(
        &env,
        signed_callback(&env, "gardens", SECRET, "m_start", &start),
    );
    assert_eq!((s, b["status"].as_str()), (200, Some("in_progress")), "{b}");
}

#[test]
fn photos_are_typed_by_their_bytes_stripped_of_exif_and_served_to_staff_only() {
    let env = city();
    let id = dispatched(&env, "landscape.greenway_sign");
    call_json(
        &env,
        signed_callback(
            &env,
            "gardens",
            SECRET,
            "p1",
            &json!({"case_id": id, "action": "signed_for"}),
        ),
    );
    let photo = crate::case::evidence::samples::jpeg_with_exif();
    let body = json!({"case_id": id, "action": "handled", "note": "sign replaced", "evidence": [
        {"data": STANDARD.encode(&photo), "content_type": "image/png", "caption": "the new sign"},
        {"data": format!("data:image/webp;base64,{}", STANDARD.encode(crate::case::evidence::samples::webp_with_exif()))},
        {"url": "https://gardens.example/photos/123.jpg"},
    ]});
    let (s, b) = call_json(&env, signed_callback(&env, "gardens", SECRET, "p2", &body));
    assert_eq!(s, 200, "{b}");
    let items = b["evidence"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[0]["content_type"], "image/jpeg",
        "the bytes decide, not the sender"
    );
    assert_eq!(items[1]["content_type"], "image/webp");
    assert_eq!(items[2]["url"], "https://gardens.example/photos/123.jpg");

    let href = items[0]["href"].as_str().unwrap().to_owned();
    let image = call(&env, request("GET", &href, Some(OPERATOR_TOKEN), None));
    assert_eq!(
        (image.status, image.header("content-type")),
        (200, Some("image/jpeg"))
    );
    assert!(
        !image.body.windows(3).any(|w| w == b"GPS"),
        "no location leaves with the photo"
    );
    assert_eq!(image.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(call(&env, request("GET", &href, None, None)).status, 401);

    // The event of the move lists the evidence; the public timeline does not.
    let page = call_json(
        &env,
        request(
            "GET",
            &format!("/api/cases/{id}"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    )
    .1;
    let handle = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "handle")
        .unwrap()
        .clone();
    assert_eq!(handle["details"]["evidence"].as_array().unwrap().len(), 3);
    let code = page["case"]["tracking_code"].as_str().unwrap();
    let public = call(
        &env,
        request("GET", &format!("/api/reports/{code}"), None, None),
    );
    assert!(!String::from_utf8_lossy(&public.body).contains("evidence"));

    let gif = json!({"case_id": id, "action": "handled", "note": "x", "evidence": [{"data": STANDARD.encode(b"GIF89a\x01\0\x01\0\0\0\0;")}]});
    let (s, b) = call_json(&env, signed_callback(&env, "gardens", SECRET, "p3", &gif));
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("evidence[0].data"))
    );
}
