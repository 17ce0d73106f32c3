//! Standard Webhooks signatures (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, with `whsec_` secrets.
//! Used both ways: OneGrid signs what it sends to departments and verifies what they send back.
//! Verification compares in constant time and never says which part was wrong beyond the kind.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a webhook's timestamp may be from our clock (Standard Webhooks recommends 5 minutes).
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 5 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    MissingHeader(&'static str),
    BadTimestamp,
    StaleTimestamp,
    BadSecret,
    NoMatchingSignature,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::MissingHeader(h) => write!(f, "header {h} is missing"),
            VerifyError::BadTimestamp => {
                f.write_str("webhook-timestamp is not a number of seconds")
            }
            VerifyError::StaleTimestamp => f.write_str("webhook-timestamp is too far from now"),
            VerifyError::BadSecret => {
                f.write_str("the signing secret is not a valid whsec_ secret")
            }
            VerifyError::NoMatchingSignature => f.write_str("no v1 signature matches"),
        }
    }
}

/// The key bytes of a `whsec_<base64>` secret (the prefix is optional, as in the reference libraries).
pub fn secret_key(secret: &str) -> Result<Vec<u8>, VerifyError> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    match STANDARD.decode(encoded) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(VerifyError::BadSecret),
    }
}

/// A new random secret in the `whsec_` form (24 random bytes, like the reference libraries).
pub fn new_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("whsec_{}", STANDARD.encode(bytes))
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` value (`v1,<base64>`) for a message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = secret_key(secret).map_err(|e| e.to_string())?;
    let tag = mac(&key, id, timestamp, body).finalize().into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// Checks the three headers against any of `secrets` (several during a secret rotation).
/// `now_seconds` is our clock; the timestamp must be within `tolerance_seconds` of it.
pub fn verify(
    secrets: &[&str],
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_seconds: i64,
    tolerance_seconds: i64,
) -> Result<(), VerifyError> {
    let id = id.ok_or(VerifyError::MissingHeader("webhook-id"))?;
    let timestamp = timestamp.ok_or(VerifyError::MissingHeader("webhook-timestamp"))?;
    let signature = signature.ok_or(VerifyError::MissingHeader("webhook-signature"))?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    // abs_diff: a timestamp near i64::MIN or MAX must not overflow (a panic with overflow
    // checks, and without them a wrapped negative difference that passed as fresh).
    if now_seconds.abs_diff(ts) > tolerance_seconds.unsigned_abs() {
        return Err(VerifyError::StaleTimestamp);
    }
    // The header is a space-separated list of `version,signature`; only v1 is defined.
    let candidates: Vec<Vec<u8>> = signature
        .split_whitespace()
        .filter_map(|part| part.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    for secret in secrets {
        let Ok(key) = secret_key(secret) else {
            continue;
        };
        for candidate in &candidates {
            if mac(&key, id, ts, body).verify_slice(candidate).is_ok() {
                return Ok(());
            }
        }
    }
    Err(VerifyError::NoMatchingSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The published test vector of the Standard Webhooks specification (its reference libraries'
    // test suites use the same message).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signing_matches_the_published_test_vector() {
        assert_eq!(sign(SECRET, ID, TIMESTAMP, BODY).unwrap(), EXPECTED);
    }

    #[test]
    fn a_good_signature_verifies_among_several_and_with_a_rotated_secret() {
        let header = format!("v1,bm90IGl0 {EXPECTED}");
        let other = new_secret();
        assert_eq!(
            verify(
                &[&other, SECRET],
                Some(ID),
                Some("1614265330"),
                Some(&header),
                BODY,
                TIMESTAMP + 10,
                300
            ),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_or_wrong_secret_fails() {
        let ts = Some("1614265330");
        assert_eq!(
            verify(
                &[SECRET],
                Some(ID),
                ts,
                Some(EXPECTED),
                b"{}",
                TIMESTAMP,
                300
            ),
            Err(VerifyError::NoMatchingSignature)
        );
        let other = new_secret();
        assert_eq!(
            verify(
                &[&other],
                Some(ID),
                ts,
                Some(EXPECTED),
                BODY,
                TIMESTAMP,
                300
            ),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn timestamps_outside_the_window_or_missing_headers_fail() {
        assert_eq!(
            verify(
                &[SECRET],
                Some(ID),
                Some("1614265330"),
                Some(EXPECTED),
                BODY,
                TIMESTAMP + 301,
                300
            ),
            Err(VerifyError::StaleTimestamp)
        );
        assert_eq!(
            verify(
                &[SECRET],
                Some(ID),
                Some("soon"),
                Some(EXPECTED),
                BODY,
                TIMESTAMP,
                300
            ),
            Err(VerifyError::BadTimestamp)
        );
        assert_eq!(
            verify(
                &[SECRET],
                None,
                Some("1"),
                Some(EXPECTED),
                BODY,
                TIMESTAMP,
                300
            ),
            Err(VerifyError::MissingHeader("webhook-id"))
        );
    }

    #[test]
    fn extreme_timestamps_are_stale_not_a_panic() {
        // Found while fuzzing (fuzz/fuzz_targets/webhook_verify.rs): `now - ts` overflowed.
        for ts in [
            "-9223372036854775808",
            "9223372036854775807",
            "-9223372036854775807",
        ] {
            assert_eq!(
                verify(
                    &[SECRET],
                    Some(ID),
                    Some(ts),
                    Some(EXPECTED),
                    BODY,
                    TIMESTAMP,
                    300
                ),
                Err(VerifyError::StaleTimestamp),
                "{ts}"
            );
        }
    }
}
