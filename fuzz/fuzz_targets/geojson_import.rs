#![no_main]
//! A grid import (GeoJSON FeatureCollection): parse, then the hierarchy check on success.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(features) = onegrid::grid::parse_feature_collection(data) {
        let _ = onegrid::grid::check_hierarchy(&features);
    }
});
