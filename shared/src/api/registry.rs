//! Routes of the `registry` component: the base registry of addresses, households and people
//! (人·地), kept by the grid workers and operators of each cell. Every route is staff-only, in
//! the caller's scope; every look at a person is recorded (`registry::search`, `person`).

use serde::Serialize;
use serde_json::Value as Json;

use super::respond;
use super::routes::{Access::*, Route};
use crate::access::auth::{ADMINS, StaffRole};
use crate::grid::code::GridCode;
use crate::http::problem::FieldError;
use crate::http::routes;
use crate::registry::import;
use crate::registry::visits::{self, ItemState, VisitInput};
use crate::registry::{self, AddressInput, HouseholdInput, PersonInput, SearchInput, Tag};
use crate::{ApiRequest, ApiResponse, Env, Problem};

/// Who keeps the registry and reads it: the operators of an area and the grid workers of their
/// cells, and the administrator (the data office's imports). A department's scope is its cases,
/// not a place: it has none here.
pub const REGISTRY_STAFF: &[StaffRole] = &[
    StaffRole::CityOperator,
    StaffRole::DistrictOperator,
    StaffRole::StreetOperator,
    StaffRole::GridWorker,
    StaffRole::Admin,
];
/// Who reads the record of looks at a person: the administrator, and the city's operators
/// who answer for the data.
pub const READ_AUDITORS: &[StaffRole] = &[StaffRole::Admin, StaffRole::CityOperator];

/// Who records visits: the grid workers, in their own cells (近邻串门 is their work).
pub const WORKERS: &[StaffRole] = &[StaffRole::GridWorker];
/// The most visits a cell's list of recent visits shows, and its whole view.
const RECENT_VISITS: usize = 50;
const CELL_VIEW_VISITS: usize = 10;

/// The most entries of a person's read record one answer lists.
const READS_LIMIT: usize = 200;

/// The routes of the `registry` component.
#[rustfmt::skip]
pub const ROUTES: &[Route<Op>] = &[
    Route::get("/api/registry/tags", Staff(REGISTRY_STAFF), Op::Tags),
    Route::post("/api/admin/registry/tags", Staff(ADMINS), Op::SaveTags),
    Route::post("/api/registry/addresses", Staff(REGISTRY_STAFF), Op::Addresses),
    Route::post("/api/registry/households", Staff(REGISTRY_STAFF), Op::Households),
    Route::post("/api/registry/people", Staff(REGISTRY_STAFF), Op::People),
    Route::post("/api/registry/search", Staff(REGISTRY_STAFF), Op::Search),
    Route::get("/api/registry/people/{id}", Staff(REGISTRY_STAFF), Op::Person),
    Route::get("/api/registry/people/{id}/reads", Staff(READ_AUDITORS), Op::Reads),
    Route::get("/api/registry/cells/{code}", Staff(REGISTRY_STAFF), Op::Cell),
    Route::post("/api/registry/visits", Staff(WORKERS), Op::Visit),
    Route::get("/api/registry/workers/me/day", Staff(WORKERS), Op::WorkerDay),
    Route::get("/api/registry/cells/{code}/visits", Staff(REGISTRY_STAFF), Op::CellVisits),
    Route::get("/api/registry/cells/{code}/items", Staff(REGISTRY_STAFF), Op::CellItems),
    Route::post("/api/registry/cells/{code}/items", Staff(REGISTRY_STAFF), Op::AddItem),
    Route::patch("/api/registry/items/{id}", Staff(REGISTRY_STAFF), Op::UpdateItem),
    Route::post("/api/registry/import/{entity}", Staff(REGISTRY_STAFF), Op::Import),
    Route::get("/api/registry/templates/{file}", Staff(REGISTRY_STAFF), Op::Template),
];

/// The operations of [`ROUTES`], one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Tags,
    SaveTags,
    Addresses,
    Households,
    People,
    Search,
    Person,
    Reads,
    Cell,
    Visit,
    WorkerDay,
    CellVisits,
    CellItems,
    AddItem,
    UpdateItem,
    Import,
    Template,
}

