//! Other platforms that push their events into the one net: the 12345 citizen hotline, the
//! digital city-management platform (数字城管, `citymgmt`) and the public-safety platform
//! (`publicsafety`), and any other an administrator configures. Each is mapped by a JSON
//! document (stored in SQL; built-in defaults below): where its fields are (JSON Pointers,
//! RFC 6901), its category codes and statuses in ours, and ours in its words for the webhook
//! that tells it of every status change. An external id is linked to one case, for good: the
//! link is the unique key (platform, external id), so nothing is counted twice.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::case::Move;
use crate::case::report::Channel;
use crate::case::store::{Actor, Case};
use crate::http::problem::FieldError;
use crate::{Database, Problem, StoreError};

/// The platforms OneGrid knows without configuration.
pub const BUILT_IN: [&str; 3] = ["12345", "citymgmt", "publicsafety"];
/// Beijing time, in minutes east of UTC: what the platforms of a Chinese city send.
const BEIJING_OFFSET_MINUTES: i64 = 480;

/// Where a platform's fields are in its payload (JSON Pointers, RFC 6901).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    /// Its id of the event's subject (a work order, a case file, an incident). Required.
    pub external_id: String,
    /// Its id of this one message, if it has one; otherwise the body's hash stands for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// When it happened on the platform (RFC 3339, `YYYY-MM-DD HH:MM:SS`, or Unix time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lng: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// A free note with an update (a citizen's follow-up call, the reason of a withdrawal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How one platform's events become ours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub fields: Fields,
    /// The coordinate system when the payload does not name one (`wgs84`, `gcj02`, `bd09`).
    #[serde(default = "default_crs")]
    pub crs: String,
    /// Minutes east of UTC of times sent without an offset.
    #[serde(default = "default_offset")]
    pub utc_offset_minutes: i64,
    /// Its category codes → ours.
    #[serde(default)]
    pub categories: BTreeMap<String, String>,
    /// Ours for a code missing from `categories`; without it such an event is refused (422).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_category: Option<String>,
    /// Its statuses → what OneGrid does: `create` (opens the case; a note on a known one),
    /// `note` (a case event), or a move of the state machine, made by the system role.
    /// A status missing here is a note.
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
    /// Our statuses → its words, in the webhook of a status change; missing ones go as ours.
    #[serde(default)]
    pub outbound_statuses: BTreeMap<String, String>,
}

fn default_crs() -> String {
    "wgs84".into()
}
fn default_offset() -> i64 {
    BEIJING_OFFSET_MINUTES
}

/// What a platform status asks of OneGrid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Note,
    Move(Move),
}

impl Mapping {
    pub fn action(&self, status: Option<&str>) -> Action {
        match status
            .and_then(|s| self.statuses.get(s))
            .map(String::as_str)
        {
            Some("create") => Action::Create,
            Some(other) => Move::parse(other).map_or(Action::Note, Action::Move),
            None => Action::Note,
        }
    }

