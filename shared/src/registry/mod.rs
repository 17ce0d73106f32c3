//! The base registry (人·地·事·物·组织): the grid's own knowledge of the people and places of
//! each cell. This part holds the places and the people: standard addresses (road → building →
//! unit → room) in the cell their point lies in, households at an address, and residents in a
//! household with the tags grid work sorts them by. It is the most sensitive data OneGrid
//! holds, so:
//! - an ID or phone number is stored only sealed and keyed-hashed ([`keys`]);
//! - every read is scoped to the caller's part of the city, by the index on `grid_code`;
//! - every staff look at a person, masked or whole, is written to `registry_reads` before the
//!   answer leaves, and a search lists people masked.
//!
//! Writes merge by key, so that an office's repeated import updates instead of duplicating:
//! addresses and households by their id, people by their ID number's hash when they have one.

pub mod import;
pub mod keys;
pub mod visits;

use serde::{Deserialize, Serialize};

use crate::access::principal::Principal;
use crate::grid::code::{Crs, GridCode, Level, Wgs84Point};
use crate::grid::{self};
use crate::http::problem::FieldError;
use crate::mask;
use crate::{Database, Env, Problem, StoreError, Value};
use keys::{RegistryKeys, Sealed};

/// The registry's migration (schema version 11), as `app::schema` applies it.
pub const MIGRATION_11: &str = include_str!("sql/011_registry.sql");

/// The most records one request registers: an office's import comes in batches of this size.
pub const BATCH_MAX: usize = 500;
/// The most people a search lists.
pub const SEARCH_LIMIT_MAX: usize = 50;
pub const SEARCH_LIMIT_DEFAULT: usize = 20;
const TEXT_MAX: usize = 100;
const NAME_MAX: usize = 50;
const ID_MAX: usize = 40;

/// A registry id (`A-…` address, `H-…` household, `P-…` person, or an office's own key):
/// upper-case letters, digits and `-`, starting with a letter, safe in a path unescaped.
pub fn valid_id(id: &str) -> bool {
    (2..=ID_MAX).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_uppercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

fn id_error(field: &str) -> FieldError {
    FieldError::new(
        field,
        format!("2 to {ID_MAX} of A-Z, 0-9 and -, starting with a letter, like A-0001"),
    )
}

/// `at` for the items of a batch: `[3].` when there are several, nothing for one.
fn at(i: usize, n: usize) -> String {
    if n == 1 {
        String::new()
    } else {
        format!("[{i}].")
    }
}

fn batch_size_errors<T>(items: &[T], what: &str) -> Vec<FieldError> {
    match items.len() {
        0 => vec![FieldError::new(what, format!("at least one {what}"))],
        n if n > BATCH_MAX => vec![FieldError::new(
            what,
            format!("at most {BATCH_MAX} in one request; send the rest in another"),
        )],
        _ => vec![],
    }
}

/// A batch item's key: of the registry's form, and not given to an earlier item of the batch.
fn key_errors<'a>(
    id: &str,
    earlier: impl IntoIterator<Item = &'a str>,
    at: &str,
    errors: &mut Vec<FieldError>,
) {
    if !valid_id(id) {
        errors.push(id_error(&format!("{at}id")));
    } else if earlier.into_iter().any(|o| o == id) {
        errors.push(FieldError::new(
            &format!("{at}id"),
            "appears twice in this request",
        ));
    }
}

fn text_field(
    value: &str,
    field: &str,
    required: bool,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let v = value.trim();
    if (required && v.is_empty()) || v.chars().count() > max || v.chars().any(char::is_control) {
        let least = if required { 1 } else { 0 };
        errors.push(FieldError::new(
            field,
            format!("{least} to {max} characters, no control characters"),
        ));
    }
    v.to_owned()
}

/// Who asks, and which rows of a `grid_code` column they may see: the caller's scope, narrowed
/// to `area` when one is given (it must lie inside the scope).
pub struct Scope {
    condition: String,
    params: Vec<Value>,
    /// The narrowest level the condition holds to: a fragment search needs a street or less.
    narrowest: Option<Level>,
}

impl Scope {
    pub fn of(who: &Principal, area: Option<&GridCode>) -> Result<Scope, Problem> {
        if let Some(area) = area
            && !who.covers(area.as_str())
        {
            return Err(Problem::forbidden(format!(
                "{} is outside the part of the city you cover",
                area.as_str()
            )));
        }
        if let Some(area) = area {
            return Ok(Scope::under(area));
        }
        let (condition, params) = who.place_filter("grid_code");
        let narrowest = match who.area.as_deref().map(GridCode::parse) {
            _ if who.role == crate::access::principal::StaffRole::GridWorker => Some(Level::Cell),
            Some(Ok(code)) if who.role.is_operator() => Some(code.level()),
            _ => None,
        };
        Ok(Scope {
            condition,
            params,
            narrowest,
        })
    }

    fn under(area: &GridCode) -> Scope {
        // Grid codes extend their parents', so an area is a range of the index.
        Scope {
            condition: "grid_code >= ? AND grid_code < ?".into(),
            params: vec![area.as_str().into(), format!("{}~", area.as_str()).into()],
            narrowest: Some(area.level()),
        }
    }

    /// Whether the scope is one street or less (a fragment search reads it all).
    fn is_street_or_less(&self) -> bool {
        matches!(
            self.narrowest,
            Some(Level::Street | Level::Community | Level::Cell)
        )
    }

    /// The condition with its column on table alias `alias`.
    fn on(&self, alias: &str) -> String {
        self.condition
            .replace("grid_code", &format!("{alias}.grid_code"))
    }
}

// ---- tags

/// A tag of the configurable set grid work sorts people by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    /// `living_alone`, `elderly`, …: lower-case letters, digits and `_`.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Whether a household with a person so tagged is one the targeted visits (分类式) go to.
    #[serde(default)]
    pub targeted: bool,
}

