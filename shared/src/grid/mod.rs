//! The city map: grid cells and the areas above them, how a map is imported (validated, then
//! switched to atomically as a new version), and how a point finds its cell.
//! A lookup reads two keys of the key-value store (the current map version, then one tile)
//! and runs no SQL: it must stay fast at the edge with 4,103 cells or 400,000.

pub mod code;
pub mod crs;
pub mod index;
pub mod upload;
pub mod validate;
pub mod workers;

use geo::{Coord, LineString, MultiPolygon, Polygon, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::grid::code::{GridCode, Level, Wgs84Point};
use crate::http::problem::FieldError;
use crate::{Database, Env, KeyValue, Problem, StoreError};

pub use index::{CellMatch, MatchKind, TOLERANCE_M};
pub use validate::validate;
pub use workers::GridWorker;

/// The grid's part of schema version 1 (maps, cells, tiles) and version 2 (workers, upload
/// parts), as `app::schema` applies them.
pub const MIGRATION_1: &str = include_str!("sql/001_grid.sql");
pub const MIGRATION_2: &str = include_str!("sql/002_grid.sql");

/// One area or cell of an imported map.
#[derive(Debug, Clone, PartialEq)]
pub struct GridFeature {
    pub code: GridCode,
    pub name: String,
    /// Cells have a shape; areas may (their shape is the union of their cells).
    pub shape: Option<MultiPolygon<f64>>,
    /// A cell's grid workers on duty. `None`: the map does not say, and an import keeps the
    /// cell's workers as they are; `Some`: an import makes them exactly these.
    pub workers: Option<Vec<GridWorker>>,
}

/// A grid as answers show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GridRef {
    pub code: String,
    pub name: String,
    pub level: Level,
}

/// The key of the current map version in the key-value store.
pub const MAP_POINTER_KEY: &str = "grid_map";

#[derive(Debug, Clone, Copy, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MapPointer {
    pub version: i64,
}

// ---- parsing GeoJSON
// Parsed by hand over serde_json rather than through a GeoJSON crate so that every error can
// name the feature and the part of it that is wrong (`features[12].geometry: ring 0 is not closed`).

