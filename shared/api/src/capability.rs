//! Capabilities that stand in for a login: the guest cart token (`X-Cart-Token`) and the order
//! token (`X-Order-Token`).
//!
//! Cart tokens are 256 random bits shown to the client once; only their SHA-256 is stored, so a
//! leaked table does not leak access to carts. A fast hash is right here: with 256 bits of entropy
//! there is nothing to brute-force that a slow hash would protect. Who may use a cart is decided
//! here, once, for the cart and checkout functions alike: [`CartCredentials::open`].
//!
//! An order token is `{generation}.{issued}.{mac}`: the HMAC, under a server key, of the order id,
//! the order's token generation and the Unix second it was issued. Nothing is stored but the
//! generation on the order, and a replayed checkout hands out the same token (it is issued at the
//! order's creation). A token ends in two ways: moving the order's generation on revokes every
//! token issued before ([`OrderTokens::verify`] wants the current one), and the issue time lets
//! the orders function stop showing personal data to a token after a configured time. Whoever
//! knows the key can mint tokens, so the key is a secret shared only by the functions that issue
//! and check them.
//!
//! Tokens issued before generations existed (43 characters, the HMAC of the order id alone) are
//! still accepted, as generation 0 issued when the order was created: they open an order whose
//! tokens were never revoked, and lose its personal data on the same schedule as new ones.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use nanoshop_domain::cart::Cart;
use nanoshop_domain::ids::OrderId;
use sha2::{Digest, Sha256};

use crate::secrets::KeyRing;
use crate::{ApiError, Caller};

