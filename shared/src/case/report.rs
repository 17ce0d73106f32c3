//! A report as it arrives: the rules a citizen's (or a grid worker's) report must pass before
//! anything is stored, the channel it came by and the tracking code it gets. The same rules run in
//! the browser (through the wasm module) and on the server.

use serde::{Deserialize, Serialize};

use crate::grid::code::{Crs, Wgs84Point};
use crate::http::problem::FieldError;

/// Description length bounds, in characters after trimming.
pub const DESCRIPTION_MIN: usize = 5;
pub const DESCRIPTION_MAX: usize = 2000;
pub const ADDRESS_MAX: usize = 200;
pub const CONTACT_NAME_MAX: usize = 50;
/// Photos a citizen may attach to a report.
pub const PHOTOS_MAX: usize = 3;

/// How a report reached OneGrid.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    #[default]
    Web,
    Qr,
    Patrol,
    Hotline,
    Platform,
    /// An Open311 GeoReport v2 client.
    Open311,
    Console,
    Webhook,
    System,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Qr => "qr",
            Channel::Patrol => "patrol",
            Channel::Hotline => "hotline",
            Channel::Platform => "platform",
            Channel::Open311 => "open311",
            Channel::Console => "console",
            Channel::Webhook => "webhook",
            Channel::System => "system",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        [
            Channel::Web,
            Channel::Qr,
            Channel::Patrol,
            Channel::Hotline,
            Channel::Platform,
            Channel::Open311,
            Channel::Console,
            Channel::Webhook,
            Channel::System,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// The public tracking code: 8 characters of Crockford base32 without look-alikes, shown as
/// `K7QM-4XPT` (four, a dash, four). 40 random bits: guessing one of a city's open cases stays impractical.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TrackingCode(String);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl TrackingCode {
    pub fn random() -> TrackingCode {
        let bits: u64 = rand::random::<u64>() >> 24;
        let chars: String = (0..8)
            .rev()
            .map(|i| CROCKFORD[((bits >> (i * 5)) & 31) as usize] as char)
            .collect();
        TrackingCode(format!("{}-{}", &chars[..4], &chars[4..]))
    }
    /// Accepts any case, with or without the dash; reads O as 0 and I/L as 1 (Crockford).
    pub fn parse(s: &str) -> Option<TrackingCode> {
        let cleaned: String = s
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        (cleaned.len() == 8 && cleaned.bytes().all(|b| CROCKFORD.contains(&b)))
            .then(|| TrackingCode(format!("{}-{}", &cleaned[..4], &cleaned[4..])))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A case's id on public answers (Open311 lists, "problems near here", public photos): `P`
/// and ten characters of Crockford base32, 50 random bits. It is never the tracking code, which
/// is the reporter's capability (their tracking page and photos), and it cannot be read as one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PublicId(String);

impl PublicId {
    pub fn random() -> PublicId {
        let bits: u64 = rand::random::<u64>() >> 14;
        let chars: String = (0..10)
            .rev()
            .map(|i| CROCKFORD[((bits >> (i * 5)) & 31) as usize] as char)
            .collect();
        PublicId(format!("P{chars}"))
    }
    /// Accepts any case; reads O as 0 and I/L as 1 (Crockford), as a tracking code does.
    pub fn parse(s: &str) -> Option<PublicId> {
        let s = s.trim();
        let rest = s.strip_prefix(['P', 'p'])?;
        let cleaned: String = rest
            .chars()
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        (cleaned.len() == 10 && cleaned.bytes().all(|b| CROCKFORD.contains(&b)))
            .then(|| PublicId(format!("P{cleaned}")))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A report as a citizen (or a grid worker on patrol) sends it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    // Optional in Rust so that every missing field is named in one 422; required in the schema.
    #[schemars(required)]
    pub category: Option<String>,
    #[schemars(required, length(min = 5, max = 2000))]
    pub description: Option<String>,
    #[schemars(required, range(min = -90.0, max = 90.0))]
    pub lat: Option<f64>,
    #[schemars(required, range(min = -180.0, max = 180.0))]
    pub lng: Option<f64>,
    /// `wgs84` (the default), `gcj02` or `bd09`.
    #[schemars(extend("enum" = ["wgs84", "gcj02", "bd09", null]))]
    pub crs: Option<String>,
    #[schemars(length(max = 200))]
    pub address: Option<String>,
    #[schemars(length(max = 50))]
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// `web` (the default), `qr` or `patrol` (a grid worker's session).
    #[schemars(extend("enum" = ["web", "qr", "patrol", null]))]
    pub channel: Option<String>,
    #[schemars(length(max = 64))]
    pub asset_id: Option<String>,
    /// Whether the reporter lets the case appear on public lists (without their contact data,
    /// masked, its place rounded: docs/publication.md). Left out, it is not public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// Up to [`PHOTOS_MAX`] images as base64 `data` (the browser downscales them and drops their
    /// metadata; the server strips it again from the bytes, see `evidence::prepare`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 3))]
    pub photos: Vec<crate::case::evidence::EvidenceInput>,
    /// The report form's honeypot, a field people never see: filled in only by bots (422
    /// unless absent or empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 0))]
    pub website: Option<String>,
}

/// A report that passed every check but the ones that need storage (category exists, cell found).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub category: String,
    pub description: String,
    pub point: Wgs84Point,
    pub crs_given: Crs,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub channel: Channel,
    pub asset_id: Option<String>,
    /// The reporter's choice; the store makes it false where the category or the channel does
    /// not allow publication.
    pub public: bool,
}

/// Whether a character shows as something: not a control character, not white space, not a
/// format character (zero-width spaces and joiners, direction marks, the BOM, variation
/// selectors, tags, the Hangul fillers that render as blank).
fn is_visible(c: char) -> bool {
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c,
            '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
            | '\u{ffa0}' | '\u{e0000}'..='\u{e007f}'))
}

