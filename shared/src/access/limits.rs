//! Rate limits of the public routes, per client address and per tracking code, counted in the
//! key-value store in one-minute windows. They brake scripts and floods; they are not exact
//! quotas, and they must never lock out a city's residents behind one carrier-grade NAT, hence
//! the generous numbers.
//!
//! The store has no atomic increment, so a count is read and written back: two requests of the
//! same subject that read the same count both pass and write the same next count (a lost
//! update). How far that stretches a limit is bounded all the same:
//! - without overlapping requests the count is exact, and a window holds one minute only, so a
//!   subject gets at most 2 x the limit in any 60 s (the end of one window and the start of the
//!   next), and the limit itself over any longer run;
//! - a lost update needs two requests of one subject inside one read-write gap (two adjacent
//!   store calls, about a millisecond), so every request let through beyond that is one that
//!   overlapped another: at most one extra per overlapping request. Overlap needs concurrency
//!   (the native host answers with 8 workers), and whatever it let through is forgotten with
//!   its window, never carried over.
//!
//! Storage is bounded without a TTL or a listing: a subject (the hash of an address or a code)
//! is kept in one of `SLOTS` keys per limit; a different subject in the same slot starts its own
//! count there. Two busy subjects in one slot reset each other's counts now and then, which only
//! ever errs towards letting a request through. No address is stored, only its hash.
//!
//! API keys get a token bucket instead ([`take_token`]): keys are few and known, so each has its
//! own store key, and a bucket refills continuously, with no window edge to double a burst.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ApiRequest, Env, Problem};

/// The header the adapters fill with the client's address (`ip:port`): Spin sets it itself;
/// the native host puts the peer address there, replacing any the client sent.
pub const CLIENT_ADDR_HEADER: &str = "spin-client-addr";

/// Keys per limit: 2^14, about 1 MB of the store per limit at most.
const SLOTS: u64 = 16_384;
const WINDOW_MS: i64 = 60_000;

/// One limit: its short name (part of the store key) and how many requests a minute it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub name: &'static str,
    pub per_minute: u32,
}

/// New reports per client: a resident reports a few things at most; a street of residents
/// behind one NAT address a few more.
pub const REPORTS_PER_CLIENT: Limit = Limit {
    name: "rep",
    per_minute: 20,
};
/// The tracking page per client and per code: a page reload every second still passes.
pub const TRACK_PER_CLIENT: Limit = Limit {
    name: "trk",
    per_minute: 120,
};
pub const TRACK_PER_CODE: Limit = Limit {
    name: "trc",
    per_minute: 60,
};
/// Ratings: one per case is all that is ever accepted; the rest are guesses at the secret.
pub const RATING_PER_CLIENT: Limit = Limit {
    name: "rat",
    per_minute: 10,
};
pub const RATING_PER_CODE: Limit = Limit {
    name: "rac",
    per_minute: 5,
};
/// Grid lookups per client: the report form looks up as the pin moves.
pub const LOOKUP_PER_CLIENT: Limit = Limit {
    name: "lkp",
    per_minute: 120,
};
/// Sign-in attempts per client, beside the per-account lock-out: password spraying.
pub const SIGN_IN_PER_CLIENT: Limit = Limit {
    name: "sgn",
    per_minute: 20,
};

/// The client's address as a limit subject: the last `spin-client-addr` value (a client may
/// send its own; the adapter's comes last), without the port; an IPv6 address by its /64,
/// which one household or phone usually holds whole. `None` when the adapter gave none.
pub fn client_key(req: &ApiRequest) -> Option<String> {
    let raw = req
        .headers
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(CLIENT_ADDR_HEADER))
        .map(|(_, v)| v.trim())?;
    if let Ok(addr) = raw.parse::<std::net::SocketAddr>() {
        return Some(match addr.ip() {
            std::net::IpAddr::V4(ip) => ip.to_string(),
            std::net::IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = ip.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        });
    }
    Some(raw.chars().take(64).collect())
}

