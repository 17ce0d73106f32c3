-- Schema version 11: the base registry of places and people (人·地), kept by the grid workers
-- of each cell. `grid_code` is the cell the address's point lies in at registration (as for
-- assets); households and people carry their address's cell, so that every read of the
-- registry is a range of a `(grid_code, …)` index inside the caller's scope.
-- Never edit a version once shipped: append a new one.

-- The tags grid work sorts people by (独居, 高龄, 困难, 残疾, 流动人口 …): a configurable set.
-- `targeted`: a household with a person so tagged is one the targeted visits (分类式) go to.
CREATE TABLE IF NOT EXISTS registry_tags (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    targeted INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL);

INSERT OR IGNORE INTO registry_tags (code, name_zh, name_en, targeted, updated_at) VALUES
    ('living_alone', '独居', 'Living alone', 1, 0),
    ('elderly', '高龄老人', 'Elderly (80+)', 1, 0),
    ('hardship', '困难群众', 'In hardship', 1, 0),
    ('disability', '残疾人', 'Disability', 1, 0),
    ('migrant', '流动人口', 'Migrant', 0, 0),
    ('left_behind_child', '留守儿童', 'Left-behind child', 1, 0),
    ('veteran', '退役军人', 'Veteran', 0, 0),
    ('community_corrections', '社区矫正对象', 'Under community corrections', 1, 0);

-- Standard addresses: a road and number, then building → unit → room. `label` is the whole
-- address as it prints (and as a search by address fragment reads it).
CREATE TABLE IF NOT EXISTS registry_addresses (
    id TEXT PRIMARY KEY,
    grid_code TEXT NOT NULL,
    road TEXT NOT NULL,
    building TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL,
    lat REAL NOT NULL,
    lng REAL NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS registry_addresses_by_grid ON registry_addresses (grid_code, label);

CREATE TABLE IF NOT EXISTS registry_households (
    id TEXT PRIMARY KEY,
    address_id TEXT NOT NULL REFERENCES registry_addresses (id),
    grid_code TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS registry_households_by_address ON registry_households (address_id);
CREATE INDEX IF NOT EXISTS registry_households_by_grid ON registry_households (grid_code, id);

-- Residents. The ID number is never stored in clear: `id_cipher` is AES-256-GCM under a key
-- derived from the `registry_key` variable, `id_hash` its keyed hash (HMAC-SHA-256), by which
-- a search finds it and a repeated import merges; `id_last4` is what a masked answer shows.
-- The phone number is encrypted the same way. `tags` is a JSON array of `registry_tags` codes.
CREATE TABLE IF NOT EXISTS registry_people (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES registry_households (id),
    grid_code TEXT NOT NULL,
    name TEXT NOT NULL,
    relation TEXT NOT NULL DEFAULT '',
    birth_year INTEGER,
    id_hash TEXT UNIQUE,
    id_cipher TEXT,
    id_last4 TEXT,
    phone_cipher TEXT,
    phone_masked TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS registry_people_by_grid ON registry_people (grid_code, name);
CREATE INDEX IF NOT EXISTS registry_people_by_household ON registry_people (household_id);

-- Every staff look at a person: who, when, and how (`search`: listed masked by a search,
-- `view`: opened masked, `reveal`: the ID and phone number shown whole). Never updated.
CREATE TABLE IF NOT EXISTS registry_reads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    purpose TEXT NOT NULL,
    at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS registry_reads_by_person ON registry_reads (person_id, seq);

-- The grid worker's visits (近邻串门): `kind` is emotional (情感式), routine (串门式) or targeted
-- (分类式). `idempotency_key` is the worker's device's key for the visit, so that an offline
-- sync sent twice stores it once. `day` is the city day it started (the two-hour target is a
-- day's). `case_id`: the case a finding opened, the visit being its origin.
CREATE TABLE IF NOT EXISTS visits (
    id TEXT PRIMARY KEY,
    worker TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    grid_code TEXT NOT NULL,
    household_id TEXT REFERENCES registry_households (id),
    kind TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    day INTEGER NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    case_id TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (worker, idempotency_key));

CREATE INDEX IF NOT EXISTS visits_by_grid ON visits (grid_code, started_at);
CREATE INDEX IF NOT EXISTS visits_by_worker_day ON visits (worker, day);
CREATE INDEX IF NOT EXISTS visits_by_household ON visits (household_id, started_at);

-- Each cell's three lists (需求清单、民情清单、资源清单): `list` is needs, concerns or resources;
-- `state` open, in_progress or met; `met_by` the staff member who marked it met.
CREATE TABLE IF NOT EXISTS cell_list_items (
    id TEXT PRIMARY KEY,
    grid_code TEXT NOT NULL,
    list TEXT NOT NULL,
    title TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'open',
    household_id TEXT REFERENCES registry_households (id),
    visit_id TEXT REFERENCES visits (id),
    case_id TEXT,
    created_by TEXT NOT NULL,
    met_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS cell_list_items_by_grid ON cell_list_items (grid_code, list, state, created_at);