/// Answers every route of the `registry` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let (route, p) = match routes::find(ROUTES, &req) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    respond(match route.id {
        Op::Tags => tags(env, &req).await,
        Op::SaveTags => save_tags(env, &req).await,
        Op::Addresses => addresses(env, &req).await,
        Op::Households => households(env, &req).await,
        Op::People => people(env, &req).await,
        Op::Search => search(env, &req).await,
        Op::Person => person(env, &req, &p["id"]).await,
        Op::Reads => reads(env, &req, &p["id"]).await,
        Op::Cell => cell(env, &req, &p["code"]).await,
        Op::Visit => visit(env, &req).await,
        Op::WorkerDay => worker_day(env, &req).await,
        Op::CellVisits => cell_visits(env, &req, &p["code"]).await,
        Op::CellItems => cell_items(env, &req, &p["code"]).await,
        Op::AddItem => add_item(env, &req, &p["code"]).await,
        Op::UpdateItem => update_item(env, &req, &p["id"]).await,
        Op::Import => import(env, &req, &p["entity"]).await,
        Op::Template => template(env, &req, &p["file"]).await,
    })
}

/// What a registering route reads: one record, or an array of them (for the document; the
/// handlers read it with [`batch`], whose errors name the field).
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

/// A body of one record or an array of them.
fn batch<T: serde::de::DeserializeOwned>(req: &ApiRequest) -> Result<Vec<T>, Problem> {
    let list = match req.json::<Json>()? {
        Json::Array(items) => items,
        one => vec![one],
    };
    serde_json::from_value(Json::Array(list))
        .map_err(|e| Problem::validation(vec![FieldError::new("body", e.to_string())]))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TagList {
    pub tags: Vec<Tag>,
}

async fn tags<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, REGISTRY_STAFF).await?;
    let tags = registry::tags(env).await?;
    Ok(ApiResponse::json(200, &TagList { tags }))
}

async fn save_tags<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, ADMINS).await?;
    let input: Vec<Tag> = batch(req)?;
    registry::save_tags(env, &input, env.now_ms()).await?;
    let tags = registry::tags(env).await?;
    Ok(ApiResponse::json(200, &TagList { tags }))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AddressesRegistered {
    pub registered: usize,
    pub addresses: Vec<registry::Address>,
}

async fn addresses<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let input: Vec<AddressInput> = batch(req)?;
    let addresses = registry::register_addresses(env, &who, &input).await?;
    Ok(ApiResponse::json(
        200,
        &AddressesRegistered {
            registered: addresses.len(),
            addresses,
        },
    ))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct HouseholdsRegistered {
    pub registered: usize,
    pub households: Vec<registry::Household>,
}

async fn households<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let input: Vec<HouseholdInput> = batch(req)?;
    let households = registry::register_households(env, &who, &input).await?;
    Ok(ApiResponse::json(
        200,
        &HouseholdsRegistered {
            registered: households.len(),
            households,
        },
    ))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PeopleRegistered {
    pub registered: usize,
    /// Each person's id and whether it was created or updated: nothing personal comes back.
    pub people: Vec<registry::Registered>,
}

async fn people<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let input: Vec<PersonInput> = batch(req)?;
    let people = registry::register_people(env, &who, &input).await?;
    Ok(ApiResponse::json(
        200,
        &PeopleRegistered {
            registered: people.len(),
            people,
        },
    ))
}

async fn search<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let input: SearchInput = req.json()?;
    let found = registry::search(env, &who, &input).await?;
    Ok(ApiResponse::json(200, &found))
}

async fn person<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let reveal = match req.query_param("reveal").as_deref() {
        None => false,
        Some("id_number") => true,
        Some(_) => {
            return Err(Problem::validation(vec![
                FieldError::new("reveal", "id_number, or leave it out for the masked view")
                    .with_code("one_of"),
            ]));
        }
    };
    if !registry::valid_id(id) {
        return Err(Problem::not_found("person", id));
    }
    match registry::person(env, &who, id, reveal).await? {
        Some(view) => Ok(ApiResponse::json(200, &view)),
        None => Err(Problem::not_found("person", id)),
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReadRecord {
    pub person_id: String,
    /// Newest first, at most 200.
    pub reads: Vec<registry::Read>,
}

async fn reads<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    super::staff(env, req, READ_AUDITORS).await?;
    if !registry::valid_id(id) || !registry::person_exists(env, id).await? {
        return Err(Problem::not_found("person", id));
    }
    let reads = registry::reads(env, id, READS_LIMIT).await?;
    Ok(ApiResponse::json(
        200,
        &ReadRecord {
            person_id: id.to_owned(),
            reads,
        },
    ))
}