/// A fresh cart token, 43 URL-safe characters.
pub fn new_cart_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a cart token: its SHA-256, hex.
pub fn cart_token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` is the one whose hash is `stored`, compared in constant time.
pub fn cart_token_matches(token: &str, stored: &str) -> bool {
    use subtle::ConstantTimeEq;
    token.len() <= 128 && cart_token_hash(token).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// The `X-Cart-Token` header, if the request sends one (and it is text).
#[derive(Debug, Clone, Default)]
pub struct CartToken(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for CartToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get("x-cart-token").and_then(|v| v.to_str().ok()).map(str::to_owned)))
    }
}

/// What a request shows to open a cart: who calls, and the cart token it sends. Made only for a
/// request that shows at least one of them.
#[derive(Debug, Clone, Copy)]
pub struct CartCredentials<'a> {
    caller: &'a Caller,
    token: Option<&'a str>,
}

impl<'a> CartCredentials<'a> {
    /// # Errors
    /// 401 for a request that carries neither a cart token nor a JWT: no cart opens without one,
    /// so the answer is the same whether the cart exists or not (and costs no read).
    pub fn new(caller: &'a Caller, token: Option<&'a str>) -> Result<Self, ApiError> {
        if token.is_none() && matches!(caller, Caller::Anonymous) {
            return Err(ApiError::unauthorized("send the cart's `X-Cart-Token`, or its owner's bearer token"));
        }
        Ok(Self { caller, token })
    }

    /// The cart token the request sends, if any.
    pub fn token(&self) -> Option<&'a str> {
        self.token
    }

    /// Whether these credentials open `cart`: a guest cart by its token, a customer's cart by
    /// the customer's JWT only. So a guest token left in a shared browser stops working once the
    /// cart is claimed, and with it the address it holds. Whether the cart's state lets it be
    /// used (merged, checked out) is for the caller to say.
    pub fn open(&self, cart: &Cart) -> bool {
        match &cart.customer_id {
            None => self.token.is_some_and(|t| cart_token_matches(t, &cart.token_hash)),
            Some(owner) => self.caller.subject() == Some(owner.as_str()),
        }
    }
}

/// Longest token accepted: the generation, the issue time and the MAC with their dots.
const MAX_TOKEN_LEN: usize = 96;

/// Issues order tokens under the current key of a [`KeyRing`] and checks them against its
/// current and previous keys, so rotating the key does not break the tokens already handed out
/// (until the next rotation: a token two rotations old is refused).
#[derive(Clone)]
pub struct OrderTokens {
    keys: KeyRing,
}

impl std::fmt::Debug for OrderTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrderTokens { .. }")
    }
}

/// Digits only: `u32`/`i64` parsing would also take a sign, giving one token two spellings.
fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// The MAC of a token of `generation` issued at `issued`.
fn mac(key: &[u8], order: &OrderId, generation: u32, issued: i64) -> Hmac<Sha256> {
    let mut mac = hmac(key);
    mac.update(b"nanoshop-order-token/2\0");
    mac.update(order.as_str().as_bytes());
    mac.update(format!("\0{generation}\0{issued}").as_bytes());
    mac
}

/// The MAC of a token from before generations: the order id alone.
fn legacy_mac(key: &[u8], order: &OrderId) -> Hmac<Sha256> {
    let mut mac = hmac(key);
    mac.update(b"nanoshop-order-token\0");
    mac.update(order.as_str().as_bytes());
    mac
}

/// The idempotency-record sealing key derived from an order-token key.
fn seal_key(key: &[u8]) -> [u8; 32] {
    let mut mac = hmac(key);
    mac.update(b"nanoshop-idempotency-seal\0");
    mac.finalize().into_bytes().into()
}

impl OrderTokens {
    /// Under one key that never changes.
    ///
    /// # Panics
    /// For a key shorter than 32 bytes: a configuration error caught at start-up.
    pub fn new(key: &[u8]) -> Self {
        Self { keys: KeyRing::fixed(key) }
    }

    /// Under `keys`, which may rotate.
    pub fn rotating(keys: KeyRing) -> Self {
        Self { keys }
    }

    /// The token of `order` for its token `generation`, issued at `issued` (Unix seconds).
    ///
    /// # Errors
    /// 503 `not_configured` while the key cannot be read.
    pub async fn issue(&self, order: &OrderId, generation: u32, issued: i64) -> Result<String, ApiError> {
        let keys = self.keys.signing_keys().await?;
        let key = keys.first().ok_or_else(|| ApiError::not_configured("no order-token key"))?;
        let mac = URL_SAFE_NO_PAD.encode(mac(key, order, generation, issued).finalize().into_bytes());
        Ok(format!("{generation}.{issued}.{mac}"))
    }

    /// When `token` was issued (Unix seconds), if it is `order`'s and of the order's `current`
    /// generation; compared in constant time, under the current key or the previous one (a token
    /// that fails both reads the key again first, at most once a minute). A token from before
    /// generations counts as generation 0 issued at `created` (the order's creation).
    pub async fn verify(&self, order: &OrderId, token: &str, current: u32, created: i64) -> Option<i64> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let (generation, issued, tag, legacy) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(tag), None, None, None) => (0, created, tag, true),
            (Some(generation), Some(issued), Some(tag), None) => (digits(generation)?, digits(issued)?, tag, false),
            _ => return None,
        };
        let bytes = URL_SAFE_NO_PAD.decode(tag.as_bytes()).ok()?;
        let signed = self
            .keys
            .check(|key| {
                let expected = if legacy { legacy_mac(key, order) } else { mac(key, order, generation, issued) };
                expected.verify_slice(&bytes).ok()
            })
            .await;
        (signed.is_some() && generation == current).then_some(issued)
    }

    /// The sealer of idempotency records under a key derived from this one (opening also under
    /// the one derived from the previous key): the functions that store answers holding order
    /// tokens and personal data (checkout, refunds) are the ones that hold the order-token key.
    ///
    /// # Errors
    /// 503 `not_configured` while the key cannot be read.
    pub async fn record_sealer(&self) -> Result<crate::idempotency::Sealer, ApiError> {
        let keys = self.keys.signing_keys().await?;
        let key = keys.first().ok_or_else(|| ApiError::not_configured("no order-token key"))?;
        Ok(crate::idempotency::Sealer::with_previous(seal_key(key), keys.get(1).map(|k| seal_key(k))))
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

    fn customer(id: &str) -> Caller {
        Caller::Customer { id: id.into(), email: None }
    }

    /// A cart of `owner` (a guest cart for `None`) and the token it was made with.
    fn cart(owner: Option<&str>) -> (Cart, String) {
        let token = new_cart_token();
        let cart = Cart::new(
            nanoshop_domain::Currency::EUR,
            owner.map(str::to_owned),
            cart_token_hash(&token),
            chrono::Utc::now(),
        );
        (cart, token)
    }

    fn opens(caller: &Caller, token: Option<&str>, cart: &Cart) -> bool {
        CartCredentials::new(caller, token).is_ok_and(|c| c.open(cart))
    }

    #[test]
    fn a_request_without_a_cart_token_or_a_jwt_opens_no_cart() {
        let refused = CartCredentials::new(&Caller::Anonymous, None).expect_err("no credentials");
        assert_eq!(refused.status, axum::http::StatusCode::UNAUTHORIZED);
        assert!(CartCredentials::new(&Caller::Anonymous, Some("anything")).is_ok());
        assert!(CartCredentials::new(&customer("cust_1"), None).is_ok());
    }

    #[test]
    fn a_guest_cart_opens_by_its_own_token_only() {
        let (guest, token) = cart(None);
        assert!(opens(&Caller::Anonymous, Some(&token), &guest));
        assert!(opens(&customer("cust_1"), Some(&token), &guest), "whoever holds the token");
        assert!(!opens(&Caller::Anonymous, Some(&new_cart_token()), &guest), "another cart's token");
        assert!(!opens(&Caller::Anonymous, Some(&guest.token_hash), &guest), "the stored hash");
        assert!(!opens(&customer("cust_1"), None, &guest), "a JWT without the token");
    }

    #[test]
    fn a_customer_s_cart_opens_by_its_owner_s_jwt_only() {
        let (mine, token) = cart(Some("cust_1"));
        assert!(opens(&customer("cust_1"), None, &mine));
        assert!(opens(&customer("cust_1"), Some("wrong"), &mine), "the owner needs no token");
        assert!(opens(&Caller::Admin { id: "cust_1".into(), email: None }, None, &mine), "an admin shops as anyone");
        assert!(!opens(&customer("cust_2"), None, &mine), "another customer");
        assert!(!opens(&customer("cust_2"), Some(&token), &mine), "another customer with the token");
        assert!(!opens(&Caller::Admin { id: "admin_1".into(), email: None }, None, &mine), "an admin, not its owner");
    }

    #[test]
    fn a_claimed_guest_cart_no_longer_opens_by_its_guest_token() {
        let (guest, token) = cart(None);
        let claimed = Cart { customer_id: Some("cust_1".into()), ..guest };
        assert!(!opens(&Caller::Anonymous, Some(&token), &claimed));
        assert!(opens(&customer("cust_1"), Some(&token), &claimed));
    }

    #[tokio::test]
    async fn a_token_opens_only_its_own_order_under_its_own_key() {
        let tokens = OrderTokens::new(&[7; 32]);
        let (a, b) = (OrderId::generate(), OrderId::generate());
        let token = tokens.issue(&a, 0, 1_700_000_000).await.unwrap();
        assert_eq!(tokens.verify(&a, &token, 0, 1).await, Some(1_700_000_000));
        assert_eq!(
            token,
            tokens.issue(&a, 0, 1_700_000_000).await.unwrap(),
            "deterministic, so a replayed checkout hands out the same token"
        );
        assert_eq!(tokens.verify(&b, &token, 0, 1).await, None);
        assert_eq!(OrderTokens::new(&[8; 32]).verify(&a, &token, 0, 1).await, None);
        for bad in ["not-a-token", "", "0.1700000000", "0.1700000000.", "..", "0.1.2.3", &format!("{token}.x")] {
            assert_eq!(tokens.verify(&a, bad, 0, 1).await, None, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_token_of_another_generation_or_issue_time_is_refused() {
        let tokens = OrderTokens::new(&[7; 32]);
        let a = OrderId::generate();
        let first = tokens.issue(&a, 0, 100).await.unwrap();
        let second = tokens.issue(&a, 1, 200).await.unwrap();
        assert_eq!(tokens.verify(&a, &first, 1, 1).await, None, "revoked once the order's generation moved on");
        assert_eq!(tokens.verify(&a, &second, 1, 1).await, Some(200));
        let mac = first.rsplit('.').next().unwrap_or_default();
        for forged in [format!("1.100.{mac}"), format!("0.999.{mac}"), format!("+0.100.{mac}"), format!("0.+100.{mac}")]
        {
            assert_eq!(
                tokens.verify(&a, &forged, 0, 1).await,
                None,
                "the generation and issue time are signed: {forged}"
            );
            assert_eq!(tokens.verify(&a, &forged, 1, 1).await, None, "{forged}");
        }
    }

    #[tokio::test]
    async fn a_token_from_before_generations_is_generation_zero_issued_at_the_order_s_creation() {
        let tokens = OrderTokens::new(&[7; 32]);
        let a = OrderId::generate();
        // How tokens were issued before: the HMAC of the order id alone.
        let legacy = URL_SAFE_NO_PAD.encode(legacy_mac(&[7; 32], &a).finalize().into_bytes());
        assert_eq!(legacy.len(), 43);
        assert_eq!(tokens.verify(&a, &legacy, 0, 1_650_000_000).await, Some(1_650_000_000));
        assert_eq!(tokens.verify(&a, &legacy, 1, 1_650_000_000).await, None, "revoked with the rest");
        assert_eq!(tokens.verify(&OrderId::generate(), &legacy, 0, 1).await, None);
    }
}
