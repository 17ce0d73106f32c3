//! Small secrets helpers every context uses: a constant-time comparison, the SHA-256 hex of a
//! secret (only hashes of tokens and secrets are stored), and random tokens. Never logs a value.

use sha2::{Digest, Sha256};

/// Constant-time comparison, so that a token cannot be guessed byte by byte from timings.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The lower-case hex SHA-256 of a secret, as it is stored.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes as lower-case hex (2n characters).
pub fn random_hex(n: usize) -> String {
    hex(&(0..n).map(|_| rand::random::<u8>()).collect::<Vec<_>>())
}
