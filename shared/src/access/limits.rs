//! Rate limits of the public routes, per client address, in one-minute windows. They brake
//! scripts and floods; they must never lock out a city's residents behind one carrier-grade
//! NAT, hence the generous numbers on what a page needs, and low ones only on what is heavy
//! (a whole district's GeoJSON, a sheet of QR signs, the Open311 lists).
//!
//! A limit holds under concurrency: each request is counted by one SQL statement in the system
//! of record, an upsert that adds one to the subject's count of the window only while it is
//! below the limit and returns the new count (`INSERT … ON CONFLICT DO UPDATE … WHERE count < ?
//! RETURNING count`). SQLite runs a statement under the database's write lock, so however many
//! requests of one subject arrive at once, exactly `per_minute` of them get a row back and the
//! rest get none (refused, and counted no further). The key-value store has no increment, which
//! is why the counts are not there: a read-modify-write let 31 of a burst of 40 reports at once
//! through a limit of 20 (`tests/tests/limits.rs`; this count lets exactly 20 through). A window is one minute of the clock, so across a window's edge a subject
//! gets at most 2 x the limit in 60 s, and the limit itself over any longer run.
//!
//! The cost is one write statement per limited request (a commit of the app database), also on
//! the grid lookup, which runs no other SQL and is the hot path of the report form. Measured on
//! the native host's debug build, 3 x 1,000 sequential lookups from ten addresses each
//! (a Python client over keep-alive, on a shared 2-core machine): mean 1.0 ms with limits
//! off, 2.4 ms with the key-value count this replaced, 2.8 ms with this one; about 0.4 ms more
//! per lookup than before, 1.8 ms in all. The lookup keeps it: the form sends a lookup as the
//! pin moves, a few a minute per resident, where 2 ms is far below the network's share, and a
//! cheaper count (the key-value store's) is the one a burst could pass. A deployment whose disk
//! makes the commit dear can raise `LOOKUP_PER_CLIENT`, not drop it.
//!
//! Subjects are hashed with HMAC-SHA256 under a key derived from the first `session_keys` key
//! (the secret every limited component already has), and the whole hash is the row's key: no
//! two subjects share a count (a slot scheme let two colliding addresses reset each other),
//! and a copy of the table does not tell which address it counted (the IPv4 space is small
//! enough to hash whole, but not without the key). A key rotation starts every count afresh,
//! once. Without `session_keys` (a test, a component without sessions) a fixed key is used:
//! counts stay separate, only the addresses are then recoverable from the table.
//!
//! Old windows are deleted by the sweep ([`sweep`]), a batch at a time by the range of the
//! primary key that the window leads.
//!
//! Tracking codes are no subject of their own: a count per code let anyone spend a reporter's
//! budget and lock them out of their own page. The tracking view and its photos count per
//! client only (a client guessing codes is counted all the same). Ratings keep a ceiling per
//! code, but only for wrong secrets ([`RATING_WRONG_PER_CODE`]): a guess takes a place before
//! the secret is checked and a right one gives it back ([`refund`]), so the ceiling holds
//! against guessers from many addresses at once, and the reporter's own rating never spends it.
//! While guessers hold it full, the reporter waits for the next minute, the one budget another
//! client can touch, and only by guessing at that one report.
//!
//! API keys get a token bucket instead ([`take_token`]): keys are few and known, so each has its
//! own store key, and a bucket refills continuously, with no window edge to double a burst.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::access::sessions;
use crate::{ApiRequest, Env, Problem};

/// The header the adapters fill with the client's address (`ip:port`): Spin sets it itself;
/// the native host puts the peer address there, replacing any the client sent.
pub const CLIENT_ADDR_HEADER: &str = "spin-client-addr";

const WINDOW_MS: i64 = 60_000;
/// Old windows deleted per statement of the sweep, and statements per sweep.
const SWEEP_BATCH: i64 = 10_000;
const SWEEP_ROUNDS: u32 = 10;

