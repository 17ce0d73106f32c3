//! Routes of the `indicators` component: the centre's figures per department, area, category
//! and period, as JSON or CSV, and its early-warning alerts ([`super::alerts`]). Operators only,
//! and a district or street operator sees only their area. Figures read rollup rows
//! ([`crate::indicators`]), never the cases.

use serde::Serialize;

use super::alerts;
use super::routes::{Access::*, Route};
use super::{ready, respond};
use crate::access::auth::{OPERATORS, Principal};
use crate::directory;
use crate::grid::code::GridCode;
use crate::http::problem::FieldError;
use crate::http::routes;
use crate::indicators::{self, FIGURE_NAMES, Figures, GroupBy, Query};
use crate::{ApiRequest, ApiResponse, Env, Problem};

/// The period when none is asked for: the last 30 days, today included.
const DEFAULT_DAYS: i64 = 30;

/// The routes of the `indicators` component.
#[rustfmt::skip]
pub const ROUTES: &[Route<Op>] = &[
    Route::get("/api/indicators", Staff(OPERATORS), Op::Indicators),
    Route::get("/api/alerts", Staff(OPERATORS), Op::Alerts),
    Route::get("/api/alerts/figures", Staff(OPERATORS), Op::AlertFigures),
    Route::get("/api/alerts/{id}", Staff(OPERATORS), Op::Alert),
    Route::post("/api/alerts/{id}/moves", Staff(OPERATORS), Op::AlertMove),
];

/// The operations of [`ROUTES`], one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Indicators,
    Alerts,
    AlertFigures,
    Alert,
    AlertMove,
}

