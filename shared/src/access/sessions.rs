//! Staff session tokens: `ogs1.<claims>.<signature>`, the claims (account, role, session epoch,
//! issue and expiry times, a random token id) in base64url JSON, signed with HMAC-SHA256 by the
//! first key of the Spin variable `session_keys` and accepted under any of them, so a key is
//! rotated by putting a new one first and dropping the old one 8 hours later.
//!
//! Checking a token needs no SQL until it is known to be genuine, current and not signed out
//! (one key-value read, `session_revoked_<token id>`); then the account is read by its primary
//! key, so that a disable, a password reset or a change of role or scope takes effect at once
//! rather than when the token expires. (The scope is not in the token for that reason; the read
//! costs one indexed lookup on routes that run SQL anyway.) A token never appears in a log.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::access::principal::Principal;
use crate::{Env, KeyValue, Platform, Problem, StoreError};

/// How long a session lasts: one working shift.
pub const SESSION_MS: i64 = 8 * 3_600_000;
pub const TOKEN_PREFIX: &str = "ogs1.";
/// A signing key must carry at least 256 bits; the native host generates 32 random bytes as hex.
pub const MIN_KEY_BYTES: usize = 32;
/// Longer than any token we issue; anything longer is refused before decoding.
const MAX_TOKEN_LEN: usize = 1024;
const REVOKED_PREFIX: &str = "session_revoked_";

type HmacSha256 = Hmac<Sha256>;

/// What a session token says, signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// The account id.
    pub sub: String,
    /// The role at sign-in (informational: the account's current role is what counts).
    pub role: String,
    /// The account's session epoch at sign-in; a password reset or a disable moves it on.
    pub ep: i64,
    /// Issued and expires, Unix milliseconds.
    pub iat: i64,
    pub exp: i64,
    /// The token id: 128 random bits as hex, the key of its revocation record.
    pub jti: String,
}

/// Whether a bearer token has the shape of a session token (rather than a service token).
pub fn is_session_token(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX)
}

/// The keys of `session_keys`, the signing one first. Keys shorter than [`MIN_KEY_BYTES`]
/// are ignored; an empty list means sessions are not configured.
pub async fn keys<P: Platform>(env: &P) -> Result<Vec<Vec<u8>>, StoreError> {
    Ok(env
        .variable("session_keys")
        .await?
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|k| k.len() >= MIN_KEY_BYTES)
        .map(|k| k.as_bytes().to_vec())
        .collect())
}

fn mac(key: &[u8], signed_part: &str) -> HmacSha256 {
    // HMAC takes a key of any length.
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(signed_part.as_bytes());
    mac
}

/// The token for `claims`, signed with `key`.
pub fn sign(key: &[u8], claims: &Claims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signed_part = format!("{TOKEN_PREFIX}{payload}");
    let signature = URL_SAFE_NO_PAD.encode(mac(key, &signed_part).finalize().into_bytes());
    format!("{signed_part}.{signature}")
}

/// Why a token is not accepted; each is a 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    Malformed,
    BadSignature,
    Expired,
    Revoked,
    /// The account is gone or disabled, or its sessions were ended after this one began.
    Ended,
}

impl From<Invalid> for Problem {
    fn from(reason: Invalid) -> Problem {
        Problem::unauthorized(match reason {
            Invalid::Malformed | Invalid::BadSignature => "the bearer token is not valid",
            Invalid::Expired => "the session has expired; sign in again",
            Invalid::Revoked => "the session was signed out; sign in again",
            Invalid::Ended => "the session has ended; sign in again",
        })
    }
}

/// The claims of a genuine, unexpired token (the signature is checked in constant time against
/// each key). Revocation and the account are checked by [`session_of`].
pub fn verify(keys: &[Vec<u8>], token: &str, now_ms: i64) -> Result<Claims, Invalid> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Invalid::Malformed);
    }
    let (signed_part, signature) = token.rsplit_once('.').ok_or(Invalid::Malformed)?;
    let payload = signed_part
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(Invalid::Malformed)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| Invalid::Malformed)?;
    if !keys
        .iter()
        .any(|key| mac(key, signed_part).verify_slice(&signature).is_ok())
    {
        return Err(Invalid::BadSignature);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Invalid::Malformed)?;
    let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| Invalid::Malformed)?;
    if claims.jti.len() != 32 || !claims.jti.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Invalid::Malformed);
    }
    if now_ms >= claims.exp {
        return Err(Invalid::Expired);
    }
    Ok(claims)
}

/// A new session for an account: the token and its claims. 503 when `session_keys` is unset.
pub async fn issue<E: Env>(
    env: &E,
    account: &crate::access::accounts::Account,
    now: i64,
) -> Result<(String, Claims), Problem> {
    let keys = keys(env).await?;
    let Some(key) = keys.first() else {
        return Err(Problem::not_configured(
            "session_keys (at least one key of 32 or more characters)",
        ));
    };
    let jti: String = crate::crypto::random_hex(16);
    let claims = Claims {
        sub: account.id.clone(),
        role: account.role.as_str().to_owned(),
        ep: account.session_epoch,
        iat: now,
        exp: now + SESSION_MS,
        jti,
    };
    Ok((sign(key, &claims), claims))
}

