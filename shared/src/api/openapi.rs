//! What docs/openapi.json takes from the code. The document's prose (summaries, parameters,
//! the statuses particular to a route) is written by hand; this module makes the rest of it:
//! - `components.schemas`, the JSON Schemas of the types the handlers read and answer, derived
//!   by `schemars` (requests as serde reads them, answers as serde writes them);
//! - each operation's JSON request body and JSON answers, as references to those schemas, from
//!   [`TYPED`], the one table of which route reads and answers which type;
//! - the statuses every route of a kind can give, from its route table entry (`Access`, method):
//!   401 and 403 where a caller must be known, 429 where callers are counted, 413 where a body
//!   may be sent, 400, 415 and 422 where a JSON body is read, 404 where the path names a format, 503 (the host's brakes)
//!   everywhere;
//! - `servers`, and the problem types a `Problem` may carry, from the catalogue.
//!
//! `openapi_tests` holds docs/openapi.json to be exactly what [`generate`] makes of it; run
//! `UPDATE_OPENAPI=1 cargo test -p onegrid-shared openapi` after changing a type or a table.

use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value as Json, json};

use super::routes::{Access, every_route};
use super::{accounts, assets, dispatch, grid, indicators, ingest, intake, open311, registry};
use crate::http::problem::{ProblemType, TYPE_PREFIX};

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// One operation's typed bodies: what it reads (as `application/json`) and what it answers.
pub struct Typed {
    pub method: &'static str,
    pub path: &'static str,
    pub request: Option<SchemaFn>,
    pub answers: &'static [(u16, SchemaFn)],
}

const fn op(
    method: &'static str,
    path: &'static str,
    request: Option<SchemaFn>,
    answers: &'static [(u16, SchemaFn)],
) -> Typed {
    Typed {
        method,
        path,
        request,
        answers,
    }
}

use crate::access::accounts::{Account, AccountPatch, NewAccount};
use crate::access::keys::{ApiKey, NewKey};
use crate::directory::{Category, CategoryInput, Department, DepartmentInput, DepartmentListing};
use crate::exchange::platforms::{Platform, PlatformInput};

