//! SQLite helpers every context's store uses: a write transaction, and the migration runner.
//! Spin has no migration tool; this is it: numbered migrations of idempotent DDL, each applied
//! inside `BEGIN IMMEDIATE` after re-reading the version, so two instances starting at once
//! apply each migration exactly once. Which migrations exist is the application's list
//! (`app::schema`); each context owns its `.sql` files. Spin refuses several statements in one
//! call, so the runner splits each file ([`statements`]) and must never send a file whole.

use crate::{Database, Problem, StoreError};

/// One schema version and its SQL files (statements ending in `;`), applied in this order in
/// one transaction.
pub type Migration = (i64, &'static [&'static str]);

/// Runs `work` inside `BEGIN IMMEDIATE … COMMIT`, rolling back on any error.
pub async fn in_transaction<D: Database, T>(
    db: &D,
    work: impl Future<Output = Result<T, Problem>>,
) -> Result<T, Problem> {
    db.execute("BEGIN IMMEDIATE", &[]).await?;
    match work.await {
        Ok(value) => {
            db.execute("COMMIT", &[]).await?;
            Ok(value)
        }
        Err(e) => {
            let _ = db.execute("ROLLBACK", &[]).await;
            Err(e)
        }
    }
}

/// The newest schema version this code knows.
pub fn latest(migrations: &[Migration]) -> i64 {
    migrations.last().map_or(0, |(v, _)| *v)
}

async fn current<D: Database>(db: &D) -> Result<i64, StoreError> {
    let rows = db
        .execute(
            "SELECT COALESCE(MAX(version), 0) AS v FROM schema_version",
            &[],
        )
        .await?;
    rows.first().map_or(Ok(0), |r| r.i64("v"))
}

/// Brings the database to the newest schema; returns its version.
pub async fn migrate<D: Database>(db: &D, migrations: &[Migration]) -> Result<i64, StoreError> {
    // WAL for good: measured on Spin 4.0.2, about 3.5x the insert throughput of the default journal.
    // It is a setting of a local file: a libSQL server keeps its own journal, and Spin's libSQL
    // client refuses the pragma before sending it ("unsupported statement"), so there it is
    // skipped, said once per migration run.
    if let Err(e) = db.execute("PRAGMA journal_mode=WAL", &[]).await {
        tracing::warn!(error = %e, "PRAGMA journal_mode=WAL refused; the journal stays as the database keeps it");
    }
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        &[],
    )
    .await?;
    for (version, files) in migrations {
        if current(db).await? >= *version {
            continue;
        }
        db.execute("BEGIN IMMEDIATE", &[]).await?;
        // Re-read under the write lock: another instance may have applied it meanwhile.
        let applied: Result<(), StoreError> = async {
            if current(db).await? >= *version {
                return Ok(());
            }
            // Split here, only for a version being applied: a current database splits nothing.
            for statement in files.iter().flat_map(|file| statements(file)) {
                db.execute(statement, &[]).await?;
            }
            db.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, strftime('%s','now'))",
                &[(*version).into()],
            )
            .await?;
            Ok(())
        }
        .await;
        match applied {
            Ok(()) => {
                db.execute("COMMIT", &[]).await?;
            }
            Err(e) => {
                let _ = db.execute("ROLLBACK", &[]).await;
                return Err(e);
            }
        }
    }
    current(db).await
}

/// Called at the start of a request that uses SQL: one indexed read when the schema is current.
pub async fn ensure<D: Database>(db: &D, migrations: &[Migration]) -> Result<i64, StoreError> {
    match current(db).await {
        Ok(v) if v >= latest(migrations) => Ok(v),
        _ => migrate(db, migrations).await,
    }
}

/// The statements of a file of SQL, in order, each from its first token to its last: without
/// the `;` that ends it and the comments around it (a comment inside a statement stays, as
/// SQLite keeps a table's text as written). A `;` ends a statement unless it is in a comment,
/// a string or a quoted name, or inside the `BEGIN … END` body of a `CREATE TRIGGER`; text
/// after the last `;` is a statement too. The same rules as SQLite's `sqlite3_complete`.
pub fn statements(sql: &str) -> impl Iterator<Item = &str> {
    let mut from = 0;
    std::iter::from_fn(move || {
        let (statement, next) = next_statement(sql, from)?;
        from = next;
        Some(statement)
    })
}

/// Where the splitter is in a statement. A trigger's body holds `;`s: it ends only at `END`
/// right after one of them (a `CASE … END` follows some other token), then its own `;`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Split {
    Start,
    Normal,
    /// After `CREATE` (and `TEMP`): a `TRIGGER` next makes it a trigger.
    Create,
    Trigger,
    TriggerSemicolon,
    TriggerEnd,
}

/// What the splitter tells apart; names and literals are all `Other`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Token {
    /// Whitespace or a comment.
    Space,
    Semicolon,
    Create,
    Temp,
    Trigger,
    End,
    Other,
}