/// One limit: its short name (part of the row's key) and how many requests a minute it allows.
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
/// The tracking page and its photos per client: a page reload every second still passes.
pub const TRACK_PER_CLIENT: Limit = Limit {
    name: "trk",
    per_minute: 120,
};
/// Ratings: one per case is all that is ever accepted; the rest are guesses at the secret.
pub const RATING_PER_CLIENT: Limit = Limit {
    name: "rat",
    per_minute: 10,
};
/// Wrong secrets per report, from every client together (see the module comment).
pub const RATING_WRONG_PER_CODE: Limit = Limit {
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
/// The hierarchy (`/api/grids`, a cell's detail) and the public lists of the small routes
/// (categories, health, the OpenAPI document): what pages read a few times each.
pub const READS_PER_CLIENT: Limit = Limit {
    name: "red",
    per_minute: 120,
};
/// A cell's or an area's GeoJSON: a district's is megabytes. The report form draws one
/// community at a time; the dashboard one per district of the city, once a page load.
pub const GEOJSON_PER_CLIENT: Limit = Limit {
    name: "geo",
    per_minute: 30,
};
/// The workers on duty in a cell, as the report form shows them.
pub const WORKERS_PER_CLIENT: Limit = Limit {
    name: "wrk",
    per_minute: 60,
};
/// The asset registry's reads: the list, one asset, and `/q/` where a scan lands.
pub const ASSETS_PER_CLIENT: Limit = Limit {
    name: "ast",
    per_minute: 120,
};
/// One QR sign drawn (an SVG rendered per request).
pub const QR_PER_CLIENT: Limit = Limit {
    name: "qr",
    per_minute: 30,
};
/// A printable sheet of many QR signs: the heaviest drawing, printed rarely.
pub const SHEET_PER_CLIENT: Limit = Limit {
    name: "sht",
    per_minute: 5,
};
/// Open311's lists (requests, service request updates): up to 1,000 cases an answer. A client
/// that polls every few seconds still passes.
pub const OPEN311_LISTS_PER_CLIENT: Limit = Limit {
    name: "o3l",
    per_minute: 20,
};
/// The public list of reports near a place, one public report, its approved photos.
pub const PUBLIC_REPORTS_PER_CLIENT: Limit = Limit {
    name: "pub",
    per_minute: 120,
};
/// Open311's small reads: discovery, services, one request, a token.
pub const OPEN311_READS_PER_CLIENT: Limit = Limit {
    name: "o3r",
    per_minute: 120,
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

/// Whether limits are on: the Spin variable `rate_limits` is anything but `off` (a load test
/// on loopback sets it to `off`; a deployment never should).
pub async fn enabled<E: Env>(env: &E) -> Result<bool, Problem> {
    Ok(env
        .variable("rate_limits")
        .await?
        .is_none_or(|v| !v.trim().eq_ignore_ascii_case("off")))
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The key subjects are hashed with: derived from the signing session key, so that it is
/// secret wherever sessions are, and is not the session key itself.
async fn subject_key<E: Env>(env: &E) -> Result<Vec<u8>, Problem> {
    let keys = sessions::keys(env).await?;
    let base: &[u8] = keys
        .first()
        .map_or(b"onegrid rate limits without session keys", Vec::as_slice);
    Ok(hmac(base, b"onegrid rate-limit subjects v1"))
}

/// The subject's whole keyed hash, as hex: the limit's name is part of it, so the same address
/// is a different row in each limit.
fn subject_hash(key: &[u8], limit: &Limit, subject: &str) -> String {
    hmac(key, format!("{}\n{subject}", limit.name).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A request that was counted: where, so that [`refund`] can give its place back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    name: &'static str,
    minute: i64,
    subject_hash: String,
}

const COUNT: &str = "INSERT INTO rate_limits (minute, name, subject_hash, count) VALUES (?, ?, ?, 1) \
     ON CONFLICT (minute, name, subject_hash) DO UPDATE SET count = count + 1 WHERE count < ? \
     RETURNING count";

/// Counts one request of `subject` against `limit`; 429 with `Retry-After` (the seconds left in
/// the minute) once the minute's allowance is spent. The schema must be current (the api layer
/// calls `ready` first).
pub async fn check<E: Env>(env: &E, limit: Limit, subject: &str) -> Result<(), Problem> {
    count(env, limit, subject).await.map(|_| ())
}

/// As [`check`], and says where it counted (`None` when limits are off).
pub async fn count<E: Env>(
    env: &E,
    limit: Limit,
    subject: &str,
) -> Result<Option<Counted>, Problem> {
    if !enabled(env).await? {
        return Ok(None);
    }
    let now = env.now_ms();
    let minute = now.div_euclid(WINDOW_MS);
    let subject_hash = subject_hash(&subject_key(env).await?, &limit, subject);
    let counted = env
        .execute(
            COUNT,
            &[
                minute.into(),
                limit.name.into(),
                subject_hash.as_str().into(),
                i64::from(limit.per_minute).into(),
            ],
        )
        .await?;
    // A row back is a place taken; none means the count had reached the limit, and stays.
    if counted.first().is_none() || limit.per_minute == 0 {
        let retry = (WINDOW_MS - now.rem_euclid(WINDOW_MS) + 999) / 1000;
        let mut problem = Problem::rate_limited(retry.max(1) as u64);
        problem.detail = format!(
            "at most {} of these a minute; retry after {retry} s",
            limit.per_minute
        );
        return Err(problem);
    }
    Ok(Some(Counted {
        name: limit.name,
        minute,
        subject_hash,
    }))
}

/// Gives a counted request's place back (a rating with the right secret is no guess).
pub async fn refund<E: Env>(env: &E, counted: &Counted) -> Result<(), Problem> {
    env.execute(
        "UPDATE rate_limits SET count = count - 1 \
         WHERE minute = ? AND name = ? AND subject_hash = ? AND count > 0",
        &[
            counted.minute.into(),
            counted.name.into(),
            counted.subject_hash.as_str().into(),
        ],
    )
    .await?;
    Ok(())
}

/// Deletes the counts of windows before the current one, [`SWEEP_BATCH`] rows a statement and
/// at most [`SWEEP_ROUNDS`] statements a sweep; returns how many it deleted.
pub async fn sweep<E: Env>(env: &E, now: i64) -> Result<u32, Problem> {
    let current = now.div_euclid(WINDOW_MS);
    let mut removed = 0;
    for _ in 0..SWEEP_ROUNDS {
        let rows = env
            .execute(
                "DELETE FROM rate_limits WHERE (minute, name, subject_hash) IN \
                 (SELECT minute, name, subject_hash FROM rate_limits WHERE minute < ? LIMIT ?) \
                 RETURNING minute",
                &[current.into(), SWEEP_BATCH.into()],
            )
            .await?;
        let n = rows.iter().count();
        removed += n as u32;
        if (n as i64) < SWEEP_BATCH {
            break;
        }
    }
    Ok(removed)
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
    use crate::Database;
    use crate::native::testenv::TestEnv;
    use futures::executor::block_on;

    fn from(addr: &str) -> ApiRequest {
        let mut req = ApiRequest::new("GET", "/api/reports/ABCD-EFGH");
        req.headers.push((CLIENT_ADDR_HEADER.into(), addr.into()));
        req
    }

    /// A test env whose schema has the counts' table, at 15 s into a minute.
    fn env() -> TestEnv {
        let env = TestEnv::new();
        block_on(crate::app::schema::migrate(&env)).unwrap();
        env.now
            .set(1_700_000_000_000 - 1_700_000_000_000 % 60_000 + 15_000);
        env
    }

    fn stored(env: &TestEnv) -> Vec<(i64, String, String, i64)> {
        let rows = block_on(env.execute(
            "SELECT minute, name, subject_hash, count FROM rate_limits ORDER BY minute, name, subject_hash",
            &[],
        ))
        .unwrap();
        rows.iter()
            .map(|r| {
                (
                    r.i64("minute").unwrap(),
                    r.text("name").unwrap(),
                    r.text("subject_hash").unwrap(),
                    r.i64("count").unwrap(),
                )
            })
            .collect()
    }

    const LIMIT: Limit = Limit {
        name: "t",
        per_minute: 3,
    };

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
        let env = env();
        for _ in 0..3 {
            block_on(check(&env, LIMIT, "203.0.113.7")).unwrap();
        }
        let refused = block_on(check(&env, LIMIT, "203.0.113.7")).unwrap_err();
        assert_eq!(
            (refused.status, refused.retry_after_seconds),
            (429, Some(45))
        );
        let response = refused.into_response();
        assert_eq!(response.header("retry-after"), Some("45"));
        assert_eq!(
            stored(&env)[0].3,
            3,
            "a refused request is counted no further"
        );
        block_on(check(&env, LIMIT, "203.0.113.8")).expect("another client has its own allowance");
        env.now.set(env.now.get() + 45_000);
        block_on(check(&env, LIMIT, "203.0.113.7")).expect("a new minute, a new allowance");
    }

    #[test]
    fn no_two_subjects_share_a_count() {
        // 20,000 addresses (more than the 16,384 slots of the old scheme, so some pair would
        // have shared one) each spend their allowance of one: every first request passes and
        // every second one is refused, whatever the others did.
        let env = env();
        let one = Limit {
            name: "t",
            per_minute: 1,
        };
        let addresses: Vec<String> = (0..20_000u32)
            .map(|i| format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
            .collect();
        for a in &addresses {
            block_on(check(&env, one, a)).unwrap_or_else(|_| panic!("{a}'s first request"));
        }
        for a in addresses.iter().step_by(97) {
            assert_eq!(
                block_on(check(&env, one, a)).unwrap_err().status,
                429,
                "{a}"
            );
        }
        let rows = stored(&env);
        assert_eq!(rows.len(), addresses.len(), "one row per subject");
        assert!(rows.iter().all(|r| r.2.len() == 64), "the whole SHA-256");
    }

    #[test]
    fn subjects_are_hashed_with_a_key_derived_from_the_session_key() {
        let mut env = env();
        block_on(check(&env, LIMIT, "203.0.113.7")).unwrap();
        let unkeyed = {
            use sha2::Digest;
            let d = Sha256::digest(b"t\n203.0.113.7");
            d.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let without_key = stored(&env)[0].2.clone();
        assert_ne!(without_key, unkeyed, "not a plain hash of the address");
        assert!(!without_key.contains("203.0.113.7"));
        env.variables.insert(
            "session_keys".into(),
            "0123456789abcdef0123456789abcdef".into(),
        );
        block_on(check(&env, LIMIT, "203.0.113.7")).unwrap();
        let first = stored(&env)
            .into_iter()
            .find(|r| r.2 != without_key)
            .unwrap();
        env.variables.insert(
            "session_keys".into(),
            "fedcba9876543210fedcba9876543210,0123456789abcdef0123456789abcdef".into(),
        );
        block_on(check(&env, LIMIT, "203.0.113.7")).unwrap();
        let rows = stored(&env);
        assert_eq!(rows.len(), 3, "each key hashes the address differently");
        assert!(rows.iter().all(|r| r.3 == 1));
        assert_ne!(first.2, without_key);
    }

    #[test]
    fn a_refunded_place_can_be_taken_again() {
        let env = env();
        let counted: Vec<Counted> = (0..3)
            .map(|_| block_on(count(&env, LIMIT, "K7QM-4XPT")).unwrap().unwrap())
            .collect();
        assert!(block_on(check(&env, LIMIT, "K7QM-4XPT")).is_err());
        block_on(refund(&env, &counted[0])).unwrap();
        block_on(check(&env, LIMIT, "K7QM-4XPT")).expect("the place given back");
        assert!(block_on(check(&env, LIMIT, "K7QM-4XPT")).is_err());
    }

    #[test]
    fn the_sweep_deletes_past_windows_only() {
        let env = env();
        for i in 0..5 {
            block_on(check(&env, LIMIT, &format!("10.0.0.{i}"))).unwrap();
        }
        env.now.set(env.now.get() + 60_000);
        block_on(check(&env, LIMIT, "10.0.0.9")).unwrap();
        assert_eq!(block_on(sweep(&env, env.now.get())).unwrap(), 5);
        let rows = stored(&env);
        assert_eq!(rows.len(), 1, "the current window stays");
        assert_eq!(block_on(sweep(&env, env.now.get())).unwrap(), 0);
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
        let mut env = env();
        env.variables.insert("rate_limits".into(), "off".into());
        let one = Limit {
            name: "t",
            per_minute: 1,
        };
        for _ in 0..5 {
            block_on(check(&env, one, "x")).unwrap();
        }
        assert!(stored(&env).is_empty());
    }
}