/// Which type each JSON body of each route is. Routes whose bodies are not JSON (photos, SVG,
/// CSV, a redirect, Open311's XML-or-JSON of the GeoReport v2 spec, whose schemas are written
/// from the spec) and the two free-form inputs (a GeoJSON map, a platform's own payload) are
/// described by hand in the document.
#[rustfmt::skip]
pub const TYPED: &[Typed] = &[
    // intake
    op("POST", "/api/reports", Some(of::<crate::case::report::ReportInput>), &[(201, of::<intake::ReportReceipt>)]),
    op("GET", "/api/reports/{tracking_code}", None, &[(200, of::<intake::TrackedReport>)]),
    op("POST", "/api/reports/{tracking_code}/rating", Some(of::<intake::RatingInput>), &[(200, of::<intake::RatingReceipt>)]),
    op("GET", "/api/public/reports", None, &[(200, of::<intake::PublicReportList>)]),
    op("GET", "/api/public/reports/{public_id}", None, &[(200, of::<intake::PublicReport>)]),
    op("GET", "/api/categories", None, &[(200, of::<Vec<Category>>)]),
    op("GET", "/api/health", None, &[(200, of::<intake::Health>)]),
    // grid
    op("GET", "/api/grid/lookup", None, &[(200, of::<grid::Lookup>)]),
    op("GET", "/api/grids", None, &[(200, of::<super::Items<crate::grid::GridRef>>)]),
    op("GET", "/api/grids/{code}", None, &[(200, of::<crate::grid::GridDetail>)]),
    op("GET", "/api/grids/{code}/workers", None, &[(200, of::<grid::CellWorkers>)]),
    op("POST", "/api/admin/grids", None, &[(201, of::<grid::ImportAnswer>), (202, of::<crate::grid::upload::Progress>)]),
    op("POST", "/api/admin/demo", None, &[(201, of::<crate::demo::Seeded>), (200, of::<crate::demo::Seeded>)]),
    // assets
    op("GET", "/api/assets", None, &[(200, of::<assets::AreaAssets>)]),
    op("GET", "/api/assets/{id}", None, &[(200, of::<crate::assets::AssetView>)]),
    op("POST", "/api/admin/assets", Some(of::<assets::AssetBatch>), &[(201, of::<assets::Registered>)]),
    // dispatch
    op("GET", "/api/cases", None, &[(200, of::<dispatch::CaseList>)]),
    op("GET", "/api/cases/{id}", None, &[(200, of::<dispatch::CaseView>)]),
    op("POST", "/api/cases/{id}/moves", Some(of::<dispatch::MoveRequest>), &[(200, of::<dispatch::MoveAnswer>)]),
    op("POST", "/api/cases/{id}/dispatch", Some(of::<dispatch::MoveRequest>), &[(200, of::<dispatch::MoveAnswer>)]),
    op("GET", "/api/cases/{id}/mediation", None, &[(200, of::<dispatch::MediationRecord>)]),
    op("POST", "/api/cases/{id}/mediation", Some(of::<crate::case::mediation::Entry>), &[(201, of::<dispatch::MediationAdded>)]),
    op("PUT", "/api/cases/{id}/publication", Some(of::<crate::app::publication::PublicationInput>), &[(200, of::<dispatch::PublicationAnswer>)]),
    op("GET", "/api/departments", None, &[(200, of::<super::Items<DepartmentListing>>)]),
    op("GET", "/api/routing", None, &[(200, of::<crate::directory::routing::RuleSet>)]),
    op("POST", "/api/routing/preview", Some(of::<dispatch::PreviewRequest>), &[(200, of::<dispatch::RoutingPreview>)]),
    op("PUT", "/api/admin/routing", Some(of::<dispatch::RoutingPut>), &[(200, of::<crate::directory::routing::RuleSet>)]),
    op("GET", "/api/outbox", None, &[(200, of::<super::Items<crate::exchange::outbox::Message>>)]),
    op("POST", "/api/outbox/{id}/resend", None, &[(200, of::<dispatch::Resent>)]),
    op("POST", "/api/sweep", None, &[(200, of::<crate::app::sweep::SweepReport>)]),
    op("PUT", "/api/admin/departments/{code}", Some(of::<DepartmentInput>), &[(200, of::<Department>)]),
    op("PUT", "/api/admin/categories/{code}", Some(of::<CategoryInput>), &[(200, of::<Category>)]),
    op("PUT", "/api/admin/categories/{code}/open311", Some(of::<crate::exchange::open311::Definition>), &[(200, of::<open311::CategoryDefinition>)]),
    // callbacks
    op("POST", "/api/callbacks/{department}", Some(of::<crate::app::callback::CallbackInput>), &[(200, of::<crate::app::callback::CallbackAnswer>)]),
    // accounts
    op("POST", "/api/session", Some(of::<accounts::Credentials>), &[(201, of::<accounts::SignedIn>)]),
    op("GET", "/api/session", None, &[(200, of::<accounts::WhoAmI>)]),
    op("POST", "/api/admin/accounts", Some(of::<NewAccount>), &[(201, of::<Account>)]),
    op("GET", "/api/admin/accounts", None, &[(200, of::<accounts::AccountList>)]),
    op("GET", "/api/admin/accounts/{id}", None, &[(200, of::<Account>)]),
    op("PATCH", "/api/admin/accounts/{id}", Some(of::<AccountPatch>), &[(200, of::<Account>)]),
    // indicators
    op("GET", "/api/indicators", None, &[(200, of::<indicators::Report>)]),
    // ingest
    op("POST", "/api/ingest/{platform}", None, &[(201, of::<crate::app::ingest::IngestAnswer>), (200, of::<crate::app::ingest::IngestAnswer>)]),
    op("GET", "/api/admin/platforms", None, &[(200, of::<super::Items<Platform>>)]),
    op("GET", "/api/admin/platforms/{code}", None, &[(200, of::<Platform>)]),
    op("PUT", "/api/admin/platforms/{code}", Some(of::<PlatformInput>), &[(200, of::<Platform>)]),
    op("GET", "/api/admin/keys", None, &[(200, of::<super::Items<ApiKey>>)]),
    op("POST", "/api/admin/keys", Some(of::<NewKey>), &[(201, of::<ingest::CreatedKey>)]),
    op("DELETE", "/api/admin/keys/{id}", None, &[(200, of::<ApiKey>)]),
    // registry
    op("GET", "/api/registry/tags", None, &[(200, of::<registry::TagList>)]),
    op("POST", "/api/admin/registry/tags", Some(of::<registry::OneOrMany<crate::registry::Tag>>), &[(200, of::<registry::TagList>)]),
    op("POST", "/api/registry/addresses", Some(of::<registry::OneOrMany<crate::registry::AddressInput>>), &[(200, of::<registry::AddressesRegistered>)]),
    op("POST", "/api/registry/households", Some(of::<registry::OneOrMany<crate::registry::HouseholdInput>>), &[(200, of::<registry::HouseholdsRegistered>)]),
    op("POST", "/api/registry/people", Some(of::<registry::OneOrMany<crate::registry::PersonInput>>), &[(200, of::<registry::PeopleRegistered>)]),
    op("POST", "/api/registry/search", Some(of::<crate::registry::SearchInput>), &[(200, of::<crate::registry::SearchResult>)]),
    op("GET", "/api/registry/people/{id}", None, &[(200, of::<crate::registry::PersonView>)]),
    op("GET", "/api/registry/people/{id}/reads", None, &[(200, of::<registry::ReadRecord>)]),
    op("GET", "/api/registry/cells/{code}", None, &[(200, of::<registry::CellRegistry>)]),
    op("POST", "/api/registry/visits", Some(of::<crate::registry::visits::VisitInput>), &[(201, of::<crate::registry::visits::Visit>), (200, of::<crate::registry::visits::Visit>)]),
    op("GET", "/api/registry/workers/me/day", None, &[(200, of::<crate::registry::visits::WorkerDay>)]),
    op("GET", "/api/registry/cells/{code}/visits", None, &[(200, of::<registry::VisitList>)]),
    op("GET", "/api/registry/cells/{code}/items", None, &[(200, of::<registry::ItemList>)]),
    op("POST", "/api/registry/cells/{code}/items", Some(of::<crate::registry::visits::ItemInput>), &[(201, of::<crate::registry::visits::ListItem>)]),
    op("POST", "/api/registry/import/{entity}", None, &[(200, of::<registry::Imported>)]),
    op("PATCH", "/api/registry/items/{id}", Some(of::<crate::registry::visits::ItemPatch>), &[(200, of::<crate::registry::visits::ListItem>)]),
    // early warning, on the indicators component
    op("GET", "/api/alerts", None, &[(200, of::<super::alerts::AlertList>)]),
    op("GET", "/api/alerts/figures", None, &[(200, of::<super::alerts::AlertFigures>)]),
    op("GET", "/api/alerts/{id}", None, &[(200, of::<super::alerts::AlertDetail>)]),
    op("POST", "/api/alerts/{id}/moves", Some(of::<crate::app::alerts::AlertMove>), &[(200, of::<super::alerts::AlertDetail>)]),
    // open311's staff side
    op("GET", "/api/open311/pending", None, &[(200, of::<super::Items<open311::PendingRequest>>)]),
    op("POST", "/api/open311/pending/{token}/place", Some(of::<open311::Placement>), &[(201, of::<open311::Placed>)]),
];

