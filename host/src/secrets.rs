//! `<data>/secrets.json`: variables that are not in the environment, chiefly the operator and
//! admin tokens. A token missing from both is generated on first start, saved (mode 0600) and
//! printed once, so a fresh checkout runs with no setup and never with an empty token.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use rand::Rng;

use crate::native::env_variable;

/// Variables the host makes sure exist: the two service tokens, the key that signs staff
/// session tokens (`session_keys`, one key here; a list on rotation), and the password of the
/// demo city's staff accounts (not a Spin variable: only the native host makes those accounts).
pub const TOKENS: [&str; 4] = [
    "operator_token",
    "admin_token",
    "session_keys",
    "demo_staff_password",
];

/// Generated variables nobody needs to type, and so never printed.
pub const UNPRINTED: [&str; 1] = ["session_keys"];

pub type Secrets = BTreeMap<String, String>;

/// `count` random bytes as lower-case hex.
pub fn random_hex(count: usize) -> String {
    let mut bytes = vec![0u8; count];
    rand::rng().fill(&mut bytes[..]);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn load(path: &Path) -> anyhow::Result<Secrets> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} must be a JSON object of strings", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Secrets::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save(path: &Path, secrets: &Secrets) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    file.write_all(&serde_json::to_vec_pretty(secrets)?)?;
    file.sync_all()?;
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Loads `<data>/secrets.json` and adds the tokens that neither it nor the environment has.
/// Returns the secrets and the names of the tokens it generated.
pub fn ensure_tokens(data_dir: &Path) -> anyhow::Result<(Secrets, Vec<&'static str>)> {
    let path = data_dir.join("secrets.json");
    let mut secrets = load(&path)?;
    let mut generated = Vec::new();
    for name in TOKENS {
        let present = secrets.get(name).is_some_and(|v| !v.is_empty());
        if !present && env_variable(name).is_none() {
            secrets.insert(name.to_owned(), random_hex(32));
            generated.push(name);
        }
    }
    if !generated.is_empty() {
        save(&path, &secrets)?;
    }
    Ok((secrets, generated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_generated_once_and_kept_private() {
        let dir = std::env::temp_dir().join(format!("onegrid-secrets-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let (first, generated) = ensure_tokens(&dir).unwrap();
        for name in &generated {
            assert_eq!(first[*name].len(), 64);
        }
        let (again, generated_again) = ensure_tokens(&dir).unwrap();
        assert_eq!(first, again);
        assert!(generated_again.is_empty());
        #[cfg(unix)]
        if !generated.is_empty() {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join("secrets.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
