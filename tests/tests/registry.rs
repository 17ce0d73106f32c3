//! The base registry as its users meet it over HTTP: an office imports addresses, households
//! and residents; grid workers and operators find people only inside their own part of the
//! city, masked; an ID number is found by its hash and shown whole only by a recorded reveal;
//! and the record of every look is there for the auditor.

use onegrid_tests::serde_json::{Value, json};
use onegrid_tests::{
    TestApp, plain_cells, random_hex, send_as, signed_in_staff as staff, spawn_app,
};

const ID_NUMBER: &str = "11010519491231002X";
const PHONE: &str = "13800138000";
const NAME: &str = "陈志强";

fn get(app: &TestApp, auth: &str, path: &str) -> onegrid_tests::Reply {
    send_as(app, auth, "GET", path, None)
}

fn post(app: &TestApp, auth: &str, path: &str, body: Option<&Value>) -> onegrid_tests::Reply {
    send_as(app, auth, "POST", path, body)
}

#[test]
fn residents_are_sealed_scoped_masked_and_every_look_at_them_is_recorded() {
    let app = spawn_app();
    let mut cells = plain_cells();
    let (lat0, lng0, cell0) = cells.next().expect("a cell");
    let (lat1, lng1, cell1) = cells
        .find(|(_, _, c)| c[..9] != cell0[..9])
        .expect("a cell of another street");
    let worker = staff(&app, "grid_worker", json!({"cells": [cell0]}));
    let other_worker = staff(&app, "grid_worker", json!({"cells": [cell1]}));
    let department = staff(&app, "department", json!({"department": "gardens"}));
    let admin = format!("Bearer {}", app.admin_token());
    let operator = format!("Bearer {}", app.operator_token());

    // The office's import: addresses in two cells, a household in each.
    let addresses = post(
        &app,
        &admin,
        "/api/registry/addresses",
        Some(&json!([
            {"id": "A-T-0101", "road": "嘉禾路 123 号", "building": "12号楼", "unit": "2单元", "room": "301", "lat": lat0, "lng": lng0},
            {"id": "A-T-0201", "road": "莲前西路 8 号", "lat": lat1, "lng": lng1},
        ])),
    );
    addresses.expect_status(200);
    assert_eq!(addresses.body["addresses"][0]["grid_code"], cell0.as_str());
    assert_eq!(
        addresses.body["addresses"][0]["label"],
        "嘉禾路 123 号 12号楼 2单元 301"
    );
    post(
        &app,
        &admin,
        "/api/registry/households",
        Some(&json!([
            {"id": "H-T-1", "address_id": "A-T-0101"},
            {"id": "H-T-2", "address_id": "A-T-0201"},
        ])),
    )
    .expect_status(200);
    // A worker registers only in their own cells.
    post(
        &app,
        &worker,
        "/api/registry/households",
        Some(&json!({"id": "H-T-3", "address_id": "A-T-0201"})),
    )
    .expect_problem(403, "forbidden");

    // A resident, by the worker of the cell; nothing personal comes back.
    let person = json!({
        "household_id": "H-T-1", "name": NAME, "relation": "户主", "birth_year": 1949,
        "id_number": ID_NUMBER, "phone": "138 0013 8000", "tags": ["living_alone", "elderly"],
    });
    let registered = post(&app, &worker, "/api/registry/people", Some(&person));
    registered.expect_status(200);
    assert_eq!(
        registered.body["people"][0]["outcome"], "created",
        "{}",
        registered.text
    );
    for secret in [NAME, "志强", "002X", PHONE, "0013"] {
        assert!(
            !registered.text.contains(secret),
            "{secret} in {}",
            registered.text
        );
    }
    let id = registered.body["people"][0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert!(
        !id.contains("0105"),
        "the id tells nothing of the number: {id}"
    );
    // The same person again without an id (the office's next import) is merged, not doubled.
    let again = post(&app, &admin, "/api/registry/people", Some(&person));
    again.expect_status(200);
    assert_eq!(again.body["people"][0]["id"], id.as_str());
    assert_eq!(again.body["people"][0]["outcome"], "updated");

    // A batch with one bad row is refused whole, the row and the column named.
    let bad = post(
        &app,
        &worker,
        "/api/registry/people",
        Some(&json!([
            {"id": "P-T-NEW", "household_id": "H-T-1", "name": "林芳"},
            {"household_id": "H-T-1", "name": "王明", "id_number": "110105194912310021", "tags": ["nope"]},
        ])),
    );
    bad.expect_problem(422, "validation-failed");
    assert_eq!(
        bad.error_fields(),
        vec!["[1].id_number", "[1].tags"],
        "{}",
        bad.text
    );
    get(&app, &worker, "/api/registry/people/P-T-NEW").expect_problem(404, "not-found");

    // Found by a name fragment inside the worker's cells, masked.
    let found = post(
        &app,
        &worker,
        "/api/registry/search",
        Some(&json!({"name": "志强"})),
    );
    found.expect_status(200);
    assert_eq!(
        found.body["people"].as_array().map(Vec::len),
        Some(1),
        "{}",
        found.text
    );
    assert_eq!(found.body["people"][0]["name"], "陈**");
    assert_eq!(
        found.body["people"][0]["address"],
        "嘉禾路 123 号 12号楼 2单元 301"
    );
    for secret in ["志强", "002X", "0013"] {
        assert!(!found.text.contains(secret), "{secret} in {}", found.text);
    }
    // By address fragment, and by ID number (its hash) anywhere in scope.
    let by_address = post(
        &app,
        &worker,
        "/api/registry/search",
        Some(&json!({"address": "12号楼"})),
    );
    assert_eq!(
        by_address.body["people"][0]["id"],
        id.as_str(),
        "{}",
        by_address.text
    );
    let by_number = post(
        &app,
        &operator,
        "/api/registry/search",
        Some(&json!({"id_number": "110105 19491231 002x"})),
    );
    by_number.expect_status(200);
    assert_eq!(
        by_number.body["people"][0]["id"],
        id.as_str(),
        "{}",
        by_number.text
    );

    // Outside one's scope the person does not exist.
    let elsewhere = post(
        &app,
        &other_worker,
        "/api/registry/search",
        Some(&json!({"id_number": ID_NUMBER})),
    );
    elsewhere.expect_status(200);
    assert_eq!(elsewhere.body["people"], json!([]));
    get(&app, &other_worker, &format!("/api/registry/people/{id}"))
        .expect_problem(404, "not-found");
    post(
        &app,
        &department,
        "/api/registry/search",
        Some(&json!({"name": "陈"})),
    )
    .expect_problem(403, "forbidden");
    // A city-wide fragment search would read every resident: it must name a street or less.
    let wide = post(
        &app,
        &operator,
        "/api/registry/search",
        Some(&json!({"name": "陈"})),
    );
    wide.expect_problem(422, "validation-failed");
    assert_eq!(wide.error_fields(), vec!["area"]);
    let street = post(
        &app,
        &operator,
        "/api/registry/search",
        Some(&json!({"name": "陈", "area": &cell0[..9]})),
    );
    assert_eq!(
        street.body["people"][0]["id"],
        id.as_str(),
        "{}",
        street.text
    );
    post(
        &app,
        &worker,
        "/api/registry/search",
        Some(&json!({"name": "陈", "area": cell1})),
    )
    .expect_problem(403, "forbidden");

    // Opened masked, then revealed whole.
    let masked = get(&app, &worker, &format!("/api/registry/people/{id}"));
    masked.expect_status(200);
    assert_eq!(masked.body["id_number"], "**************002X");
    assert_eq!(masked.body["phone"], "138****8000");
    assert_eq!(masked.body["name"], "陈**");
    assert_eq!(masked.body["revealed"], false);
    assert_eq!(
        masked.body["tags"][0]["name_zh"], "高龄老人",
        "{}",
        masked.text
    );
    let whole = get(
        &app,
        &worker,
        &format!("/api/registry/people/{id}?reveal=id_number"),
    );
    whole.expect_status(200);
    assert_eq!(whole.body["id_number"], ID_NUMBER);
    assert_eq!(whole.body["phone"], PHONE);
    assert_eq!(whole.body["name"], NAME);
    get(
        &app,
        &worker,
        &format!("/api/registry/people/{id}?reveal=everything"),
    )
    .expect_problem(422, "validation-failed");

    // The cell's view counts, names nobody.
    let view = get(&app, &worker, &format!("/api/registry/cells/{cell0}"));
    view.expect_status(200);
    assert_eq!(view.body["residents"], 1, "{}", view.text);
    assert_eq!(view.body["tags"], json!({"elderly": 1, "living_alone": 1}));
    assert_eq!(view.body["addresses"][0]["households"][0]["members"], 1);
    assert!(!view.text.contains("陈"), "{}", view.text);
    get(&app, &worker, &format!("/api/registry/cells/{cell1}")).expect_problem(403, "forbidden");

    // The record of looks: every search hit, view and reveal, newest first; none of the
    // lookups that found nothing. Only the auditors read it.
    get(&app, &worker, &format!("/api/registry/people/{id}/reads"))
        .expect_problem(403, "forbidden");
    let reads = get(&app, &operator, &format!("/api/registry/people/{id}/reads"));
    reads.expect_status(200);
    let purposes: Vec<&str> = reads.body["reads"]
        .as_array()
        .expect("reads")
        .iter()
        .map(|r| r["purpose"].as_str().expect("a purpose"))
        .collect();
    assert_eq!(
        purposes,
        ["reveal", "view", "search", "search", "search", "search"],
        "{}",
        reads.text
    );
    assert_eq!(reads.body["reads"][0]["actor_role"], "grid_worker");
}

#[test]
fn the_tag_set_is_configurable_and_registering_checks_every_field() {
    let app = spawn_app();
    let admin = format!("Bearer {}", app.admin_token());
    let (lat, lng, _) = plain_cells().next().expect("a cell");
    let tags = post(
        &app,
        &admin,
        "/api/admin/registry/tags",
        Some(&json!(
            {"code": "pregnant", "name_zh": "孕产妇", "name_en": "Pregnant or new mother", "targeted": true}
        )),
    );
    tags.expect_status(200);
    assert!(
        tags.body["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .any(|t| t["code"] == "pregnant")
    );
    let operator = format!("Bearer {}", app.operator_token());
    post(
        &app,
        &operator,
        "/api/admin/registry/tags",
        Some(&json!({"code": "x1", "name_zh": "x", "name_en": "x"})),
    )
    .expect_problem(403, "forbidden");

    let bad = post(
        &app,
        &admin,
        "/api/registry/addresses",
        Some(&json!([
            {"id": "a-lower", "road": "", "lat": lat, "lng": lng},
            {"id": "A-OK", "road": "嘉禾路", "lat": 95.0, "lng": lng},
        ])),
    );
    bad.expect_problem(422, "validation-failed");
    assert_eq!(
        bad.error_fields(),
        vec!["[0].id", "[0].road", "[1].lat"],
        "{}",
        bad.text
    );
    let outside = post(
        &app,
        &admin,
        "/api/registry/addresses",
        Some(&json!(
            {"id": "A-FAR", "road": "远方路", "lat": 39.9, "lng": 116.4}
        )),
    );
    outside.expect_problem(404, "outside-jurisdiction");
    post(
        &app,
        &admin,
        "/api/registry/households",
        Some(&json!({"id": "H-X", "address_id": "A-NONE"})),
    )
    .expect_problem(422, "validation-failed");
    post(
        &app,
        &admin,
        "/api/registry/people",
        Some(&json!({"household_id": "H-X", "name": "无名"})),
    )
    .expect_problem(422, "validation-failed");
    post(&app, &admin, "/api/registry/search", Some(&json!({})))
        .expect_problem(422, "validation-failed");
    app.public()
        .post_json("/api/registry/search", &json!({"id_number": ID_NUMBER}))
        .expect_problem(401, "unauthorized");
}

/// RFC 3339 of `minutes_ago` before now.
fn ago(minutes_ago: i64) -> String {
    let ms = onegrid_tests::now_seconds() * 1000 - minutes_ago * 60_000;
    onegrid::time::rfc3339(ms)
}

#[test]
fn a_visit_synced_twice_lands_once_with_its_findings_on_the_lists_and_its_case_opened() {
    let app = spawn_app();
    let mut cells = plain_cells();
    let (lat0, lng0, cell0) = cells.next().expect("a cell");
    let (_, _, cell1) = cells.next().expect("a second cell");
    let worker = staff(&app, "grid_worker", json!({"cells": [cell0]}));
    let other_worker = staff(&app, "grid_worker", json!({"cells": [cell1]}));
    let admin = format!("Bearer {}", app.admin_token());
    let operator = format!("Bearer {}", app.operator_token());
    post(
        &app,
        &admin,
        "/api/registry/addresses",
        Some(&json!(
            {"id": "A-V-1", "road": "嘉禾路 9 号", "room": "101", "lat": lat0, "lng": lng0}
        )),
    )
    .expect_status(200);
    post(
        &app,
        &admin,
        "/api/registry/households",
        Some(&json!({"id": "H-V-1", "address_id": "A-V-1"})),
    )
    .expect_status(200);
    let categories = app.get("/api/categories");
    let category = categories.body[0]["code"]
        .as_str()
        .expect("a category")
        .to_owned();

    let visit = json!({
        "key": "device-1-visit-0001", "household_id": "H-V-1", "kind": "targeted",
        "started_at": ago(120), "ended_at": ago(30),
        "notes": "独居老人，电话13800138000，腿脚不便",
        "findings": [
            {"list": "needs", "title": "楼道装扶手"},
            {"list": "concerns", "title": "楼上漏水，邻里有矛盾", "detail": "已两次协商未果"},
        ],
        "case": {"category": category, "description": "楼道灯坏了，晚上老人看不见路"},
    });
    let first = post(&app, &worker, "/api/registry/visits", Some(&visit));
    first.expect_status(201);
    assert_eq!(first.body["minutes"], 90, "{}", first.text);
    assert_eq!(first.body["grid_code"], cell0.as_str());
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(2));
    assert!(
        !first.text.contains("0013"),
        "notes are masked: {}",
        first.text
    );
    let case_id = first.body["case_id"]
        .as_str()
        .expect("the case finding opened a case")
        .to_owned();
    // The phone comes back online and sends the same visit again: nothing doubles.
    let again = post(&app, &worker, "/api/registry/visits", Some(&visit));
    again.expect_status(200);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body["case_id"], case_id.as_str());
    let items = get(&app, &worker, &format!("/api/registry/cells/{cell0}/items"));
    items.expect_status(200);
    assert_eq!(
        items.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        items.text
    );
    let cases = get(&app, &operator, &format!("/api/cases/{case_id}"));
    cases.expect_status(200);
    assert_eq!(cases.body["case"]["channel"], "patrol", "{}", cases.text);
    assert_eq!(cases.body["case"]["grid_code"], cell0.as_str());

    // The two-hour day: 90 minutes, then 40 more.
    let day = get(&app, &worker, "/api/registry/workers/me/day");
    assert_eq!(
        (
            day.body["minutes"].as_i64(),
            day.body["met_target"].as_bool()
        ),
        (Some(90), Some(false)),
        "{}",
        day.text
    );
    post(
        &app,
        &worker,
        "/api/registry/visits",
        Some(&json!({
            "key": "device-1-visit-0002", "grid_code": cell0, "kind": "routine",
            "started_at": ago(25), "ended_at": ago(-15),
        })),
    )
    .expect_problem(422, "validation-failed");
    post(
        &app,
        &worker,
        "/api/registry/visits",
        Some(&json!({
            "key": "device-1-visit-0002", "grid_code": cell0, "kind": "routine",
            "started_at": ago(70), "ended_at": ago(30),
        })),
    )
    .expect_status(201);
    let day = get(&app, &worker, "/api/registry/workers/me/day");
    assert_eq!(
        (
            day.body["minutes"].as_i64(),
            day.body["visits"].as_i64(),
            day.body["met_target"].as_bool()
        ),
        (Some(130), Some(2), Some(true)),
        "{}",
        day.text
    );

    // Needs met, by whom; the cell's view shows what is still open and the latest visits.
    let need = items.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["list"] == "needs")
        .expect("the need")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let met = send_as(
        &app,
        &worker,
        "PATCH",
        &format!("/api/registry/items/{need}"),
        Some(&json!({"state": "met"})),
    );
    met.expect_status(200);
    assert_eq!(met.body["state"], "met");
    assert!(
        met.body["met_by"].as_str().is_some_and(|s| !s.is_empty()),
        "{}",
        met.text
    );
    send_as(
        &app,
        &other_worker,
        "PATCH",
        &format!("/api/registry/items/{need}"),
        Some(&json!({"state": "open"})),
    )
    .expect_problem(404, "not-found");
    let view = get(&app, &worker, &format!("/api/registry/cells/{cell0}"));
    view.expect_status(200);
    let unmet: Vec<&str> = view.body["unmet_items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["list"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(unmet, ["concerns"], "{}", view.text);
    assert_eq!(view.body["recent_visits"].as_array().map(Vec::len), Some(2));
    let added = post(
        &app,
        &operator,
        &format!("/api/registry/cells/{cell0}/items"),
        Some(&json!(
            {"list": "resources", "title": "退休律师林老师，可调解邻里纠纷", "household_id": "H-V-1"}
        )),
    );
    added.expect_status(201);
    let resources = get(
        &app,
        &worker,
        &format!("/api/registry/cells/{cell0}/items?list=resources&state=open"),
    );
    assert_eq!(
        resources.body["items"][0]["id"], added.body["id"],
        "{}",
        resources.text
    );

    // Only a grid worker visits, and only in their own cells; bad times and kinds are named.
    post(
        &app,
        &other_worker,
        "/api/registry/visits",
        Some(&json!({
            "key": "device-2-visit-0001", "household_id": "H-V-1", "kind": "routine",
            "started_at": ago(60), "ended_at": ago(30),
        })),
    )
    .expect_problem(403, "forbidden");
    post(&app, &operator, "/api/registry/visits", Some(&visit)).expect_problem(403, "forbidden");
    let bad = post(
        &app,
        &worker,
        "/api/registry/visits",
        Some(&json!({
            "key": "device-1-visit-0003", "household_id": "H-V-1", "kind": "chat",
            "started_at": ago(30), "ended_at": ago(60),
            "findings": [{"list": "wishes", "title": ""}],
        })),
    );
    bad.expect_problem(422, "validation-failed");
    assert_eq!(
        bad.error_fields(),
        vec!["kind", "ended_at", "findings[0].list", "findings[0].title"],
        "{}",
        bad.text
    );
}