/// Answers every route of the `indicators` component.
pub async fn handle<E: Env>(env: &E, req: ApiRequest) -> ApiResponse {
    let (route, p) = match routes::find(ROUTES, &req) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    respond(match route.id {
        Op::Indicators => indicators(env, &req).await,
        Op::Alerts => alerts::list(env, &req).await,
        Op::AlertFigures => alerts::figures(env, &req).await,
        Op::Alert => alerts::one(env, &req, &p["id"]).await,
        Op::AlertMove => alerts::move_alert(env, &req, &p["id"]).await,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// The query string as a [`Query`] (before scoping) and the format; every problem at once.
pub fn parse(req: &ApiRequest, today: i64) -> Result<(Query, Format), Problem> {
    let mut errors = Vec::new();
    let mut group_by = GroupBy::Department;
    let (mut from, mut to) = (None, None);
    let (mut department, mut area, mut category) = (None, None, None);
    let mut format = Format::Json;
    for (key, value) in req.query_pairs() {
        match key.as_str() {
            "group_by" => match GroupBy::parse(&value) {
                Some(g) => group_by = g,
                None => errors.push(FieldError::new(
                    "group_by",
                    "department, district, street or category",
                )),
            },
            "from" | "to" => match indicators::parse_date(&value) {
                Some(day) if key == "from" => from = Some(day),
                Some(day) => to = Some(day),
                None => errors.push(FieldError::new(&key, "a date, YYYY-MM-DD")),
            },
            "department" if directory::valid_code(&value) => department = Some(value),
            "department" => errors.push(FieldError::new("department", "a department code")),
            "category" if directory::valid_code(&value) => category = Some(value),
            "category" => errors.push(FieldError::new("category", "a category code")),
            "area" if GridCode::parse(&value).is_ok() && matches!(value.len(), 6 | 9) => {
                area = Some(value)
            }
            "area" => errors.push(FieldError::new(
                "area",
                "a district (6 digits) or street (9 digits) code",
            )),
            "format" if value == "json" => format = Format::Json,
            "format" if value == "csv" => format = Format::Csv,
            "format" => errors.push(FieldError::new("format", "json or csv")),
            _ => {}
        }
    }
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - (DEFAULT_DAYS - 1));
    if from > to {
        errors.push(FieldError::new("from", "on or before `to`"));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok((
        Query {
            group_by,
            from,
            to,
            department,
            area,
            category,
        },
        format,
    ))
}

/// The area a principal may read: its own, or a part of it. Rollups go down to streets, so an
/// account scoped to a community or a cell has no indicators.
pub fn scope(who: &Principal, asked: Option<String>) -> Result<Option<String>, Problem> {
    let Some(own) = who.area.as_deref() else {
        return Ok(asked);
    };
    if own.len() > 9 {
        return Err(Problem::forbidden(
            "indicators go down to streets; this account covers a smaller area",
        ));
    }
    match asked {
        None => Ok(Some(own.to_owned())),
        Some(a) if a.starts_with(own) => Ok(Some(a)),
        Some(a) => Err(Problem::forbidden(format!(
            "area {a} is outside this account's area {own}"
        ))),
    }
}

/// One group's line.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(rename = "IndicatorItem")]
pub struct Item {
    /// The department, district, street or category; `null` for the centre's own line when
    /// grouped by department (cases before any dispatch, and grid workers' self-handling).
    pub key: Option<String>,
    pub name: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(rename = "IndicatorFilters")]
pub struct Filters {
    pub department: Option<String>,
    pub area: Option<String>,
    pub category: Option<String>,
}

/// The answer of `GET /api/indicators`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(rename = "IndicatorReport")]
pub struct Report {
    pub group_by: GroupBy,
    pub from: String,
    pub to: String,
    /// Days are the city's: they start at midnight UTC+8.
    pub utc_offset: &'static str,
    pub filters: Filters,
    pub items: Vec<Item>,
    pub total: Figures,
}

/// The figures of a query, within what `who` may see.
pub async fn report<E: Env>(env: &E, who: &Principal, mut query: Query) -> Result<Report, Problem> {
    query.area = scope(who, query.area.take())?;
    ready(env).await?;
    let totals = indicators::totals(env, &query).await?;
    let keys: Vec<&str> = totals.keys().map(String::as_str).collect();
    let names = indicators::names(env, query.group_by, &keys).await?;
    let mut all = indicators::Counts::default();
    let items = totals
        .iter()
        .map(|(key, counts)| {
            all.merge(counts);
            Item {
                key: (!key.is_empty()).then(|| key.clone()),
                name: names.get(key).cloned(),
                figures: Figures::of(counts),
            }
        })
        .collect();
    Ok(Report {
        group_by: query.group_by,
        from: indicators::date_string(query.from),
        to: indicators::date_string(query.to),
        utc_offset: "+08:00",
        filters: Filters {
            department: query.department,
            area: query.area,
            category: query.category,
        },
        items,
        total: Figures::of(&all),
    })
}

async fn indicators<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, OPERATORS).await?;
    let (query, format) = parse(req, indicators::city_day(env.now_ms()))?;
    let report = report(env, &who, query).await?;
    Ok(match format {
        Format::Json => ApiResponse::json(200, &report),
        Format::Csv => {
            let file = format!(
                "indicators-{}-{}-{}.csv",
                report.group_by.as_str(),
                report.from,
                report.to
            );
            ApiResponse::new(200, "text/csv; charset=utf-8", csv(&report)).with_header(
                "content-disposition",
                format!("attachment; filename=\"{file}\""),
            )
        }
    })
}

/// A text cell of a CSV file: quoted when it must be, and never read as a formula by a
/// spreadsheet (a leading `=`, `+`, `-` or `@` gets a `'`, as OWASP advises).
fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// RFC 4180 (CRLF lines, a header row), with a UTF-8 byte-order mark so that Excel reads the
/// Chinese names. The centre's line is keyed `(centre)`, the sum of all lines `(total)`.
pub fn csv(report: &Report) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let header: Vec<&str> = [report.group_by.as_str(), "name"]
        .into_iter()
        .chain(FIGURE_NAMES)
        .collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    let lines = report
        .items
        .iter()
        .map(|i| {
            (
                i.key.as_deref().unwrap_or("(centre)"),
                i.name.as_deref().unwrap_or(""),
                &i.figures,
            )
        })
        .chain(std::iter::once(("(total)", "", &report.total)));
    for (key, name, figures) in lines {
        let cells: Vec<String> = [cell(key), cell(name)]
            .into_iter()
            .chain(figures.cells())
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}
