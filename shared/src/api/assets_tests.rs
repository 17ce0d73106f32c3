//! The asset registry and its QR signs through the handlers, on the small test city: a
//! registration finds the cell, the public view lists what can be reported, and the codes
//! decode back to the URL of the sign, read as a phone would read them.

use serde_json::{Value as Json, json};

use super::testkit::{IN_CELL_1, IN_CELL_2, call, call_json, city, request};
use crate::ApiRequest;
use crate::native::testenv::{ADMIN_TOKEN, TestEnv};

fn register(env: &TestEnv, body: Json) -> (u16, Json) {
    call_json(
        env,
        request("POST", "/api/admin/assets", Some(ADMIN_TOKEN), Some(body)),
    )
}

fn marker(id: &str, at: (f64, f64)) -> Json {
    json!({"id": id, "kind": "greenway_marker", "name": "绿道标识 A", "lat": at.0, "lng": at.1, "department": "gardens"})
}

fn get(path: &str) -> ApiRequest {
    let mut req = ApiRequest::new("GET", path);
    // A developer's machine: without `public_base_url` only a loopback Host lends its name.
    req.headers.push(("host".into(), "127.0.0.1:3000".into()));
    req
}

/// Reads a QR code back from the SVG the renderer drew (a `<rect>` background and one path of
/// dark rectangles `M{left} {top}h{w}v{h}H{left}V{top}`), rasterised pixel for pixel, as a
/// phone's camera would see the printed sign.
fn decode(svg: &str) -> String {
    let attr = |name: &str| -> usize {
        let at = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[at..].split('"').next().unwrap().parse().unwrap()
    };
    let (w, h) = (attr("width"), attr("height"));
    let mut luma = vec![255u8; w * h];
    let d_at = svg.find(" d=\"").unwrap() + 4;
    let d = svg[d_at..].split('"').next().unwrap();
    for rect in d.split('M').filter(|r| !r.is_empty()) {
        let nums: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect();
        let (left, top, rw, rh) = (nums[0], nums[1], nums[2], nums[3]);
        for y in top..top + rh {
            luma[y * w + left..y * w + left + rw].fill(0);
        }
    }
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one code in the image");
    grids[0].decode().expect("the code decodes").1
}

#[test]
fn registration_computes_the_cell_and_the_public_view_lists_fitting_categories() {
    let env = city();
    let (status, body) = register(
        &env,
        json!([marker("GW-000001", IN_CELL_1), {"id": "SL-000001", "kind": "streetlight", "name": "路灯 1",
               "lat": IN_CELL_2.0, "lng": IN_CELL_2.1, "department": "municipal"}]),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["registered"], 2);
    assert_eq!(body["assets"][0]["grid_code"], "350203001001001");
    assert_eq!(body["assets"][1]["grid_code"], "350203002001001");

    let (status, view) = call_json(&env, get("/api/assets/GW-000001"));
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["kind"], "greenway_marker");
    assert_eq!(view["department"]["code"], "gardens");
    let chain: Vec<&str> = view["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        chain,
        ["350203", "350203001", "350203001001", "350203001001001"]
    );
    // Of the test city's categories only the greenway sign fits a marker.
    assert_eq!(
        view["categories"],
        json!([{"code": "landscape.greenway_sign",
        "name_zh": "landscape.greenway_sign zh", "name_en": "landscape.greenway_sign en"}])
    );

    // Registering a known id again updates it, and moves it to its new cell.
    let (status, body) = register(&env, marker("GW-000001", IN_CELL_2));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["assets"][0]["grid_code"], "350203002001001");
}

#[test]
fn an_asset_outside_every_cell_is_refused_with_outside_jurisdiction_and_nothing_is_stored() {
    let env = city();
    let (status, body) = register(
        &env,
        json!([
            marker("GW-000001", IN_CELL_1),
            marker("GW-000002", (24.9, 118.9))
        ]),
    );
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["type"], "/problems/outside-jurisdiction");
    assert_eq!(body["assets"], json!(["GW-000002"]));
    let (status, _) = call_json(&env, get("/api/assets/GW-000001"));
    assert_eq!(status, 404);

    let (status, body) = register(
        &env,
        json!({"id": "gw-1", "kind": "tree", "name": "", "lat": 91.0, "lng": 118.0, "department": "nobody"}),
    );
    assert_eq!(
        (status, body["type"].as_str()),
        (422, Some("/problems/validation-failed"))
    );
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["id", "kind", "name", "lat"]);
    let (status, _) = call_json(
        &env,
        request(
            "POST",
            "/api/admin/assets",
            None,
            Some(marker("GW-000003", IN_CELL_1)),
        ),
    );
    assert_eq!(status, 401);
}

