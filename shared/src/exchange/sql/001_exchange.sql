-- Schema version 1, the exchange's part: the outbox of webhooks and its attempts, and the
-- receipts of department callbacks.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

CREATE TABLE IF NOT EXISTS outbox (
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
            delivered_at INTEGER);

CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE IF NOT EXISTS delivery_attempts (
            outbox_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            at INTEGER NOT NULL,
            status INTEGER,
            latency_ms INTEGER NOT NULL,
            excerpt TEXT,
            PRIMARY KEY (outbox_id, attempt));

CREATE TABLE IF NOT EXISTS webhook_receipts (
            department TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            status INTEGER NOT NULL,
            body TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (department, webhook_id));
