-- Schema version 2: grid workers, and map imports sent in parts.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

-- The grid workers (网格员) on duty per cell. Keyed by cell code, not by map version:
-- a re-import that keeps a cell's code keeps its workers.
CREATE TABLE IF NOT EXISTS grid_workers (
            id TEXT NOT NULL,
            cell TEXT NOT NULL,
            name TEXT NOT NULL,
            phone TEXT NOT NULL,
            on_duty INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (id, cell));

CREATE INDEX IF NOT EXISTS grid_workers_by_cell ON grid_workers (cell, on_duty);

-- Parts of a map import sent in several requests, until the last one arrives.
CREATE TABLE IF NOT EXISTS grid_upload_parts (
            upload TEXT NOT NULL,
            part INTEGER NOT NULL,
            parts INTEGER NOT NULL,
            body TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (upload, part));

CREATE INDEX IF NOT EXISTS grid_upload_parts_by_age ON grid_upload_parts (received_at);
