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

async fn cell<E: Env>(env: &E, req: &ApiRequest, code: &str) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, REGISTRY_STAFF).await?;
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
    let view = registry::cell_view(env, &cell).await?;
    Ok(ApiResponse::json(200, &view))
}
