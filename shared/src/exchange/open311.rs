//! Open311 GeoReport v2 as the spec names it: its element and field names, XML (the required
//! format) and JSON, its `errors/error` list, its status words, and the service definitions
//! (attribute questions) of our categories. The handlers are in `api::open311`; this module
//! holds what both sides of a request need and writes the documents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::case::Status;
use crate::http::problem::{FieldError, ProblemType};
use crate::{ApiResponse, Database, Problem, StoreError};

/// The two formats of the spec; XML when the resource has no suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

/// A path's last segment without its format suffix: `requests.json` → (`requests`, JSON).
/// A code may contain dots (`landscape.greenway_sign`); only `.xml` / `.json` are suffixes.
pub fn split_format(segment: &str) -> (&str, Format) {
    if let Some(name) = segment.strip_suffix(".json") {
        (name, Format::Json)
    } else if let Some(name) = segment.strip_suffix(".xml") {
        (name, Format::Xml)
    } else {
        (segment, Format::Xml)
    }
}

/// A document in the spec's shape, written as XML or JSON from one tree so that the two
/// cannot differ. Fields keep their order (the spec's examples' order) in XML.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Number(f64),
    /// A whole number, written without a fraction (`400`, not `400.0`).
    Integer(i64),
    Bool(bool),
    /// `<tag/>` in XML, `null` in JSON.
    Null,
    /// A list of items, each written as `<item>` in XML, an array in JSON.
    List(&'static str, Vec<Node>),
    Object(Vec<(&'static str, Node)>),
}

impl Node {
    pub fn text(s: impl Into<String>) -> Node {
        Node::Text(s.into())
    }
    pub fn opt(s: Option<impl Into<String>>) -> Node {
        s.map_or(Node::Text(String::new()), |s| Node::Text(s.into()))
    }

    pub fn to_json(&self) -> Json {
        match self {
            Node::Text(s) => json!(s),
            Node::Number(n) => json!(n),
            Node::Integer(n) => json!(n),
            Node::Bool(b) => json!(b),
            Node::Null => Json::Null,
            Node::List(_, items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Node::Object(fields) => {
                let mut map = Map::new();
                for (k, v) in fields {
                    map.insert((*k).to_owned(), v.to_json());
                }
                Json::Object(map)
            }
        }
    }

    fn write_xml(&self, tag: &str, out: &mut String) {
        match self {
            Node::Null => {
                out.push_str(&format!("<{tag}/>"));
            }
            Node::Text(s) => {
                out.push_str(&format!("<{tag}>"));
                escape_into(s, out);
                out.push_str(&format!("</{tag}>"));
            }
            Node::Number(n) => out.push_str(&format!("<{tag}>{n}</{tag}>")),
            Node::Integer(n) => out.push_str(&format!("<{tag}>{n}</{tag}>")),
            Node::Bool(b) => out.push_str(&format!("<{tag}>{b}</{tag}>")),
            Node::List(item, items) => {
                out.push_str(&format!("<{tag}>"));
                for i in items {
                    i.write_xml(item, out);
                }
                out.push_str(&format!("</{tag}>"));
            }
            Node::Object(fields) => {
                out.push_str(&format!("<{tag}>"));
                for (k, v) in fields {
                    v.write_xml(k, out);
                }
                out.push_str(&format!("</{tag}>"));
            }
        }
    }

    /// The whole XML document with this node as its root element `root`.
    pub fn to_xml(&self, root: &str) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        self.write_xml(root, &mut out);
        out.push('\n');
        out
    }

    /// The answer in the requested format; `root` is the XML root element.
    pub fn respond(&self, status: u16, root: &str, format: Format) -> ApiResponse {
        match format {
            Format::Xml => ApiResponse::new(
                status,
                "text/xml; charset=utf-8",
                self.to_xml(root).into_bytes(),
            ),
            Format::Json => ApiResponse::json(status, &self.to_json()),
        }
    }
}

/// XML text escaping, and characters XML 1.0 cannot carry at all replaced by U+FFFD (a
/// description typed on a phone may hold a stray control character).
fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// The spec's error statuses: 400, 403, 404; 405 (a method the path has not), 409 (an update
/// still being applied), 429 and 5xx pass as they are.
fn open311_status(problem: &Problem) -> u16 {
    if problem.kind == ProblemType::OutsideJurisdiction {
        // A point outside the city is a bad request here, not a missing resource.
        return 400;
    }
    match problem.status {
        401 | 403 => 403,
        // A body too large or too slow keeps its status: a client retries neither unchanged.
        s @ (404 | 405 | 408 | 409 | 413 | 429) => s,
        s if s >= 500 => s,
        _ => 400,
    }
}

/// A problem as the spec's `errors/error` list (with `Retry-After` on a 429, and on a 405 the
/// `Allow` header RFC 9110 asks for).
pub fn error_response(problem: &Problem, format: Format) -> ApiResponse {
    let status = open311_status(problem);
    let mut descriptions: Vec<String> =
        match problem.extensions.get("errors").and_then(Json::as_array) {
            Some(list) => list
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e["field"].as_str().unwrap_or(""),
                        e["message"].as_str().unwrap_or("")
                    )
                })
                .collect(),
            None => Vec::new(),
        };
    if descriptions.is_empty() {
        descriptions.push(problem.detail.clone());
    }
    let errors = Node::List(
        "error",
        descriptions
            .into_iter()
            .map(|d| {
                Node::Object(vec![
                    ("code", Node::Integer(i64::from(status))),
                    ("description", Node::Text(d)),
                ])
            })
            .collect(),
    );
    let mut response = errors.respond(status, "errors", format);
    if let Some(s) = problem.retry_after_seconds {
        response = response.with_header("retry-after", s.to_string());
    }
    if let (405, Some(Json::Array(methods))) = (status, problem.extensions.get("allowed")) {
        let allow: Vec<&str> = methods.iter().filter_map(Json::as_str).collect();
        response = response.with_header("allow", allow.join(", "));
    }
    response
}

