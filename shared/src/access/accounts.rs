//! Staff accounts: who may sign in, with which role, and over which part of the city. Passwords
//! are stored as argon2id hashes (PHC strings, so the parameters travel with each hash). Five
//! wrong passwords in a row from one address lock that username from that address for 15
//! minutes, doubling with each lock up to a day; the account's owner at another address still
//! signs in, and an administrator's `unlock` clears every lock of the account. Fifty in a row
//! from all addresses together lock the account itself (a guess spread over many addresses).
//! An unknown username is counted and locked alike, so the answers do not tell which exist.
//! Every count is a single UPDATE or UPSERT statement, so parallel guesses cannot slip past
//! it. A hash never leaves this module.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::access::principal::{Principal, StaffRole};
use crate::grid::code::{GridCode, Level};
use crate::http::problem::FieldError;
use crate::ports::Row;
use crate::time::rfc3339;
use crate::{Database, Problem, StoreError};

/// argon2id with 19 MiB, 2 passes, 1 lane: OWASP's recommended minimum for argon2id. Measured
/// on the 2-core dev machine (docs/design.md, "Access"): 25-45 ms a verification natively, and
/// 40-55 ms (66 ms for the first, cold) as a wasm32-wasip2 release build, so a sign-in stays
/// well under 300 ms on Spin; 19 MiB fits easily in one component instance.
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
pub const ARGON2_PASSES: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

/// Failed sign-ins in a row from one address that lock the username there, and for how long
/// the first time (each later lock of the pair lasts twice the one before, up to a day).
pub const MAX_FAILED_ATTEMPTS: i64 = 5;
pub const LOCK_MS: i64 = 15 * 60 * 1000;
pub const MAX_LOCK_MS: i64 = 24 * 60 * 60 * 1000;
/// Failed sign-ins in a row from every address together that lock the account itself.
pub const MAX_FAILED_ATTEMPTS_ANYWHERE: i64 = 50;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const DISPLAY_NAME_MAX: usize = 50;
/// NIST SP 800-63B asks for at least 8; staff accounts reach residents' data, so 10.
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 128;
/// A grid worker owns one or a few cells; more than this is a mistake in the roster.
pub const CELLS_MAX: usize = 64;

/// A hash of a password nobody knows, with the same parameters as real ones: an unknown
/// username is checked against it, so that it takes as long to refuse as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$WhOcdwLhS9CIP2GqDJUn/g$5LSqoubanTdgQ9MhhZLWXyFcbPZl8HgyRJck0dquBq4";

fn hasher() -> Argon2<'static> {
    // The parameters are constants within argon2's bounds; `new` cannot fail on them.
    let params =
        Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of a password with a fresh 128-bit salt.
pub fn hash_password(password: &str) -> Result<String, Problem> {
    let salt: [u8; 16] = rand::random();
    hasher()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "hashing a password failed");
            Problem::internal()
        })
}

/// Whether `password` matches a stored PHC string (its own parameters are used).
pub fn verify_password(hash: &str, password: &str) -> bool {
    hasher().verify_password(password.as_bytes(), hash).is_ok()
}

/// A staff account as stored, without its password hash.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: StaffRole,
    /// District or street operators: the 6- or 9-digit code of the area they cover.
    pub area_code: Option<String>,
    /// Department staff: their department's code.
    pub department: Option<String>,
    /// Grid workers: the cells they own (besides those of their roster entry).
    pub cells: Vec<String>,
    /// Grid workers: their id in the map's roster (`grid_workers`), whose cells they also own.
    pub worker_id: Option<String>,
    pub disabled: bool,
    pub failed_attempts: i64,
    pub locked_until: Option<String>,
    pub last_sign_in_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip)]
    pub locked_until_ms: i64,
    #[serde(skip)]
    pub session_epoch: i64,
    #[serde(skip)]
    password_hash: String,
}

const COLUMNS: &str = "id, username, display_name, password_hash, role, area_code, department, cells, worker_id, \
     failed_attempts, locked_until, disabled, session_epoch, last_sign_in_at, created_at, updated_at";

