-- Schema version 5, access's part.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

-- API keys of platforms and Open311 clients (access/keys.rs): only the SHA-256 of the key
-- is kept; `actions` is a space-separated list.
CREATE TABLE IF NOT EXISTS api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            platform TEXT,
            actions TEXT NOT NULL,
            rate_per_minute INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER,
            last_used_at INTEGER);
