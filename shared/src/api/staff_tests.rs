//! Staff sessions and personal data through the handlers: signing in and out, expiry, key
//! rotation, lock-out, ending sessions; masked staff answers and the audited reveal; the public
//! view's masking; retention; and the public routes' rate limits.

use futures::executor::block_on;
use serde_json::{Value as Json, json};

use super::access_tests::{
    CELL_A, IN_A, PASSWORD, SESSION_KEY, account, call, city, report, request, respond, sign_in,
};
use crate::access::sessions::SESSION_MS;
use crate::native::testenv::{ADMIN_TOKEN, OPERATOR_TOKEN, TestEnv};
use crate::{ApiRequest, Database};

const MINUTE: i64 = 60_000;

fn me(env: &TestEnv, token: &str) -> (u16, Json) {
    call(env, request("GET", "/api/session", Some(token), None))
}

fn attempt(env: &TestEnv, username: &str, password: &str) -> (u16, Json, Option<String>) {
    attempt_from(env, "127.0.0.1:5000", username, password)
}

/// A sign-in from the client at `addr` (the adapter's `spin-client-addr`).
fn attempt_from(
    env: &TestEnv,
    addr: &str,
    username: &str,
    password: &str,
) -> (u16, Json, Option<String>) {
    let mut req = request(
        "POST",
        "/api/session",
        None,
        Some(json!({"username": username, "password": password})),
    );
    req.headers
        .push(("spin-client-addr".into(), addr.to_owned()));
    let response = respond(env, req);
    let retry = response.header("retry-after").map(str::to_owned);
    (
        response.status,
        serde_json::from_slice(&response.body).unwrap_or(Json::Null),
        retry,
    )
}

#[test]
fn a_session_says_who_it_is_until_it_expires_and_signing_out_ends_it() {
    let env = city();
    let (id, token) = account(
        &env,
        "street.op",
        "street_operator",
        json!({"area_code": "350203001"}),
    );
    let (s, b) = me(&env, &token);
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["principal"],
        json!({"role": "street_operator", "id": id, "name": "street.op", "area": "350203001", "department": null, "cells": []})
    );
    assert!(b["session"]["expires_at"].is_string());
    let (s, b) = me(&env, OPERATOR_TOKEN);
    assert_eq!(
        (s, b["principal"]["role"].as_str(), b["session"].is_null()),
        (200, Some("city_operator"), true)
    );

    // Signing out answers 204 and the same token is refused from then on; another session lives on.
    let other = sign_in(&env, "street.op", PASSWORD);
    let (s, _) = call(&env, request("DELETE", "/api/session", Some(&token), None));
    assert_eq!(s, 204);
    let (s, b) = me(&env, &token);
    assert_eq!(
        (s, b["detail"].as_str()),
        (401, Some("the session was signed out; sign in again"))
    );
    assert_eq!(
        call(&env, request("DELETE", "/api/session", Some(&token), None)).0,
        401
    );
    assert_eq!(me(&env, &other).0, 200);
    assert_eq!(
        call(
            &env,
            request("DELETE", "/api/session", Some(OPERATOR_TOKEN), None)
        )
        .0,
        400,
        "a service token is no session"
    );

    // Eight hours on, the other one has expired.
    env.now.set(env.now.get() + SESSION_MS);
    let (s, b) = me(&env, &other);
    assert_eq!(
        (s, b["detail"].as_str()),
        (401, Some("the session has expired; sign in again"))
    );
    for garbage in ["", "ogs1.", "not-a-token", "ogs1.e30.AAAA"] {
        assert_eq!(me(&env, garbage).0, 401, "{garbage:?}");
    }
}

