//! Checks over a whole map before it is imported: the hierarchy, overlaps between cells, and
//! cells (or areas) outside their parent's shape. Each error names the grid code it is about.
//! Overlaps are only measured between cells whose boxes meet (an R-tree over the boxes), never
//! between every pair: a national map has 400,000 cells.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use geo::{Area, BooleanOps, BoundingRect, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use super::{GridFeature, check_hierarchy};
use crate::grid::code::Level;
use crate::http::problem::FieldError;

/// Overlaps and overhangs below this are float slivers along shared edges, not mistakes.
pub const SLIVER_M2: f64 = 1.0;
/// At most this many errors are reported: past that, the file needs fixing at its source.
pub const MAX_ERRORS: usize = 100;
const METRES_PER_DEG_LAT: f64 = 110_574.0;
const METRES_PER_DEG_LNG_AT_EQUATOR: f64 = 111_320.0;

/// The longest the overlap and containment checks of one import may run: a real map of 100×
/// Xiamen's cells is checked in a fraction of it; a hostile one (thousands of cells stacked on
/// one spot) is stopped with a clear error instead of holding the request for minutes.
pub const CHECK_BUDGET: Duration = Duration::from_secs(30);

/// Every check at once, so that one run shows every problem (up to [`MAX_ERRORS`]).
/// Each shape is assumed valid on its own: `parse_feature_collection` has checked that.
pub fn validate(features: &[GridFeature]) -> Result<(), Vec<FieldError>> {
    validate_within(features, CHECK_BUDGET)
}

