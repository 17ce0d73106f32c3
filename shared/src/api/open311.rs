//! Routes of the `open311` component: Open311 GeoReport v2 under `/open311/v2/` (discovery,
//! services, service definitions, requests, tokens, and the service request updates extension)
//! in XML or JSON, with the spec's errors; and, for operators, the requests that came without
//! a point and wait to be placed on the map (`/api/open311/pending`).

use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::routes::{Access::*, Route};
use super::{ready, respond};
use crate::access::auth::OPERATORS;
use crate::access::{keys, limits};
use crate::case::publication;
use crate::case::report::{Channel, PublicId, ReportInput};
use crate::case::store::{self, Reporter, ReporterKind};
use crate::exchange::open311::{self, Definition, Form, Format, Node};
use crate::http::problem::FieldError;
use crate::http::routes;
use crate::time;
use crate::{ApiRequest, ApiResponse, Database, Env, Problem, StoreError, directory, grid};

/// The spec's limits: at most 90 days and 1,000 requests in one answer.
const MAX_RANGE_MS: i64 = 90 * 24 * 3_600_000;
const MAX_RESULTS: i64 = 1000;
/// Updates default to the last day when the client names no range.
const DEFAULT_UPDATES_RANGE_MS: i64 = 24 * 3_600_000;
const MAX_DESCRIPTION_CHARS: usize = 4000;
const MAX_MEDIA_URLS: usize = 10;
/// When this version of the interface last changed (discovery's `changeset`).
const CHANGESET: &str = "2026-11-27T00:00:00Z";

/// The routes of the `open311` component. The spec's resources take `.xml` or `.json` (XML when
/// left out).
#[rustfmt::skip]
pub const ROUTES: &[Route<Op>] = &[
    Route::get("/open311/v2/discovery.{format}", PublicRateLimited, Op::Discovery),
    Route::get("/open311/v2/services.{format}", PublicRateLimited, Op::Services),
    Route::get("/open311/v2/services/{service_code}.{format}", PublicRateLimited, Op::ServiceDefinition),
    Route::get("/open311/v2/requests.{format}", PublicRateLimited, Op::List),
    Route::post("/open311/v2/requests.{format}", ApiKey, Op::Submit),
    Route::get("/open311/v2/requests/{service_request_id}.{format}", PublicRateLimited, Op::One),
    Route::get("/open311/v2/tokens/{token}.{format}", PublicRateLimited, Op::Token),
    Route::get("/open311/v2/servicerequestupdates.{format}", PublicRateLimited, Op::Updates),
    Route::post("/open311/v2/servicerequestupdates.{format}", ApiKey, Op::PostUpdate),
    Route::get("/api/open311/pending", Staff(OPERATORS), Op::Pending),
    Route::post("/api/open311/pending/{token}/place", Staff(OPERATORS), Op::Place),
];

/// The operations of [`ROUTES`], one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Discovery,
    Services,
    ServiceDefinition,
    List,
    Submit,
    One,
    Token,
    Updates,
    PostUpdate,
    Pending,
    Place,
}

/// Answers every route of the `open311` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    // An unknown path or method under `/open311/` is an Open311 error in the format its suffix
    // asks for (a client reads nothing else); the operators' side answers problem details.
    let (route, p) = match routes::find(ROUTES, &req) {
        Ok(found) => found,
        Err(refused) => return super::refusal(&req.path, refused),
    };
    let format = match p.get("format") {
        Some("json") => Format::Json,
        _ => Format::Xml,
    };
    // Every public read is counted per client; the lists (up to 1,000 cases) on a low budget.
    let limit = match route.id {
        Op::List | Op::Updates => Some(limits::OPEN311_LISTS_PER_CLIENT),
        Op::Discovery | Op::Services | Op::ServiceDefinition | Op::One | Op::Token => {
            Some(limits::OPEN311_READS_PER_CLIENT)
        }
        // Submissions and updates are counted per API key; the operators' side is staff only.
        Op::Submit | Op::PostUpdate | Op::Pending | Op::Place => None,
    };
    if let Some(limit) = limit
        && let Err(refused) = super::limited(env, &req, limit).await
    {
        return open311::error_response(&refused, format);
    }
    let result = match route.id {
        Op::Discovery => discovery(env, &req, format).await,
        Op::Services => services(env, &req, format).await,
        Op::ServiceDefinition => service_definition(env, &p["service_code"], format).await,
        Op::List => list(env, &req, format).await,
        Op::Submit => submit(env, &req, format).await,
        Op::One => one(env, &req, &p["service_request_id"], format).await,
        Op::Token => token(env, &p["token"], format).await,
        Op::Updates => updates(env, &req, format).await,
        Op::PostUpdate => post_update(env, &req, format).await,
        // The operators' side answers problem details, as the rest of `/api/`.
        Op::Pending => return respond(pending(env, &req).await),
        Op::Place => return respond(place(env, &req, &p["token"]).await),
    };
    result.unwrap_or_else(|p| open311::error_response(&p, format))
}

