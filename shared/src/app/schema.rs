//! The schema of the system of record: the numbered migrations, applied by `db::migrate`.
//! Indexes stand next to their tables: every request-path query uses one.

use crate::db::{self, Migration};
use crate::{Database, StoreError};

/// Each migration: its version and its statements (Spin runs one statement per call).
pub const MIGRATIONS: &[Migration] = &[
    (
        1,
        &[
            "CREATE TABLE IF NOT EXISTS map_versions (
            version INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at INTEGER NOT NULL,
            grids INTEGER NOT NULL,
            cells INTEGER NOT NULL,
            is_current INTEGER NOT NULL DEFAULT 0)",
            "CREATE TABLE IF NOT EXISTS grids (
            code TEXT NOT NULL,
            version INTEGER NOT NULL,
            name TEXT NOT NULL,
            level TEXT NOT NULL,
            parent TEXT,
            shape TEXT,
            PRIMARY KEY (code, version))",
            "CREATE INDEX IF NOT EXISTS grids_by_parent ON grids (parent, version)",
            "CREATE TABLE IF NOT EXISTS grid_tiles (
            version INTEGER NOT NULL,
            key TEXT NOT NULL,
            PRIMARY KEY (version, key))",
            "CREATE TABLE IF NOT EXISTS departments (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            webhook_url TEXT,
            secret TEXT,
            -- A street office (the locality an event goes to first) names its street here.
            area_code TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS categories (
            code TEXT PRIMARY KEY,
            name_zh TEXT NOT NULL,
            name_en TEXT NOT NULL,
            kind TEXT NOT NULL,
            department TEXT NOT NULL REFERENCES departments (code),
            major TEXT NOT NULL DEFAULT '',
            priority INTEGER NOT NULL DEFAULT 2,
            sign_for_hours REAL NOT NULL DEFAULT 2,
            handle_hours REAL NOT NULL DEFAULT 72,
            verify_hours REAL NOT NULL DEFAULT 24,
            duplicate_radius_m REAL NOT NULL DEFAULT 50,
            duplicate_window_hours REAL NOT NULL DEFAULT 72)",
            "CREATE TABLE IF NOT EXISTS cases (
            id TEXT PRIMARY KEY,
            tracking_code TEXT NOT NULL UNIQUE,
            secret_hash TEXT NOT NULL,
            category TEXT NOT NULL REFERENCES categories (code),
            description TEXT NOT NULL,
            lat REAL NOT NULL,
            lng REAL NOT NULL,
            crs_given TEXT NOT NULL,
            address TEXT,
            grid_code TEXT NOT NULL,
            status TEXT NOT NULL,
            channel TEXT NOT NULL,
            asset_id TEXT,
            department TEXT REFERENCES departments (code),
            contact_name TEXT,
            contact_phone TEXT,
            event_count INTEGER NOT NULL DEFAULT 0,
            priority INTEGER NOT NULL DEFAULT 2,
            -- The running step's clock: which deadline, since when, until when.
            step TEXT,
            step_started_at INTEGER,
            step_deadline_at INTEGER,
            overdue INTEGER NOT NULL DEFAULT 0,
            -- When the sweep should look at this case next (its deadline, then each escalation).
            next_check_at INTEGER,
            escalation_level TEXT NOT NULL DEFAULT 'street',
            escalated_at INTEGER,
            parent_id TEXT,
            duplicate_candidates TEXT,
            reporter_kind TEXT NOT NULL DEFAULT 'citizen',
            reporter_id TEXT,
            rating TEXT,
            rating_comment TEXT,
            closed_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS cases_due ON cases (next_check_at) WHERE next_check_at IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS cases_nearby ON cases (category, created_at, lat, lng)",
            "CREATE INDEX IF NOT EXISTS cases_by_parent ON cases (parent_id) WHERE parent_id IS NOT NULL",
            "CREATE TABLE IF NOT EXISTS case_departments (
            case_id TEXT NOT NULL REFERENCES cases (id),
            department TEXT NOT NULL REFERENCES departments (code),
            role TEXT NOT NULL,
            PRIMARY KEY (case_id, department))",
            "CREATE INDEX IF NOT EXISTS case_departments_by_department ON case_departments (department, case_id)",
            "CREATE TABLE IF NOT EXISTS routing_versions (
            version INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at INTEGER NOT NULL,
            note TEXT NOT NULL,
            is_current INTEGER NOT NULL DEFAULT 0)",
            "CREATE TABLE IF NOT EXISTS routing_rules (
            version INTEGER NOT NULL REFERENCES routing_versions (version),
            position INTEGER NOT NULL,
            category TEXT,
            area_code TEXT,
            window_start TEXT,
            window_end TEXT,
            lead TEXT NOT NULL REFERENCES departments (code),
            helpers TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (version, position))",
            "CREATE TABLE IF NOT EXISTS reviews (
            case_id TEXT PRIMARY KEY REFERENCES cases (id),
            opened_at INTEGER NOT NULL,
            comment TEXT,
            status TEXT NOT NULL DEFAULT 'open')",
            "CREATE TABLE IF NOT EXISTS mediation (
            case_id TEXT NOT NULL REFERENCES cases (id),
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            details TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (case_id, seq))",
            "CREATE INDEX IF NOT EXISTS cases_by_status ON cases (status, created_at DESC, id)",
            "CREATE INDEX IF NOT EXISTS cases_by_created ON cases (created_at DESC, id)",
            "CREATE INDEX IF NOT EXISTS cases_by_department ON cases (department, status)",
            "CREATE INDEX IF NOT EXISTS cases_by_grid ON cases (grid_code, status)",
            "CREATE TABLE IF NOT EXISTS case_events (
            case_id TEXT NOT NULL REFERENCES cases (id),
            seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            actor_role TEXT NOT NULL,
            actor TEXT NOT NULL,
            channel TEXT NOT NULL,
            details TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (case_id, seq))",
            "CREATE TABLE IF NOT EXISTS outbox (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL,
            department TEXT NOT NULL,
            event_type TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            claimed_until INTEGER NOT NULL DEFAULT 0,
            last_status INTEGER,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            delivered_at INTEGER)",
            "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at)",
            "CREATE TABLE IF NOT EXISTS delivery_attempts (
            outbox_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            at INTEGER NOT NULL,
            status INTEGER,
            latency_ms INTEGER NOT NULL,
            excerpt TEXT,
            PRIMARY KEY (outbox_id, attempt))",
            "CREATE TABLE IF NOT EXISTS webhook_receipts (
            department TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            status INTEGER NOT NULL,
            body TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (department, webhook_id))",
        ],
    ),
    (
        2,
        &[
            // The grid workers (网格员) on duty per cell. Keyed by cell code, not by map version:
            // a re-import that keeps a cell's code keeps its workers.
            "CREATE TABLE IF NOT EXISTS grid_workers (
            id TEXT NOT NULL,
            cell TEXT NOT NULL,
            name TEXT NOT NULL,
            phone TEXT NOT NULL,
            on_duty INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (id, cell))",
            "CREATE INDEX IF NOT EXISTS grid_workers_by_cell ON grid_workers (cell, on_duty)",
            // Parts of a map import sent in several requests, until the last one arrives.
            "CREATE TABLE IF NOT EXISTS grid_upload_parts (
            upload TEXT NOT NULL,
            part INTEGER NOT NULL,
            parts INTEGER NOT NULL,
            body TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (upload, part))",
            "CREATE INDEX IF NOT EXISTS grid_upload_parts_by_age ON grid_upload_parts (received_at)",
        ],
    ),
    (
        3,
        &[
            // Staff accounts (shared/src/accounts.rs). The scope columns that apply depend on
            // the role; a session token carries the `session_epoch` it was issued in, and a
            // password reset or a disable moves it on, ending every earlier session. Lock-out:
            // `failed_attempts` and `locked_until`, changed only by single UPDATE statements.
            "CREATE TABLE IF NOT EXISTS accounts (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL,
            area_code TEXT,
            department TEXT REFERENCES departments (code),
            cells TEXT NOT NULL DEFAULT '[]',
            worker_id TEXT,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER NOT NULL DEFAULT 0,
            disabled INTEGER NOT NULL DEFAULT 0,
            session_epoch INTEGER NOT NULL DEFAULT 0,
            last_sign_in_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)",
            // Signed-out session tokens, so that the sweep can delete their key-value records
            // once they have expired (the store has no TTL and may not be listed).
            "CREATE TABLE IF NOT EXISTS session_revocations (
            token_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            expires_at INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS session_revocations_by_expiry ON session_revocations (expires_at)",
            // Retention (shared/src/privacy.rs): when a case's personal data was removed, and
            // the cases not yet purged by the time they ended (closed, or rejected / merged).
            // The sweep's query uses this very expression. Runs once, under the version check.
            "ALTER TABLE cases ADD COLUMN purged_at INTEGER",
            "CREATE INDEX IF NOT EXISTS cases_to_purge ON cases
            (COALESCE(closed_at, CASE WHEN status IN ('rejected', 'merged') THEN updated_at END))
            WHERE purged_at IS NULL",
        ],
    ),
    // The indicators' rollups and per-case trackers, with the backfill of cases stored before
    // them: the statements live beside their code in shared/src/indicators.rs.
    (4, crate::indicators::MIGRATION),
    (
        5,
        &[
            // Department secret rotation: the previous secret verifies (and signs beside the new
            // one) until `previous_secret_until`.
            "ALTER TABLE departments ADD COLUMN previous_secret TEXT",
            "ALTER TABLE departments ADD COLUMN previous_secret_until INTEGER",
            // Evidence of a department's result (shared/src/evidence.rs): a photo without its
            // metadata, or a link. `event_seq` is the case event it came with.
            "CREATE TABLE IF NOT EXISTS evidence (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (id),
            event_seq INTEGER NOT NULL,
            source TEXT NOT NULL,
            content_type TEXT,
            bytes BLOB,
            size INTEGER,
            sha256 TEXT,
            url TEXT,
            caption TEXT,
            created_at INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS evidence_by_case ON evidence (case_id, event_seq)",
            // API keys of platforms and Open311 clients (shared/src/keys.rs): only the SHA-256
            // of the key is kept; `actions` is a space-separated list.
            "CREATE TABLE IF NOT EXISTS api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            platform TEXT,
            actions TEXT NOT NULL,
            rate_per_minute INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER,
            last_used_at INTEGER)",
            // Other platforms (shared/src/platforms.rs): their webhook, secret and mapping
            // (a JSON document; NULL: the built-in one).
            "CREATE TABLE IF NOT EXISTS platforms (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            webhook_url TEXT,
            secret TEXT,
            mapping TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)",
            // One case per (platform, external id), for good: the key is the idempotency.
            "CREATE TABLE IF NOT EXISTS platform_links (
            platform TEXT NOT NULL,
            external_id TEXT NOT NULL,
            case_id TEXT NOT NULL REFERENCES cases (id),
            created_at INTEGER NOT NULL,
            PRIMARY KEY (platform, external_id))",
            "CREATE UNIQUE INDEX IF NOT EXISTS platform_links_by_case ON platform_links (case_id)",
            // Open311 requests (shared/src/open311.rs): what the client sent beyond the case,
            // and the token of a request that waits for an operator to place it.
            "CREATE TABLE IF NOT EXISTS open311_requests (
            token TEXT PRIMARY KEY,
            case_id TEXT UNIQUE REFERENCES cases (id),
            key_id TEXT NOT NULL,
            service_code TEXT NOT NULL,
            description TEXT,
            address_string TEXT,
            address_id TEXT,
            attributes TEXT NOT NULL DEFAULT '{}',
            media_urls TEXT NOT NULL DEFAULT '[]',
            device_id TEXT,
            account_id TEXT,
            email TEXT,
            first_name TEXT,
            last_name TEXT,
            phone TEXT,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS open311_requests_by_status ON open311_requests (status, created_at)",
            // Open311 service definitions of categories: keywords and attribute questions (JSON).
            "CREATE TABLE IF NOT EXISTS service_definitions (
            category TEXT PRIMARY KEY REFERENCES categories (code),
            keywords TEXT NOT NULL DEFAULT '',
            attributes TEXT NOT NULL DEFAULT '[]',
            updated_at INTEGER NOT NULL)",
            // Open311 service request updates are read by time across cases.
            "CREATE INDEX IF NOT EXISTS case_events_by_time ON case_events (at)",
            // The messages one request queued for a case are sent at once (outbox::deliver_new_for_case).
            "CREATE INDEX IF NOT EXISTS outbox_by_case ON outbox (case_id, created_at)",
        ],
    ),
    // The asset registry (部件) and its index by cell: beside their code in shared/src/assets.rs.
    (6, crate::assets::MIGRATION),
];

