//! The registry's secrets: an ID or phone number is stored sealed (AES-256-GCM, a fresh nonce
//! each time) and found by its keyed hash (HMAC-SHA-256), both under keys derived from the one
//! `registry_key` Spin variable. Without the variable the registry answers 503
//! `not-configured`: it never falls back to a key in code. Never logs a value.
//!
//! The two keys are derived with distinct labels, so that the hash a search compares gives
//! nothing about the encryption key. Changing `registry_key` makes every sealed value and hash
//! unreadable: a rotation re-seals the table (not built yet; README says so).

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Platform, Problem, StoreError};

/// The Spin variable the registry keys come from.
pub const KEY_VARIABLE: &str = "registry_key";
/// The shortest `registry_key` taken: 32 characters, as for `session_keys`.
pub const KEY_MIN_CHARS: usize = 32;

const NONCE_BYTES: usize = 12;

/// What a sealed value is, bound into its seal (AES-GCM's associated data): an ID number's
/// seal does not open as a phone number's, nor one person's as another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed {
    IdNumber,
    Phone,
}

impl Sealed {
    fn label(self) -> &'static [u8] {
        match self {
            Sealed::IdNumber => b"id_number",
            Sealed::Phone => b"phone",
        }
    }
}

pub struct RegistryKeys {
    cipher: Aes256Gcm,
    hash_key: [u8; 32],
}

fn derive(secret: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl RegistryKeys {
    /// The keys of a secret of at least [`KEY_MIN_CHARS`] characters.
    pub fn from_secret(secret: &str) -> Option<RegistryKeys> {
        if secret.chars().count() < KEY_MIN_CHARS {
            return None;
        }
        let encryption = derive(secret.as_bytes(), b"onegrid registry encryption v1");
        Some(RegistryKeys {
            cipher: Aes256Gcm::new(&encryption.into()),
            hash_key: derive(secret.as_bytes(), b"onegrid registry id hash v1"),
        })
    }

    /// The keys of the `registry_key` variable; 503 `not-configured` without one.
    pub async fn of<P: Platform>(platform: &P) -> Result<RegistryKeys, Problem> {
        let secret = platform.variable(KEY_VARIABLE).await?.unwrap_or_default();
        RegistryKeys::from_secret(secret.trim())
            .ok_or_else(|| Problem::not_configured("registry_key (at least 32 characters)"))
    }

    /// The lower-case hex keyed hash of a normalised ID number.
    pub fn id_hash(&self, id_number: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.hash_key)
            .expect("HMAC takes any key length");
        mac.update(id_number.as_bytes());
        crate::crypto::hex(&mac.finalize().into_bytes())
    }

    /// `clear` sealed for `owner` (the person's id): base64 of the nonce and the ciphertext.
    pub fn seal(&self, what: Sealed, owner: &str, clear: &str) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let aad = [what.label(), b"\0", owner.as_bytes()].concat();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: clear.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("AES-GCM seals any message under 64 GiB");
        STANDARD.encode([&nonce[..], &sealed].concat())
    }

    /// Opens what [`RegistryKeys::seal`] made for the same `what` and `owner`. A seal that does
    /// not open (another key, another owner, a changed byte) is a storage error, never shown.
    pub fn open(&self, what: Sealed, owner: &str, sealed: &str) -> Result<String, StoreError> {
        let refused = || StoreError(format!("a sealed {:?} of {owner} does not open", what));
        let bytes = STANDARD.decode(sealed).map_err(|_| refused())?;
        if bytes.len() <= NONCE_BYTES {
            return Err(refused());
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let aad = [what.label(), b"\0", owner.as_bytes()].concat();
        let clear = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| refused())?;
        String::from_utf8(clear).map_err(|_| refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a registry key of forty characters, test";

    #[test]
    fn a_sealed_value_opens_only_for_its_kind_and_owner_and_never_reads_the_same_twice() {
        let keys = RegistryKeys::from_secret(SECRET).unwrap();
        let a = keys.seal(Sealed::IdNumber, "P-1", "350203199001011234");
        let b = keys.seal(Sealed::IdNumber, "P-1", "350203199001011234");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("1234"));
        assert_eq!(
            keys.open(Sealed::IdNumber, "P-1", &a).unwrap(),
            "350203199001011234"
        );
        assert!(keys.open(Sealed::Phone, "P-1", &a).is_err());
        assert!(keys.open(Sealed::IdNumber, "P-2", &a).is_err());
        let other = RegistryKeys::from_secret(&format!("{SECRET}!")).unwrap();
        assert!(other.open(Sealed::IdNumber, "P-1", &a).is_err());
        let mut changed = STANDARD.decode(&a).unwrap();
        *changed.last_mut().unwrap() ^= 1;
        assert!(
            keys.open(Sealed::IdNumber, "P-1", &STANDARD.encode(changed))
                .is_err()
        );
        assert!(keys.open(Sealed::IdNumber, "P-1", "not base64!").is_err());
    }

    #[test]
    fn the_id_hash_is_keyed_stable_and_not_the_plain_sha256() {
        let keys = RegistryKeys::from_secret(SECRET).unwrap();
        let h = keys.id_hash("350203199001011234");
        assert_eq!(h, keys.id_hash("350203199001011234"));
        assert_eq!(h.len(), 64);
        assert_ne!(h, crate::crypto::secret_hash("350203199001011234"));
        let other = RegistryKeys::from_secret(&format!("{SECRET}!")).unwrap();
        assert_ne!(h, other.id_hash("350203199001011234"));
    }

    #[test]
    fn a_short_key_is_refused() {
        assert!(RegistryKeys::from_secret("short").is_none());
        assert!(RegistryKeys::from_secret(&"k".repeat(31)).is_none());
        assert!(RegistryKeys::from_secret(&"k".repeat(32)).is_some());
    }
}