/// The endpoint's URL is the configured `public_base_url` (or a loopback host in development,
/// [`crate::http::public_base_url`]); otherwise the relative path, never a host a request
/// named. Cacheable only when it came from the configuration.
async fn discovery<E: Env>(
    env: &E,
    req: &ApiRequest,
    format: Format,
) -> Result<ApiResponse, Problem> {
    let configured = env
        .variable("public_base_url")
        .await?
        .is_some_and(|b| !b.trim().is_empty());
    let base = match crate::http::public_base_url(env, req).await {
        Ok(base) => format!("{base}/open311/v2"),
        Err(_) => "/open311/v2".to_owned(),
    };
    let node = Node::Object(vec![
        ("changeset", Node::text(CHANGESET)),
        (
            "contact",
            Node::text("The city's governance centre (综治中心)"),
        ),
        (
            "key_service",
            Node::text("API keys are issued by the city's OneGrid administrator"),
        ),
        (
            "endpoints",
            Node::List(
                "endpoint",
                vec![Node::Object(vec![
                    (
                        "specification",
                        Node::text("http://wiki.open311.org/GeoReport_v2"),
                    ),
                    ("url", Node::text(base)),
                    ("changeset", Node::text(CHANGESET)),
                    ("type", Node::text("production")),
                    (
                        "formats",
                        Node::List(
                            "format",
                            vec![Node::text("text/xml"), Node::text("application/json")],
                        ),
                    ),
                ])],
            ),
        ),
    ]);
    let cache = if configured {
        "public, max-age=3600"
    } else {
        "no-store"
    };
    Ok(node
        .respond(200, "discovery", format)
        .with_header("cache-control", cache))
}

async fn services<E: Env>(
    env: &E,
    req: &ApiRequest,
    format: Format,
) -> Result<ApiResponse, Problem> {
    ready(env).await?;
    let english = req
        .query_param("locale")
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("en"));
    let definitions = open311::definitions(env).await?;
    let items = directory::categories(env)
        .await?
        .into_iter()
        .filter(|c| c.kind != DISPUTE)
        .map(|c| {
            let def = definitions.get(&c.code);
            let keywords = def
                .map(|d| d.keywords.clone())
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| format!("{}, {}", c.name_zh, c.name_en));
            let (name, other) = if english {
                (&c.name_en, &c.name_zh)
            } else {
                (&c.name_zh, &c.name_en)
            };
            Node::Object(vec![
                ("service_code", Node::text(&c.code)),
                ("service_name", Node::text(name)),
                ("description", Node::text(other)),
                (
                    "metadata",
                    Node::Bool(def.is_some_and(|d| !d.attributes.is_empty())),
                ),
                ("type", Node::text("realtime")),
                ("keywords", Node::text(keywords)),
                ("group", Node::text(&c.major)),
            ])
        })
        .collect();
    Ok(Node::List("service", items)
        .respond(200, "services", format)
        .with_header("cache-control", "public, max-age=60"))
}

async fn service_definition<E: Env>(
    env: &E,
    code: &str,
    format: Format,
) -> Result<ApiResponse, Problem> {
    ready(env).await?;
    offered(env, code).await?;
    let def = open311::definition(env, code).await?;
    Ok(def.to_node(code).respond(200, "service_definition", format))
}

/// The kind of category that is never offered to Open311 clients: disputes (矛盾纠纷) are
/// between neighbours and families, and their parties' names, places and quarrels are not sent
/// through a third party's platform nor listed publicly; they come to the centre in person, by
/// the hotline or by the city's own channels, where the mediation's privacy holds.
const DISPUTE: &str = "dispute";

/// A category offered as a service: known, and not a dispute (an unknown service to clients).
async fn offered<E: Env>(env: &E, code: &str) -> Result<directory::Category, Problem> {
    directory::category(env, code)
        .await?
        .filter(|c| c.kind != DISPUTE)
        .ok_or_else(|| Problem::not_found("service_code", code))
}

/// What a client sent, checked.
struct Submission {
    token: String,
    key_id: String,
    service_code: String,
    description: String,
    address_string: Option<String>,
    address_id: Option<String>,
    point: Option<(f64, f64)>,
    attributes: Json,
    media_urls: Vec<String>,
    device_id: Option<String>,
    account_id: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
}

impl Submission {
    fn row(&self, case_id: Option<&str>, status: &str, now: i64) -> Vec<crate::Value> {
        vec![
            self.token.as_str().into(),
            case_id.into(),
            self.key_id.as_str().into(),
            self.service_code.as_str().into(),
            self.description.as_str().into(),
            self.address_string.clone().into(),
            self.address_id.clone().into(),
            self.attributes.to_string().into(),
            json!(self.media_urls).to_string().into(),
            self.device_id.clone().into(),
            self.account_id.clone().into(),
            self.email.clone().into(),
            self.first_name.clone().into(),
            self.last_name.clone().into(),
            self.phone.clone().into(),
            status.into(),
            now.into(),
            now.into(),
        ]
    }

