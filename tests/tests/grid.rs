//! The grid: a point finds its cell (in any of the three coordinate systems), and the
//! hierarchy is browsable from a district down.

use onegrid::grid::code::Crs;
use onegrid::grid::crs::from_wgs84;
use onegrid_tests::{nth_plain_cell, point_inside_a_cell, serde_json, spawn_app};

fn lookup(
    app: &onegrid_tests::TestApp,
    lat: f64,
    lng: f64,
    crs: Option<&str>,
) -> onegrid_tests::Reply {
    let crs = crs.map(|c| format!("&crs={c}")).unwrap_or_default();
    app.get(&format!("/api/grid/lookup?lat={lat}&lng={lng}{crs}"))
}

#[test]
fn a_point_inside_a_cell_finds_that_cell_and_its_chain() {
    let app = spawn_app();
    let (lat, lng, cell) = point_inside_a_cell();
    let reply = lookup(&app, lat, lng, None);
    reply.expect_status(200);
    let body = &reply.body;
    assert_eq!(body["cell"]["code"], cell.as_str(), "{}", reply.text);
    assert_eq!(body["cell"]["level"], "cell");
    assert!(body["cell"]["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert_eq!(body["match"], "inside");
    assert_eq!(body["distance_m"].as_f64(), Some(0.0), "{}", reply.text);
    assert_eq!(body["crs"], "wgs84");
    let chain: Vec<&str> = body["chain"]
        .as_array()
        .expect("a chain")
        .iter()
        .filter_map(|g| g["code"].as_str())
        .collect();
    assert_eq!(chain, [&cell[..6], &cell[..9], &cell[..12]]);
}

#[test]
fn another_cell_is_found_too() {
    let app = spawn_app();
    let (lat, lng, cell) = nth_plain_cell(2000);
    let reply = lookup(&app, lat, lng, None);
    reply.expect_status(200);
    assert_eq!(reply.body["cell"]["code"], cell.as_str(), "{}", reply.text);
    assert_eq!(reply.body["match"], "inside");
}

#[test]
fn a_gcj02_point_finds_the_same_cell_as_its_wgs84_original() {
    let app = spawn_app();
    let (lat, lng, cell) = point_inside_a_cell();
    let (glat, glng) = from_wgs84(Crs::Gcj02, lat, lng);
    assert!(
        (glat - lat).abs() + (glng - lng).abs() > 1e-4,
        "GCJ-02 moves points in China"
    );
    let reply = lookup(&app, glat, glng, Some("gcj02"));
    reply.expect_status(200);
    assert_eq!(reply.body["cell"]["code"], cell.as_str(), "{}", reply.text);
    assert_eq!(reply.body["match"], "inside");
    assert_eq!(reply.body["crs"], "wgs84");
    let point = &reply.body["point"];
    let (plat, plng) = (
        point["lat"].as_f64().unwrap(),
        point["lng"].as_f64().unwrap(),
    );
    assert!(
        (plat - lat).abs() < 1e-6 && (plng - lng).abs() < 1e-6,
        "the stored point is WGS-84: {}",
        reply.text
    );
}

#[test]
fn a_bd09_point_finds_the_same_cell_as_its_wgs84_original() {
    let app = spawn_app();
    let (lat, lng, cell) = nth_plain_cell(1000);
    let (blat, blng) = from_wgs84(Crs::Bd09, lat, lng);
    let reply = lookup(&app, blat, blng, Some("bd09"));
    reply.expect_status(200);
    assert_eq!(reply.body["cell"]["code"], cell.as_str(), "{}", reply.text);
}

#[test]
fn a_point_far_from_every_cell_is_outside_jurisdiction() {
    let app = spawn_app();
    let reply = lookup(&app, 30.0, 100.0, None);
    reply.expect_problem(404, "outside-jurisdiction");
}

#[test]
fn a_lookup_without_coordinates_is_refused_with_validation_failed() {
    let app = spawn_app();
    let reply = app.get("/api/grid/lookup?lat=abc");
    reply.expect_problem(422, "validation-failed");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["lat", "lng"], "{}", reply.text);
}

#[test]
fn a_district_lists_its_streets_as_children() {
    let app = spawn_app();
    let (_, _, cell) = point_inside_a_cell();
    let district = &cell[..6];
    let reply = app.get(&format!("/api/grids/{district}"));
    reply.expect_status(200);
    let body = &reply.body;
    assert_eq!(body["code"], district);
    assert_eq!(body["level"], "district");
    assert!(body["parent"].is_null(), "{}", reply.text);
    let children = body["children"].as_array().expect("children");
    assert!(!children.is_empty(), "{}", reply.text);
    assert!(children.iter().all(|c| {
        c["level"] == "street"
            && c["code"]
                .as_str()
                .is_some_and(|code| code.len() == 9 && code.starts_with(district))
    }));
    assert!(children.iter().any(|c| c["code"] == cell[..9]));
}

#[test]
fn a_cell_knows_its_parent_and_chain() {
    let app = spawn_app();
    let (_, _, cell) = point_inside_a_cell();
    let reply = app.get(&format!("/api/grids/{cell}"));
    reply.expect_status(200);
    assert_eq!(reply.body["level"], "cell");
    assert_eq!(reply.body["parent"], &cell[..12]);
    let chain: Vec<&str> = reply.body["chain"]
        .as_array()
        .expect("a chain")
        .iter()
        .filter_map(|g| g["code"].as_str())
        .collect();
    assert_eq!(chain, [&cell[..6], &cell[..9], &cell[..12]]);
    assert_eq!(reply.body["children"], onegrid_tests::serde_json::json!([]));
}

#[test]
fn an_unknown_grid_is_not_found() {
    let app = spawn_app();
    reply_is_not_found(&app, "/api/grids/999999");
    reply_is_not_found(&app, "/api/grids/not-a-code");
}

fn reply_is_not_found(app: &onegrid_tests::TestApp, path: &str) {
    app.get(path).expect_problem(404, "not-found");
}

#[test]
fn the_demo_call_on_a_deployment_that_has_the_demo_creates_nothing_and_says_so() {
    let app = spawn_app();
    app.public()
        .post_raw("/api/admin/demo", &[], Vec::new())
        .expect_problem(401, "unauthorized");
    app.operator()
        .post_raw("/api/admin/demo", &[], Vec::new())
        .expect_problem(403, "forbidden");
    // The demo's own entries: other tests on a shared deployment add `dept-…` departments and
    // `test.dept-…` categories meanwhile.
    let demo_codes = |items: &serde_json::Value| -> Vec<String> {
        let codes = items.as_array().expect("a list").iter();
        let codes = codes.filter_map(|i| i["code"].as_str());
        codes
            .filter(|c| !c.contains("dept-"))
            .map(String::from)
            .collect()
    };
    let departments = || demo_codes(&app.operator().get("/api/departments").body["items"]);
    let categories = || demo_codes(&app.get("/api/categories").body);
    let (before, categories_before) = (departments(), categories());
    assert!(!categories_before.is_empty());
    let map_version = app.get("/api/health").body["map_version"].clone();

    let reply = app.admin().post_raw("/api/admin/demo", &[], Vec::new());
    reply.expect_status(200);
    let answer = &reply.body;
    assert_eq!(answer["created"], false, "{}", reply.text);
    assert_eq!(answer["map"]["created"], false);
    assert_eq!(answer["map"]["map_version"], map_version);
    for kind in ["departments", "categories", "assets"] {
        assert_eq!(answer[kind]["created"], 0, "{kind}: {}", reply.text);
        assert!(answer[kind]["existing"].as_u64() > Some(0), "{kind}");
    }
    let staff = answer["staff"].as_array().expect("the staff");
    let usernames: Vec<&str> = staff
        .iter()
        .filter_map(|s| s["username"].as_str())
        .collect();
    assert_eq!(
        usernames,
        ["operator", "district", "gardens", "worker", "admin"]
    );
    for account in staff {
        assert_eq!(account["created"], false, "{account}");
        assert!(
            account.get("password").is_none(),
            "no password twice: {account}"
        );
    }
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    assert_eq!(departments(), before, "no second copy of the directory");
    assert_eq!(categories(), categories_before);
    assert_eq!(app.get("/api/health").body["map_version"], map_version);
}
