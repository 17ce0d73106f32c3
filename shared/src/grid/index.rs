//! The spatial index in the key-value store: the plane is cut into square tiles of
//! `TILE_DEG` degrees; each tile's key holds the few cells that come within `TOLERANCE_M` of it,
//! with their shapes and their chain, so that one read answers a lookup.
//! Sizes at the demo city's scale (4,103 cells): see docs/design.md and the grid benchmark.

use std::collections::BTreeMap;

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{BoundingRect, Coord, Intersects, LineString, MultiPolygon, Point, Polygon};
use serde::{Deserialize, Serialize};

use super::{GridFeature, GridRef};
use crate::grid::code::{Level, Wgs84Point};

/// Tile edge in degrees: about 1.1 km north-south. A Xiamen cell (about 0.05 km²) then meets a
/// handful of tiles and a tile holds about a dozen cells, far below the 400 KB value limit.
pub const TILE_DEG: f64 = 0.01;
/// A point in a gap goes to the nearest cell within this distance (metres).
pub const TOLERANCE_M: f64 = 50.0;
const METRES_PER_DEG_LAT: f64 = 110_574.0;
const METRES_PER_DEG_LNG_AT_EQUATOR: f64 = 111_320.0;

/// One cell as a tile stores it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "StoredCell")]
pub struct TileCell {
    pub code: String,
    pub name: String,
    /// District, street, community (those present in the map).
    pub chain: Vec<GridRef>,
    /// Polygons → rings → [lng, lat].
    pub rings: Vec<Vec<Vec<[f64; 2]>>>,
    /// [west, south, east, north] of the rings: computed when a tile is built or read, never
    /// stored. A lookup skips a candidate on it without touching its rings.
    pub bbox: [f64; 4],
}

impl TileCell {
    pub fn new(
        code: String,
        name: String,
        chain: Vec<GridRef>,
        rings: Vec<Vec<Vec<[f64; 2]>>>,
    ) -> TileCell {
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for c in rings.iter().flat_map(|poly| poly.first()).flatten() {
            bbox = [
                bbox[0].min(c[0]),
                bbox[1].min(c[1]),
                bbox[2].max(c[0]),
                bbox[3].max(c[1]),
            ];
        }
        TileCell {
            code,
            name,
            chain,
            rings,
            bbox,
        }
    }

    fn bbox_contains(&self, p: Coord<f64>) -> bool {
        self.bbox[0] <= p.x && p.x <= self.bbox[2] && self.bbox[1] <= p.y && p.y <= self.bbox[3]
    }
}

/// The stored form of a [`TileCell`]: what the key-value store holds.
#[derive(Deserialize)]
struct StoredCell {
    code: String,
    name: String,
    chain: Vec<GridRef>,
    rings: Vec<Vec<Vec<[f64; 2]>>>,
}

impl From<StoredCell> for TileCell {
    fn from(s: StoredCell) -> TileCell {
        TileCell::new(s.code, s.name, s.chain, s.rings)
    }
}