/// The base spec's two statuses.
pub fn base_status(status: &str) -> &'static str {
    use Status as S;
    match Status::parse(status) {
        Some(S::Rejected | S::Merged | S::Closed | S::Evaluated) => "closed",
        Some(
            S::Collected
            | S::Accepted
            | S::Dispatched
            | S::SignedFor
            | S::Returned
            | S::InProgress
            | S::ExtensionRequested
            | S::Handled
            | S::Verified
            | S::Rework,
        )
        | None => "open",
    }
}

/// The extended statuses of the service request updates extension (FixMyStreet's), from ours,
/// chosen so that each reads right in FixMyStreet's default states: everything a department or
/// the centre still works on is one of its open states (`open`, `investigating`,
/// `action_scheduled`, `in_progress`), a result is `fixed`, and an end without one says why
/// (`not_councils_responsibility`, `no_further_action`, `duplicate`). A rejection whose reason
/// says the matter is not the city's is `not_councils_responsibility`. docs/api.md has the
/// table.
pub fn extended_status(status: &str, reason: Option<&str>) -> &'static str {
    use Status as S;
    let Some(status) = Status::parse(status) else {
        return "open";
    };
    match status {
        S::Collected => "open",
        // With the centre: looked at, sent on, or back from a department to be sent again.
        S::Accepted | S::Dispatched | S::Returned => "investigating",
        // A verification failed: the case is open again and back with the department.
        S::Rework => "investigating",
        S::SignedFor => "action_scheduled",
        S::InProgress | S::ExtensionRequested => "in_progress",
        // Handled by the department (then verified, closed, rated), or on the spot.
        S::Handled | S::Verified | S::Closed | S::Evaluated => "fixed",
        S::Merged => "duplicate",
        S::Rejected => {
            let r = reason.unwrap_or("").to_lowercase();
            let not_ours = [
                "scope",
                "jurisdiction",
                "responsib",
                "不属于",
                "非本",
                "管辖",
            ];
            if not_ours.iter().any(|w| r.contains(w)) {
                "not_councils_responsibility"
            } else {
                "no_further_action"
            }
        }
    }
}

/// The statuses a client may name with its update (FixMyStreet's extended ones, and the base
/// spec's two), in lower case; FixMyStreet sends them in upper case.
pub const CLIENT_STATUSES: [&str; 11] = [
    "open",
    "closed",
    "fixed",
    "in_progress",
    "action_scheduled",
    "investigating",
    "duplicate",
    "not_councils_responsibility",
    "no_further_action",
    "internal_referral",
    "reopen",
];

