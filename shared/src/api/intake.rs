//! Routes of the `intake` component: citizens' reports, the public tracking view, the
//! category list for the form, and health.

use schemars::JsonSchema;
use serde::Serialize;

use super::routes::{Access::*, Route};
use super::{ready, respond};
use crate::access::auth::StaffRole;
use crate::app::report::Submitted;
use crate::case::clock::Light;
use crate::case::publication;
use crate::case::report::{Channel, PHOTOS_MAX, PublicId, ReportInput, TrackingCode};
use crate::case::store::{self, Actor, PublicEvent};
use crate::case::{Move, MoveInput, Rating, Role, Satisfaction, Status};
use crate::db::in_transaction;
use crate::http::problem::FieldError;
use crate::http::{MAX_PHOTO_BODY_BYTES, routes};
use crate::{
    ApiRequest, ApiResponse, Env, Problem, access::limits, case::evidence, case::privacy,
    directory, grid,
};

/// The routes of the `intake` component.
#[rustfmt::skip]
pub const ROUTES: &[Route<Op>] = &[
    // Citizens are counted per address; a grid worker's session makes it a patrol report.
    Route::post("/api/reports", PublicOrStaff(&[StaffRole::GridWorker]), Op::Submit).limit(MAX_PHOTO_BODY_BYTES),
    Route::get("/api/reports/{tracking_code}", PublicRateLimited, Op::Track),
    Route::post("/api/reports/{tracking_code}/rating", Reporter, Op::Rate),
    Route::get("/api/reports/{tracking_code}/photos/{id}", PublicRateLimited, Op::Photo),
    // The public side of reports, under the publication rule (docs/publication.md).
    Route::get("/api/public/reports", PublicRateLimited, Op::PublicNear),
    Route::get("/api/public/reports/{public_id}", PublicRateLimited, Op::PublicOne),
    Route::get("/api/public/reports/{public_id}/photos/{id}", PublicRateLimited, Op::PublicPhoto),
    Route::get("/api/categories", PublicRateLimited, Op::Categories),
    Route::get("/api/health", PublicRateLimited, Op::Health),
    Route::get("/api/openapi.json", PublicRateLimited, Op::OpenApi),
];

/// The operations of [`ROUTES`], one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Submit,
    Track,
    Rate,
    Photo,
    PublicNear,
    PublicOne,
    PublicPhoto,
    Categories,
    Health,
    OpenApi,
}

/// Answers every route of the `intake` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let (route, p) = match routes::find(ROUTES, &req) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    respond(match route.id {
        Op::Submit => submit(env, &req).await,
        Op::Track => track(env, &req, &p["tracking_code"]).await,
        Op::Rate => rate(env, &req, &p["tracking_code"]).await,
        Op::Photo => photo(env, &req, &p["tracking_code"], &p["id"]).await,
        Op::PublicNear => {
            super::counted(
                env,
                &req,
                limits::PUBLIC_REPORTS_PER_CLIENT,
                public_near(env, &req),
            )
            .await
        }
        Op::PublicOne => {
            let id = &p["public_id"];
            super::counted(
                env,
                &req,
                limits::PUBLIC_REPORTS_PER_CLIENT,
                public_one(env, id),
            )
            .await
        }
        Op::PublicPhoto => {
            let (case, id) = (&p["public_id"], &p["id"]);
            let answer = public_photo(env, case, id);
            super::counted(env, &req, limits::PUBLIC_REPORTS_PER_CLIENT, answer).await
        }
        Op::Categories => {
            super::counted(env, &req, limits::READS_PER_CLIENT, categories(env)).await
        }
        Op::Health => super::counted(env, &req, limits::READS_PER_CLIENT, health(env)).await,
        Op::OpenApi => {
            super::counted(env, &req, limits::READS_PER_CLIENT, async { Ok(openapi()) }).await
        }
    })
}

/// The OpenAPI 3.1 document of the whole HTTP API, kept as docs/openapi.json and compiled in;
/// a test holds it to spin.toml and to every handler's route table.
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");

fn openapi() -> ApiResponse {
    ApiResponse::new(200, "application/json", OPENAPI.as_bytes().to_vec())
        .with_header("cache-control", "public, max-age=300")
}

