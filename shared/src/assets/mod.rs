//! The asset registry (部件): signs, streetlights, manhole covers… each at a point, in the cell
//! `grid::locate` finds for it at registration, owned by a department, and carrying a QR sign
//! that opens the report page bound to it. Drawing the QR codes (one sign, or A4 sheets of them
//! for the people who put the signs up) lives here too. Never trust a stored cell over the map:
//! a re-registration computes it again.

use std::fmt::Write as _;

use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};
use serde::{Deserialize, Serialize};

use crate::directory::{self, Category};
use crate::grid::code::{Crs, GridCode, Level, Wgs84Point};
use crate::grid::{self, GridRef};
use crate::http::problem::FieldError;
use crate::{Database, Env, Problem, StoreError, Value};

/// What an asset is. The set follows the common 部件 classes a citizen can see and point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    Sign,
    Streetlight,
    ManholeCover,
    Bench,
    GreenwayMarker,
    BusShelter,
    Other,
}

/// Kind → the category codes that fit it, most likely first (`landscape.*`: every category of
/// that major code). The first existing one preselects the report page of a QR scan.
pub const KIND_CATEGORIES: &[(AssetKind, &[&str])] = &[
    (
        AssetKind::Sign,
        &["landscape.greenway_sign", "advertising.illegal_ad"],
    ),
    (AssetKind::Streetlight, &["utilities.streetlight"]),
    (
        AssetKind::ManholeCover,
        &["utilities.manhole_cover", "emergency.road_collapse"],
    ),
    (AssetKind::Bench, &["landscape.*", "environment.litter"]),
    (
        AssetKind::GreenwayMarker,
        &["landscape.greenway_sign", "landscape.*"],
    ),
    (
        AssetKind::BusShelter,
        &[
            "environment.litter",
            "advertising.illegal_ad",
            "order.street_vendor",
        ],
    ),
    (AssetKind::Other, &["environment.*"]),
];

impl AssetKind {
    pub const ALL: [AssetKind; 7] = [
        AssetKind::Sign,
        AssetKind::Streetlight,
        AssetKind::ManholeCover,
        AssetKind::Bench,
        AssetKind::GreenwayMarker,
        AssetKind::BusShelter,
        AssetKind::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Sign => "sign",
            AssetKind::Streetlight => "streetlight",
            AssetKind::ManholeCover => "manhole_cover",
            AssetKind::Bench => "bench",
            AssetKind::GreenwayMarker => "greenway_marker",
            AssetKind::BusShelter => "bus_shelter",
            AssetKind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<AssetKind> {
        AssetKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// The category patterns of [`KIND_CATEGORIES`].
    pub fn category_patterns(self) -> &'static [&'static str] {
        KIND_CATEGORIES
            .iter()
            .find(|(k, _)| *k == self)
            .map_or(&[], |(_, list)| *list)
    }
    /// The categories of `all` that fit this kind, in the order of its patterns, each once.
    pub fn fitting(self, all: &[Category]) -> Vec<&Category> {
        let mut out: Vec<&Category> = Vec::new();
        for pattern in self.category_patterns() {
            let fits = |c: &&Category| match pattern.strip_suffix('*') {
                Some(prefix) => c.code.starts_with(prefix),
                None => c.code == *pattern,
            };
            for c in all.iter().filter(fits) {
                if !out.iter().any(|o| o.code == c.code) {
                    out.push(c);
                }
            }
        }
        out
    }
}

/// The longest asset id: the report's `asset_id` takes 64, and an id must print under a code.
pub const ID_MAX: usize = 32;

/// An asset id such as `GW-000123`: upper-case letters, digits and `-`, starting with a letter,
/// so that it is safe in a path, a query string and an SVG without escaping.
pub fn valid_id(id: &str) -> bool {
    (2..=ID_MAX).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_uppercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// One asset of `POST /api/admin/assets` (a body is one of these or an array of them).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetInput {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub lat: f64,
    pub lng: f64,
    /// The CRS of `lat`/`lng`; WGS-84 when absent.
    #[serde(default)]
    pub crs: Option<String>,
    /// The owner department's code.
    pub department: String,
}

pub const NAME_MAX: usize = 100;

/// An asset ready to store: valid, in WGS-84, in its cell.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Asset {
    pub id: String,
    pub kind: AssetKind,
    pub name: String,
    pub lat: f64,
    pub lng: f64,
    pub grid_code: String,
    pub department: String,
}

