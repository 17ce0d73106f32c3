//! The publication rule (docs/publication.md), tested the way a scraper would meet it: a
//! crawler with no capability walks every public GET route of the route tables (the ones
//! spin.toml sends to the components), follows every link and id it finds, and checks each
//! answer. Planted beforehand: a public web report full of personal data, a private one, a
//! hotline work order, a dispute marked public, and an Open311 request. No answer may show
//! a tracking code, a case's internal id, an exact point, anything of the private cases, or
//! personal data whole; the public cases must be there, under their public ids.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use base64::Engine;
use onegrid::api::routes::{Access, every_route};
use onegrid::http::routes::{Method, matches};
use onegrid_tests::serde_json::{Value, json};
use onegrid_tests::{
    FakeDepartment, PNG_1X1, Reply, TestApp, hotline_key, nth_plain_cell, random_hex, spawn_app,
};

/// Personal data planted in the public report and the Open311 request: none of it may leave.
const PERSONAL: &[&str] = &["0013", "志强", "900101", "林芳", "5550", "Ada", "ada@"];
/// Words only the private cases carry: none of it may appear on the public side.
const PRIVATE_MARKERS: &[&str] = &["私密井盖", "热线来电反映", "邻里纠纷噪音"];

/// A point of the `n`-th plain cell, moved by a few metres so that its exact figures appear in
/// no map answer: if they show up, a case's exact point leaked.
fn odd_point(n: usize) -> (f64, f64) {
    let (lat, lng, _) = nth_plain_cell(n);
    (lat + 0.000_012_3, lng - 0.000_014_7)
}

struct Planted {
    /// Every tracking code and case id handed out: capabilities and internal ids.
    never_public: Vec<String>,
    exact_points: Vec<String>,
    public_web: Value,
    /// The photo staff approve, and the one they do not.
    approved_photo: String,
    other_photo: String,
}