    /// Every rule a mapping must keep; categories are checked against the directory.
    pub async fn validate<D: Database>(&self, db: &D) -> Result<(), Problem> {
        let mut errors = Vec::new();
        let f = &self.fields;
        let pointers = [
            ("external_id", Some(&f.external_id)),
            ("event_id", f.event_id.as_ref()),
            ("status", f.status.as_ref()),
            ("occurred_at", f.occurred_at.as_ref()),
            ("category", f.category.as_ref()),
            ("title", f.title.as_ref()),
            ("description", f.description.as_ref()),
            ("lat", f.lat.as_ref()),
            ("lng", f.lng.as_ref()),
            ("crs", f.crs.as_ref()),
            ("address", f.address.as_ref()),
            ("contact_name", f.contact_name.as_ref()),
            ("contact_phone", f.contact_phone.as_ref()),
            ("note", f.note.as_ref()),
        ];
        for (name, pointer) in pointers {
            if let Some(p) = pointer
                && !(p.starts_with('/') && p.len() <= 200)
            {
                errors.push(FieldError::new(
                    &format!("mapping.fields.{name}"),
                    "a JSON Pointer such as /order/id",
                ));
            }
        }
        if crate::grid::code::Crs::parse(&self.crs).is_none() {
            errors.push(FieldError::new("mapping.crs", "one of wgs84, gcj02, bd09"));
        }
        if !(-720..=840).contains(&self.utc_offset_minutes) {
            errors.push(FieldError::new("mapping.utc_offset_minutes", "-720 to 840"));
        }
        for (theirs, ours) in self
            .categories
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .chain(self.default_category.iter().map(|c| ("(default)", c)))
        {
            if crate::directory::category(db, ours).await?.is_none() {
                errors.push(FieldError::new(
                    &format!("mapping.categories.{theirs}"),
                    format!("no category {ours}"),
                ));
            }
        }
        for (theirs, action) in &self.statuses {
            if !(action == "create" || action == "note" || Move::parse(action).is_some()) {
                errors.push(FieldError::new(
                    &format!("mapping.statuses.{theirs}"),
                    "create, note, or a move such as accept or close",
                ));
            }
        }
        for ours in self.outbound_statuses.keys() {
            if crate::case::Status::parse(ours).is_none() {
                errors.push(FieldError::new(
                    &format!("mapping.outbound_statuses.{ours}"),
                    "not a case status",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(errors))
        }
    }

    /// Reads one event of the platform.
    pub fn read(&self, payload: &Json) -> Result<Inbound, Problem> {
        let f = &self.fields;
        let text = |p: &Option<String>| p.as_deref().and_then(|p| text_at(payload, p));
        let Some(external_id) =
            text_at(payload, &f.external_id).filter(|id| id.chars().count() <= 128)
        else {
            return Err(Problem::validation(vec![FieldError::new(
                &f.external_id,
                "the platform's id of the event (at most 128 characters) is missing",
            )]));
        };
        let occurred_at = match f.occurred_at.as_deref().and_then(|p| payload.pointer(p)) {
            None | Some(Json::Null) => None,
            Some(v) => Some(
                crate::time::from_json(v, self.utc_offset_minutes).ok_or_else(|| {
                    Problem::validation(vec![FieldError::new(
                        f.occurred_at.as_deref().unwrap_or(""),
                        "not a time",
                    )])
                })?,
            ),
        };
        let number = |p: &Option<String>| p.as_deref().and_then(|p| number_at(payload, p));
        Ok(Inbound {
            external_id,
            event_id: text(&f.event_id).map(|e| e.chars().take(128).collect()),
            status: text(&f.status),
            occurred_at,
            category: text(&f.category),
            title: text(&f.title),
            description: text(&f.description),
            lat: number(&f.lat),
            lng: number(&f.lng),
            crs: text(&f.crs).unwrap_or_else(|| self.crs.clone()),
            address: text(&f.address),
            contact_name: text(&f.contact_name),
            contact_phone: text(&f.contact_phone),
            note: text(&f.note),
        })
    }
}

/// A string or number at a pointer, as text; blank is nothing.
fn text_at(payload: &Json, pointer: &str) -> Option<String> {
    match payload.pointer(pointer)? {
        Json::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A number at a pointer, also when sent as a string (many platforms do).
fn number_at(payload: &Json, pointer: &str) -> Option<f64> {
    match payload.pointer(pointer)? {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// One platform event, read through its mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub external_id: String,
    pub event_id: Option<String>,
    pub status: Option<String>,
    pub occurred_at: Option<i64>,
    pub category: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub crs: String,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub note: Option<String>,
}

impl Inbound {
    /// The citizen's report inside the event, in the shape every channel validates.
    pub fn report_input(
        &self,
        mapping: &Mapping,
    ) -> Result<crate::case::report::ReportInput, Problem> {
        let category = match self.category.as_deref() {
            Some(theirs) => mapping
                .categories
                .get(theirs)
                .cloned()
                .or_else(|| mapping.default_category.clone()),
            None => mapping.default_category.clone(),
        };
        let Some(category) = category else {
            return Err(Problem::validation(vec![FieldError::new(
                "category",
                format!(
                    "the platform's category {:?} has no mapping and there is no default",
                    self.category.as_deref().unwrap_or("")
                ),
            )]));
        };
        let text = match (&self.title, &self.description) {
            (Some(t), Some(d)) if !d.contains(t.as_str()) => format!("{t}: {d}"),
            (_, Some(d)) => d.clone(),
            (Some(t), None) => t.clone(),
            (None, None) => String::new(),
        };
        // A hotline's transcript may run long: the case keeps the first 2,000 characters, the
        // event's details keep the whole.
        let description: String = text
            .chars()
            .take(crate::case::report::DESCRIPTION_MAX)
            .collect();
        // Phones arrive with brackets and extensions; keep what a phone number is made of.
        let phone = self.contact_phone.as_ref().map(|p| {
            let plus = p.trim_start().starts_with('+');
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            if plus { format!("+{digits}") } else { digits }
        });
        Ok(crate::case::report::ReportInput {
            category: Some(category),
            description: Some(description),
            lat: self.lat,
            lng: self.lng,
            crs: Some(self.crs.clone()),
            address: self
                .address
                .as_ref()
                .map(|a| a.chars().take(crate::case::report::ADDRESS_MAX).collect()),
            contact_name: self.contact_name.as_ref().map(|n| {
                n.chars()
                    .take(crate::case::report::CONTACT_NAME_MAX)
                    .collect()
            }),
            contact_phone: phone.filter(|p| !p.is_empty()),
            channel: None,
            asset_id: None,
            // The hotline's callers were not asked: never public (`case::publication`).
            public: None,
            // Other platforms' photos are links we do not fetch; they stay in the payload.
            photos: Vec::new(),
            website: None,
        })
    }
}

/// The built-in mapping of a platform. The category tables map the codes those systems use in
/// a typical deployment to the demo city's categories; a city replaces them with
/// `PUT /api/admin/platforms/{code}`.
pub fn built_in_mapping(code: &str) -> Option<Mapping> {
    let doc = match code {
        // The 12345 hotline's work order (工单): its number, the matter's classification code
        // (诉求分类), the call's transcript, and the location the operator picked on an AMap
        // map (GCJ-02). Times are Beijing time without an offset.
        "12345" => json!({
            "fields": {
                "external_id": "/workOrderNo", "event_id": "/eventId", "status": "/orderStatus",
                "occurred_at": "/statusTime", "category": "/matterCode", "title": "/title",
                "description": "/content", "lat": "/location/lat", "lng": "/location/lng",
                "crs": "/location/coordType", "address": "/address", "contact_name": "/callerName",
                "contact_phone": "/callerPhone", "note": "/remark"
            },
            "crs": "gcj02",
            "categories": {
                "0301": "landscape.greenway_sign", "0302": "landscape.fallen_tree",
                "0401": "utilities.water_leak", "0402": "utilities.streetlight",
                "0501": "environment.litter", "0502": "construction.noise",
                "0601": "order.illegal_parking", "0701": "dispute.neighbourhood"
            },
            "statuses": {
                "transferred": "create", "urged": "note", "supplemented": "note",
                "withdrawn": "note", "revisited": "note"
            },
            "outbound_statuses": {
                "collected": "received", "accepted": "accepted", "rejected": "sent_back",
                "merged": "merged", "dispatched": "processing", "signed_for": "processing",
                "returned": "processing", "in_progress": "processing", "extension_requested": "processing",
                "handled": "handled", "verified": "handled", "rework": "processing",
                "closed": "completed", "evaluated": "completed"
            }
        }),
        // The digital city-management platform's case file (案卷): its number, the record id
        // of this message, the state in the standard loop, the class codes of the standard
        // (C- components 部件, E- events 事件), and x/y in WGS-84.
        "citymgmt" => json!({
            "fields": {
                "external_id": "/taskNum", "event_id": "/recId", "status": "/eventState",
                "occurred_at": "/stateTime", "category": "/subTypeCode", "description": "/eventDesc",
                "lat": "/coordinateY", "lng": "/coordinateX", "address": "/address", "note": "/opinion"
            },
            "crs": "wgs84",
            "categories": {
                "C-0101": "utilities.manhole_cover", "C-0103": "utilities.water_leak",
                "C-0111": "utilities.streetlight", "C-0201": "roads.pothole",
                "C-0406": "landscape.greenway_sign", "C-0401": "landscape.fallen_tree",
                "E-0102": "environment.litter", "E-0201": "advertising.illegal_ad",
                "E-0301": "construction.noise", "E-0401": "emergency.road_collapse",
                "E-0501": "order.street_vendor", "E-0502": "order.illegal_parking"
            },
            "statuses": {
                "上报": "create", "立案": "accept", "核查": "note", "结案": "close", "作废": "note"
            },
            "outbound_statuses": {
                "collected": "上报", "accepted": "立案", "rejected": "作废", "merged": "作废",
                "dispatched": "派遣", "signed_for": "处置", "returned": "回退", "in_progress": "处置",
                "extension_requested": "延期申请", "handled": "处置反馈", "verified": "核查",
                "rework": "返工", "closed": "结案", "evaluated": "结案"
            }
        }),
        // The public-safety platform's incident: nested objects, times in RFC 3339, a datum
        // named in the position.
        "publicsafety" => json!({
            "fields": {
                "external_id": "/incident/id", "event_id": "/updateId", "status": "/incident/state",
                "occurred_at": "/incident/updatedAt", "category": "/incident/type",
                "description": "/incident/summary", "lat": "/position/latitude",
                "lng": "/position/longitude", "crs": "/position/datum", "address": "/position/address",
                "contact_name": "/reporter/name", "contact_phone": "/reporter/phone", "note": "/incident/remark"
            },
            "crs": "wgs84",
            "categories": {
                "noise.construction": "construction.noise", "traffic.parking": "order.illegal_parking",
                "order.vending": "order.street_vendor", "dispute.neighbour": "dispute.neighbourhood",
                "hazard.road_collapse": "emergency.road_collapse", "hazard.manhole": "utilities.manhole_cover"
            },
            "statuses": {"new": "create", "update": "note", "resolved": "note", "escalated": "note"},
            "outbound_statuses": {}
        }),
        _ => return None,
    };
    serde_json::from_value(doc).ok()
}

/// A platform as configured (or built in).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Platform {
    pub code: String,
    pub name: String,
    pub webhook_url: Option<String>,
    #[serde(skip)]
    pub secret: Option<String>,
    pub has_secret: bool,
    pub mapping: Mapping,
    /// The mapping is the built-in default (no document stored).
    pub built_in_mapping: bool,
    pub updated_at: Option<String>,
}

/// The body of `PUT /api/admin/platforms/{code}`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformInput {
    pub name: String,
    pub webhook_url: Option<String>,
    /// `whsec_…`: signs the webhooks OneGrid sends the platform. Omitted: kept.
    pub secret: Option<String>,
    /// Omitted or null: the built-in mapping (only for the built-in platforms).
    pub mapping: Option<Mapping>,
}

const UPSERT: &str = "INSERT INTO platforms (code, name, webhook_url, secret, mapping, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
     webhook_url = excluded.webhook_url, secret = COALESCE(excluded.secret, platforms.secret), \
     mapping = excluded.mapping, updated_at = excluded.updated_at";
const BY_CODE: &str =
    "SELECT code, name, webhook_url, secret, mapping, updated_at FROM platforms WHERE code = ?";
const LINK: &str = "SELECT case_id FROM platform_links WHERE platform = ? AND external_id = ?";
const LINK_OF_CASE: &str = "SELECT platform, external_id FROM platform_links WHERE case_id = ?";
/// The unique key: the first insert wins, a second for the same id inserts nothing.
pub(crate) const INSERT_LINK: &str = "INSERT INTO platform_links (platform, external_id, case_id, created_at) \
     VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING case_id";

pub fn default_name(code: &str) -> String {
    match code {
        "12345" => "12345 政务服务便民热线 Citizen hotline".into(),
        "citymgmt" => "数字城管 Digital city management".into(),
        "publicsafety" => "公共安全平台 Public safety".into(),
        other => other.into(),
    }
}

/// A platform's configuration: its stored row, else the built-in default; `None` if neither.
pub async fn config<D: Database>(db: &D, code: &str) -> Result<Option<Platform>, StoreError> {
    let rows = db.execute(BY_CODE, &[code.into()]).await?;
    if let Some(r) = rows.first() {
        let stored: Option<Mapping> = r
            .opt_text("mapping")?
            .and_then(|m| serde_json::from_str(&m).ok());
        let built_in = stored.is_none();
        let Some(mapping) = stored.or_else(|| built_in_mapping(code)) else {
            return Err(StoreError(format!(
                "platform {code} has no readable mapping"
            )));
        };
        let secret = r.opt_text("secret")?;
        return Ok(Some(Platform {
            code: r.text("code")?,
            name: r.text("name")?,
            webhook_url: r.opt_text("webhook_url")?,
            has_secret: secret.is_some(),
            secret,
            mapping,
            built_in_mapping: built_in,
            updated_at: r.opt_i64("updated_at")?.map(crate::time::rfc3339),
        }));
    }
    Ok(built_in_mapping(code).map(|mapping| Platform {
        code: code.to_owned(),
        name: default_name(code),
        webhook_url: None,
        secret: None,
        has_secret: false,
        mapping,
        built_in_mapping: true,
        updated_at: None,
    }))
}

/// Every platform: the built-in ones and those configured.
pub async fn list<D: Database>(db: &D) -> Result<Vec<Platform>, StoreError> {
    let rows = db
        .execute("SELECT code FROM platforms ORDER BY code", &[])
        .await?;
    let mut codes: Vec<String> = BUILT_IN.iter().map(|c| (*c).to_owned()).collect();
    for r in rows.iter() {
        let code = r.text("code")?;
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    let mut out = Vec::new();
    for code in codes {
        if let Some(p) = config(db, &code).await? {
            out.push(p);
        }
    }
    Ok(out)
}

pub async fn upsert<D: Database>(
    db: &D,
    code: &str,
    input: &PlatformInput,
    now: i64,
) -> Result<(), Problem> {
    let mut errors = Vec::new();
    crate::directory::check_endpoint(
        code,
        &input.name,
        input.webhook_url.as_deref(),
        input.secret.as_deref(),
        &mut errors,
    );
    if input.mapping.is_none() && built_in_mapping(code).is_none() {
        errors.push(FieldError::new(
            "mapping",
            "required: this platform has no built-in mapping",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    if let Some(m) = &input.mapping {
        m.validate(db).await?;
    }
    let mapping = input
        .mapping
        .as_ref()
        .map(|m| serde_json::to_string(m).unwrap_or_default());
    db.execute(
        UPSERT,
        &[
            code.into(),
            input.name.trim().into(),
            input.webhook_url.clone().into(),
            input.secret.clone().into(),
            mapping.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The case linked to a platform's external id.
pub async fn linked_case<D: Database>(
    db: &D,
    platform: &str,
    external_id: &str,
) -> Result<Option<String>, StoreError> {
    let rows = db
        .execute(LINK, &[platform.into(), external_id.into()])
        .await?;
    rows.first().map(|r| r.text("case_id")).transpose()
}

/// The webhook endpoint of a platform and its signing secret (for the outbox).
pub async fn endpoint<D: Database>(
    db: &D,
    code: &str,
) -> Result<Option<(String, Vec<String>)>, StoreError> {
    Ok(config(db, code)
        .await?
        .and_then(|p| Some((p.webhook_url?, vec![p.secret?]))))
}

/// The actor id a platform's own moves carry: its changes are not echoed back to it.
pub fn actor_id(code: &str) -> String {
    format!("platform:{code}")
}

/// The message that tells the source platform of a case's status change, in its own words:
/// the platform's code and the message's data, or `None` when the case came from no platform, the
/// platform itself made the change, or it has no endpoint. `app::cases` queues it in the move's
/// transaction.
pub async fn status_notice<D: Database>(
    db: &D,
    case: &Case,
    mv: Move,
    actor: &Actor,
    seq: i64,
    now: i64,
) -> Result<Option<(String, Json)>, StoreError> {
    let rows = db.execute(LINK_OF_CASE, &[case.id.as_str().into()]).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let (code, external_id) = (row.text("platform")?, row.text("external_id")?);
    if actor.channel == Channel::Platform && actor.id == actor_id(&code) {
        return Ok(None);
    }
    let Some(platform) = config(db, &code).await? else {
        return Ok(None);
    };
    if platform.webhook_url.is_none() || platform.secret.is_none() {
        return Ok(None);
    }
    let theirs = platform
        .mapping
        .outbound_statuses
        .get(case.status.as_str())
        .cloned()
        .unwrap_or_else(|| case.status.as_str().to_owned());
    let data = json!({
        "platform": code,
        "external_id": external_id,
        "status": theirs,
        "onegrid_status": case.status,
        "move": mv.as_str(),
        "event_seq": seq,
        "occurred_at": crate::time::rfc3339(now),
        "case_id": case.id,
        "tracking_code": case.tracking_code,
        "department": case.department,
    });
    Ok(Some((code, data)))
}

/// A platform's endpoint answered 410 Gone: it is not called again until an administrator
/// sets a new one.
pub async fn forget_webhook<D: Database>(db: &D, code: &str, now: i64) -> Result<(), StoreError> {
    db.execute(
        "UPDATE platforms SET webhook_url = NULL, updated_at = ? WHERE code = ?",
        &[now.into(), code.into()],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_mapping_parses_and_reads_its_sample() {
        for code in BUILT_IN {
            let m = built_in_mapping(code).unwrap_or_else(|| panic!("{code}"));
            let sample = crate::api::ingest_tests::sample(code, "X-1", "first");
            let event = m.read(&sample).unwrap();
            assert_eq!(event.external_id, "X-1", "{code}");
            assert!(
                event.lat.is_some() && event.lng.is_some() && event.occurred_at.is_some(),
                "{code}: {event:?}"
            );
            assert_eq!(m.action(event.status.as_deref()), Action::Create, "{code}");
        }
    }

    #[test]
    fn unknown_statuses_are_notes_and_moves_are_moves() {
        let m = built_in_mapping("citymgmt").unwrap();
        assert_eq!(m.action(Some("立案")), Action::Move(Move::Accept));
        assert_eq!(m.action(Some("结案")), Action::Move(Move::Close));
        assert_eq!(m.action(Some("something else")), Action::Note);
        assert_eq!(m.action(None), Action::Note);
    }
}