/// What an event of a case's trail did, in words, for an update's `description` (the event's
/// public note follows). Chinese, or English with `english`.
pub fn event_words(kind: &str, english: bool) -> &'static str {
    let (zh, en) = match kind {
        "accept" => ("已受理", "Accepted by the city's governance centre"),
        "reject" => ("不予受理", "Not taken up by the city's governance centre"),
        "merge" => (
            "已合并到同一问题的案件",
            "Merged into a case about the same problem",
        ),
        "dispatch" => ("已派遣至处置部门", "Sent to the department responsible"),
        "sign_for" => ("处置部门已签收", "Taken on by the department"),
        "return" => (
            "处置部门已退回，待重新派遣",
            "Returned by the department, to be sent again",
        ),
        "start" => ("处置中", "Work has started"),
        "request_extension" => ("处置部门申请延期", "The department asked for more time"),
        "approve_extension" => ("延期已批准", "More time was granted"),
        "refuse_extension" => ("延期未批准", "More time was refused"),
        "handle" => ("处置部门已处置完毕", "The department reports it done"),
        "verify_pass" => ("核查通过", "Checked on the spot: done"),
        "verify_fail" => (
            "核查未通过，返工",
            "Checked on the spot: not done, back to the department",
        ),
        "self_handle" => (
            "网格员已现场处置",
            "Dealt with on the spot by the grid worker",
        ),
        "close" => ("已结案", "Closed"),
        "evaluate" => ("已评价", "Rated by the reporter"),
        "correct" => (
            "类别或位置已更正",
            "The category or the place was corrected",
        ),
        "escalate" => ("已超时，已上报督办", "Overdue: raised to the next level"),
        "open311_update" => ("来自外部平台的补充", "A comment from another platform"),
        "platform_update" | "platform_link" => {
            ("来自外部平台的更新", "An update from another platform")
        }
        "late_status" => (
            "处置部门的迟到状态已记录",
            "A late status of the department was recorded",
        ),
        _ => ("案件已更新", "The case was updated"),
    };
    if english { en } else { zh }
}

/// An attribute question of a service, as the spec's service definition lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    pub code: String,
    /// string, number, datetime, text, singlevaluelist, multivaluelist
    pub datatype: String,
    #[serde(default)]
    pub required: bool,
    /// false: only information shown to the user, never answered.
    #[serde(default = "yes")]
    pub variable: bool,
    pub description: String,
    #[serde(default)]
    pub datatype_description: Option<String>,
    pub order: u32,
    #[serde(default)]
    pub values: Vec<Choice>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub key: String,
    pub name: String,
}

/// The body of `PUT /api/admin/categories/{code}/open311`: what Open311 clients are told of a
/// category beyond its names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    #[serde(default)]
    pub keywords: String,
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

const DATATYPES: [&str; 6] = [
    "string",
    "number",
    "datetime",
    "text",
    "singlevaluelist",
    "multivaluelist",
];

