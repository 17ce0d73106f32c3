//! Routes of the `grid` component: point → cell lookup (key-value reads only), the hierarchy,
//! the authenticated map import, and the seeding of the demo city (map, directory, assets, staff)
//! into a deployment that has no native host to do it.

use super::routes::{Access::*, Route};
use super::{ready, respond};
use crate::access::auth::{ADMINS, StaffRole};
use crate::access::limits;
use crate::grid::code::{Crs, GridCode, Level, Wgs84Point};
use crate::grid::upload::{self, Staged};
use crate::http::problem::FieldError;
use crate::http::{MAX_MAP_BODY_BYTES, routes};
use crate::{ApiRequest, ApiResponse, Env, Problem, grid};

const GEOJSON: &str = ".geojson";

/// The routes of the `grid` component.
#[rustfmt::skip]
pub const ROUTES: &[Route<Op>] = &[
    Route::get("/api/grid/lookup", PublicRateLimited, Op::Lookup),
    Route::get("/api/grids", PublicRateLimited, Op::TopAreas),
    // `{code}.geojson` is the same route: the cell's shape.
    Route::get("/api/grids/{code}", PublicRateLimited, Op::Detail),
    Route::get("/api/grids/{code}/workers", PublicOrStaff(FULL_WORKER_VIEW), Op::Workers),
    Route::post("/api/admin/grids", Staff(ADMINS), Op::Import).limit(MAX_MAP_BODY_BYTES),
    Route::post("/api/admin/demo", Staff(ADMINS), Op::Demo).limit(DEMO_BODY_BYTES),
];

/// `POST /api/admin/demo` reads no body: room for a client's `{}` and no more.
const DEMO_BODY_BYTES: usize = 1024;

/// The seed of the demo city `POST /api/admin/demo` loads: the one the native host loads on
/// first start and the black-box tests expect.
const DEMO_SEED: u64 = 1;

/// Random bytes of a demo staff account's generated password (hex: twice as many characters).
const DEMO_PASSWORD_BYTES: usize = 12;

/// The operations of [`ROUTES`], one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lookup,
    TopAreas,
    Detail,
    Workers,
    Import,
    Demo,
}

/// Answers every route of the `grid` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let (route, p) = match routes::find(ROUTES, &req) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    respond(match route.id {
        Op::Lookup => lookup(env, &req).await,
        Op::TopAreas => super::counted(env, &req, limits::READS_PER_CLIENT, top_areas(env)).await,
        Op::Detail => match p["code"].strip_suffix(GEOJSON) {
            // A district's shape is megabytes: a budget of its own, and a low one.
            Some(code) => {
                super::counted(env, &req, limits::GEOJSON_PER_CLIENT, geojson(env, code)).await
            }
            None => {
                super::counted(env, &req, limits::READS_PER_CLIENT, detail(env, &p["code"])).await
            }
        },
        Op::Workers => workers(env, &req, &p["code"]).await,
        Op::Import => import(env, &req).await,
        Op::Demo => demo(env, &req).await,
    })
}

fn number(req: &ApiRequest, name: &str, errors: &mut Vec<FieldError>) -> Option<f64> {
    match req.query_param(name).map(|v| v.trim().parse::<f64>()) {
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            errors.push(FieldError::new(name, "a number is expected"));
            None
        }
        None => {
            errors.push(FieldError::new(name, "required"));
            None
        }
    }
}

async fn lookup<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::limited(env, req, limits::LOOKUP_PER_CLIENT).await?;
    let mut errors = Vec::new();
    let lat = number(req, "lat", &mut errors);
    let lng = number(req, "lng", &mut errors);
    let crs = match req.query_param("crs") {
        None => Crs::Wgs84,
        Some(s) => Crs::parse(&s).unwrap_or_else(|| {
            errors.push(FieldError::new("crs", "one of wgs84, gcj02, bd09"));
            Crs::Wgs84
        }),
    };
    let (Some(lat), Some(lng), true) = (lat, lng, errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    let point = Wgs84Point::parse(lat, lng, crs).map_err(Problem::validation)?;
    let Some(found) = grid::locate(env, point).await? else {
        return Err(Problem::outside_jurisdiction(format!(
            "no grid cell within {} m of {:.6}, {:.6} (WGS-84)",
            grid::TOLERANCE_M,
            point.lat,
            point.lng
        )));
    };
    Ok(ApiResponse::json(
        200,
        &Lookup {
            cell: found.cell,
            chain: found.chain,
            kind: found.kind,
            distance_m: found.distance_m,
            crs: Crs::Wgs84,
            point,
            given: GivenPoint { lat, lng, crs },
        },
    ))
}

