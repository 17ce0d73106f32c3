-- Schema version 5, the cases' part: evidence, and the trail read by time.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

-- Evidence of a department's result (case/evidence.rs): a photo without its metadata, or a
-- link. `event_seq` is the case event it came with.
CREATE TABLE IF NOT EXISTS evidence (
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
            created_at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS evidence_by_case ON evidence (case_id, event_seq);

-- Open311 service request updates are read by time across cases.
CREATE INDEX IF NOT EXISTS case_events_by_time ON case_events (at);
