-- Schema version 5, the directory's part.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

-- Department secret rotation: the previous secret verifies (and signs beside the new one)
-- until `previous_secret_until`.
ALTER TABLE departments ADD COLUMN previous_secret TEXT;

ALTER TABLE departments ADD COLUMN previous_secret_until INTEGER;
