//! Routes of the `assets` component: the registry of assets (部件) and their QR signs, one code
//! or printable A4 sheets of an area, and `/q/{id}`, where a scanned sign lands.

use serde_json::Value as Json;

use super::routes::{Access::*, Route};
use super::{ready, respond};
use crate::access::auth::ADMINS;
use crate::access::limits;
use crate::assets::{self, AssetInput, SheetEntry};
use crate::grid::code::GridCode;
use crate::http::problem::FieldError;
use crate::http::routes;
use crate::{ApiRequest, ApiResponse, Env, Problem};

const SVG: &str = "image/svg+xml";

/// The routes of the `assets` component.
#[rustfmt::skip]
pub const ROUTES: &[Route<Op>] = &[
    Route::post("/api/admin/assets", Staff(ADMINS), Op::Register),
    Route::get("/api/assets", PublicRateLimited, Op::List),
    Route::get("/api/assets/sheet.svg", PublicRateLimited, Op::Sheet),
    Route::get("/api/assets/{id}", PublicRateLimited, Op::Detail),
    Route::get("/api/assets/{id}/qr.svg", PublicRateLimited, Op::Qr),
    Route::get("/q/{asset_id}", PublicRateLimited, Op::Landing),
];

/// The operations of [`ROUTES`], one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Register,
    List,
    Sheet,
    Detail,
    Qr,
    Landing,
}

/// Answers every route of the `assets` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let (route, p) = match routes::find(ROUTES, &req) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    respond(match route.id {
        Op::Register => register(env, &req).await,
        Op::List => super::counted(env, &req, limits::ASSETS_PER_CLIENT, list(env, &req)).await,
        // A sheet draws every sign of an area: the heaviest drawing, on the lowest budget.
        Op::Sheet => super::counted(env, &req, limits::SHEET_PER_CLIENT, sheet(env, &req)).await,
        Op::Detail => {
            super::counted(env, &req, limits::ASSETS_PER_CLIENT, detail(env, &p["id"])).await
        }
        Op::Qr => super::counted(env, &req, limits::QR_PER_CLIENT, qr(env, &req, &p["id"])).await,
        Op::Landing => {
            super::counted(
                env,
                &req,
                limits::ASSETS_PER_CLIENT,
                landing(env, &p["asset_id"]),
            )
            .await
        }
    })
}

/// One asset or an array of them; each is registered, or updated when its id is known.
async fn register<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let body: Json = req.json()?;
    let list = match body {
        Json::Array(items) => items,
        one => vec![one],
    };
    let inputs: Vec<AssetInput> = serde_json::from_value(Json::Array(list))
        .map_err(|e| Problem::validation(vec![FieldError::new("body", e.to_string())]))?;
    ready(env).await?;
    let stored = assets::register(env, &inputs).await?;
    Ok(ApiResponse::json(
        201,
        &Registered {
            registered: stored.len(),
            assets: stored,
        },
    ))
}

async fn detail<E: Env>(env: &E, id: &str) -> Result<ApiResponse, Problem> {
    if !assets::valid_id(id) {
        return Err(Problem::not_found("asset", id));
    }
    ready(env).await?;
    match assets::view(env, id).await? {
        Some(view) => Ok(ApiResponse::json(200, &view)),
        None => Err(Problem::not_found("asset", id)),
    }
}

/// Where the QR codes point: see [`crate::http::public_base_url`].
async fn base_url<E: Env>(env: &E, req: &ApiRequest) -> Result<String, Problem> {
    crate::http::public_base_url(env, req).await
}

async fn qr<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    if !assets::valid_id(id) {
        return Err(Problem::not_found("asset", id));
    }
    ready(env).await?;
    if assets::get(env, id).await?.is_none() {
        return Err(Problem::not_found("asset", id));
    }
    let url = assets::sign_url(&base_url(env, req).await?, id);
    let svg = assets::qr_svg(&url)?;
    Ok(ApiResponse::new(200, SVG, svg.into_bytes()).with_header("x-qr-url", url))
}

/// The `area` parameter: a street, community or cell code.
fn area_param(req: &ApiRequest) -> Result<GridCode, Problem> {
    let area = req.query_param("area").unwrap_or_default();
    GridCode::parse(area.trim())
        .ok()
        .filter(assets::sheet_area)
        .ok_or_else(|| {
            Problem::validation(vec![FieldError::new(
                "area",
                "a street (9 digits), community (12) or cell (15) code",
            )])
        })
}