impl Definition {
    pub fn validate(&self) -> Result<(), Problem> {
        let mut errors = Vec::new();
        if self.keywords.chars().count() > 500 {
            errors.push(FieldError::new("keywords", "at most 500 characters"));
        }
        let mut seen = Vec::new();
        for (i, a) in self.attributes.iter().enumerate() {
            let field = |f: &str| format!("attributes[{i}].{f}");
            if a.code.is_empty()
                || a.code.len() > 64
                || !a
                    .code
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
            {
                errors.push(FieldError::new(
                    &field("code"),
                    "1-64 characters of A-Z, a-z, 0-9, _ -",
                ));
            }
            if seen.contains(&a.code) {
                errors.push(FieldError::new(&field("code"), "used twice"));
            }
            seen.push(a.code.clone());
            if !DATATYPES.contains(&a.datatype.as_str()) {
                errors.push(FieldError::new(&field("datatype"), DATATYPES.join(", ")));
            }
            let is_list = a.datatype.ends_with("valuelist");
            if is_list == a.values.is_empty() {
                errors.push(FieldError::new(
                    &field("values"),
                    "the choices of a list, and only of a list",
                ));
            }
            if a.description.trim().is_empty() || a.description.chars().count() > 500 {
                errors.push(FieldError::new(
                    &field("description"),
                    "1 to 500 characters",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(errors))
        }
    }

    /// Checks a request's `attribute[code]` answers; returns them as stored. Every problem is
    /// named at once.
    pub fn check_answers(&self, answers: &BTreeMap<String, Vec<String>>) -> Result<Json, Problem> {
        let mut errors = Vec::new();
        let mut out = Map::new();
        for a in self.attributes.iter().filter(|a| a.variable) {
            let given: Vec<&String> = answers
                .get(&a.code)
                .map(|v| v.iter().filter(|s| !s.trim().is_empty()).collect())
                .unwrap_or_default();
            let field = format!("attribute[{}]", a.code);
            if given.is_empty() {
                if a.required {
                    errors.push(FieldError::new(
                        &field,
                        format!("required: {}", a.description),
                    ));
                }
                continue;
            }
            let keys: Vec<&str> = a.values.iter().map(|v| v.key.as_str()).collect();
            let ok = match a.datatype.as_str() {
                "number" => {
                    given.len() == 1 && given[0].trim().parse::<f64>().is_ok_and(f64::is_finite)
                }
                "datetime" => given.len() == 1 && crate::time::parse(given[0], 0).is_some(),
                "singlevaluelist" => given.len() == 1 && keys.contains(&given[0].as_str()),
                "multivaluelist" => given.iter().all(|g| keys.contains(&g.as_str())),
                "string" => {
                    given.len() == 1 && !given[0].contains('\n') && given[0].chars().count() <= 500
                }
                _ => given.len() == 1 && given[0].chars().count() <= 4000,
            };
            if !ok {
                errors.push(FieldError::new(
                    &field,
                    format!("not a valid {} answer", a.datatype),
                ));
                continue;
            }
            out.insert(
                a.code.clone(),
                if a.datatype == "multivaluelist" {
                    json!(given)
                } else {
                    json!(given[0])
                },
            );
        }
        if errors.is_empty() {
            Ok(Json::Object(out))
        } else {
            Err(Problem::validation(errors))
        }
    }

    /// The spec's `service_definition` document.
    pub fn to_node(&self, service_code: &str) -> Node {
        let mut attributes = self.attributes.clone();
        attributes.sort_by_key(|a| a.order);
        Node::Object(vec![
            ("service_code", Node::text(service_code)),
            (
                "attributes",
                Node::List(
                    "attribute",
                    attributes
                        .iter()
                        .map(|a| {
                            let mut fields = vec![
                                ("variable", Node::Bool(a.variable)),
                                ("code", Node::text(&a.code)),
                                ("datatype", Node::text(&a.datatype)),
                                ("required", Node::Bool(a.required)),
                                (
                                    "datatype_description",
                                    a.datatype_description
                                        .clone()
                                        .map_or(Node::Null, Node::Text),
                                ),
                                ("order", Node::Integer(i64::from(a.order))),
                                ("description", Node::text(&a.description)),
                            ];
                            if !a.values.is_empty() {
                                fields.push((
                                    "values",
                                    Node::List(
                                        "value",
                                        a.values
                                            .iter()
                                            .map(|v| {
                                                Node::Object(vec![
                                                    ("key", Node::text(&v.key)),
                                                    ("name", Node::text(&v.name)),
                                                ])
                                            })
                                            .collect(),
                                    ),
                                ));
                            }
                            Node::Object(fields)
                        })
                        .collect(),
                ),
            ),
        ])
    }
}

const PUT_DEFINITION: &str = "INSERT INTO service_definitions (category, keywords, attributes, updated_at) VALUES (?, ?, ?, ?) \
     ON CONFLICT (category) DO UPDATE SET keywords = excluded.keywords, attributes = excluded.attributes, \
     updated_at = excluded.updated_at";

/// A category's definition; the empty one when none was set.
pub async fn definition<D: Database>(db: &D, category: &str) -> Result<Definition, StoreError> {
    let rows = db
        .execute(
            "SELECT keywords, attributes FROM service_definitions WHERE category = ?",
            &[category.into()],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(Definition::default());
    };
    Ok(Definition {
        keywords: row.text("keywords")?,
        attributes: serde_json::from_str(&row.text("attributes")?).unwrap_or_default(),
    })
}

/// Every definition at once, for the service list (one query, not one per category).
pub async fn definitions<D: Database>(db: &D) -> Result<BTreeMap<String, Definition>, StoreError> {
    let rows = db
        .execute(
            "SELECT category, keywords, attributes FROM service_definitions",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.text("category")?,
                Definition {
                    keywords: r.text("keywords")?,
                    attributes: serde_json::from_str(&r.text("attributes")?).unwrap_or_default(),
                },
            ))
        })
        .collect()
}