fn optional_text(
    value: &Option<String>,
    field: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let v = value.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if v.chars().count() > max {
        errors.push(
            FieldError::new(field, format!("at most {max} characters")).with_code("too_long"),
        );
    }
    Some(v.to_owned())
}

impl ReportInput {
    /// Every rule at once, so that a form can show every problem together.
    pub fn validate(&self) -> Result<Report, Vec<FieldError>> {
        let mut errors = Vec::new();
        let category = self.category.as_deref().map(str::trim).unwrap_or("");
        if category.is_empty() {
            errors.push(FieldError::new("category", "choose a category").with_code("required"));
        } else if category.len() > 64
            || !category
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            errors.push(FieldError::new("category", "not a category code").with_code("invalid"));
        }
        let description = self.description.as_deref().map(str::trim).unwrap_or("");
        let len = description.chars().count();
        // What a reader sees: control characters, zero-width and other format characters and
        // spaces do not describe anything.
        let visible = description.chars().filter(|&c| is_visible(c)).count();
        if visible < DESCRIPTION_MIN {
            errors.push(
                FieldError::new(
                    "description",
                    format!("describe the problem in at least {DESCRIPTION_MIN} characters"),
                )
                .with_code(if visible == 0 {
                    "required"
                } else {
                    "too_short"
                }),
            );
        } else if len > DESCRIPTION_MAX {
            errors.push(
                FieldError::new(
                    "description",
                    format!("at most {DESCRIPTION_MAX} characters"),
                )
                .with_code("too_long"),
            );
        }
        let crs = match self.crs.as_deref() {
            None => Crs::Wgs84,
            Some(s) => Crs::parse(s).unwrap_or_else(|| {
                errors
                    .push(FieldError::new("crs", "one of wgs84, gcj02, bd09").with_code("invalid"));
                Crs::Wgs84
            }),
        };
        let point = match (self.lat, self.lng) {
            (Some(lat), Some(lng)) => Wgs84Point::parse(lat, lng, crs)
                .map_err(|e| errors.extend(e))
                .ok(),
            (lat, lng) => {
                if lat.is_none() {
                    errors.push(
                        FieldError::new("lat", "the location is required").with_code("required"),
                    );
                }
                if lng.is_none() {
                    errors.push(
                        FieldError::new("lng", "the location is required").with_code("required"),
                    );
                }
                None
            }
        };
        let address = optional_text(&self.address, "address", ADDRESS_MAX, &mut errors);
        let contact_name = optional_text(
            &self.contact_name,
            "contact_name",
            CONTACT_NAME_MAX,
            &mut errors,
        );
        let contact_phone = optional_text(&self.contact_phone, "contact_phone", 24, &mut errors);
        if let Some(phone) = &contact_phone {
            let digits: String = phone.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
            let body = digits.strip_prefix('+').unwrap_or(&digits);
            if !(7..=20).contains(&body.len()) || !body.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(
                    FieldError::new(
                        "contact_phone",
                        "7 to 20 digits, optionally starting with +",
                    )
                    .with_code("invalid"),
                );
            }
        }
        let channel = match self.channel.as_deref() {
            None | Some("web") => Channel::Web,
            Some("qr") => Channel::Qr,
            Some("patrol") => Channel::Patrol,
            Some(_) => {
                errors.push(
                    FieldError::new("channel", "one of web, qr, patrol").with_code("invalid"),
                );
                Channel::Web
            }
        };
        let asset_id = optional_text(&self.asset_id, "asset_id", 64, &mut errors);
        if self
            .website
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty())
        {
            errors.push(FieldError::new("website", "leave this field empty").with_code("honeypot"));
        }
        if self.photos.len() > PHOTOS_MAX {
            errors.push(
                FieldError::new("photos", format!("at most {PHOTOS_MAX} photos"))
                    .with_code("too_many"),
            );
        }
        for (n, photo) in self.photos.iter().enumerate() {
            // A citizen's photo comes with the report; OneGrid fetches no links for citizens.
            if photo.data.as_deref().is_none_or(str::is_empty) || photo.url.is_some() {
                errors.push(
                    FieldError::new(&format!("photos[{n}]"), "a photo is base64 `data`")
                        .with_code("invalid"),
                );
            }
        }
        match point {
            Some(point) if errors.is_empty() => Ok(Report {
                category: category.to_owned(),
                description: description.to_owned(),
                point,
                crs_given: crs,
                address,
                contact_name,
                contact_phone,
                channel,
                asset_id,
                public: self.public.unwrap_or(false),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ReportInput {
        ReportInput {
            category: Some("landscape.greenway_sign".into()),
            description: Some("  The sign is broken  ".into()),
            lat: Some(24.48),
            lng: Some(118.1),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_report_is_trimmed_and_defaults_to_web_and_wgs84() {
        let r = good().validate().unwrap();
        assert_eq!(r.description, "The sign is broken");
        assert_eq!(r.channel, Channel::Web);
        assert_eq!(r.crs_given, Crs::Wgs84);
        assert_eq!(
            r.point,
            Wgs84Point {
                lat: 24.48,
                lng: 118.1
            }
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let input = ReportInput {
            lat: Some(91.0),
            contact_phone: Some("call me".into()),
            crs: Some("mars".into()),
            ..Default::default()
        };
        let fields: Vec<String> = input
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["category", "description", "crs", "lng", "contact_phone"]
        );
        let out_of_range = ReportInput {
            lat: Some(91.0),
            lng: Some(200.0),
            ..good()
        };
        let fields: Vec<String> = out_of_range
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["lat", "lng"]);
    }

    #[test]
    fn tracking_codes_are_forgiving_to_type() {
        let code = TrackingCode::random();
        assert_eq!(code.as_str().len(), 9);
        let typed = code.as_str().to_lowercase().replace('-', "");
        assert_eq!(TrackingCode::parse(&typed), Some(code));
        assert_eq!(
            TrackingCode::parse("ABCD-EF0O").unwrap().as_str(),
            "ABCD-EF00"
        );
        assert_eq!(TrackingCode::parse("ABCD-EFU0"), None);
    }
}