/// `onegrid import demo-registry`, the way a newcomer loads the demo city's residents: into a
/// data directory, once, then served by the host. A native host's command, so it runs there.
#[test]
fn the_demo_registry_loads_once_into_a_data_directory_and_its_residents_are_found() {
    if onegrid_tests::Runtime::from_env().is_spin() {
        eprintln!("skipped: `onegrid import demo-registry` is the native host's command");
        return;
    }
    let data = std::env::temp_dir().join(format!("onegrid-demo-registry-{}", random_hex(8)));
    let import = || {
        std::process::Command::new(onegrid_tests::host_binary())
            .args(["import", "demo-registry", "--residents", "20000", "--data"])
            .arg(&data)
            .env("RUST_LOG", "warn")
            .output()
            .expect("running onegrid import demo-registry")
    };
    let first = import();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout.contains("20000 residents"), "{stdout}");
    let second = import();
    assert!(
        !second.status.success(),
        "a second load would mix two registries"
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("already"));

    let (operator, admin) = (random_hex(16), random_hex(16));
    let app = onegrid_tests::spawn_app_at(&data, &operator, &admin, &[]);
    let auth = format!("Bearer {operator}");
    let (_, _, cell) = plain_cells().next().expect("a cell");
    let found = post(
        &app,
        &auth,
        "/api/registry/search",
        Some(&json!({"name": "陈", "area": &cell[..9]})),
    );
    found.expect_status(200);
    let first_found = &found.body["people"][0];
    assert!(
        first_found["name"]
            .as_str()
            .is_some_and(|n| n.starts_with('陈') && n.contains('*')),
        "{}",
        found.text
    );
    // Its ID number, sealed by the import under this directory's key, opens for the host.
    let id = first_found["id"].as_str().expect("an id");
    let whole = get(
        &app,
        &auth,
        &format!("/api/registry/people/{id}?reveal=id_number"),
    );
    whole.expect_status(200);
    let number = whole.body["id_number"]
        .as_str()
        .expect("a number")
        .to_owned();
    assert_eq!(number.len(), 18, "{}", whole.text);
    let by_number = post(
        &app,
        &auth,
        "/api/registry/search",
        Some(&json!({"id_number": number})),
    );
    assert_eq!(by_number.body["people"][0]["id"], id, "{}", by_number.text);
    let view = get(&app, &auth, &format!("/api/registry/cells/{cell}"));
    assert!(
        view.body["residents"].as_i64().is_some_and(|n| n >= 4),
        "{}",
        view.text
    );
    drop(app);
    let _ = std::fs::remove_dir_all(&data);
}

