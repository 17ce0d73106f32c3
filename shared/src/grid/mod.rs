//! The city map: grid cells and the areas above them, how a map is imported (validated, then
//! switched to atomically as a new version), and how a point finds its cell.
//! A lookup reads two keys of the key-value store (the current map version, then one tile)
//! and runs no SQL: it must stay fast at the edge with 4,103 cells or 400,000.

pub mod crs;
pub mod index;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::model::{GridCode, Level, Wgs84Point};
use crate::problem::FieldError;
use crate::{Database, Env, KeyValue, Problem, StoreError, Value};

pub use index::{CellMatch, MatchKind, TOLERANCE_M};

/// One area or cell of an imported map.
#[derive(Debug, Clone, PartialEq)]
pub struct GridFeature {
    pub code: GridCode,
    pub name: String,
    /// Cells have a shape; areas may (their shape is the union of their cells).
    pub shape: Option<MultiPolygon<f64>>,
}

/// A grid as answers show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridRef {
    pub code: String,
    pub name: String,
    pub level: Level,
}

/// The key of the current map version in the key-value store.
pub const MAP_POINTER_KEY: &str = "grid_map";

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MapPointer {
    pub version: i64,
}

// ---- parsing GeoJSON
// Parsed by hand over serde_json rather than through a GeoJSON crate so that every error can
// name the feature and the part of it that is wrong (`features[12].geometry: ring 0 is not closed`).

