-- Schema version 7, access's part.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

-- Rate-limit counts of the public routes (access/limits.rs): one row per limit, subject and
-- one-minute window, counted by one upsert. `subject_hash` is the whole HMAC-SHA256 of the
-- subject (a client address) under a secret key, so no two subjects share a count and no
-- address is kept. The window leads the key so that the sweep deletes old windows by a range
-- of the primary key, without another index.
CREATE TABLE IF NOT EXISTS rate_limits (
            minute INTEGER NOT NULL,
            name TEXT NOT NULL,
            subject_hash TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (minute, name, subject_hash)) WITHOUT ROWID;
