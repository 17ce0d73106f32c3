//! The early-warning routes of the `indicators` component (the centre's 研判): the alerts board of
//! an operator's area, one alert with its evidence and trail, its moves, and the detectors'
//! precision figures. Operators only; each sees the alerts of their own part of the city.

use serde::Serialize;

use super::ready;
use crate::access::auth::OPERATORS;
use crate::app::alerts::{self as commands, AlertMove};
use crate::case::store;
use crate::http::problem::FieldError;
use crate::warning::{self, Alert, AlertEvent, AlertFilter, AlertStatus, DetectorFigures};
use crate::{ApiRequest, ApiResponse, Env, Problem};

/// The most alerts one page of the board lists, and when none is asked for.
const PAGE_MAX: usize = 200;
const PAGE_DEFAULT: usize = 50;

/// The answer of `GET /api/alerts`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AlertList {
    pub items: Vec<Alert>,
    /// The `before` of the next page; none on the last.
    pub next: Option<String>,
}

/// A case an alert stands on, as the board links it (nothing personal).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EvidenceCase {
    pub id: String,
    pub tracking_code: String,
    pub status: String,
    pub channel: String,
    pub grid_code: String,
    pub created_at: String,
    /// The console's page of the case.
    pub href: String,
}

/// The answer of `GET /api/alerts/{id}` and of a move.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: Alert,
    pub evidence: Vec<EvidenceCase>,
    pub events: Vec<AlertEvent>,
}

/// The answer of `GET /api/alerts/figures`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AlertFigures {
    pub detectors: Vec<DetectorFigures>,
    /// The cluster rule in force, with its parameters.
    pub cluster_rule: warning::ClusterRule,
    /// The repeat rule in force.
    pub repeat_rule: warning::RepeatRule,
}

fn valid_id(id: &str) -> bool {
    id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `GET /api/alerts[?status=open|all|new,acknowledged,…][&limit=][&before=]`: newest first.
pub async fn list<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, OPERATORS).await?;
    let mut errors = Vec::new();
    let mut statuses: Vec<AlertStatus> = AlertStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .collect();
    let mut limit = PAGE_DEFAULT;
    let mut before = None;
    for (key, value) in req.query_pairs() {
        match key.as_str() {
            "status" if value == "open" => {}
            "status" if value == "all" => statuses = AlertStatus::ALL.to_vec(),
            "status" => {
                match value
                    .split(',')
                    .map(|s| AlertStatus::parse(s.trim()))
                    .collect::<Option<Vec<_>>>()
                {
                    Some(list) if !list.is_empty() => statuses = list,
                    _ => errors.push(
                        FieldError::new(
                            "status",
                            "open, all, or statuses among new, acknowledged, acting, closed, dismissed",
                        )
                        .with_code("invalid"),
                    ),
                }
            }
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=PAGE_MAX).contains(&n) => limit = n,
                _ => errors.push(
                    FieldError::new("limit", format!("1 to {PAGE_MAX}")).with_code("out_of_range"),
                ),
            },
            "before" => match value
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                .filter(|(_, id)| valid_id(id))
            {
                Some((at, id)) => before = Some((at, id.to_string())),
                None => errors.push(
                    FieldError::new("before", "the `next` of the previous page")
                        .with_code("invalid"),
                ),
            },
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let filter = AlertFilter {
        scope: who.place_filter("a.area"),
        statuses,
        limit: limit + 1,
        before,
    };
    let mut items = warning::list(env, &filter).await?;
    let next = (items.len() > limit).then(|| {
        items.truncate(limit);
        let last = items.last().expect("more than the limit");
        format!("{}.{}", last.opened_ms, last.id)
    });
    Ok(ApiResponse::json(200, &AlertList { items, next }))
}

/// `GET /api/alerts/figures`: what each detector's alerts came to, city-wide.
pub async fn figures<E: Env>(env: &E, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    super::staff(env, req, OPERATORS).await?;
    ready(env).await?;
    Ok(ApiResponse::json(
        200,
        &AlertFigures {
            detectors: warning::figures(env).await?,
            cluster_rule: warning::CLUSTER,
            repeat_rule: warning::REPEAT,
        },
    ))
}

async fn detail<E: Env>(env: &E, alert: Alert) -> Result<AlertDetail, Problem> {
    let mut evidence = Vec::new();
    for case_id in warning::evidence(env, &alert.id).await? {
        // A case purged since keeps no row here to link to.
        if let Some(c) = store::by_id(env, &case_id).await? {
            evidence.push(EvidenceCase {
                href: format!("/console.html#case/{}", c.id),
                id: c.id,
                tracking_code: c.tracking_code,
                status: c.status.as_str().into(),
                channel: c.channel.as_str().into(),
                grid_code: c.grid_code,
                created_at: c.created_at,
            });
        }
    }
    let events = warning::events(env, &alert.id).await?;
    Ok(AlertDetail {
        alert,
        evidence,
        events,
    })
}

/// `GET /api/alerts/{id}`: one alert of the caller's area, its evidence and its trail.
pub async fn one<E: Env>(env: &E, req: &ApiRequest, id: &str) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, OPERATORS).await?;
    if !valid_id(id) {
        return Err(Problem::not_found("alert", id));
    }
    let alert = commands::visible(env, &who, id).await?;
    Ok(ApiResponse::json(200, &detail(env, alert).await?))
}

/// `POST /api/alerts/{id}/moves` `{action, note}`: acknowledge, act, close or dismiss.
pub async fn move_alert<E: Env>(
    env: &E,
    req: &ApiRequest,
    id: &str,
) -> Result<ApiResponse, Problem> {
    let who = super::staff(env, req, OPERATORS).await?;
    let input: AlertMove = req.json()?;
    if !valid_id(id) {
        return Err(Problem::not_found("alert", id));
    }
    let alert = commands::move_alert(env, &who, id, &input).await?;
    Ok(ApiResponse::json(200, &detail(env, alert).await?))
}