impl Serialize for TileCell {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Stored<'a> {
            code: &'a str,
            name: &'a str,
            chain: &'a [GridRef],
            rings: &'a [Vec<Vec<[f64; 2]>>],
        }
        Stored {
            code: &self.code,
            name: &self.name,
            chain: &self.chain,
            rings: &self.rings,
        }
        .serialize(serializer)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tile {
    pub cells: Vec<TileCell>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    Inside,
    Nearest,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CellMatch {
    pub cell: GridRef,
    pub chain: Vec<GridRef>,
    #[serde(rename = "match")]
    pub kind: MatchKind,
    pub distance_m: f64,
}

/// The first byte of a tile stored in format 1: postcard (the serde types below, in a compact
/// binary layout: lengths as varints, coordinates as 8 little-endian bytes). A lookup decodes it
/// without parsing numbers from text. A tile that starts with `{` is the JSON of maps imported
/// before format 1; it is read as such until the next import writes format 1.
const TILE_FORMAT_1: u8 = 1;

/// A tile as the key-value store keeps it.
pub fn encode_tile(tile: &Tile) -> Result<Vec<u8>, String> {
    postcard::to_extend(tile, vec![TILE_FORMAT_1]).map_err(|e| e.to_string())
}

/// A tile from the key-value store, in format 1 or as the JSON of older imports.
pub fn decode_tile(bytes: &[u8]) -> Result<Tile, String> {
    match bytes.first() {
        Some(&TILE_FORMAT_1) => postcard::from_bytes(&bytes[1..]).map_err(|e| e.to_string()),
        Some(b'{') => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
        Some(other) => Err(format!("unknown tile format {other}")),
        None => Err("empty tile".to_owned()),
    }
}

pub fn tile_key(version: i64, ix: i64, iy: i64) -> String {
    format!("grid_v{version}_{ix}_{iy}")
}

pub fn tile_of(p: Wgs84Point) -> (i64, i64) {
    (
        (p.lng / TILE_DEG).floor() as i64,
        (p.lat / TILE_DEG).floor() as i64,
    )
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
    let line =
        |r: &Vec<[f64; 2]>| LineString(r.iter().map(|p| Coord { x: p[0], y: p[1] }).collect());
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
    let names: BTreeMap<&str, &GridFeature> =
        features.iter().map(|f| (f.code.as_str(), f)).collect();
    let mut tiles: BTreeMap<(i64, i64), Tile> = BTreeMap::new();
    for f in features.iter().filter(|f| f.code.level() == Level::Cell) {
        let Some(shape) = &f.shape else { continue };
        let Some(rect) = shape.bounding_rect() else {
            continue;
        };
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
        let dlng =
            TOLERANCE_M / (METRES_PER_DEG_LNG_AT_EQUATOR * mid_lat.to_radians().cos().max(0.01));
        let (x0, x1) = (
            ((rect.min().x - dlng) / TILE_DEG).floor() as i64,
            ((rect.max().x + dlng) / TILE_DEG).floor() as i64,
        );
        let (y0, y1) = (
            ((rect.min().y - dlat) / TILE_DEG).floor() as i64,
            ((rect.max().y + dlat) / TILE_DEG).floor() as i64,
        );
        let cell = TileCell::new(
            f.code.as_str().to_owned(),
            f.name.clone(),
            chain,
            rings_of(shape),
        );
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
///
/// Works on the stored rings as they are, without building `geo` shapes (a lookup must not
/// allocate per candidate), with `geo`'s own robust orientation test, so that it answers exactly
/// as `geo`'s `intersects` does (see `locate_linear`).
pub fn locate_in_tile(tile: &Tile, p: Wgs84Point) -> Option<CellMatch> {
    find_in_tile(tile, p).map(|(cell, kind, distance_m)| to_match(cell, kind, distance_m))
}

/// [`locate_in_tile`] without building the answer: the cell, how it matched, how far (m).
pub fn find_in_tile(tile: &Tile, p: Wgs84Point) -> Option<(&TileCell, MatchKind, f64)> {
    let point = Coord { x: p.lng, y: p.lat };
    let inside = tile
        .cells
        .iter()
        .filter(|c| {
            c.bbox_contains(point) && c.rings.iter().any(|poly| polygon_covers(poly, point))
        })
        .min_by(|a, b| a.code.cmp(&b.code));
    if let Some(cell) = inside {
        return Some((cell, MatchKind::Inside, 0.0));
    }
    // In a gap: measure in a local metric plane around the point (error ≪ 1 m over 50 m).
    // No candidate contains the point, so its distance to a cell is to the nearest ring segment.
    let kx = METRES_PER_DEG_LNG_AT_EQUATOR * p.lat.to_radians().cos();
    let project = |c: &[f64; 2]| ((c[0] - p.lng) * kx, (c[1] - p.lat) * METRES_PER_DEG_LAT);
    let far = |c: &TileCell| {
        // The box's distance, a lower bound of the cell's: most candidates end here.
        let dx = (c.bbox[0] - p.lng).max(p.lng - c.bbox[2]).max(0.0) * kx;
        let dy = (c.bbox[1] - p.lat).max(p.lat - c.bbox[3]).max(0.0) * METRES_PER_DEG_LAT;
        dx.hypot(dy) > TOLERANCE_M
    };
    tile.cells
        .iter()
        .filter(|c| !far(c))
        .map(|c| {
            let d = c
                .rings
                .iter()
                .flatten()
                .flat_map(|ring| ring.windows(2))
                .map(|seg| distance_to_segment(project(&seg[0]), project(&seg[1])))
                .fold(f64::INFINITY, f64::min);
            (c, d)
        })
        .filter(|(_, d)| *d <= TOLERANCE_M)
        .min_by(|(a, da), (b, db)| da.total_cmp(db).then_with(|| a.code.cmp(&b.code)))
        .map(|(c, d)| (c, MatchKind::Nearest, (d * 10.0).round() / 10.0))
}

/// Whether a polygon (exterior, then holes) contains the point or has it on its boundary,
/// as `geo`'s `Intersects<Point>` for a polygon decides it.
fn polygon_covers(rings: &[Vec<[f64; 2]>], p: Coord<f64>) -> bool {
    let Some((exterior, holes)) = rings.split_first() else {
        return false;
    };
    match ring_position(exterior, p) {
        RingPosition::Outside => false,
        RingPosition::Boundary => true,
        RingPosition::Inside => holes
            .iter()
            .all(|h| ring_position(h, p) != RingPosition::Inside),
    }
}

#[derive(PartialEq, Eq)]
enum RingPosition {
    Outside,
    Boundary,
    Inside,
}

/// The winding number with a boundary short-cut, after `geo::coordinate_position::
/// coord_pos_relative_to_ring`, with the same robust `orient2d`: a point exactly on a shared
/// edge is on the boundary of both cells, never in a crack between them. A box test first,
/// since most candidates of a tile are far from the point.
fn ring_position(ring: &[[f64; 2]], p: Coord<f64>) -> RingPosition {
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for c in ring {
        (x0, x1, y0, y1) = (x0.min(c[0]), x1.max(c[0]), y0.min(c[1]), y1.max(c[1]));
    }
    if p.x < x0 || p.x > x1 || p.y < y0 || p.y > y1 {
        return RingPosition::Outside;
    }
    let between = |v: f64, a: f64, b: f64| {
        if a < b {
            a <= v && v <= b
        } else {
            b <= v && v <= a
        }
    };
    let mut winding = 0i32;
    for seg in ring.windows(2) {
        let (a, b) = (
            Coord {
                x: seg[0][0],
                y: seg[0][1],
            },
            Coord {
                x: seg[1][0],
                y: seg[1][1],
            },
        );
        if a.y <= p.y {
            if b.y >= p.y {
                let o = RobustKernel::orient2d(a, b, p);
                if o == Orientation::CounterClockwise && b.y != p.y {
                    winding += 1;
                } else if o == Orientation::Collinear && between(p.x, a.x, b.x) {
                    return RingPosition::Boundary;
                }
            }
        } else if b.y <= p.y {
            let o = RobustKernel::orient2d(a, b, p);
            if o == Orientation::Clockwise {
                winding -= 1;
            } else if o == Orientation::Collinear && between(p.x, a.x, b.x) {
                return RingPosition::Boundary;
            }
        }
    }
    if winding == 0 {
        RingPosition::Outside
    } else {
        RingPosition::Inside
    }
}

/// Distance from the origin to the segment a–b, in the plane.
fn distance_to_segment(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
    };
    (a.0 + t * dx).hypot(a.1 + t * dy)
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

    type City = (Vec<GridFeature>, BTreeMap<(i64, i64), Tile>);
    /// Two neighbours' codes (lower first) and the two ends of the segment they share.
    type SharedEdge = (String, String, Coord<f64>, Coord<f64>);

    fn city() -> &'static City {
        static CITY: OnceLock<City> = OnceLock::new();
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
    fn a_tile_is_stored_without_its_boxes_and_read_back_with_them() {
        let tile = city().1.values().find(|t| t.cells.len() > 3).unwrap();
        let json = serde_json::to_string(tile).unwrap();
        assert!(!json.contains("bbox"), "boxes are not stored");
        let back: Tile = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, tile);
        let c = &back.cells[0];
        let xs = c.rings[0][0].iter().map(|q| q[0]);
        assert_eq!(c.bbox[0], xs.clone().fold(f64::INFINITY, f64::min));
        assert_eq!(c.bbox[2], xs.fold(f64::NEG_INFINITY, f64::max));
    }

    #[test]
    fn tiles_stay_small() {
        let largest = city()
            .1
            .values()
            .map(|t| encode_tile(t).unwrap().len())
            .max()
            .unwrap();
        assert!(largest < 400 * 1024 / 10, "largest tile {largest} bytes");
    }

    #[test]
    fn a_tile_reads_back_the_same_in_format_1_and_from_the_json_of_older_imports() {
        let mut binary_bytes = 0;
        let mut json_bytes = 0;
        for tile in city().1.values() {
            let stored = encode_tile(tile).unwrap();
            assert_eq!(stored[0], TILE_FORMAT_1);
            assert_eq!(&decode_tile(&stored).unwrap(), tile);
            let json = serde_json::to_vec(tile).unwrap();
            assert_eq!(&decode_tile(&json).unwrap(), tile);
            binary_bytes += stored.len();
            json_bytes += json.len();
        }
        assert!(binary_bytes < json_bytes, "{binary_bytes} ≥ {json_bytes}");
        assert_eq!(decode_tile(&[]), Err("empty tile".to_owned()));
        assert!(
            decode_tile(&[9, 1, 2])
                .unwrap_err()
                .contains("unknown tile format 9")
        );
        // A tile cut short is an error, never a panic.
        let stored = encode_tile(city().1.values().next().unwrap()).unwrap();
        assert!(decode_tile(&stored[..stored.len() / 2]).is_err());
    }

    #[test]
    fn a_point_on_a_shared_edge_goes_to_the_lower_code_every_time() {
        let (features, _) = city();
        // The first two cells of the first community share the slanted segment between
        // their corners; its midpoint lies on both.
        let a = features
            .iter()
            .find(|f| f.code.as_str() == "350205001001001")
            .unwrap();
        let ring = &a.shape.as_ref().unwrap().0[0].exterior().0;
        let (p, q) = (ring[2], ring[3]);
        let mid = Wgs84Point {
            lat: (p.y + q.y) / 2.0,
            lng: (p.x + q.x) / 2.0,
        };
        for _ in 0..3 {
            assert_eq!(
                indexed(mid).unwrap().cell.code,
                locate_linear(features, mid).unwrap()
            );
        }
        // A corner shared by four cells too.
        let corner = Wgs84Point { lat: p.y, lng: p.x };
        assert_eq!(
            indexed(corner).unwrap().cell.code,
            locate_linear(features, corner).unwrap()
        );
    }

    #[test]
    fn outside_the_city_nothing_matches_and_near_the_edge_the_nearest_cell_does() {
        assert_eq!(
            indexed(Wgs84Point {
                lat: 24.30,
                lng: 118.0
            }),
            None
        );
        // 30 m south of the city's southern edge: nearest, about 30 m.
        let near = indexed(Wgs84Point {
            lat: demo::SOUTH - 30.0 / METRES_PER_DEG_LAT,
            lng: 118.0,
        })
        .unwrap();
        assert_eq!(near.kind, MatchKind::Nearest);
        assert!((near.distance_m - 30.0).abs() < 1.0, "{}", near.distance_m);
        // 80 m south: outside the tolerance.
        assert_eq!(
            indexed(Wgs84Point {
                lat: demo::SOUTH - 80.0 / METRES_PER_DEG_LAT,
                lng: 118.0
            }),
            None
        );
    }

    /// Pairs of neighbouring cells of one community with the segment they share exactly.
    fn shared_edges() -> &'static Vec<SharedEdge> {
        static EDGES: OnceLock<Vec<SharedEdge>> = OnceLock::new();
        EDGES.get_or_init(|| {
            let cells: Vec<&GridFeature> = city().0.iter().filter(|f| f.shape.is_some()).collect();
            cells
                .windows(2)
                .filter_map(|w| {
                    let ring =
                        |f: &GridFeature| f.shape.as_ref().unwrap().0[0].exterior().0.clone();
                    let (a, b) = (ring(w[0]), ring(w[1]));
                    // The top edge of one cell is the bottom edge of the next, reversed.
                    (a[3] == b[0] && a[2] == b[1]).then(|| {
                        (
                            w[0].code.as_str().to_owned(),
                            w[1].code.as_str().to_owned(),
                            a[3],
                            a[2],
                        )
                    })
                })
                .collect()
        })
    }

    #[test]
    fn most_neighbours_share_their_edges_exactly() {
        assert!(shared_edges().len() > 3000, "{}", shared_edges().len());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn a_point_on_a_shared_edge_maps_to_exactly_one_of_its_two_cells(pair in 0usize..3000, t in 0.0f64..=1.0) {
            let (lower, upper, a, b) = &shared_edges()[pair % shared_edges().len()];
            let p = Wgs84Point { lat: a.y + t * (b.y - a.y), lng: a.x + t * (b.x - a.x) };
            let found = indexed(p).expect("a point on an edge is in the city");
            prop_assert_eq!(found.kind, MatchKind::Inside);
            prop_assert!(&found.cell.code == lower || &found.cell.code == upper, "{} not in {lower}, {upper}", found.cell.code);
            prop_assert_eq!(Some(found.cell.code.clone()), locate_linear(&city().0, p));
            prop_assert_eq!(indexed(p).map(|m| m.cell.code), Some(found.cell.code), "the same answer every time");
        }
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