async fn submit<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    // A grid worker on patrol reports with their session; everyone else is a citizen, and
    // citizens are counted per address.
    let patrol = match req.bearer() {
        Some(_) => Some(super::staff(env, req, &[StaffRole::GridWorker]).await?),
        None => {
            super::limited(env, req, limits::REPORTS_PER_CLIENT).await?;
            None
        }
    };
    let input: ReportInput = req.json()?;
    let report = input.validate().map_err(Problem::validation)?;
    let photos = evidence::prepare_list(&input.photos, "photos", PHOTOS_MAX)?;
    ready(env).await?;
    let Submitted {
        case,
        secret,
        category,
        cell,
    } = crate::app::report::submit(env, report, &photos, patrol.as_ref()).await?;
    let tracking = case.tracking_code.clone();
    let public_link = case
        .public_id
        .as_ref()
        .filter(|_| case.public)
        .map(|p| format!("/api/public/reports/{p}"));
    let body = ReportReceipt {
        id: case.id,
        status: case.status,
        category: CategoryName::of(&category),
        grid: GridPlacement::of(cell),
        links: ReportLinks {
            page: format!("/track.html?code={tracking}"),
            this: format!("/api/reports/{tracking}"),
            public: public_link,
        },
        public: case.public,
        public_id: case.public_id.filter(|_| case.public),
        probable_duplicate: !case.duplicate_candidates.is_empty(),
        photos: photos.len(),
        tracking_code: tracking.clone(),
        secret,
    };
    Ok(ApiResponse::json(201, &body).with_header("location", format!("/api/reports/{tracking}")))
}

/// The public view of a report: no contact data, no actors, phone and ID numbers in free text
/// masked, and only the lifecycle's events (not the staff trail's reveals and purges).
async fn track<E: Env>(env: &E, req: &ApiRequest, code: &str) -> Result<ApiResponse, Problem> {
    // Counted per client before the code is even read, so that guessing codes is counted too;
    // never per code, which would let one client spend the reporter's reads.
    super::limited(env, req, limits::TRACK_PER_CLIENT).await?;
    ready(env).await?;
    let Some(code) = TrackingCode::parse(code) else {
        return Err(Problem::not_found("report", code));
    };
    let Some(case) = store::by_tracking_code(env, code.as_str()).await? else {
        return Err(Problem::not_found("report", code.as_str()));
    };
    let public = |e: &store::Event| !privacy::PRIVATE_EVENTS.contains(&e.kind.as_str());
    let mut events = store::events(env, &case.id).await?;
    events.retain(public);
    // A merged report follows its parent: its reporter sees the parent's progress.
    let parent = match &case.parent_id {
        Some(id) => store::by_id(env, id).await?,
        None => None,
    };
    if let Some(p) = &parent {
        let merged_at = events.last().map(|e| e.at.clone()).unwrap_or_default();
        events.extend(
            store::events(env, &p.id)
                .await?
                .into_iter()
                .filter(|e| e.at >= merged_at && public(e)),
        );
    }
    let category = directory::category(env, &case.category).await?;
    let department = match &case.department {
        Some(d) => directory::department(env, d)
            .await?
            .map(|d| DepartmentName {
                code: d.code,
                name: d.name,
            }),
        None => None,
    };
    let grid = match crate::grid::code::GridCode::parse(&case.grid_code) {
        Ok(code) => grid::detail(env, &code).await?,
        Err(_) => None,
    };
    // Only the reporter's own photos are public; a department's result photos stay with staff.
    let photos: Vec<_> = evidence::list_from(env, &case.id, evidence::REPORTER)
        .await?
        .into_iter()
        .map(|(id, caption)| {
            let href = format!("/api/reports/{}/photos/{id}", case.tracking_code);
            let caption = caption.as_deref().map(crate::mask::mask_free_text);
            ReportPhoto { id, caption, href }
        })
        .collect();
    let timeline: Vec<PublicEvent> = events
        .iter()
        .map(|e| {
            let mut shown = PublicEvent::from(e);
            shown.note = shown.note.as_deref().map(crate::mask::mask_free_text);
            shown
        })
        .collect();
    let shown = parent.as_ref().unwrap_or(&case);
    let body = TrackedReport {
        status: shown.status,
        deadline: shown.step_deadline_at.clone(),
        light: shown.light(env.now_ms()),
        merged: parent.is_some(),
        merged_into: parent
            .as_ref()
            .filter(|p| p.public)
            .and_then(|p| p.public_id.clone()),
        public: case.public,
        public_id: case.public_id.clone().filter(|_| case.public),
        rating: case.rating.clone(),
        category: category.as_ref().map(CategoryName::of),
        description: crate::mask::mask_free_text(&case.description),
        address: case.address.as_deref().map(crate::mask::mask_free_text),
        grid: match grid {
            Some(g) => AreaRef {
                code: g.code,
                name: Some(g.name),
                level: Some(g.level),
                chain: g.chain,
            },
            None => AreaRef {
                code: case.grid_code.clone(),
                name: None,
                level: None,
                chain: Vec::new(),
            },
        },
        department,
        channel: case.channel,
        created_at: case.created_at.clone(),
        updated_at: case.updated_at.clone(),
        photos,
        timeline,
        tracking_code: case.tracking_code.clone(),
    };
    Ok(ApiResponse::json(200, &body).with_header("cache-control", "no-store"))
}