/// The statement starting at or after `from`, and where the next one may start.
fn next_statement(sql: &str, from: usize) -> Option<(&str, usize)> {
    let bytes = sql.as_bytes();
    let mut state = Split::Start;
    let (mut start, mut end) = (None, from);
    let mut at = from;
    while at < bytes.len() {
        let (token, next) = token(bytes, at);
        state = match (token, state) {
            (Token::Space, state) => state,
            // An empty statement (`;;`) is no statement.
            (Token::Semicolon, Split::Start) => Split::Start,
            (Token::Semicolon, Split::Normal | Split::Create | Split::TriggerEnd) => {
                return start.map(|s| (&sql[s..end], next));
            }
            (Token::Semicolon, _) => Split::TriggerSemicolon,
            (Token::Create, Split::Start) => Split::Create,
            (Token::Temp, Split::Create) => Split::Create,
            (Token::Trigger, Split::Create) => Split::Trigger,
            (Token::End, Split::TriggerSemicolon) => Split::TriggerEnd,
            (_, Split::Trigger | Split::TriggerSemicolon | Split::TriggerEnd) => Split::Trigger,
            (_, _) => Split::Normal,
        };
        if token != Token::Space && state != Split::Start {
            start.get_or_insert(at);
            end = next;
        }
        at = next;
    }
    start.map(|s| (&sql[s..end], bytes.len()))
}

/// The first offset from `from` on where `stop` holds of the rest, or the end.
fn position(bytes: &[u8], from: usize, stop: impl Fn(&[u8]) -> bool) -> usize {
    (from..bytes.len())
        .find(|&i| stop(&bytes[i..]))
        .unwrap_or(bytes.len())
}

