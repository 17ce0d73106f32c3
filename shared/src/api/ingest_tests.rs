//! Platform intake on TestEnv: each platform's own payload shape through its built-in mapping,
//! idempotency by (platform, external id), later events as case events or moves, out-of-order
//! statuses, status changes back to the platform by a signed webhook, API keys and rate limits.

use serde_json::{Value as Json, json};

use super::testkit::*;
use crate::native::testenv::{ADMIN_TOKEN, OPERATOR_TOKEN, TestEnv};
use crate::{ApiRequest, http::webhook};

/// Where the samples happen: inside the test map's second cell (WGS-84).
const PLACE: (f64, f64) = (24.4512, 118.0931);

/// A sample event of a platform, in that platform's own shape. `stage` is `first` (the event
/// that opens a case) or a later one: `urged`, `registered`, `closed`, `update`.
pub fn sample(platform: &str, external_id: &str, stage: &str) -> Json {
    match platform {
        // The hotline operator picked the place on an AMap map: GCJ-02, as strings.
        "12345" => {
            let (lat, lng) = crate::grid::crs::wgs84_to_gcj02(PLACE.0, PLACE.1);
            let status = if stage == "first" {
                "transferred"
            } else {
                stage
            };
            json!({
                "workOrderNo": external_id, "eventId": format!("{external_id}-{stage}"),
                "orderStatus": status, "statusTime": "2023-11-14 14:10:00",
                "matterCode": "0301", "title": "绿道指示牌损坏",
                "content": "市民来电反映：月美路绿道指示牌倒在路上，影响通行。",
                "callerName": "陈女士", "callerPhone": "(0592) 138-0013-8000",
                "address": "集美区月美路绿道入口",
                "location": {"lat": format!("{lat:.7}"), "lng": format!("{lng:.7}"), "coordType": "gcj02"},
                "remark": if stage == "urged" { "市民再次来电催办" } else { "" }
            })
        }
        // A case file of the city-management loop: x/y, Chinese state names, a numeric record id.
        "citymgmt" => {
            let state = match stage {
                "first" => "上报",
                "registered" => "立案",
                "closed" => "结案",
                other => other,
            };
            json!({
                "taskNum": external_id, "recId": 1000 + stage.len(), "eventState": state,
                "stateTime": "2023-11-14T14:12:00+08:00", "mainTypeCode": "E-01", "subTypeCode": "E-0102",
                "eventDesc": "人行道上有暴露垃圾，已堆放两天", "coordinateX": PLACE.1, "coordinateY": PLACE.0,
                "address": "集美区银亭路 12 号", "opinion": ""
            })
        }
        // An incident with nested objects and RFC 3339 times.
        "publicsafety" => json!({
            "updateId": format!("{external_id}/{stage}"),
            "incident": {"id": external_id, "type": "noise.construction", "state": if stage == "first" { "new" } else { stage },
                         "summary": "夜间施工噪音扰民，23 点后仍在打桩", "updatedAt": "2023-11-14T06:15:00Z"},
            "position": {"latitude": PLACE.0, "longitude": PLACE.1, "datum": "WGS84", "address": "集美区杏林湾路"},
            "reporter": {"name": "王先生", "phone": "+86 138 0013 8000"}
        }),
        other => panic!("no sample for {other}"),
    }
}

fn push(env: &TestEnv, platform: &str, key: Option<&str>, payload: &Json) -> (u16, Json) {
    let mut req = request(
        "POST",
        &format!("/api/ingest/{platform}"),
        key,
        Some(payload.clone()),
    );
    req.headers
        .push(("spin-client-addr".into(), "127.0.0.1:5000".into()));
    call_json(env, req)
}

