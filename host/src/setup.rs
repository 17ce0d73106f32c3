//! Starting a deployment on a data directory: the tokens, the schema, and on the very first
//! start the demo city, so that `onegrid` on a fresh checkout serves a working city.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use futures::executor::block_on;

use crate::native::EnvConfig;
use crate::secrets;
use onegrid::native::router::Manifest;

pub fn prepare(data_dir: &Path, manifest: &Manifest) -> anyhow::Result<EnvConfig> {
    fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let (secrets, generated) = secrets::ensure_tokens(data_dir)?;
    // Fallbacks when SPIN_VARIABLE_<NAME> is unset: secrets.json, then spin.toml's defaults.
    let mut variables: HashMap<String, String> = manifest.variable_defaults();
    variables.extend(secrets.clone());
    // The service tokens go to the handlers with their times and their predecessors.
    for name in secrets::SERVICE_TOKENS {
        if let Some(value) = secrets::service_token_value(&secrets, name) {
            variables.insert(name.to_owned(), value);
        }
    }
    let config = EnvConfig {
        data_dir: data_dir.to_owned(),
        variables: Arc::new(variables),
    };

    let first_start = !config.db_path().exists();
    let env = config.open()?;
    let version = block_on(onegrid::app::schema::migrate(&env))
        .map_err(|e| anyhow!("migrating the schema: {e}"))?;
    tracing::info!(db = %config.db_path().display(), version, "schema up to date");
    if first_start {
        let password = secrets
            .get("demo_staff_password")
            .cloned()
            .or_else(|| crate::native::env_variable("demo_staff_password"))
            .unwrap_or_default();
        let seeded = match block_on(onegrid::demo::seed(&env, 1, |_| password.clone())) {
            Ok(seeded) => seeded,
            Err(p) => {
                drop(env);
                forget_database(&config);
                return Err(anyhow!(
                    "loading the demo city: {}: {}",
                    p.title(),
                    p.detail
                ));
            }
        };
        tracing::info!("first start: loaded the demo city");
        let usernames: Vec<&str> = seeded.staff.iter().map(|s| s.username.as_str()).collect();
        println!(
            "Demo staff accounts (password: demo_staff_password): {}",
            usernames.join(", ")
        );
    }
    // Names and where they are kept, never the values: a log or a terminal scrollback is no
    // place for a token (read them with e.g. `jq -r .operator_token .onegrid/secrets.json`).
    let shown: Vec<&str> = generated
        .iter()
        .filter(|n| !secrets::UNPRINTED.contains(n))
        .copied()
        .collect();
    if !shown.is_empty() {
        let path = data_dir.join("secrets.json");
        println!(
            "Generated {} (kept in {}, readable by this user only; SPIN_VARIABLE_<NAME> overrides them)",
            shown.join(", "),
            path.display()
        );
    }
    Ok(config)
}

/// A first start that failed half-way leaves no database, so the next start tries again.
fn forget_database(config: &EnvConfig) {
    let db = config.db_path();
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