/// The cell of a `{code}` path parameter, which the caller must cover.
fn covered_cell(who: &crate::access::auth::Principal, code: &str) -> Result<GridCode, Problem> {
    let cell = GridCode::parse(code)
        .ok()
        .filter(|c| c.level() == crate::grid::code::Level::Cell)
        .ok_or_else(|| {
            Problem::validation(vec![FieldError::new("code", "a cell code (15 digits)")])
        })?;
    if !who.covers(cell.as_str()) {
        return Err(Problem::forbidden(format!(
            "cell {code} is outside the part of the city you cover"
        )));
    }
    Ok(cell)
}

async fn cell<E: Env>(env: &E, req: &ApiRequest, code: &str) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let cell = covered_cell(&who, code)?;
    let now = env.now_ms();
    let view = registry::cell_view(env, &cell).await?;
    let mut unmet = visits::items(env, cell.as_str(), None, Some(ItemState::Open), now).await?;
    unmet.extend(visits::items(env, cell.as_str(), None, Some(ItemState::InProgress), now).await?);
    let recent_visits = visits::recent_visits(env, cell.as_str(), CELL_VIEW_VISITS).await?;
    Ok(ApiResponse::json(
        200,
        &CellRegistry {
            view,
            unmet_items: unmet,
            recent_visits,
        },
    ))
}

/// A cell's whole view: its registry (counts, no names), the list items not yet met, and the
/// latest visits.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CellRegistry {
    #[serde(flatten)]
    pub view: registry::CellView,
    /// Open and in-progress items of the three lists, oldest first in each state.
    pub unmet_items: Vec<visits::ListItem>,
    /// The latest visits, newest first.
    pub recent_visits: Vec<visits::Visit>,
}

/// A visit synced from the field page: 201 when stored, 200 with the same visit when its key
/// was synced before.
async fn visit<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, WORKERS).await?;
    let input: VisitInput = req.json()?;
    let (visit, created) = crate::app::visit::record(env, &who, &input).await?;
    Ok(ApiResponse::json(if created { 201 } else { 200 }, &visit))
}

async fn worker_day<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, WORKERS).await?;
    let day = match req.query_param("date") {
        None => crate::time::city_day(env.now_ms()),
        Some(d) => crate::time::parse_date(d.trim()).ok_or_else(|| {
            Problem::validation(vec![FieldError::new("date", "a date, YYYY-MM-DD")])
        })?,
    };
    let day = visits::worker_day(env, &who.id, day).await?;
    Ok(ApiResponse::json(200, &day))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct VisitList {
    pub grid_code: String,
    /// Newest first, at most 50.
    pub visits: Vec<visits::Visit>,
}

async fn cell_visits<E: Env>(
    env: &E,
    req: &ApiRequest,
    code: &str,
) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let cell = covered_cell(&who, code)?;
    let visits = visits::recent_visits(env, cell.as_str(), RECENT_VISITS).await?;
    Ok(ApiResponse::json(
        200,
        &VisitList {
            grid_code: cell.as_str().to_owned(),
            visits,
        },
    ))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ItemList {
    pub grid_code: String,
    /// Oldest first.
    pub items: Vec<visits::ListItem>,
}

async fn cell_items<E: Env>(env: &E, req: &ApiRequest, code: &str) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let cell = covered_cell(&who, code)?;
    let mut errors = Vec::new();
    let list = req.query_param("list").and_then(|l| {
        let parsed = visits::ListKind::parse(&l);
        if parsed.is_none() {
            errors.push(FieldError::new("list", "one of needs, concerns, resources"));
        }
        parsed
    });
    let state = req.query_param("state").and_then(|s| {
        let parsed = visits::ItemState::parse(&s);
        if parsed.is_none() {
            errors.push(FieldError::new("state", "one of open, in_progress, met"));
        }
        parsed
    });
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let items = visits::items(env, cell.as_str(), list, state, env.now_ms()).await?;
    Ok(ApiResponse::json(
        200,
        &ItemList {
            grid_code: cell.as_str().to_owned(),
            items,
        },
    ))
}

