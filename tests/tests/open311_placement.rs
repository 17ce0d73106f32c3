//! A request sent to Open311 without a point waits for an operator to place it. A district
//! operator places it only inside their own district: the case it makes is theirs to handle.

use onegrid_tests::serde_json::json;
use onegrid_tests::{TestApp, plain_cells, spawn_app};

/// A session token of the demo's district operator.
fn district_operator(app: &TestApp) -> (String, String) {
    let password = app.staff_passwords()["district"]
        .as_str()
        .expect("the demo staff passwords")
        .to_owned();
    let session = app.post_json(
        "/api/session",
        &json!({"username": "district", "password": password}),
    );
    session.expect_status(201);
    let token = session.body["token"].as_str().expect("a token").to_owned();
    let area = session.body["principal"]["area"]
        .as_str()
        .expect("a district operator has an area")
        .to_owned();
    (token, area)
}

/// A pending Open311 request (no point, an address only); returns its token.
fn pending_request(app: &TestApp) -> String {
    let key = app.admin().post_json(
        "/api/admin/keys",
        &json!({"name": "street app", "actions": ["open311.submit"]}),
    );
    key.expect_status(201);
    let key = key.body["key"].as_str().expect("a key");
    let form = format!(
        "api_key={key}&service_code=landscape.greenway_sign&address_string=Greenway%20gate&description=The%20sign%20by%20the%20gate%20is%20broken"
    );
    let answer = app.post_raw(
        "/open311/v2/requests.json",
        &[("content-type", "application/x-www-form-urlencoded")],
        form,
    );
    answer.expect_status(201);
    answer.body[0]["token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

#[test]
fn a_district_operator_places_a_pending_request_only_inside_their_district() {
    let app = spawn_app();
    let (token, area) = district_operator(&app);
    let pending = pending_request(&app);
    let auth = format!("Bearer {token}");
    let place = |lat: f64, lng: f64| {
        app.public().send(
            "POST",
            &format!("/api/open311/pending/{pending}/place"),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            json!({"lat": lat, "lng": lng}).to_string().into_bytes(),
        )
    };
    let cells: Vec<(f64, f64, String)> = plain_cells().collect();
    let cell = |inside: bool| {
        cells
            .iter()
            .find(|(_, _, code)| code.starts_with(&area) == inside)
            .cloned()
            .expect("the demo city has cells in and out of the district")
    };
    let (lat, lng, _) = cell(false);
    place(lat, lng).expect_problem(403, "forbidden");
    let (lat, lng, code) = cell(true);
    let placed = place(lat, lng);
    placed.expect_status(201);
    let case = app.operator().get(&format!(
        "/api/cases/{}",
        placed.body["case_id"].as_str().expect("a case")
    ));
    case.expect_status(200);
    assert_eq!(
        case.body["case"]["grid_code"],
        code.as_str(),
        "{}",
        case.text
    );
}
