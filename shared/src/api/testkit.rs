//! What the interop tests share: requests routed to handlers the way Spin routes them (the
//! native router on the real spin.toml), a small city on TestEnv with the categories the
//! built-in platform mappings name, and signed callbacks.

use std::sync::OnceLock;

use futures::executor::block_on;
use serde_json::{Value as Json, json};

use crate::native::router::{Component, Manifest, Router};
use crate::native::testenv::{ADMIN_TOKEN, TestEnv};
use crate::{ApiRequest, ApiResponse, api, http::webhook};

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const HOUR: i64 = 3_600_000;
/// Inside the test map's first cell (street 350203001) and its second (street 350203002).
pub const IN_CELL_1: (f64, f64) = (24.4505, 118.0805);
pub const IN_CELL_2: (f64, f64) = (24.4505, 118.0905);

/// The `[[trigger.http]]` routes of spin.toml: (route, component).
pub fn spin_routes() -> Vec<(String, String)> {
    let manifest = Manifest::embedded().expect("spin.toml reads");
    let triggers = manifest.trigger.http.into_iter();
    triggers.map(|t| (t.route, t.component)).collect()
}

/// The component Spin picks for a path, by the host's own router.
pub fn component_for(path: &str) -> Option<String> {
    router().route(path).map(|c| c.name().to_owned())
}

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| Router::embedded().expect("spin.toml routes"))
}

/// Runs a request through the component spin.toml routes it to.
pub fn call(env: &TestEnv, req: ApiRequest) -> ApiResponse {
    let Some(component) = router().route(&req.path) else {
        return crate::Problem::no_route(&req.method, &req.path).into_response();
    };
    block_on(async {
        match component {
            Component::Intake => api::intake::handle(env, req).await,
            Component::Grid => api::grid::handle(env, req).await,
            Component::Assets => api::assets::handle(env, req).await,
            Component::Dispatch => api::dispatch::handle(env, req).await,
            Component::Callbacks => api::callbacks::handle(env, req).await,
            Component::Ingest => api::ingest::handle(env, req).await,
            Component::Open311 => api::open311::handle(env, req).await,
            Component::Registry => api::registry::handle(env, req).await,
            Component::Accounts => api::accounts::handle(env, req).await,
            Component::Indicators => api::indicators::handle(env, req).await,
            Component::StaticFiles => crate::api::static_files::serve(
                &req,
                &crate::api::static_files::MapConfig::default(),
                &|_: &str| None,
            ),
        }
    })
}

/// A call whose body is read as JSON (or null).
pub fn call_json(env: &TestEnv, req: ApiRequest) -> (u16, Json) {
    let resp = call(env, req);
    (
        resp.status,
        serde_json::from_slice(&resp.body).unwrap_or(Json::Null),
    )
}

pub fn request(method: &str, path: &str, token: Option<&str>, body: Option<Json>) -> ApiRequest {
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

pub fn square(code: &str, x0: f64, y0: f64) -> Json {
    let d = 0.01;
    json!({"type": "Feature", "properties": {"code": code, "name": code},
           "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]]}})
}

pub fn area(code: &str) -> Json {
    json!({"type": "Feature", "properties": {"code": code, "name": code}, "geometry": null})
}

/// Two streets with a cell each; departments with webhooks; the categories the built-in
/// platform mappings use.
pub fn city() -> TestEnv {
    let env = TestEnv::new();
    let map = json!({"type": "FeatureCollection", "features": [
        area("350203"), area("350203001"), area("350203002"), area("350203001001"), area("350203002001"),
        square("350203001001001", 118.08, 24.445), square("350203002001001", 118.09, 24.445),
    ]});
    let (status, body) = call_json(
        &env,
        request("POST", "/api/admin/grids", Some(ADMIN_TOKEN), Some(map)),
    );
    assert_eq!(status, 201, "{body}");
    for code in ["gardens", "municipal", "urban", "justice"] {
        let dept = json!({"name": code, "webhook_url": format!("http://127.0.0.1:9/{code}"), "secret": SECRET});
        let (status, body) = call_json(
            &env,
            request(
                "PUT",
                &format!("/api/admin/departments/{code}"),
                Some(ADMIN_TOKEN),
                Some(dept),
            ),
        );
        assert_eq!(status, 200, "{body}");
    }
    for (code, kind, dept, major) in [
        (
            "landscape.greenway_sign",
            "component",
            "gardens",
            "C04 园林绿化 Landscaping",
        ),
        (
            "environment.litter",
            "event",
            "urban",
            "E01 市容环境 Street environment",
        ),
        (
            "construction.noise",
            "event",
            "urban",
            "E03 施工管理 Construction",
        ),
        (
            "dispute.neighbourhood",
            "dispute",
            "justice",
            "D01 矛盾纠纷 Disputes",
        ),
    ] {
        let cat = json!({"name_zh": format!("{code} zh"), "name_en": format!("{code} en"), "kind": kind, "department": dept,
                         "major": major, "sign_for_hours": 2.0, "handle_hours": 24.0, "verify_hours": 12.0});
        let (status, body) = call_json(
            &env,
            request(
                "PUT",
                &format!("/api/admin/categories/{code}"),
                Some(ADMIN_TOKEN),
                Some(cat),
            ),
        );
        assert_eq!(status, 200, "{body}");
    }
    env.answer_status.set(200);
    env
}

/// A citizen's report through the web form; returns the answer.
pub fn report(env: &TestEnv, category: &str, at: (f64, f64)) -> Json {
    let body = json!({"category": category, "description": "Something is broken here", "lat": at.0, "lng": at.1});
    let (status, answer) = call_json(env, request("POST", "/api/reports", None, Some(body)));
    assert_eq!(status, 201, "{answer}");
    answer
}

/// A department's callback, signed with `secret` under `id` at the test clock.
pub fn signed_callback(
    env: &TestEnv,
    department: &str,
    secret: &str,
    id: &str,
    body: &Json,
) -> ApiRequest {
    let bytes = serde_json::to_vec(body).unwrap();
    let ts = env.now.get() / 1000;
    let mut req = request("POST", &format!("/api/callbacks/{department}"), None, None);
    req.headers
        .push(("content-type".into(), "application/json".into()));
    req.headers.push(("webhook-id".into(), id.to_owned()));
    req.headers
        .push(("webhook-timestamp".into(), ts.to_string()));
    req.headers.push((
        "webhook-signature".into(),
        webhook::sign(secret, id, ts, &bytes).unwrap(),
    ));
    req.body = bytes;
    req
}

/// Creates an API key through the admin route; returns the key itself.
pub fn api_key(
    env: &TestEnv,
    platform: Option<&str>,
    actions: &[&str],
    rate: Option<u32>,
) -> String {
    let body = json!({"name": "test key", "platform": platform, "actions": actions, "rate_per_minute": rate});
    let (status, answer) = call_json(
        env,
        request("POST", "/api/admin/keys", Some(ADMIN_TOKEN), Some(body)),
    );
    assert_eq!(status, 201, "{answer}");
    answer["key"].as_str().unwrap().to_owned()
}

/// Number of rows of a table (or a condition on it).
pub fn count(env: &TestEnv, sql_from: &str) -> i64 {
    let rows = block_on(crate::Database::execute(
        env,
        &format!("SELECT COUNT(*) AS n FROM {sql_from}"),
        &[],
    ))
    .unwrap();
    rows.first().unwrap().i64("n").unwrap()
}
