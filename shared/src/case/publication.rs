//! The publication rule: what a public answer may show of a case (docs/publication.md). One
//! place decides it, so that every public route (the Open311 lists and single requests, their
//! updates, the public photos, "problems near here") shows the same and no more:
//! - only cases whose reporter chose publication at reporting time, from a channel that can ask
//!   them (the web form, a QR sign, a grid worker's patrol, an Open311 client, which publishes
//!   its reports itself); never a hotline or platform case, never a dispute, never one an
//!   operator withdrew;
//! - under their public id, never the tracking code (the reporter's capability);
//! - the place rounded to a grid of [`ROUND_DEGREES`], no address (what people type there is
//!   their home or their name);
//! - the description masked with the strict public masker; no note a member of staff wrote;
//! - only the photos staff approved for the public.

use crate::case::report::Channel;

/// Public points are rounded to 0.002° (about 220 m north–south, 200 m east–west in Xiamen):
/// enough to see the street, too coarse to find the door of whoever reported.
pub const ROUND_DEGREES: f64 = 0.002;

/// The SQL condition of a public case, on `cases c` joined with `categories k`.
pub const PUBLIC_CASES: &str = "c.public = 1 AND c.public_id IS NOT NULL AND k.kind != 'dispute'";

/// The case id of the public case known by `public_id`; none for any other id (a tracking
/// code, a private or withdrawn case, a dispute), which public routes cannot tell apart.
pub async fn public_case_id<D: crate::Database>(
    db: &D,
    public_id: &str,
) -> Result<Option<String>, crate::StoreError> {
    let Some(public_id) = crate::case::report::PublicId::parse(public_id) else {
        return Ok(None);
    };
    let rows = db
        .execute(
            &format!(
                "SELECT c.id FROM cases c JOIN categories k ON k.code = c.category \
                 WHERE {PUBLIC_CASES} AND c.public_id = ?"
            ),
            &[public_id.as_str().into()],
        )
        .await?;
    rows.first().map(|r| r.text("id")).transpose()
}

/// Whether a report from this channel, in a category of this kind, may be published when its
/// reporter asks for it. Hotline and platform cases never are: their callers were not asked.
pub fn may_publish(channel: Channel, category_kind: &str) -> bool {
    category_kind != "dispute"
        && match channel {
            Channel::Web | Channel::Qr | Channel::Patrol | Channel::Open311 => true,
            Channel::Hotline
            | Channel::Platform
            | Channel::Console
            | Channel::Webhook
            | Channel::System => false,
        }
}

/// A coordinate as public answers give it: snapped to the centre of its [`ROUND_DEGREES`] square.
pub fn rounded(degrees: f64) -> f64 {
    let snapped = ((degrees / ROUND_DEGREES).floor() + 0.5) * ROUND_DEGREES;
    // Six decimals: no float noise (24.481000000000002) on the wire.
    (snapped * 1e6).round() / 1e6
}

/// A free text as a public answer shows it: phone, ID and card numbers, e-mail addresses and
/// names in it masked (`mask::mask_free_text`, which masks generously).
pub fn public_text(text: &str) -> String {
    crate::mask::mask_free_text(text)
}

/// Where public answers serve a photo staff approved.
pub fn photo_path(public_id: &str, photo_id: &str) -> String {
    format!("/api/public/reports/{public_id}/photos/{photo_id}")
}

/// What a public answer says of a status, in words, instead of any note staff wrote.
pub fn status_words(status: crate::case::Status, english: bool) -> &'static str {
    use crate::case::Status::*;
    match (status, english) {
        (Collected, false) => "已收到，待受理",
        (Collected, true) => "Received, waiting to be accepted",
        (Accepted, false) => "已受理",
        (Accepted, true) => "Accepted",
        (Dispatched, false) => "已派遣至责任单位",
        (Dispatched, true) => "Sent to the responsible unit",
        (Returned, false) => "退回重新派遣",
        (Returned, true) => "Returned for another dispatch",
        (SignedFor, false) => "责任单位已签收",
        (SignedFor, true) => "Taken on by the responsible unit",
        (InProgress | ExtensionRequested, false) => "处置中",
        (InProgress | ExtensionRequested, true) => "Being dealt with",
        (Handled, false) => "已处置，待核查",
        (Handled, true) => "Dealt with, being checked",
        (Verified, false) => "核查通过",
        (Verified, true) => "Checked",
        (Closed, false) => "已办结",
        (Evaluated, false) => "已办结并评价",
        (Closed | Evaluated, true) => "Closed",
        (Rejected, false) => "不属于受理范围",
        (Rejected, true) => "Not for this service",
        (Merged, false) => "与已有问题合并处理",
        (Merged, true) => "Handled with an earlier report of the same problem",
        (Rework, false) => "核查未通过，重新处置",
        (Rework, true) => "Being dealt with again",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_is_snapped_to_the_centre_of_its_square() {
        assert_eq!(rounded(24.4812345), 24.481);
        assert_eq!(rounded(24.4809999), 24.481);
        assert_eq!(rounded(118.0891), 118.089);
        assert_eq!(rounded(-0.0001), -0.001);
        // Two reporters at the same door and 150 m apart look alike.
        assert_eq!(rounded(24.48015), rounded(24.48145));
    }

    #[test]
    fn hotline_platform_and_dispute_cases_are_never_published() {
        assert!(may_publish(Channel::Web, "component"));
        assert!(may_publish(Channel::Open311, "event"));
        assert!(!may_publish(Channel::Hotline, "event"));
        assert!(!may_publish(Channel::Platform, "component"));
        assert!(!may_publish(Channel::Web, "dispute"));
    }
}