    fn contact_name(&self) -> Option<String> {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Some(
            name.chars()
                .take(crate::case::report::CONTACT_NAME_MAX)
                .collect::<String>(),
        )
        .filter(|n| !n.is_empty())
    }

    /// The report inside, at `point` (WGS-84, as the spec says every Open311 point is).
    fn report_input(&self, point: (f64, f64), crs: Option<String>) -> ReportInput {
        // Phones arrive as "(0592) 555-0100"; keep what a phone number is made of.
        let phone = self.phone.as_ref().map(|p| {
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            if p.trim_start().starts_with('+') {
                format!("+{digits}")
            } else {
                digits
            }
        });
        ReportInput {
            category: Some(self.service_code.clone()),
            description: Some(
                self.description
                    .chars()
                    .take(crate::case::report::DESCRIPTION_MAX)
                    .collect(),
            ),
            lat: Some(point.0),
            lng: Some(point.1),
            crs,
            address: self
                .address_string
                .as_ref()
                .map(|a| a.chars().take(crate::case::report::ADDRESS_MAX).collect()),
            contact_name: self.contact_name(),
            contact_phone: phone.filter(|p| (7..=21).contains(&p.len())),
            channel: None,
            asset_id: None,
            // An Open311 client (FixMyStreet) publishes its reports on its own site: they are
            // public here too, under the publication rule.
            public: Some(true),
            // Other platforms' photos are links we do not fetch; they stay in the payload.
            photos: Vec::new(),
            website: None,
        }
    }
}

fn bad(detail: impl Into<String>) -> Problem {
    Problem::bad_request(detail)
}

fn optional(
    form: &Form,
    names: &[&str],
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = form.get(names)?;
    if value.chars().count() > max {
        errors.push(FieldError::new(
            names[0],
            format!("at most {max} characters"),
        ));
    }
    Some(value)
}

/// A POST's parameters: form-encoded, as the spec and every client sends them (the query's
/// too).
fn posted_form(req: &ApiRequest) -> Result<Form, Problem> {
    let media = req
        .header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !(media.is_empty() || media == "application/x-www-form-urlencoded") {
        return Err(bad("send the request as application/x-www-form-urlencoded"));
    }
    let mut pairs = req.query_pairs();
    pairs.extend(crate::http::parse_form(&String::from_utf8_lossy(&req.body)));
    Ok(Form::parse(pairs))
}

/// The API key of a POST (`api_key`, or the `Authorization` / `X-Api-Key` header), allowed to
/// submit to Open311; `doing` names the operation in the refusal, as the spec's examples do.
async fn open311_key<E: Env>(
    env: &E,
    req: &ApiRequest,
    form: &Form,
    doing: &str,
) -> Result<keys::ApiKey, Problem> {
    let presented = form.get(&["api_key"]);
    keys::authorize(
        env,
        presented.as_deref().or(keys::presented(req)),
        keys::ACTION_OPEN311_SUBMIT,
        None,
    )
    .await?
    .map_err(|refusal| match refusal {
        keys::Refusal::Missing | keys::Refusal::Invalid => Problem::forbidden(format!(
            "api_key was not provided or is not valid; can't proceed with {doing}"
        )),
        other => Problem::from(other),
    })
}