pub async fn put_definition<D: Database>(
    db: &D,
    category: &str,
    def: &Definition,
    now: i64,
) -> Result<(), Problem> {
    def.validate()?;
    if crate::directory::category(db, category).await?.is_none() {
        return Err(Problem::not_found("category", category));
    }
    let attributes = serde_json::to_string(&def.attributes).unwrap_or_else(|_| "[]".into());
    db.execute(
        PUT_DEFINITION,
        &[
            category.into(),
            def.keywords.trim().into(),
            attributes.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// A form body or query string with its repeated and bracketed keys gathered: `media_url`
/// (several), `media_url[]`, `attribute[code]`, `attribute[code][]`.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pub fields: BTreeMap<String, Vec<String>>,
    pub attributes: BTreeMap<String, Vec<String>>,
}

impl Form {
    pub fn parse(pairs: Vec<(String, String)>) -> Form {
        let mut form = Form::default();
        for (key, value) in pairs {
            if let Some(rest) = key.strip_prefix("attribute[") {
                let code = rest.strip_suffix("[]").unwrap_or(rest);
                if let Some(code) = code.strip_suffix(']') {
                    form.attributes
                        .entry(code.to_owned())
                        .or_default()
                        .push(value);
                }
                continue;
            }
            let name = key.strip_suffix("[]").unwrap_or(&key).to_owned();
            form.fields.entry(name).or_default().push(value);
        }
        form
    }

    /// The first non-blank value of the first of `names` that has one (aliases such as
    /// `device_id` and `deviceid`).
    pub fn get(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| {
            self.fields
                .get(*n)
                .and_then(|v| v.iter().map(|s| s.trim()).find(|s| !s.is_empty()))
                .map(str::to_owned)
        })
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .get(name)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

const INSERT_REQUEST: &str = "INSERT INTO open311_requests (token, case_id, key_id, service_code, description, \
     address_string, address_id, attributes, media_urls, device_id, account_id, email, first_name, last_name, phone, \
     status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const PLACE_PENDING: &str = "UPDATE open311_requests SET case_id = ?, status = 'created', updated_at = ? \
     WHERE token = ? AND status = 'pending' RETURNING token";

/// Stores what a client sent with a request: the row's values in the order of the table's
/// columns (token, case_id, key_id, service_code, description, address_string, address_id,
/// attributes, media_urls, device_id, account_id, email, first_name, last_name, phone, status,
/// created_at, updated_at). Fails on a token stored before.
pub async fn insert_request<D: Database>(db: &D, row: &[crate::Value]) -> Result<(), StoreError> {
    db.execute(INSERT_REQUEST, row).await?;
    Ok(())
}

/// A pending request (one waiting for an operator to place it) gets its case; `false` when it
/// was not pending.
pub async fn place_pending<D: Database>(
    db: &D,
    token: &str,
    case_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let rows = db
        .execute(PLACE_PENDING, &[case_id.into(), now.into(), token.into()])
        .await?;
    Ok(!rows.is_empty())
}

/// What an Open311 client sent about the reporter beside the case.
const PURGE_REPORTER: &str = "UPDATE open311_requests SET description = ?, email = NULL, first_name = NULL, \
     last_name = NULL, phone = NULL, device_id = NULL, account_id = NULL WHERE case_id = ?";

/// Retention: removes what a client sent about the reporter of a case, keeping the request.
pub async fn purge_reporter<D: Database>(
    db: &D,
    case_id: &str,
    masked_description: &str,
) -> Result<(), StoreError> {
    db.execute(PURGE_REPORTER, &[masked_description.into(), case_id.into()])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_pick_the_format_and_dotted_codes_survive() {
        assert_eq!(split_format("services.json"), ("services", Format::Json));
        assert_eq!(split_format("services.xml"), ("services", Format::Xml));
        assert_eq!(split_format("services"), ("services", Format::Xml));
        assert_eq!(
            split_format("landscape.greenway_sign.json"),
            ("landscape.greenway_sign", Format::Json)
        );
        assert_eq!(
            split_format("landscape.greenway_sign"),
            ("landscape.greenway_sign", Format::Xml)
        );
    }

    #[test]
    fn text_is_escaped_and_a_plain_parser_reads_it_back() {
        let node = Node::Object(vec![
            (
                "description",
                Node::text("<b>Tom & \"Jerry\"</b> it's\u{1}broken"),
            ),
            ("account_id", Node::Null),
        ]);
        let xml = node.to_xml("request");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        let description = root
            .children()
            .find(|n| n.has_tag_name("description"))
            .unwrap();
        assert_eq!(
            description.text(),
            Some("<b>Tom & \"Jerry\"</b> it's\u{FFFD}broken")
        );
        assert!(root.children().any(|n| n.has_tag_name("account_id")));
    }

    #[test]
    fn attribute_answers_are_checked_against_the_definition() {
        let def: Definition = serde_json::from_value(json!({"keywords": "", "attributes": [
            {"code": "WHISHETN", "datatype": "singlevaluelist", "required": true, "description": "What is the make of the vehicle?", "order": 1,
             "values": [{"key": "123", "name": "Ford"}, {"key": "124", "name": "Chrysler"}]},
            {"code": "COLOURS", "datatype": "multivaluelist", "description": "Colours", "order": 2,
             "values": [{"key": "r", "name": "Red"}, {"key": "b", "name": "Blue"}]},
        ]}))
        .unwrap();
        def.validate().unwrap();
        let form = Form::parse(crate::http::parse_form(
            "attribute%5BWHISHETN%5D=124&attribute[COLOURS][]=r&attribute[COLOURS][]=b",
        ));
        assert_eq!(
            def.check_answers(&form.attributes).unwrap(),
            json!({"WHISHETN": "124", "COLOURS": ["r", "b"]})
        );
        let missing = def.check_answers(&BTreeMap::new()).unwrap_err();
        assert_eq!(
            missing.extensions["errors"][0]["field"],
            "attribute[WHISHETN]"
        );
        let wrong = Form::parse(crate::http::parse_form("attribute[WHISHETN]=999"));
        assert!(def.check_answers(&wrong.attributes).is_err());
    }

    #[test]
    fn statuses_map_to_the_spec_and_its_extension() {
        assert_eq!(base_status("handled"), "open");
        assert_eq!(base_status("merged"), "closed");
        assert_eq!(extended_status("merged", None), "duplicate");
        assert_eq!(extended_status("rework", None), "investigating");
        assert_eq!(
            extended_status("rejected", Some("Out of scope: private land")),
            "not_councils_responsibility"
        );
        assert_eq!(
            extended_status("rejected", Some("不属于本市管辖")),
            "not_councils_responsibility"
        );
        assert_eq!(
            extended_status("rejected", Some("no problem found")),
            "no_further_action"
        );
        assert_eq!(extended_status("dispatched", None), "investigating");
        assert_eq!(extended_status("returned", None), "investigating");
        assert_eq!(extended_status("signed_for", None), "action_scheduled");
        assert_eq!(extended_status("closed", None), "fixed");
    }

    /// FixMyStreet's default states: which of its extended statuses it counts as open. Every
    /// OneGrid status that still needs work must read as open there, every end as not open.
    #[test]
    fn every_status_reads_right_in_fixmystreets_states() {
        let open_there = ["open", "investigating", "action_scheduled", "in_progress"];
        for status in Status::ALL {
            let shown = extended_status(status.as_str(), Some("out of scope"));
            let ended = matches!(
                status,
                Status::Handled
                    | Status::Verified
                    | Status::Closed
                    | Status::Evaluated
                    | Status::Rejected
                    | Status::Merged
            );
            assert_eq!(
                open_there.contains(&shown),
                !ended,
                "{status:?} shows as {shown}"
            );
            assert!(CLIENT_STATUSES.contains(&shown), "{shown}");
            assert_ne!(shown, "internal_referral", "FixMyStreet closes on it");
            assert_ne!(shown, "reopen", "FixMyStreet does not know it");
        }
    }

    #[test]
    fn an_attribute_may_come_first_with_order_zero() {
        let def: Definition = serde_json::from_value(json!({"attributes": [
            {"code": "NOTE", "datatype": "string", "description": "Anything else?", "order": 0},
            {"code": "KIND", "datatype": "string", "description": "What kind?", "order": 1},
        ]}))
        .unwrap();
        def.validate().unwrap();
        let Node::Object(fields) = def.to_node("x") else {
            panic!("an object")
        };
        let Node::List(_, attributes) = &fields[1].1 else {
            panic!("a list")
        };
        assert_eq!(attributes[0].to_json()["code"], "NOTE");
    }
}