fn plant(app: &TestApp) -> Planted {
    let mut never_public = Vec::new();
    let mut exact_points = Vec::new();
    let photo = base64::engine::general_purpose::STANDARD.encode(PNG_1X1);
    let mut file = |n: usize, body: Value| -> Value {
        let (lat, lng) = odd_point(n);
        exact_points.extend([lat.to_string(), lng.to_string()]);
        let mut body = body;
        body["lat"] = json!(lat);
        body["lng"] = json!(lng);
        let reply = app.post_json("/api/reports", &body);
        reply.expect_status(201);
        for key in ["tracking_code", "id", "secret"] {
            never_public.push(reply.body[key].as_str().expect(key).to_owned());
        }
        reply.body
    };
    let public_web = file(
        0,
        json!({
            "category": "landscape.greenway_sign", "public": true, "crs": "wgs84",
            "description": "我叫陈志强，手机１３８００１３８０００；身份证350203900101123，绿道指示牌倒了。",
            "address": "莲前西路 王小明家门口 电话138.0013.8000",
            "contact_name": "陈志强", "contact_phone": "13800138000",
            "photos": [{"data": photo, "caption": "姓名：林芳 拍的"}, {"data": photo, "caption": "第二张"}],
        }),
    );
    file(
        1,
        json!({"category": "landscape.greenway_sign", "crs": "wgs84",
               "description": "私密井盖：没有选择公开的报告，不能出现在公开列表里。"}),
    );
    file(
        2,
        json!({"category": "dispute.neighbourhood", "public": true, "crs": "wgs84",
               "description": "邻里纠纷噪音：楼上每晚装修，双方争吵。"}),
    );

    // A hotline work order (its callers were never asked) and an Open311 client's request.
    let key = hotline_key(app, &FakeDepartment::start(200));
    let (lat, lng) = odd_point(3);
    exact_points.extend([format!("{lat:.7}"), format!("{lng:.7}")]);
    let order = json!({
        "workOrderNo": "GD-PUB-1", "eventId": "1", "orderStatus": "transferred",
        "statusTime": "2026-11-14 14:10:00", "matterCode": "0301", "title": "绿道指示牌损坏",
        "content": "热线来电反映：指示牌倒在路上。", "address": "集美区月美路 张三家",
        "location": {"lat": format!("{lat:.7}"), "lng": format!("{lng:.7}"), "coordType": "wgs84"},
        "remark": ""
    });
    let pushed = app.public().send(
        "POST",
        "/api/ingest/12345",
        &[
            ("authorization", &format!("Bearer {key}")),
            ("content-type", "application/json"),
        ],
        order.to_string().into_bytes(),
    );
    pushed.expect_status(201);
    never_public.push(pushed.body["case_id"].as_str().expect("a case").to_owned());

    let key = app.admin().post_json(
        "/api/admin/keys",
        &json!({"name": "street app", "actions": ["open311.submit"]}),
    );
    key.expect_status(201);
    let key = key.body["key"].as_str().expect("a key").to_owned();
    let (lat, lng) = odd_point(4);
    exact_points.extend([lat.to_string(), lng.to_string()]);
    let form = format!(
        "api_key={key}&service_code=landscape.greenway_sign&lat={lat}&long={lng}\
         &description=Sign%20down%2C%20call%20me%20on%20555%200199&first_name=Ada&last_name=Lovelace\
         &email=ada%40example.org&phone=5550199&address_string=12%20Elm%20Street"
    );
    let posted = app.post_raw(
        "/open311/v2/requests.json",
        &[("content-type", "application/x-www-form-urlencoded")],
        form,
    );
    posted.expect_status(201);
    assert!(
        onegrid::case::report::PublicId::parse(
            posted.body[0]["service_request_id"].as_str().unwrap_or("")
        )
        .is_some(),
        "an Open311 client gets the public id: {}",
        posted.text
    );

    // Staff approve one of the two photos of the public report.
    let id = public_web["id"].as_str().expect("an id");
    let case = app.operator().get(&format!("/api/cases/{id}"));
    case.expect_status(200);
    let photos: Vec<String> = case.body["events"][0]["details"]["photos"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let photos = if photos.len() == 2 {
        photos
    } else {
        // The reporter's photos, as the tracking view lists them.
        let code = public_web["tracking_code"].as_str().expect("a code");
        let view = app.get(&format!("/api/reports/{code}"));
        view.body["photos"]
            .as_array()
            .expect("photos")
            .iter()
            .map(|p| p["id"].as_str().expect("an id").to_owned())
            .collect()
    };
    assert_eq!(photos.len(), 2, "{}", case.text);
    let set = app.operator().put_json(
        &format!("/api/cases/{id}/publication"),
        &json!({"public": true, "photos": [photos[0]]}),
    );
    set.expect_status(200);
    assert_eq!(set.body["publication"]["photos"], json!([photos[0]]));
    Planted {
        never_public,
        exact_points,
        public_web,
        approved_photo: photos[0].clone(),
        other_photo: photos[1].clone(),
    }
}

/// The routes anyone may call with GET: the crawler's whole field.
fn public_get_routes() -> Vec<&'static str> {
    every_route()
        .into_iter()
        .filter(|r| r.method == Method::Get)
        .filter(|r| {
            matches!(
                r.access,
                Access::PublicRateLimited | Access::PublicOrStaff(_) | Access::Reporter
            )
        })
        .map(|r| r.path)
        .collect()
}

/// The public GET route a path is served by.
fn route_of(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    public_get_routes()
        .into_iter()
        .find(|r| matches(r, path).is_some())
}

