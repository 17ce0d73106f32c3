//! The stores on temporary files: every kind of statement, transactions, key-value, variables.

use super::*;
use futures::executor::block_on;

fn temp_config(tag: &str) -> EnvConfig {
    let dir = std::env::temp_dir().join(format!("onegrid-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let variables = HashMap::from([("onegrid_test_fallback".to_owned(), "from-file".to_owned())]);
    EnvConfig {
        data_dir: dir,
        variables: Arc::new(variables),
    }
}

#[test]
fn statements_of_every_kind_run() {
    let env = temp_config("db").open().unwrap();
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
fn a_transaction_left_open_is_rolled_back() {
    let env = temp_config("tx").open().unwrap();
    block_on(env.execute("CREATE TABLE t (x INTEGER)", &[])).unwrap();
    block_on(env.execute("BEGIN IMMEDIATE", &[])).unwrap();
    block_on(env.execute("INSERT INTO t VALUES (1)", &[])).unwrap();
    assert!(env.end_request());
    assert!(!env.end_request());
    let rows = block_on(env.execute("SELECT count(*) AS n FROM t", &[])).unwrap();
    assert_eq!(rows.first().unwrap().i64("n").unwrap(), 0);
}

#[test]
fn key_value_round_trips() {
    let env = temp_config("kv").open().unwrap();
    assert_eq!(block_on(env.get("k")).unwrap(), None);
    block_on(env.set("k", b"one")).unwrap();
    block_on(env.set("k", b"two")).unwrap();
    assert_eq!(
        block_on(env.get("k")).unwrap().as_deref(),
        Some(&b"two"[..])
    );
    assert!(block_on(env.exists("k")).unwrap());
    block_on(env.delete("k")).unwrap();
    assert!(!block_on(env.exists("k")).unwrap());
}

#[test]
fn variables_fall_back_to_the_secrets_file() {
    let env = temp_config("var").open().unwrap();
    assert_eq!(
        block_on(env.variable("onegrid_test_fallback"))
            .unwrap()
            .as_deref(),
        Some("from-file")
    );
    assert_eq!(
        block_on(env.variable("onegrid_test_unset_variable")).unwrap(),
        None
    );
    assert!(env.now_ms() > 1_600_000_000_000);
}
