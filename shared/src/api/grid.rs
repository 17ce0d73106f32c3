//! Routes of the `grid` component: point → cell lookup (key-value reads only), the hierarchy,
//! and the authenticated map import.

use serde_json::json;

use super::{ready, require_token, respond};
use crate::model::{Crs, GridCode, Wgs84Point};
use crate::problem::FieldError;
use crate::{ApiRequest, ApiResponse, Env, Problem, grid};

/// Answers every route of the `grid` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let segments = req.segments();
    respond(match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["api", "grid", "lookup"]) => lookup(env, &req).await,
        ("GET", ["api", "grids", code]) => detail(env, code).await,
        ("POST", ["api", "admin", "grids"]) => import(env, &req).await,
        (_, ["api", "grid", "lookup"] | ["api", "grids", _]) => {
            Err(Problem::method_not_allowed(&req.method, &req.path, &["GET"]))
        }
        (_, ["api", "admin", "grids"]) => Err(Problem::method_not_allowed(&req.method, &req.path, &["POST"])),
        _ => Err(Problem::no_route(&req.method, &req.path)),
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
        &json!({
            "cell": found.cell, "chain": found.chain, "match": found.kind, "distance_m": found.distance_m,
            "crs": Crs::Wgs84.as_str(), "point": {"lat": point.lat, "lng": point.lng},
            "given": {"lat": lat, "lng": lng, "crs": crs.as_str()},
        }),
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

async fn import<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    require_token(env, req, "admin_token").await?;
    let features = grid::parse_feature_collection(&req.body).map_err(Problem::validation)?;
    ready(env).await?;
    let summary = grid::import(env, features).await?;
    Ok(ApiResponse::json(201, &summary))
}
