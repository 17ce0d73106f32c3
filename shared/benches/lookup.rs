//! Point → cell: the tile index against a scan of every polygon, on the demo city (4,103
//! cells) and on a region of 5 × 5 demo cities (102,575 cells); the index build; the index's
//! size in the key-value store. The key-value read itself is left out: the tiles are in memory,
//! in a hash map by tile as the store finds a key, so these figures are the lookup's own work
//! (plus, for "decoded", the JSON decoding of the tile that a component does after its read).
//! The points are spread over the whole map, so most reach memory outside the CPU's caches.
//!
//! `cargo bench -p onegrid-shared --bench lookup -- --warm-up-time 1 --measurement-time 3`

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use onegrid::demo;
use onegrid::grid::code::Wgs84Point;
use onegrid::grid::index::{self, Tile};
use onegrid::grid::{self, GridFeature};

/// Points to look up: uniform over the map's extent (some fall in gaps, ponds or outside).
fn points(n: usize, cols: usize, rows: usize) -> Vec<Wgs84Point> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut unit = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (width, height) = (
        (demo::EAST - demo::WEST) * cols as f64,
        (demo::NORTH - demo::SOUTH) * rows as f64,
    );
    (0..n)
        .map(|_| Wgs84Point {
            lat: demo::SOUTH + unit() * height,
            lng: demo::WEST + unit() * width,
        })
        .collect()
}

struct Map {
    label: &'static str,
    features: Vec<GridFeature>,
    tiles: HashMap<(i64, i64), Tile>,
    points: Vec<Wgs84Point>,
}

fn map(label: &'static str, features: Vec<GridFeature>, cols: usize, rows: usize) -> Map {
    // As a component holds a tile after its read: decoded from the stored JSON, each tile's
    // cells and strings allocated together (as built, they are spread over the whole build).
    let tiles = index::build(&features)
        .into_iter()
        .map(|(k, t)| {
            (
                k,
                serde_json::from_slice(&serde_json::to_vec(&t).unwrap()).unwrap(),
            )
        })
        .collect();
    Map {
        label,
        features,
        tiles,
        points: points(4096, cols, rows),
    }
}

/// The cell code, as [`index::locate_linear`] answers it, so that both sides of the comparison
/// produce the same thing (building the full answer with its chain is measured apart, below).
fn indexed(tiles: &HashMap<(i64, i64), Tile>, p: Wgs84Point) -> Option<String> {
    tiles
        .get(&index::tile_of(p))
        .and_then(|t| index::find_in_tile(t, p))
        .map(|(cell, _, _)| cell.code.clone())
}

/// What the store holds for a map, and the spread of one lookup's time measured one by one.
fn report(m: &Map) {
    let values: Vec<usize> = m
        .tiles
        .values()
        .map(|t| index::encode_tile(t).unwrap().len())
        .collect();
    let json_bytes: usize = m
        .tiles
        .values()
        .map(|t| serde_json::to_vec(t).unwrap().len())
        .sum();
    let candidates: Vec<usize> = m.tiles.values().map(|t| t.cells.len()).collect();
    let cells = m.features.iter().filter(|f| f.shape.is_some()).count();
    println!(
        "index[{}]: {cells} cells, {} keys (+1 pointer), {:.1} MB in all (as JSON {:.1} MB), \
         largest value {:.1} KB, mean value {:.1} KB, candidates per tile mean {:.1} max {}",
        m.label,
        values.len(),
        values.iter().sum::<usize>() as f64 / 1e6,
        json_bytes as f64 / 1e6,
        *values.iter().max().unwrap() as f64 / 1e3,
        values.iter().sum::<usize>() as f64 / values.len() as f64 / 1e3,
        candidates.iter().sum::<usize>() as f64 / candidates.len() as f64,
        candidates.iter().max().unwrap(),
    );
    // One lookup at a time (each timing includes ~20 ns of clock reads).
    let mut times: Vec<u128> = m
        .points
        .iter()
        .cycle()
        .take(50_000)
        .map(|&p| {
            let t = Instant::now();
            black_box(indexed(&m.tiles, black_box(p)));
            t.elapsed().as_nanos()
        })
        .collect();
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize] as f64 / 1e3;
    println!(
        "lookup[{}] one by one: p50 {:.2} µs, p99 {:.2} µs, max {:.1} µs",
        m.label,
        at(0.5),
        at(0.99),
        at(1.0)
    );
    let mut times: Vec<u128> = m
        .points
        .iter()
        .cycle()
        .take(50_000)
        .map(|&p| {
            let t = Instant::now();
            black_box(
                m.tiles
                    .get(&index::tile_of(black_box(p)))
                    .and_then(|t| index::find_in_tile(t, p))
                    .is_some(),
            );
            t.elapsed().as_nanos()
        })
        .collect();
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize] as f64 / 1e3;
    println!(
        "find[{}] one by one: p50 {:.2} µs, p99 {:.2} µs",
        m.label,
        at(0.5),
        at(0.99)
    );
    // The index must give the scan's answer wherever the scan finds a cell.
    for &p in m.points.iter().take(200) {
        if let Some(code) = index::locate_linear(&m.features, p) {
            assert_eq!(indexed(&m.tiles, p), Some(code));
        }
    }
}