/// Schemas written by hand in the document, kept as they are: Open311's answers and forms
/// (GeoReport v2, rendered to XML or JSON from one tree) and the two free-form inputs.
pub fn kept_by_hand(name: &str) -> bool {
    name.starts_with("Open311") || name == "GeoJsonMap" || name == "PlatformPayload"
}

fn generator(contract: Contract) -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
            s.contract = contract;
        })
        .into_generator()
}

/// One row of [`TYPED`] made into schemas: its request body's and its answers', by status.
pub struct Bodies {
    pub typed: &'static Typed,
    pub request: Option<Json>,
    pub answers: Vec<(u16, Json)>,
}

/// The generated schemas, by name, and the bodies that refer to them: answers as serialized,
/// requests as deserialized. A type both read and answered whose two schemas differ is named
/// `…Input` on the request side.
pub fn schemas() -> (Map<String, Json>, Vec<Bodies>) {
    let mut answers = generator(Contract::Serialize);
    let mut requests = generator(Contract::Deserialize);
    let mut bodies = Vec::new();
    for typed in TYPED {
        bodies.push(Bodies {
            typed,
            request: typed.request.map(|f| f(&mut requests).to_value()),
            answers: typed
                .answers
                .iter()
                .map(|(status, f)| (*status, f(&mut answers).to_value()))
                .collect(),
        });
    }
    let mut all: Map<String, Json> = answers.take_definitions(true).into_iter().collect();
    let read: Map<String, Json> = requests.take_definitions(true).into_iter().collect();
    let renamed: Vec<String> = read
        .iter()
        .filter(|(name, schema)| all.get(*name).is_some_and(|s| s != *schema))
        .map(|(name, _)| name.clone())
        .collect();
    let rename = |value: &mut Json| {
        for name in &renamed {
            rename_ref(value, name, &format!("{name}Input"));
        }
    };
    for (name, mut schema) in read {
        rename(&mut schema);
        let name = if renamed.contains(&name) {
            format!("{name}Input")
        } else {
            name
        };
        all.insert(name, schema);
    }
    for body in &mut bodies {
        if let Some(r) = &mut body.request {
            rename(r);
        }
    }
    // `Problem` is written by `Problem::into_response`, not derived; its errors' type is.
    answers.subschema_for::<crate::http::problem::FieldError>();
    all.extend(answers.take_definitions(true));
    all.insert("Problem".into(), problem_schema());
    (all, bodies)
}