#[test]
fn the_revocation_record_is_one_key_and_the_sweep_forgets_it_once_the_session_expired() {
    let env = city();
    let (_, token) = account(&env, "city.op", "city_operator", json!({}));
    call(&env, request("DELETE", "/api/session", Some(&token), None));
    let revoked: Vec<String> = env
        .kv
        .keys()
        .unwrap()
        .into_iter()
        .filter(|k| k.starts_with("session_revoked_"))
        .collect();
    assert_eq!(revoked.len(), 1);
    let sweep = |env: &TestEnv| {
        call(
            env,
            request("POST", "/api/sweep", Some(OPERATOR_TOKEN), None),
        )
        .1
    };
    assert_eq!(
        sweep(&env)["expired_revocations"],
        0,
        "still within the session's life"
    );
    env.now.set(env.now.get() + SESSION_MS);
    assert_eq!(sweep(&env)["expired_revocations"], 1);
    assert!(!env.kv.keys().unwrap().contains(&revoked[0]));
    assert_eq!(
        me(&env, &token).0,
        401,
        "and the token stays refused: it has expired"
    );
}

#[test]
fn a_new_signing_key_first_keeps_old_sessions_and_dropping_the_old_key_ends_them() {
    let mut env = city();
    let (_, old) = account(&env, "city.op", "city_operator", json!({}));
    let new_key = "k2-fedcba9876543210fedcba9876543210";
    env.variables
        .insert("session_keys".into(), format!("{new_key}, {SESSION_KEY}"));
    assert_eq!(me(&env, &old).0, 200, "the old key still verifies");
    let fresh = sign_in(&env, "city.op", PASSWORD);
    env.variables.insert("session_keys".into(), new_key.into());
    assert_eq!(me(&env, &old).0, 401, "the old key is gone");
    assert_eq!(me(&env, &fresh).0, 200, "the new key signed this one");

    env.variables
        .insert("session_keys".into(), "too-short".into());
    let (s, b, _) = attempt(&env, "city.op", PASSWORD);
    assert_eq!(
        (s, b["type"].as_str()),
        (503, Some("/problems/not-configured"))
    );
}

#[test]
fn a_lock_holds_one_address_only_backs_off_and_an_administrator_lifts_it() {
    let env = city();
    let (id, _) = account(&env, "gw.a", "grid_worker", json!({"cells": [CELL_A]}));
    let (guesser, owner) = ("203.0.113.9:4000", "198.51.100.7:4000");
    for _ in 0..5 {
        assert_eq!(
            attempt_from(&env, guesser, "gw.a", "a wrong password!").0,
            401
        );
    }
    assert_eq!(attempt_from(&env, guesser, "gw.a", PASSWORD).0, 429);
    assert_eq!(
        attempt_from(&env, owner, "gw.a", PASSWORD).0,
        201,
        "the account's owner at another address still signs in"
    );
    // An unknown username is counted and locked alike: the answers do not tell which exist.
    for _ in 0..5 {
        let (s, b, _) = attempt_from(&env, guesser, "nobody", "a wrong password!");
        assert_eq!(
            (s, b["detail"].as_str()),
            (401, Some("the username or the password is wrong"))
        );
    }
    let (s, _, retry) = attempt_from(&env, guesser, "nobody", "a wrong password!");
    assert_eq!((s, retry.as_deref()), (429, Some("900")));
    // The second lock of the pair lasts twice as long.
    env.now.set(env.now.get() + 15 * MINUTE);
    for _ in 0..5 {
        assert_eq!(
            attempt_from(&env, guesser, "gw.a", "a wrong password!").0,
            401
        );
    }
    let (s, _, retry) = attempt_from(&env, guesser, "gw.a", PASSWORD);
    assert_eq!((s, retry.as_deref()), (429, Some("1800")));
    // The administrator's unlock lifts it at once.
    let (s, b) = super::testkit::call_json(
        &env,
        request(
            "PATCH",
            &format!("/api/admin/accounts/{id}"),
            Some(ADMIN_TOKEN),
            Some(json!({"unlock": true})),
        ),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(attempt_from(&env, guesser, "gw.a", PASSWORD).0, 201);
}

#[test]
fn five_wrong_passwords_lock_the_account_for_fifteen_minutes() {
    let env = city();
    account(&env, "gw.a", "grid_worker", json!({"cells": [CELL_A]}));
    for i in 0..5 {
        let (s, b, _) = attempt(&env, "gw.a", "a wrong password!");
        assert_eq!(
            (s, b["type"].as_str()),
            (401, Some("/problems/unauthorized")),
            "attempt {i}"
        );
    }
    // Locked: even the right password is not looked at, and the answer says when to come back.
    let (s, b, retry) = attempt(&env, "gw.a", PASSWORD);
    assert_eq!(
        (s, b["type"].as_str(), retry.as_deref()),
        (429, Some("/problems/rate-limited"), Some("900")),
        "{b}"
    );
    env.now.set(env.now.get() + 15 * MINUTE - 1000);
    assert_eq!(attempt(&env, "gw.a", PASSWORD).0, 429);
    env.now.set(env.now.get() + 1000);
    assert_eq!(
        attempt(&env, "gw.a", PASSWORD).0,
        201,
        "unlocked after 15 minutes"
    );
    // A success starts the count again: four more failures do not lock.
    for _ in 0..4 {
        assert_eq!(attempt(&env, "gw.a", "a wrong password!").0, 401);
    }
    assert_eq!(attempt(&env, "gw.a", PASSWORD).0, 201);
    // An unknown username is refused the same way as a wrong password.
    let (s, b, _) = attempt(&env, "nobody", PASSWORD);
    assert_eq!(
        (s, b["detail"].as_str()),
        (401, Some("the username or the password is wrong"))
    );
}

#[test]
fn failures_are_counted_by_the_database_not_from_what_a_request_read() {
    // Requests that all read the account before any of them counted (parallel guesses from
    // many addresses): each count is `failed_attempts + 1` in one UPDATE, so all land and the
    // last of `MAX_FAILED_ATTEMPTS_ANYWHERE` locks the account itself.
    let env = city();
    let (id, _) = account(&env, "gw.a", "grid_worker", json!({"cells": [CELL_A]}));
    let now = env.now.get();
    let read_by_all = block_on(crate::access::accounts::by_id(&env, &id))
        .unwrap()
        .unwrap();
    assert_eq!(read_by_all.failed_attempts, 0);
    for _ in 0..crate::access::accounts::MAX_FAILED_ATTEMPTS_ANYWHERE {
        block_on(crate::access::accounts::record_failure(
            &env,
            &read_by_all.id,
            now,
        ))
        .unwrap();
    }
    let after = block_on(crate::access::accounts::by_id(&env, &id))
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.locked_until_ms, after.failed_attempts),
        (now + crate::access::accounts::LOCK_MS, 0),
        "locked, the count begun again"
    );
    block_on(crate::access::accounts::record_failure(&env, &id, now + 1)).unwrap();
    let still = block_on(crate::access::accounts::by_id(&env, &id))
        .unwrap()
        .unwrap();
    assert_eq!(
        (still.locked_until_ms, still.failed_attempts),
        (after.locked_until_ms, 0),
        "failures while locked count nothing"
    );
}