fn lookups(c: &mut Criterion) {
    let city = map("4103", demo::city(1), 1, 1);
    let region = map("102575", demo::region(1, 5, 5), 5, 5);
    for m in [&city, &region] {
        report(m);
        let started = Instant::now();
        grid::validate(&m.features).expect("the demo maps are valid");
        println!(
            "validate[{}]: {:.2} s (once)",
            m.label,
            started.elapsed().as_secs_f64()
        );
    }
    let mut group = c.benchmark_group("lookup");
    for m in [&city, &region] {
        let mut i = 0;
        group.bench_function(BenchmarkId::new("indexed", m.label), |b| {
            b.iter(|| {
                i = (i + 1) % m.points.len();
                indexed(&m.tiles, black_box(m.points[i]))
            })
        });
        // The whole answer a handler sends: the cell with its chain (a few small allocations).
        group.bench_function(BenchmarkId::new("indexed-answer", m.label), |b| {
            b.iter(|| {
                i = (i + 1) % m.points.len();
                let p = black_box(m.points[i]);
                m.tiles
                    .get(&index::tile_of(p))
                    .and_then(|t| index::locate_in_tile(t, p))
            })
        });
        // The component's path after its key read before format 1: decode the tile's JSON, then locate.
        let encoded: HashMap<(i64, i64), Vec<u8>> = m
            .tiles
            .iter()
            .map(|(k, t)| (*k, serde_json::to_vec(t).unwrap()))
            .collect();
        group.bench_function(BenchmarkId::new("indexed-decoded", m.label), |b| {
            b.iter(|| {
                i = (i + 1) % m.points.len();
                let p = black_box(m.points[i]);
                encoded.get(&index::tile_of(p)).and_then(|bytes| {
                    let tile: Tile = serde_json::from_slice(bytes).unwrap();
                    index::locate_in_tile(&tile, p)
                })
            })
        });
        // The same after the key read of a tile in format 1 (binary), as the store now keeps it.
        let stored: HashMap<(i64, i64), Vec<u8>> = m
            .tiles
            .iter()
            .map(|(k, t)| (*k, index::encode_tile(t).unwrap()))
            .collect();
        group.bench_function(BenchmarkId::new("indexed-decoded-format-1", m.label), |b| {
            b.iter(|| {
                i = (i + 1) % m.points.len();
                let p = black_box(m.points[i]);
                stored.get(&index::tile_of(p)).and_then(|bytes| {
                    let tile = index::decode_tile(bytes).unwrap();
                    index::locate_in_tile(&tile, p)
                })
            })
        });
        group.bench_function(BenchmarkId::new("linear", m.label), |b| {
            b.iter(|| {
                i = (i + 1) % m.points.len();
                index::locate_linear(&m.features, black_box(m.points[i]))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.bench_function("index/4103", |b| {
        b.iter(|| index::build(black_box(&city.features)))
    });
    group.bench_function("index+encode/4103", |b| {
        b.iter(|| {
            index::build(black_box(&city.features))
                .values()
                .map(|t| index::encode_tile(t).unwrap().len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