/// One of the reporter's photos, by tracking code: counted like the tracking view.
async fn photo<E: Env>(
    env: &E,
    req: &ApiRequest,
    code: &str,
    id: &str,
) -> Result<ApiResponse, Problem> {
    super::limited(env, req, limits::TRACK_PER_CLIENT).await?;
    ready(env).await?;
    let code = TrackingCode::parse(code).ok_or_else(|| Problem::not_found("report", code))?;
    let case = store::by_tracking_code(env, code.as_str())
        .await?
        .ok_or_else(|| Problem::not_found("report", code.as_str()))?;
    let (content_type, bytes) = evidence::fetch_from(env, &case.id, id, evidence::REPORTER)
        .await?
        .ok_or_else(|| Problem::not_found("photo", id))?;
    // Immutable once stored; private because a tracking code is the reporter's.
    Ok(ApiResponse::new(200, &content_type, bytes)
        .with_header("cache-control", "private, max-age=86400, immutable")
        .with_header("x-content-type-options", "nosniff"))
}

/// How far "problems near here" looks by default, and at most.
const NEAR_DEFAULT_M: f64 = 500.0;
const NEAR_MAX_M: f64 = 2_000.0;
/// How far back, and how many: the newest first.
const NEAR_DAYS: i64 = 90;
const NEAR_LIMIT: i64 = 50;

/// One public case as every public answer shows it (`case::publication`).
const PUBLIC_COLUMNS: &str = "c.id, c.public_id, c.status, c.category, k.name_zh, k.name_en, \
     c.description, c.lat, c.lng, c.created_at, c.updated_at";
const PUBLIC_FROM: &str = "FROM cases c JOIN categories k ON k.code = c.category WHERE";

async fn public_case_json<E: Env>(
    env: &E,
    r: crate::ports::Row<'_>,
) -> Result<PublicReport, Problem> {
    let public_id = r.text("public_id")?;
    let status = r.text("status")?;
    let status = crate::case::Status::parse(&status).ok_or_else(Problem::internal)?;
    let photos = evidence::public_of(env, &r.text("id")?)
        .await?
        .into_iter()
        .map(|id| PublicPhoto {
            href: publication::photo_path(&public_id, &id),
            id,
        })
        .collect();
    Ok(PublicReport {
        links: SelfLink {
            this: format!("/api/public/reports/{public_id}"),
        },
        public_id,
        status,
        status_words: Words {
            zh: publication::status_words(status, false).to_owned(),
            en: publication::status_words(status, true).to_owned(),
        },
        category: CategoryName {
            code: r.text("category")?,
            name_zh: r.text("name_zh")?,
            name_en: r.text("name_en")?,
        },
        description: publication::public_text(&r.text("description")?),
        lat: publication::rounded(r.f64("lat")?),
        lng: publication::rounded(r.f64("lng")?),
        created_at: crate::time::rfc3339(r.i64("created_at")?),
        updated_at: crate::time::rfc3339(r.i64("updated_at")?),
        photos,
    })
}

