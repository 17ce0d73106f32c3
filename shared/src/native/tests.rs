//! The adapter on temporary files and in memory: every kind of statement, transactions,
//! key-value, and the platform handed through.

use std::path::PathBuf;

use futures::executor::block_on;

use super::*;

/// A fresh directory under the system's temporary one, for this process and `tag`.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("onegrid-native-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A platform that only tells the time.
struct Clock(i64);

impl Platform for Clock {
    async fn variable(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok((name == "known").then(|| "yes".to_owned()))
    }
    fn now_ms(&self) -> i64 {
        self.0
    }
    async fn send(&self, _: OutboundRequest) -> Result<OutboundResponse, String> {
        Err("no network".into())
    }
}

fn on_files(tag: &str) -> NativeEnv<Clock> {
    let dir = temp_dir(tag);
    NativeEnv {
        db: Sqlite::open(&dir.join("onegrid.db")).unwrap(),
        kv: SqliteKv::open(&dir.join("kv.db")).unwrap(),
        platform: Clock(42),
    }
}

#[test]
fn statements_of_every_kind_run() {
    let env = on_files("db");
    let exec = |sql: &str, params: &[Value]| block_on(env.execute(sql, params));
    exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)",
        &[],
    )
    .unwrap();
    assert_eq!(
        exec("PRAGMA foreign_keys", &[]).unwrap().rows,
        vec![vec![Value::Integer(1)]]
    );
    exec("BEGIN IMMEDIATE", &[]).unwrap();
    let params = [Value::from("a"), Value::Real(1.5), Value::Blob(vec![1, 2])];
    let rows = exec(
        "INSERT INTO t (name, score, data) VALUES (?, ?, ?) RETURNING id, name",
        &params,
    )
    .unwrap();
    assert_eq!(rows.columns, vec!["id", "name"]);
    assert_eq!(rows.first().unwrap().i64("id").unwrap(), 1);
    exec("COMMIT", &[]).unwrap();
    exec("BEGIN IMMEDIATE", &[]).unwrap();
    exec("INSERT INTO t (name) VALUES (?)", &[Value::Null]).unwrap();
    exec("ROLLBACK", &[]).unwrap();
    let all = exec("SELECT id, name, score, data FROM t ORDER BY id", &[]).unwrap();
    assert_eq!(
        all.rows,
        vec![vec![
            Value::Integer(1),
            "a".into(),
            Value::Real(1.5),
            Value::Blob(vec![1, 2])
        ]]
    );
    let err = exec("SELECT * FROM missing", &[]).unwrap_err();
    assert!(err.0.contains("missing"), "{err}");
    assert!(
        exec("SELECT 1; SELECT 2", &[]).is_err(),
        "one statement per call"
    );
}

#[test]
fn a_database_in_memory_is_set_up_as_a_file_is() {
    let db = Sqlite::in_memory().unwrap();
    let rows = block_on(db.execute("PRAGMA foreign_keys", &[])).unwrap();
    assert_eq!(rows.rows, vec![vec![Value::Integer(1)]]);
}

#[test]
fn a_transaction_left_open_is_rolled_back() {
    let env = on_files("tx");
    block_on(env.execute("CREATE TABLE t (x INTEGER)", &[])).unwrap();
    block_on(env.execute("BEGIN IMMEDIATE", &[])).unwrap();
    block_on(env.execute("INSERT INTO t VALUES (1)", &[])).unwrap();
    assert!(env.end_request());
    assert!(!env.end_request());
    let rows = block_on(env.execute("SELECT count(*) AS n FROM t", &[])).unwrap();
    assert_eq!(rows.first().unwrap().i64("n").unwrap(), 0);
}

#[test]
fn key_value_round_trips_on_a_file_and_in_memory() {
    let on_file = on_files("kv");
    let in_memory = NativeEnv {
        db: Sqlite::in_memory().unwrap(),
        kv: SqliteKv::in_memory().unwrap(),
        platform: Clock(0),
    };
    for env in [&on_file, &in_memory] {
        assert_eq!(block_on(env.get("k")).unwrap(), None);
        block_on(env.set("k", b"one")).unwrap();
        block_on(env.set("k", b"two")).unwrap();
        block_on(env.set("a", b"")).unwrap();
        assert_eq!(
            block_on(env.get("k")).unwrap().as_deref(),
            Some(&b"two"[..])
        );
        assert!(block_on(env.exists("k")).unwrap());
        assert_eq!(env.kv.keys().unwrap(), vec!["a", "k"]);
        block_on(env.delete("k")).unwrap();
        assert!(!block_on(env.exists("k")).unwrap());
        assert_eq!(env.kv.keys().unwrap(), vec!["a"]);
    }
}

#[test]
fn the_key_value_file_is_shared_between_connections() {
    let dir = temp_dir("kv-shared");
    let (one, two) = (
        SqliteKv::open(&dir.join("kv.db")).unwrap(),
        SqliteKv::open(&dir.join("kv.db")).unwrap(),
    );
    block_on(one.set("k", b"v")).unwrap();
    assert_eq!(block_on(two.get("k")).unwrap().as_deref(), Some(&b"v"[..]));
}