fn rename_ref(value: &mut Json, from: &str, to: &str) {
    match value {
        Json::Object(map) => {
            if let Some(Json::String(r)) = map.get_mut("$ref")
                && r.strip_prefix("#/components/schemas/") == Some(from)
            {
                *r = format!("#/components/schemas/{to}");
            }
            map.values_mut().for_each(|v| rename_ref(v, from, to));
        }
        Json::Array(items) => items.iter_mut().for_each(|v| rename_ref(v, from, to)),
        _ => {}
    }
}

/// RFC 9457 problem details as `Problem::into_response` writes them; `type` is one of the
/// catalogue's (docs/problems.md).
fn problem_schema() -> Json {
    let types: Vec<String> = ProblemType::ALL
        .iter()
        .map(|t| format!("{TYPE_PREFIX}{}", t.slug()))
        .collect();
    json!({
        "type": "object",
        "description": "RFC 9457 problem details (application/problem+json); docs/problems.md explains each type",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "enum": types},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "validation-failed: one entry per field",
                "items": {"$ref": "#/components/schemas/FieldError"}
            },
            "allowed_moves": {"type": "array", "items": {"type": "string"}},
            "status_now": {"type": "string"}
        }
    })
}

/// The statuses every route with this access and method can give, by shared response.
fn shared_statuses(access: Access, method: &str, reads_json: bool) -> Vec<&'static str> {
    let mut out = Vec::new();
    let public = matches!(
        access,
        Access::PublicRateLimited | Access::PublicOrStaff(_) | Access::Reporter
    );
    match access {
        // Open311 clients are refused with 403 for a missing or wrong `api_key`, as the spec says.
        Access::ApiKey => out.push("403"),
        _ if !public => out.extend(["401", "403"]),
        _ => {}
    }
    if matches!(access, Access::PublicOrStaff(_)) {
        // A token that is sent is checked.
        out.extend(["401", "403"]);
    }
    if public || matches!(access, Access::ApiKey) {
        out.push("429");
    }
    if method != "get" && method != "delete" {
        // Any body may be too large (413, before a handler runs).
        out.push("413");
    }
    if reads_json && method != "get" {
        out.extend(["400", "415", "422"]);
    }
    out.push("503");
    out
}

/// docs/openapi.json as it must be: `doc` with every generated part made again.
pub fn generate(doc: &Json) -> Json {
    let mut doc = doc.clone();
    let (schemas, bodies) = schemas();
    let kept: Map<String, Json> = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| kept_by_hand(name))
        .map(|(n, s)| (n.clone(), s.clone()))
        .collect();
    let mut all = schemas;
    all.extend(kept);
    doc["components"]["schemas"] = Json::Object(all);
    doc["servers"] = json!([
        {"url": "/", "description": "The host that serves this document"},
        {"url": "http://127.0.0.1:3000", "description": "The native host (`cargo run --release -p onegrid`) or `spin up`, as started by README"}
    ]);
    for Bodies {
        typed: t,
        request,
        answers,
    } in bodies
    {
        let operation = &mut doc["paths"][t.path][t.method.to_lowercase()];
        if let Some(schema) = request {
            operation["requestBody"]["required"] = json!(true);
            operation["requestBody"]["content"]["application/json"]["schema"] = schema;
        }
        for (status, schema) in answers {
            let answer = &mut operation["responses"][status.to_string()];
            if answer.get("description").is_none() {
                answer["description"] = json!("Done");
            }
            answer["content"]["application/json"]["schema"] = schema;
        }
    }
    for route in every_route() {
        let method = route.method.as_str().to_lowercase();
        let operation = &mut doc["paths"][route.path][method.as_str()];
        let reads_json = operation["requestBody"]["content"]
            .as_object()
            .is_some_and(|c| c.keys().any(|k| k.ends_with("json")));
        let open311 = route.path.starts_with("/open311/");
        let mut statuses = shared_statuses(route.access, &method, reads_json);
        if route.path.contains(".{format}") {
            statuses.push("404"); // a format other than xml or json
        }
        for status in statuses {
            let responses = &mut operation["responses"];
            if responses.get(status).is_none() {
                let name = if open311 && status != "503" {
                    format!("Open311Error{status}")
                } else {
                    format!("P{status}")
                };
                responses[status] = json!({"$ref": format!("#/components/responses/{name}")});
            }
        }
    }
    doc
}