/// POST requests.
async fn submit<E: Env>(env: &E, req: &ApiRequest, format: Format) -> Result<ApiResponse, Problem> {
    let form = posted_form(req)?;
    ready(env).await?;
    let key = open311_key(env, req, &form, "create_request").await?;
    let service_code = form
        .get(&["service_code"])
        .ok_or_else(|| bad("service_code was not provided"))?;
    let category = offered(env, &service_code).await?;
    let definition = open311::definition(env, &service_code).await?;
    let attributes = definition.check_answers(&form.attributes)?;

    let mut errors = Vec::new();
    let number = |name: &str, errors: &mut Vec<FieldError>| {
        let v = form.get(&[name])?;
        v.parse::<f64>().ok().filter(|n| n.is_finite()).or_else(|| {
            errors.push(FieldError::new(name, "a number (WGS-84 degrees)"));
            None
        })
    };
    let (lat, long) = (number("lat", &mut errors), number("long", &mut errors));
    let point = match (lat, long, form.get(&["lat"]), form.get(&["long"])) {
        (Some(lat), Some(long), _, _) => Some((lat, long)),
        (_, _, None, None) => None,
        _ => {
            errors.push(FieldError::new("lat", "lat and long go together"));
            None
        }
    };
    let address_string = optional(
        &form,
        &["address_string"],
        crate::case::report::ADDRESS_MAX * 2,
        &mut errors,
    );
    let address_id = optional(&form, &["address_id"], 100, &mut errors);
    if point.is_none() && address_string.is_none() && address_id.is_none() && errors.is_empty() {
        errors.push(FieldError::new(
            "lat",
            "lat & long, address_string or address_id is required",
        ));
    }
    let description = optional(&form, &["description"], MAX_DESCRIPTION_CHARS, &mut errors);
    let media_urls = form.all("media_url");
    if !media_urls_ok(&media_urls) {
        errors.push(FieldError::new(
            "media_url",
            "at most 10 http or https URLs",
        ));
    }
    let email = optional(&form, &["email"], 254, &mut errors);
    let first_name = optional(&form, &["first_name"], 50, &mut errors);
    let last_name = optional(&form, &["last_name"], 50, &mut errors);
    let phone = optional(&form, &["phone"], 30, &mut errors);
    let account_id = optional(&form, &["account_id"], 100, &mut errors);
    // Clients in the field send both spellings.
    let device_id = optional(&form, &["device_id", "deviceid"], 200, &mut errors);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    // Without a description the service's name says what it is; the answers to the service's
    // questions follow, so that the department reads them with the case.
    let mut text =
        description.unwrap_or_else(|| format!("{} ({})", category.name_zh, category.name_en));
    for a in definition.attributes.iter().filter(|a| a.variable) {
        if let Some(answer) = attributes.get(&a.code) {
            let shown = match answer {
                Json::Array(keys) => keys
                    .iter()
                    .filter_map(Json::as_str)
                    .map(|k| choice_name(a, k))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => choice_name(a, other.as_str().unwrap_or_default()),
            };
            text.push_str(&format!("\n{}: {shown}", a.description));
        }
    }
    let now = env.now_ms();
    let submission = Submission {
        token: ulid::Ulid::from_parts(now as u64, rand::random()).to_string(),
        key_id: key.id.clone(),
        service_code,
        description: text,
        address_string,
        address_id,
        point,
        attributes,
        media_urls,
        device_id,
        account_id,
        email,
        first_name,
        last_name,
        phone,
    };
    let notice = service_notice(env, &category).await?;
    let account = submission.account_id.clone().map_or(Node::Null, Node::Text);
    let Some(point) = submission.point else {
        // No point: the request waits for an operator to place it; the client gets a token.
        open311::insert_request(env, &submission.row(None, "pending", now)).await?;
        let node = Node::List(
            "request",
            vec![Node::Object(vec![
                ("token", Node::text(&submission.token)),
                (
                    "service_notice",
                    Node::text(format!(
                        "{notice}; the place will be confirmed by an operator"
                    )),
                ),
                ("account_id", account),
            ])],
        );
        return Ok(node.respond(201, "service_requests", format));
    };
    let case = create_case(env, &submission, point, None, now).await?;
    let node = Node::List(
        "request",
        vec![Node::Object(vec![
            // The public id, never the tracking code: that is the reporter's capability.
            ("service_request_id", Node::opt(case.public_id.clone())),
            ("service_notice", Node::text(notice)),
            ("account_id", account),
        ])],
    );
    Ok(node.respond(201, "service_requests", format))
}

fn choice_name(a: &open311::Attribute, key: &str) -> String {
    a.values
        .iter()
        .find(|v| v.key == key)
        .map_or_else(|| key.to_owned(), |v| v.name.clone())
}

async fn service_notice<D: Database>(
    db: &D,
    category: &crate::directory::Category,
) -> Result<String, StoreError> {
    let department = directory::department(db, &category.department)
        .await?
        .map_or_else(|| category.department.clone(), |d| d.name);
    Ok(format!(
        "{} / {}: {department} signs for it within {} h and handles it within {} h",
        category.name_zh, category.name_en, category.sign_for_hours, category.handle_hours
    ))
}

/// Places the case of a submission; the request's row (`token`) is written or updated in the
/// case's transaction, so that a token and its case never disagree.
async fn create_case<E: Env>(
    env: &E,
    submission: &Submission,
    point: (f64, f64),
    crs: Option<String>,
    now: i64,
) -> Result<store::Case, Problem> {
    let mut report = submission
        .report_input(point, crs)
        .validate()
        .map_err(|errors| {
            // The spec's field names: our `lng` is its `long`.
            Problem::validation(
                errors
                    .into_iter()
                    .map(|e| {
                        FieldError::new(if e.field == "lng" { "long" } else { &e.field }, e.message)
                    })
                    .collect(),
            )
        })?;
    report.channel = Channel::Open311;
    let category = directory::category(env, &report.category)
        .await?
        .ok_or_else(|| Problem::not_found("service_code", &report.category))?;
    let cell = grid::locate(env, report.point).await?.ok_or_else(|| {
        Problem::outside_jurisdiction(format!(
            "lat/long {:.6}, {:.6} is not within {} m of any grid cell of the city",
            report.point.lat,
            report.point.lng,
            grid::TOLERANCE_M
        ))
    })?;
    let reporter = Reporter {
        kind: ReporterKind::Open311,
        id: Some(format!("open311:{}", submission.key_id)),
    };
    let (case, _) = crate::app::cases::create_with(
        env,
        &report,
        &category,
        &cell,
        &reporter,
        now,
        async |case_id: String| {
            let placed = open311::place_pending(env, &submission.token, &case_id, now).await?;
            if !placed {
                let inserted =
                    open311::insert_request(env, &submission.row(Some(&case_id), "created", now))
                        .await;
                if inserted.is_err() {
                    return Err(Problem::conflict("this request was placed meanwhile"));
                }
            }
            Ok(())
        },
    )
    .await?;
    Ok(case)
}

