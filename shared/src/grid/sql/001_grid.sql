-- Schema version 1, the grid's part: the map's versions, its cells and areas, and the
-- lookup's tiles.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

CREATE TABLE IF NOT EXISTS map_versions (
            version INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at INTEGER NOT NULL,
            grids INTEGER NOT NULL,
            cells INTEGER NOT NULL,
            is_current INTEGER NOT NULL DEFAULT 0);

CREATE TABLE IF NOT EXISTS grids (
            code TEXT NOT NULL,
            version INTEGER NOT NULL,
            name TEXT NOT NULL,
            level TEXT NOT NULL,
            parent TEXT,
            shape TEXT,
            PRIMARY KEY (code, version));

CREATE INDEX IF NOT EXISTS grids_by_parent ON grids (parent, version);

CREATE TABLE IF NOT EXISTS grid_tiles (
            version INTEGER NOT NULL,
            key TEXT NOT NULL,
            PRIMARY KEY (version, key));
