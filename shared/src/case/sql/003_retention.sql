-- Schema version 3, the cases' part: retention.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

-- Retention (case/privacy.rs): when a case's personal data was removed, and the cases not
-- yet purged by the time they ended (closed, or rejected / merged). The sweep's query uses
-- this very expression. Runs once, under the version check.
ALTER TABLE cases ADD COLUMN purged_at INTEGER;

CREATE INDEX IF NOT EXISTS cases_to_purge ON cases
            (COALESCE(closed_at, CASE WHEN status IN ('rejected', 'merged') THEN updated_at END))
            WHERE purged_at IS NULL;