/// One request as the spec lists it: a public case under the publication rule
/// (`case::publication`): its public id, its place rounded, no address, the description masked,
/// its status in words instead of staff notes, and only a photo staff approved.
const REQUEST_COLUMNS: &str = "c.public_id, c.status, c.category, k.name_zh, k.name_en, c.description, \
     c.lat, c.lng, c.created_at, c.updated_at, c.step_deadline_at, d.name AS agency, \
     (SELECT v.id FROM evidence v WHERE v.case_id = c.id AND v.public_at IS NOT NULL \
      ORDER BY v.public_at, v.id LIMIT 1) AS public_photo";
const REQUEST_FROM: &str = "FROM cases c JOIN categories k ON k.code = c.category \
     LEFT JOIN departments d ON d.code = c.department WHERE ";

/// Where public answers link a case's approved photo: under the configured public base URL
/// (or a loopback host in development), else the path alone.
async fn photo_base<E: Env>(env: &E, req: &ApiRequest) -> String {
    crate::http::public_base_url(env, req)
        .await
        .unwrap_or_default()
}

fn request_node(r: crate::ports::Row<'_>, english: bool, base: &str) -> Result<Node, StoreError> {
    let status = r.text("status")?;
    let public_id = r.text("public_id")?;
    let name = if english {
        r.text("name_en")?
    } else {
        r.text("name_zh")?
    };
    let words = crate::case::Status::parse(&status)
        .map(|s| publication::status_words(s, english).to_owned());
    let photo = r
        .opt_text("public_photo")?
        .map(|id| format!("{base}{}", publication::photo_path(&public_id, &id)));
    Ok(Node::Object(vec![
        ("service_request_id", Node::text(public_id)),
        ("status", Node::text(open311::base_status(&status))),
        ("status_notes", Node::opt(words)),
        ("service_name", Node::text(name)),
        ("service_code", Node::text(r.text("category")?)),
        (
            "description",
            Node::text(publication::public_text(&r.text("description")?)),
        ),
        ("agency_responsible", Node::opt(r.opt_text("agency")?)),
        ("service_notice", Node::text("")),
        (
            "requested_datetime",
            Node::text(time::w3c(r.i64("created_at")?)),
        ),
        (
            "updated_datetime",
            Node::text(time::w3c(r.i64("updated_at")?)),
        ),
        (
            "expected_datetime",
            Node::opt(r.opt_i64("step_deadline_at")?.map(time::w3c)),
        ),
        // What people type as an address is often their home or their name: not public.
        ("address", Node::text("")),
        ("address_id", Node::text("")),
        ("zipcode", Node::text("")),
        ("lat", Node::Number(publication::rounded(r.f64("lat")?))),
        ("long", Node::Number(publication::rounded(r.f64("lng")?))),
        ("media_url", Node::opt(photo)),
    ]))
}

fn date_param(req: &ApiRequest, name: &str) -> Result<Option<i64>, Problem> {
    match req.query_param(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => time::parse(&v, 0)
            .map(Some)
            .ok_or_else(|| bad(format!("{name} is not a W3C datetime"))),
    }
}

/// A range from `start_date` / `end_date`, at most 90 days; `default_ms` back from the end
/// when no start is given.
fn range(req: &ApiRequest, now: i64, default_ms: i64) -> Result<(i64, i64), Problem> {
    let end = date_param(req, "end_date")?;
    let start = date_param(req, "start_date")?;
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, (s + MAX_RANGE_MS).min(now)),
        (None, Some(e)) => (e - default_ms, e),
        (None, None) => (now - default_ms, now),
    };
    if end < start {
        return Err(bad("end_date is before start_date"));
    }
    if end - start > MAX_RANGE_MS {
        return Err(bad("the date range spans more than 90 days"));
    }
    Ok((start, end))
}