#[test]
fn a_disable_or_a_new_password_ends_sessions_and_a_new_scope_applies_at_once() {
    let env = city();
    let (id, token) = account(
        &env,
        "district.op",
        "district_operator",
        json!({"area_code": "350203"}),
    );
    let patch = |body: Json| {
        call(
            &env,
            request(
                "PATCH",
                &format!("/api/admin/accounts/{id}"),
                Some(ADMIN_TOKEN),
                Some(body),
            ),
        )
    };

    let (s, b) = patch(json!({"role": "street_operator", "area_code": "350203002"}));
    assert_eq!(s, 200, "{b}");
    let (_, who) = me(&env, &token);
    assert_eq!(
        (
            who["principal"]["role"].as_str(),
            who["principal"]["area"].as_str()
        ),
        (Some("street_operator"), Some("350203002"))
    );

    let (s, b) = patch(json!({"disabled": true}));
    assert_eq!((s, b["disabled"].as_bool()), (200, Some(true)));
    assert_eq!(me(&env, &token).0, 401);
    let (s, b, _) = attempt(&env, "district.op", PASSWORD);
    assert_eq!(
        (s, b["detail"].as_str()),
        (403, Some("this account is disabled"))
    );
    patch(json!({"disabled": false}));
    assert_eq!(
        me(&env, &token).0,
        401,
        "enabling again does not bring old sessions back"
    );

    let token = sign_in(&env, "district.op", PASSWORD);
    let (s, _) = patch(json!({"password": "another long password"}));
    assert_eq!(s, 200);
    assert_eq!(me(&env, &token).0, 401, "a new password ends every session");
    assert_eq!(attempt(&env, "district.op", PASSWORD).0, 401);
    assert_eq!(attempt(&env, "district.op", "another long password").0, 201);
}