/// `GET /api/public/reports?lat=&lng=[&crs=][&radius_m=][&category=]`: public reports of the
/// last 90 days near a place, newest first ("problems near here", and the report form's "is it
/// already reported?"). Within the radius of the true points; shown rounded.
async fn public_near<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let mut errors = Vec::new();
    let number = |name: &str, errors: &mut Vec<FieldError>| match req.query_param(name) {
        None => None,
        Some(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .or_else(|| {
                errors.push(FieldError::new(name, "a number").with_code("invalid"));
                None
            }),
    };
    let lat = number("lat", &mut errors);
    let lng = number("lng", &mut errors);
    let radius = number("radius_m", &mut errors).unwrap_or(NEAR_DEFAULT_M);
    if !(1.0..=NEAR_MAX_M).contains(&radius) {
        errors.push(FieldError::new("radius_m", "1 to 2000 metres").with_code("out_of_range"));
    }
    let crs = match req.query_param("crs") {
        None => crate::grid::code::Crs::Wgs84,
        Some(c) => crate::grid::code::Crs::parse(&c).unwrap_or_else(|| {
            errors.push(FieldError::new("crs", "one of wgs84, gcj02, bd09").with_code("invalid"));
            crate::grid::code::Crs::Wgs84
        }),
    };
    for (name, value) in [("lat", lat), ("lng", lng)] {
        if value.is_none() && !errors.iter().any(|e| e.field == name) {
            errors.push(FieldError::new(name, "the place is required").with_code("required"));
        }
    }
    let point = match (lat, lng) {
        (Some(lat), Some(lng)) => crate::grid::code::Wgs84Point::parse(lat, lng, crs)
            .map_err(|e| errors.extend(e))
            .ok(),
        _ => None,
    };
    let category = req.query_param("category").filter(|c| !c.trim().is_empty());
    let (Some(point), true) = (point, errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    ready(env).await?;
    let dlat = radius / 110_574.0;
    let dlng = radius / (111_320.0 * point.lat.to_radians().cos().max(0.01));
    let since = env.now_ms() - NEAR_DAYS * crate::time::DAY_MS;
    let mut sql = format!(
        "SELECT {PUBLIC_COLUMNS} {PUBLIC_FROM} {} AND c.lat BETWEEN ? AND ? AND c.lng BETWEEN ? AND ? \
         AND c.created_at >= ?",
        publication::PUBLIC_CASES
    );
    let mut params: Vec<crate::Value> = vec![
        (point.lat - dlat).into(),
        (point.lat + dlat).into(),
        (point.lng - dlng).into(),
        (point.lng + dlng).into(),
        since.into(),
    ];
    if let Some(c) = &category {
        sql.push_str(" AND c.category = ?");
        params.push(c.as_str().into());
    }
    // The box is read through the place index; the newest within the radius are kept.
    sql.push_str(" ORDER BY c.created_at DESC LIMIT 500");
    let rows = env.execute(&sql, &params).await?;
    let mut items = Vec::new();
    for r in rows.iter() {
        let dy = (r.f64("lat")? - point.lat) * 110_574.0;
        let dx = (r.f64("lng")? - point.lng) * 111_320.0 * point.lat.to_radians().cos();
        if (dx * dx + dy * dy).sqrt() > radius {
            continue;
        }
        items.push(public_case_json(env, r).await?);
        if items.len() as i64 >= NEAR_LIMIT {
            break;
        }
    }
    Ok(ApiResponse::json(
        200,
        &PublicReportList {
            items,
            radius_m: radius,
        },
    )
    .with_header("cache-control", "public, max-age=30"))
}

/// `GET /api/public/reports/{public_id}`: one public report; any other id is not found.
async fn public_one<E: Env>(env: &E, id: &str) -> Result<ApiResponse, Problem> {
    let Some(public_id) = PublicId::parse(id) else {
        return Err(Problem::not_found("public report", id));
    };
    ready(env).await?;
    let rows = env
        .execute(
            &format!(
                "SELECT {PUBLIC_COLUMNS} {PUBLIC_FROM} {} AND c.public_id = ?",
                publication::PUBLIC_CASES
            ),
            &[public_id.as_str().into()],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Err(Problem::not_found("public report", id));
    };
    let body = public_case_json(env, row).await?;
    Ok(ApiResponse::json(200, &body).with_header("cache-control", "public, max-age=30"))
}

/// `GET /api/public/reports/{public_id}/photos/{id}`: a photo staff approved for the public.
async fn public_photo<E: Env>(env: &E, public_id: &str, id: &str) -> Result<ApiResponse, Problem> {
    ready(env).await?;
    let Some(case_id) = publication::public_case_id(env, public_id).await? else {
        return Err(Problem::not_found("public report", public_id));
    };
    let (content_type, bytes) = evidence::fetch_public(env, &case_id, id)
        .await?
        .ok_or_else(|| Problem::not_found("photo", id))?;
    // Short-lived: staff may withdraw it.
    Ok(ApiResponse::new(200, &content_type, bytes)
        .with_header("cache-control", "public, max-age=300")
        .with_header("x-content-type-options", "nosniff")
        .with_header("content-security-policy", "default-src 'none'; sandbox"))
}

async fn categories<E: Env>(env: &E) -> Result<ApiResponse, Problem> {
    ready(env).await?;
    let list = directory::categories(env).await?;
    Ok(ApiResponse::json(200, &list).with_header("cache-control", "public, max-age=60"))
}

async fn health<E: Env>(env: &E) -> Result<ApiResponse, Problem> {
    let schema_version = crate::app::schema::ensure(env).await?;
    let map_version = grid::current_version(env).await?;
    Ok(ApiResponse::json(
        200,
        &Health {
            status: "ok",
            schema_version,
            map_version,
        },
    ))
}

/// The reporter's rating of a closed case.
#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// The secret of the answer to `POST /api/reports`.
    secret: String,
    /// `satisfied`, `basically_satisfied` or `unsatisfied` (which opens a review).
    rating: String,
    #[schemars(length(max = 500))]
    comment: Option<String>,
}

