//! Who may do what, through the handlers: every role (six kinds of staff account, anonymous,
//! a wrong token) against every staff route and every case move, on a case inside its scope
//! and one outside it, each answer's status asserted exactly. A city of two districts: cell A
//! (district 350203, street 350203001), cell B (same district, street 350203002), cell C
//! (district 350206).

use serde_json::{Value as Json, json};

use crate::native::testenv::{ADMIN_TOKEN, OPERATOR_TOKEN, TestEnv};
use crate::{ApiRequest, ApiResponse};

pub(super) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub(super) const SESSION_KEY: &str = "k1-0123456789abcdef0123456789abcdef";
pub(super) const PASSWORD: &str = "a long enough password";
pub(super) const CELL_A: &str = "350203001001001";
pub(super) const CELL_B: &str = "350203002001001";
pub(super) const CELL_C: &str = "350206001001001";
pub(super) const IN_A: (f64, f64) = (24.4505, 118.0805);
pub(super) const IN_B: (f64, f64) = (24.4505, 118.0905);
pub(super) const IN_C: (f64, f64) = (24.4505, 118.1005);

/// Routes a request to its component's handler, as spin.toml does.
pub(super) fn respond(env: &TestEnv, req: ApiRequest) -> ApiResponse {
    super::testkit::call(env, req)
}

pub(super) fn call(env: &TestEnv, req: ApiRequest) -> (u16, Json) {
    let ApiResponse { status, body, .. } = respond(env, req);
    (status, serde_json::from_slice(&body).unwrap_or(Json::Null))
}

pub(super) fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Json>,
) -> ApiRequest {
    let mut req = ApiRequest::new(method, path);
    if let Some(t) = token {
        req.headers
            .push(("authorization".into(), format!("Bearer {t}")));
    }
    if let Some(b) = body {
        req.headers
            .push(("content-type".into(), "application/json".into()));
        req.body = serde_json::to_vec(&b).unwrap();
    }
    req
}