fn valid_tag_code(code: &str) -> bool {
    (2..=32).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

pub async fn tags<D: Database>(db: &D) -> Result<Vec<Tag>, StoreError> {
    let rows = db
        .execute(
            "SELECT code, name_zh, name_en, targeted FROM registry_tags ORDER BY code",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Tag {
                code: r.text("code")?,
                name_zh: r.text("name_zh")?,
                name_en: r.text("name_en")?,
                targeted: r.i64("targeted")? != 0,
            })
        })
        .collect()
}

/// Adds tags or renames known ones (a tag is never removed: people carry its code).
pub async fn save_tags<D: Database>(db: &D, input: &[Tag], now: i64) -> Result<(), Problem> {
    let mut errors = batch_size_errors(input, "tags");
    for (i, tag) in input.iter().enumerate() {
        let at = at(i, input.len());
        if !valid_tag_code(&tag.code) {
            errors.push(FieldError::new(
                &format!("{at}code"),
                "2 to 32 of a-z, 0-9 and _, starting with a letter",
            ));
        }
        text_field(&tag.name_zh, &format!("{at}name_zh"), true, 20, &mut errors);
        text_field(&tag.name_en, &format!("{at}name_en"), true, 40, &mut errors);
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    crate::db::in_transaction(db, async {
        for tag in input {
            db.execute(
                "INSERT INTO registry_tags (code, name_zh, name_en, targeted, updated_at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET \
                 name_zh = excluded.name_zh, name_en = excluded.name_en, \
                 targeted = excluded.targeted, updated_at = excluded.updated_at",
                &[
                    tag.code.as_str().into(),
                    tag.name_zh.trim().into(),
                    tag.name_en.trim().into(),
                    i64::from(tag.targeted).into(),
                    now.into(),
                ],
            )
            .await?;
        }
        Ok(())
    })
    .await
}

// ---- addresses

/// One standard address of `POST /api/registry/addresses`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    /// The standard address code (an office's key; a repeated import updates it).
    pub id: String,
    /// The road and number: `嘉禾路 123 号`.
    pub road: String,
    #[serde(default)]
    pub building: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub room: String,
    pub lat: f64,
    pub lng: f64,
    /// The CRS of `lat`/`lng`; WGS-84 when absent.
    #[serde(default)]
    pub crs: Option<String>,
}

/// A stored address, in its cell.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Address {
    pub id: String,
    pub grid_code: String,
    pub road: String,
    pub building: String,
    pub unit: String,
    pub room: String,
    /// The whole address as it prints.
    pub label: String,
    pub lat: f64,
    pub lng: f64,
}

