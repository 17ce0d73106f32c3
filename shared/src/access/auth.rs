//! Who is calling. Two service tokens from Spin variables stand for the city operator
//! (`operator_token`) and the administrator (`admin_token`), for automation; staff accounts sign
//! in for session tokens (`sessions`). A wrong or missing token is a 401; a role a route does not
//! serve is a 403; a case outside the caller's scope is a 404, so that its existence is not told.

pub use super::principal::*;
use crate::crypto::same_secret;
use crate::{ApiRequest, Env, Problem};

/// A service token variable holds one token or several, comma-separated, each valid until the
/// time after its `;until=` (RFC 3339), or without end when it has none: a rotation puts the
/// new token first and gives the old one a short `until`, and both work meanwhile.
/// `operator_token = "9f…;until=2027-03-01T00:00:00Z,41…;until=2026-12-03T08:00:00Z"`.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenMatch {
    Valid,
    /// The token is one of the variable's, past its time.
    Expired(String),
    NoMatch,
}

/// Whether `given` is one of the tokens of a service token variable's `value` at `now_ms`.
pub fn service_token_match(value: &str, given: &str, now_ms: i64) -> TokenMatch {
    let mut found = TokenMatch::NoMatch;
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (token, until) = match entry.split_once(';') {
            Some((token, rest)) => (token.trim(), rest.trim().strip_prefix("until=")),
            None => (entry, None),
        };
        if token.is_empty() || !same_secret(given.as_bytes(), token.as_bytes()) {
            continue;
        }
        // A time that does not parse makes the token invalid rather than eternal.
        match until.map(|u| crate::time::parse(u.trim(), 0)) {
            None => return TokenMatch::Valid,
            Some(Some(end)) if now_ms < end => return TokenMatch::Valid,
            Some(_) => found = TokenMatch::Expired(until.unwrap_or_default().trim().to_owned()),
        }
    }
    found
}

async fn variable_matches<E: Env>(env: &E, name: &str, given: &str) -> Result<bool, Problem> {
    let Some(value) = env.variable(name).await? else {
        return Ok(false);
    };
    match service_token_match(&value, given, env.now_ms()) {
        TokenMatch::Valid => Ok(true),
        TokenMatch::NoMatch => Ok(false),
        TokenMatch::Expired(at) => Err(Problem::unauthorized(format!(
            "this service token expired at {at}; use the rotated one"
        ))),
    }
}

/// The principal behind the request's bearer token; 401 without a valid one.
pub async fn authenticate<E: Env>(env: &E, req: &ApiRequest) -> Result<Principal, Problem> {
    let Some(token) = req.bearer() else {
        return Err(Problem::unauthorized("send Authorization: Bearer <token>"));
    };
    if variable_matches(env, "operator_token", token).await? {
        return Ok(Principal::city_operator());
    }
    if variable_matches(env, "admin_token", token).await? {
        return Ok(Principal::admin());
    }
    crate::access::sessions::principal_of(env, token).await
}

/// Like [`authenticate`], and the principal must be one of `roles`; otherwise 403.
pub async fn require<E: Env>(
    env: &E,
    req: &ApiRequest,
    roles: &[StaffRole],
) -> Result<Principal, Problem> {
    let principal = authenticate(env, req).await?;
    if roles.contains(&principal.role) {
        Ok(principal)
    } else {
        Err(Problem::forbidden(format!(
            "the role {} may not use this route",
            principal.role.as_str()
        )))
    }
}

#[cfg(test)]
mod token_tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn a_service_token_is_valid_until_its_time_and_a_rotation_keeps_both_meanwhile() {
        let value = "new-token;until=2027-03-01T00:00:00Z, old-token;until=2027-01-15T08:00:00Z";
        let at = |t: &str| crate::time::parse(t, 0).unwrap();
        assert_eq!(
            service_token_match(value, "new-token", at("2027-01-15T07:00:00Z")),
            TokenMatch::Valid
        );
        assert_eq!(
            service_token_match(value, "old-token", at("2027-01-15T07:00:00Z")),
            TokenMatch::Valid
        );
        assert_eq!(
            service_token_match(value, "old-token", at("2027-01-15T08:00:00Z")),
            TokenMatch::Expired("2027-01-15T08:00:00Z".into())
        );
        assert_eq!(
            service_token_match(value, "other", NOW),
            TokenMatch::NoMatch
        );
        // A plain token has no end; a time that does not parse ends it.
        assert_eq!(
            service_token_match("plain", "plain", NOW),
            TokenMatch::Valid
        );
        assert!(matches!(
            service_token_match("t;until=soon", "t", NOW),
            TokenMatch::Expired(_)
        ));
        // Part of a token is no token.
        assert_eq!(service_token_match(value, "new", NOW), TokenMatch::NoMatch);
    }
}
