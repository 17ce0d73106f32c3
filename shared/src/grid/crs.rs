//! Conversions between WGS-84 (GPS), GCJ-02 (AMap, Tencent) and BD-09 (Baidu).
//! GCJ-02 is a published obfuscation of WGS-84 (the Krasovsky-ellipsoid formula used by every
//! open implementation); its inverse has no closed form, so we iterate to well under a metre.
//! Outside China the maps use WGS-84 unchanged, and so do we.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

/// The coordinate reference systems a point may come in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// GPS and browsers' geolocation.
    #[default]
    Wgs84,
    /// The "Mars" datum of AMap and Tencent maps.
    Gcj02,
    /// Baidu maps.
    Bd09,
}

impl Crs {
    pub fn parse(s: &str) -> Option<Crs> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wgs84" | "wgs-84" | "epsg:4326" => Some(Crs::Wgs84),
            "gcj02" | "gcj-02" => Some(Crs::Gcj02),
            "bd09" | "bd-09" | "bd09ll" => Some(Crs::Bd09),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }
}

const A: f64 = 6378245.0; // Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses.
const EE: f64 = 0.006_693_421_622_965_943; // its first eccentricity squared
const BD_PI: f64 = PI * 3000.0 / 180.0;

/// Where GCJ-02 applies: mainland China's rough box (the usual published bounds).
fn in_china(lat: f64, lng: f64) -> bool {
    (73.66..=135.05).contains(&lng) && (3.86..=53.55).contains(&lat)
}

fn delta(lat: f64, lng: f64) -> (f64, f64) {
    let x = lng - 105.0;
    let y = lat - 35.0;
    let mut dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    dlat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    dlng += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlng += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlng += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlng = (dlng * 180.0) / (A / sqrt_magic * rad.cos() * PI);
    (dlat, dlng)
}

pub fn wgs84_to_gcj02(lat: f64, lng: f64) -> (f64, f64) {
    if !in_china(lat, lng) {
        return (lat, lng);
    }
    let (dlat, dlng) = delta(lat, lng);
    (lat + dlat, lng + dlng)
}

/// Inverse by fixed-point iteration: each step halves the error by far more than half;
/// ten steps reach well below a millimetre.
pub fn gcj02_to_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    if !in_china(lat, lng) {
        return (lat, lng);
    }
    let (mut wlat, mut wlng) = (lat, lng);
    for _ in 0..10 {
        let (glat, glng) = wgs84_to_gcj02(wlat, wlng);
        wlat -= glat - lat;
        wlng -= glng - lng;
    }
    (wlat, wlng)
}

pub fn gcj02_to_bd09(lat: f64, lng: f64) -> (f64, f64) {
    let z = (lng * lng + lat * lat).sqrt() + 0.00002 * (lat * BD_PI).sin();
    let theta = lat.atan2(lng) + 0.000003 * (lng * BD_PI).cos();
    (z * theta.sin() + 0.006, z * theta.cos() + 0.0065)
}

pub fn bd09_to_gcj02(lat: f64, lng: f64) -> (f64, f64) {
    let x = lng - 0.0065;
    let y = lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * BD_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * BD_PI).cos();
    (z * theta.sin(), z * theta.cos())
}

pub fn to_wgs84(crs: Crs, lat: f64, lng: f64) -> (f64, f64) {
    match crs {
        Crs::Wgs84 => (lat, lng),
        Crs::Gcj02 => gcj02_to_wgs84(lat, lng),
        Crs::Bd09 => {
            let (glat, glng) = bd09_to_gcj02(lat, lng);
            gcj02_to_wgs84(glat, glng)
        }
    }
}

pub fn from_wgs84(crs: Crs, lat: f64, lng: f64) -> (f64, f64) {
    match crs {
        Crs::Wgs84 => (lat, lng),
        Crs::Gcj02 => wgs84_to_gcj02(lat, lng),
        Crs::Bd09 => {
            let (glat, glng) = wgs84_to_gcj02(lat, lng);
            gcj02_to_bd09(glat, glng)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        let dlat = (a.0 - b.0) * 111_320.0;
        let dlng = (a.1 - b.1) * 111_320.0 * a.0.to_radians().cos();
        (dlat * dlat + dlng * dlng).sqrt()
    }

    #[test]
    fn gcj02_offset_in_xiamen_is_the_usual_few_hundred_metres() {
        // In Xiamen the GCJ-02 shift is about 0.005° east and 0.0025° north of GPS.
        let (lat, lng) = wgs84_to_gcj02(24.4798, 118.0894);
        assert!(
            (lng - 118.0894 - 0.0050).abs() < 0.0015,
            "lng shift {}",
            lng - 118.0894
        );
        assert!(
            (lat - 24.4798 + 0.0).abs() < 0.006,
            "lat shift {}",
            lat - 24.4798
        );
        assert!(metres((lat, lng), (24.4798, 118.0894)) > 300.0);
    }

    #[test]
    fn the_published_test_points_of_coordtransform_convert() {
        // The README examples of the widely used coordtransform library, point (116.404, 39.915):
        // wgs84togcj02 → (116.41024449916938, 39.91640428150164),
        // bd09togcj02 → (116.39762729119315, 39.90865673957631),
        // gcj02towgs84 → (116.39775550083061, 39.91359571849836) by its one-step approximation.
        let (lat, lng) = wgs84_to_gcj02(39.915, 116.404);
        assert!((lat - 39.91640428150164).abs() < 1e-9 && (lng - 116.41024449916938).abs() < 1e-9);
        let (lat, lng) = bd09_to_gcj02(39.915, 116.404);
        assert!((lat - 39.90865673957631).abs() < 1e-9 && (lng - 116.39762729119315).abs() < 1e-9);
        let back = gcj02_to_wgs84(39.915, 116.404);
        assert!(
            metres(back, (39.91359571849836, 116.39775550083061)) < 5.0,
            "{back:?}"
        );
    }

    #[test]
    fn outside_china_nothing_moves() {
        assert_eq!(wgs84_to_gcj02(51.5, -0.12), (51.5, -0.12));
        assert_eq!(to_wgs84(Crs::Gcj02, 51.5, -0.12), (51.5, -0.12));
    }

    proptest! {
        #[test]
        fn round_trips_stay_within_a_metre(lat in 18.0f64..53.0, lng in 74.0f64..134.0) {
            for crs in [Crs::Gcj02, Crs::Bd09] {
                let (a, b) = from_wgs84(crs, lat, lng);
                let back = to_wgs84(crs, a, b);
                prop_assert!(metres(back, (lat, lng)) < 1.0, "{crs:?} {back:?}");
            }
        }
    }
}
