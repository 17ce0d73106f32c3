//! The citizen form's validation: `ReportInput::validate` of shared/, the rule the intake
//! component applies to `POST /api/reports`, exported to JavaScript. JSON in, JSON out, so the
//! page passes exactly the body it is about to send.

use onegrid::case::report::{
    ADDRESS_MAX, CONTACT_NAME_MAX, DESCRIPTION_MAX, DESCRIPTION_MIN, ReportInput,
};
use onegrid::http::problem::FieldError;
use serde_json::{Value, json};
use wasm_bindgen::prelude::wasm_bindgen;

/// Checks a report body as the server will. Answers `{"ok": true, "point": {"lat", "lng"}}`
/// (the point on WGS-84, converted from the body's `crs`) or `{"ok": false, "errors": [{"field",
/// "message", "code"}]}`, the `errors` of the server's 422 `validation-failed` answer.
#[wasm_bindgen]
pub fn validate_report(body: &str) -> String {
    let answer = match serde_json::from_str::<ReportInput>(body) {
        Err(err) => refused(&[FieldError::new("body", err.to_string()).with_code("invalid")]),
        Ok(input) => match input.validate() {
            Ok(report) => json!({
                "ok": true,
                "point": {"lat": report.point.lat, "lng": report.point.lng},
            }),
            Err(errors) => refused(&errors),
        },
    };
    answer.to_string()
}

fn refused(errors: &[FieldError]) -> Value {
    json!({"ok": false, "errors": errors})
}

/// The length limits, for counters beside the fields.
#[wasm_bindgen]
pub fn limits() -> String {
    json!({
        "description_min": DESCRIPTION_MIN,
        "description_max": DESCRIPTION_MAX,
        "address_max": ADDRESS_MAX,
        "contact_name_max": CONTACT_NAME_MAX,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> Value {
        serde_json::from_str(&validate_report(body)).unwrap()
    }

    #[test]
    fn a_good_report_passes_with_its_wgs84_point() {
        let a = answer(
            r#"{"category":"roads.pothole","description":"A deep hole","lat":24.48,"lng":118.1,"crs":"gcj02"}"#,
        );
        assert_eq!(a["ok"], true);
        // GCJ-02 lies a few hundred metres off WGS-84 in China.
        let lat = a["point"]["lat"].as_f64().unwrap();
        assert!((lat - 24.48).abs() > 1e-4 && (lat - 24.48).abs() < 1e-2);
    }

    #[test]
    fn every_broken_rule_comes_with_its_field_and_code() {
        let a = answer(r#"{"description":"  ab ","lat":95,"lng":118.1,"contact_phone":"call me"}"#);
        assert_eq!(a["ok"], false);
        let got: Vec<(String, String)> = a["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want = [
            ("category", "required"),
            ("description", "too_short"),
            ("lat", "out_of_range"),
            ("contact_phone", "invalid"),
        ];
        for (field, code) in want {
            assert!(
                got.contains(&(field.to_owned(), code.to_owned())),
                "{field}/{code} missing from {got:?}"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_a_report_is_refused_not_panicked_on() {
        for body in ["", "[]", r#"{"lat":"north"}"#, r#"{"colour":"red"}"#] {
            let a = answer(body);
            assert_eq!(a["ok"], false, "{body}");
            assert_eq!(a["errors"][0]["field"], "body");
        }
    }
}