/// Reads a FeatureCollection of grids. Each feature needs `properties.code` and
/// `properties.name`; cells need a Polygon or MultiPolygon in WGS-84.
pub fn parse_feature_collection(bytes: &[u8]) -> Result<Vec<GridFeature>, Vec<FieldError>> {
    let doc: Json = serde_json::from_slice(bytes).map_err(|e| vec![FieldError::new("body", e.to_string())])?;
    if doc.get("type").and_then(Json::as_str) != Some("FeatureCollection") {
        return Err(vec![FieldError::new("type", "a GeoJSON FeatureCollection is expected")]);
    }
    let Some(features) = doc.get("features").and_then(Json::as_array) else {
        return Err(vec![FieldError::new("features", "an array of features is expected")]);
    };
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let at = |part: &str| format!("features[{i}]{part}");
        let props = f.get("properties");
        let code = props.and_then(|p| p.get("code")).and_then(Json::as_str);
        let name = props.and_then(|p| p.get("name")).and_then(Json::as_str);
        let code = match code.map(GridCode::parse) {
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                errors.push(FieldError::new(&at(".properties.code"), e));
                None
            }
            None => {
                errors.push(FieldError::new(&at(".properties.code"), "missing"));
                None
            }
        };
        let name = match name.map(str::trim) {
            Some(n) if !n.is_empty() && n.chars().count() <= 100 => Some(n.to_owned()),
            _ => {
                errors.push(FieldError::new(&at(".properties.name"), "1 to 100 characters"));
                None
            }
        };
        let shape = match f.get("geometry") {
            None | Some(Json::Null) => None,
            Some(g) => match parse_geometry(g) {
                Ok(s) => Some(s),
                Err(e) => {
                    errors.push(FieldError::new(&at(".geometry"), e));
                    None
                }
            },
        };
        if let (Some(code), Some(name)) = (code, name) {
            if code.level() == Level::Cell && shape.is_none() && f.get("geometry").is_none_or(Json::is_null) {
                errors.push(FieldError::new(&at(".geometry"), "a cell needs a Polygon or MultiPolygon"));
            }
            out.push(GridFeature { code, name, shape });
        }
        if errors.len() >= 100 {
            errors.push(FieldError::new("features", "stopped after 100 errors"));
            break;
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn parse_geometry(g: &Json) -> Result<MultiPolygon<f64>, String> {
    let coords = g.get("coordinates").ok_or("coordinates are missing")?;
    match g.get("type").and_then(Json::as_str) {
        Some("Polygon") => Ok(MultiPolygon(vec![parse_polygon(coords).map_err(|e| format!("coordinates: {e}"))?])),
        Some("MultiPolygon") => {
            let parts = coords.as_array().ok_or("coordinates: an array of polygons is expected")?;
            let polys = parts
                .iter()
                .enumerate()
                .map(|(i, p)| parse_polygon(p).map_err(|e| format!("coordinates[{i}]: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            if polys.is_empty() {
                return Err("coordinates: no polygons".into());
            }
            Ok(MultiPolygon(polys))
        }
        other => Err(format!("type {other:?}: Polygon or MultiPolygon expected")),
    }
}

fn parse_polygon(p: &Json) -> Result<Polygon<f64>, String> {
    let rings = p.as_array().ok_or("an array of rings is expected")?;
    if rings.is_empty() {
        return Err("a polygon needs an outer ring".into());
    }
    let mut parsed = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let points = ring.as_array().ok_or(format!("ring {r}: an array of positions is expected"))?;
        let mut coords = Vec::with_capacity(points.len());
        for (k, pos) in points.iter().enumerate() {
            let xy = pos.as_array().filter(|a| a.len() >= 2);
            let (x, y) = match xy.map(|a| (a[0].as_f64(), a[1].as_f64())) {
                Some((Some(x), Some(y))) => (x, y),
                _ => return Err(format!("ring {r} position {k}: [lng, lat] numbers expected")),
            };
            if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
                return Err(format!("ring {r} position {k}: [{x}, {y}] is not a WGS-84 [lng, lat]"));
            }
            coords.push(Coord { x, y });
        }
        if coords.len() < 4 {
            return Err(format!("ring {r}: at least 4 positions are needed"));
        }
        if coords.first() != coords.last() {
            return Err(format!("ring {r} is not closed: its last position must equal its first"));
        }
        parsed.push(LineString(coords));
    }
    let exterior = parsed.remove(0);
    Ok(Polygon::new(exterior, parsed))
}

/// Hierarchy checks over a whole map: unique codes, and every code's parent present.
pub fn check_hierarchy(features: &[GridFeature]) -> Result<(), Vec<FieldError>> {
    use std::collections::HashSet;
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for f in features {
        if !seen.insert(f.code.as_str()) {
            errors.push(FieldError::new(f.code.as_str(), "the code appears twice"));
        }
    }
    for f in features {
        if let Some(parent) = f.code.parent()
            && !seen.contains(parent.as_str())
        {
            errors.push(FieldError::new(
                f.code.as_str(),
                format!("its parent {} is not in the map", parent.as_str()),
            ));
        }
    }
    if features.iter().all(|f| f.code.level() != Level::Cell) {
        errors.push(FieldError::new("features", "the map has no cells"));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

// ---- import

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub map_version: i64,
    pub grids: usize,
    pub cells: usize,
    pub index_keys: usize,
}

const INSERT_MAP_VERSION: &str =
    "INSERT INTO map_versions (created_at, grids, cells, is_current) VALUES (?, ?, ?, 0) RETURNING version";
const INSERT_GRID: &str =
    "INSERT INTO grids (version, code, name, level, parent, shape) VALUES (?, ?, ?, ?, ?, ?)";
const INSERT_TILE_KEY: &str = "INSERT INTO grid_tiles (version, key) VALUES (?, ?)";
const SWITCH_CURRENT: &str = "UPDATE map_versions SET is_current = (version = ?)";
const OLD_TILE_KEYS: &str = "SELECT key FROM grid_tiles WHERE version < ?";

/// Imports a whole map as a new version and switches lookups to it. Lookups see the old
/// map until the pointer key flips, then the new one; never half of either.
pub async fn import<E: Env>(env: &E, features: Vec<GridFeature>) -> Result<ImportSummary, Problem> {
    check_hierarchy(&features).map_err(Problem::validation)?;
    let cells = features.iter().filter(|f| f.code.level() == Level::Cell).count();
    let now = env.now_ms();

    // 1. The new version's rows, in one transaction.
    env.execute("BEGIN IMMEDIATE", &[]).await?;
    let written: Result<i64, StoreError> = async {
        let rows = env
            .execute(
                INSERT_MAP_VERSION,
                &[now.into(), (features.len() as i64).into(), (cells as i64).into()],
            )
            .await?;
        let version = rows.first().ok_or_else(|| StoreError("no version".into()))?.i64("version")?;
        for f in &features {
            let shape = f.shape.as_ref().map(|s| serde_json::to_string(&index::rings_of(s)).unwrap_or_default());
            env.execute(
                INSERT_GRID,
                &[
                    version.into(),
                    f.code.as_str().into(),
                    f.name.as_str().into(),
                    f.code.level().as_str().into(),
                    f.code.parent().map(String::from).into(),
                    shape.into(),
                ],
            )
            .await?;
        }
        Ok(version)
    }
    .await;
    let version = match written {
        Ok(v) => {
            env.execute("COMMIT", &[]).await?;
            v
        }
        Err(e) => {
            let _ = env.execute("ROLLBACK", &[]).await;
            return Err(e.into());
        }
    };

    // 2. The index tiles of the new version, under keys no lookup reads yet.
    let tiles = index::build(&features);
    let mut keys = Vec::with_capacity(tiles.len());
    for ((ix, iy), tile) in &tiles {
        let key = index::tile_key(version, *ix, *iy);
        let value = serde_json::to_vec(tile).map_err(|e| StoreError(e.to_string()))?;
        env.set(&key, &value).await?;
        keys.push(key);
    }
    env.execute("BEGIN IMMEDIATE", &[]).await?;
    for key in &keys {
        env.execute(INSERT_TILE_KEY, &[version.into(), key.into()]).await?;
    }
    env.execute(SWITCH_CURRENT, &[version.into()]).await?;
    env.execute("COMMIT", &[]).await?;

    // 3. The switch: one key write.
    let pointer = serde_json::to_vec(&MapPointer { version }).map_err(|e| StoreError(e.to_string()))?;
    env.set(MAP_POINTER_KEY, &pointer).await?;

    // 4. Clean up maps older than the previous one (a lookup in flight may still read it).
    let old = env.execute(OLD_TILE_KEYS, &[(version - 1).into()]).await?;
    for row in old.iter() {
        env.delete(&row.text("key")?).await?;
    }
    env.execute("DELETE FROM grid_tiles WHERE version < ?", &[(version - 1).into()]).await?;
    env.execute("DELETE FROM grids WHERE version < ?", &[(version - 1).into()]).await?;

    Ok(ImportSummary {
        map_version: version,
        grids: features.len(),
        cells,
        index_keys: keys.len(),
    })
}

/// The current map version, from the key-value store (one read).
pub async fn current_version<K: KeyValue>(kv: &K) -> Result<Option<i64>, StoreError> {
    Ok(kv
        .get(MAP_POINTER_KEY)
        .await?
        .and_then(|bytes| serde_json::from_slice::<MapPointer>(&bytes).ok())
        .map(|p| p.version))
}

/// Point → cell: two key reads, no SQL. `None` when no cell is within the tolerance.
pub async fn locate<K: KeyValue>(kv: &K, point: Wgs84Point) -> Result<Option<CellMatch>, StoreError> {
    let Some(version) = current_version(kv).await? else {
        return Ok(None);
    };
    let (ix, iy) = index::tile_of(point);
    let Some(bytes) = kv.get(&index::tile_key(version, ix, iy)).await? else {
        return Ok(None);
    };
    let tile: index::Tile = serde_json::from_slice(&bytes).map_err(|e| StoreError(format!("tile: {e}")))?;
    Ok(index::locate_in_tile(&tile, point))
}

// ---- hierarchy queries

const GRID_BY_CODE: &str = "SELECT g.code, g.name, g.level, g.parent, g.shape FROM grids g \
     JOIN map_versions m ON m.version = g.version AND m.is_current = 1 WHERE g.code = ?";
const GRID_CHILDREN: &str = "SELECT g.code, g.name, g.level FROM grids g \
     JOIN map_versions m ON m.version = g.version AND m.is_current = 1 WHERE g.parent = ? ORDER BY g.code";

/// One grid of the current map with its chain (district down to its parent) and children.
#[derive(Debug, Clone, Serialize)]
pub struct GridDetail {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent: Option<String>,
    pub chain: Vec<GridRef>,
    pub children: Vec<GridRef>,
}

async fn grid_ref<D: Database>(db: &D, code: &str) -> Result<Option<(GridRef, Option<String>)>, StoreError> {
    let rows = db.execute(GRID_BY_CODE, &[code.into()]).await?;
    let Some(row) = rows.first() else { return Ok(None) };
    let level = Level::parse(&row.text("level")?).ok_or_else(|| StoreError("bad level".into()))?;
    Ok(Some((
        GridRef {
            code: row.text("code")?,
            name: row.text("name")?,
            level,
        },
        row.opt_text("parent")?,
    )))
}

pub async fn detail<D: Database>(db: &D, code: &GridCode) -> Result<Option<GridDetail>, StoreError> {
    let Some((me, parent)) = grid_ref(db, code.as_str()).await? else {
        return Ok(None);
    };
    let mut chain = Vec::new();
    for ancestor in code.ancestors() {
        if let Some((r, _)) = grid_ref(db, ancestor.as_str()).await? {
            chain.push(r);
        }
    }
    let rows = db.execute(GRID_CHILDREN, &[code.as_str().into()]).await?;
    let children = rows
        .iter()
        .map(|r| {
            Ok(GridRef {
                code: r.text("code")?,
                name: r.text("name")?,
                level: Level::parse(&r.text("level")?).ok_or_else(|| StoreError("bad level".into()))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(GridDetail {
        code: me.code,
        name: me.name,
        level: me.level,
        parent,
        chain,
        children,
    }))
}

/// Whether a value is the SQL `NULL`; used by callers reading optional columns.
pub fn is_null(v: &Value) -> bool {
    matches!(v, Value::Null)
}