/// `?area=`: the assets under a street, community or cell, by cell and id.
async fn list<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let code = area_param(req)?;
    ready(env).await?;
    let found = assets::under_area(env, &code).await?;
    let assets: Vec<AssetInCell> = found
        .into_iter()
        .map(|(asset, cell_name)| AssetInCell { asset, cell_name })
        .collect();
    Ok(ApiResponse::json(
        200,
        &AreaAssets {
            area: code.as_str().to_owned(),
            count: assets.len(),
            assets,
        },
    ))
}

/// `?area=` a street, community or cell code; `page=N` (from 1) for one page of a large area.
async fn sheet<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let code = area_param(req)?;
    let page = match req.query_param("page") {
        None => None,
        Some(p) => Some(
            p.trim()
                .parse::<usize>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| {
                    Problem::validation(vec![FieldError::new("page", "a page number from 1")])
                })?,
        ),
    };
    ready(env).await?;
    let Some(grid) = crate::grid::detail(env, &code).await? else {
        return Err(Problem::not_found("grid", code.as_str()));
    };
    let base = base_url(env, req).await?;
    let found = assets::under_area(env, &code).await?;
    let pages = found.len().div_ceil(assets::PER_PAGE).max(1);
    let (skip, take, first_page) = match page {
        Some(p) if p > pages => {
            return Err(Problem::not_found("page", &format!("{p} of {pages}")));
        }
        Some(p) => ((p - 1) * assets::PER_PAGE, assets::PER_PAGE, p),
        None if pages > assets::MAX_PAGES => {
            return Err(Problem::validation(vec![FieldError::new(
                "page",
                format!(
                    "{} assets make {pages} pages: ask for them one page at a time",
                    found.len()
                ),
            )]));
        }
        None => (0, found.len(), 1),
    };
    let entries: Vec<SheetEntry> = found
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|(asset, cell_name)| SheetEntry {
            url: assets::sign_url(&base, &asset.id),
            place: match cell_name {
                Some(cell) => format!("{} · {cell}", asset.name),
                None => asset.name.clone(),
            },
            id: asset.id,
        })
        .collect();
    let title = format!("{} {}", grid.code, grid.name);
    let svg = assets::sheet_svg(&title, &entries, first_page)?;
    Ok(ApiResponse::new(200, SVG, svg.into_bytes()).with_header("x-pages", pages.to_string()))
}

/// A scanned sign: the report page bound to the asset, or a page that says it is unknown.
async fn landing<E: Env>(env: &E, id: &str) -> Result<ApiResponse, Problem> {
    let view = if assets::valid_id(id) {
        ready(env).await?;
        assets::view(env, id).await?
    } else {
        None
    };
    Ok(match view {
        Some(view) => ApiResponse::new(302, "text/plain; charset=utf-8", Vec::new())
            .with_header("location", assets::landing_location(&view))
            .with_header("cache-control", "no-store"),
        // A person with a phone reads this, not a program: a page, with a way to report anyway.
        None => ApiResponse::new(
            404,
            "text/html; charset=utf-8",
            UNKNOWN_SIGN.as_bytes().to_vec(),
        ),
    })
}

/// The page of a sign that is not in the registry: styled as the site's other pages (the
/// stylesheet and icon by absolute path, since `/q/` is one level down), in both languages.
const UNKNOWN_SIGN: &str = r#"<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>未找到这个标识 · Sign not found · OneGrid</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/css/app.css">
</head>
<body>
  <header class="site-header">
    <div class="wrap header-inner">
      <a class="brand" href="/"><img src="/favicon.svg" alt="" width="28" height="28"><span>一网统管 OneGrid</span></a>
    </div>
  </header>
  <main id="main" class="wrap notfound">
    <h1>未找到这个标识</h1>
    <p>这个二维码的编号不在部件登记中，可能已停用或印错。您仍然可以反映问题，并在地图上选择位置。</p>
    <h2 lang="en">This sign is not in the registry</h2>
    <p lang="en">The code on this sign is not a registered asset: it may be retired or misprinted. You can still report a problem and pick the place on the map.</p>
    <div class="actions">
      <a class="btn btn-primary" href="/"><span>仍然反映问题 <span lang="en">· Report a problem anyway</span></span></a>
    </div>
  </main>
</body>
</html>
"#;

// ---- the answers' types (their JSON Schemas are docs/openapi.json's, `api::openapi`)

/// What `POST /api/admin/assets` reads: one asset, or an array of them.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum AssetBatch {
    One(AssetInput),
    Many(Vec<AssetInput>),
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Registered {
    pub registered: usize,
    pub assets: Vec<assets::Asset>,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct AssetInCell {
    pub asset: assets::Asset,
    pub cell_name: Option<String>,
}

/// The assets under a street, community or cell, by cell and id.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct AreaAssets {
    pub area: String,
    pub count: usize,
    pub assets: Vec<AssetInCell>,
}
