//! Routes of the `intake` component: citizens' reports, the public tracking view, the
//! category list for the form, and health.

use serde_json::json;

use super::{ready, respond};
use crate::cases::{self, PublicEvent};
use crate::model::{ReportInput, TrackingCode};
use crate::{ApiRequest, ApiResponse, Env, Problem, directory, grid};

/// Answers every route of the `intake` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let segments = req.segments();
    respond(match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["api", "reports"]) => submit(env, &req).await,
        ("GET", ["api", "reports", code]) => track(env, code).await,
        ("GET", ["api", "categories"]) => categories(env).await,
        ("GET", ["api", "health"]) => health(env).await,
        (_, ["api", "reports"]) => Err(Problem::method_not_allowed(&req.method, &req.path, &["POST"])),
        (_, ["api", "reports", _] | ["api", "categories"] | ["api", "health"]) => {
            Err(Problem::method_not_allowed(&req.method, &req.path, &["GET"]))
        }
        _ => Err(Problem::no_route(&req.method, &req.path)),
    })
}

async fn submit<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let input: ReportInput = req.json()?;
    let report = input.validate().map_err(Problem::validation)?;
    ready(env).await?;
    let Some(category) = directory::category(env, &report.category).await? else {
        return Err(Problem::validation(vec![crate::problem::FieldError::new(
            "category",
            format!("no category {}", report.category),
        )]));
    };
    let Some(cell) = grid::locate(env, report.point).await? else {
        return Err(Problem::outside_jurisdiction(format!(
            "no grid cell within {} m of {:.6}, {:.6} (WGS-84)",
            grid::TOLERANCE_M,
            report.point.lat,
            report.point.lng
        )));
    };
    let (case, secret) = cases::create(env, &report, &category, &cell, env.now_ms()).await?;
    let tracking = case.tracking_code.clone();
    let body = json!({
        "id": case.id,
        "tracking_code": tracking,
        "secret": secret,
        "status": case.status,
        "category": {"code": category.code, "name_zh": category.name_zh, "name_en": category.name_en},
        "grid": {
            "code": cell.cell.code, "name": cell.cell.name, "level": cell.cell.level,
            "chain": cell.chain, "match": cell.kind, "distance_m": cell.distance_m,
        },
        "links": {"self": format!("/api/reports/{tracking}"), "page": format!("/track.html?code={tracking}")},
    });
    Ok(ApiResponse::json(201, &body).with_header("location", format!("/api/reports/{tracking}")))
}

async fn track<E: Env>(env: &E, code: &str) -> Result<ApiResponse, Problem> {
    let Some(code) = TrackingCode::parse(code) else {
        return Err(Problem::not_found("report", code));
    };
    ready(env).await?;
    let Some(case) = cases::by_tracking_code(env, code.as_str()).await? else {
        return Err(Problem::not_found("report", code.as_str()));
    };
    let events = cases::events(env, &case.id).await?;
    let category = directory::category(env, &case.category).await?;
    let department = match &case.department {
        Some(d) => directory::department(env, d).await?.map(|d| json!({"code": d.code, "name": d.name})),
        None => None,
    };
    let grid = match crate::model::GridCode::parse(&case.grid_code) {
        Ok(code) => grid::detail(env, &code).await?,
        Err(_) => None,
    };
    let timeline: Vec<PublicEvent> = events.iter().map(PublicEvent::from).collect();
    let body = json!({
        "tracking_code": case.tracking_code,
        "status": case.status,
        "category": category.map(|c| json!({"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en})),
        "description": case.description,
        "address": case.address,
        "grid": grid.map(|g| json!({"code": g.code, "name": g.name, "level": g.level, "chain": g.chain}))
            .unwrap_or_else(|| json!({"code": case.grid_code})),
        "department": department,
        "channel": case.channel,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "timeline": timeline,
    });
    Ok(ApiResponse::json(200, &body).with_header("cache-control", "no-store"))
}

async fn categories<E: Env>(env: &E) -> Result<ApiResponse, Problem> {
    ready(env).await?;
    let list = directory::categories(env).await?;
    Ok(ApiResponse::json(200, &list).with_header("cache-control", "public, max-age=60"))
}

async fn health<E: Env>(env: &E) -> Result<ApiResponse, Problem> {
    let schema_version = crate::schema::ensure(env).await?;
    let map_version = grid::current_version(env).await?;
    Ok(ApiResponse::json(
        200,
        &json!({"status": "ok", "schema_version": schema_version, "map_version": map_version}),
    ))
}
