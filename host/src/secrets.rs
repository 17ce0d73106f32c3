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
/// session tokens (`session_keys`, one key here; a list on rotation), the key the registry
/// seals ID numbers under (`registry_key`), and the password of the demo city's staff accounts
/// (not a Spin variable: only the native host makes those accounts).
pub const TOKENS: [&str; 5] = [
    "operator_token",
    "admin_token",
    "session_keys",
    "registry_key",
    "demo_staff_password",
];

/// The service tokens: each valid until `<name>_until` (RFC 3339; generated ones for
/// [`TOKEN_DAYS`]), and after a rotation its predecessor, `<name>_previous`
/// (`token;until=…`), for the overlap. The Spin variable the host gives the handlers joins
/// them (`access::auth::service_token_match`); `<name>` itself stays the plain current token.
pub const SERVICE_TOKENS: [&str; 2] = ["operator_token", "admin_token"];
/// How long a generated or rotated service token is valid.
pub const TOKEN_DAYS: i64 = 90;

/// Generated variables nobody needs to type, and so never printed.
pub const UNPRINTED: [&str; 2] = ["session_keys", "registry_key"];

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
            if SERVICE_TOKENS.contains(&name) {
                secrets.insert(format!("{name}_until"), until(TOKEN_DAYS * 24));
            }
            generated.push(name);
        }
    }
    if !generated.is_empty() {
        save(&path, &secrets)?;
    }
    Ok((secrets, generated))
}

fn until(hours: i64) -> String {
    onegrid::time::rfc3339(now_ms() + hours * 3_600_000)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The value of a service token variable for the handlers: the current token with its time,
/// then its predecessor while the overlap lasts. `None` for a name the file does not hold.
pub fn service_token_value(secrets: &Secrets, name: &str) -> Option<String> {
    let token = secrets.get(name).filter(|t| !t.is_empty())?;
    let mut value = match secrets.get(&format!("{name}_until")) {
        Some(until) => format!("{token};until={until}"),
        None => token.clone(),
    };
    if let Some(previous) = secrets.get(&format!("{name}_previous")) {
        value.push(',');
        value.push_str(previous);
    }
    Some(value)
}

/// What a rotation did: until when the new token and the old one are valid.
pub struct Rotated {
    pub path: std::path::PathBuf,
    pub new_until: String,
    pub old_until: String,
}

/// A new service token `name` in `<data>/secrets.json`, valid for `days`; the old one stays
/// valid for `overlap_hours` more (never longer than it was), so that automation can move over.
pub fn rotate(
    data_dir: &Path,
    name: &str,
    days: i64,
    overlap_hours: i64,
) -> anyhow::Result<Rotated> {
    anyhow::ensure!(
        SERVICE_TOKENS.contains(&name),
        "{name} is not a service token (one of {})",
        SERVICE_TOKENS.join(", ")
    );
    anyhow::ensure!(
        days > 0 && overlap_hours >= 0,
        "days must be positive, overlap hours not negative"
    );
    let path = data_dir.join("secrets.json");
    let mut secrets = load(&path)?;
    let old = secrets
        .get(name)
        .filter(|t| !t.is_empty())
        .cloned()
        .with_context(|| format!("{} holds no {name} to rotate", path.display()))?;
    let overlap_end = now_ms() + overlap_hours * 3_600_000;
    let old_end = secrets
        .get(&format!("{name}_until"))
        .and_then(|u| onegrid::time::parse(u, 0))
        .map_or(overlap_end, |end| end.min(overlap_end));
    let old_until = onegrid::time::rfc3339(old_end);
    let new_until = until(days * 24);
    secrets.insert(
        format!("{name}_previous"),
        format!("{old};until={old_until}"),
    );
    secrets.insert(name.to_owned(), random_hex(32));
    secrets.insert(format!("{name}_until"), new_until.clone());
    save(&path, &secrets)?;
    Ok(Rotated {
        path,
        new_until,
        old_until,
    })
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