#[test]
fn the_platform_is_the_callers() {
    let env = on_files("platform");
    assert_eq!(env.now_ms(), 42);
    assert_eq!(
        block_on(env.variable("known")).unwrap().as_deref(),
        Some("yes")
    );
    assert_eq!(block_on(env.variable("unknown")).unwrap(), None);
    let request = OutboundRequest {
        method: "POST".into(),
        url: "http://127.0.0.1:9/".into(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    assert!(block_on(env.send(request)).is_err());
}

/// The adapter is beside the layers, never under them: outside `native/`, only test code
/// (test files, and what follows a `#[cfg(test)]` at the start of a line) may name it.
#[test]
fn no_module_of_the_layers_imports_the_adapter() {
    fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("native") {
                    visit(&path, found);
                }
                continue;
            }
            let name = path.file_stem().unwrap().to_string_lossy();
            let test_file = name == "tests" || name.ends_with("_tests") || name == "testkit";
            if test_file || path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("\n#[cfg(test)]").next().unwrap_or_default();
            if code.contains("crate::native") || code.contains("super::native") {
                found.push(path.display().to_string());
            }
        }
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    visit(&src, &mut found);
    assert!(
        found.is_empty(),
        "the native adapter is imported by {found:?}"
    );
}

/// What the group of the file at `path` has counted so far.
fn counts_of(path: &std::path::Path) -> DurabilityCount {
    let file = path.canonicalize().unwrap();
    durability_counts()
        .into_iter()
        .find(|c| c.file == file)
        .expect("the file is counted")
}

#[test]
fn writers_on_their_own_connections_commit_through_one_group_sync() {
    let dir = temp_dir("group-commit");
    let path = dir.join("onegrid.db");
    let first = Sqlite::open(&path).unwrap();
    block_on(first.execute("CREATE TABLE t (n INTEGER NOT NULL)", &[])).unwrap();
    let counted = || counts_of(&path);
    let before = counted();
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let path = path.clone();
            std::thread::spawn(move || {
                let db = Sqlite::open(&path).unwrap();
                for n in 0..25 {
                    let row = [Value::Integer(i * 100 + n)];
                    block_on(db.execute("INSERT INTO t (n) VALUES (?1)", &row)).unwrap();
                }
                // A transaction that fails rolls back itself alone.
                block_on(db.execute("BEGIN", &[])).unwrap();
                block_on(db.execute("INSERT INTO t (n) VALUES (-1)", &[])).unwrap();
                assert!(block_on(db.execute("INSERT INTO t (n) VALUES (NULL)", &[])).is_err());
                block_on(db.execute("ROLLBACK", &[])).unwrap();
                // Reads commit nothing.
                block_on(db.execute("SELECT count(*) AS n FROM t", &[])).unwrap();
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("a writer");
    }
    let rows =
        block_on(first.execute("SELECT count(*) AS n, min(n) AS least FROM t", &[])).unwrap();
    let row = rows.first().unwrap();
    assert_eq!(row.i64("n").unwrap(), 200);
    assert_eq!(row.i64("least").unwrap(), 0);
    let after = counted();
    assert_eq!(
        after.commits - before.commits,
        200,
        "one commit per insert, none per read"
    );
    assert!(after.syncs - before.syncs <= 200);
    drop(first);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn key_value_writers_take_turns_and_every_write_lands() {
    let dir = temp_dir("group-commit-kv");
    let path = dir.join("kv.db");
    let first = SqliteKv::open(&path).unwrap();
    let counted = || counts_of(&path);
    let before = counted();
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let path = path.clone();
            std::thread::spawn(move || {
                let kv = SqliteKv::open(&path).unwrap();
                for n in 0..25 {
                    let key = format!("k{i}_{n}");
                    block_on(kv.set(&key, key.as_bytes())).unwrap();
                }
                block_on(kv.delete(&format!("k{i}_0"))).unwrap();
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("a writer");
    }
    let keys = first.keys().unwrap();
    assert_eq!(keys.len(), 8 * 24);
    assert_eq!(block_on(first.get("k3_7")).unwrap(), Some(b"k3_7".to_vec()));
    assert_eq!(counted().commits - before.commits, 8 * 26);
    drop(first);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_connection_dropped_inside_a_write_transaction_gives_its_turn_on() {
    let dir = temp_dir("group-commit-drop");
    let path = dir.join("onegrid.db");
    let other = Sqlite::open(&path).unwrap();
    let dropped = Sqlite::open(&path).unwrap();
    block_on(dropped.execute("BEGIN IMMEDIATE", &[])).unwrap();
    block_on(dropped.execute("CREATE TABLE gone (n INTEGER)", &[])).unwrap();
    drop(dropped);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        block_on(other.execute("BEGIN IMMEDIATE", &[])).unwrap();
        block_on(other.execute("CREATE TABLE kept (n INTEGER)", &[])).unwrap();
        block_on(other.execute("COMMIT", &[])).unwrap();
        let rows = block_on(other.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            &[],
        ))
        .unwrap();
        let _ = done.send(
            rows.iter()
                .map(|r| r.text("name").unwrap())
                .collect::<Vec<_>>(),
        );
    });
    let tables = finished
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the next writer got its turn");
    assert_eq!(tables, ["kept"], "the dropped transaction was rolled back");
    let _ = std::fs::remove_dir_all(&dir);
}
