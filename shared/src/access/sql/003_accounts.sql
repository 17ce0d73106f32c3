-- Schema version 3, access's part: staff accounts and signed-out sessions.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

-- Staff accounts (access/accounts.rs). The scope columns that apply depend on the role; a
-- session token carries the `session_epoch` it was issued in, and a password reset or a
-- disable moves it on, ending every earlier session. Lock-out: `failed_attempts` and
-- `locked_until`, changed only by single UPDATE statements.
CREATE TABLE IF NOT EXISTS accounts (
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
            updated_at INTEGER NOT NULL);

-- Signed-out session tokens, so that the sweep can delete their key-value records once
-- they have expired (the store has no TTL and may not be listed).
CREATE TABLE IF NOT EXISTS session_revocations (
            token_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            expires_at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS session_revocations_by_expiry ON session_revocations (expires_at);