fn square(code: &str, x0: f64, workers: Json) -> Json {
    let (d, y0) = (0.01, 24.445);
    json!({"type": "Feature", "properties": {"code": code, "name": code, "workers": workers},
           "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]]}})
}

fn area(code: &str) -> Json {
    json!({"type": "Feature", "properties": {"code": code, "name": code}, "geometry": null})
}

pub(super) fn map() -> Json {
    json!({"type": "FeatureCollection", "features": [
        area("350203"), area("350206"), area("350203001"), area("350203002"), area("350206001"),
        area("350203001001"), area("350203002001"), area("350206001001"),
        square(CELL_A, 118.08, json!([{"id": "gw-a", "name": "陈志强", "phone": "13812348000"}])),
        square(CELL_B, 118.09, json!([{"id": "gw-b", "name": "林芳", "phone": "13900001111"}])),
        square(CELL_C, 118.10, json!([])),
    ]})
}

/// The test city with its directory, and no accounts yet.
pub(super) fn city() -> TestEnv {
    let mut env = TestEnv::new();
    env.variables
        .insert("session_keys".into(), SESSION_KEY.into());
    let (s, b) = call(
        &env,
        request("POST", "/api/admin/grids", Some(ADMIN_TOKEN), Some(map())),
    );
    assert_eq!(s, 201, "{b}");
    for code in ["gardens", "municipal"] {
        let dept = json!({"name": code, "webhook_url": format!("http://127.0.0.1:9/{code}"), "secret": SECRET});
        let (s, b) = call(
            &env,
            request(
                "PUT",
                &format!("/api/admin/departments/{code}"),
                Some(ADMIN_TOKEN),
                Some(dept),
            ),
        );
        assert_eq!(s, 200, "{b}");
    }
    for (code, kind, dept) in [
        ("landscape.sign", "component", "gardens"),
        ("environment.litter", "component", "municipal"),
    ] {
        let cat = json!({"name_zh": code, "name_en": code, "kind": kind, "department": dept});
        let (s, b) = call(
            &env,
            request(
                "PUT",
                &format!("/api/admin/categories/{code}"),
                Some(ADMIN_TOKEN),
                Some(cat),
            ),
        );
        assert_eq!(s, 200, "{b}");
    }
    env.answer_status.set(200);
    env
}

/// Creates an account (as the administrator) and signs it in; returns its id and token.
pub(super) fn account(env: &TestEnv, username: &str, role: &str, scope: Json) -> (String, String) {
    let mut body =
        json!({"username": username, "display_name": username, "password": PASSWORD, "role": role});
    body.as_object_mut()
        .unwrap()
        .extend(scope.as_object().unwrap().clone());
    let (s, created) = call(
        env,
        request("POST", "/api/admin/accounts", Some(ADMIN_TOKEN), Some(body)),
    );
    assert_eq!(s, 201, "{created}");
    (
        created["id"].as_str().unwrap().to_owned(),
        sign_in(env, username, PASSWORD),
    )
}

pub(super) fn sign_in(env: &TestEnv, username: &str, password: &str) -> String {
    let (s, b) = call(
        env,
        request(
            "POST",
            "/api/session",
            None,
            Some(json!({"username": username, "password": password})),
        ),
    );
    assert_eq!(s, 201, "{b}");
    b["token"].as_str().unwrap().to_owned()
}

pub(super) fn report(env: &TestEnv, category: &str, at: (f64, f64)) -> String {
    let body = json!({"category": category, "description": "Something is broken here", "lat": at.0, "lng": at.1,
                      "contact_name": "陈女士", "contact_phone": "13800138000"});
    let (s, b) = call(env, request("POST", "/api/reports", None, Some(body)));
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

pub(super) fn callback(env: &TestEnv, department: &str, body: Json) -> (u16, Json) {
    let id = format!("msg_{}", rand::random::<u64>());
    call(
        env,
        super::testkit::signed_callback(env, department, SECRET, &id, &body),
    )
}

fn op_move(env: &TestEnv, id: &str, body: Json) {
    let (s, b) = call(
        env,
        request(
            "POST",
            &format!("/api/cases/{id}/moves"),
            Some(OPERATOR_TOKEN),
            Some(body),
        ),
    );
    assert_eq!(s, 200, "{b}");
}

fn dept_says(env: &TestEnv, department: &str, id: &str, action: &str, extra: Json) {
    let mut body = json!({"case_id": id, "action": action});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (s, b) = callback(env, department, body);
    assert_eq!(s, 200, "{action}: {b}");
}

/// A fresh case at `at`, brought to `status` by the service token and `department`'s callbacks.
fn case_in(env: &TestEnv, status: &str, at: (f64, f64), department: &str) -> String {
    let id = report(env, "landscape.sign", at);
    let steps: &[&str] = match status {
        "collected" => &[],
        "accepted" => &["accept"],
        "dispatched" => &["accept", "dispatch"],
        "signed_for" => &["accept", "dispatch", "signed_for"],
        "extension_requested" => &[
            "accept",
            "dispatch",
            "signed_for",
            "in_progress",
            "extension_requested",
        ],
        "handled" => &["accept", "dispatch", "signed_for", "handled"],
        "verified" => &["accept", "dispatch", "signed_for", "handled", "verify_pass"],
        "closed" => &[
            "accept",
            "dispatch",
            "signed_for",
            "handled",
            "verify_pass",
            "close",
        ],
        other => panic!("no way to {other} here"),
    };
    for step in steps {
        match *step {
            "accept" | "verify_pass" | "close" => op_move(env, &id, json!({"move": step})),
            "dispatch" => op_move(
                env,
                &id,
                json!({"move": "dispatch", "department": department}),
            ),
            "extension_requested" => dept_says(
                env,
                department,
                &id,
                step,
                json!({"reason": "parts", "hours": 24}),
            ),
            "handled" => dept_says(env, department, &id, step, json!({"note": "fixed"})),
            _ => dept_says(env, department, &id, step, json!({})),
        }
    }
    id
}

/// The principals of the matrix, in the order of every expectation row.
const WHO: [&str; 8] = [
    "city",
    "district",
    "street",
    "department",
    "grid_worker",
    "admin",
    "anonymous",
    "wrong",
];

/// Accounts of every role and their tokens, in the order of [`WHO`].
fn staff(env: &TestEnv) -> Vec<Option<String>> {
    let mut tokens: Vec<Option<String>> = vec![
        Some(account(env, "city.op", "city_operator", json!({})).1),
        Some(
            account(
                env,
                "district.op",
                "district_operator",
                json!({"area_code": "350203"}),
            )
            .1,
        ),
        Some(
            account(
                env,
                "street.op",
                "street_operator",
                json!({"area_code": "350203001"}),
            )
            .1,
        ),
        Some(
            account(
                env,
                "gardens.staff",
                "department",
                json!({"department": "gardens"}),
            )
            .1,
        ),
        Some(account(env, "gw.a", "grid_worker", json!({"worker_id": "gw-a"})).1),
        Some(account(env, "admin.user", "admin", json!({})).1),
        None,
    ];
    // A token of the right shape signed with another key, beside plain garbage (below).
    let forged = crate::access::sessions::sign(
        b"another-key-0123456789abcdef0123456",
        &crate::access::sessions::Claims {
            sub: "x".into(),
            role: "admin".into(),
            ep: 0,
            iat: 0,
            exp: i64::MAX,
            jti: "ab".repeat(16),
        },
    );
    tokens.push(Some(forged));
    tokens
}

#[test]
fn every_role_meets_exactly_its_rights_on_every_staff_route() {
    let env = city();
    let tokens = staff(&env);
    let inside = case_in(&env, "dispatched", IN_A, "gardens");
    let outside = case_in(&env, "dispatched", IN_C, "municipal");
    let (_, other) = call(
        &env,
        request(
            "GET",
            "/api/admin/accounts?role=admin",
            Some(ADMIN_TOKEN),
            None,
        ),
    );
    let admin_id = other["items"][0]["id"].as_str().unwrap().to_owned();
    let preview = json!({"category": "landscape.sign", "grid_code": CELL_A});
    let rules = json!({"note": "n", "rules": [{"category": "landscape.sign", "lead": "gardens"}]});
    let dept =
        json!({"name": "gardens", "webhook_url": "http://127.0.0.1:9/gardens", "secret": SECRET});
    let cat = json!({"name_zh": "x", "name_en": "x", "kind": "component", "department": "gardens"});
    let party = json!({"kind": "party", "name": "x", "role": "y"});
    let patrol = |at: (f64, f64)| json!({"category": "landscape.sign", "description": "found on patrol", "lat": at.0, "lng": at.1});
    let mut n = 0;
    let mut new_account = move || {
        n += 1;
        json!({"username": format!("new.{n}"), "display_name": "n", "password": PASSWORD, "role": "city_operator"})
    };

    #[rustfmt::skip]
    let rows: Vec<(&str, String, Option<Json>, [u16; 8])> = vec![
        //                                                                    city district street dept  gw  admin anon wrong
        ("GET", "/api/cases".into(), None,                                      [200, 200, 200, 200, 200, 403, 401, 401]),
        ("GET", format!("/api/cases/{inside}"), None,                           [200, 200, 200, 200, 200, 403, 401, 401]),
        ("GET", format!("/api/cases/{outside}"), None,                          [200, 404, 404, 404, 404, 403, 401, 401]),
        ("GET", format!("/api/cases/{inside}?reveal=contact"), None,            [200, 200, 200, 200, 200, 403, 401, 401]),
        ("GET", format!("/api/cases/{outside}?reveal=contact"), None,           [200, 404, 404, 404, 404, 403, 401, 401]),
        ("GET", format!("/api/cases/{inside}/mediation"), None,                 [200, 200, 200, 200, 200, 403, 401, 401]),
        ("GET", format!("/api/cases/{outside}/mediation"), None,                [200, 404, 404, 404, 404, 403, 401, 401]),
        // Not a dispute: in scope, the state says no (409); out of scope, nothing is told.
        ("POST", format!("/api/cases/{inside}/mediation"), Some(party.clone()), [409, 409, 409, 409, 409, 403, 401, 401]),
        ("POST", format!("/api/cases/{outside}/mediation"), Some(party),        [409, 404, 404, 404, 404, 403, 401, 401]),
        ("GET", "/api/departments".into(), None,                                [200, 200, 200, 200, 200, 200, 401, 401]),
        ("GET", "/api/routing".into(), None,                                    [200, 200, 200, 403, 403, 200, 401, 401]),
        ("POST", "/api/routing/preview".into(), Some(preview),                  [200, 200, 200, 403, 403, 403, 401, 401]),
        ("PUT", "/api/admin/routing".into(), Some(rules),                       [403, 403, 403, 403, 403, 200, 401, 401]),
        ("GET", "/api/outbox".into(), None,                                     [200, 403, 403, 403, 403, 403, 401, 401]),
        ("POST", "/api/outbox/nothing/resend".into(), None,                     [404, 403, 403, 403, 403, 403, 401, 401]),
        ("POST", "/api/sweep".into(), None,                                     [200, 403, 403, 403, 403, 403, 401, 401]),
        ("PUT", "/api/admin/departments/gardens".into(), Some(dept),            [403, 403, 403, 403, 403, 200, 401, 401]),
        ("PUT", "/api/admin/categories/landscape.sign".into(), Some(cat),       [403, 403, 403, 403, 403, 200, 401, 401]),
        ("POST", "/api/admin/grids".into(), Some(map()),                        [403, 403, 403, 403, 403, 201, 401, 401]),
        // Workers' names: masked for the public, whole for operators of the cell's area and admins.
        ("GET", format!("/api/grids/{CELL_A}/workers"), None,                   [200, 200, 200, 403, 403, 200, 200, 401]),
        ("GET", format!("/api/grids/{CELL_C}/workers"), None,                   [200, 403, 403, 403, 403, 200, 200, 401]),
        ("GET", "/api/indicators".into(), None,                                 [200, 200, 200, 403, 403, 403, 401, 401]),
        ("POST", "/api/admin/accounts".into(), None,                            [403, 403, 403, 403, 403, 201, 401, 401]),
        ("GET", "/api/admin/accounts".into(), None,                             [403, 403, 403, 403, 403, 200, 401, 401]),
        ("GET", format!("/api/admin/accounts/{admin_id}"), None,                [403, 403, 403, 403, 403, 200, 401, 401]),
        ("PATCH", format!("/api/admin/accounts/{admin_id}"), Some(json!({"display_name": "Admin"})),
                                                                                [403, 403, 403, 403, 403, 200, 401, 401]),
        ("GET", "/api/session".into(), None,                                    [200, 200, 200, 200, 200, 200, 401, 401]),
        // A report with a token is a grid worker's patrol report, in its own cells only.
        ("POST", "/api/reports".into(), Some(patrol(IN_A)),                     [403, 403, 403, 403, 201, 403, 201, 401]),
        ("POST", "/api/reports".into(), Some(patrol(IN_C)),                     [403, 403, 403, 403, 403, 403, 201, 401]),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in rows {
        for (i, who) in WHO.iter().enumerate() {
            let body = if path == "/api/admin/accounts" && method == "POST" {
                Some(new_account())
            } else {
                body.clone()
            };
            let (status, answer) = call(&env, request(method, &path, tokens[i].as_deref(), body));
            if status != expected[i] {
                failures.push(format!(
                    "{method} {path} as {who}: {status}, expected {}: {answer}",
                    expected[i]
                ));
            }
            if status >= 400 {
                assert_eq!(
                    answer["status"], status,
                    "{method} {path} as {who}: a problem document: {answer}"
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A move, the status it leaves from, what it carries, and the answers inside and outside scope.
type MoveRow = (&'static str, &'static str, Json, [u16; 8], [u16; 8]);

#[test]
fn every_case_move_answers_by_role_and_scope() {
    let env = city();
    let tokens = staff(&env);
    // (move, the status it leaves from, what it carries, inside, outside), one column per WHO.
    // Inside: a case in cell A (led by gardens once dispatched); outside: cell C (municipal).
    // Before a dispatch no department sees a case; the state machine's roles give 403, its
    // statuses 409; a case outside the caller's scope is 404 whatever the move.
    #[rustfmt::skip]
    let rows: Vec<MoveRow> = vec![
        //                                                              inside: city district street dept  gw  admin anon wrong      outside: …
        ("accept", "collected", json!({}),                              [200, 200, 200, 404, 403, 403, 401, 401], [200, 404, 404, 404, 404, 403, 401, 401]),
        ("reject", "collected", json!({"reason": "r"}),                 [200, 200, 200, 404, 403, 403, 401, 401], [200, 404, 404, 404, 404, 403, 401, 401]),
        ("merge", "collected", json!({}),                               [200, 200, 200, 404, 403, 403, 401, 401], [200, 404, 404, 404, 404, 403, 401, 401]),
        ("dispatch", "accepted", json!({}),                             [200, 200, 200, 404, 403, 403, 401, 401], [200, 404, 404, 404, 404, 403, 401, 401]),
        ("self_handle", "collected", json!({"note": "n"}),              [403, 403, 403, 404, 200, 403, 401, 401], [403, 404, 404, 404, 404, 403, 401, 401]),
        ("sign_for", "dispatched", json!({}),                           [403, 403, 403, 200, 403, 403, 401, 401], [403, 404, 404, 404, 404, 403, 401, 401]),
        ("return", "dispatched", json!({"reason": "r"}),                [403, 403, 403, 200, 403, 403, 401, 401], [403, 404, 404, 404, 404, 403, 401, 401]),
        ("start", "signed_for", json!({}),                              [403, 403, 403, 200, 403, 403, 401, 401], [403, 404, 404, 404, 404, 403, 401, 401]),
        ("request_extension", "signed_for", json!({"reason": "r", "hours": 24}),
                                                                        [403, 403, 403, 200, 403, 403, 401, 401], [403, 404, 404, 404, 404, 403, 401, 401]),
        ("handle", "signed_for", json!({"note": "n"}),                  [403, 403, 403, 200, 403, 403, 401, 401], [403, 404, 404, 404, 404, 403, 401, 401]),
        ("approve_extension", "extension_requested", json!({}),         [200, 200, 200, 403, 403, 403, 401, 401], [200, 404, 404, 404, 404, 403, 401, 401]),
        ("refuse_extension", "extension_requested", json!({"reason": "r"}),
                                                                        [200, 200, 200, 403, 403, 403, 401, 401], [200, 404, 404, 404, 404, 403, 401, 401]),
        ("verify_pass", "handled", json!({}),                           [200, 200, 200, 403, 200, 403, 401, 401], [200, 404, 404, 404, 404, 403, 401, 401]),
        ("verify_fail", "handled", json!({"reason": "r"}),              [200, 200, 200, 403, 200, 403, 401, 401], [200, 404, 404, 404, 404, 403, 401, 401]),
        ("close", "verified", json!({}),                                [200, 200, 200, 403, 403, 403, 401, 401], [200, 404, 404, 404, 404, 403, 401, 401]),
        ("evaluate", "closed", json!({}),                               [403, 403, 403, 403, 403, 403, 401, 401], [403, 404, 404, 404, 404, 403, 401, 401]),
        // The status is checked before the role: a move from the wrong status is a 409 for
        // anyone who may see the case.
        ("close", "collected", json!({}),                               [409, 409, 409, 404, 409, 403, 401, 401], [409, 404, 404, 404, 404, 403, 401, 401]),
        ("sign_for", "closed", json!({}),                               [409, 409, 409, 409, 409, 403, 401, 401], [409, 404, 404, 404, 404, 403, 401, 401]),
    ];
    let mut failures = Vec::new();
    let mut tried = 0;
    for (mv, status, carried, inside, outside) in &rows {
        for (scope, expected, at, department) in [
            ("inside", inside, IN_A, "gardens"),
            ("outside", outside, IN_C, "municipal"),
        ] {
            for (i, who) in WHO.iter().enumerate() {
                let id = case_in(&env, status, at, department);
                let mut body = carried.clone();
                body["move"] = json!(mv);
                if *mv == "merge" {
                    body["parent"] = json!(report(&env, "landscape.sign", at));
                }
                if *mv == "dispatch" {
                    body["department"] = json!(department);
                }
                let (got, answer) = call(
                    &env,
                    request(
                        "POST",
                        &format!("/api/cases/{id}/moves"),
                        tokens[i].as_deref(),
                        Some(body),
                    ),
                );
                tried += 1;
                if got != expected[i] {
                    failures.push(format!(
                        "{mv} from {status}, {scope}, as {who}: {got}, expected {}: {answer}",
                        expected[i]
                    ));
                }
            }
        }
    }
    assert_eq!(tried, rows.len() * 16);
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn ids_listed(env: &TestEnv, token: &str) -> Vec<String> {
    let (s, b) = call(
        env,
        request("GET", "/api/cases?limit=200", Some(token), None),
    );
    assert_eq!(s, 200, "{b}");
    b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn listings_hold_exactly_the_cases_in_scope() {
    let env = city();
    let tokens: Vec<String> = staff(&env)
        .into_iter()
        .take(5)
        .map(Option::unwrap)
        .collect();
    let a = case_in(&env, "dispatched", IN_A, "gardens");
    let b = case_in(&env, "dispatched", IN_B, "municipal");
    let c = case_in(&env, "dispatched", IN_C, "gardens");
    let fresh_c = report(&env, "landscape.sign", IN_C);
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let expect = [
        ("city", vec![&a, &b, &c, &fresh_c]),
        ("district", vec![&a, &b]),
        ("street", vec![&a]),
        ("department", vec![&a, &c]),
        ("grid_worker", vec![&a]),
    ];
    for (i, (who, want)) in expect.iter().enumerate() {
        let want = sorted(want.iter().map(|s| s.to_string()).collect());
        assert_eq!(sorted(ids_listed(&env, &tokens[i])), want, "{who}");
    }
}

#[test]
fn a_helper_department_sees_its_case_but_only_the_lead_moves_it() {
    let env = city();
    let (_, gardens) = account(
        &env,
        "gardens.staff",
        "department",
        json!({"department": "gardens"}),
    );
    let id = report(&env, "environment.litter", IN_C);
    op_move(
        &env,
        &id,
        json!({"move": "dispatch", "department": "municipal", "helpers": ["gardens"]}),
    );
    let (s, b) = call(
        &env,
        request("GET", &format!("/api/cases/{id}"), Some(&gardens), None),
    );
    assert_eq!((s, b["case"]["helpers"].clone()), (200, json!(["gardens"])));
    let (s, b) = call(
        &env,
        request(
            "POST",
            &format!("/api/cases/{id}/moves"),
            Some(&gardens),
            Some(json!({"move": "sign_for"})),
        ),
    );
    assert_eq!(
        (s, b["type"].as_str()),
        (403, Some("/problems/forbidden")),
        "{b}"
    );
}

#[test]
fn a_patrol_report_is_on_the_patrol_channel_by_the_worker_and_in_its_cells_only() {
    let env = city();
    let (id, worker) = account(&env, "gw.a", "grid_worker", json!({"worker_id": "gw-a"}));
    let body = json!({"category": "landscape.sign", "description": "found on patrol", "lat": IN_A.0, "lng": IN_A.1, "channel": "web"});
    let (s, b) = call(
        &env,
        request("POST", "/api/reports", Some(&worker), Some(body.clone())),
    );
    assert_eq!(s, 201, "{b}");
    let (_, case) = call(
        &env,
        request(
            "GET",
            &format!("/api/cases/{}", b["id"].as_str().unwrap()),
            Some(&worker),
            None,
        ),
    );
    assert_eq!(case["case"]["channel"], "patrol");
    assert_eq!(
        (
            case["case"]["reporter_kind"].as_str(),
            case["case"]["reporter_id"].as_str()
        ),
        (Some("grid_worker"), Some(id.as_str()))
    );
    assert_eq!(case["events"][0]["actor_role"], "grid_worker");
    let mut elsewhere = body;
    (elsewhere["lat"], elsewhere["lng"]) = (json!(IN_B.0), json!(IN_B.1));
    let (s, b) = call(
        &env,
        request("POST", "/api/reports", Some(&worker), Some(elsewhere)),
    );
    assert_eq!(
        (s, b["type"].as_str()),
        (403, Some("/problems/forbidden")),
        "{b}"
    );
}