/// The top-level areas of the current map (its districts), where a city-wide map starts.
/// Public, like the rest of the hierarchy.
async fn top_areas<E: Env>(env: &E) -> Result<ApiResponse, Problem> {
    ready(env).await?;
    Ok(ApiResponse::json(
        200,
        &super::Items {
            items: grid::top_areas(env).await?,
        },
    ))
}

async fn detail<E: Env>(env: &E, code: &str) -> Result<ApiResponse, Problem> {
    let Ok(parsed) = GridCode::parse(code) else {
        return Err(Problem::not_found("grid", code));
    };
    ready(env).await?;
    match grid::detail(env, &parsed).await? {
        Some(d) => Ok(ApiResponse::json(200, &d)),
        None => Err(Problem::not_found("grid", code)),
    }
}

async fn geojson<E: Env>(env: &E, code: &str) -> Result<ApiResponse, Problem> {
    let Ok(parsed) = GridCode::parse(code) else {
        return Err(Problem::not_found("grid", code));
    };
    ready(env).await?;
    match grid::geojson(env, &parsed).await? {
        Some(doc) => {
            let body = serde_json::to_vec(&doc).unwrap_or_default();
            Ok(ApiResponse::new(200, "application/geo+json", body))
        }
        None => Err(Problem::not_found("grid", code)),
    }
}

/// Who may see grid workers' names and numbers whole: operators (for the cells of their area)
/// and administrators (who link workers to accounts).
const FULL_WORKER_VIEW: &[StaffRole] = &[
    StaffRole::CityOperator,
    StaffRole::DistrictOperator,
    StaffRole::StreetOperator,
    StaffRole::Admin,
];

/// The workers on duty in a cell: masked for the public, whole for an operator of the cell's
/// area or an administrator. A request that sends a token gets a 401 for a wrong one and a 403
/// for a role or an area without the right, rather than a silently masked answer.
async fn workers<E: Env>(env: &E, req: &ApiRequest, code: &str) -> Result<ApiResponse, Problem> {
    let full = req.header("authorization").is_some();
    if full {
        let who = super::staff(env, req, FULL_WORKER_VIEW).await?;
        if !who.covers(code) {
            return Err(Problem::forbidden(format!(
                "cell {code} is outside this account's area"
            )));
        }
    } else {
        // Anonymous callers are counted; a token that is sent is checked, so none skips this.
        super::limited(env, req, limits::WORKERS_PER_CLIENT).await?;
    }
    let parsed = GridCode::parse(code).map_err(|_| Problem::not_found("grid", code))?;
    if parsed.level() != Level::Cell {
        return Err(Problem::validation(vec![FieldError::new(
            "code",
            format!(
                "{code} is a {}: workers are on duty per cell (15 digits)",
                parsed.level().as_str()
            ),
        )]));
    }
    ready(env).await?;
    let Some((cell, list)) = grid::cell_workers(env, &parsed).await? else {
        return Err(Problem::not_found("grid", code));
    };
    let list: Vec<grid::GridWorker> = if full {
        list
    } else {
        list.iter().map(grid::GridWorker::masked).collect()
    };
    let answer = ApiResponse::json(
        200,
        &CellWorkers {
            cell,
            workers: list,
            masked: !full,
        },
    );
    // Names and numbers in full must not stay in a shared cache.
    Ok(if full {
        answer.with_header("cache-control", "private, no-store")
    } else {
        answer
    })
}