#[test]
fn each_platform_shape_creates_one_case_and_a_repeat_is_not_a_second() {
    let env = city();
    for (platform, category) in [
        ("12345", "landscape.greenway_sign"),
        ("citymgmt", "environment.litter"),
        ("publicsafety", "construction.noise"),
    ] {
        let key = api_key(&env, Some(platform), &["ingest"], None);
        let first = sample(platform, "EXT-1", "first");
        let (s, b) = push(&env, platform, Some(&key), &first);
        assert_eq!(s, 201, "{platform}: {b}");
        assert_eq!(
            (b["created"].as_bool(), b["status"].as_str()),
            (Some(true), Some("collected")),
            "{platform}"
        );
        let id = b["case_id"].as_str().unwrap().to_owned();
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
        let case = &page["case"];
        assert_eq!(
            (case["category"].as_str(), case["channel"].as_str()),
            (Some(category), Some("platform")),
            "{platform}"
        );
        assert_eq!(
            case["grid_code"], "350203002001001",
            "{platform}: placed in its cell"
        );
        // GCJ-02 from the hotline comes back to the WGS-84 point within a metre.
        assert!(
            (case["lat"].as_f64().unwrap() - PLACE.0).abs() < 1e-5,
            "{platform}: {case}"
        );
        if platform != "citymgmt" {
            // Stored as digits (the view masks it).
            let phone = count(
                &env,
                &format!("cases WHERE id = '{id}' AND contact_phone NOT GLOB '*[^+0-9]*'"),
            );
            assert_eq!(phone, 1, "{platform}");
        }
        assert_eq!(page["events"][0]["actor"], format!("platform:{platform}"));

        // The very same message again: the first answer, nothing new.
        let (s, again) = push(&env, platform, Some(&key), &first);
        assert_eq!((s, &again), (201, &b), "{platform}");
        assert_eq!(
            count(
                &env,
                &format!("platform_links WHERE platform = '{platform}'")
            ),
            1
        );
    }
    assert_eq!(count(&env, "cases"), 3);
}

#[test]
fn later_events_of_an_external_id_are_events_or_moves_never_a_second_case() {
    let env = city();
    let key = api_key(&env, Some("12345"), &["ingest"], None);
    let (s, b) = push(&env, "12345", Some(&key), &sample("12345", "GD-7", "first"));
    assert_eq!(s, 201, "{b}");
    let id = b["case_id"].as_str().unwrap().to_owned();
    let (s, b) = push(&env, "12345", Some(&key), &sample("12345", "GD-7", "urged"));
    assert_eq!(
        (s, b["created"].as_bool(), b["applied"].as_bool()),
        (200, Some(false), Some(false)),
        "{b}"
    );
    assert_eq!(b["case_id"], id.as_str());
    let events = call_json(
        &env,
        request(
            "GET",
            &format!("/api/cases/{id}"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    )
    .1["events"]
        .clone();
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["type"].as_str(),
            last["details"]["platform_status"].as_str()
        ),
        (Some("platform_update"), Some("urged"))
    );
    assert_eq!(last["details"]["platform_note"], "市民再次来电催办");
    // The platform's remark is not in the public timeline.
    let code = b["tracking_code"].as_str().unwrap();
    let public = call(
        &env,
        request("GET", &format!("/api/reports/{code}"), None, None),
    );
    assert!(!String::from_utf8_lossy(&public.body).contains("催办"));
    assert_eq!(count(&env, "cases"), 1);

    // City management: registering is the accept move; closing an unverified case is refused
    // by the machine and recorded.
    let key = api_key(&env, Some("citymgmt"), &["ingest"], None);
    let (s, b) = push(
        &env,
        "citymgmt",
        Some(&key),
        &sample("citymgmt", "CG-1", "first"),
    );
    assert_eq!(s, 201, "{b}");
    let (s, b) = push(
        &env,
        "citymgmt",
        Some(&key),
        &sample("citymgmt", "CG-1", "registered"),
    );
    assert_eq!(
        (s, b["applied"].as_bool(), b["status"].as_str()),
        (200, Some(true), Some("accepted")),
        "{b}"
    );
    let (s, b) = push(
        &env,
        "citymgmt",
        Some(&key),
        &sample("citymgmt", "CG-1", "closed"),
    );
    assert_eq!(
        (s, b["applied"].as_bool(), b["status"].as_str()),
        (200, Some(false), Some("accepted")),
        "{b}"
    );
    assert!(b["reason"].as_str().unwrap().contains("accepted"), "{b}");
}

#[test]
fn a_platform_status_older_than_the_cases_last_change_is_recorded_not_applied() {
    let env = city();
    let key = api_key(&env, Some("citymgmt"), &["ingest"], None);
    let (_, b) = push(
        &env,
        "citymgmt",
        Some(&key),
        &sample("citymgmt", "CG-9", "first"),
    );
    let id = b["case_id"].as_str().unwrap().to_owned();
    // An operator accepts it now (the test clock is 2023-11-14T22:13Z); the platform's
    // registration, made earlier that day on its side, arrives after.
    let (s, _) = call_json(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/moves"),
            Some(OPERATOR_TOKEN),
            Some(json!({"move": "accept"})),
        ),
    );
    assert_eq!(s, 200);
    let mut registered = sample("citymgmt", "CG-9", "registered");
    registered["stateTime"] = json!("2023-11-14T14:30:00+08:00");
    let (s, b) = push(&env, "citymgmt", Some(&key), &registered);
    assert_eq!((s, b["applied"].as_bool()), (200, Some(false)), "{b}");
    assert_eq!(b["reason"], "an older status than the case's last change");
}

