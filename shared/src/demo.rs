//! The demo city.

use crate::{Env, Problem};

/// The demo city as a GeoJSON FeatureCollection.
pub fn city_geojson(_seed: u64) -> String {
    String::new()
}

/// Loads the demo city (map, departments, categories) into an empty deployment.
pub async fn load<E: Env>(_env: &E, _seed: u64) -> Result<(), Problem> {
    Ok(())
}