fn comma_list(req: &ApiRequest, name: &str) -> Vec<String> {
    req.query_param(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

async fn list<E: Env>(env: &E, req: &ApiRequest, format: Format) -> Result<ApiResponse, Problem> {
    let english = req
        .query_param("locale")
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("en"));
    let now = env.now_ms();
    let mut sql = format!(
        "SELECT {REQUEST_COLUMNS} {REQUEST_FROM} {}",
        publication::PUBLIC_CASES
    );
    let mut params: Vec<crate::Value> = Vec::new();
    let ids = comma_list(req, "service_request_id");
    if !ids.is_empty() {
        // The spec: a list of ids overrides every other filter.
        let codes: Vec<String> = ids
            .iter()
            .filter_map(|i| PublicId::parse(i))
            .map(|c| c.as_str().to_owned())
            .take(MAX_RESULTS as usize)
            .collect();
        if codes.is_empty() {
            return Ok(Node::List("request", vec![]).respond(200, "service_requests", format));
        }
        sql.push_str(&format!(" AND c.public_id IN ({})", marks(codes.len())));
        params.extend(codes.into_iter().map(Into::into));
    } else {
        let (start, end) = range(req, now, MAX_RANGE_MS)?;
        sql.push_str(" AND c.created_at >= ? AND c.created_at <= ?");
        params.extend([start.into(), end.into()]);
        let services = comma_list(req, "service_code");
        if !services.is_empty() {
            sql.push_str(&format!(" AND c.category IN ({})", marks(services.len())));
            params.extend(services.into_iter().map(Into::into));
        }
        let statuses = comma_list(req, "status");
        if statuses.iter().any(|s| s != "open" && s != "closed") {
            return Err(bad("status is open, closed, or both separated by a comma"));
        }
        let closed = "c.status IN ('rejected', 'merged', 'closed', 'evaluated')";
        match (
            statuses.iter().any(|s| s == "open"),
            statuses.iter().any(|s| s == "closed"),
        ) {
            (true, false) => sql.push_str(&format!(" AND NOT {closed}")),
            (false, true) => sql.push_str(&format!(" AND {closed}")),
            _ => {}
        }
    }
    sql.push_str(&format!(
        " ORDER BY c.created_at DESC, c.id DESC LIMIT {MAX_RESULTS}"
    ));
    ready(env).await?;
    let rows = env.execute(&sql, &params).await?;
    let base = photo_base(env, req).await;
    let items = rows
        .iter()
        .map(|r| request_node(r, english, &base))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Node::List("request", items).respond(200, "service_requests", format))
}

async fn one<E: Env>(
    env: &E,
    req: &ApiRequest,
    id: &str,
    format: Format,
) -> Result<ApiResponse, Problem> {
    // A tracking code is not a public id: it finds nothing here, as a case that is not public.
    let code = PublicId::parse(id).ok_or_else(|| Problem::not_found("service_request_id", id))?;
    ready(env).await?;
    let rows = env
        .execute(
            &format!(
                "SELECT {REQUEST_COLUMNS} {REQUEST_FROM} {} AND c.public_id = ?",
                publication::PUBLIC_CASES
            ),
            &[code.as_str().into()],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| Problem::not_found("service_request_id", id))?;
    let base = photo_base(env, req).await;
    Ok(
        Node::List("request", vec![request_node(row, false, &base)?]).respond(
            200,
            "service_requests",
            format,
        ),
    )
}

async fn token<E: Env>(env: &E, token: &str, format: Format) -> Result<ApiResponse, Problem> {
    ready(env).await?;
    let rows = env
        .execute(
            "SELECT o.token, c.public_id FROM open311_requests o LEFT JOIN cases c ON c.id = o.case_id WHERE o.token = ?",
            &[token.into()],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| Problem::not_found("token", token))?;
    // Until an operator places it, the request has a token and no id yet.
    let node = Node::List(
        "request",
        vec![Node::Object(vec![
            (
                "service_request_id",
                row.opt_text("public_id")?.map_or(Node::Null, Node::Text),
            ),
            ("token", Node::text(row.text("token")?)),
        ])],
    );
    Ok(node.respond(200, "service_requests", format))
}

/// The service request updates extension: each event of a public case in the range, oldest
/// first, each in words. Events of one case that share a second are shown a second apart in
/// their order, so that every update of a case has its own `updated_datetime` and a client that
/// orders by it orders them right: the shown second of event `n` is the largest of `second(k) +
/// (n - k)` over the case's events `k ≤ n`, i.e. its own second or one after the one before it.
async fn updates<E: Env>(
    env: &E,
    req: &ApiRequest,
    format: Format,
) -> Result<ApiResponse, Problem> {
    let english = req
        .query_param("locale")
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("en"));
    let (start, end) = range(req, env.now_ms(), DEFAULT_UPDATES_RANGE_MS)?;
    ready(env).await?;
    let rows = env
        .execute(
            &format!(
                "SELECT c.public_id, e.seq, e.type, e.to_status, e.details, \
                 (SELECT MAX(e2.at / 1000 - e2.seq) FROM case_events e2 \
                  WHERE e2.case_id = e.case_id AND e2.seq <= e.seq) + e.seq AS shown_s \
                 FROM case_events e JOIN cases c ON c.id = e.case_id JOIN categories k ON k.code = c.category \
                 WHERE e.at >= ? AND e.at <= ? AND e.seq > 1 AND {} \
                 AND e.type NOT IN ('reveal_contact', 'purge_personal_data', 'publication') \
                 ORDER BY e.at, e.case_id, e.seq LIMIT {MAX_RESULTS}",
                publication::PUBLIC_CASES
            ),
            &[start.into(), end.into()],
        )
        .await?;
    let mut items = Vec::new();
    for r in rows.iter() {
        let details: Json = serde_json::from_str(&r.text("details")?).unwrap_or(Json::Null);
        // The reason picks the status word (a duplicate, not ours); it is staff text and is
        // never shown (`case::publication`): the description is the status in words.
        let reason = details.get("reason").and_then(Json::as_str);
        let to_status = r.text("to_status")?;
        let kind = r.text("type")?;
        let words = open311::event_words(&kind, english);
        // Notes staff or departments wrote are never public; a client's own comment (already
        // public on the client's site) reads as it wrote it, masked.
        let client_note = ["note"]
            .iter()
            .find_map(|k| details.get(*k).and_then(Json::as_str))
            .filter(|_| kind == crate::app::open311::UPDATE_EVENT)
            .map(publication::public_text)
            .filter(|n| !n.trim().is_empty());
        let description = client_note.unwrap_or_else(|| words.to_owned());
        let public_id = r.text("public_id")?;
        items.push(Node::Object(vec![
            (
                "update_id",
                Node::text(format!("{public_id}-{}", r.i64("seq")?)),
            ),
            ("service_request_id", Node::text(public_id)),
            (
                "status",
                Node::text(open311::extended_status(&to_status, reason)),
            ),
            (
                "updated_datetime",
                Node::text(time::w3c(r.i64("shown_s")? * 1000)),
            ),
            ("description", Node::text(description)),
            // Only photos staff approved are public; none is approved for an update.
            ("media_url", Node::text("")),
        ]));
    }
    Ok(Node::List("request_update", items).respond(200, "service_request_updates", format))
}

