//! Guest cart tokens: 256 random bits, shown to the client once; only their SHA-256 is stored, so a
//! leaked table does not leak access to carts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A fresh token, 43 URL-safe characters.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored: the token's SHA-256, hex. A fast hash is right here: the token has 256 bits of
/// entropy, so there is nothing to brute-force that a slow hash would protect.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` is the one whose hash is `stored`, compared in constant time.
pub fn matches(token: &str, stored: &str) -> bool {
    token.len() <= 128 && hash(token).as_bytes().ct_eq(stored.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_only_its_own_hash() {
        let token = generate();
        assert_eq!(token.len(), 43);
        let stored = hash(&token);
        assert!(matches(&token, &stored));
        assert!(!matches(&generate(), &stored));
        assert!(!matches("", &stored));
        assert!(!matches(&stored, &stored), "the hash itself is not a token");
    }
}
