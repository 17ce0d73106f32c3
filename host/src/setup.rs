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
        if let Err(p) = block_on(onegrid::demo::load(&env, 1)) {
            drop(env);
            forget_database(&config);
            return Err(anyhow!(
                "loading the demo city: {}: {}",
                p.title(),
                p.detail
            ));
        }
        tracing::info!("first start: loaded the demo city");
        let password = secrets
            .get("demo_staff_password")
            .cloned()
            .or_else(|| crate::native::env_variable("demo_staff_password"))
            .unwrap_or_default();
        block_on(demo_staff(&env, &password)).map_err(|p| {
            anyhow!(
                "creating the demo staff accounts: {}: {}",
                p.title(),
                p.detail
            )
        })?;
        println!(
            "Demo staff accounts (password: demo_staff_password): {}",
            DEMO_STAFF.map(|(username, ..)| username).join(", ")
        );
    }
    for name in generated.iter().filter(|n| !secrets::UNPRINTED.contains(n)) {
        println!("Generated {name}: {}", secrets[*name]);
    }
    if !generated.is_empty() {
        let path = data_dir.join("secrets.json");
        println!(
            "(kept in {}; SPIN_VARIABLE_<NAME> overrides them)",
            path.display()
        );
    }
    Ok(config)
}

/// The demo city's staff, one account a role, so every staff page can be tried at once:
/// (username, display name, role, scope). The district operator has the first district, the
/// department account the gardens bureau, the grid worker roster's first worker.
const DEMO_STAFF: [(&str, &str, &str, &str); 5] = [
    ("operator", "市综治中心值班员", "city_operator", ""),
    (
        "district",
        "区综治中心值班员",
        "district_operator",
        "district",
    ),
    ("gardens", "园林局受理员", "department", "gardens"),
    ("worker", "网格员", "grid_worker", "worker"),
    ("admin", "系统管理员", "admin", ""),
];

async fn demo_staff(
    env: &crate::native::NativeEnv,
    password: &str,
) -> Result<(), onegrid::Problem> {
    use onegrid::access::accounts::{NewAccount, create};
    use onegrid::ports::Platform;
    let map = onegrid::demo::city(1);
    let district = map
        .iter()
        .find(|f| f.code.level() == onegrid::grid::code::Level::District)
        .map(|f| f.code.as_str().to_owned());
    for (username, name, role, scope) in DEMO_STAFF {
        let mut account = NewAccount {
            username: username.into(),
            display_name: name.into(),
            password: password.into(),
            role: role.into(),
            area_code: None,
            department: None,
            cells: Vec::new(),
            worker_id: None,
        };
        match scope {
            "district" => account.area_code = district.clone(),
            "gardens" => account.department = Some("gardens".into()),
            "worker" => account.worker_id = Some("gw00001".into()),
            _ => {}
        }
        create(env, account, env.now_ms()).await?;
    }
    Ok(())
}

/// A first start that failed half-way leaves no database, so the next start tries again.
fn forget_database(config: &EnvConfig) {
    let db = config.db_path();
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