fn upload(
    app: &TestApp,
    auth: &str,
    entity: &str,
    content_type: &str,
    body: Vec<u8>,
) -> onegrid_tests::Reply {
    app.public().send(
        "POST",
        &format!("/api/registry/import/{entity}"),
        &[("authorization", auth), ("content-type", content_type)],
        body,
    )
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[test]
fn an_office_imports_its_spreadsheets_row_errors_named_and_nothing_half_stored() {
    let app = spawn_app();
    let admin = format!("Bearer {}", app.admin_token());
    let (lat, lng, cell) = plain_cells().next().expect("a cell");

    // The template, as Excel opens it.
    let template = get(&app, &admin, "/api/registry/templates/people.csv");
    template.expect_status(200);
    assert!(template.text.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(
        template.text.contains("姓名,与户主关系,出生年份,证件号码"),
        "{}",
        template.text
    );

    let addresses = format!(
        "\u{feff}地址编码,道路门牌,楼栋,单元,房号,纬度,经度\r\nA-X-1,嘉禾路 1 号,1号楼,1单元,101,{lat},{lng}\r\nA-X-2,嘉禾路 1 号,1号楼,1单元,102,{lat},{lng}\r\n"
    );
    let stored = upload(
        &app,
        &admin,
        "addresses",
        "text/csv",
        addresses.clone().into_bytes(),
    );
    stored.expect_status(200);
    assert_eq!(stored.body["rows"], 2, "{}", stored.text);
    assert_eq!(stored.body["result"][0]["grid_code"], cell.as_str());
    upload(
        &app,
        &admin,
        "households",
        "text/csv; charset=utf-8",
        "户编码,地址编码\nH-X-1,A-X-1\nH-X-2,A-X-2\n".into(),
    )
    .expect_status(200);

    // Row errors by row number and header, nothing stored.
    let people = "人员编码,户编码,姓名,出生年份,证件号码,联系电话,标签\n\
        P-X-1,H-X-1,陈志强,1949,11010519491231002X,13800138000,独居、高龄老人\n\
        P-X-2,H-X-1,林芳,一九五零,110105194912310021,,\n\
        P-X-3,H-X-2,王明,1980,,,孕妇\n";
    let bad = upload(&app, &admin, "people", "text/csv", people.into());
    bad.expect_problem(422, "validation-failed");
    assert_eq!(
        bad.error_fields(),
        vec!["row 3: 出生年份", "row 4: 标签"],
        "{}",
        bad.text
    );
    let fixed = people.replace("一九五零", "1950");
    let still_bad = upload(
        &app,
        &admin,
        "people",
        "text/csv",
        fixed.replace(",孕妇", ",").into(),
    );
    still_bad.expect_problem(422, "validation-failed");
    assert_eq!(
        still_bad.error_fields(),
        vec!["row 3: 证件号码"],
        "{}",
        still_bad.text
    );
    assert!(
        !still_bad.text.contains("0021"),
        "a refused number is not echoed back: {}",
        still_bad.text
    );
    let nothing = post(
        &app,
        &admin,
        "/api/registry/search",
        Some(&json!({"name": "陈", "area": &cell[..9]})),
    );
    assert_eq!(
        nothing.body["people"],
        json!([]),
        "nothing half-imported: {}",
        nothing.text
    );
    let header = upload(
        &app,
        &admin,
        "people",
        "text/csv",
        "户编码,名字\nH-X-1,陈\n".into(),
    );
    header.expect_problem(422, "validation-failed");
    assert_eq!(
        header.error_fields(),
        vec!["row 1: 名字", "row 1: 姓名"],
        "{}",
        header.text
    );

    // The corrected file, then the same people again from an .xlsx export: merged, not doubled.
    let good = fixed
        .replace(",孕妇", ",")
        .replace("110105194912310021", "");
    let imported = upload(&app, &admin, "people", "text/csv", good.into());
    imported.expect_status(200);
    assert_eq!(imported.body["rows"], 3, "{}", imported.text);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["户编码", "姓名", "证件号码", "出生年份", "标签"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).expect("a header");
    }
    sheet.write_string(1, 0, "H-X-1").expect("a cell");
    sheet.write_string(1, 1, "陈志强").expect("a cell");
    sheet
        .write_string(1, 2, "11010519491231002X")
        .expect("a cell");
    sheet.write_number(1, 3, 1949.0).expect("a cell");
    sheet.write_string(1, 4, "living_alone").expect("a cell");
    let bytes = book.save_to_buffer().expect("an .xlsx");
    let from_excel = upload(&app, &admin, "people", XLSX, bytes);
    from_excel.expect_status(200);
    assert_eq!(
        from_excel.body["result"][0]["id"], "P-X-1",
        "{}",
        from_excel.text
    );
    assert_eq!(from_excel.body["result"][0]["outcome"], "updated");
    let view = get(&app, &admin, &format!("/api/registry/cells/{cell}"));
    assert_eq!(view.body["residents"], 3, "{}", view.text);
    assert_eq!(
        view.body["tags"],
        json!({"living_alone": 1}),
        "{}",
        view.text
    );

    upload(&app, &admin, "people", "application/json", b"[]".to_vec())
        .expect_problem(415, "unsupported-media-type");
    upload(&app, &admin, "people", XLSX, b"not a zip".to_vec()).expect_problem(400, "bad-request");
    upload(&app, &admin, "pets", "text/csv", b"a\n".to_vec()).expect_problem(404, "not-found");
    get(&app, &admin, "/api/registry/templates/pets.csv").expect_problem(404, "not-found");
}
