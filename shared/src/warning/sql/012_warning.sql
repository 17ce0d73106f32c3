-- Schema version 12: early warning (研判). The detectors' counters, written in each report's own
-- transaction, and the alerts they raise with their evidence and their own trail.
-- Never edit a version once shipped: append a new one.

-- Reports per cell, category and city day (UTC+8): the cluster detector's window and its
-- baseline are one primary-key range of this table, whatever the size of `cases`.
CREATE TABLE IF NOT EXISTS warning_counts (
    cell TEXT NOT NULL,
    category TEXT NOT NULL,
    day INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    PRIMARY KEY (cell, category, day)) WITHOUT ROWID;
-- The sweep's way to the days no window or baseline reads any more.
CREATE INDEX IF NOT EXISTS warning_counts_by_day ON warning_counts (day);

-- Each return (退单) of a case by its department: the returns detector's window, baseline and
-- evidence, one primary-key range of a department's rows.
CREATE TABLE IF NOT EXISTS warning_returns (
    department TEXT NOT NULL,
    at INTEGER NOT NULL,
    case_id TEXT NOT NULL,
    PRIMARY KEY (department, at, case_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS warning_returns_by_time ON warning_returns (at);

-- An alert: what a detector saw (its signal and rule version), where (the area, a grid code, and
-- the street above it; '' for a department's alert, which is the city centre's), of what (the
-- category; '' for a department's), the figures behind it, and the unit expected to act: the
-- street's comprehensive centre, with the department.
-- status: new → acknowledged → acting → closed, or dismissed (with a reason) from any open one.
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    signal TEXT NOT NULL,
    rule_version INTEGER NOT NULL,
    area TEXT NOT NULL,
    area_name TEXT NOT NULL,
    street TEXT NOT NULL,
    street_name TEXT NOT NULL,
    category TEXT NOT NULL,
    department TEXT NOT NULL,
    status TEXT NOT NULL,
    observed INTEGER NOT NULL,
    expected REAL NOT NULL,
    -- A cluster test's; none for a repeat.
    p_value REAL,
    window_days INTEGER NOT NULL,
    -- The first city day of the window the alert was raised on.
    window_first_day INTEGER NOT NULL,
    explanation TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ended_at INTEGER,
    last_seq INTEGER NOT NULL);
-- An operator's board: the alerts of an area (a prefix range of grid codes), newest first.
CREATE INDEX IF NOT EXISTS alerts_by_area ON alerts (area, opened_at);
-- The city's board, by status.
CREATE INDEX IF NOT EXISTS alerts_by_status ON alerts (status, opened_at);
-- A detector's latest alert on one area and category: the one a new report extends, or the one
-- whose end keeps the same days from raising another.
CREATE INDEX IF NOT EXISTS alerts_by_subject ON alerts (signal, area, category, opened_at);
-- The detectors' precision figures: alerts by outcome, per rule version.
CREATE INDEX IF NOT EXISTS alerts_by_outcome ON alerts (signal, rule_version, status);

-- The cases an alert stands on.
CREATE TABLE IF NOT EXISTS alert_cases (
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (alert_id, case_id)) WITHOUT ROWID;

-- An alert's trail: raised, then each move, by whom, with its note or reason.
CREATE TABLE IF NOT EXISTS alert_events (
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (alert_id, seq)) WITHOUT ROWID;