/// A whole map in one request, or one part of it (`?part=N&of=M&upload=ID`).
async fn import<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    if let Some(part) = upload::part_of(req)? {
        ready(env).await?;
        return match upload::stage(env, &part, &req.body).await? {
            Staged::Waiting(progress) => Ok(ApiResponse::json(202, &progress)),
            Staged::Complete(features) => {
                // The parts are taken: a map that fails its checks must be sent again.
                let summary = grid::import(env, features).await.map_err(|mut p| {
                    p.detail = format!(
                        "{} (upload {} is discarded: send its parts again)",
                        p.detail, part.upload
                    );
                    p.with("upload", part.upload.clone().into())
                })?;
                let answer = ImportAnswer {
                    summary,
                    upload: Some(part.upload),
                    parts: Some(part.of),
                };
                Ok(ApiResponse::json(201, &answer))
            }
        };
    }
    req.require_json()?;
    let features = grid::parse_feature_collection(&req.body).map_err(Problem::validation)?;
    ready(env).await?;
    let summary = grid::import(env, features).await?;
    let answer = ImportAnswer {
        summary,
        upload: None,
        parts: None,
    };
    Ok(ApiResponse::json(201, &answer))
}

/// Seeds the demo city where it is missing: 201 with what was created (the staff accounts'
/// generated passwords, shown this once), 200 when everything was there and nothing changed.
async fn demo<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let seeded = crate::demo::seed(env, DEMO_SEED, |_| {
        crate::crypto::random_hex(DEMO_PASSWORD_BYTES)
    })
    .await?;
    let status = if seeded.created { 201 } else { 200 };
    // Passwords in the answer must not stay in any cache.
    Ok(ApiResponse::json(status, &seeded).with_header("cache-control", "no-store"))
}

// ---- the answers' types (their JSON Schemas are docs/openapi.json's, `api::openapi`)

/// The cell a point lies in (or the nearest within the tolerance), with its chain.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Lookup {
    pub cell: grid::GridRef,
    pub chain: Vec<grid::GridRef>,
    #[serde(rename = "match")]
    pub kind: grid::MatchKind,
    pub distance_m: f64,
    /// The system of `point`: always WGS-84.
    pub crs: Crs,
    pub point: Wgs84Point,
    /// The point as it was given.
    pub given: GivenPoint,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct GivenPoint {
    pub lat: f64,
    pub lng: f64,
    pub crs: Crs,
}

/// The grid workers on duty in a cell; masked for anonymous callers.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct CellWorkers {
    pub cell: grid::GridRef,
    pub workers: Vec<grid::GridWorker>,
    pub masked: bool,
}