#[test]
fn account_fields_are_checked_per_role_and_usernames_are_unique() {
    let env = city();
    let create = |body: Json| {
        call(
            &env,
            request("POST", "/api/admin/accounts", Some(ADMIN_TOKEN), Some(body)),
        )
    };
    let base = |role: &str| json!({"username": "someone", "display_name": "Someone", "password": PASSWORD, "role": role});
    let fields = |b: &Json| -> Vec<String> {
        b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect()
    };

    let mut bad = base("district_operator");
    bad["area_code"] = json!("350203001");
    bad["password"] = json!("short");
    bad["username"] = json!("No Spaces");
    let (s, b) = create(bad);
    assert_eq!(
        (s, fields(&b)),
        (
            422,
            vec!["username".to_owned(), "password".into(), "area_code".into()]
        )
    );
    let mut bad = base("department");
    bad["cells"] = json!([CELL_A]);
    let (s, b) = create(bad);
    assert_eq!(
        (s, fields(&b)),
        (422, vec!["department".to_owned(), "cells".into()])
    );
    let mut bad = base("grid_worker");
    bad["worker_id"] = json!("nobody");
    bad["cells"] = json!(["350203"]);
    let (s, b) = create(bad);
    assert_eq!(
        (s, fields(&b)),
        (422, vec!["cells[0]".to_owned(), "worker_id".into()])
    );
    let (s, b) = create(json!({"username": "x", "role": "admin"}));
    assert_eq!(
        (s, b["type"].as_str()),
        (400, Some("/problems/malformed-json"))
    );

    let (s, created) = create(base("admin"));
    assert_eq!(s, 201, "{created}");
    assert!(
        created.get("password_hash").is_none() && !created.to_string().contains("argon2"),
        "{created}"
    );
    let mut again = base("city_operator");
    again["username"] = json!("SomeOne");
    assert_eq!(
        create(again).0,
        409,
        "usernames are unique whatever their case"
    );
    let (_, list) = call(
        &env,
        request("GET", "/api/admin/accounts", Some(ADMIN_TOKEN), None),
    );
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[test]
fn a_grid_workers_cells_follow_the_maps_roster() {
    let env = city();
    let (_, token) = account(&env, "gw.a", "grid_worker", json!({"worker_id": "gw-a"}));
    assert_eq!(me(&env, &token).1["principal"]["cells"], json!([CELL_A]));
    // A new map moves gw-a to cell B as well.
    let mut map = super::access_tests::map();
    map["features"][9]["properties"]["workers"] =
        json!([{"id": "gw-a", "name": "陈志强", "phone": "13812348000"}]);
    let (s, b) = call(
        &env,
        request("POST", "/api/admin/grids", Some(ADMIN_TOKEN), Some(map)),
    );
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        me(&env, &token).1["principal"]["cells"],
        json!([CELL_A, super::access_tests::CELL_B])
    );
}

// ---- personal data

