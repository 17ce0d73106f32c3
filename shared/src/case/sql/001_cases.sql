-- Schema version 1, the cases' part: cases, their departments, reviews, mediation and
-- the audit trail.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

CREATE TABLE IF NOT EXISTS cases (
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
            updated_at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS cases_due ON cases (next_check_at) WHERE next_check_at IS NOT NULL;

CREATE INDEX IF NOT EXISTS cases_nearby ON cases (category, created_at, lat, lng);

CREATE INDEX IF NOT EXISTS cases_by_parent ON cases (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS case_departments (
            case_id TEXT NOT NULL REFERENCES cases (id),
            department TEXT NOT NULL REFERENCES departments (code),
            role TEXT NOT NULL,
            PRIMARY KEY (case_id, department));

CREATE INDEX IF NOT EXISTS case_departments_by_department ON case_departments (department, case_id);

CREATE TABLE IF NOT EXISTS reviews (
            case_id TEXT PRIMARY KEY REFERENCES cases (id),
            opened_at INTEGER NOT NULL,
            comment TEXT,
            status TEXT NOT NULL DEFAULT 'open');

CREATE TABLE IF NOT EXISTS mediation (
            case_id TEXT NOT NULL REFERENCES cases (id),
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            details TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (case_id, seq));

CREATE INDEX IF NOT EXISTS cases_by_status ON cases (status, created_at DESC, id);

CREATE INDEX IF NOT EXISTS cases_by_created ON cases (created_at DESC, id);

CREATE INDEX IF NOT EXISTS cases_by_department ON cases (department, status);

CREATE INDEX IF NOT EXISTS cases_by_grid ON cases (grid_code, status);

CREATE TABLE IF NOT EXISTS case_events (
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
            PRIMARY KEY (case_id, seq));