#[derive(Serialize, Deserialize)]
struct Bucket {
    /// The subject's hash (a slot may hold another subject's count).
    h: String,
    /// The window: Unix minutes.
    w: i64,
    n: u32,
}

fn subject_hash(limit: &Limit, subject: &str) -> (u64, String) {
    let digest = Sha256::digest(format!("{}:{subject}", limit.name).as_bytes());
    let slot = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default()) % SLOTS;
    let hash = digest[8..20].iter().map(|b| format!("{b:02x}")).collect();
    (slot, hash)
}

/// Whether limits are on: the Spin variable `rate_limits` is anything but `off` (a load test
/// on loopback sets it to `off`; a deployment never should).
async fn enabled<E: Env>(env: &E) -> Result<bool, Problem> {
    Ok(env
        .variable("rate_limits")
        .await?
        .is_none_or(|v| !v.trim().eq_ignore_ascii_case("off")))
}

/// Counts one request of `subject` against `limit`; 429 with `Retry-After` (the seconds left in
/// the minute) once the minute's allowance is spent.
pub async fn check<E: Env>(env: &E, limit: Limit, subject: &str) -> Result<(), Problem> {
    if !enabled(env).await? {
        return Ok(());
    }
    let now = env.now_ms();
    let window = now.div_euclid(WINDOW_MS);
    let (slot, hash) = subject_hash(&limit, subject);
    let key = format!("rl_{}_{slot:04x}", limit.name);
    let count = match env.get(&key).await? {
        Some(bytes) => serde_json::from_slice::<Bucket>(&bytes)
            .ok()
            .filter(|b| b.w == window && b.h == hash)
            .map_or(0, |b| b.n),
        None => 0,
    };
    if count >= limit.per_minute {
        let retry = (WINDOW_MS - now.rem_euclid(WINDOW_MS) + 999) / 1000;
        let mut problem = Problem::rate_limited(retry.max(1) as u64);
        problem.detail = format!(
            "at most {} of these a minute; retry after {retry} s",
            limit.per_minute
        );
        return Err(problem);
    }
    let bucket = Bucket {
        h: hash,
        w: window,
        n: count + 1,
    };
    env.set(&key, &serde_json::to_vec(&bucket).unwrap_or_default())
        .await?;
    Ok(())
}

/// A token bucket as stored: the tokens left and when that was.
#[derive(Debug, Serialize, Deserialize)]
struct TokenBucket {
    tokens: f64,
    at: i64,
}

/// Takes one token from the bucket of `subject` (an API key's id): it holds at most
/// `per_minute` tokens (the burst) and refills at `per_minute` a minute. An empty bucket is a
/// 429 with `Retry-After` (the seconds until the next token).
///
/// Without an atomic increment, two requests of one key that read the bucket in the same
/// read-write gap both take "the same" token: each overlapping request can get through once
/// beyond the bucket, so a burst is bounded by the bucket plus the key's concurrency at that
/// moment, and the rate over any longer run stays the refill rate.
pub async fn take_token<E: Env>(
    env: &E,
    name: &str,
    subject: &str,
    per_minute: u32,
) -> Result<(), Problem> {
    if !enabled(env).await? || per_minute == 0 {
        return Ok(());
    }
    let now = env.now_ms();
    let capacity = f64::from(per_minute);
    let per_ms = capacity / WINDOW_MS as f64;
    let key = format!("tb_{name}_{subject}");
    let stored = env
        .get(&key)
        .await?
        .and_then(|b| serde_json::from_slice::<TokenBucket>(&b).ok());
    let tokens = match stored {
        Some(b) => (b.tokens + (now - b.at).max(0) as f64 * per_ms).min(capacity),
        None => capacity,
    };
    if tokens < 1.0 {
        let retry = ((1.0 - tokens) / per_ms / 1000.0).ceil().max(1.0) as u64;
        let mut problem = Problem::rate_limited(retry);
        problem.detail =
            format!("at most {per_minute} a minute for this key; retry after {retry} s");
        return Err(problem);
    }
    let bucket = TokenBucket {
        tokens: tokens - 1.0,
        at: now,
    };
    env.set(&key, &serde_json::to_vec(&bucket).unwrap_or_default())
        .await?;
    Ok(())
}