/// The longest id of an update a client may give.
const MAX_CLIENT_UPDATE_ID: usize = 100;

/// POST servicerequestupdates: a client's update of a request (FixMyStreet sends its users'
/// comments so). It joins the case's trail and reaches the department (`app::open311`).
async fn post_update<E: Env>(
    env: &E,
    req: &ApiRequest,
    format: Format,
) -> Result<ApiResponse, Problem> {
    let form = posted_form(req)?;
    ready(env).await?;
    let key = open311_key(env, req, &form, "post_service_request_update").await?;
    let mut errors = Vec::new();
    let request_id = form.get(&["service_request_id"]);
    if request_id.is_none() {
        errors.push(FieldError::new("service_request_id", "required"));
    }
    // FixMyStreet names its id of the comment `update_id_ext`; the extension `update_id`.
    let client_update_id = optional(
        &form,
        &["update_id_ext", "update_id"],
        MAX_CLIENT_UPDATE_ID,
        &mut errors,
    );
    if client_update_id.is_none() {
        errors.push(FieldError::new(
            "update_id",
            "required: your id of the update (update_id or update_id_ext), which makes a repeat harmless",
        ));
    }
    let description = optional(&form, &["description"], MAX_DESCRIPTION_CHARS, &mut errors);
    let client_status = form.get(&["status"]).map(|s| s.to_ascii_lowercase());
    if let Some(status) = &client_status
        && !open311::CLIENT_STATUSES.contains(&status.as_str())
    {
        errors.push(FieldError::new(
            "status",
            open311::CLIENT_STATUSES.join(", "),
        ));
    }
    let updated_at = match form.get(&["updated_datetime"]) {
        None => None,
        Some(v) => {
            let parsed = time::parse(&v, 0);
            if parsed.is_none() {
                errors.push(FieldError::new("updated_datetime", "a W3C datetime"));
            }
            parsed
        }
    };
    let media_urls = form.all("media_url");
    if !media_urls_ok(&media_urls) {
        errors.push(FieldError::new(
            "media_url",
            "at most 10 http or https URLs",
        ));
    }
    if description.is_none() && media_urls.is_empty() {
        errors.push(FieldError::new("description", "required (or a media_url)"));
    }
    // Who wrote it is the client's to know: checked, never kept (the case has its reporter).
    for (name, max) in [
        ("email", 254),
        ("first_name", 50),
        ("last_name", 50),
        ("phone", 30),
    ] {
        optional(&form, &[name], max, &mut errors);
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let request_id = request_id.unwrap_or_default();
    let not_found = || Problem::not_found("service_request_id", &request_id);
    // Open311 clients know a case by its public id, and only a public case (`case::publication`).
    let id = publication::public_case_id(env, &request_id)
        .await?
        .ok_or_else(not_found)?;
    let case = store::by_id(env, &id).await?.ok_or_else(not_found)?;
    offered(env, &case.category)
        .await
        .map_err(|_| not_found())?;
    let update = crate::app::open311::Update {
        key_id: key.id,
        client_update_id: client_update_id.unwrap_or_default(),
        description: description.unwrap_or_default(),
        client_status,
        updated_at,
        media_urls,
    };
    let posted = crate::app::open311::post_update(env, &case, &update).await?;
    let node = Node::List(
        "request_update",
        vec![Node::Object(vec![(
            "update_id",
            Node::text(&posted.update_id),
        )])],
    );
    let response = node.respond(posted.status, "service_request_updates", format);
    Ok(if posted.replayed {
        response.with_header("idempotent-replayed", "true")
    } else {
        response
    })
}

fn media_urls_ok(urls: &[String]) -> bool {
    urls.len() <= MAX_MEDIA_URLS
        && urls.iter().all(|u| {
            (u.starts_with("http://") || u.starts_with("https://")) && u.chars().count() <= 2000
        })
}

/// Requests that came without a point, oldest first, for operators to place.
async fn pending<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, OPERATORS).await?;
    ready(env).await?;
    let rows = env
        .execute(
            "SELECT token, service_code, description, address_string, address_id, media_urls, created_at \
             FROM open311_requests WHERE status = 'pending' ORDER BY created_at LIMIT 200",
            &[],
        )
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(PendingRequest {
                token: r.text("token")?,
                service_code: r.text("service_code")?,
                // Masked as every staff answer is: the place in the address stays, a name or a
                // number in it does not.
                description: r
                    .opt_text("description")?
                    .map(|d| crate::mask::mask_free_text(&d)),
                address_string: r
                    .opt_text("address_string")?
                    .map(|a| crate::mask::mask_free_text(&a)),
                address_id: r.opt_text("address_id")?,
                media_urls: r
                    .opt_text("media_urls")?
                    .and_then(|m| serde_json::from_str(&m).ok()),
                created_at: crate::time::rfc3339(r.i64("created_at")?),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(ApiResponse::json(200, &super::Items { items }))
}

/// Where an operator puts a request that came without a point.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    lat: f64,
    lng: f64,
    crs: Option<String>,
}