/// The reporter rates a closed case with the secret given at submission; "unsatisfied" opens a
/// review for the centre.
async fn rate<E: Env>(env: &E, req: &ApiRequest, code: &str) -> Result<ApiResponse, Problem> {
    super::limited(env, req, limits::RATING_PER_CLIENT).await?;
    ready(env).await?;
    let input: RatingInput = req.json()?;
    let Some(satisfaction) = Satisfaction::parse(&input.rating) else {
        return Err(Problem::validation(vec![FieldError::new(
            "rating",
            "satisfied, basically_satisfied or unsatisfied",
        )]));
    };
    if input
        .comment
        .as_deref()
        .is_some_and(|c| c.chars().count() > 500)
    {
        return Err(Problem::validation(vec![FieldError::new(
            "comment",
            "at most 500 characters",
        )]));
    }
    let code = TrackingCode::parse(code).ok_or_else(|| Problem::not_found("report", code))?;
    // A place among the code's wrong guesses, taken before the secret is checked (so that
    // guessers from many addresses at once cannot pass the ceiling) and given back when the
    // secret is right: the reporter's own rating never spends it.
    let guess = limits::count(env, limits::RATING_WRONG_PER_CODE, code.as_str()).await?;
    let case = store::by_tracking_code(env, code.as_str())
        .await?
        .ok_or_else(|| Problem::not_found("report", code.as_str()))?;
    if !store::secret_matches(env, &case.id, &input.secret).await? {
        return Err(Problem::forbidden("the secret does not match this report"));
    }
    if let Some(guess) = &guess {
        limits::refund(env, guess).await?;
    }
    let now = env.now_ms();
    let actor = Actor {
        role: Role::Citizen,
        id: "citizen".into(),
        channel: Channel::Web,
    };
    let comment = input
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let details = serde_json::json!({"rating": input.rating, "comment": comment});
    let rated = MoveInput {
        rating: Some(Rating {
            rating: satisfaction,
            comment,
        }),
        ..MoveInput::default()
    };
    let (case, seq) = in_transaction(
        env,
        crate::app::cases::apply_move(env, &case, Move::Evaluate, &actor, &rated, details, now),
    )
    .await?;
    Ok(ApiResponse::json(
        200,
        &RatingReceipt {
            tracking_code: case.tracking_code,
            status: case.status,
            review_opened: satisfaction == Satisfaction::Unsatisfied,
            rating: satisfaction,
            event_seq: seq,
        },
    ))
}

// ---- the answers' types (their JSON Schemas are docs/openapi.json's, `api::openapi`)