fn events_of(env: &TestEnv, id: &str) -> Vec<Json> {
    let (_, b) = call(
        env,
        request(
            "GET",
            &format!("/api/cases/{id}"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    b["events"].as_array().unwrap().clone()
}

#[test]
fn staff_see_contact_data_masked_and_a_reveal_is_an_audit_event_the_public_never_sees() {
    let env = city();
    let (officer_id, officer) = account(
        &env,
        "district.op",
        "district_operator",
        json!({"area_code": "350203"}),
    );
    let body = json!({"category": "landscape.sign", "description": "Broken sign, call me on 13912345678 or 0592-5123456",
                      "lat": IN_A.0, "lng": IN_A.1, "contact_name": "陈小红", "contact_phone": "13800138000"});
    let (_, created) = call(&env, request("POST", "/api/reports", None, Some(body)));
    let (id, code) = (
        created["id"].as_str().unwrap(),
        created["tracking_code"].as_str().unwrap(),
    );

    let (_, listed) = call(&env, request("GET", "/api/cases", Some(&officer), None));
    let item = &listed["items"][0];
    assert_eq!(
        (
            item["contact_name"].as_str(),
            item["contact_phone"].as_str()
        ),
        (Some("陈**"), Some("138****8000"))
    );
    assert_eq!(
        item["description"],
        "Broken sign, call me on 139****5678 or 059*-*****56"
    );
    let (_, page) = call(
        &env,
        request("GET", &format!("/api/cases/{id}"), Some(&officer), None),
    );
    assert_eq!(
        (
            page["case"]["contact_phone"].as_str(),
            page["revealed"].as_bool()
        ),
        (Some("138****8000"), Some(false))
    );
    assert_eq!(
        events_of(&env, id).len(),
        1,
        "looking at the masked case records nothing"
    );

    let response = respond(
        &env,
        request(
            "GET",
            &format!("/api/cases/{id}?reveal=contact"),
            Some(&officer),
            None,
        ),
    );
    assert_eq!(response.header("cache-control"), Some("private, no-store"));
    let page: Json = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(
        (
            page["case"]["contact_name"].as_str(),
            page["case"]["contact_phone"].as_str()
        ),
        (Some("陈小红"), Some("13800138000"))
    );
    assert!(
        page["case"]["description"]
            .as_str()
            .unwrap()
            .contains("13912345678")
    );
    let events = events_of(&env, id);
    let reveal = events.last().unwrap();
    assert_eq!(
        (
            reveal["type"].as_str(),
            reveal["actor"].as_str(),
            reveal["actor_role"].as_str(),
            reveal["status"].as_str(),
            reveal["from_status"].as_str()
        ),
        (
            Some("reveal_contact"),
            Some(officer_id.as_str()),
            Some("operator"),
            Some("collected"),
            Some("collected")
        )
    );
    assert_eq!(
        call(
            &env,
            request(
                "GET",
                &format!("/api/cases/{id}?reveal=everything"),
                Some(&officer),
                None
            )
        )
        .0,
        422
    );

    // The case still moves (its version moved with the reveal), and the public sees none of it.
    let (s, _) = call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/dispatch"),
            Some(&officer),
            None,
        ),
    );
    assert_eq!(s, 200);
    let public = respond(
        &env,
        request("GET", &format!("/api/reports/{code}"), None, None),
    );
    let text = String::from_utf8(public.body).unwrap();
    for secret in [
        "陈小红",
        "13800138000",
        "13912345678",
        "5123456",
        "reveal_contact",
        &officer_id,
    ] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the public view: {text}"
        );
    }
    let public: Json = serde_json::from_str(&text).unwrap();
    assert_eq!(
        public["description"],
        "Broken sign, call me on 139****5678 or 059*-*****56"
    );
    let kinds: Vec<&str> = public["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reported", "accept", "dispatch"]);

    // Nor does the department's webhook carry any of it.
    let sent = env.sent.borrow();
    let hook = String::from_utf8_lossy(&sent.last().unwrap().body).into_owned();
    for secret in ["陈小红", "13800138000", "13912345678", "5123456"] {
        assert!(
            !hook.contains(secret),
            "{secret} leaked into the webhook: {hook}"
        );
    }
}