/// An operator puts a pending request on the map: its case is created, its token resolves.
async fn place<E: Env>(env: &E, req: &ApiRequest, token: &str) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, OPERATORS).await?;
    let at: Placement = req.json()?;
    ready(env).await?;
    // A district or street operator places a request only inside their own area: the case it
    // makes is theirs to handle. (A bad point or CRS is refused below, as for any report.)
    let crs = at.crs.as_deref().map_or(
        Some(crate::grid::code::Crs::Wgs84),
        crate::grid::code::Crs::parse,
    );
    if let Some(crs) = crs
        && let Ok(point) = crate::grid::code::Wgs84Point::parse(at.lat, at.lng, crs)
        && let Some(cell) = crate::grid::locate(env, point).await?
        && !who.covers(&cell.cell.code)
    {
        return Err(Problem::forbidden(format!(
            "cell {} is outside your area: an operator of its district places it",
            cell.cell.code
        )));
    }
    let rows = env
        .execute(
            "SELECT key_id, service_code, description, address_string, address_id, attributes, media_urls, device_id, \
             account_id, email, first_name, last_name, phone FROM open311_requests WHERE token = ? AND status = 'pending'",
            &[token.into()],
        )
        .await?;
    let r = rows
        .first()
        .ok_or_else(|| Problem::not_found("pending Open311 request", token))?;
    let submission = Submission {
        token: token.to_owned(),
        key_id: r.text("key_id")?,
        service_code: r.text("service_code")?,
        description: r.opt_text("description")?.unwrap_or_default(),
        address_string: r.opt_text("address_string")?,
        address_id: r.opt_text("address_id")?,
        point: Some((at.lat, at.lng)),
        attributes: serde_json::from_str(&r.text("attributes")?).unwrap_or(Json::Null),
        media_urls: serde_json::from_str(&r.text("media_urls")?).unwrap_or_default(),
        device_id: r.opt_text("device_id")?,
        account_id: r.opt_text("account_id")?,
        email: r.opt_text("email")?,
        first_name: r.opt_text("first_name")?,
        last_name: r.opt_text("last_name")?,
        phone: r.opt_text("phone")?,
    };
    let case = create_case(env, &submission, (at.lat, at.lng), at.crs, env.now_ms()).await?;
    Ok(ApiResponse::json(
        201,
        &Placed {
            token: token.to_owned(),
            service_request_id: case.public_id,
            case_id: case.id,
            status: case.status,
        },
    ))
}

/// `PUT /api/admin/categories/{code}/open311` (served by the dispatch component, beside the
/// category itself): a category's keywords and attribute questions.
pub async fn put_definition<E: Env>(
    env: &E,
    req: &ApiRequest,
    code: &str,
) -> Result<ApiResponse, Problem> {
    super::staff(env, req, crate::access::auth::ADMINS).await?;
    let def: Definition = req.json()?;
    ready(env).await?;
    open311::put_definition(env, code, &def, env.now_ms()).await?;
    Ok(ApiResponse::json(
        200,
        &CategoryDefinition {
            category: code.to_owned(),
            definition: def,
        },
    ))
}

// ---- the answers' types of the staff routes (their JSON Schemas are docs/openapi.json's)

/// An Open311 request that came without a point, waiting for an operator to place it.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct PendingRequest {
    pub token: String,
    pub service_code: String,
    pub description: Option<String>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub media_urls: Option<Vec<String>>,
    pub created_at: String,
}

/// A placed request: its case, and the public id its token now resolves to.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Placed {
    pub token: String,
    pub service_request_id: Option<String>,
    pub case_id: String,
    pub status: crate::case::Status,
}

/// A category's Open311 service definition as saved.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct CategoryDefinition {
    pub category: String,
    #[serde(flatten)]
    pub definition: Definition,
}