/// Counts one request of the calling client; nothing when the adapter gave no address.
pub async fn check_client<E: Env>(env: &E, req: &ApiRequest, limit: Limit) -> Result<(), Problem> {
    match client_key(req) {
        Some(client) => check(env, limit, &client).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::testenv::TestEnv;
    use futures::executor::block_on;

    fn from(addr: &str) -> ApiRequest {
        let mut req = ApiRequest::new("GET", "/api/reports/ABCD-EFGH");
        req.headers.push((CLIENT_ADDR_HEADER.into(), addr.into()));
        req
    }

    #[test]
    fn client_addresses_are_read_from_the_adapters_header() {
        assert_eq!(
            client_key(&from("203.0.113.7:50123")).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            client_key(&from("[2001:db8:1:2:3:4:5:6]:443")).as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(
            client_key(&from("[::ffff:198.51.100.1]:80")).as_deref(),
            Some("198.51.100.1")
        );
        let mut spoofed = from("10.0.0.1:1");
        spoofed
            .headers
            .push((CLIENT_ADDR_HEADER.into(), "203.0.113.9:2".into()));
        assert_eq!(
            client_key(&spoofed).as_deref(),
            Some("203.0.113.9"),
            "the adapter's value comes last"
        );
        assert_eq!(client_key(&ApiRequest::new("GET", "/")), None);
    }

    #[test]
    fn a_client_gets_its_allowance_per_minute_then_429_with_retry_after() {
        let env = TestEnv::new();
        env.now
            .set(1_700_000_000_000 - 1_700_000_000_000 % 60_000 + 15_000); // 15 s into a minute
        let limit = Limit {
            name: "t",
            per_minute: 3,
        };
        for _ in 0..3 {
            block_on(check(&env, limit, "203.0.113.7")).unwrap();
        }
        let refused = block_on(check(&env, limit, "203.0.113.7")).unwrap_err();
        assert_eq!(
            (refused.status, refused.retry_after_seconds),
            (429, Some(45))
        );
        let response = refused.into_response();
        assert_eq!(response.header("retry-after"), Some("45"));
        block_on(check(&env, limit, "203.0.113.8")).expect("another client has its own allowance");
        env.now.set(env.now.get() + 45_000);
        block_on(check(&env, limit, "203.0.113.7")).expect("a new minute, a new allowance");
    }

    #[test]
    fn a_key_bucket_allows_its_burst_then_refills_at_its_rate() {
        let env = TestEnv::new();
        for _ in 0..6 {
            assert!(block_on(take_token(&env, "key", "k1", 6)).is_ok());
        }
        let refused = block_on(take_token(&env, "key", "k1", 6)).unwrap_err();
        assert_eq!(
            (refused.status, refused.retry_after_seconds),
            (429, Some(10))
        );
        assert!(
            block_on(take_token(&env, "key", "k2", 6)).is_ok(),
            "another key has its own bucket"
        );
        env.now.set(env.now.get() + 10_000); // one token back after 10 s at 6 a minute
        assert!(block_on(take_token(&env, "key", "k1", 6)).is_ok());
        assert!(block_on(take_token(&env, "key", "k1", 6)).is_err());
    }

    #[test]
    fn limits_can_be_switched_off_for_a_load_test() {
        let mut env = TestEnv::new();
        env.variables.insert("rate_limits".into(), "off".into());
        let limit = Limit {
            name: "t",
            per_minute: 1,
        };
        for _ in 0..5 {
            block_on(check(&env, limit, "x")).unwrap();
        }
        assert!(env.kv.keys().unwrap().is_empty());
    }
}
