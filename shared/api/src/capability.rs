//! Capabilities that stand in for a login: the guest cart token (`X-Cart-Token`) and the order
//! token (`X-Order-Token`).
//!
//! Cart tokens are 256 random bits shown to the client once; only their SHA-256 is stored, so a
//! leaked table does not leak access to carts. A fast hash is right here: with 256 bits of entropy
//! there is nothing to brute-force that a slow hash would protect.
//!
//! A token is an HMAC of the order id under a server key, so nothing is stored and an idempotent
//! replay of a checkout hands out the same token. Whoever knows the key can mint tokens, so the
//! key is a secret shared only by the functions that issue and check them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use nanoshop_domain::ids::OrderId;
use sha2::{Digest, Sha256};

/// A fresh cart token, 43 URL-safe characters.
pub fn new_cart_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a cart token: its SHA-256, hex.
pub fn cart_token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` is the one whose hash is `stored`, compared in constant time.
pub fn cart_token_matches(token: &str, stored: &str) -> bool {
    use subtle::ConstantTimeEq;
    token.len() <= 128 && cart_token_hash(token).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// Issues and checks order tokens under one key.
#[derive(Clone)]
pub struct OrderTokens {
    key: Vec<u8>,
}

impl std::fmt::Debug for OrderTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrderTokens { .. }")
    }
}

impl OrderTokens {
    /// # Panics
    /// For a key shorter than 32 bytes: a configuration error caught at start-up.
    pub fn new(key: &[u8]) -> Self {
        assert!(key.len() >= 32, "the order token key must be at least 32 bytes");
        Self { key: key.to_vec() }
    }

    fn mac(&self, order: &OrderId) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"nanoshop-order-token\0");
        mac.update(order.as_str().as_bytes());
        mac
    }

    /// The token of `order`: 43 URL-safe characters.
    pub fn issue(&self, order: &OrderId) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(order).finalize().into_bytes())
    }

    /// Whether `token` is `order`'s, compared in constant time.
    pub fn verify(&self, order: &OrderId, token: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(token.as_bytes()) {
            Ok(bytes) => self.mac(order).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cart_token_matches_only_its_own_hash() {
        let token = new_cart_token();
        assert_eq!(token.len(), 43);
        let stored = cart_token_hash(&token);
        assert!(cart_token_matches(&token, &stored));
        assert!(!cart_token_matches(&new_cart_token(), &stored));
        assert!(!cart_token_matches("", &stored));
        assert!(!cart_token_matches(&stored, &stored), "the hash itself is not a token");
    }

    #[test]
    fn a_token_opens_only_its_own_order_under_its_own_key() {
        let tokens = OrderTokens::new(&[7; 32]);
        let (a, b) = (OrderId::generate(), OrderId::generate());
        let token = tokens.issue(&a);
        assert!(tokens.verify(&a, &token));
        assert_eq!(token, tokens.issue(&a), "deterministic, so a replayed checkout hands out the same token");
        assert!(!tokens.verify(&b, &token));
        assert!(!OrderTokens::new(&[8; 32]).verify(&a, &token));
        assert!(!tokens.verify(&a, "not-a-token"));
        assert!(!tokens.verify(&a, ""));
    }
}