/// Links (`/api/…`, `/open311/…`, `/q/…`) and values by key, from a JSON or XML answer.
fn harvest(
    reply: &Reply,
    links: &mut Vec<String>,
    values: &mut BTreeMap<String, BTreeSet<String>>,
) {
    fn walk(
        v: &Value,
        key: Option<&str>,
        links: &mut Vec<String>,
        values: &mut BTreeMap<String, BTreeSet<String>>,
    ) {
        match v {
            Value::Object(map) => map
                .iter()
                .for_each(|(k, v)| walk(v, Some(k), links, values)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, key, links, values)),
            Value::String(s) => {
                if ["/api/", "/open311/", "/q/"]
                    .iter()
                    .any(|p| s.starts_with(p))
                {
                    links.push(s.clone());
                }
                if let Some(k) = key {
                    values.entry(k.to_owned()).or_default().insert(s.clone());
                }
            }
            _ => {}
        }
    }
    walk(&reply.body, None, links, values);
    // XML: <key>value</key>, for the keys the routes take.
    for key in ["service_code", "service_request_id", "media_url"] {
        let open = format!("<{key}>");
        let close = format!("</{key}>");
        let mut rest = reply.text.as_str();
        while let Some(start) = rest.find(&open) {
            rest = &rest[start + open.len()..];
            if let Some(end) = rest.find(&close) {
                values
                    .entry(key.to_owned())
                    .or_default()
                    .insert(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
}

/// Path parameters from what the crawl found: each route's `{name}` from the values of the
/// answers' keys of that name (and a few aliases), `{format}` both ways.
fn candidates(name: &str, values: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let keys: &[&str] = match name {
        "format" => return vec!["json".into(), "xml".into()],
        // Capabilities the crawler does not have: well-formed guesses only.
        "tracking_code" => return vec!["K7QM-4XPT".into()],
        "token" => return vec![random_hex(16)],
        "asset_id" | "id" => &["id", "asset_id"],
        // Grid codes: the widest areas and the finest cells (a cell's workers need a cell).
        "code" => {
            let mut codes: Vec<String> = values
                .get("code")
                .into_iter()
                .flatten()
                .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
                .cloned()
                .collect();
            codes.sort_by_key(String::len);
            let finest = codes.iter().rev().take(2).cloned().collect::<Vec<_>>();
            return codes.iter().take(2).cloned().chain(finest).collect();
        }
        other => {
            return values
                .get(other)
                .map(|v| v.iter().take(4).cloned().collect())
                .unwrap_or_default();
        }
    };
    keys.iter()
        .filter_map(|k| values.get(*k))
        .flat_map(|v| v.iter().take(4).cloned())
        .collect()
}

/// Every way the crawl can fill a route's parameters now.
fn instances(
    route: &str,
    values: &BTreeMap<String, BTreeSet<String>>,
    (lat, lng, cell): (f64, f64, &str),
) -> Vec<String> {
    let mut paths = vec![String::new()];
    let mut rest = route;
    while let Some(start) = rest.find('{') {
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .expect("a closed parameter");
        let name = &rest[start + 1..end];
        let options = candidates(name, values);
        paths = paths
            .iter()
            .flat_map(|p| {
                options
                    .iter()
                    .map(move |o| format!("{p}{}{o}", &rest[..start]))
            })
            .collect();
        rest = &rest[end + 1..];
    }
    let query = match route {
        "/api/grid/lookup" | "/api/public/reports" => format!("?lat={lat}&lng={lng}&crs=wgs84"),
        // The assets of the crawler's community (a cell's first twelve digits).
        "/api/assets" | "/api/assets/sheet.svg" => format!("?area={}", &cell[..12]),
        _ => String::new(),
    };
    paths
        .into_iter()
        .map(|p| format!("{p}{rest}{query}"))
        .collect()
}

fn check(path: &str, reply: &Reply, planted: &Planted) {
    let text = &reply.text;
    for secret in PERSONAL.iter().chain(PRIVATE_MARKERS) {
        assert!(!text.contains(secret), "{path} shows {secret:?}: {text}");
    }
    for capability in &planted.never_public {
        assert!(
            !text.contains(capability.as_str()),
            "{path} shows a tracking code, a secret or a case id ({capability}): {text}"
        );
    }
    for exact in &planted.exact_points {
        assert!(
            !text.contains(exact.as_str()),
            "{path} shows an exact point ({exact}): {text}"
        );
    }
    // The API's own description names every field; it holds no data.
    let document = path.starts_with("/api/openapi.json");
    for key in [
        "contact_name",
        "contact_phone",
        "tracking_code",
        "secret",
        "address_string",
    ]
    .iter()
    .filter(|_| !document)
    {
        assert!(
            !text.contains(&format!("\"{key}\"")),
            "{path} has a field {key}: {text}"
        );
    }
    assert!(
        reply.status < 500,
        "{path} answered {}: {text}",
        reply.status
    );
    assert_ne!(
        reply.status, 429,
        "{path}: the crawl must stay inside the limits"
    );
}

#[test]
fn a_crawler_without_capabilities_finds_only_what_the_publication_rule_allows_on_every_public_route()
 {
    let app = spawn_app();
    let planted = plant(&app);
    // The crawler asks near the public report's cell centre, a few metres from its point: the
    // lookup echoes what it was asked, never the report's figures.
    let (lat, lng, cell) = nth_plain_cell(0);
    let near = (lat, lng, cell.as_str());
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut answered: BTreeMap<&'static str, BTreeSet<u16>> = BTreeMap::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    let routes = public_get_routes();
    // Rounds: each fills the parameters the previous answers named. At most 4 paths a route,
    // which keeps every route inside its rate limit (the lowest, the QR sheet's, is 5).
    for _round in 0..4 {
        for route in &routes {
            for path in instances(route, &values, near) {
                let per_route = seen.iter().filter(|p| route_of(p) == Some(route)).count();
                if per_route < 4 && !seen.contains(&path) {
                    seen.insert(path.clone());
                    queue.push_back(path);
                }
            }
        }
        while let Some(path) = queue.pop_front() {
            let Some(route) = route_of(&path) else {
                continue;
            };
            let reply = app.get(&path);
            check(&path, &reply, &planted);
            answered.entry(route).or_default().insert(reply.status);
            let mut links = Vec::new();
            harvest(&reply, &mut links, &mut values);
            for link in links {
                let per_route = seen
                    .iter()
                    .filter(|p| route_of(p) == route_of(&link))
                    .count();
                if route_of(&link).is_some() && per_route < 4 && seen.insert(link.clone()) {
                    queue.push_back(link);
                }
            }
        }
    }

    // Every public route was walked; every one but the capabilities' answered (2xx, 3xx) at least once.
    for route in &routes {
        let statuses = answered
            .get(route)
            .unwrap_or_else(|| panic!("the crawl never reached {route}"));
        let capability = route.contains("{tracking_code}") || route.contains("{token}");
        if capability {
            assert!(
                statuses.iter().all(|s| *s == 404),
                "{route} without the capability: {statuses:?}"
            );
        } else {
            // A QR sign's landing redirects to the report page.
            assert!(
                statuses.iter().any(|s| (200..400).contains(s)),
                "{route} never answered to the crawl: {statuses:?}"
            );
        }
    }

    // The public cases are there: the web report and the Open311 request, under public ids.
    let public_id = planted.public_web["public_id"]
        .as_str()
        .expect("a public id");
    let ids = values.get("public_id").cloned().unwrap_or_default();
    let request_ids = values
        .get("service_request_id")
        .cloned()
        .unwrap_or_default();
    assert!(
        ids.contains(public_id),
        "the near list shows the public report: {ids:?}"
    );
    assert!(
        request_ids.contains(public_id),
        "Open311 lists it: {request_ids:?}"
    );
    assert_eq!(
        request_ids.len(),
        2,
        "the web report and the Open311 request only: {request_ids:?}"
    );
    let approved = format!(
        "/api/public/reports/{public_id}/photos/{}",
        planted.approved_photo
    );
    assert!(
        seen.contains(&approved),
        "the approved photo was linked: {seen:?}"
    );
    let unapproved = app.get(&format!(
        "/api/public/reports/{public_id}/photos/{}",
        planted.other_photo
    ));
    unapproved.expect_status(404);
}

#[test]
fn an_operator_withdraws_a_public_report_and_the_trail_records_it() {
    let app = spawn_app();
    let (lat, lng) = odd_point(5);
    let filed = app.post_json(
        "/api/reports",
        &json!({"category": "landscape.greenway_sign", "public": true, "lat": lat, "lng": lng,
                "description": "绿道指示牌倒了，挡住了路。"}),
    );
    filed.expect_status(201);
    let id = filed.body["id"].as_str().expect("an id");
    let public_id = filed.body["public_id"].as_str().expect("a public id");
    app.get(&format!("/api/public/reports/{public_id}"))
        .expect_status(200);

    // Withdrawing needs a reason; then every public route forgets the case.
    let path = format!("/api/cases/{id}/publication");
    app.operator()
        .put_json(&path, &json!({"public": false}))
        .expect_problem(422, "validation-failed");
    app.public()
        .put_json(&path, &json!({"public": false, "reason": "x"}))
        .expect_status(401);
    let withdrawn = app.operator().put_json(
        &path,
        &json!({"public": false, "reason": "描述里有住户的门牌号"}),
    );
    withdrawn.expect_status(200);
    assert_eq!(withdrawn.body["publication"]["public"], false);
    app.get(&format!("/api/public/reports/{public_id}"))
        .expect_status(404);
    app.get(&format!("/open311/v2/requests/{public_id}.json"))
        .expect_status(404);
    let near = app.get(&format!("/api/public/reports?lat={lat}&lng={lng}"));
    near.expect_status(200);
    assert!(!near.text.contains(public_id), "{}", near.text);

    let case = app.operator().get(&format!("/api/cases/{id}"));
    let event = case.body["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["type"] == "publication"))
        .unwrap_or_else(|| panic!("the trail records the decision: {}", case.text));
    assert_eq!(event["details"]["from"]["public"], true);
    assert_eq!(event["details"]["to"]["public"], false);
    assert_eq!(case.body["publication"]["public"], false);
    assert_eq!(case.body["publication"]["publishable"], true);

    // The reporter's own page says so, and shows no staff decision in its timeline.
    let code = filed.body["tracking_code"].as_str().expect("a code");
    let view = app.get(&format!("/api/reports/{code}"));
    assert_eq!(view.body["public"], false, "{}", view.text);
    assert!(!view.text.contains("门牌号"), "{}", view.text);

    // Back on: the reporter chose publication, so an operator may restore it.
    app.operator()
        .put_json(&path, &json!({"public": true}))
        .expect_status(200);
    app.get(&format!("/api/public/reports/{public_id}"))
        .expect_status(200);
}

#[test]
fn a_report_its_reporter_kept_private_cannot_be_published_by_staff() {
    let app = spawn_app();
    let (lat, lng) = odd_point(6);
    let filed = app.post_json(
        "/api/reports",
        &json!({"category": "landscape.greenway_sign", "lat": lat, "lng": lng,
                "description": "绿道指示牌倒了，挡住了路。"}),
    );
    filed.expect_status(201);
    assert_eq!(filed.body["public"], false);
    assert!(filed.body["public_id"].is_null(), "{}", filed.text);
    let id = filed.body["id"].as_str().expect("an id");
    app.operator()
        .put_json(
            &format!("/api/cases/{id}/publication"),
            &json!({"public": true}),
        )
        .expect_problem(409, "conflict");
    // Nor can anyone guess it by its tracking code on the public side.
    let code = filed.body["tracking_code"].as_str().expect("a code");
    app.get(&format!("/open311/v2/requests/{code}.json"))
        .expect_status(404);
    app.get(&format!("/api/public/reports/{code}"))
        .expect_status(404);
}