fn label_of(road: &str, building: &str, unit: &str, room: &str) -> String {
    [road, building, unit, room]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An address's values in the column order of `registry_addresses`, for every writer of it.
fn address_row(a: &Address, now: i64) -> [Value; 11] {
    [
        a.id.as_str().into(),
        a.grid_code.as_str().into(),
        a.road.as_str().into(),
        a.building.as_str().into(),
        a.unit.as_str().into(),
        a.room.as_str().into(),
        a.label.as_str().into(),
        a.lat.into(),
        a.lng.into(),
        now.into(),
        now.into(),
    ]
}

/// Validates every address, finds each one's cell, checks that the caller covers it, and stores
/// them all in one transaction; nothing is stored unless every one is valid and covered.
pub async fn register_addresses<E: Env>(
    env: &E,
    who: &Principal,
    inputs: &[AddressInput],
) -> Result<Vec<Address>, Problem> {
    let mut errors = batch_size_errors(inputs, "addresses");
    let mut checked = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let at = at(i, inputs.len());
        let before = errors.len();
        key_errors(
            &input.id,
            inputs[..i].iter().map(|o| o.id.as_str()),
            &at,
            &mut errors,
        );
        let road = text_field(
            &input.road,
            &format!("{at}road"),
            true,
            TEXT_MAX,
            &mut errors,
        );
        let building = text_field(
            &input.building,
            &format!("{at}building"),
            false,
            30,
            &mut errors,
        );
        let unit = text_field(&input.unit, &format!("{at}unit"), false, 30, &mut errors);
        let room = text_field(&input.room, &format!("{at}room"), false, 30, &mut errors);
        let crs = match input.crs.as_deref() {
            None => Some(Crs::Wgs84),
            Some(s) => Crs::parse(s),
        };
        if crs.is_none() {
            errors.push(FieldError::new(
                &format!("{at}crs"),
                "one of wgs84, gcj02, bd09",
            ));
        }
        let point = Wgs84Point::parse(input.lat, input.lng, crs.unwrap_or(Crs::Wgs84));
        match point {
            Ok(point) if errors.len() == before => {
                checked.push((input, point, road, building, unit, room))
            }
            Ok(_) => {}
            Err(list) => errors.extend(
                list.into_iter()
                    .map(|e| FieldError::new(&format!("{at}{}", e.field), e.message)),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let mut outside = Vec::new();
    let mut uncovered = Vec::new();
    let mut addresses = Vec::new();
    for (input, point, road, building, unit, room) in checked {
        let Some(found) = grid::locate(env, point).await? else {
            outside.push(input.id.clone());
            continue;
        };
        if !who.covers(&found.cell.code) {
            uncovered.push(input.id.clone());
            continue;
        }
        addresses.push(Address {
            id: input.id.clone(),
            grid_code: found.cell.code,
            label: label_of(&road, &building, &unit, &room),
            road,
            building,
            unit,
            room,
            lat: point.lat,
            lng: point.lng,
        });
    }
    if !outside.is_empty() {
        return Err(Problem::outside_jurisdiction(format!(
            "no grid cell within {} m of address {}",
            grid::TOLERANCE_M,
            outside.join(", ")
        ))
        .with("addresses", outside.into()));
    }
    if !uncovered.is_empty() {
        return Err(Problem::forbidden(format!(
            "address {} lies outside the part of the city you cover",
            uncovered.join(", ")
        ))
        .with("addresses", uncovered.into()));
    }
    let now = env.now_ms();
    crate::db::in_transaction(env, async {
        for a in &addresses {
            env.execute(
                "INSERT INTO registry_addresses (id, grid_code, road, building, unit, room, label, \
                 lat, lng, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET grid_code = excluded.grid_code, \
                 road = excluded.road, building = excluded.building, unit = excluded.unit, \
                 room = excluded.room, label = excluded.label, lat = excluded.lat, \
                 lng = excluded.lng, updated_at = excluded.updated_at",
                &address_row(a, now),
            )
            .await?;
            // An address that moved to another cell takes its households and people along.
            let moved: [Value; 3] = [
                a.grid_code.as_str().into(),
                a.id.as_str().into(),
                a.grid_code.as_str().into(),
            ];
            env.execute(
                "UPDATE registry_households SET grid_code = ? WHERE address_id = ? AND grid_code <> ?",
                &moved,
            )
            .await?;
            env.execute(
                "UPDATE registry_people SET grid_code = ? WHERE household_id IN \
                 (SELECT id FROM registry_households WHERE address_id = ?) AND grid_code <> ?",
                &moved,
            )
            .await?;
        }
        Ok(())
    })
    .await?;
    Ok(addresses)
}

// ---- households

/// One household of `POST /api/registry/households`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdInput {
    /// The household's key (a repeated import updates it).
    pub id: String,
    /// The standard address it lives at (registered first).
    pub address_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Household {
    pub id: String,
    pub address_id: String,
    pub grid_code: String,
}

/// A household's values in the column order of `registry_households`.
fn household_row(h: &Household, now: i64) -> [Value; 5] {
    [
        h.id.as_str().into(),
        h.address_id.as_str().into(),
        h.grid_code.as_str().into(),
        now.into(),
        now.into(),
    ]
}

/// The cells of the given ids of `table` (`registry_addresses` or `registry_households`), in
/// one read of their primary key.
async fn cells_of<D: Database>(
    db: &D,
    table: &str,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut found = std::collections::HashMap::new();
    for chunk in ids.chunks(200) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Value> = chunk.iter().map(|id| (*id).into()).collect();
        let rows = db
            .execute(
                &format!("SELECT id, grid_code FROM {table} WHERE id IN ({marks})"),
                &params,
            )
            .await?;
        for r in rows.iter() {
            found.insert(r.text("id")?, r.text("grid_code")?);
        }
    }
    Ok(found)
}

pub async fn register_households<E: Env>(
    env: &E,
    who: &Principal,
    inputs: &[HouseholdInput],
) -> Result<Vec<Household>, Problem> {
    let mut errors = batch_size_errors(inputs, "households");
    for (i, input) in inputs.iter().enumerate() {
        let at = at(i, inputs.len());
        key_errors(
            &input.id,
            inputs[..i].iter().map(|o| o.id.as_str()),
            &at,
            &mut errors,
        );
        if !valid_id(&input.address_id) {
            errors.push(id_error(&format!("{at}address_id")));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let ids: Vec<&str> = inputs.iter().map(|h| h.address_id.as_str()).collect();
    let cells = cells_of(env, "registry_addresses", &ids).await?;
    let mut households = Vec::new();
    let mut uncovered = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        match cells.get(&input.address_id) {
            None => errors.push(FieldError::new(
                &format!("{}address_id", at(i, inputs.len())),
                format!("no address {} is registered", input.address_id),
            )),
            Some(cell) if !who.covers(cell) => uncovered.push(input.id.clone()),
            Some(cell) => households.push(Household {
                id: input.id.clone(),
                address_id: input.address_id.clone(),
                grid_code: cell.clone(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    if !uncovered.is_empty() {
        return Err(Problem::forbidden(format!(
            "household {} lives outside the part of the city you cover",
            uncovered.join(", ")
        ))
        .with("households", uncovered.into()));
    }
    let now = env.now_ms();
    crate::db::in_transaction(env, async {
        for h in &households {
            env.execute(
                "INSERT INTO registry_households (id, address_id, grid_code, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET \
                 address_id = excluded.address_id, grid_code = excluded.grid_code, \
                 updated_at = excluded.updated_at",
                &household_row(h, now),
            )
            .await?;
            env.execute(
                "UPDATE registry_people SET grid_code = ? WHERE household_id = ? AND grid_code <> ?",
                &[
                    h.grid_code.as_str().into(),
                    h.id.as_str().into(),
                    h.grid_code.as_str().into(),
                ],
            )
            .await?;
        }
        Ok(())
    })
    .await?;
    Ok(households)
}

// ---- people

/// One resident of `POST /api/registry/people`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// The person's key. Optional with an ID number: the person is then found by it (a repeated
    /// import merges), and a new one gets an id derived from its keyed hash.
    #[serde(default)]
    pub id: Option<String>,
    pub household_id: String,
    pub name: String,
    /// Relation to the head of the household (户主, 配偶, 子女 …).
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub birth_year: Option<i64>,
    /// A resident ID (18 characters, its check digit verified; or 15 digits), or another
    /// document's number (6 to 20 of A-Z and 0-9). Stored only sealed.
    #[serde(default)]
    pub id_number: Option<String>,
    /// Stored only sealed; answers show it masked.
    #[serde(default)]
    pub phone: Option<String>,
    /// Codes of the tag set (`GET /api/registry/tags`).
    #[serde(default)]
    pub tags: Vec<String>,
}

/// An ID number as stored and hashed: separators gone, upper case (`x` → `X`).
pub fn normalize_id_number(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The check character of an 18-character resident ID (GB 11643-1999) for its first 17 digits.
fn resident_id_check(first17: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize]
}

/// Why an ID number (normalised) is refused, or `None` when it is taken.
pub fn id_number_problem(id: &str) -> Option<&'static str> {
    let b = id.as_bytes();
    let looks_resident = b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X');
    if looks_resident {
        return (resident_id_check(&b[..17]) != b[17])
            .then_some("the check digit of this resident ID does not match: a digit is mistyped");
    }
    let ok = (6..=20).contains(&b.len()) && b.iter().all(|c| c.is_ascii_alphanumeric());
    (!ok).then_some(
        "a resident ID (18 characters) or another document's number (6 to 20 of A-Z, 0-9)",
    )
}

/// A phone number's digits, or `None` when it is not one (7 to 15 digits, a leading `+`).
fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let body = digits.strip_prefix('+').unwrap_or(&digits);
    ((7..=15).contains(&body.len()) && body.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The id a new person with an ID number gets: derived from the keyed hash, so that the same
/// person imported twice without an id is one person, and the id tells nothing of the number.
fn derived_person_id(id_hash: &str) -> String {
    format!("P-{}", id_hash[..20].to_ascii_uppercase())
}

struct CheckedPerson {
    index: usize,
    id: Option<String>,
    household_id: String,
    name: String,
    relation: String,
    birth_year: Option<i64>,
    id_number: Option<String>,
    phone: Option<String>,
    tags: Vec<String>,
}

/// What `POST /api/registry/people` did, person by person (masked).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Registered {
    pub id: String,
    /// `created`, or `updated` (the id or the ID number was known).
    pub outcome: &'static str,
}

pub async fn register_people<E: Env>(
    env: &E,
    who: &Principal,
    inputs: &[PersonInput],
) -> Result<Vec<Registered>, Problem> {
    let keys = RegistryKeys::of(env).await?;
    let known_tags: Vec<String> = tags(env).await?.into_iter().map(|t| t.code).collect();
    let this_year = crate::time::civil_from_days(crate::time::city_day(env.now_ms())).0;
    let mut errors = batch_size_errors(inputs, "people");
    let mut checked = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let at = at(i, inputs.len());
        let before = errors.len();
        if let Some(id) = &input.id
            && !valid_id(id)
        {
            errors.push(id_error(&format!("{at}id")));
        }
        if !valid_id(&input.household_id) {
            errors.push(id_error(&format!("{at}household_id")));
        }
        let name = text_field(
            &input.name,
            &format!("{at}name"),
            true,
            NAME_MAX,
            &mut errors,
        );
        let relation = text_field(
            &input.relation,
            &format!("{at}relation"),
            false,
            20,
            &mut errors,
        );
        if let Some(year) = input.birth_year
            && !(1880..=this_year).contains(&year)
        {
            errors.push(FieldError::new(
                &format!("{at}birth_year"),
                format!("a year from 1880 to {this_year}"),
            ));
        }
        let id_number = input.id_number.as_deref().map(normalize_id_number);
        if let Some(problem) = id_number.as_deref().and_then(id_number_problem) {
            errors.push(FieldError::new(&format!("{at}id_number"), problem));
        }
        if input.id.is_none() && id_number.is_none() {
            errors.push(FieldError::new(
                &format!("{at}id"),
                "an id, or an ID number to find the person by",
            ));
        }
        let phone = match input.phone.as_deref() {
            None => None,
            Some(raw) => {
                let phone = normalize_phone(raw);
                if phone.is_none() {
                    errors.push(FieldError::new(
                        &format!("{at}phone"),
                        "7 to 15 digits, optionally after +",
                    ));
                }
                phone
            }
        };
        for tag in &input.tags {
            if !known_tags.contains(tag) {
                errors.push(FieldError::new(
                    &format!("{at}tags"),
                    format!("{tag:?} is not in the tag set (GET /api/registry/tags)"),
                ));
            }
        }
        if errors.len() == before {
            let mut tags = input.tags.clone();
            tags.sort();
            tags.dedup();
            checked.push(CheckedPerson {
                index: i,
                id: input.id.clone(),
                household_id: input.household_id.clone(),
                name,
                relation,
                birth_year: input.birth_year,
                id_number,
                phone,
                tags,
            });
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let household_ids: Vec<&str> = checked.iter().map(|p| p.household_id.as_str()).collect();
    let cells = cells_of(env, "registry_households", &household_ids).await?;
    let mut uncovered = Vec::new();
    for p in &checked {
        match cells.get(&p.household_id) {
            None => errors.push(FieldError::new(
                &format!("{}household_id", at(p.index, inputs.len())),
                format!("no household {} is registered", p.household_id),
            )),
            Some(cell) if !who.covers(cell) => uncovered.push(p.household_id.clone()),
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    if !uncovered.is_empty() {
        uncovered.dedup();
        return Err(Problem::forbidden(format!(
            "household {} lives outside the part of the city you cover",
            uncovered.join(", ")
        )));
    }
    let now = env.now_ms();
    crate::db::in_transaction(env, async {
        let mut done = Vec::new();
        for p in &checked {
            let hash = p.id_number.as_deref().map(|n| keys.id_hash(n));
            // The row this person already is: by the ID number's hash, else by the id.
            let by_hash = match &hash {
                Some(h) => env
                    .execute(
                        "SELECT id FROM registry_people WHERE id_hash = ?",
                        &[h.into()],
                    )
                    .await?
                    .first()
                    .map(|r| r.text("id"))
                    .transpose()?,
                None => None,
            };
            let id = match (&by_hash, &p.id, &hash) {
                (Some(known), Some(given), _) if known != given => {
                    return Err(Problem::validation(vec![FieldError::new(
                        &format!("{}id_number", at(p.index, inputs.len())),
                        format!("this ID number is registered to person {known}, not {given}"),
                    )]));
                }
                (Some(known), _, _) => known.clone(),
                (None, Some(given), _) => given.clone(),
                (None, None, Some(h)) => derived_person_id(h),
                (None, None, None) => unreachable!("checked: an id or an ID number"),
            };
            let existed = !env
                .execute(
                    "SELECT 1 AS x FROM registry_people WHERE id = ?",
                    &[id.as_str().into()],
                )
                .await?
                .is_empty();
            let id_cipher = p
                .id_number
                .as_deref()
                .map(|n| keys.seal(Sealed::IdNumber, &id, n));
            let id_last4 = p
                .id_number
                .as_deref()
                .map(|n| n[n.len().saturating_sub(4)..].to_owned());
            let phone_cipher = p.phone.as_deref().map(|n| keys.seal(Sealed::Phone, &id, n));
            let phone_masked = p.phone.as_deref().map(mask::mask_phone);
            let tags = serde_json::to_string(&p.tags).expect("strings serialise");
            // A known person keeps a sealed number the import leaves out (COALESCE): an office's
            // list without ID numbers does not erase them.
            env.execute(
                "INSERT INTO registry_people (id, household_id, grid_code, name, relation, \
                 birth_year, id_hash, id_cipher, id_last4, phone_cipher, phone_masked, tags, \
                 created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET household_id = excluded.household_id, \
                 grid_code = excluded.grid_code, name = excluded.name, \
                 relation = excluded.relation, \
                 birth_year = COALESCE(excluded.birth_year, birth_year), \
                 id_hash = COALESCE(excluded.id_hash, id_hash), \
                 id_cipher = COALESCE(excluded.id_cipher, id_cipher), \
                 id_last4 = COALESCE(excluded.id_last4, id_last4), \
                 phone_cipher = COALESCE(excluded.phone_cipher, phone_cipher), \
                 phone_masked = COALESCE(excluded.phone_masked, phone_masked), \
                 tags = excluded.tags, updated_at = excluded.updated_at",
                &[
                    id.as_str().into(),
                    p.household_id.as_str().into(),
                    cells[&p.household_id].as_str().into(),
                    p.name.as_str().into(),
                    p.relation.as_str().into(),
                    p.birth_year.into(),
                    hash.into(),
                    id_cipher.into(),
                    id_last4.into(),
                    phone_cipher.into(),
                    phone_masked.into(),
                    tags.into(),
                    now.into(),
                    now.into(),
                ],
            )
            .await
            .map_err(|e| {
                // Two people of one request with one ID number meet the UNIQUE index.
                if e.0.contains("UNIQUE") {
                    Problem::validation(vec![FieldError::new(
                        &format!("{}id_number", at(p.index, inputs.len())),
                        "this ID number is given to another person of this request",
                    )])
                } else {
                    e.into()
                }
            })?;
            done.push(Registered {
                id,
                outcome: if existed { "updated" } else { "created" },
            });
        }
        Ok(done)
    })
    .await
}

// ---- reading people

/// A person as a list shows them: masked.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PersonSummary {
    pub id: String,
    /// The surname, the rest masked: `陈**`.
    pub name: String,
    pub household_id: String,
    pub address: String,
    pub grid_code: String,
    pub tags: Vec<String>,
    pub birth_year: Option<i64>,
}

/// A person as `GET /api/registry/people/{id}` shows them: masked, or whole after a recorded
/// reveal.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PersonView {
    pub id: String,
    pub name: String,
    pub relation: String,
    pub birth_year: Option<i64>,
    /// Masked (`**************1234`) unless revealed.
    pub id_number: Option<String>,
    /// Masked (`138****8000`) unless revealed.
    pub phone: Option<String>,
    pub tags: Vec<Tag>,
    pub household_id: String,
    pub address: Address,
    /// The other members of the household, masked.
    pub household: Vec<PersonSummary>,
    /// Whether the ID and phone number are shown whole (`?reveal=id_number`, recorded).
    pub revealed: bool,
}

/// How a staff member looked at a person, as `registry_reads` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Listed, masked, by a search.
    Search,
    /// Opened, masked.
    View,
    /// The ID and phone number shown whole.
    Reveal,
}

impl Look {
    fn as_str(self) -> &'static str {
        match self {
            Look::Search => "search",
            Look::View => "view",
            Look::Reveal => "reveal",
        }
    }
}

/// Writes one read record per person before the answer that shows them: one write
/// transaction (`BEGIN IMMEDIATE` takes the writer's turn, so that concurrent searches hand the
/// write lock on in order instead of in SQLite's busy-handler sleeps), 50 rows a statement.
async fn record_looks<D: Database>(
    db: &D,
    who: &Principal,
    people: &[&str],
    look: Look,
    now: i64,
) -> Result<(), Problem> {
    if people.is_empty() {
        return Ok(());
    }
    crate::db::in_transaction(db, insert_looks(db, who, people, look, now)).await
}

async fn insert_looks<D: Database>(
    db: &D,
    who: &Principal,
    people: &[&str],
    look: Look,
    now: i64,
) -> Result<(), Problem> {
    for chunk in people.chunks(50) {
        let rows = vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let mut params = Vec::with_capacity(chunk.len() * 5);
        for id in chunk {
            params.extend([
                (*id).into(),
                who.id.as_str().into(),
                who.role.as_str().into(),
                look.as_str().into(),
                now.into(),
            ]);
        }
        db.execute(
            &format!(
                "INSERT INTO registry_reads (person_id, actor, actor_role, purpose, at) VALUES {rows}"
            ),
            &params,
        )
        .await?;
    }
    Ok(())
}

/// What a search asks (`POST /api/registry/search`): a POST so that a name or an ID
/// number never sits in a URL, where logs and proxies keep it.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchInput {
    /// A fragment of the name.
    #[serde(default)]
    pub name: Option<String>,
    /// A fragment of the address (`12号楼`, `嘉禾路`).
    #[serde(default)]
    pub address: Option<String>,
    /// A whole ID number, found by its keyed hash anywhere in the caller's scope.
    #[serde(default)]
    pub id_number: Option<String>,
    /// A district, street, community or cell code inside the caller's scope.
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SearchResult {
    pub people: Vec<PersonSummary>,
    /// More people match than `limit`: narrow the search.
    pub truncated: bool,
}

/// `LIKE` text for a fragment, with `%`, `_` and the escape itself escaped.
fn like_fragment(fragment: &str) -> String {
    let mut out = String::from("%");
    for c in fragment.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

const SUMMARY_COLUMNS: &str =
    "p.id, p.name, p.household_id, p.grid_code, p.tags, p.birth_year, a.label";

fn summary_of(r: &crate::ports::Row<'_>) -> Result<PersonSummary, StoreError> {
    Ok(PersonSummary {
        id: r.text("id")?,
        name: mask::mask_name(&r.text("name")?),
        household_id: r.text("household_id")?,
        address: r.text("label")?,
        grid_code: r.text("grid_code")?,
        tags: serde_json::from_str(&r.text("tags")?)
            .map_err(|e| StoreError(format!("registry_people.tags: {e}")))?,
        birth_year: r.opt_i64("birth_year")?,
    })
}

/// Finds people by name or address fragment (inside one street at most: the fragment is
/// looked for in every row of the scope, which the `(grid_code, name)` index bounds) or by ID
/// number (the hash index, anywhere in scope); lists them masked and records the looks.
pub async fn search<E: Env>(
    env: &E,
    who: &Principal,
    input: &SearchInput,
) -> Result<SearchResult, Problem> {
    let mut errors = Vec::new();
    let area = match input.area.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(a) => match GridCode::parse(a) {
            Ok(code) => Some(code),
            Err(e) => {
                errors.push(FieldError::new("area", e));
                None
            }
        },
    };
    let limit = input.limit.unwrap_or(SEARCH_LIMIT_DEFAULT);
    if !(1..=SEARCH_LIMIT_MAX).contains(&limit) {
        errors.push(FieldError::new("limit", format!("1 to {SEARCH_LIMIT_MAX}")));
    }
    let fragment = |v: &Option<String>, field: &str, errors: &mut Vec<FieldError>| {
        let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        if v.chars().count() > NAME_MAX {
            errors.push(FieldError::new(
                field,
                format!("at most {NAME_MAX} characters"),
            ));
        }
        Some(v.to_owned())
    };
    let name = fragment(&input.name, "name", &mut errors);
    let address = fragment(&input.address, "address", &mut errors);
    let id_number = input.id_number.as_deref().map(normalize_id_number);
    if let Some(problem) = id_number.as_deref().and_then(id_number_problem) {
        errors.push(FieldError::new("id_number", problem));
    }
    if name.is_none() && address.is_none() && id_number.is_none() {
        errors.push(FieldError::new(
            "name",
            "a name or address fragment, or an ID number",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let scope = Scope::of(who, area.as_ref())?;
    let mut conditions = vec![scope.on("p")];
    let mut params = scope.params.clone();
    if let Some(n) = &id_number {
        let keys = RegistryKeys::of(env).await?;
        conditions.push("p.id_hash = ?".into());
        params.push(keys.id_hash(n).into());
    } else if !scope.is_street_or_less() {
        return Err(Problem::validation(vec![FieldError::new(
            "area",
            "a name or address search reads one street at a time: give a street, community or cell code",
        )]));
    }
    if let Some(n) = &name {
        conditions.push("p.name LIKE ? ESCAPE '\\'".into());
        params.push(like_fragment(n).into());
    }
    if let Some(a) = &address {
        conditions.push("a.label LIKE ? ESCAPE '\\'".into());
        params.push(like_fragment(a).into());
    }
    params.push(((limit + 1) as i64).into());
    let rows = env
        .execute(
            &format!(
                "SELECT {SUMMARY_COLUMNS} FROM registry_people p \
                 JOIN registry_households h ON h.id = p.household_id \
                 JOIN registry_addresses a ON a.id = h.address_id \
                 WHERE {} ORDER BY p.grid_code, p.name, p.id LIMIT ?",
                conditions.join(" AND ")
            ),
            &params,
        )
        .await?;
    let mut people = rows
        .iter()
        .map(|r| summary_of(&r))
        .collect::<Result<Vec<_>, _>>()?;
    let truncated = people.len() > limit;
    people.truncate(limit);
    let ids: Vec<&str> = people.iter().map(|p| p.id.as_str()).collect();
    record_looks(env, who, &ids, Look::Search, env.now_ms()).await?;
    Ok(SearchResult { people, truncated })
}

/// One person, masked or (`reveal`) whole; the look is recorded first. `None`: no such person
/// in the caller's scope (the same answer as none at all, so scope does not leak existence).
pub async fn person<E: Env>(
    env: &E,
    who: &Principal,
    id: &str,
    reveal: bool,
) -> Result<Option<PersonView>, Problem> {
    let rows = env
        .execute(
            "SELECT p.id, p.name, p.relation, p.birth_year, p.id_cipher, p.id_last4, \
             p.phone_cipher, p.phone_masked, p.tags, p.household_id, p.grid_code, \
             a.id AS address_id, a.grid_code AS address_grid, a.road, a.building, a.unit, \
             a.room, a.label, a.lat, a.lng \
             FROM registry_people p JOIN registry_households h ON h.id = p.household_id \
             JOIN registry_addresses a ON a.id = h.address_id WHERE p.id = ?",
            &[id.into()],
        )
        .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    if !who.covers(&r.text("grid_code")?) {
        return Ok(None);
    }
    let look = if reveal { Look::Reveal } else { Look::View };
    let household_id = r.text("household_id")?;
    let members = env
        .execute(
            &format!(
                "SELECT {SUMMARY_COLUMNS} FROM registry_people p \
                 JOIN registry_households h ON h.id = p.household_id \
                 JOIN registry_addresses a ON a.id = h.address_id \
                 WHERE p.household_id = ? AND p.id <> ? ORDER BY p.id"
            ),
            &[household_id.as_str().into(), id.into()],
        )
        .await?;
    let household = members
        .iter()
        .map(|m| summary_of(&m))
        .collect::<Result<Vec<_>, _>>()?;
    let mut looked: Vec<&str> = vec![id];
    looked.extend(household.iter().map(|m| m.id.as_str()));
    let now = env.now_ms();
    // The person is looked at as asked; the other members are listed masked.
    crate::db::in_transaction(env, async {
        insert_looks(env, who, &looked[..1], look, now).await?;
        insert_looks(env, who, &looked[1..], Look::Search, now).await
    })
    .await?;
    let (id_number, phone) = if reveal {
        let keys = RegistryKeys::of(env).await?;
        let open = |what, column: &str| -> Result<Option<String>, StoreError> {
            r.opt_text(column)?
                .map(|sealed| keys.open(what, id, &sealed))
                .transpose()
        };
        (
            open(Sealed::IdNumber, "id_cipher")?,
            open(Sealed::Phone, "phone_cipher")?,
        )
    } else {
        (
            r.opt_text("id_last4")?
                .map(|last4| format!("{}{last4}", "*".repeat(14))),
            r.opt_text("phone_masked")?,
        )
    };
    let name = r.text("name")?;
    let tag_codes: Vec<String> = serde_json::from_str(&r.text("tags")?)
        .map_err(|e| StoreError(format!("registry_people.tags: {e}")))?;
    let all_tags = tags(env).await?;
    Ok(Some(PersonView {
        id: id.to_owned(),
        name: if reveal { name } else { mask::mask_name(&name) },
        relation: r.text("relation")?,
        birth_year: r.opt_i64("birth_year")?,
        id_number,
        phone,
        tags: all_tags
            .into_iter()
            .filter(|t| tag_codes.contains(&t.code))
            .collect(),
        household_id,
        address: Address {
            id: r.text("address_id")?,
            grid_code: r.text("address_grid")?,
            road: r.text("road")?,
            building: r.text("building")?,
            unit: r.text("unit")?,
            room: r.text("room")?,
            label: r.text("label")?,
            lat: r.f64("lat")?,
            lng: r.f64("lng")?,
        },
        household,
        revealed: reveal,
    }))
}

/// One entry of a person's read record.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Read {
    pub actor: String,
    pub actor_role: String,
    /// `search`, `view` or `reveal`.
    pub purpose: String,
    pub at: i64,
}

/// Who looked at a person, newest first, at most `limit`.
pub async fn reads<D: Database>(
    db: &D,
    person_id: &str,
    limit: usize,
) -> Result<Vec<Read>, StoreError> {
    let rows = db
        .execute(
            "SELECT actor, actor_role, purpose, at FROM registry_reads WHERE person_id = ? \
             ORDER BY seq DESC LIMIT ?",
            &[person_id.into(), (limit as i64).into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Read {
                actor: r.text("actor")?,
                actor_role: r.text("actor_role")?,
                purpose: r.text("purpose")?,
                at: r.i64("at")?,
            })
        })
        .collect()
}

/// Whether a person is registered at all (for the read record's 404).
pub async fn person_exists<D: Database>(db: &D, id: &str) -> Result<bool, StoreError> {
    Ok(!db
        .execute(
            "SELECT 1 AS x FROM registry_people WHERE id = ?",
            &[id.into()],
        )
        .await?
        .is_empty())
}

// ---- a cell's view

/// A household as a cell's view lists it: no names, only how many live there and the tags
/// they carry, so that the view is no look at a person.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HouseholdSummary {
    pub id: String,
    pub members: i64,
    /// Each tag code once, with how many members carry it.
    pub tags: std::collections::BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AddressSummary {
    pub address: Address,
    pub households: Vec<HouseholdSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CellView {
    pub grid_code: String,
    pub addresses: Vec<AddressSummary>,
    pub households: i64,
    pub residents: i64,
    /// Residents per tag across the cell.
    pub tags: std::collections::BTreeMap<String, i64>,
}

/// A cell's addresses and households with their counts: three range reads of the cell's rows.
pub async fn cell_view<D: Database>(db: &D, cell: &GridCode) -> Result<CellView, StoreError> {
    let code = cell.as_str();
    let addresses = db
        .execute(
            "SELECT id, grid_code, road, building, unit, room, label, lat, lng \
             FROM registry_addresses WHERE grid_code = ? ORDER BY label",
            &[code.into()],
        )
        .await?;
    let households = db
        .execute(
            "SELECT id, address_id FROM registry_households WHERE grid_code = ? ORDER BY id",
            &[code.into()],
        )
        .await?;
    let people = db
        .execute(
            "SELECT household_id, tags FROM registry_people WHERE grid_code = ?",
            &[code.into()],
        )
        .await?;
    let mut by_household: std::collections::HashMap<String, HouseholdSummary> =
        std::collections::HashMap::new();
    let mut cell_tags = std::collections::BTreeMap::new();
    let mut residents = 0;
    for p in people.iter() {
        residents += 1;
        let entry = by_household
            .entry(p.text("household_id")?)
            .or_insert_with_key(|id| HouseholdSummary {
                id: id.clone(),
                members: 0,
                tags: Default::default(),
            });
        entry.members += 1;
        let tags: Vec<String> = serde_json::from_str(&p.text("tags")?)
            .map_err(|e| StoreError(format!("registry_people.tags: {e}")))?;
        for t in tags {
            *entry.tags.entry(t.clone()).or_default() += 1;
            *cell_tags.entry(t).or_default() += 1;
        }
    }
    let mut at_address: std::collections::HashMap<String, Vec<HouseholdSummary>> =
        std::collections::HashMap::new();
    for h in households.iter() {
        let id = h.text("id")?;
        let summary = by_household.remove(&id).unwrap_or(HouseholdSummary {
            id,
            members: 0,
            tags: Default::default(),
        });
        at_address
            .entry(h.text("address_id")?)
            .or_default()
            .push(summary);
    }
    let mut list = Vec::new();
    for a in addresses.iter() {
        let id = a.text("id")?;
        list.push(AddressSummary {
            households: at_address.remove(&id).unwrap_or_default(),
            address: Address {
                id,
                grid_code: a.text("grid_code")?,
                road: a.text("road")?,
                building: a.text("building")?,
                unit: a.text("unit")?,
                room: a.text("room")?,
                label: a.text("label")?,
                lat: a.f64("lat")?,
                lng: a.f64("lng")?,
            },
        });
    }
    Ok(CellView {
        grid_code: code.to_owned(),
        addresses: list,
        households: households.rows.len() as i64,
        residents,
        tags: cell_tags,
    })
}

// ---- bulk loads

/// A resident of a bulk load (the demo registry, a data pool's export), checked by its maker:
/// sealed here, written without the per-row reads of [`register_people`].
pub struct BulkPerson {
    pub id: String,
    pub household_id: String,
    pub grid_code: String,
    pub name: String,
    pub relation: &'static str,
    pub birth_year: i64,
    pub id_number: String,
    pub phone: String,
    pub tags: Vec<&'static str>,
}

/// Rows per multi-row INSERT: the most parameters any SQLite takes in one statement is 999.
fn rows_per_insert(columns: usize) -> usize {
    999 / columns
}

async fn insert_rows<D: Database>(
    db: &D,
    head: &str,
    columns: usize,
    rows: Vec<Vec<Value>>,
) -> Result<(), StoreError> {
    let marks = format!("({})", vec!["?"; columns].join(", "));
    for chunk in rows.chunks(rows_per_insert(columns)) {
        let sql = format!(
            "{head} VALUES {}",
            vec![marks.as_str(); chunk.len()].join(", ")
        );
        let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
        db.execute(&sql, &params).await?;
    }
    Ok(())
}

/// Writes addresses, households and people that are not stored yet, with multi-row INSERTs
/// (call inside a transaction). Every ID and phone number is sealed and hashed as one
/// registered by hand would be.
pub async fn bulk_insert<D: Database>(
    db: &D,
    keys: &RegistryKeys,
    addresses: &[Address],
    households: &[Household],
    people: &[BulkPerson],
    now: i64,
) -> Result<(), StoreError> {
    let rows = addresses
        .iter()
        .map(|a| address_row(a, now).to_vec())
        .collect();
    insert_rows(
        db,
        "INSERT INTO registry_addresses (id, grid_code, road, building, unit, room, label, lat, \
         lng, created_at, updated_at)",
        11,
        rows,
    )
    .await?;
    let rows = households
        .iter()
        .map(|h| household_row(h, now).to_vec())
        .collect();
    insert_rows(
        db,
        "INSERT INTO registry_households (id, address_id, grid_code, created_at, updated_at)",
        5,
        rows,
    )
    .await?;
    let rows = people
        .iter()
        .map(|p| {
            let n = &p.id_number;
            vec![
                p.id.as_str().into(),
                p.household_id.as_str().into(),
                p.grid_code.as_str().into(),
                p.name.as_str().into(),
                p.relation.into(),
                p.birth_year.into(),
                keys.id_hash(n).into(),
                keys.seal(Sealed::IdNumber, &p.id, n).into(),
                n[n.len().saturating_sub(4)..].into(),
                keys.seal(Sealed::Phone, &p.id, &p.phone).into(),
                mask::mask_phone(&p.phone).into(),
                serde_json::to_string(&p.tags)
                    .expect("strings serialise")
                    .into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert_rows(
        db,
        "INSERT INTO registry_people (id, household_id, grid_code, name, relation, birth_year, \
         id_hash, id_cipher, id_last4, phone_cipher, phone_masked, tags, created_at, updated_at)",
        14,
        rows,
    )
    .await
}

/// How many residents are registered (the demo load's "already loaded" check).
pub async fn resident_count<D: Database>(db: &D) -> Result<i64, StoreError> {
    db.execute("SELECT COUNT(*) AS n FROM registry_people", &[])
        .await?
        .first()
        .map_or(Ok(0), |r| r.i64("n"))
}

/// The check character of the first 17 digits of a resident ID, for generated ones.
pub fn resident_id_check_char(first17: &str) -> char {
    resident_id_check(first17.as_bytes()) as char
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resident_id_is_taken_only_with_its_check_digit() {
        // 11010519491231002X is the standard's own example.
        assert_eq!(id_number_problem("11010519491231002X"), None);
        assert!(id_number_problem("110105194912310021").is_some());
        assert_eq!(
            id_number_problem(&normalize_id_number("110105 19491231 002x")),
            None
        );
        assert_eq!(id_number_problem("E12345678"), None, "a passport");
        assert!(id_number_problem("12345").is_some());
        assert!(id_number_problem("陈志强").is_some());
    }

    #[test]
    fn a_fragment_matches_itself_only() {
        assert_eq!(like_fragment("50%_a\\"), "%50\\%\\_a\\\\%");
    }

    #[test]
    fn a_phone_number_is_digits() {
        assert_eq!(
            normalize_phone("138 0013-8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("+86 13800138000").as_deref(),
            Some("+8613800138000")
        );
        assert_eq!(normalize_phone("call me"), None);
        assert_eq!(normalize_phone("123"), None);
    }
}