/// A revocation record: the token's expiry, after which the record means nothing.
#[derive(Serialize, Deserialize)]
struct Revoked {
    until: i64,
}

async fn is_revoked<K: KeyValue>(kv: &K, jti: &str, now: i64) -> Result<bool, StoreError> {
    let Some(bytes) = kv.get(&format!("{REVOKED_PREFIX}{jti}")).await? else {
        return Ok(false);
    };
    // An unreadable record is treated as a revocation: failing closed costs a sign-in.
    Ok(serde_json::from_slice::<Revoked>(&bytes).map_or(true, |r| r.until > now))
}

/// The principal and claims of a session token, or 401.
pub async fn session_of<E: Env>(env: &E, token: &str) -> Result<(Principal, Claims), Problem> {
    let now = env.now_ms();
    let claims = verify(&keys(env).await?, token, now)?;
    if is_revoked(env, &claims.jti, now).await? {
        return Err(Invalid::Revoked.into());
    }
    let account = crate::access::accounts::by_id(env, &claims.sub).await?;
    let Some(account) = account.filter(|a| !a.disabled && a.session_epoch == claims.ep) else {
        return Err(Invalid::Ended.into());
    };
    Ok((
        crate::access::accounts::principal(env, &account).await?,
        claims,
    ))
}

/// The principal of a session token, or 401.
pub async fn principal_of<E: Env>(env: &E, token: &str) -> Result<Principal, Problem> {
    if !is_session_token(token) {
        return Err(Invalid::Malformed.into());
    }
    Ok(session_of(env, token).await?.0)
}

/// Signs a session out: its id is recorded as revoked in the key-value store until it expires
/// (checked by one read), and in SQL so that the sweep can delete the record afterwards.
pub async fn revoke<E: Env>(env: &E, claims: &Claims) -> Result<(), Problem> {
    let record = serde_json::to_vec(&Revoked { until: claims.exp }).unwrap_or_default();
    env.set(&format!("{REVOKED_PREFIX}{}", claims.jti), &record)
        .await?;
    env.execute(
        "INSERT INTO session_revocations (token_id, account_id, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        &[claims.jti.as_str().into(), claims.sub.as_str().into(), claims.exp.into()],
    )
    .await?;
    Ok(())
}

/// Deletes the revocation records of tokens that have expired anyway (at most `batch`).
pub async fn sweep_revocations<E: Env>(env: &E, now: i64, batch: i64) -> Result<u32, Problem> {
    let rows = env
        .execute(
            "SELECT token_id FROM session_revocations WHERE expires_at <= ? ORDER BY expires_at LIMIT ?",
            &[now.into(), batch.into()],
        )
        .await?;
    let mut removed = 0;
    for row in rows.iter() {
        let id = row.text("token_id")?;
        env.delete(&format!("{REVOKED_PREFIX}{id}")).await?;
        env.execute(
            "DELETE FROM session_revocations WHERE token_id = ?",
            &[id.as_str().into()],
        )
        .await?;
        removed += 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &[u8] = b"0123456789abcdef0123456789abcdef";
    const KEY_B: &[u8] = b"fedcba9876543210fedcba9876543210";

    fn claims() -> Claims {
        Claims {
            sub: "01J".into(),
            role: "grid_worker".into(),
            ep: 0,
            iat: 1_000,
            exp: 1_000 + SESSION_MS,
            jti: "ab".repeat(16),
        }
    }

    #[test]
    fn a_token_verifies_under_any_listed_key_until_it_expires() {
        let token = sign(KEY_A, &claims());
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(verify(&[KEY_A.to_vec()], &token, 2_000), Ok(claims()));
        assert_eq!(
            verify(&[KEY_B.to_vec(), KEY_A.to_vec()], &token, 2_000),
            Ok(claims()),
            "rotation: the old key still verifies"
        );
        assert_eq!(
            verify(&[KEY_B.to_vec()], &token, 2_000),
            Err(Invalid::BadSignature),
            "a dropped key no longer does"
        );
        assert_eq!(
            verify(&[KEY_A.to_vec()], &token, 1_000 + SESSION_MS),
            Err(Invalid::Expired)
        );
    }

    #[test]
    fn a_changed_claim_or_a_mangled_token_is_refused() {
        let token = sign(KEY_A, &claims());
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let mut raised = claims();
        raised.role = "admin".into();
        let forged_payload = sign(KEY_B, &raised);
        let forged = format!("{}.{signature}", forged_payload.rsplit_once('.').unwrap().0);
        assert_eq!(
            verify(&[KEY_A.to_vec()], &forged, 2_000),
            Err(Invalid::BadSignature)
        );
        for bad in [
            "",
            "ogs1.",
            "ogs1..",
            "x.y.z",
            &format!("{signed}.!!"),
            signed,
            &"a".repeat(5000),
        ] {
            assert!(verify(&[KEY_A.to_vec()], bad, 2_000).is_err(), "{bad}");
        }
        assert_eq!(
            verify(&[], &token, 2_000),
            Err(Invalid::BadSignature),
            "no keys: nothing verifies"
        );
    }
}
