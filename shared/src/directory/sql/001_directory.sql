-- Schema version 1, the directory's part: departments, categories and the routing rules.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

CREATE TABLE IF NOT EXISTS departments (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            webhook_url TEXT,
            secret TEXT,
            -- A street office (the locality an event goes to first) names its street here.
            area_code TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS categories (
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
            duplicate_window_hours REAL NOT NULL DEFAULT 72);

CREATE TABLE IF NOT EXISTS routing_versions (
            version INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at INTEGER NOT NULL,
            note TEXT NOT NULL,
            is_current INTEGER NOT NULL DEFAULT 0);

CREATE TABLE IF NOT EXISTS routing_rules (
            version INTEGER NOT NULL REFERENCES routing_versions (version),
            position INTEGER NOT NULL,
            category TEXT,
            area_code TEXT,
            window_start TEXT,
            window_end TEXT,
            lead TEXT NOT NULL REFERENCES departments (code),
            helpers TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (version, position));