#[test]
fn numbers_in_department_notes_are_masked_on_the_public_timeline() {
    let env = city();
    let id = report(&env, "landscape.sign", IN_A);
    call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/dispatch"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    let (s, _) = super::access_tests::callback(
        &env,
        "gardens",
        json!({"case_id": id, "action": "returned", "reason": "the caller 13700001111 says it is not ours"}),
    );
    assert_eq!(s, 200);
    let (_, page) = call(
        &env,
        request(
            "GET",
            &format!("/api/cases/{id}"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    let code = page["case"]["tracking_code"].as_str().unwrap();
    let (_, public) = call(
        &env,
        request("GET", &format!("/api/reports/{code}"), None, None),
    );
    assert_eq!(
        public["timeline"][3]["note"],
        "the caller 137****1111 says it is not ours"
    );
}

#[test]
fn retention_removes_personal_data_of_cases_ended_long_ago_and_keeps_the_case() {
    let mut env = city();
    env.variables.insert("retention_days".into(), "30".into());
    let body = json!({"category": "landscape.sign", "description": "Broken, my ID is 35020319900101123X", "lat": IN_A.0, "lng": IN_A.1,
                      "address": "莲前西路12号 电话13800138000",
                      "contact_name": "陈小红", "contact_phone": "13800138000"});
    let (_, created) = call(&env, request("POST", "/api/reports", None, Some(body)));
    let old = created["id"].as_str().unwrap().to_owned();
    let rejected = report(&env, "landscape.sign", IN_A);
    let open = report(&env, "landscape.sign", IN_A);
    for (id, mv) in [
        (
            &old,
            json!({"move": "reject", "reason": "out of scope; the caller 13912345678 was told"}),
        ),
        (&rejected, json!({"move": "reject", "reason": "duplicate"})),
    ] {
        let (s, b) = call(
            &env,
            request(
                "POST",
                &format!("/api/cases/{id}/moves"),
                Some(OPERATOR_TOKEN),
                Some(mv),
            ),
        );
        assert_eq!(s, 200, "{b}");
    }
    let sweep = |env: &TestEnv| {
        call(
            env,
            request("POST", "/api/sweep", Some(OPERATOR_TOKEN), None),
        )
        .1
    };
    env.now.set(env.now.get() + 29 * 86_400_000);
    assert_eq!(
        sweep(&env)["retention"],
        json!({"purged": 0, "retention_days": 30})
    );
    env.now.set(env.now.get() + 2 * 86_400_000);
    assert_eq!(sweep(&env)["retention"]["purged"], 2);
    assert_eq!(
        sweep(&env)["retention"]["purged"],
        0,
        "a second sweep finds nothing"
    );

    let (_, page) = call(
        &env,
        request(
            "GET",
            &format!("/api/cases/{old}?reveal=contact"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    let case = &page["case"];
    assert_eq!(
        (case["contact_name"].clone(), case["contact_phone"].clone()),
        (Json::Null, Json::Null)
    );
    assert_eq!(
        (
            case["description"].as_str(),
            case["status"].as_str(),
            case["category"].as_str()
        ),
        (
            Some("Broken, my ID is 350***********123X"),
            Some("rejected"),
            Some("landscape.sign")
        )
    );
    // The address and what staff wrote in the trail are masked too, even on a reveal.
    assert_eq!(case["address"], "莲前西路12号 电话138****8000");
    assert!(
        !page.to_string().contains("13912345678") && !page.to_string().contains("13800138000"),
        "{page}"
    );
    assert_eq!(
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "purge_personal_data")
            .count(),
        1
    );
    assert_eq!(
        page["events"].as_array().unwrap().last().unwrap()["type"],
        "purge_personal_data",
        "nothing left to reveal: no reveal event"
    );
    let (_, open_page) = call(
        &env,
        request(
            "GET",
            &format!("/api/cases/{open}?reveal=contact"),
            Some(OPERATOR_TOKEN),
            None,
        ),
    );
    assert_eq!(
        open_page["case"]["contact_phone"], "13800138000",
        "an open case keeps its contact data"
    );
}

#[test]
fn the_retention_query_reads_its_index() {
    let env = city();
    block_on(crate::app::schema::ensure(&env)).unwrap();
    let plan = block_on(env.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM cases WHERE purged_at IS NULL \
         AND COALESCE(closed_at, CASE WHEN status IN ('rejected', 'merged') THEN updated_at END) < ? LIMIT ?",
        &[0.into(), 10.into()],
    ))
    .unwrap();
    let detail: Vec<String> = plan.iter().map(|r| r.text("detail").unwrap()).collect();
    assert!(
        detail.iter().any(|d| d.contains("cases_to_purge")),
        "{detail:?}"
    );
}

// ---- public rate limits

fn from(mut req: ApiRequest, addr: &str) -> ApiRequest {
    req.headers.push(("spin-client-addr".into(), addr.into()));
    req
}

#[test]
fn public_routes_answer_429_with_retry_after_per_client_never_per_tracking_code() {
    let env = city();
    env.now.set(env.now.get() - env.now.get() % MINUTE); // the start of a minute
    let body = json!({"category": "landscape.sign", "description": "Something is broken", "lat": IN_A.0, "lng": IN_A.1});
    let post = |addr: &str| {
        respond(
            &env,
            from(
                request("POST", "/api/reports", None, Some(body.clone())),
                addr,
            ),
        )
    };
    let mut code = String::new();
    for i in 0..crate::access::limits::REPORTS_PER_CLIENT.per_minute {
        let r = post("203.0.113.7:4000");
        assert_eq!(r.status, 201, "report {i}");
        code = serde_json::from_slice::<Json>(&r.body).unwrap()["tracking_code"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    let refused = post("203.0.113.7:4001");
    assert_eq!(
        (refused.status, refused.header("retry-after")),
        (429, Some("60"))
    );
    let problem: Json = serde_json::from_slice(&refused.body).unwrap();
    assert_eq!(problem["type"], "/problems/rate-limited");
    assert_eq!(post("203.0.113.8:4000").status, 201, "another client");

    // One client spending its reads of a code spends no one else's: the reporter (another
    // address) still reads their page, however many addresses read it before.
    let track = |addr: &str| {
        respond(
            &env,
            from(
                request("GET", &format!("/api/reports/{code}"), None, None),
                addr,
            ),
        )
        .status
    };
    let per_client = crate::access::limits::TRACK_PER_CLIENT.per_minute;
    let statuses: Vec<u16> = (0..=per_client).map(|_| track("198.51.100.9:1")).collect();
    assert!(statuses[..per_client as usize].iter().all(|s| *s == 200));
    assert_eq!(
        statuses[per_client as usize], 429,
        "the reading client's own limit"
    );
    for i in 0..100 {
        assert_eq!(track(&format!("192.0.2.{i}:1")), 200, "client {i}");
    }
    assert_eq!(
        track("203.0.113.7:4000"),
        200,
        "the reporter is not locked out"
    );
    env.now.set(env.now.get() + MINUTE);
    assert_eq!(post("203.0.113.7:4000").status, 201, "a new minute");
    assert_eq!(track("198.51.100.9:1"), 200);
    // Staff sessions are not counted as citizens.
    let (_, worker) = account(&env, "gw.a", "grid_worker", json!({"worker_id": "gw-a"}));
    for _ in 0..=crate::access::limits::REPORTS_PER_CLIENT.per_minute {
        let req = from(
            request("POST", "/api/reports", Some(&worker), Some(body.clone())),
            "203.0.113.7:4000",
        );
        assert_eq!(respond(&env, req).status, 201);
    }
}

#[test]
fn wrong_rating_secrets_have_a_ceiling_per_report_that_the_reporters_own_rating_never_spends() {
    let env = city();
    env.now.set(env.now.get() - env.now.get() % MINUTE);
    let body = json!({"category": "landscape.sign", "description": "Something is broken", "lat": IN_A.0, "lng": IN_A.1});
    let filed = respond(
        &env,
        from(
            request("POST", "/api/reports", None, Some(body)),
            "203.0.113.7:1",
        ),
    );
    assert_eq!(filed.status, 201);
    let filed: Json = serde_json::from_slice(&filed.body).unwrap();
    let (code, secret) = (
        filed["tracking_code"].as_str().unwrap(),
        filed["secret"].as_str().unwrap(),
    );
    let rate = |addr: &str, secret: &str| {
        let rating = json!({"secret": secret, "rating": "satisfied"});
        let path = format!("/api/reports/{code}/rating");
        respond(&env, from(request("POST", &path, None, Some(rating)), addr)).status
    };
    let ceiling = crate::access::limits::RATING_WRONG_PER_CODE.per_minute;
    for i in 0..ceiling - 1 {
        assert_eq!(
            rate(&format!("198.51.100.{i}:1"), "0badc0de"),
            403,
            "guess {i}"
        );
    }
    // Not yet closed, so refused, but not as a guess: its place is given back.
    let own = rate("203.0.113.7:2", secret);
    assert!(!matches!(own, 403 | 429), "the reporter's rating: {own}");
    assert_eq!(rate("198.51.100.50:1", "0badc0de"), 403, "the last place");
    assert_eq!(
        rate("198.51.100.51:1", "0badc0de"),
        429,
        "past the ceiling, from any address"
    );
}

fn staff_move(env: &TestEnv, token: &str, id: &str, body: Json) -> (u16, Json) {
    call(
        env,
        request(
            "POST",
            &format!("/api/cases/{id}/moves"),
            Some(token),
            Some(body),
        ),
    )
}

#[test]
fn a_department_desk_handles_its_case_with_a_photo_stored_without_exif() {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let env = city();
    let (_, desk) = account(
        &env,
        "gardens.desk",
        "department",
        json!({"department": "gardens"}),
    );
    let id = report(&env, "landscape.sign", IN_A);
    let (s, b) = staff_move(&env, OPERATOR_TOKEN, &id, json!({"move": "accept"}));
    assert_eq!(s, 200, "{b}");
    let (s, b) = staff_move(
        &env,
        OPERATOR_TOKEN,
        &id,
        json!({"move": "dispatch", "department": "gardens"}),
    );
    assert_eq!(s, 200, "{b}");

    // Photos go only with a move that reports a result; a refused move writes nothing.
    let photo = crate::case::evidence::samples::jpeg_with_exif();
    let evidence = json!([{"data": STANDARD.encode(&photo), "caption": "the new sign"}]);
    let (s, b) = staff_move(
        &env,
        &desk,
        &id,
        json!({"move": "sign_for", "evidence": evidence}),
    );
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("evidence")),
        "{b}"
    );
    assert_eq!(super::testkit::count(&env, "evidence"), 0);
    let (s, b) = staff_move(&env, &desk, &id, json!({"move": "sign_for"}));
    assert_eq!(
        (s, b["case"]["status"].as_str()),
        (200, Some("signed_for")),
        "{b}"
    );
    let gif = json!([{"data": STANDARD.encode(b"GIF89a\x01\0\x01\0\0\0\0;")}]);
    let (s, b) = staff_move(
        &env,
        &desk,
        &id,
        json!({"move": "handle", "note": "sign replaced", "evidence": gif}),
    );
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("evidence[0].data")),
        "{b}"
    );

    let (s, b) = staff_move(
        &env,
        &desk,
        &id,
        json!({"move": "handle", "note": "sign replaced", "evidence": evidence}),
    );
    assert_eq!(
        (s, b["case"]["status"].as_str()),
        (200, Some("handled")),
        "{b}"
    );
    let stored = b["evidence"].as_array().unwrap().clone();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (
            stored[0]["content_type"].as_str(),
            stored[0]["caption"].as_str()
        ),
        (Some("image/jpeg"), Some("the new sign"))
    );

    // The handle event lists it, with the link that serves it to staff, stripped of its EXIF.
    let handle = events_of(&env, &id)
        .into_iter()
        .find(|e| e["type"] == "handle")
        .unwrap();
    assert_eq!(handle["details"]["evidence"], Json::Array(stored.clone()));
    let href = stored[0]["href"].as_str().unwrap();
    assert!(
        href.starts_with(&format!("/api/cases/{id}/evidence/ev_")),
        "{href}"
    );
    for token in [desk.as_str(), OPERATOR_TOKEN] {
        let image = respond(&env, request("GET", href, Some(token), None));
        assert_eq!(
            (image.status, image.header("content-type")),
            (200, Some("image/jpeg"))
        );
        let has = |needle: &[u8]| image.body.windows(needle.len()).any(|w| w == needle);
        assert!(
            !has(b"GPS") && !has(b"Exif"),
            "no location leaves with the photo"
        );
        assert!(has(b"JFIF") && image.body.ends_with(&[0xFF, 0xD9]));
    }
    assert_eq!(respond(&env, request("GET", href, None, None)).status, 401);
    let (_, other) = account(
        &env,
        "municipal.desk",
        "department",
        json!({"department": "municipal"}),
    );
    assert_eq!(
        respond(&env, request("GET", href, Some(&other), None)).status,
        404,
        "another department does not see the case or its photos"
    );

    // The OpenAPI document describes the field.
    let doc: Json = serde_json::from_str(super::intake::OPENAPI).unwrap();
    assert_eq!(
        doc["components"]["schemas"]["MoveRequest"]["properties"]["evidence"]["items"]["$ref"],
        "#/components/schemas/EvidenceInput"
    );
}
