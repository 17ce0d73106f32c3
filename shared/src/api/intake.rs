//! Routes of the `intake` component: citizens' reports, the public tracking view, the
//! category list for the form, and health.

use serde_json::{Value as Json, json};

use super::routes::{Access::*, Route};
use super::{ready, respond};
use crate::access::auth::StaffRole;
use crate::app::report::Submitted;
use crate::case::publication;
use crate::case::report::{Channel, PHOTOS_MAX, PublicId, ReportInput, TrackingCode};
use crate::case::store::{self, Actor, PublicEvent};
use crate::case::{Move, MoveInput, Rating, Role, Satisfaction};
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
        "links": {"self": format!("/api/reports/{tracking}"), "page": format!("/track.html?code={tracking}"),
                  "public": public_link},
        // Whether the case shows on public lists (the reporter's choice, where allowed).
        "public": case.public,
        "public_id": case.public_id.as_ref().filter(|_| case.public),
        "probable_duplicate": !case.duplicate_candidates.is_empty(),
        "photos": photos.len(),
    });
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
            .map(|d| json!({"code": d.code, "name": d.name})),
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
            json!({"id": id, "caption": caption, "href": href})
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
    let body = json!({
        "tracking_code": case.tracking_code,
        "status": parent.as_ref().map_or(&case.status, |p| &p.status),
        // Merged: the parent's public state (status, deadline, light) but never its tracking
        // code, which is the parent reporter's capability (their page and photos).
        "merged": parent.is_some(),
        // The parent's public id where it is public: the reporter may follow it there.
        "merged_into": parent.as_ref().filter(|p| p.public).and_then(|p| p.public_id.clone()),
        "public": case.public,
        "public_id": case.public_id.as_ref().filter(|_| case.public),
        "deadline": parent.as_ref().unwrap_or(&case).step_deadline_at,
        "light": parent.as_ref().unwrap_or(&case).light(env.now_ms()),
        "rating": case.rating,
        "category": category.map(|c| json!({"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en})),
        "description": crate::mask::mask_free_text(&case.description),
        "address": case.address.as_deref().map(crate::mask::mask_free_text),
        "grid": grid.map(|g| json!({"code": g.code, "name": g.name, "level": g.level, "chain": g.chain}))
            .unwrap_or_else(|| json!({"code": case.grid_code})),
        "department": department,
        "channel": case.channel,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "photos": photos,
        "timeline": timeline,
    });
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

async fn public_case_json<E: Env>(env: &E, r: crate::ports::Row<'_>) -> Result<Json, Problem> {
    let public_id = r.text("public_id")?;
    let status = r.text("status")?;
    let words = crate::case::Status::parse(&status).map(|s| {
        json!({"zh": publication::status_words(s, false), "en": publication::status_words(s, true)})
    });
    let photos: Vec<Json> = evidence::public_of(env, &r.text("id")?)
        .await?
        .into_iter()
        .map(|id| json!({"id": id, "href": publication::photo_path(&public_id, &id)}))
        .collect();
    Ok(json!({
        "public_id": public_id,
        "status": status,
        "status_words": words,
        "category": {"code": r.text("category")?, "name_zh": r.text("name_zh")?, "name_en": r.text("name_en")?},
        "description": publication::public_text(&r.text("description")?),
        "lat": publication::rounded(r.f64("lat")?),
        "lng": publication::rounded(r.f64("lng")?),
        "created_at": crate::time::rfc3339(r.i64("created_at")?),
        "updated_at": crate::time::rfc3339(r.i64("updated_at")?),
        "photos": photos,
        "links": {"self": format!("/api/public/reports/{public_id}")},
    }))
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
    Ok(
        ApiResponse::json(200, &json!({"items": items, "radius_m": radius}))
            .with_header("cache-control", "public, max-age=30"),
    )
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
    let Some(public_id) = PublicId::parse(public_id) else {
        return Err(Problem::not_found("public report", public_id));
    };
    ready(env).await?;
    let rows = env
        .execute(
            &format!(
                "SELECT c.id {PUBLIC_FROM} {} AND c.public_id = ?",
                publication::PUBLIC_CASES
            ),
            &[public_id.as_str().into()],
        )
        .await?;
    let Some(case_id) = rows.first().map(|r| r.text("id")).transpose()? else {
        return Err(Problem::not_found("public report", public_id.as_str()));
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
        &json!({"status": "ok", "schema_version": schema_version, "map_version": map_version}),
    ))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingInput {
    secret: String,
    rating: String,
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
        &json!({"tracking_code": case.tracking_code, "status": case.status, "rating": input.rating, "event_seq": seq,
                "review_opened": input.rating == "unsatisfied"}),
    ))
}
