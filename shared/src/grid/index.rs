//! The spatial index in the key-value store: the plane is cut into square tiles of
//! `TILE_DEG` degrees; each tile's key holds the few cells that come within `TOLERANCE_M` of it,
//! with their shapes and their chain, so that one read answers a lookup.
//! Sizes at the demo city's scale (4,103 cells): see docs/design.md and the grid benchmark.

use std::collections::BTreeMap;

use geo::{BoundingRect, Coord, Distance, Euclidean, Intersects, LineString, MultiPolygon, Point, Polygon};
use serde::{Deserialize, Serialize};

use super::{GridFeature, GridRef};
use crate::model::{Level, Wgs84Point};

/// Tile edge in degrees: about 1.1 km north-south. A Xiamen cell (about 0.05 km²) then meets a
/// handful of tiles and a tile holds about a dozen cells, far below the 400 KB value limit.
pub const TILE_DEG: f64 = 0.01;
/// A point in a gap goes to the nearest cell within this distance (metres).
pub const TOLERANCE_M: f64 = 50.0;
const METRES_PER_DEG_LAT: f64 = 110_574.0;
const METRES_PER_DEG_LNG_AT_EQUATOR: f64 = 111_320.0;

/// One cell as a tile stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TileCell {
    pub code: String,
    pub name: String,
    /// District, street, community (those present in the map).
    pub chain: Vec<GridRef>,
    /// Polygons → rings → [lng, lat].
    pub rings: Vec<Vec<Vec<[f64; 2]>>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tile {
    pub cells: Vec<TileCell>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    Inside,
    Nearest,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellMatch {
    pub cell: GridRef,
    pub chain: Vec<GridRef>,
    #[serde(rename = "match")]
    pub kind: MatchKind,
    pub distance_m: f64,
}

pub fn tile_key(version: i64, ix: i64, iy: i64) -> String {
    format!("grid_v{version}_{ix}_{iy}")
}

pub fn tile_of(p: Wgs84Point) -> (i64, i64) {
    ((p.lng / TILE_DEG).floor() as i64, (p.lat / TILE_DEG).floor() as i64)
}

pub fn rings_of(shape: &MultiPolygon<f64>) -> Vec<Vec<Vec<[f64; 2]>>> {
    shape
        .0
        .iter()
        .map(|poly| {
            std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .map(|ring| ring.0.iter().map(|c| [c.x, c.y]).collect())
                .collect()
        })
        .collect()
}

pub fn shape_of(rings: &[Vec<Vec<[f64; 2]>>]) -> MultiPolygon<f64> {
    let line = |r: &Vec<[f64; 2]>| LineString(r.iter().map(|p| Coord { x: p[0], y: p[1] }).collect());
    MultiPolygon(
        rings
            .iter()
            .filter(|poly| !poly.is_empty())
            .map(|poly| Polygon::new(line(&poly[0]), poly[1..].iter().map(line).collect()))
            .collect(),
    )
}

/// Every tile that some cell comes within the tolerance of, with those cells.
pub fn build(features: &[GridFeature]) -> BTreeMap<(i64, i64), Tile> {
    let names: BTreeMap<&str, &GridFeature> = features.iter().map(|f| (f.code.as_str(), f)).collect();
    let mut tiles: BTreeMap<(i64, i64), Tile> = BTreeMap::new();
    for f in features.iter().filter(|f| f.code.level() == Level::Cell) {
        let Some(shape) = &f.shape else { continue };
        let Some(rect) = shape.bounding_rect() else { continue };
        let chain: Vec<GridRef> = f
            .code
            .ancestors()
            .iter()
            .filter_map(|a| names.get(a.as_str()))
            .map(|a| GridRef {
                code: a.code.as_str().to_owned(),
                name: a.name.clone(),
                level: a.code.level(),
            })
            .collect();
        // Widen the box by the tolerance, so that a point in a gap finds its nearest cell.
        let mid_lat = (rect.min().y + rect.max().y) / 2.0;
        let dlat = TOLERANCE_M / METRES_PER_DEG_LAT;
        let dlng = TOLERANCE_M / (METRES_PER_DEG_LNG_AT_EQUATOR * mid_lat.to_radians().cos().max(0.01));
        let (x0, x1) = (
            ((rect.min().x - dlng) / TILE_DEG).floor() as i64,
            ((rect.max().x + dlng) / TILE_DEG).floor() as i64,
        );
        let (y0, y1) = (
            ((rect.min().y - dlat) / TILE_DEG).floor() as i64,
            ((rect.max().y + dlat) / TILE_DEG).floor() as i64,
        );
        let cell = TileCell {
            code: f.code.as_str().to_owned(),
            name: f.name.clone(),
            chain,
            rings: rings_of(shape),
        };
        for ix in x0..=x1 {
            for iy in y0..=y1 {
                tiles.entry((ix, iy)).or_default().cells.push(cell.clone());
            }
        }
    }
    tiles
}

/// Exact point-in-polygon over a tile's candidates. A point on a shared edge belongs to both
/// polygons, so the lowest code wins: the same answer every time.
pub fn locate_in_tile(tile: &Tile, p: Wgs84Point) -> Option<CellMatch> {
    let point = Point::new(p.lng, p.lat);
    let inside = tile
        .cells
        .iter()
        .filter(|c| shape_of(&c.rings).intersects(&point))
        .min_by(|a, b| a.code.cmp(&b.code));
    if let Some(cell) = inside {
        return Some(to_match(cell, MatchKind::Inside, 0.0));
    }
    // In a gap: measure in a local metric plane around the point (error ≪ 1 m over 50 m).
    let kx = METRES_PER_DEG_LNG_AT_EQUATOR * p.lat.to_radians().cos();
    let project = |c: &[f64; 2]| Coord {
        x: (c[0] - p.lng) * kx,
        y: (c[1] - p.lat) * METRES_PER_DEG_LAT,
    };
    let origin = Point::new(0.0, 0.0);
    tile.cells
        .iter()
        .map(|c| {
            let local: Vec<Vec<Vec<[f64; 2]>>> = c
                .rings
                .iter()
                .map(|poly| poly.iter().map(|r| r.iter().map(|q| { let m = project(q); [m.x, m.y] }).collect()).collect())
                .collect();
            let d = shape_of(&local)
                .0
                .iter()
                .map(|poly| Euclidean.distance(&origin, poly))
                .fold(f64::INFINITY, f64::min);
            (c, d)
        })
        .filter(|(_, d)| *d <= TOLERANCE_M)
        .min_by(|(a, da), (b, db)| da.total_cmp(db).then_with(|| a.code.cmp(&b.code)))
        .map(|(c, d)| to_match(c, MatchKind::Nearest, (d * 10.0).round() / 10.0))
}

fn to_match(cell: &TileCell, kind: MatchKind, distance_m: f64) -> CellMatch {
    CellMatch {
        cell: GridRef {
            code: cell.code.clone(),
            name: cell.name.clone(),
            level: Level::Cell,
        },
        chain: cell.chain.clone(),
        kind,
        distance_m,
    }
}

/// The brute-force answer: every cell, no index. The benchmark's baseline and the tests' oracle.
pub fn locate_linear(features: &[GridFeature], p: Wgs84Point) -> Option<String> {
    let point = Point::new(p.lng, p.lat);
    features
        .iter()
        .filter(|f| f.code.level() == Level::Cell)
        .filter(|f| f.shape.as_ref().is_some_and(|s| s.intersects(&point)))
        .map(|f| f.code.as_str().to_owned())
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn city() -> &'static (Vec<GridFeature>, BTreeMap<(i64, i64), Tile>) {
        static CITY: OnceLock<(Vec<GridFeature>, BTreeMap<(i64, i64), Tile>)> = OnceLock::new();
        CITY.get_or_init(|| {
            let features = demo::city(1);
            let tiles = build(&features);
            (features, tiles)
        })
    }

    fn indexed(p: Wgs84Point) -> Option<CellMatch> {
        city().1.get(&tile_of(p)).and_then(|t| locate_in_tile(t, p))
    }

    #[test]
    fn tiles_stay_small() {
        let largest = city().1.values().map(|t| serde_json::to_vec(t).unwrap().len()).max().unwrap();
        assert!(largest < 400 * 1024 / 10, "largest tile {largest} bytes");
    }

    #[test]
    fn a_point_on_a_shared_edge_goes_to_the_lower_code_every_time() {
        let (features, _) = city();
        // The first two cells of the first community share the slanted segment between
        // their corners; its midpoint lies on both.
        let a = features.iter().find(|f| f.code.as_str() == "350205001001001").unwrap();
        let ring = &a.shape.as_ref().unwrap().0[0].exterior().0;
        let (p, q) = (ring[2], ring[3]);
        let mid = Wgs84Point { lat: (p.y + q.y) / 2.0, lng: (p.x + q.x) / 2.0 };
        for _ in 0..3 {
            assert_eq!(indexed(mid).unwrap().cell.code, locate_linear(features, mid).unwrap());
        }
        // A corner shared by four cells too.
        let corner = Wgs84Point { lat: p.y, lng: p.x };
        assert_eq!(indexed(corner).unwrap().cell.code, locate_linear(features, corner).unwrap());
    }

    #[test]
    fn outside_the_city_nothing_matches_and_near_the_edge_the_nearest_cell_does() {
        assert_eq!(indexed(Wgs84Point { lat: 24.30, lng: 118.0 }), None);
        // 30 m south of the city's southern edge: nearest, about 30 m.
        let near = indexed(Wgs84Point { lat: demo::SOUTH - 30.0 / METRES_PER_DEG_LAT, lng: 118.0 }).unwrap();
        assert_eq!(near.kind, MatchKind::Nearest);
        assert!((near.distance_m - 30.0).abs() < 1.0, "{}", near.distance_m);
        // 80 m south: outside the tolerance.
        assert_eq!(indexed(Wgs84Point { lat: demo::SOUTH - 80.0 / METRES_PER_DEG_LAT, lng: 118.0 }), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn the_index_agrees_with_a_scan_of_every_cell(lat in demo::SOUTH..demo::NORTH, lng in demo::WEST..demo::EAST) {
            let p = Wgs84Point { lat, lng };
            let scan = locate_linear(&city().0, p);
            let found = indexed(p);
            match scan {
                Some(code) => {
                    let found = found.expect("a cell contains the point");
                    prop_assert_eq!(found.kind, MatchKind::Inside);
                    prop_assert_eq!(found.cell.code, code);
                    prop_assert_eq!(found.chain.len(), 3);
                }
                // In a gap or a pond: the nearest cell, within the tolerance.
                None => prop_assert!(found.is_none_or(|m| m.kind == MatchKind::Nearest && m.distance_m <= TOLERANCE_M)),
            }
        }
    }
}