/// [`validate`] with its own time budget.
pub fn validate_within(features: &[GridFeature], budget: Duration) -> Result<(), Vec<FieldError>> {
    let deadline = Instant::now() + budget;
    let mut errors = check_hierarchy(features).err().unwrap_or_default();
    let in_time = overlaps(features, &mut errors, deadline)
        && outside_parents(features, &mut errors, deadline);
    if !in_time {
        errors.push(FieldError::new(
            "features",
            format!(
                "the overlap checks ran past {} s: too many cells lie on top of each other; fix the map at its source or send it in parts of a district each",
                budget.as_secs()
            ),
        ));
    }
    if errors.len() > MAX_ERRORS {
        errors.truncate(MAX_ERRORS);
        errors.push(FieldError::new(
            "features",
            format!("stopped after {MAX_ERRORS} errors"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The area of a small WGS-84 shape in m², in the local plane at its latitude
/// (equirectangular: well under 1 % off for a shape of a few km).
pub fn area_m2(shape: &MultiPolygon<f64>) -> f64 {
    let Some(rect) = shape.bounding_rect() else {
        return 0.0;
    };
    let lat = (rect.min().y + rect.max().y) / 2.0;
    shape.unsigned_area()
        * METRES_PER_DEG_LAT
        * METRES_PER_DEG_LNG_AT_EQUATOR
        * lat.to_radians().cos()
}

type Boxed = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Pairs of cells that share more than a sliver of area, with that area. False if the
/// deadline passed first.
fn overlaps(features: &[GridFeature], errors: &mut Vec<FieldError>, deadline: Instant) -> bool {
    let cells: Vec<(&GridFeature, &MultiPolygon<f64>)> = features
        .iter()
        .filter(|f| f.code.level() == Level::Cell)
        .filter_map(|f| f.shape.as_ref().map(|s| (f, s)))
        .collect();
    let boxes: Vec<Boxed> = cells
        .iter()
        .enumerate()
        .filter_map(|(i, (_, shape))| {
            let r = shape.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                i,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(boxes.clone());
    let mut found = Vec::new();
    let mut in_time = true;
    'cells: for b in &boxes {
        let i = b.data;
        let envelope = AABB::from_corners(b.geom().lower(), b.geom().upper());
        for other in tree.locate_in_envelope_intersecting(&envelope) {
            let j = other.data;
            if j <= i {
                continue;
            }
            // Checked per pair: one cell of a stacked map meets every other.
            if found.len() > MAX_ERRORS {
                break 'cells;
            }
            if Instant::now() > deadline {
                in_time = false;
                break 'cells;
            }
            let shared = area_m2(&cells[i].1.intersection(cells[j].1));
            if shared > SLIVER_M2 {
                let (a, b) = if cells[i].0.code <= cells[j].0.code {
                    (i, j)
                } else {
                    (j, i)
                };
                found.push((cells[a].0.code.as_str(), cells[b].0.code.as_str(), shared));
            }
        }
    }
    found.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
    for (a, b, area) in found {
        errors.push(FieldError::new(a, format!("overlaps {b} by {area:.1} m²")));
    }
    in_time
}

/// Shapes that reach outside their parent's shape, where the parent has one. False if the
/// deadline passed first.
fn outside_parents(
    features: &[GridFeature],
    errors: &mut Vec<FieldError>,
    deadline: Instant,
) -> bool {
    let shapes: HashMap<&str, &MultiPolygon<f64>> = features
        .iter()
        .filter_map(|f| Some((f.code.as_str(), f.shape.as_ref()?)))
        .collect();
    for f in features {
        let (Some(shape), Some(parent)) = (&f.shape, f.code.parent()) else {
            continue;
        };
        let Some(parent_shape) = shapes.get(parent.as_str()) else {
            continue;
        };
        if Instant::now() > deadline {
            return false;
        }
        let outside = area_m2(&shape.difference(*parent_shape));
        if outside > SLIVER_M2 {
            errors.push(FieldError::new(
                f.code.as_str(),
                format!(
                    "{outside:.1} m² of it lies outside its parent {}",
                    parent.as_str()
                ),
            ));
        }
        if errors.len() > MAX_ERRORS {
            return true;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::grid::code::GridCode;
    use geo::{Coord, LineString, Polygon};

    /// A square of `side` degrees with its south-west corner at (`x`, `y`).
    fn square(x: f64, y: f64, side: f64) -> MultiPolygon<f64> {
        let c = |x, y| Coord { x, y };
        let ring = LineString(vec![
            c(x, y),
            c(x + side, y),
            c(x + side, y + side),
            c(x, y + side),
            c(x, y),
        ]);
        MultiPolygon(vec![Polygon::new(ring, vec![])])
    }

    fn feature(code: &str, shape: Option<MultiPolygon<f64>>) -> GridFeature {
        GridFeature {
            code: GridCode::parse(code).unwrap(),
            name: code.into(),
            shape,
            workers: None,
        }
    }

    /// A district, street and community, and two cells side by side (0.01° wide, ~1 km).
    fn map(second_cell_x: f64, community: Option<MultiPolygon<f64>>) -> Vec<GridFeature> {
        vec![
            feature("350211", None),
            feature("350211001", None),
            feature("350211001001", community),
            feature("350211001001001", Some(square(118.00, 24.50, 0.01))),
            feature("350211001001002", Some(square(second_cell_x, 24.50, 0.01))),
        ]
    }

    #[test]
    fn cells_that_share_an_edge_pass() {
        assert_eq!(
            validate(&map(118.01, Some(square(118.0, 24.5, 0.02)))),
            Ok(())
        );
    }

    #[test]
    fn overlapping_cells_are_reported_with_the_shared_area() {
        // The second cell starts 0.001° (about 101 m) inside the first: 101 m × 1106 m ≈ 112,000 m².
        let errors = validate(&map(118.009, None)).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "350211001001001");
        assert!(
            errors[0]
                .message
                .starts_with("overlaps 350211001001002 by "),
            "{}",
            errors[0].message
        );
        let area: f64 = errors[0]
            .message
            .split(' ')
            .nth(3)
            .unwrap()
            .parse()
            .unwrap();
        let expected = 0.001 * 111_320.0 * 24.505f64.to_radians().cos() * 0.01 * 110_574.0;
        assert!(
            (area - expected).abs() < expected * 0.01,
            "{area} vs {expected}"
        );
    }

    #[test]
    fn a_float_sliver_along_a_shared_edge_is_tolerated() {
        // 1e-9° is about 0.1 mm: 0.1 mm × 1.1 km is 0.1 m², below the tolerance.
        assert_eq!(validate(&map(118.01 - 1e-9, None)), Ok(()));
    }

    #[test]
    fn a_cell_outside_its_community_is_reported() {
        // The community covers only the first cell and half of the second.
        let errors = validate(&map(118.01, Some(square(118.0, 24.5, 0.015)))).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["350211001001002"], "{errors:?}");
        assert!(
            errors[0]
                .message
                .contains("outside its parent 350211001001"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn a_missing_parent_and_a_repeated_code_are_reported_by_code() {
        let mut features = map(118.01, None);
        features.remove(1);
        features.push(feature("350211001001001", None));
        let fields: Vec<String> = validate(&features)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert!(fields.contains(&"350211001001".to_owned()), "{fields:?}");
        assert!(fields.contains(&"350211001001001".to_owned()), "{fields:?}");
    }

    #[test]
    fn the_demo_city_passes() {
        assert_eq!(validate(&demo::city(1)), Ok(()));
    }

    #[test]
    fn thousands_of_cells_stacked_on_one_spot_are_stopped_quickly() {
        // 999 cells (all a community's codes) on the same square: every box meets every other.
        let mut features = vec![
            feature("350211", None),
            feature("350211001", None),
            feature("350211001001", None),
        ];
        for n in 1..=999 {
            features.push(feature(
                &format!("350211001001{n:03}"),
                Some(square(118.01, 24.4, 0.001)),
            ));
        }
        let started = Instant::now();
        let errors = validate(&features).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert!(
            errors.iter().any(|e| e.message.contains("overlaps")),
            "{errors:?}"
        );
        assert!(errors.len() <= MAX_ERRORS + 1);
    }

    #[test]
    fn a_check_past_its_budget_says_so() {
        let mut features = vec![
            feature("350211", None),
            feature("350211001", None),
            feature("350211001001", None),
        ];
        for n in 1..=50 {
            features.push(feature(
                &format!("350211001001{n:03}"),
                Some(square(118.01, 24.4, 0.001)),
            ));
        }
        let errors = validate_within(&features, Duration::ZERO).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.field == "features" && e.message.contains("ran past")),
            "{errors:?}"
        );
    }
}
