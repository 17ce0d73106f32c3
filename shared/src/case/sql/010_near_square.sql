-- Schema version 10, the cases' part: duplicates are looked for by place first.
-- Never edit a version once shipped: append a new one.

-- The square of 0.005° by 0.005° (about 550 m by 500 m in Xiamen) that holds the case's point,
-- as floor(lat / 0.005) * 100000 + floor(lng / 0.005) (`case::store::near_square`). A report
-- looks for probable duplicates in the squares its radius touches: the cases of the category
-- there in the window, not every case of the category in the window (a city's whole day).
ALTER TABLE cases ADD COLUMN near_square INTEGER;
UPDATE cases SET near_square =
    (CAST(lat / 0.005 AS INTEGER) - (lat < 0 AND lat / 0.005 <> CAST(lat / 0.005 AS INTEGER))) * 100000
    + (CAST(lng / 0.005 AS INTEGER) - (lng < 0 AND lng / 0.005 <> CAST(lng / 0.005 AS INTEGER)));
CREATE INDEX IF NOT EXISTS cases_near ON cases (category, near_square, created_at);
-- It served the duplicate search alone; the new index does that.
DROP INDEX IF EXISTS cases_nearby;
