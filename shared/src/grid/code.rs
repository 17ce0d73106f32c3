//! Places as the grid speaks of them: coordinates on a named datum (China's web maps do not
//! speak WGS-84) and unit-grid codes that extend their parent's. Once you hold a `GridCode` or
//! a `Wgs84Point`, it is valid.

use serde::{Deserialize, Serialize};

use crate::http::problem::FieldError;

pub use super::crs::Crs;

/// A point on the WGS-84 datum, in range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Wgs84Point {
    pub lat: f64,
    pub lng: f64,
}

impl Wgs84Point {
    /// Validates the range and converts from `crs` to WGS-84.
    pub fn parse(lat: f64, lng: f64, crs: Crs) -> Result<Wgs84Point, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            errors.push(
                FieldError::new("lat", "latitude must be between -90 and 90")
                    .with_code("out_of_range"),
            );
        }
        if !lng.is_finite() || !(-180.0..=180.0).contains(&lng) {
            errors.push(
                FieldError::new("lng", "longitude must be between -180 and 180")
                    .with_code("out_of_range"),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (lat, lng) = super::crs::to_wgs84(crs, lat, lng);
        Ok(Wgs84Point { lat, lng })
    }
}

/// A grid code after the unit-grid layout: 6-digit district (GB/T 2260) + 3-digit street +
/// 3-digit community + 3-digit cell. Each level extends its parent's code.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct GridCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    District,
    Street,
    Community,
    Cell,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
            Level::Cell => "cell",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        [
            Level::District,
            Level::Street,
            Level::Community,
            Level::Cell,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }
}

impl GridCode {
    pub fn parse(s: &str) -> Result<GridCode, String> {
        let ok_len = matches!(s.len(), 6 | 9 | 12 | 15);
        if !ok_len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{s:?} is not a grid code (6, 9, 12 or 15 digits)"));
        }
        Ok(GridCode(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn level(&self) -> Level {
        match self.0.len() {
            6 => Level::District,
            9 => Level::Street,
            12 => Level::Community,
            _ => Level::Cell,
        }
    }
    /// The code of the level above, if any.
    pub fn parent(&self) -> Option<GridCode> {
        (self.0.len() > 6).then(|| GridCode(self.0[..self.0.len() - 3].to_owned()))
    }
    /// Ancestors from the district down, without self.
    pub fn ancestors(&self) -> Vec<GridCode> {
        [6, 9, 12]
            .into_iter()
            .filter(|&n| n < self.0.len())
            .map(|n| GridCode(self.0[..n].to_owned()))
            .collect()
    }
}

impl TryFrom<String> for GridCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        GridCode::parse(&s)
    }
}
impl From<GridCode> for String {
    fn from(c: GridCode) -> String {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_codes_know_their_level_and_parents() {
        let c = GridCode::parse("350211001002003").unwrap();
        assert_eq!(c.level(), Level::Cell);
        assert_eq!(c.parent().unwrap().as_str(), "350211001002");
        let chain: Vec<String> = c.ancestors().into_iter().map(String::from).collect();
        assert_eq!(chain, ["350211", "350211001", "350211001002"]);
        assert!(GridCode::parse("35021100100").is_err());
        assert!(GridCode::parse("35021a").is_err());
    }
}
