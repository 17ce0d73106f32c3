-- Schema version 5, the exchange's part: other platforms, Open311, and the outbox by case.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

-- Other platforms (exchange/platforms.rs): their webhook, secret and mapping (a JSON
-- document; NULL: the built-in one).
CREATE TABLE IF NOT EXISTS platforms (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            webhook_url TEXT,
            secret TEXT,
            mapping TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL);

-- One case per (platform, external id), for good: the key is the idempotency.
CREATE TABLE IF NOT EXISTS platform_links (
            platform TEXT NOT NULL,
            external_id TEXT NOT NULL,
            case_id TEXT NOT NULL REFERENCES cases (id),
            created_at INTEGER NOT NULL,
            PRIMARY KEY (platform, external_id));

CREATE UNIQUE INDEX IF NOT EXISTS platform_links_by_case ON platform_links (case_id);

-- Open311 requests (exchange/open311.rs): what the client sent beyond the case, and the
-- token of a request that waits for an operator to place it.
CREATE TABLE IF NOT EXISTS open311_requests (
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
            updated_at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS open311_requests_by_status ON open311_requests (status, created_at);

-- Open311 service definitions of categories: keywords and attribute questions (JSON).
CREATE TABLE IF NOT EXISTS service_definitions (
            category TEXT PRIMARY KEY REFERENCES categories (code),
            keywords TEXT NOT NULL DEFAULT '',
            attributes TEXT NOT NULL DEFAULT '[]',
            updated_at INTEGER NOT NULL);

-- The messages one request queued for a case are sent at once
-- (outbox::deliver_new_for_case).
CREATE INDEX IF NOT EXISTS outbox_by_case ON outbox (case_id, created_at);