fn account_of(r: Row<'_>) -> Result<Account, StoreError> {
    let role = r.text("role")?;
    let locked_until_ms = r.i64("locked_until")?;
    Ok(Account {
        id: r.text("id")?,
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        role: StaffRole::parse(&role)
            .ok_or_else(|| StoreError(format!("account role {role:?} is unknown")))?,
        area_code: r.opt_text("area_code")?,
        department: r.opt_text("department")?,
        cells: serde_json::from_str(&r.text("cells")?)
            .map_err(|e| StoreError(format!("account cells: {e}")))?,
        worker_id: r.opt_text("worker_id")?,
        disabled: r.i64("disabled")? != 0,
        failed_attempts: r.i64("failed_attempts")?,
        locked_until: (locked_until_ms > 0).then(|| rfc3339(locked_until_ms)),
        last_sign_in_at: r.opt_i64("last_sign_in_at")?.map(rfc3339),
        created_at: rfc3339(r.i64("created_at")?),
        updated_at: rfc3339(r.i64("updated_at")?),
        locked_until_ms,
        session_epoch: r.i64("session_epoch")?,
        password_hash: r.text("password_hash")?,
    })
}

pub async fn by_id<D: Database>(db: &D, id: &str) -> Result<Option<Account>, StoreError> {
    let rows = db
        .execute(
            &format!("SELECT {COLUMNS} FROM accounts WHERE id = ?"),
            &[id.into()],
        )
        .await?;
    rows.first().map(account_of).transpose()
}

pub async fn by_username<D: Database>(
    db: &D,
    username: &str,
) -> Result<Option<Account>, StoreError> {
    let rows = db
        .execute(
            &format!("SELECT {COLUMNS} FROM accounts WHERE username = ?"),
            &[username.to_ascii_lowercase().into()],
        )
        .await?;
    rows.first().map(account_of).transpose()
}

/// Most placeholders in one `IN (...)` list (SQLite's oldest default limit is 999 a statement).
const NAMES_PER_QUERY: usize = 500;

/// The display names of the accounts among `ids` (by primary key): id → name. Ids that are
/// no account (a department's code, `citizen`, `operator`, …) are simply absent. A case's
/// trail names a handful of people, so this is one query.
pub async fn display_names<D: Database>(
    db: &D,
    ids: &BTreeSet<String>,
) -> Result<BTreeMap<String, String>, StoreError> {
    let ids: Vec<&String> = ids.iter().collect();
    let mut names = BTreeMap::new();
    for chunk in ids.chunks(NAMES_PER_QUERY) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<crate::Value> = chunk.iter().map(|id| (*id).into()).collect();
        let rows = db
            .execute(
                &format!("SELECT id, display_name FROM accounts WHERE id IN ({marks})"),
                &params,
            )
            .await?;
        for r in rows.iter() {
            names.insert(r.text("id")?, r.text("display_name")?);
        }
    }
    Ok(names)
}

/// A page of accounts by username; `after` is the last username of the previous page.
pub async fn list<D: Database>(
    db: &D,
    role: Option<StaffRole>,
    limit: i64,
    after: Option<&str>,
) -> Result<(Vec<Account>, Option<String>), StoreError> {
    let rows = db
        .execute(
            &format!(
                "SELECT {COLUMNS} FROM accounts WHERE (? IS NULL OR role = ?) AND username > ? ORDER BY username LIMIT ?"
            ),
            &[
                role.map(StaffRole::as_str).into(),
                role.map(StaffRole::as_str).into(),
                after.unwrap_or("").into(),
                (limit + 1).into(),
            ],
        )
        .await?;
    let mut items = rows.iter().map(account_of).collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|a| a.username.clone())
    } else {
        None
    };
    Ok((items, next))
}

/// The principal an account signs in as: its role, and its scope as it is now (a grid worker's
/// roster entry adds the cells the current map gives them).
pub async fn principal<D: Database>(db: &D, account: &Account) -> Result<Principal, StoreError> {
    let mut cells = account.cells.clone();
    if let Some(worker) = &account.worker_id {
        // The roster's primary key (id, cell) serves this read.
        let rows = db
            .execute(
                "SELECT cell FROM grid_workers WHERE id = ? AND on_duty = 1",
                &[worker.as_str().into()],
            )
            .await?;
        for r in rows.iter() {
            let cell = r.text("cell")?;
            if !cells.contains(&cell) {
                cells.push(cell);
            }
        }
    }
    Ok(Principal {
        role: account.role,
        id: account.id.clone(),
        name: account.display_name.clone(),
        area: account.area_code.clone(),
        department: account.department.clone(),
        cells,
    })
}