#[test]
fn status_changes_flow_back_to_the_platform_signed_and_in_its_words() {
    let env = city();
    let platform_secret = webhook::new_secret();
    let put = json!({"name": "12345 热线", "webhook_url": "https://hotline.example/onegrid", "secret": platform_secret});
    let (s, b) = call_json(
        &env,
        request(
            "PUT",
            "/api/admin/platforms/12345",
            Some(ADMIN_TOKEN),
            Some(put),
        ),
    );
    assert_eq!(
        (
            s,
            b["built_in_mapping"].as_bool(),
            b["has_secret"].as_bool()
        ),
        (200, Some(true), Some(true)),
        "{b}"
    );
    let key = api_key(&env, Some("12345"), &["ingest"], None);
    let (_, b) = push(
        &env,
        "12345",
        Some(&key),
        &sample("12345", "GD-42", "first"),
    );
    let id = b["case_id"].as_str().unwrap().to_owned();
    assert!(
        env.sent.borrow().is_empty(),
        "the platform's own event is not echoed back"
    );

    let (s, _) = call_json(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!(s, 200);
    let sent = env.sent.borrow().clone();
    let to_platform: Vec<_> = sent
        .iter()
        .filter(|r| r.url == "https://hotline.example/onegrid")
        .collect();
    assert_eq!(
        to_platform.len(),
        2,
        "accept and dispatch, each told at once"
    );
    let last = to_platform[1];
    let body: Json = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(body["type"], "case.status_changed");
    assert_eq!(
        (
            body["data"]["external_id"].as_str(),
            body["data"]["status"].as_str()
        ),
        (Some("GD-42"), Some("processing"))
    );
    assert_eq!(body["data"]["onegrid_status"], "dispatched");
    let header = |name: &str| {
        last.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    webhook::verify(
        &[&platform_secret],
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
        &last.body,
        env.now.get() / 1000,
        300,
    )
    .expect("signed with the platform's secret");

    // A department's callback moves it on; the platform hears that too.
    let cb = signed_callback(
        &env,
        "gardens",
        SECRET,
        "msg_p1",
        &json!({"case_id": id, "action": "signed_for"}),
    );
    assert_eq!(call(&env, cb).status, 200);
    let told = env
        .sent
        .borrow()
        .iter()
        .filter(|r| r.url == "https://hotline.example/onegrid")
        .count();
    assert_eq!(told, 3);
}

#[test]
fn one_problem_on_two_channels_meets_the_duplicate_check() {
    let env = city();
    report(&env, "landscape.greenway_sign", PLACE);
    let key = api_key(&env, Some("12345"), &["ingest"], None);
    let (s, b) = push(
        &env,
        "12345",
        Some(&key),
        &sample("12345", "GD-DUP", "first"),
    );
    assert_eq!(
        (s, b["probable_duplicate"].as_bool()),
        (201, Some(true)),
        "{b}"
    );
}

#[test]
fn keys_are_scoped_revocable_rate_limited_and_shown_once() {
    let env = city();
    let payload = sample("publicsafety", "PS-1", "first");
    let (s, b) = push(&env, "publicsafety", None, &payload);
    assert_eq!(
        (s, b["type"].as_str()),
        (401, Some("/problems/unauthorized"))
    );
    let (s, _) = push(&env, "publicsafety", Some("ogk_not-a-key"), &payload);
    assert_eq!(s, 401);
    let other = api_key(&env, Some("12345"), &["ingest"], None);
    let (s, b) = push(&env, "publicsafety", Some(&other), &payload);
    assert_eq!((s, b["type"].as_str()), (403, Some("/problems/forbidden")));
    let open311_only = api_key(&env, None, &["open311.submit"], None);
    assert_eq!(
        push(&env, "publicsafety", Some(&open311_only), &payload).0,
        403
    );
    assert_eq!(
        push(&env, "nowhere", Some(&other), &payload).0,
        404,
        "no such platform"
    );

    let key = api_key(&env, Some("publicsafety"), &["ingest"], Some(2));
    let mut header_key = request(
        "POST",
        "/api/ingest/publicsafety",
        None,
        Some(payload.clone()),
    );
    header_key.headers.push(("x-api-key".into(), key.clone()));
    assert_eq!(
        call(&env, header_key).status,
        201,
        "X-Api-Key works as well as Bearer"
    );
    assert_eq!(
        push(
            &env,
            "publicsafety",
            Some(&key),
            &sample("publicsafety", "PS-1", "update")
        )
        .0,
        200
    );
    let limited = {
        let req: ApiRequest = request(
            "POST",
            "/api/ingest/publicsafety",
            Some(&key),
            Some(sample("publicsafety", "PS-1", "resolved")),
        );
        call(&env, req)
    };
    assert_eq!(limited.status, 429);
    assert!(
        limited
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok_and(|n| (1..=60).contains(&n)))
    );
    env.now.set(env.now.get() + 60_000);
    assert_eq!(
        push(
            &env,
            "publicsafety",
            Some(&key),
            &sample("publicsafety", "PS-1", "resolved")
        )
        .0,
        200,
        "a new minute"
    );

    let (s, list) = call_json(
        &env,
        request("GET", "/api/admin/keys", Some(ADMIN_TOKEN), None),
    );
    assert_eq!(s, 200);
    let text = list.to_string();
    assert!(
        !text.contains(&key) && !text.contains("key_hash"),
        "a key is never shown again"
    );
    let entry = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["rate_per_minute"] == 2)
        .unwrap()
        .clone();
    assert!(entry["last_used_at"].is_string(), "{entry}");
    assert!(key.starts_with(entry["prefix"].as_str().unwrap()));
    let id = entry["id"].as_str().unwrap();
    let (s, revoked) = call_json(
        &env,
        request(
            "DELETE",
            &format!("/api/admin/keys/{id}"),
            Some(ADMIN_TOKEN),
            None,
        ),
    );
    assert_eq!((s, revoked["revoked_at"].is_string()), (200, true));
    assert_eq!(
        push(
            &env,
            "publicsafety",
            Some(&key),
            &sample("publicsafety", "PS-1", "x")
        )
        .0,
        401,
        "revoked"
    );
    assert_eq!(
        call(
            &env,
            request(
                "DELETE",
                &format!("/api/admin/keys/{id}"),
                Some(ADMIN_TOKEN),
                None
            )
        )
        .status,
        404
    );
    let bad = json!({"name": "x", "actions": ["ingest"]});
    assert_eq!(
        call_json(
            &env,
            request("POST", "/api/admin/keys", Some(ADMIN_TOKEN), Some(bad))
        )
        .0,
        422,
        "an ingest key names its platform"
    );
    assert_eq!(
        call_json(
            &env,
            request("GET", "/api/admin/keys", Some(OPERATOR_TOKEN), None)
        )
        .0,
        403
    );
}

