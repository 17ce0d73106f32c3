-- Schema version 6: the asset registry (部件). `grid_code` is the cell at registration;
-- sheets read the assets of an area as a range of `assets_by_grid`.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

CREATE TABLE IF NOT EXISTS assets (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    lat REAL NOT NULL,
    lng REAL NOT NULL,
    grid_code TEXT NOT NULL,
    department TEXT NOT NULL REFERENCES departments (code),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS assets_by_grid ON assets (grid_code, id);