/// The answer to `POST /api/reports`: the reporter keeps the tracking code and the secret.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportReceipt {
    pub id: String,
    pub tracking_code: String,
    /// Shown once: it rates the case later (only its hash is kept).
    pub secret: String,
    pub status: Status,
    pub category: CategoryName,
    pub grid: GridPlacement,
    pub links: ReportLinks,
    /// Whether the case shows on public lists (the reporter's choice, where allowed).
    pub public: bool,
    pub public_id: Option<String>,
    /// An open report of the same kind was already near: staff may merge this one into it.
    pub probable_duplicate: bool,
    /// How many photos were stored.
    pub photos: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportLinks {
    #[serde(rename = "self")]
    pub this: String,
    /// The tracking page.
    pub page: String,
    /// The public view, for a public report.
    pub public: Option<String>,
}

/// A category by its names.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CategoryName {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

impl CategoryName {
    fn of(c: &directory::Category) -> Self {
        CategoryName {
            code: c.code.clone(),
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone(),
        }
    }
}

/// The grid cell a report was placed in, with its chain (district down to its parent), and
/// how: inside the cell, or the nearest one within the tolerance.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GridPlacement {
    pub code: String,
    pub name: String,
    pub level: crate::grid::code::Level,
    pub chain: Vec<grid::GridRef>,
    #[serde(rename = "match")]
    pub kind: grid::index::MatchKind,
    pub distance_m: f64,
}

impl GridPlacement {
    fn of(m: grid::index::CellMatch) -> Self {
        GridPlacement {
            code: m.cell.code,
            name: m.cell.name,
            level: m.cell.level,
            chain: m.chain,
            kind: m.kind,
            distance_m: m.distance_m,
        }
    }
}

/// A grid area by code, with its name and chain where the current map still has it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AreaRef {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<crate::grid::code::Level>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<grid::GridRef>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DepartmentName {
    pub code: String,
    pub name: String,
}

/// One of the reporter's own photos.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportPhoto {
    pub id: String,
    pub caption: Option<String>,
    pub href: String,
}

/// The reporter's view of a report (`GET /api/reports/{tracking_code}`): no contact data, no
/// actors, phone and ID numbers in free text masked, only the lifecycle's events.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TrackedReport {
    pub tracking_code: String,
    /// For a merged report, the status of the report it was merged into.
    pub status: Status,
    /// Merged: the parent's public state (status, deadline, light) but never its tracking code,
    /// which is the parent reporter's capability.
    pub merged: bool,
    /// The parent's public id, where it is public: the reporter may follow it there.
    pub merged_into: Option<String>,
    pub public: bool,
    pub public_id: Option<String>,
    /// When the running step is due.
    pub deadline: Option<String>,
    pub light: Option<Light>,
    pub rating: Option<String>,
    pub category: Option<CategoryName>,
    pub description: String,
    pub address: Option<String>,
    pub grid: AreaRef,
    pub department: Option<DepartmentName>,
    pub channel: Channel,
    pub created_at: String,
    pub updated_at: String,
    pub photos: Vec<ReportPhoto>,
    pub timeline: Vec<PublicEvent>,
}

/// The answer to a rating.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RatingReceipt {
    pub tracking_code: String,
    pub status: Status,
    pub rating: Satisfaction,
    pub event_seq: i64,
    /// An unsatisfied rating opens a review for the centre.
    pub review_opened: bool,
}

/// A status in words, in both languages.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Words {
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SelfLink {
    #[serde(rename = "self")]
    pub this: String,
}

/// A photo staff approved for the public.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PublicPhoto {
    pub id: String,
    pub href: String,
}

/// A report as every public answer shows it, under the publication rule (docs/publication.md):
/// the place rounded to its 0.002° square, no address, no contact, the words masked.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PublicReport {
    pub public_id: String,
    pub status: Status,
    pub status_words: Words,
    pub category: CategoryName,
    pub description: String,
    pub lat: f64,
    pub lng: f64,
    pub created_at: String,
    pub updated_at: String,
    pub photos: Vec<PublicPhoto>,
    pub links: SelfLink,
}

/// Public reports near a place, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PublicReportList {
    pub items: Vec<PublicReport>,
    pub radius_m: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Health {
    pub status: &'static str,
    pub schema_version: i64,
    /// The current map version; none before a map is imported.
    pub map_version: Option<i64>,
}