/// Checks one input; field names are prefixed with `at` (e.g. `[3].lat`).
fn check(
    input: &AssetInput,
    at: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(Wgs84Point, AssetKind)> {
    let before = errors.len();
    let field = |name: &str| format!("{at}{name}");
    if !valid_id(&input.id) {
        errors.push(FieldError::new(
            &field("id"),
            format!("2 to {ID_MAX} of A-Z, 0-9 and -, starting with a letter, like GW-000123"),
        ));
    }
    let kind = AssetKind::parse(&input.kind);
    if kind.is_none() {
        let names: Vec<&str> = AssetKind::ALL.iter().map(|k| k.as_str()).collect();
        errors.push(FieldError::new(
            &field("kind"),
            format!("one of {}", names.join(", ")),
        ));
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX {
        errors.push(FieldError::new(
            &field("name"),
            format!("1 to {NAME_MAX} characters"),
        ));
    }
    let crs = match input.crs.as_deref() {
        None => Some(Crs::Wgs84),
        Some(s) => Crs::parse(s),
    };
    if crs.is_none() {
        errors.push(FieldError::new(&field("crs"), "one of wgs84, gcj02, bd09"));
    }
    let point = Wgs84Point::parse(input.lat, input.lng, crs.unwrap_or(Crs::Wgs84))
        .map_err(|list| {
            errors.extend(
                list.into_iter()
                    .map(|e| FieldError::new(&field(&e.field), e.message)),
            )
        })
        .ok();
    if !directory::valid_code(&input.department) {
        errors.push(FieldError::new(&field("department"), "a department code"));
    }
    (errors.len() == before).then_some(())?;
    Some((point?, kind?))
}

/// Validates every input, finds each one's cell and its department, and stores them all in
/// one transaction (a new id is registered, a known one updated). Nothing is stored unless
/// every asset is valid and inside the city.
pub async fn register<E: Env>(env: &E, inputs: &[AssetInput]) -> Result<Vec<Asset>, Problem> {
    let mut errors = Vec::new();
    let mut checked = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let at = if inputs.len() == 1 {
            String::new()
        } else {
            format!("[{i}].")
        };
        if inputs[..i].iter().any(|o| o.id == input.id) {
            errors.push(FieldError::new(
                &format!("{at}id"),
                "appears twice in this request",
            ));
        }
        if let Some(ok) = check(input, &at, &mut errors) {
            checked.push((input, ok));
        }
    }
    if inputs.is_empty() {
        errors.push(FieldError::new("assets", "at least one asset"));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let mut known_departments: Vec<&str> = Vec::new();
    let mut unknown = Vec::new();
    let mut outside = Vec::new();
    let mut assets = Vec::new();
    for (input, (point, kind)) in checked {
        let dept = input.department.as_str();
        if !known_departments.contains(&dept) {
            if directory::department(env, dept).await?.is_some() {
                known_departments.push(dept);
            } else {
                unknown.push(FieldError::new(
                    "department",
                    format!("{} names no department {dept}", input.id),
                ));
                continue;
            }
        }
        let Some(found) = grid::locate(env, point).await? else {
            outside.push(input.id.clone());
            continue;
        };
        assets.push(Asset {
            id: input.id.clone(),
            kind,
            name: input.name.trim().to_owned(),
            lat: point.lat,
            lng: point.lng,
            grid_code: found.cell.code,
            department: input.department.clone(),
        });
    }
    if !unknown.is_empty() {
        return Err(Problem::validation(unknown));
    }
    if !outside.is_empty() {
        return Err(Problem::outside_jurisdiction(format!(
            "no grid cell within {} m of asset {}",
            grid::TOLERANCE_M,
            outside.join(", ")
        ))
        .with("assets", outside.into()));
    }
    store(env, &assets, env.now_ms()).await?;
    Ok(assets)
}

/// The registry's migration (schema version 6), as `app::schema` applies it.
pub const MIGRATION_6: &str = include_str!("sql/006_assets.sql");

const UPSERT: &str = "INSERT INTO assets (id, kind, name, lat, lng, grid_code, department, created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, \
     name = excluded.name, lat = excluded.lat, lng = excluded.lng, grid_code = excluded.grid_code, \
     department = excluded.department, updated_at = excluded.updated_at";
const BY_ID: &str =
    "SELECT id, kind, name, lat, lng, grid_code, department FROM assets WHERE id = ?";
/// The assets under an area: a range of the `assets_by_grid` index (`;` sorts right after `9`).
const UNDER_AREA: &str = "SELECT a.id, a.kind, a.name, a.lat, a.lng, a.grid_code, a.department, \
     g.name AS cell_name FROM assets a LEFT JOIN grids g ON g.code = a.grid_code \
     AND g.version = (SELECT version FROM map_versions WHERE is_current = 1) \
     WHERE a.grid_code >= ? AND a.grid_code < ? ORDER BY a.grid_code, a.id";

/// Stores assets already checked and located, in one transaction.
pub async fn store<D: Database>(db: &D, assets: &[Asset], now: i64) -> Result<(), StoreError> {
    db.execute("BEGIN IMMEDIATE", &[]).await?;
    let written: Result<(), StoreError> = async {
        for a in assets {
            let params: [Value; 9] = [
                a.id.as_str().into(),
                a.kind.as_str().into(),
                a.name.as_str().into(),
                a.lat.into(),
                a.lng.into(),
                a.grid_code.as_str().into(),
                a.department.as_str().into(),
                now.into(),
                now.into(),
            ];
            db.execute(UPSERT, &params).await?;
        }
        Ok(())
    }
    .await;
    match written {
        Ok(()) => db.execute("COMMIT", &[]).await.map(drop),
        Err(e) => {
            let _ = db.execute("ROLLBACK", &[]).await;
            Err(e)
        }
    }
}

fn asset_of(row: &crate::ports::Row<'_>) -> Result<Asset, StoreError> {
    let kind = row.text("kind")?;
    Ok(Asset {
        id: row.text("id")?,
        kind: AssetKind::parse(&kind).ok_or_else(|| StoreError(format!("asset kind {kind}")))?,
        name: row.text("name")?,
        lat: row.f64("lat")?,
        lng: row.f64("lng")?,
        grid_code: row.text("grid_code")?,
        department: row.text("department")?,
    })
}

pub async fn get<D: Database>(db: &D, id: &str) -> Result<Option<Asset>, StoreError> {
    let rows = db.execute(BY_ID, &[id.into()]).await?;
    rows.first().map(|r| asset_of(&r)).transpose()
}

/// An asset as the public sees it: where it is, who owns it, what can be reported about it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AssetView {
    pub id: String,
    pub kind: AssetKind,
    pub name: String,
    pub point: Wgs84Point,
    pub crs: &'static str,
    /// District down to the cell.
    pub chain: Vec<GridRef>,
    pub department: DepartmentRef,
    pub categories: Vec<CategoryRef>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DepartmentRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CategoryRef {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

pub async fn view<D: Database>(db: &D, id: &str) -> Result<Option<AssetView>, StoreError> {
    let Some(asset) = get(db, id).await? else {
        return Ok(None);
    };
    let mut chain = Vec::new();
    if let Ok(cell) = GridCode::parse(&asset.grid_code)
        && let Some(detail) = grid::detail(db, &cell).await?
    {
        chain = detail.chain;
        chain.push(GridRef {
            code: detail.code,
            name: detail.name,
            level: detail.level,
        });
    }
    let department = DepartmentRef {
        name: directory::department(db, &asset.department)
            .await?
            .map_or_else(|| asset.department.clone(), |d| d.name),
        code: asset.department,
    };
    let all = directory::categories(db).await?;
    let categories = asset
        .kind
        .fitting(&all)
        .into_iter()
        .map(|c| CategoryRef {
            code: c.code.clone(),
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone(),
        })
        .collect();
    Ok(Some(AssetView {
        id: asset.id,
        kind: asset.kind,
        name: asset.name,
        point: Wgs84Point {
            lat: asset.lat,
            lng: asset.lng,
        },
        crs: Crs::Wgs84.as_str(),
        chain,
        department,
        categories,
    }))
}

/// The report page bound to an asset: what `/q/{id}` redirects to.
pub fn landing_location(view: &AssetView) -> String {
    let mut to = format!("/?asset={}", view.id);
    if let Some(c) = view.categories.first() {
        let _ = write!(to, "&category={}", c.code);
    }
    let _ = write!(to, "&lat={:.7}&lng={:.7}", view.point.lat, view.point.lng);
    to
}

/// The URL a sign's QR code holds.
pub fn sign_url(base: &str, id: &str) -> String {
    format!("{}/q/{id}", base.trim_end_matches('/'))
}

/// Medium error correction (15 %): survives weathering of a street sign, and keeps a short
/// URL at version 3 or 4, large modules at print size.
const EC: EcLevel = EcLevel::M;

fn qr(url: &str) -> Result<QrCode, Problem> {
    QrCode::with_error_correction_level(url, EC).map_err(|e| {
        // The URL is the sign's public address, but its length is what makes this fail.
        tracing::error!(url_len = url.len(), error = %e, "the QR code of an asset sign failed");
        Problem::internal()
    })
}

/// One sign's QR code as a standalone SVG document.
pub fn qr_svg(url: &str) -> Result<String, Problem> {
    Ok(qr(url)?
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// The dark modules of a code as one SVG path in module units, at (0, 0).
fn modules_path(code: &QrCode) -> String {
    let width = code.width();
    let mut d = String::new();
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let _ = write!(d, "M{} {}h1v1h-1z", i % width, i / width);
        }
    }
    d
}

/// A4 in millimetres, and the layout of a sheet: 3 × 4 signs a page.
const PAGE_W: f64 = 210.0;
const PAGE_H: f64 = 297.0;
const MARGIN: f64 = 10.0;
const COLS: usize = 3;
const ROWS: usize = 4;
pub const PER_PAGE: usize = COLS * ROWS;
/// The side of a printed code: 45 mm is scanned from about 1.5 m, a person at a sign.
const CODE_MM: f64 = 45.0;
/// The most pages one answer draws; a bigger area is asked for page by page.
pub const MAX_PAGES: usize = 25;

/// One sign on a sheet.
#[derive(Debug, Clone)]
pub struct SheetEntry {
    pub id: String,
    pub url: String,
    /// Under the id: the asset's name and its cell.
    pub place: String,
}

/// The assets under an area (a street, a community or a cell), with their cell's name.
pub async fn under_area<D: Database>(
    db: &D,
    area: &GridCode,
) -> Result<Vec<(Asset, Option<String>)>, StoreError> {
    let upper = format!("{};", area.as_str());
    let rows = db
        .execute(UNDER_AREA, &[area.as_str().into(), upper.into()])
        .await?;
    rows.iter()
        .map(|r| Ok((asset_of(&r)?, r.opt_text("cell_name")?)))
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Printable A4 pages of QR signs, stacked one below the other in one SVG (mm units),
/// `first_page` numbering the first of them.
pub fn sheet_svg(
    title: &str,
    entries: &[SheetEntry],
    first_page: usize,
) -> Result<String, Problem> {
    let pages = entries.len().div_ceil(PER_PAGE).max(1);
    let cell_w = (PAGE_W - 2.0 * MARGIN) / COLS as f64;
    let cell_h = (PAGE_H - 2.0 * MARGIN - 8.0) / ROWS as f64;
    let total_h = PAGE_H * pages as f64;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{PAGE_W}mm\" height=\"{total_h}mm\" \
         viewBox=\"0 0 {PAGE_W} {total_h}\" font-family=\"sans-serif\">\n"
    );
    for page in 0..pages {
        let top = PAGE_H * page as f64;
        let _ = writeln!(
            out,
            "<g class=\"page\"><rect x=\"0\" y=\"{top}\" width=\"{PAGE_W}\" height=\"{PAGE_H}\" fill=\"#fff\"/>\
             <text x=\"{MARGIN}\" y=\"{}\" font-size=\"4\">{} · {}</text>",
            top + MARGIN + 2.0,
            escape(title),
            first_page + page
        );
        for (slot, entry) in entries
            .iter()
            .skip(page * PER_PAGE)
            .take(PER_PAGE)
            .enumerate()
        {
            let code = qr(&entry.url)?;
            // The code with its 4-module quiet zone (ISO/IEC 18004 §6.3.8) fills CODE_MM.
            let modules = code.width() + 8;
            let scale = CODE_MM / modules as f64;
            let x = MARGIN + (slot % COLS) as f64 * cell_w + (cell_w - CODE_MM) / 2.0;
            let y = top + MARGIN + 8.0 + (slot / COLS) as f64 * cell_h;
            let cx = MARGIN + (slot % COLS) as f64 * cell_w + cell_w / 2.0;
            let _ = writeln!(
                out,
                "<g class=\"sign\" data-asset=\"{id}\"><rect x=\"{x:.3}\" y=\"{y:.3}\" width=\"{CODE_MM}\" height=\"{CODE_MM}\" fill=\"#fff\" stroke=\"#ccc\" stroke-width=\"0.2\"/>\
                 <path transform=\"translate({px:.3} {py:.3}) scale({scale:.5})\" fill=\"#000\" d=\"{d}\"/>\
                 <text x=\"{cx:.3}\" y=\"{ty:.3}\" font-size=\"4\" font-weight=\"bold\" text-anchor=\"middle\">{id}</text>\
                 <text x=\"{cx:.3}\" y=\"{py2:.3}\" font-size=\"2.6\" text-anchor=\"middle\">{place}</text></g>",
                id = entry.id,
                px = x + 4.0 * scale,
                py = y + 4.0 * scale,
                d = modules_path(&code),
                ty = y + CODE_MM + 5.0,
                py2 = y + CODE_MM + 9.0,
                place = escape(&entry.place),
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    Ok(out)
}

/// Whether a code names an area a sheet is printed for: a street, a community or a cell.
pub fn sheet_area(code: &GridCode) -> bool {
    code.level() != Level::District
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_categories_and_ids_refuse_what_a_path_cannot_carry() {
        for kind in AssetKind::ALL {
            assert!(!kind.category_patterns().is_empty(), "{kind:?}");
            assert_eq!(AssetKind::parse(kind.as_str()), Some(kind));
        }
        assert!(valid_id("GW-000123"));
        for bad in ["gw-000123", "1W-0001", "GW/1", "G", "GW 1", &"A".repeat(33)] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
