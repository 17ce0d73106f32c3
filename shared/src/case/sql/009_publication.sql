-- Schema version 9, the cases' part: the publication rule (docs/publication.md).
-- Never edit a version once shipped: append a new one.

-- Whether the case may appear on public answers (the reporter chose it, the channel allows it,
-- no operator withdrew it), and the id it has there: never the tracking code, which is the
-- reporter's capability. Cases from before this version were never offered the choice: they
-- stay private.
ALTER TABLE cases ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN public_id TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS cases_by_public_id ON cases (public_id) WHERE public_id IS NOT NULL;
-- The public lists: by time (Open311 `requests`), and near a point ("problems near here").
CREATE INDEX IF NOT EXISTS public_cases_by_time ON cases (created_at) WHERE public = 1;
CREATE INDEX IF NOT EXISTS public_cases_by_place ON cases (lat, lng) WHERE public = 1;

-- A photo shows on public answers only once staff approved it (when, and by the trail's event).
ALTER TABLE evidence ADD COLUMN public_at INTEGER;