/// The newest schema version this code knows.
pub fn latest() -> i64 {
    db::latest(MIGRATIONS)
}

/// Brings the database to the newest schema; returns its version.
pub async fn migrate<D: Database>(db: &D) -> Result<i64, StoreError> {
    db::migrate(db, MIGRATIONS).await
}

/// Called at the start of a request that uses SQL: one indexed read when the schema is current.
pub async fn ensure<D: Database>(db: &D) -> Result<i64, StoreError> {
    db::ensure(db, MIGRATIONS).await
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::Value;
    use crate::grid::testenv::TestEnv;

    /// What `sqlite_master` says of a database, one entry per object, in name order.
    fn schema_of(env: &TestEnv) -> String {
        let rows = block_on(env.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name",
            &[],
        ))
        .unwrap();
        let text = |v: &Value| match v {
            Value::Text(s) => s.clone(),
            Value::Null => "(none)".to_owned(),
            other => panic!("unexpected value in sqlite_master: {other:?}"),
        };
        rows.rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} on {}\n{}\n\n",
                    text(&r[0]),
                    text(&r[1]),
                    text(&r[2]),
                    text(&r[3])
                )
            })
            .collect()
    }

    /// The version `schema_fixture.txt` was taken at, from the statements of the Rust arrays
    /// that held the migrations before the `.sql` files: versions up to it must never change.
    const FIXTURE_VERSION: i64 = 6;

    #[test]
    fn a_fresh_database_gets_exactly_the_schema_of_the_fixture() {
        let env = TestEnv::new();
        let known = MIGRATIONS
            .iter()
            .filter(|(v, _)| *v <= FIXTURE_VERSION)
            .count();
        let version = block_on(db::migrate(&env, &MIGRATIONS[..known])).unwrap();
        assert_eq!(version, FIXTURE_VERSION);
        let got = schema_of(&env);
        let want = include_str!("schema_fixture.txt");
        // Point at the first differing line: the whole schema is too long to read in a diff.
        if let Some((n, (g, w))) = got
            .lines()
            .zip(want.lines())
            .enumerate()
            .find(|(_, (g, w))| g != w)
        {
            panic!("schema_fixture.txt line {}: got {g:?}, want {w:?}", n + 1);
        }
        assert_eq!(got.lines().count(), want.lines().count(), "number of lines");
    }

    #[test]
    fn the_newest_schema_version_is_6() {
        assert_eq!(latest(), 6);
    }

    #[test]
    fn migrating_a_current_database_again_changes_nothing() {
        let env = TestEnv::new();
        assert_eq!(block_on(migrate(&env)).unwrap(), latest());
        let before = schema_of(&env);
        assert_eq!(block_on(migrate(&env)).unwrap(), latest());
        assert_eq!(block_on(ensure(&env)).unwrap(), latest());
        assert_eq!(schema_of(&env), before);
    }
}