async fn add_item<E: Env>(env: &E, req: &ApiRequest, code: &str) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let cell = covered_cell(&who, code)?;
    let input: visits::ItemInput = req.json()?;
    let item = visits::add_item(env, &who, &cell, &input, env.now_ms()).await?;
    Ok(ApiResponse::json(201, &item))
}

async fn update_item<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let patch: visits::ItemPatch = req.json()?;
    if !registry::valid_id(id) {
        return Err(Problem::not_found("list item", id));
    }
    match visits::update_item(env, &who, id, &patch, env.now_ms()).await? {
        Some(item) => Ok(ApiResponse::json(200, &item)),
        None => Err(Problem::not_found("list item", id)),
    }
}

/// What an import of a spreadsheet stored: one line per row, as a JSON batch answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Imported {
    pub entity: String,
    pub rows: usize,
    /// The registering command's answer for the rows, in their order.
    pub result: Json,
}

fn entity_of(name: &str) -> Result<import::Entity, Problem> {
    import::Entity::parse(name).ok_or_else(|| Problem::not_found("registry template", name))
}

/// A spreadsheet of one entity (CSV or .xlsx, by its content type), checked row by row and
/// stored whole through the same command as a JSON batch; errors name the row and the column.
async fn import<E: Env>(env: &E, req: &ApiRequest, entity: &str) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
    let entity_kind = entity_of(entity)?;
    let media = req
        .header("content-type")
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let format = match media.as_str() {
        "text/csv" => import::Format::Csv,
        import::XLSX_TYPE => import::Format::Xlsx,
        _ => {
            return Err(Problem::unsupported_media_type(&format!(
                "text/csv or {}",
                import::XLSX_TYPE
            )));
        }
    };
    let tags = registry::tags(env).await?;
    let rows = import::rows(entity_kind, format, &req.body, &tags)?;
    // Each row read as its entity's input, so that a wrong type names the row.
    fn inputs<T: serde::de::DeserializeOwned>(rows: &[(usize, Json)]) -> Result<Vec<T>, Problem> {
        let mut errors = Vec::new();
        let mut out = Vec::new();
        for (row, item) in rows {
            match serde_json::from_value::<T>(item.clone()) {
                Ok(v) => out.push(v),
                Err(e) => errors.push(FieldError::new(&format!("row {row}"), e.to_string())),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(Problem::validation(errors))
        }
    }
    let in_rows = |p: Problem| import::in_rows(entity_kind, p, &rows);
    let result = match entity_kind {
        import::Entity::Addresses => {
            let list = registry::register_addresses(env, &who, &inputs::<AddressInput>(&rows)?)
                .await
                .map_err(in_rows)?;
            serde_json::to_value(list)
        }
        import::Entity::Households => {
            let list = registry::register_households(env, &who, &inputs::<HouseholdInput>(&rows)?)
                .await
                .map_err(in_rows)?;
            serde_json::to_value(list)
        }
        import::Entity::People => {
            let list = registry::register_people(env, &who, &inputs::<PersonInput>(&rows)?)
                .await
                .map_err(in_rows)?;
            serde_json::to_value(list)
        }
    }
    .map_err(|_| Problem::internal())?;
    Ok(ApiResponse::json(
        200,
        &Imported {
            entity: entity.to_owned(),
            rows: rows.len(),
            result,
        },
    ))
}

/// `addresses.csv`, `households.csv`, `people.csv`: the header row offices fill in.
async fn template<E: Env>(env: &E, req: &ApiRequest, file: &str) -> Result<ApiResponse, Problem> {
    super::staff(env, req, REGISTRY_STAFF).await?;
    let entity = file
        .strip_suffix(".csv")
        .ok_or_else(|| Problem::not_found("registry template", file))?;
    let csv = import::template(entity_of(entity)?);
    Ok(
        ApiResponse::new(200, "text/csv; charset=utf-8", csv.into_bytes()).with_header(
            "content-disposition",
            format!("attachment; filename=\"{file}\""),
        ),
    )
}