/// What an import stored; for a map sent in parts, the upload and how many parts it had.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ImportAnswer {
    #[serde(flatten)]
    pub summary: grid::ImportSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::testenv::{ADMIN_TOKEN, OPERATOR_TOKEN, TestEnv};
    use crate::{Database, Platform};
    use futures::executor::block_on;
    use serde_json::Value as Json;
    use serde_json::json;

    fn call(
        env: &TestEnv,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> (u16, Json) {
        let mut req = ApiRequest::new(method, path);
        if let Some(t) = token {
            req.headers
                .push(("authorization".into(), format!("Bearer {t}")));
        }
        req.headers
            .push(("content-type".into(), "application/geo+json".into()));
        req.body = body.to_vec();
        let resp = block_on(handle(env, req));
        (
            resp.status,
            serde_json::from_slice(&resp.body).unwrap_or(Json::Null),
        )
    }

    /// Two cells of 0.01° side by side in one community, each with its workers.
    fn small_map() -> Json {
        let square = |x: f64| {
            json!([[
                [x, 24.5],
                [x + 0.01, 24.5],
                [x + 0.01, 24.51],
                [x, 24.51],
                [x, 24.5]
            ]])
        };
        let area = |code: &str, name: &str| json!({"type": "Feature", "properties": {"code": code, "name": name}, "geometry": null});
        json!({"type": "FeatureCollection", "features": [
            area("350211", "集美区"), area("350211001", "集美街道"), area("350211001001", "第1社区"),
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square(118.0)},
             "properties": {"code": "350211001001001", "name": "第1网格", "workers": [
                {"id": "gw1", "name": "陈志强", "phone": "13812348000"},
                {"id": "gw2", "name": "林芳", "phone": "13900001111"}]}},
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square(118.01)},
             "properties": {"code": "350211001001002", "name": "第2网格", "workers": [
                {"id": "gw3", "name": "黄海燕", "phone": "15011112222"}]}},
        ]})
    }

    fn imported() -> TestEnv {
        let env = TestEnv::new();
        let (status, body) = call(
            &env,
            "POST",
            "/api/admin/grids",
            Some(ADMIN_TOKEN),
            small_map().to_string().as_bytes(),
        );
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["workers"], 3);
        env
    }

    #[test]
    fn a_cell_as_geojson_is_a_feature_and_an_area_a_collection_of_its_cells() {
        let env = imported();
        let (status, cell) = call(&env, "GET", "/api/grids/350211001001002.geojson", None, b"");
        assert_eq!(status, 200, "{cell}");
        assert_eq!(cell["type"], "Feature");
        assert_eq!(cell["properties"]["parent"], "350211001001");
        assert_eq!(cell["geometry"]["type"], "MultiPolygon");
        assert_eq!(
            cell["geometry"]["coordinates"][0][0][0],
            json!([118.01, 24.5])
        );
        let (status, area) = call(&env, "GET", "/api/grids/350211.geojson", None, b"");
        assert_eq!(status, 200, "{area}");
        assert_eq!(area["type"], "FeatureCollection");
        let codes: Vec<&str> = area["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["350211001001001", "350211001001002"]);
        assert_eq!(
            call(&env, "GET", "/api/grids/350212.geojson", None, b"").0,
            404
        );
        assert_eq!(
            call(&env, "GET", "/api/grids/nonsense.geojson", None, b"").0,
            404
        );
    }

    #[test]
    fn workers_are_masked_in_public_and_whole_for_an_operator() {
        let env = imported();
        let (status, public) = call(&env, "GET", "/api/grids/350211001001001/workers", None, b"");
        assert_eq!(status, 200, "{public}");
        assert_eq!(public["masked"], true);
        assert_eq!(
            public["workers"],
            json!([{"id": "gw1", "name": "陈**", "phone": "138****8000"}, {"id": "gw2", "name": "林*", "phone": "139****1111"}])
        );
        let (status, full) = call(
            &env,
            "GET",
            "/api/grids/350211001001001/workers",
            Some(OPERATOR_TOKEN),
            b"",
        );
        assert_eq!(status, 200, "{full}");
        assert_eq!(full["masked"], false);
        assert_eq!(full["workers"][0]["name"], "陈志强");
        assert_eq!(full["workers"][0]["phone"], "13812348000");
        assert_eq!(
            call(
                &env,
                "GET",
                "/api/grids/350211001001001/workers",
                Some("guess"),
                b""
            )
            .0,
            401
        );
        assert_eq!(
            call(&env, "GET", "/api/grids/350211001001009/workers", None, b"").0,
            404
        );
        let (status, area) = call(&env, "GET", "/api/grids/350211001/workers", None, b"");
        assert_eq!(status, 422, "{area}");
        assert_eq!(area["errors"][0]["field"], "code");
    }

    #[test]
    fn a_reimport_that_lists_other_workers_replaces_a_cells_workers() {
        let env = imported();
        let mut map = small_map();
        map["features"][3]["properties"]["workers"] =
            json!([{"id": "gw9", "name": "王伟", "phone": "18600000000"}]);
        // The second cell lists none: it keeps its own.
        map["features"][4]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("workers");
        assert_eq!(
            call(
                &env,
                "POST",
                "/api/admin/grids",
                Some(ADMIN_TOKEN),
                map.to_string().as_bytes()
            )
            .0,
            201
        );
        let (_, first) = call(
            &env,
            "GET",
            "/api/grids/350211001001001/workers",
            Some(OPERATOR_TOKEN),
            b"",
        );
        assert_eq!(
            first["workers"],
            json!([{"id": "gw9", "name": "王伟", "phone": "18600000000"}])
        );
        let (_, second) = call(
            &env,
            "GET",
            "/api/grids/350211001001002/workers",
            Some(OPERATOR_TOKEN),
            b"",
        );
        assert_eq!(second["workers"][0]["id"], "gw3");
    }

    #[test]
    fn an_overlapping_map_is_refused_with_the_overlap_located_and_measured() {
        let env = TestEnv::new();
        let mut map = small_map();
        map["features"][4]["geometry"]["coordinates"] = json!([[
            [118.005, 24.5],
            [118.015, 24.5],
            [118.015, 24.51],
            [118.005, 24.51],
            [118.005, 24.5]
        ]]);
        let (status, problem) = call(
            &env,
            "POST",
            "/api/admin/grids",
            Some(ADMIN_TOKEN),
            map.to_string().as_bytes(),
        );
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "350211001001001");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(" m²"),
            "{problem}"
        );
        assert!(env.kv.keys().unwrap().is_empty(), "nothing written");
    }

    /// The map cut into `n` FeatureCollections.
    fn parts(map: &Json, n: usize) -> Vec<Vec<u8>> {
        let features = map["features"].as_array().unwrap();
        let size = features.len().div_ceil(n);
        features
            .chunks(size)
            .map(|chunk| {
                json!({"type": "FeatureCollection", "features": chunk})
                    .to_string()
                    .into_bytes()
            })
            .collect()
    }

    #[test]
    fn a_map_in_parts_is_imported_when_the_last_part_arrives_in_any_order() {
        let env = TestEnv::new();
        let map: Json = serde_json::from_str(&crate::demo::city_geojson(1)).unwrap();
        let bodies = parts(&map, 3);
        let url = |n: usize| format!("/api/admin/grids?part={n}&of=3&upload=city-1");
        let (status, waiting) = call(&env, "POST", &url(3), Some(ADMIN_TOKEN), &bodies[2]);
        assert_eq!(status, 202, "{waiting}");
        assert_eq!(waiting["received"], json!([3]));
        assert_eq!(waiting["missing"], json!([1, 2]));
        // A part sent twice replaces itself; a wrong part first, then the right one.
        assert_eq!(
            call(&env, "POST", &url(1), Some(ADMIN_TOKEN), &bodies[1]).0,
            202
        );
        let (status, waiting) = call(&env, "POST", &url(1), Some(ADMIN_TOKEN), &bodies[0]);
        assert_eq!(status, 202);
        assert_eq!(waiting["missing"], json!([2]));
        assert!(
            env.kv.keys().unwrap().is_empty(),
            "nothing is imported before the last part"
        );
        // A part that disagrees on the count is refused.
        let wrong = "/api/admin/grids?part=2&of=4&upload=city-1";
        assert_eq!(
            call(&env, "POST", wrong, Some(ADMIN_TOKEN), &bodies[1]).0,
            409
        );
        let (status, done) = call(&env, "POST", &url(2), Some(ADMIN_TOKEN), &bodies[1]);
        assert_eq!(status, 201, "{done}");
        assert_eq!(done["upload"], "city-1");
        assert_eq!(done["cells"], crate::demo::CELLS);
        assert_eq!(done["workers"], crate::demo::WORKERS);
        let staged =
            block_on(env.execute("SELECT COUNT(*) AS n FROM grid_upload_parts", &[])).unwrap();
        assert_eq!(
            staged.first().unwrap().i64("n").unwrap(),
            0,
            "the staged parts are gone"
        );
        let (status, found) = call(
            &env,
            "GET",
            "/api/grid/lookup?lat=24.5&lng=118.1",
            None,
            b"",
        );
        assert_eq!(status, 200, "{found}");
    }

    #[test]
    fn a_part_is_checked_when_it_arrives_and_bad_part_parameters_are_refused() {
        let env = TestEnv::new();
        let mut map = small_map();
        map["features"][3]["geometry"]["coordinates"][0][4] = json!([118.0, 24.6]);
        let (status, problem) = call(
            &env,
            "POST",
            "/api/admin/grids?part=1&of=2&upload=u1",
            Some(ADMIN_TOKEN),
            map.to_string().as_bytes(),
        );
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["part"], 1);
        assert_eq!(problem["errors"][0]["field"], "features[3].geometry");
        let (status, problem) = call(
            &env,
            "POST",
            "/api/admin/grids?part=3&of=2&upload=a/b",
            Some(ADMIN_TOKEN),
            b"{}",
        );
        assert_eq!(status, 422);
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["part", "upload"]);
        assert_eq!(
            call(
                &env,
                "POST",
                "/api/admin/grids?part=1&of=2&upload=u1",
                None,
                b"{}"
            )
            .0,
            401
        );
    }

    #[test]
    fn the_demo_seeds_an_empty_deployment_once_and_a_second_call_changes_nothing() {
        let env = TestEnv::new();
        assert_eq!(call(&env, "POST", "/api/admin/demo", None, b"").0, 401);
        assert_eq!(
            call(&env, "POST", "/api/admin/demo", Some(OPERATOR_TOKEN), b"").0,
            403
        );
        let (status, first) = call(&env, "POST", "/api/admin/demo", Some(ADMIN_TOKEN), b"");
        assert_eq!(status, 201, "{first}");
        assert_eq!(first["created"], true);
        assert_eq!(first["map"]["created"], true);
        let departments = crate::demo::DEPARTMENTS.len() + crate::demo::STREETS;
        assert_eq!(
            first["departments"],
            json!({"created": departments, "existing": 0})
        );
        let categories = crate::demo::CATEGORIES.len();
        assert_eq!(
            first["categories"],
            json!({"created": categories, "existing": 0})
        );
        let assets = crate::demo::assets(&crate::demo::city(1)).len();
        assert_eq!(first["assets"], json!({"created": assets, "existing": 0}));
        let staff = first["staff"].as_array().unwrap();
        let usernames: Vec<&str> = staff
            .iter()
            .map(|s| s["username"].as_str().unwrap())
            .collect();
        assert_eq!(usernames, crate::demo::STAFF.map(|(u, ..)| u));
        let passwords: Vec<&str> = staff
            .iter()
            .map(|s| s["password"].as_str().unwrap())
            .collect();
        assert!(passwords.iter().all(|p| p.len() == 2 * DEMO_PASSWORD_BYTES));
        assert_ne!(passwords[0], passwords[1], "one password an account");
        let worker = block_on(crate::access::accounts::sign_in(
            &env,
            "worker",
            passwords[3],
            None,
            env.now_ms(),
        ))
        .unwrap();
        assert_eq!(worker.worker_id.as_deref(), Some("gw00001"));
        assert!(
            block_on(crate::directory::category(&env, "roads.pothole"))
                .unwrap()
                .is_some()
        );
        assert!(
            block_on(crate::assets::get(&env, "GW-000001"))
                .unwrap()
                .is_some()
        );

        let rows = |table: &str| {
            block_on(env.execute(&format!("SELECT COUNT(*) AS n FROM {table}"), &[]))
                .unwrap()
                .rows[0][0]
                .clone()
        };
        let tables = [
            "departments",
            "categories",
            "assets",
            "accounts",
            "map_versions",
        ];
        let before: Vec<_> = tables.iter().map(|t| rows(t)).collect();
        let (status, second) = call(&env, "POST", "/api/admin/demo", Some(ADMIN_TOKEN), b"");
        assert_eq!(status, 200, "{second}");
        assert_eq!(second["created"], false);
        assert_eq!(
            second["map"],
            json!({"created": false, "map_version": first["map"]["map_version"]})
        );
        assert_eq!(
            second["departments"],
            json!({"created": 0, "existing": departments})
        );
        assert_eq!(second["assets"], json!({"created": 0, "existing": assets}));
        for account in second["staff"].as_array().unwrap() {
            assert_eq!(account["created"], false, "{account}");
            assert!(account.get("password").is_none(), "shown once: {account}");
        }
        let after: Vec<_> = tables.iter().map(|t| rows(t)).collect();
        assert_eq!(before, after, "{tables:?}");
        // The first passwords still sign in: the second call made no new ones.
        assert!(
            block_on(crate::access::accounts::sign_in(
                &env,
                "admin",
                passwords[4],
                None,
                env.now_ms()
            ))
            .is_ok()
        );
    }

    #[test]
    fn the_demo_is_refused_over_a_map_that_is_not_the_demo_city() {
        let env = imported();
        let (status, problem) = call(&env, "POST", "/api/admin/demo", Some(ADMIN_TOKEN), b"");
        assert_eq!(status, 409, "{problem}");
        let count = block_on(env.execute("SELECT COUNT(*) AS n FROM departments", &[])).unwrap();
        assert_eq!(count.rows[0][0], crate::Value::Integer(0), "nothing seeded");
    }
}