// ---- signing in

/// Counts a failed sign-in in one statement: the fifth in a row locks the account and starts
/// the count again; failures while it is locked change nothing. SQLite evaluates every SET
/// expression on the row as it was, so the two CASEs agree.
const RECORD_FAILURE: &str = "UPDATE accounts SET \
     failed_attempts = CASE WHEN locked_until > ?1 THEN failed_attempts WHEN failed_attempts + 1 >= ?2 THEN 0 ELSE failed_attempts + 1 END, \
     locked_until = CASE WHEN locked_until > ?1 THEN locked_until WHEN failed_attempts + 1 >= ?2 THEN ?3 ELSE locked_until END \
     WHERE id = ?4";
/// A good password only counts if the account is not locked at that very moment.
const RECORD_SUCCESS: &str = "UPDATE accounts SET failed_attempts = 0, last_sign_in_at = ?1 \
     WHERE id = ?2 AND locked_until <= ?1 AND disabled = 0 RETURNING id";

/// Counts a failed sign-in of an account from anywhere (whatever the caller read of it before).
pub(crate) async fn record_failure<D: Database>(
    db: &D,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    db.execute(
        RECORD_FAILURE,
        &[
            now.into(),
            MAX_FAILED_ATTEMPTS_ANYWHERE.into(),
            (now + LOCK_MS).into(),
            id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Counts a failed sign-in of a username from a client in one statement; the fifth in a row
/// locks the pair for `LOCK_MS << locks` (at most `MAX_LOCK_MS`) and starts the count again.
/// In `DO UPDATE`, bare columns are the stored row's, so the CASEs agree.
const RECORD_PAIR_FAILURE: &str = "INSERT INTO sign_in_locks (subject, client, failed, locks, locked_until, updated_at) \
     VALUES (?1, ?2, 1, 0, 0, ?3) ON CONFLICT (subject, client) DO UPDATE SET \
     failed = CASE WHEN locked_until > ?3 THEN failed WHEN failed + 1 >= ?4 THEN 0 ELSE failed + 1 END, \
     locks = CASE WHEN locked_until > ?3 THEN locks WHEN failed + 1 >= ?4 THEN locks + 1 ELSE locks END, \
     locked_until = CASE WHEN locked_until > ?3 THEN locked_until \
         WHEN failed + 1 >= ?4 THEN ?3 + MIN(?5 * (1 << MIN(locks, 7)), ?6) ELSE locked_until END, \
     updated_at = ?3";
const PAIR_LOCKED_UNTIL: &str =
    "SELECT locked_until FROM sign_in_locks WHERE subject = ? AND client = ?";
const FORGET_PAIR: &str = "DELETE FROM sign_in_locks WHERE subject = ? AND client = ?";
const FORGET_SUBJECT: &str = "DELETE FROM sign_in_locks WHERE subject = ?";

/// What a lock counts by: a hash of the username as typed (trimmed, in lower case), whether an
/// account has it or not, and of the client's address.
fn lock_subject(username: &str) -> String {
    crate::crypto::secret_hash(&format!("user:{}", username.trim().to_lowercase()))
}
fn lock_client(client: Option<&str>) -> String {
    crate::crypto::secret_hash(&format!("client:{}", client.unwrap_or("-")))
}

async fn pair_locked_until<D: Database>(
    db: &D,
    subject: &str,
    client: &str,
) -> Result<i64, StoreError> {
    let rows = db
        .execute(PAIR_LOCKED_UNTIL, &[subject.into(), client.into()])
        .await?;
    rows.first().map_or(Ok(0), |r| r.i64("locked_until"))
}

async fn record_pair_failure<D: Database>(
    db: &D,
    subject: &str,
    client: &str,
    now: i64,
) -> Result<(), StoreError> {
    db.execute(
        RECORD_PAIR_FAILURE,
        &[
            subject.into(),
            client.into(),
            now.into(),
            MAX_FAILED_ATTEMPTS.into(),
            LOCK_MS.into(),
            MAX_LOCK_MS.into(),
        ],
    )
    .await?;
    Ok(())
}

fn wrong_credentials() -> Problem {
    Problem::unauthorized("the username or the password is wrong")
}

fn locked(until: i64, now: i64) -> Problem {
    let mut p = Problem::rate_limited(((until - now + 999) / 1000).max(1) as u64);
    p.detail = format!(
        "too many failed sign-ins: the account is locked until {}",
        rfc3339(until)
    );
    p
}

/// Checks a username and password from a client (its address as `limits::client_key` gives
/// it; `None` counts as one unknown client). Wrong ones are a 401, the same for an unknown
/// username after the same work; a username locked for this client, or an account locked from
/// everywhere, is a 429 with `Retry-After` without looking at the password (an unknown
/// username locks alike); a disabled account, after a right password, a 403.
pub async fn sign_in<D: Database>(
    db: &D,
    username: &str,
    password: &str,
    client: Option<&str>,
    now: i64,
) -> Result<Account, Problem> {
    let (subject, client) = (lock_subject(username), lock_client(client));
    let pair_until = pair_locked_until(db, &subject, &client).await?;
    if pair_until > now {
        return Err(locked(pair_until, now));
    }
    let Some(account) = by_username(db, username.trim()).await? else {
        let _ = verify_password(DUMMY_HASH, password);
        record_pair_failure(db, &subject, &client, now).await?;
        return Err(wrong_credentials());
    };
    if account.locked_until_ms > now {
        return Err(locked(account.locked_until_ms, now));
    }
    if !verify_password(&account.password_hash, password) {
        record_pair_failure(db, &subject, &client, now).await?;
        record_failure(db, &account.id, now).await?;
        return Err(wrong_credentials());
    }
    if account.disabled {
        return Err(Problem::forbidden("this account is disabled"));
    }
    if db
        .execute(RECORD_SUCCESS, &[now.into(), account.id.as_str().into()])
        .await?
        .is_empty()
    {
        // Locked (or disabled) between the read and now.
        let current = by_id(db, &account.id)
            .await?
            .ok_or_else(wrong_credentials)?;
        return Err(if current.disabled {
            Problem::forbidden("this account is disabled")
        } else {
            locked(current.locked_until_ms, now)
        });
    }
    db.execute(FORGET_PAIR, &[subject.into(), client.into()])
        .await?;
    Ok(account)
}

// ---- administration

/// The body of `POST /api/admin/accounts`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: String,
    #[serde(default)]
    pub area_code: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub cells: Vec<String>,
    #[serde(default)]
    pub worker_id: Option<String>,
}

/// The body of `PATCH /api/admin/accounts/{id}`: only what is given changes. A new role clears
/// the scope of the old one; `password` sets a new one and ends every session, as `disabled:
/// true` does; `unlock` clears a lock-out.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub area_code: Option<String>,
    pub department: Option<String>,
    pub cells: Option<Vec<String>>,
    pub worker_id: Option<String>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
    #[serde(default)]
    pub unlock: bool,
}

/// Role and scope, as they will be stored.
#[derive(Debug, Clone, Default)]
struct Scope {
    role: Option<StaffRole>,
    area_code: Option<String>,
    department: Option<String>,
    cells: Vec<String>,
    worker_id: Option<String>,
}

fn check_password(password: &str, errors: &mut Vec<FieldError>) {
    let n = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) || password.trim().is_empty() {
        errors.push(FieldError::new(
            "password",
            format!("{PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        ));
    }
}

fn check_display_name(name: &str, errors: &mut Vec<FieldError>) {
    let n = name.trim().chars().count();
    if n == 0 || n > DISPLAY_NAME_MAX {
        errors.push(FieldError::new(
            "display_name",
            format!("1 to {DISPLAY_NAME_MAX} characters"),
        ));
    }
}

fn role_of(role: &str, errors: &mut Vec<FieldError>) -> Option<StaffRole> {
    let parsed = StaffRole::parse(role);
    if parsed.is_none() {
        errors.push(FieldError::new(
            "role",
            "one of city_operator, district_operator, street_operator, department, grid_worker, admin",
        ));
    }
    parsed
}

/// Each role has exactly the scope fields it needs: an area for district and street operators,
/// a department for department staff, cells or a roster id for grid workers, none otherwise.
async fn check_scope<D: Database>(
    db: &D,
    scope: &Scope,
    errors: &mut Vec<FieldError>,
) -> Result<(), StoreError> {
    let Some(role) = scope.role else {
        return Ok(());
    };
    let area_level = match role {
        StaffRole::DistrictOperator => Some(Level::District),
        StaffRole::StreetOperator => Some(Level::Street),
        _ => None,
    };
    match (area_level, &scope.area_code) {
        (Some(level), Some(code)) if GridCode::parse(code).is_ok_and(|c| c.level() == level) => {}
        (Some(level), _) => errors.push(FieldError::new(
            "area_code",
            format!(
                "the code of the {} ({} digits)",
                level.as_str(),
                if level == Level::District { 6 } else { 9 }
            ),
        )),
        (None, Some(_)) => errors.push(FieldError::new(
            "area_code",
            format!("a {} has no area", role.as_str()),
        )),
        (None, None) => {}
    }
    let known = match (role, &scope.department) {
        (StaffRole::Department, Some(code)) => {
            crate::directory::department(db, code).await?.is_some()
        }
        _ => true,
    };
    match (role, &scope.department) {
        (StaffRole::Department, Some(code)) if !known => errors.push(FieldError::new(
            "department",
            format!("no department {code}"),
        )),
        (StaffRole::Department, Some(_)) => {}
        (StaffRole::Department, None) => errors.push(FieldError::new(
            "department",
            "required for department staff",
        )),
        (_, Some(_)) => errors.push(FieldError::new(
            "department",
            format!("a {} has no department", role.as_str()),
        )),
        _ => {}
    }
    if role == StaffRole::GridWorker {
        if scope.cells.is_empty() && scope.worker_id.is_none() {
            errors.push(FieldError::new(
                "cells",
                "a grid worker needs cells, or a worker_id from the map's roster",
            ));
        }
        if scope.cells.len() > CELLS_MAX {
            errors.push(FieldError::new("cells", format!("at most {CELLS_MAX}")));
        }
        for (i, cell) in scope.cells.iter().enumerate() {
            if !GridCode::parse(cell).is_ok_and(|c| c.level() == Level::Cell) {
                errors.push(FieldError::new(
                    &format!("cells[{i}]"),
                    "a 15-digit cell code",
                ));
            }
        }
        if let Some(worker) = &scope.worker_id {
            let known = !db
                .execute(
                    "SELECT 1 AS x FROM grid_workers WHERE id = ? LIMIT 1",
                    &[worker.as_str().into()],
                )
                .await?
                .is_empty();
            if !known {
                errors.push(FieldError::new(
                    "worker_id",
                    format!("no grid worker {worker} in the map's roster"),
                ));
            }
        }
    } else {
        if !scope.cells.is_empty() {
            errors.push(FieldError::new(
                "cells",
                format!("a {} has no cells", role.as_str()),
            ));
        }
        if scope.worker_id.is_some() {
            errors.push(FieldError::new(
                "worker_id",
                format!("a {} has no roster entry", role.as_str()),
            ));
        }
    }
    Ok(())
}

fn valid_username(name: &str) -> bool {
    (USERNAME_MIN..=USERNAME_MAX).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

const INSERT: &str = "INSERT INTO accounts (id, username, display_name, password_hash, role, area_code, department, cells, \
     worker_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING RETURNING id";

/// Creates an account; 422 for invalid fields (all at once), 409 for a username in use.
pub async fn create<D: Database>(db: &D, input: NewAccount, now: i64) -> Result<Account, Problem> {
    let mut errors = Vec::new();
    let username = input.username.trim().to_ascii_lowercase();
    if !valid_username(&username) {
        errors.push(FieldError::new(
            "username",
            format!("{USERNAME_MIN} to {USERNAME_MAX} characters of a-z, 0-9, . _ -"),
        ));
    }
    check_display_name(&input.display_name, &mut errors);
    check_password(&input.password, &mut errors);
    let scope = Scope {
        role: role_of(&input.role, &mut errors),
        area_code: blank_to_none(input.area_code),
        department: blank_to_none(input.department),
        cells: input.cells.iter().map(|c| c.trim().to_owned()).collect(),
        worker_id: blank_to_none(input.worker_id),
    };
    check_scope(db, &scope, &mut errors).await?;
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let id = ulid::Ulid::from_parts(now as u64, rand::random()).to_string();
    let hash = hash_password(&input.password)?;
    let inserted = db
        .execute(
            INSERT,
            &[
                id.as_str().into(),
                username.as_str().into(),
                input.display_name.trim().into(),
                hash.into(),
                scope.role.map(StaffRole::as_str).into(),
                scope.area_code.into(),
                scope.department.into(),
                serde_json::to_string(&scope.cells)
                    .unwrap_or_else(|_| "[]".into())
                    .into(),
                scope.worker_id.into(),
                now.into(),
                now.into(),
            ],
        )
        .await?;
    if inserted.is_empty() {
        return Err(Problem::conflict(format!(
            "the username {username} is taken"
        )));
    }
    by_id(db, &id).await?.ok_or_else(Problem::internal)
}

const UPDATE: &str = "UPDATE accounts SET display_name = ?, role = ?, area_code = ?, department = ?, cells = ?, worker_id = ?, \
     disabled = ?, password_hash = COALESCE(?, password_hash), \
     failed_attempts = CASE WHEN ? THEN 0 ELSE failed_attempts END, \
     locked_until = CASE WHEN ? THEN 0 ELSE locked_until END, \
     session_epoch = session_epoch + ?, updated_at = ? WHERE id = ?";

/// Applies a patch; 404 for an unknown account, 422 for invalid fields.
pub async fn update<D: Database>(
    db: &D,
    id: &str,
    patch: AccountPatch,
    now: i64,
) -> Result<Account, Problem> {
    let account = by_id(db, id)
        .await?
        .ok_or_else(|| Problem::not_found("account", id))?;
    let mut errors = Vec::new();
    if let Some(name) = &patch.display_name {
        check_display_name(name, &mut errors);
    }
    if let Some(password) = &patch.password {
        check_password(password, &mut errors);
    }
    let role = match &patch.role {
        Some(r) => role_of(r, &mut errors),
        None => Some(account.role),
    };
    // A new role starts from an empty scope: the old role's area or cells would not apply.
    let mut scope = if role == Some(account.role) {
        Scope {
            role,
            area_code: account.area_code.clone(),
            department: account.department.clone(),
            cells: account.cells.clone(),
            worker_id: account.worker_id.clone(),
        }
    } else {
        Scope {
            role,
            ..Scope::default()
        }
    };
    if let Some(area) = patch.area_code {
        scope.area_code = blank_to_none(Some(area));
    }
    if let Some(department) = patch.department {
        scope.department = blank_to_none(Some(department));
    }
    if let Some(cells) = patch.cells {
        scope.cells = cells.iter().map(|c| c.trim().to_owned()).collect();
    }
    if let Some(worker) = patch.worker_id {
        scope.worker_id = blank_to_none(Some(worker));
    }
    check_scope(db, &scope, &mut errors).await?;
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let hash = patch.password.as_deref().map(hash_password).transpose()?;
    let disabled = patch.disabled.unwrap_or(account.disabled);
    let reset = hash.is_some();
    // A new password or a disable ends every session issued so far.
    let ends_sessions = reset || (disabled && !account.disabled);
    db.execute(
        UPDATE,
        &[
            patch
                .display_name
                .as_deref()
                .map_or(account.display_name.as_str(), str::trim)
                .into(),
            scope.role.map(StaffRole::as_str).into(),
            scope.area_code.into(),
            scope.department.into(),
            serde_json::to_string(&scope.cells)
                .unwrap_or_else(|_| "[]".into())
                .into(),
            scope.worker_id.into(),
            i64::from(disabled).into(),
            hash.into(),
            i64::from(reset || patch.unlock).into(),
            i64::from(reset || patch.unlock).into(),
            i64::from(ends_sessions).into(),
            now.into(),
            id.into(),
        ],
    )
    .await?;
    if reset || patch.unlock {
        // The administrator's way in for the real user: every address's lock of the account.
        db.execute(FORGET_SUBJECT, &[lock_subject(&account.username).into()])
            .await?;
    }
    by_id(db, id).await?.ok_or_else(Problem::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").unwrap(),
            "every hash has its own salt"
        );
        assert!(!verify_password("not a phc string", "x"));
    }

    #[test]
    fn the_dummy_hash_has_the_parameters_of_real_ones() {
        let real = hash_password("anything at all").unwrap();
        let params = |h: &str| h.split('$').nth(3).map(str::to_owned);
        assert_eq!(params(DUMMY_HASH), params(&real));
        assert!(
            argon2::PasswordHash::new(DUMMY_HASH).is_ok(),
            "it parses, so checking against it does the full work"
        );
        assert!(!verify_password(DUMMY_HASH, ""));
    }
}