#[test]
fn the_qr_code_decodes_back_to_the_url_of_the_sign() {
    let mut env = city();
    assert_eq!(register(&env, marker("GW-000123", IN_CELL_1)).0, 201);
    let resp = call(&env, get("/api/assets/GW-000123/qr.svg"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("image/svg+xml"));
    let url = resp.header("x-qr-url").unwrap().to_owned();
    assert_eq!(url, "http://127.0.0.1:3000/q/GW-000123");
    let svg = String::from_utf8(resp.body).unwrap();
    assert_eq!(decode(&svg), url);

    // Any other Host names where the code would point: refused until the city configures it.
    let mut elsewhere = ApiRequest::new("GET", "/api/assets/GW-000123/qr.svg");
    elsewhere
        .headers
        .push(("host".into(), "evil.example".into()));
    assert_eq!(call(&env, elsewhere.clone()).status, 503);

    env.variables.insert(
        "public_base_url".into(),
        "https://grid.example.city/".into(),
    );
    assert_eq!(
        call(&env, elsewhere).header("x-qr-url"),
        Some("https://grid.example.city/q/GW-000123"),
        "the configured base, whatever the Host"
    );
    let resp = call(&env, get("/api/assets/GW-000123/qr.svg"));
    assert_eq!(
        resp.header("x-qr-url"),
        Some("https://grid.example.city/q/GW-000123")
    );
    assert_eq!(call(&env, get("/api/assets/GW-999999/qr.svg")).status, 404);
}

#[test]
fn a_scan_lands_on_the_report_page_bound_to_the_asset() {
    let env = city();
    assert_eq!(register(&env, marker("GW-000001", IN_CELL_1)).0, 201);
    let resp = call(&env, get("/q/GW-000001"));
    assert_eq!(resp.status, 302);
    assert_eq!(
        resp.header("location"),
        Some("/?asset=GW-000001&category=landscape.greenway_sign&lat=24.4505000&lng=118.0805000")
    );
    let resp = call(&env, get("/q/GW-404404"));
    assert_eq!(resp.status, 404);
    assert!(String::from_utf8(resp.body).unwrap().contains("href=\"/\""));
}

#[test]
fn the_sheet_of_an_area_holds_every_asset_of_it_and_no_other() {
    let env = city();
    let mut list: Vec<Json> = (1..=14)
        .map(|i| {
            marker(
                &format!("GW-{i:06}"),
                (IN_CELL_1.0 + i as f64 * 1e-4, IN_CELL_1.1),
            )
        })
        .collect();
    list.push(marker("GW-000999", IN_CELL_2));
    assert_eq!(register(&env, Json::Array(list)).0, 201);

    let resp = call(&env, get("/api/assets/sheet.svg?area=350203001"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-pages"), Some("2"));
    let svg = String::from_utf8(resp.body).unwrap();
    for i in 1..=14 {
        assert!(svg.contains(&format!(">GW-{i:06}</text>")), "GW-{i:06}");
    }
    assert!(!svg.contains("GW-000999"));
    assert_eq!(svg.matches("class=\"page\"").count(), 2);
    assert_eq!(svg.matches("class=\"sign\"").count(), 14);
    assert!(svg.contains("绿道标识 A · 350203001001001"));

    let resp = call(&env, get("/api/assets/sheet.svg?area=350203001&page=2"));
    let page: String = String::from_utf8(resp.body).unwrap();
    assert_eq!(page.matches("class=\"sign\"").count(), 2);
    assert!(page.contains(">GW-000014</text>") && !page.contains(">GW-000001</text>"));

    let (status, _) = call_json(&env, get("/api/assets/sheet.svg?area=350203"));
    assert_eq!(status, 422);
    let (status, listed) = call_json(&env, get("/api/assets?area=350203002001"));
    assert_eq!(
        (status, listed["count"].as_i64()),
        (200, Some(1)),
        "{listed}"
    );
    assert_eq!(listed["assets"][0]["asset"]["id"], "GW-000999");
}

#[test]
fn the_demo_city_registers_a_marker_in_every_tenth_cell_inside_it() {
    let map = crate::demo::city(1);
    let signs = crate::demo::assets(&map);
    let cells = crate::demo::CELLS;
    assert_eq!(signs.len(), cells.div_ceil(10) + (cells - 5).div_ceil(10));
    assert_eq!(signs, crate::demo::assets(&crate::demo::city(1)));
    let env = TestEnv::new();
    futures::executor::block_on(crate::demo::seed(&env, 1, |_| "demo-password".into())).unwrap();
    for sign in signs.iter().step_by(37) {
        let point = crate::grid::code::Wgs84Point {
            lat: sign.lat,
            lng: sign.lng,
        };
        let found = futures::executor::block_on(crate::grid::locate(&env, point))
            .unwrap()
            .unwrap();
        assert_eq!(found.cell.code, sign.grid_code, "{}", sign.id);
    }
    let (status, view) = call_json(&env, get("/api/assets/GW-000001"));
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["categories"][0]["code"], "landscape.greenway_sign");
}
