-- Schema version 8, access's part: sign-in lock-outs per account and client address.
-- Never edit a version once shipped (every database keeps its text in sqlite_master):
-- append a new one.

-- Failed sign-ins of one username from one client (access/accounts.rs): `subject` is a hash of
-- the username (known or not, so that both answer alike) and `client` a hash of the address.
-- Five failures in a row lock that pair, for 15 minutes, doubling with each lock (`locks`), up
-- to a day; the same account from another address is not locked. Changed only by single
-- UPSERT/UPDATE statements, so parallel guesses cannot slip past the count.
CREATE TABLE IF NOT EXISTS sign_in_locks (
            subject TEXT NOT NULL,
            client TEXT NOT NULL,
            failed INTEGER NOT NULL DEFAULT 0,
            locks INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (subject, client));