/// Reads a FeatureCollection of grids. Each feature needs `properties.code` and
/// `properties.name`; cells need a Polygon or MultiPolygon in WGS-84.
pub fn parse_feature_collection(bytes: &[u8]) -> Result<Vec<GridFeature>, Vec<FieldError>> {
    let doc: Json =
        serde_json::from_slice(bytes).map_err(|e| vec![FieldError::new("body", e.to_string())])?;
    if doc.get("type").and_then(Json::as_str) != Some("FeatureCollection") {
        return Err(vec![FieldError::new(
            "type",
            "a GeoJSON FeatureCollection is expected",
        )]);
    }
    let Some(features) = doc.get("features").and_then(Json::as_array) else {
        return Err(vec![FieldError::new(
            "features",
            "an array of features is expected",
        )]);
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
                errors.push(FieldError::new(
                    &at(".properties.name"),
                    "1 to 100 characters",
                ));
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
        // `properties.parent` is optional, but when given it must be the code's own prefix.
        if let (Some(code), Some(given)) = (
            &code,
            props.and_then(|p| p.get("parent")).filter(|p| !p.is_null()),
        ) {
            let expected = code.parent();
            if given.as_str() != expected.as_ref().map(GridCode::as_str) {
                let given = given
                    .as_str()
                    .map_or_else(|| given.to_string(), str::to_owned);
                let message = match expected {
                    Some(p) => format!(
                        "{} does not extend {given}: its parent is {}",
                        code.as_str(),
                        p.as_str()
                    ),
                    None => format!("{} is a district: it has no parent", code.as_str()),
                };
                errors.push(FieldError::new(&at(".properties.parent"), message));
            }
        }
        let workers = match (props.and_then(|p| p.get("workers")), &code) {
            (None | Some(Json::Null), _) => None,
            (Some(_), Some(c)) if c.level() != Level::Cell => {
                errors.push(FieldError::new(
                    &at(".properties.workers"),
                    "only cells have grid workers",
                ));
                None
            }
            (Some(list), _) => workers::parse_list(list, &format!("features[{i}]"), &mut errors),
        };
        if let (Some(code), Some(name)) = (code, name) {
            if code.level() == Level::Cell
                && shape.is_none()
                && f.get("geometry").is_none_or(Json::is_null)
            {
                errors.push(FieldError::new(
                    &at(".geometry"),
                    "a cell needs a Polygon or MultiPolygon",
                ));
            }
            out.push(GridFeature {
                code,
                name,
                shape,
                workers,
            });
        }
        if errors.len() >= 100 {
            errors.push(FieldError::new("features", "stopped after 100 errors"));
            break;
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A Polygon or MultiPolygon that is valid by the OGC simple-features rules (`geo`'s
/// validation): closed rings that do not cross themselves, holes inside their exterior, parts
/// that do not overlap. The index and the overlap checks rely on that.
fn parse_geometry(g: &Json) -> Result<MultiPolygon<f64>, String> {
    let shape = parse_multipolygon(g)?;
    let positions: usize = shape
        .0
        .iter()
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum();
    if positions > MAX_SHAPE_POSITIONS {
        return Err(format!(
            "{positions} positions: at most {MAX_SHAPE_POSITIONS} a shape (simplify it, e.g. to 0.1 m)"
        ));
    }
    let problems = shape.validation_errors();
    if problems.is_empty() {
        return Ok(shape);
    }
    let listed: Vec<String> = problems.iter().take(3).map(ToString::to_string).collect();
    Err(format!("not a valid shape: {}", listed.join("; ")))
}

fn parse_multipolygon(g: &Json) -> Result<MultiPolygon<f64>, String> {
    let coords = g.get("coordinates").ok_or("coordinates are missing")?;
    match g.get("type").and_then(Json::as_str) {
        Some("Polygon") => Ok(MultiPolygon(vec![
            parse_polygon(coords).map_err(|e| format!("coordinates: {e}"))?,
        ])),
        Some("MultiPolygon") => {
            let parts = coords
                .as_array()
                .ok_or("coordinates: an array of polygons is expected")?;
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

/// The most positions one shape may have: a surveyed cell has a few hundred, a district's
/// outline a few thousand. The shape check (`geo`'s validation) is quadratic in them, so this
/// bounds its time (a 10,000-position ring takes about 0.2 s; 100,000 took 22 s).
pub const MAX_SHAPE_POSITIONS: usize = 10_000;

fn parse_polygon(p: &Json) -> Result<Polygon<f64>, String> {
    let rings = p.as_array().ok_or("an array of rings is expected")?;
    if rings.is_empty() {
        return Err("a polygon needs an outer ring".into());
    }

    let mut parsed = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let points = ring
            .as_array()
            .ok_or(format!("ring {r}: an array of positions is expected"))?;
        let mut coords = Vec::with_capacity(points.len());
        for (k, pos) in points.iter().enumerate() {
            let xy = pos.as_array().filter(|a| a.len() >= 2);
            let (x, y) = match xy.map(|a| (a[0].as_f64(), a[1].as_f64())) {
                Some((Some(x), Some(y))) => (x, y),
                _ => {
                    return Err(format!(
                        "ring {r} position {k}: [lng, lat] numbers expected"
                    ));
                }
            };
            if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
                return Err(format!(
                    "ring {r} position {k}: [{x}, {y}] is not a WGS-84 [lng, lat]"
                ));
            }
            coords.push(Coord { x, y });
        }
        if coords.len() < 4 {
            return Err(format!("ring {r}: at least 4 positions are needed"));
        }
        if coords.first() != coords.last() {
            return Err(format!(
                "ring {r} is not closed: its last position must equal its first"
            ));
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
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

// ---- import

/// What an import did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ImportSummary {
    pub map_version: i64,
    pub grids: usize,
    pub cells: usize,
    /// Grid workers written (of the cells whose features list them).
    pub workers: usize,
    pub index_keys: usize,
}

/// Where a long import is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Hierarchy, overlaps, cells outside their parent (no count).
    Validate,
    /// SQL rows: grids and their workers.
    Rows,
    /// Index tiles written to the key-value store.
    Index,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
}

const INSERT_MAP_VERSION: &str = "INSERT INTO map_versions (created_at, grids, cells, is_current) VALUES (?, ?, ?, 0) RETURNING version";
const INSERT_GRID: &str =
    "INSERT INTO grids (version, code, name, level, parent, shape) VALUES (?, ?, ?, ?, ?, ?)";
const INSERT_TILE_KEY: &str = "INSERT INTO grid_tiles (version, key) VALUES (?, ?)";
const SWITCH_CURRENT: &str = "UPDATE map_versions SET is_current = (version = ?)";
const OLD_TILE_KEYS: &str = "SELECT key FROM grid_tiles WHERE version < ?";
/// Progress is reported every this many rows or tiles.
const PROGRESS_EVERY: usize = 100;

/// Imports a whole map as a new version and switches lookups to it. Lookups see the old
/// map until the pointer key flips, then the new one; never half of either.
pub async fn import<E: Env>(env: &E, features: Vec<GridFeature>) -> Result<ImportSummary, Problem> {
    import_with_progress(env, features, &mut |_| {}).await
}

/// [`import`], telling `progress` how far it is.
pub async fn import_with_progress<E: Env>(
    env: &E,
    features: Vec<GridFeature>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportSummary, Problem> {
    progress(Progress {
        stage: Stage::Validate,
        done: 0,
        total: 1,
    });
    validate(&features).map_err(Problem::validation)?;
    progress(Progress {
        stage: Stage::Validate,
        done: 1,
        total: 1,
    });
    let cells = features
        .iter()
        .filter(|f| f.code.level() == Level::Cell)
        .count();
    let workers: usize = features
        .iter()
        .filter_map(|f| f.workers.as_ref())
        .map(Vec::len)
        .sum();
    let now = env.now_ms();

    // 1. The new version's rows and the workers of the cells that list them, in one transaction.
    let rows_total = features.len();
    env.execute("BEGIN IMMEDIATE", &[]).await?;
    let written: Result<i64, StoreError> = async {
        let rows = env
            .execute(
                INSERT_MAP_VERSION,
                &[
                    now.into(),
                    (features.len() as i64).into(),
                    (cells as i64).into(),
                ],
            )
            .await?;
        let version = rows
            .first()
            .ok_or_else(|| StoreError("no version".into()))?
            .i64("version")?;
        for (n, f) in features.iter().enumerate() {
            let shape = f
                .shape
                .as_ref()
                .map(|s| serde_json::to_string(&index::rings_of(s)).unwrap_or_default());
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
            if let Some(list) = &f.workers {
                env.execute(workers::DELETE_CELL, &[f.code.as_str().into()])
                    .await?;
                for w in list {
                    let params = [
                        w.id.as_str().into(),
                        f.code.as_str().into(),
                        w.name.as_str().into(),
                        w.phone.as_str().into(),
                    ];
                    env.execute(workers::INSERT, &params).await?;
                }
            }
            if (n + 1) % PROGRESS_EVERY == 0 && n + 1 < rows_total {
                progress(Progress {
                    stage: Stage::Rows,
                    done: n + 1,
                    total: rows_total,
                });
            }
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
    progress(Progress {
        stage: Stage::Rows,
        done: rows_total,
        total: rows_total,
    });

    // 2. The index tiles of the new version, under keys no lookup reads yet.
    let tiles = index::build(&features);
    let mut keys = Vec::with_capacity(tiles.len());
    for (n, ((ix, iy), tile)) in tiles.iter().enumerate() {
        let key = index::tile_key(version, *ix, *iy);
        let value = index::encode_tile(tile).map_err(StoreError)?;
        env.set(&key, &value).await?;
        keys.push(key);
        if (n + 1) % PROGRESS_EVERY == 0 && n + 1 < tiles.len() {
            progress(Progress {
                stage: Stage::Index,
                done: n + 1,
                total: tiles.len(),
            });
        }
    }
    progress(Progress {
        stage: Stage::Index,
        done: tiles.len(),
        total: tiles.len(),
    });
    env.execute("BEGIN IMMEDIATE", &[]).await?;
    let recorded: Result<(), StoreError> = async {
        for key in &keys {
            env.execute(INSERT_TILE_KEY, &[version.into(), key.into()])
                .await?;
        }
        env.execute(SWITCH_CURRENT, &[version.into()]).await?;
        Ok(())
    }
    .await;
    if let Err(e) = recorded {
        // Never a transaction left open on the caller's connection.
        let _ = env.execute("ROLLBACK", &[]).await;
        return Err(e.into());
    }
    env.execute("COMMIT", &[]).await?;

    // 3. The switch: one key write.
    let pointer =
        serde_json::to_vec(&MapPointer { version }).map_err(|e| StoreError(e.to_string()))?;
    env.set(MAP_POINTER_KEY, &pointer).await?;

    // 4. Clean up maps older than the previous one (a lookup in flight may still read it).
    let old = env.execute(OLD_TILE_KEYS, &[(version - 1).into()]).await?;
    for row in old.iter() {
        env.delete(&row.text("key")?).await?;
    }
    env.execute(
        "DELETE FROM grid_tiles WHERE version < ?",
        &[(version - 1).into()],
    )
    .await?;
    env.execute(
        "DELETE FROM grids WHERE version < ?",
        &[(version - 1).into()],
    )
    .await?;

    Ok(ImportSummary {
        map_version: version,
        grids: features.len(),
        cells,
        workers,
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
pub async fn locate<K: KeyValue>(
    kv: &K,
    point: Wgs84Point,
) -> Result<Option<CellMatch>, StoreError> {
    let Some(version) = current_version(kv).await? else {
        return Ok(None);
    };
    let (ix, iy) = index::tile_of(point);
    let Some(bytes) = kv.get(&index::tile_key(version, ix, iy)).await? else {
        return Ok(None);
    };
    let tile = index::decode_tile(&bytes).map_err(|e| StoreError(format!("tile: {e}")))?;
    Ok(index::locate_in_tile(&tile, point))
}

// ---- hierarchy queries

const GRID_BY_CODE: &str = "SELECT g.code, g.name, g.level, g.parent, g.shape FROM grids g \
     JOIN map_versions m ON m.version = g.version AND m.is_current = 1 WHERE g.code = ?";
const GRID_CHILDREN: &str = "SELECT g.code, g.name, g.level FROM grids g \
     JOIN map_versions m ON m.version = g.version AND m.is_current = 1 WHERE g.parent = ? ORDER BY g.code";

/// The top-level areas (the districts) of the current map. Only a district has no parent (a
/// code's parent is its own prefix), so this is `parent IS NULL` over the index
/// `grids_by_parent (parent, version)`: the districts' rows alone, never a scan of the cells.
/// (A key written at import time would save this query, but would be one more thing an
/// import must keep in step; the indexed query reads six rows of the demo city.)
pub const TOP_AREAS: &str = "SELECT code, name, level FROM grids \
     WHERE parent IS NULL AND version = (SELECT version FROM map_versions WHERE is_current = 1) ORDER BY code";

/// The districts of the current map, in code order; empty before the first import.
pub async fn top_areas<D: Database>(db: &D) -> Result<Vec<GridRef>, StoreError> {
    let rows = db.execute(TOP_AREAS, &[]).await?;
    rows.iter().map(|r| grid_ref_of(&r)).collect()
}

fn grid_ref_of(r: &crate::ports::Row<'_>) -> Result<GridRef, StoreError> {
    Ok(GridRef {
        code: r.text("code")?,
        name: r.text("name")?,
        level: Level::parse(&r.text("level")?).ok_or_else(|| StoreError("bad level".into()))?,
    })
}

/// One grid of the current map with its chain (district down to its parent) and children.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GridDetail {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent: Option<String>,
    pub chain: Vec<GridRef>,
    pub children: Vec<GridRef>,
}

async fn grid_ref<D: Database>(
    db: &D,
    code: &str,
) -> Result<Option<(GridRef, Option<String>)>, StoreError> {
    let rows = db.execute(GRID_BY_CODE, &[code.into()]).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
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

pub async fn detail<D: Database>(
    db: &D,
    code: &GridCode,
) -> Result<Option<GridDetail>, StoreError> {
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
        .map(|r| grid_ref_of(&r))
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

const CURRENT_MAP: &str = "SELECT version FROM map_versions WHERE is_current = 1";
/// The cells below an area: a range of the primary key (code, version). `;` sorts right after
/// `9`, so `[code, code;)` holds exactly the codes that extend `code`.
const CELLS_BELOW: &str = "SELECT code, name, level, parent, shape FROM grids \
     WHERE code > ? AND code < ? AND version = ? AND level = 'cell' ORDER BY code";

/// A stored grid row as a GeoJSON Feature (WGS-84, as GeoJSON requires).
fn feature_json(row: &crate::ports::Row<'_>) -> Result<Json, StoreError> {
    let geometry = match row.opt_text("shape")? {
        Some(text) => {
            let coordinates: Json =
                serde_json::from_str(&text).map_err(|e| StoreError(format!("shape: {e}")))?;
            serde_json::json!({"type": "MultiPolygon", "coordinates": coordinates})
        }
        None => Json::Null,
    };
    let code = row.text("code")?;
    Ok(serde_json::json!({
        "type": "Feature",
        "id": code,
        "properties": {"code": code, "name": row.text("name")?, "level": row.text("level")?, "parent": row.opt_text("parent")?},
        "geometry": geometry,
    }))
}

/// A grid of the current map as GeoJSON: a Feature for a cell, a FeatureCollection of every
/// cell below for an area. `None` when the map has no such grid.
pub async fn geojson<D: Database>(db: &D, code: &GridCode) -> Result<Option<Json>, StoreError> {
    let rows = db.execute(GRID_BY_CODE, &[code.as_str().into()]).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    if code.level() == Level::Cell {
        return feature_json(&row).map(Some);
    }
    let Some(version) = db
        .execute(CURRENT_MAP, &[])
        .await?
        .first()
        .map(|r| r.i64("version"))
        .transpose()?
    else {
        return Ok(None);
    };
    let upper = format!("{};", code.as_str());
    let cells = db
        .execute(
            CELLS_BELOW,
            &[code.as_str().into(), upper.into(), version.into()],
        )
        .await?;
    let features = cells
        .iter()
        .map(|r| feature_json(&r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(serde_json::json!({
        "type": "FeatureCollection",
        "grid": {"code": row.text("code")?, "name": row.text("name")?, "level": row.text("level")?},
        "features": features,
    })))
}

/// A cell of the current map with its workers on duty (unmasked: the caller masks).
/// `None` when the map has no such cell.
pub async fn cell_workers<D: Database>(
    db: &D,
    code: &GridCode,
) -> Result<Option<(GridRef, Vec<GridWorker>)>, StoreError> {
    let Some((cell, _)) = grid_ref(db, code.as_str()).await? else {
        return Ok(None);
    };
    if cell.level != Level::Cell {
        return Ok(None);
    }
    let list = workers::on_duty(db, code.as_str()).await?;
    Ok(Some((cell, list)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A FeatureCollection of one district, street and community and the given cells.
    fn collection(cells: Vec<Json>) -> Vec<u8> {
        let area = |code: &str| json!({"type": "Feature", "properties": {"code": code, "name": code}, "geometry": null});
        let mut features = vec![area("350211"), area("350211001"), area("350211001001")];
        features.extend(cells);
        json!({"type": "FeatureCollection", "features": features})
            .to_string()
            .into_bytes()
    }

    fn cell(code: &str, rings: Json) -> Json {
        json!({"type": "Feature", "properties": {"code": code, "name": "网格"}, "geometry": {"type": "Polygon", "coordinates": rings}})
    }

    const SQUARE: [[f64; 2]; 5] = [
        [118.0, 24.5],
        [118.01, 24.5],
        [118.01, 24.51],
        [118.0, 24.51],
        [118.0, 24.5],
    ];

    /// The errors of a document, as `field: message` lines.
    fn errors_of(bytes: &[u8]) -> Vec<String> {
        match parse_feature_collection(bytes) {
            Ok(_) => vec![],
            Err(errors) => errors
                .into_iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect(),
        }
    }

    #[test]
    fn a_good_cell_parses() {
        assert_eq!(
            errors_of(&collection(vec![cell("350211001001001", json!([SQUARE]))])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_unclosed_ring_is_located() {
        let open = &SQUARE[..4];
        let errors = errors_of(&collection(vec![cell(
            "350211001001001",
            json!([open, SQUARE]),
        )]));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("features[3].geometry: "),
            "{errors:?}"
        );
        assert!(errors[0].contains("ring 0 is not closed"), "{errors:?}");
    }

    #[test]
    fn a_self_intersecting_ring_is_located() {
        // A bow tie: the second and fourth edges cross.
        let bow_tie = [
            [118.0, 24.5],
            [118.01, 24.51],
            [118.01, 24.5],
            [118.0, 24.51],
            [118.0, 24.5],
        ];
        let errors = errors_of(&collection(vec![
            cell("350211001001001", json!([SQUARE])),
            cell("350211001001002", json!([bow_tie])),
        ]));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("features[4].geometry: not a valid shape"),
            "{errors:?}"
        );
        assert!(errors[0].contains("self-intersection"), "{errors:?}");
    }

    #[test]
    fn a_hole_outside_its_exterior_is_located() {
        let far = [
            [118.1, 24.6],
            [118.11, 24.6],
            [118.11, 24.61],
            [118.1, 24.61],
            [118.1, 24.6],
        ];
        let errors = errors_of(&collection(vec![cell(
            "350211001001001",
            json!([SQUARE, far]),
        )]));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("features[3].geometry: not a valid shape"),
            "{errors:?}"
        );
        assert!(errors[0].contains("interior ring"), "{errors:?}");
    }

    #[test]
    fn a_code_that_does_not_extend_its_parent_is_located() {
        let mut c = cell("350211001001001", json!([SQUARE]));
        c["properties"]["parent"] = json!("350211001002");
        let errors = errors_of(&collection(vec![c]));
        assert_eq!(
            errors,
            [
                "features[3].properties.parent: 350211001001001 does not extend 350211001002: its parent is 350211001001"
            ]
        );
    }

    #[test]
    fn bad_codes_names_and_geometries_are_located() {
        let mut no_name = cell("350211001001002", json!([SQUARE]));
        no_name["properties"]["name"] = json!("  ");
        let mut point = cell("350211001001003", json!([SQUARE]));
        point["geometry"] = json!({"type": "Point", "coordinates": [118.0, 24.5]});
        let mut bare = cell("350211001001004", json!([SQUARE]));
        bare["geometry"] = Json::Null;
        let swapped = [
            [24.5, 118.0],
            [24.5, 118.01],
            [24.51, 118.01],
            [24.5, 118.0],
        ];
        let errors = errors_of(&collection(vec![
            cell("35021100100100", json!([SQUARE])),
            no_name,
            point,
            bare,
            cell("350211001001005", json!([swapped])),
        ]));
        let fields: Vec<&str> = errors
            .iter()
            .map(|e| e.split(": ").next().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "features[3].properties.code",
                "features[4].properties.name",
                "features[5].geometry",
                "features[6].geometry",
                "features[7].geometry"
            ],
            "{errors:?}"
        );
        assert!(
            errors[4].contains("is not a WGS-84 [lng, lat]"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_document_that_is_not_a_feature_collection_is_refused() {
        assert_eq!(
            errors_of(b"{\"type\": \"Feature\"}"),
            ["type: a GeoJSON FeatureCollection is expected"]
        );
        assert!(
            errors_of(b"{")
                .first()
                .is_some_and(|e| e.starts_with("body: "))
        );
    }

    #[test]
    fn overlapping_cells_fail_the_whole_map_check_by_code() {
        let shifted = [
            [118.005, 24.5],
            [118.015, 24.5],
            [118.015, 24.51],
            [118.005, 24.51],
            [118.005, 24.5],
        ];
        let features = parse_feature_collection(&collection(vec![
            cell("350211001001001", json!([SQUARE])),
            cell("350211001001002", json!([shifted])),
        ]))
        .unwrap();
        let errors = validate(&features).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "350211001001001");
        assert!(
            errors[0]
                .message
                .starts_with("overlaps 350211001001002 by 56"),
            "{}",
            errors[0].message
        );
    }
}