/// The token at `at` (an ASCII byte or the first byte of a character) and the offset after
/// it. Bytes, not chars: every byte the splitter stops at is ASCII, so slices stay on chars.
fn token(bytes: &[u8], at: usize) -> (Token, usize) {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || !b.is_ascii();
    match bytes[at] {
        b if b.is_ascii_whitespace() => (Token::Space, at + 1),
        b'-' if bytes.get(at + 1) == Some(&b'-') => (
            Token::Space,
            position(bytes, at + 2, |rest| rest[0] == b'\n'),
        ),
        b'/' if bytes.get(at + 1) == Some(&b'*') => {
            let close = position(bytes, at + 2, |rest| rest.starts_with(b"*/"));
            (Token::Space, (close + 2).min(bytes.len()))
        }
        // A quote ends at the next one of its kind that is not doubled ('it''s', "a""b").
        quote @ (b'\'' | b'"' | b'`') => {
            let mut close = position(bytes, at + 1, |rest| rest[0] == quote);
            while bytes.get(close + 1) == Some(&quote) {
                close = position(bytes, close + 2, |rest| rest[0] == quote);
            }
            (Token::Other, (close + 1).min(bytes.len()))
        }
        b'[' => {
            let close = position(bytes, at + 1, |rest| rest[0] == b']');
            (Token::Other, (close + 1).min(bytes.len()))
        }
        b';' => (Token::Semicolon, at + 1),
        b if word(b) => {
            let next = position(bytes, at, |rest| !word(rest[0]));
            let token = match &bytes[at..next] {
                w if w.eq_ignore_ascii_case(b"create") => Token::Create,
                w if w.eq_ignore_ascii_case(b"temp") || w.eq_ignore_ascii_case(b"temporary") => {
                    Token::Temp
                }
                w if w.eq_ignore_ascii_case(b"trigger") => Token::Trigger,
                w if w.eq_ignore_ascii_case(b"end") => Token::End,
                _ => Token::Other,
            };
            (token, next)
        }
        _ => (Token::Other, at + 1),
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::Value;
    use crate::native::testenv::TestEnv;

    fn split(sql: &str) -> Vec<&str> {
        statements(sql).collect()
    }

    #[test]
    fn a_file_splits_at_each_semicolon_that_ends_a_statement() {
        let file = "-- The table, then its index.\nCREATE TABLE t (x INTEGER);\n\n;;\
                    CREATE INDEX t_by_x ON t (x) ;\n-- nothing after this\n";
        assert_eq!(
            split(file),
            ["CREATE TABLE t (x INTEGER)", "CREATE INDEX t_by_x ON t (x)"]
        );
        assert_eq!(split("SELECT 1;\nSELECT 2"), ["SELECT 1", "SELECT 2"]);
        assert!(split("").is_empty());
        assert!(split(" -- only a comment; really\n/* and; another */ ;\n").is_empty());
    }

    #[test]
    fn semicolons_in_comments_strings_and_quoted_names_stay_in_their_statement() {
        let first = "INSERT INTO t VALUES ('a;b', 'it''s; fine', x'3b')";
        let second = "SELECT \"odd;name\", \"say \"\";\"\"\", [x;y], `z;w` /* a; b */ FROM t";
        let third = "CREATE TABLE u (\n    -- why; because\n    y TEXT)";
        let file = format!("{first} -- the end; of it\n;\n{second};\n{third};\n");
        assert_eq!(split(&file), [first, second, third]);
    }

    #[test]
    fn names_and_text_in_other_scripts_do_not_confuse_it() {
        let file = "INSERT INTO t VALUES ('网格员; 第一'); -- 注释; 说明\nSELECT '—';";
        assert_eq!(
            split(file),
            ["INSERT INTO t VALUES ('网格员; 第一')", "SELECT '—'"]
        );
        // Keywords only count as whole words: a table `triggers`, a column `end_at`.
        let file = "CREATE TABLE triggers (end_at INTEGER); CREATE TEMP TABLE e (x); SELECT 1;";
        assert_eq!(
            split(file),
            [
                "CREATE TABLE triggers (end_at INTEGER)",
                "CREATE TEMP TABLE e (x)",
                "SELECT 1"
            ]
        );
    }

    #[test]
    fn a_trigger_is_one_statement_with_its_body() {
        let trigger = "CREATE TRIGGER IF NOT EXISTS t_counted AFTER INSERT ON t BEGIN\n    \
                       UPDATE counts SET n = CASE WHEN n IS NULL THEN 1 ELSE n + 1 END;\n    \
                       INSERT INTO log (x) VALUES (new.x); -- logged; always\nEND";
        let temp = "create temporary trigger t_gone after delete on t begin delete from log; end";
        let file = format!(
            "CREATE TABLE t (x INTEGER);\n{trigger};\n{temp};\nCREATE TABLE log (x INTEGER);\n\
             CREATE TABLE counts (n INTEGER);\nINSERT INTO counts VALUES (NULL);"
        );
        let got = split(&file);
        assert_eq!(got[1], trigger);
        assert_eq!(got[2], temp);
        assert_eq!(got.len(), 6);

        // SQLite takes each as one statement (rusqlite, as Spin, refuses several in one call)
        // and the trigger runs its whole body.
        let env = TestEnv::new();
        block_on(async {
            for statement in &got {
                env.execute(statement, &[]).await.unwrap();
            }
            env.execute("INSERT INTO t VALUES (7), (8)", &[])
                .await
                .unwrap();
            let n = env.execute("SELECT n FROM counts", &[]).await.unwrap();
            assert_eq!(n.rows, [[Value::Integer(2)]]);
            let log = env.execute("SELECT COUNT(*) FROM log", &[]).await.unwrap();
            assert_eq!(log.rows, [[Value::Integer(2)]]);
            assert!(
                env.execute("SELECT 1; SELECT 2", &[]).await.is_err(),
                "the test database refuses several statements in one call, as Spin does"
            );
        });
    }

    /// A database that refuses `PRAGMA journal_mode=WAL` before running it, as Spin's libSQL
    /// client does (`unsupported statement`), and runs everything else.
    struct RefusesJournalPragma(TestEnv);

    impl Database for RefusesJournalPragma {
        async fn execute(
            &self,
            statement: &str,
            params: &[Value],
        ) -> Result<crate::Rows, StoreError> {
            if statement.starts_with("PRAGMA journal_mode") {
                return Err(StoreError(
                    "sqlite execute: Error::Io(\"unsupported statement\")".into(),
                ));
            }
            self.0.execute(statement, params).await
        }
    }

    #[test]
    fn a_database_that_refuses_the_journal_pragma_is_migrated_all_the_same() {
        const FIRST: &str = "CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);\n";
        let db = RefusesJournalPragma(TestEnv::new());
        let migrations: &[Migration] = &[(1, &[FIRST])];
        assert_eq!(block_on(migrate(&db, migrations)).unwrap(), 1);
        assert_eq!(block_on(ensure(&db, migrations)).unwrap(), 1);
        let a = block_on(db.execute("SELECT x FROM a", &[])).unwrap();
        assert_eq!(a.rows, [[Value::Integer(1)]]);
    }

    #[test]
    fn a_migration_applies_its_files_in_order_in_one_transaction() {
        const FIRST: &str = "CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);\n";
        const SECOND: &str = "INSERT INTO a SELECT x + 1 FROM a;";
        const BROKEN: &str = "CREATE TABLE b (y INTEGER);\nINSERT INTO nowhere VALUES (1);";
        let env = TestEnv::new();
        let migrations: &[Migration] = &[(1, &[FIRST, SECOND]), (2, &[BROKEN])];
        assert!(block_on(migrate(&env, migrations)).is_err());
        block_on(async {
            let a = env
                .execute("SELECT x FROM a ORDER BY x", &[])
                .await
                .unwrap();
            assert_eq!(a.rows, [[Value::Integer(1)], [Value::Integer(2)]]);
            assert!(
                env.execute("SELECT y FROM b", &[]).await.is_err(),
                "version 2 rolled back whole"
            );
            assert_eq!(current(&env).await.unwrap(), 1);
        });
        assert_eq!(block_on(migrate(&env, &migrations[..1])).unwrap(), 1);
    }
}
