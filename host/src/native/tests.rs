//! The host's platform on temporary files: variables from the environment, then the file.
//! (The stores themselves are tested with the adapter, in `onegrid::native`.)

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
fn the_stores_are_files_in_the_data_directory() {
    use onegrid::ports::{Database, KeyValue};
    let config = temp_config("files");
    let env = config.open().unwrap();
    block_on(env.execute("CREATE TABLE t (x INTEGER)", &[])).unwrap();
    block_on(env.set("k", b"v")).unwrap();
    drop(env);
    assert!(config.db_path().is_file());
    assert!(config.data_dir.join("kv.db").is_file());
    let again = config.open().unwrap();
    assert_eq!(
        block_on(again.get("k")).unwrap().as_deref(),
        Some(&b"v"[..])
    );
    assert!(block_on(again.execute("SELECT x FROM t", &[])).is_ok());
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