#[test]
fn a_mapping_is_configured_by_document_and_checked() {
    let env = city();
    let mapping = json!({
        "fields": {"external_id": "/id", "category": "/kind", "description": "/text", "lat": "/y", "lng": "/x", "status": "/state"},
        "crs": "wgs84", "utc_offset_minutes": 0,
        "categories": {"trash": "environment.litter"},
        "statuses": {"open": "create", "ack": "accept"}
    });
    let put = json!({"name": "Street app", "mapping": mapping});
    let (s, b) = call_json(
        &env,
        request(
            "PUT",
            "/api/admin/platforms/streetapp",
            Some(ADMIN_TOKEN),
            Some(put),
        ),
    );
    assert_eq!(
        (s, b["built_in_mapping"].as_bool()),
        (200, Some(false)),
        "{b}"
    );
    let key = api_key(&env, Some("streetapp"), &["ingest"], None);
    let event = json!({"id": 77, "kind": "trash", "text": "Bags of rubbish by the bins", "y": PLACE.0, "x": PLACE.1, "state": "open"});
    let (s, b) = push(&env, "streetapp", Some(&key), &event);
    assert_eq!(s, 201, "{b}");
    let (s, b) = push(
        &env,
        "streetapp",
        Some(&key),
        &json!({"id": 77, "state": "ack"}),
    );
    assert_eq!((s, b["status"].as_str()), (200, Some("accepted")), "{b}");
    let (s, b) = push(
        &env,
        "streetapp",
        Some(&key),
        &json!({"id": 78, "kind": "graffiti", "text": "Paint on the wall", "y": PLACE.0, "x": PLACE.1}),
    );
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("category")),
        "an unmapped category without a default"
    );

    let wrong = json!({"name": "Street app", "mapping": {"fields": {"external_id": "id"}, "categories": {"a": "no.such"}, "statuses": {"x": "fly"}}});
    let (s, b) = call_json(
        &env,
        request(
            "PUT",
            "/api/admin/platforms/streetapp",
            Some(ADMIN_TOKEN),
            Some(wrong),
        ),
    );
    assert_eq!(s, 422, "{b}");
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "mapping.fields.external_id",
            "mapping.categories.a",
            "mapping.statuses.x"
        ]
    );
    let (s, list) = call_json(
        &env,
        request("GET", "/api/admin/platforms", Some(ADMIN_TOKEN), None),
    );
    assert_eq!(s, 200);
    let codes: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["12345", "citymgmt", "publicsafety", "streetapp"]);
}
