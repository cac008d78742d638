//! `Idempotency-Key`: the same key with the same request within 24 h answers with the first
//! response (`Idempotent-Replayed: true`); with another request, 422 `idempotency_key_reused`;
//! while the first is still running, 409 `request_in_progress`.
//!
//! A request takes the key by writing an in-flight record with a lease. If it dies mid-way (a
//! Lambda timeout), the lease runs out and a retry takes the key over, continuing from what the
//! record says was done (the order it created). Every write of the record is conditional on its
//! owner, so a request that lost its lease can never overwrite a newer owner's record.
//!
//! A route that reads the record in a batch with what else it needs ([`begin_read`]) claims a
//! fresh key in its own transaction instead: [`Guard::attach`]'s write then creates the record on
//! condition that none exists, so of two requests under one key only one transaction lands, and
//! the request costs no round trip for its key. Until that transaction lands nothing of the
//! request is stored, and nothing needs giving back.
//!
//! A request that fails with a transient error ends in one of two ways: [`Guard::release`] gives
//! the key back when nothing was done, and [`Guard::hand_over`] ends the lease at once when the
//! record may name an order, so the client's retry continues with that order instead of finding
//! its cart already checked out.
//!
//! A stored answer can hold what must not lie in a table in clear: a checkout's client secret,
//! order token, e-mail and address; a refund's order. A route that passes a [`Sealer`] has its
//! answers stored sealed (AES-256-GCM, bound to the route and key), and opened again for the
//! replay, which answers byte for byte the same. Records stored unsealed still replay.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nanoshop_domain::ids::OrderId;
use nanoshop_schema::orders::{IDEMPOTENCY_TTL_SECS, IdempotencyRecord, ORDER_ID, idempotency_key};
use nanoshop_schema::{DOC, decode, encode};
use nanoshop_store::port::{EXPIRES_AT, now_unix};
use nanoshop_store::{Condition, Item, Key, Store, StoreError, Table, Write};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The header clients send.
pub const HEADER: &str = "idempotency-key";
/// The header on replayed responses.
pub const REPLAYED: &str = "idempotent-replayed";
/// Longest accepted key (docs/api.md).
pub const MAX_KEY_LEN: usize = 255;
/// How long a request holds its key before a retry may take over.
pub const LEASE_SECS: i64 = 30;

const OWNER: &str = "owner";
/// How a sealed answer starts in the record: the scheme's version, then nonce and ciphertext.
const SEALED: &str = "sealed:v1:";

/// Seals stored answers under a 256-bit key, and opens them for replays (under that key, or
/// under the previous one: a record sealed just before a key rotation still replays).
#[derive(Clone)]
pub struct Sealer {
    key: [u8; 32],
    previous: Option<[u8; 32]>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer { .. }")
    }
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key, previous: None }
    }

    /// Seals under `key`; opens under `key` or `previous`.
    pub fn with_previous(key: [u8; 32], previous: Option<[u8; 32]>) -> Self {
        Self { key, previous }
    }

    fn aead(key: &[u8; 32]) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap_or_else(|_| unreachable!("a 256-bit key")))
    }

    /// `plain`, sealed for the record `bound` names: a random nonce, then the ciphertext and tag.
    fn seal(&self, bound: &str, plain: &str) -> Result<String, ApiError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let mut data = plain.as_bytes().to_vec();
        Self::aead(&self.key)
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(bound.as_bytes()), &mut data)
            .map_err(|_| ApiError::internal(anyhow::anyhow!("sealing an idempotency record failed")))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&data);
        Ok(format!("{SEALED}{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// The answer sealed in `stored` for the record `bound` names; `None` when it does not open
    /// (another key, another record, altered).
    fn open(&self, bound: &str, stored: &str) -> Option<String> {
        let raw = URL_SAFE_NO_PAD.decode(stored.strip_prefix(SEALED)?.as_bytes()).ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        std::iter::once(&self.key).chain(&self.previous).find_map(|key| {
            let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
            let mut data = sealed.to_vec();
            let plain = Self::aead(key).open_in_place(nonce, Aad::from(bound.as_bytes()), &mut data).ok()?;
            String::from_utf8(plain.to_vec()).ok()
        })
    }
}

/// The key of a request, if it sent one.
///
/// # Errors
/// 400 `invalid_idempotency_key` for an empty, overlong or non-ASCII key.
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else { return Ok(None) };
    let key =
        value.to_str().ok().filter(|k| (1..=MAX_KEY_LEN).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
    key.map(|k| Some(k.to_owned())).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_idempotency_key",
            format!("`Idempotency-Key` must be 1–{MAX_KEY_LEN} visible ASCII characters"),
        )
    })
}

/// The fingerprint of a request: who sent it and what.
pub fn fingerprint(route: &str, caller: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    for part in [route.as_bytes(), b"\0", caller.as_bytes(), b"\0", body] {
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// What `begin` found.
#[derive(Debug)]
pub enum Begin {
    /// The request is ours to run; `order_id` is what an earlier, dead owner already created.
    Run(Guard),
    /// The first request finished: answer with its response.
    Replay(Response),
}

/// The right to run a request under a key, until the lease ends.
#[derive(Debug, Clone)]
pub struct Guard {
    key: Key,
    record: IdempotencyRecord,
    /// Seals the final answer, when the route stores answers sealed.
    sealer: Option<Sealer>,
    /// Whether the store holds the record as this request's. A key taken with [`begin_read`] is
    /// not claimed until the transaction holding [`Guard::attach`]'s write lands
    /// ([`Guard::confirm`]): its writes then claim it on condition that no record exists.
    claimed: bool,
}

fn owner_token() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// The stored record. The order it names is an attribute too, so [`Guard::hand_over`] can make
/// a write conditional on it: whether the transaction that attached the order landed.
fn item(key: &Key, record: &IdempotencyRecord) -> Result<Item, ApiError> {
    let mut item = Item::new(key)
        .with(OWNER, record.owner.as_str())
        .with(EXPIRES_AT, now_unix() + IDEMPOTENCY_TTL_SECS)
        .with(DOC, encode(record).map_err(ApiError::internal)?);
    if let Some(order) = &record.order_id {
        item.set(ORDER_ID, order.as_str());
    }
    Ok(item)
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Unavailable(_) => ApiError::unavailable(e),
        other => ApiError::internal(other),
    }
}

/// Takes `key` for a request with this fingerprint, or says why not. With a `sealer`, the final
/// answer is stored sealed under it, and a replay opens it.
///
/// # Errors
/// 422 `idempotency_key_reused` for another request under the key; 409 `request_in_progress`
/// while another request holds it; 409 `replay_unavailable` for a finished request whose sealed
/// answer no longer opens (the key it was sealed under was replaced); 503 or 500 when the store
/// fails.
pub async fn begin(
    store: &dyn Store,
    route: &str,
    key: &str,
    fingerprint: String,
    sealer: Option<&Sealer>,
) -> Result<Begin, ApiError> {
    let key = idempotency_key(route, key);
    let sealer = sealer.cloned();
    let fresh = IdempotencyRecord {
        request_hash: fingerprint.clone(),
        owner: owner_token(),
        lease_until: now_unix() + LEASE_SECS,
        order_id: None,
        response: None,
    };
    let current = match store.put(Table::Idempotency, item(&key, &fresh)?, Some(Condition::NotExists)).await {
        Ok(()) => return Ok(Begin::Run(Guard { key, record: fresh, sealer, claimed: true })),
        Err(StoreError::ConditionFailed { current: Some(current) }) => current,
        // Gone between the failed write and now (expired): try once more from the start.
        Err(StoreError::ConditionFailed { current: None }) => {
            return match store.put(Table::Idempotency, item(&key, &fresh)?, Some(Condition::NotExists)).await {
                Ok(()) => Ok(Begin::Run(Guard { key, record: fresh, sealer, claimed: true })),
                Err(_) => Err(in_progress()),
            };
        }
        Err(e) => return Err(store_error(e)),
    };
    decide(store, key, fingerprint, sealer, &current).await
}

/// The record's key for `route` and the client's `key`, for a route that reads it in a batch of
/// its own ([`begin_read`]).
pub fn record_key(route: &str, key: &str) -> Key {
    idempotency_key(route, key)
}

/// As [`begin`], for a route that read the key's record itself (`found`: the item at
/// [`record_key`], read in one batch with what else the request needs) and claims a fresh key in
/// its own transaction: [`Guard::attach`]'s write creates the record on condition that none
/// exists, so of two requests under one key only one transaction lands. A fresh key costs no
/// call here; a finished request is replayed; a key whose owner died is taken over with one
/// write, as [`begin`] does.
///
/// # Errors
/// As [`begin`].
pub async fn begin_read(
    store: &dyn Store,
    route: &str,
    key: &str,
    fingerprint: String,
    sealer: Option<&Sealer>,
    found: Option<&Item>,
) -> Result<Begin, ApiError> {
    let key = idempotency_key(route, key);
    let sealer = sealer.cloned();
    let Some(current) = found else {
        let fresh = IdempotencyRecord {
            request_hash: fingerprint,
            owner: owner_token(),
            lease_until: now_unix() + LEASE_SECS,
            order_id: None,
            response: None,
        };
        return Ok(Begin::Run(Guard { key, record: fresh, sealer, claimed: false }));
    };
    decide(store, key, fingerprint, sealer, current).await
}

/// What an existing record under the key means for a request with this fingerprint: another
/// request, a replay, a request still running, or one that died and is taken over here.
async fn decide(
    store: &dyn Store,
    key: Key,
    fingerprint: String,
    sealer: Option<Sealer>,
    current: &Item,
) -> Result<Begin, ApiError> {
    let existing: IdempotencyRecord = decode(current).map_err(ApiError::internal)?;
    if existing.request_hash != fingerprint {
        return Err(ApiError::unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request; use a new key for a new request",
        ));
    }
    if let Some((status, body)) = existing.response {
        if !body.starts_with(SEALED) {
            return Ok(Begin::Replay(replay(status, body)));
        }
        let opened = sealer.as_ref().and_then(|s| s.open(&key.pk, &body)).ok_or_else(|| {
            ApiError::conflict(
                "replay_unavailable",
                "this request was completed, but its answer can no longer be replayed; read the order instead",
            )
        })?;
        return Ok(Begin::Replay(replay(status, opened)));
    }
    if existing.lease_until > now_unix() {
        return Err(in_progress());
    }
    // The first owner died mid-request: take over where it left off.
    let takeover = IdempotencyRecord { owner: owner_token(), lease_until: now_unix() + LEASE_SECS, ..existing.clone() };
    match store
        .put(Table::Idempotency, item(&key, &takeover)?, Some(Condition::Equals(OWNER.into(), existing.owner.into())))
        .await
    {
        Ok(()) => Ok(Begin::Run(Guard { key, record: takeover, sealer, claimed: true })),
        Err(StoreError::ConditionFailed { .. }) => Err(in_progress()),
        Err(e) => Err(store_error(e)),
    }
}

fn in_progress() -> ApiError {
    ApiError::conflict(
        "request_in_progress",
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    let content_type = if status.is_client_error() { crate::error::PROBLEM_JSON } else { "application/json" };
    headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

impl Guard {
    /// What an earlier owner of the key already created, if anything.
    pub fn order_id(&self) -> Option<&OrderId> {
        self.record.order_id.as_ref()
    }

    /// The condition of every write of the record: this request's own, or, not yet claimed,
    /// no record at all (another request under the key claimed it first).
    fn mine(&self) -> Condition {
        if self.claimed {
            Condition::Equals(OWNER.into(), self.record.owner.as_str().into())
        } else {
            Condition::NotExists
        }
    }

    fn write(&self, record: &IdempotencyRecord) -> Result<Write, ApiError> {
        Ok(Write::Put { table: Table::Idempotency, item: item(&self.key, record)?, condition: Some(self.mine()) })
    }

    /// The transaction holding [`Guard::attach`]'s write landed: the record is this request's.
    pub fn confirm(&mut self) {
        self.claimed = true;
    }

    /// The write that gives the key back, for the transaction that undoes what the request did
    /// (then [`Guard::detach`]): a retry starts afresh. Nothing when the key was never claimed.
    pub fn release_write(&self) -> Option<Write> {
        self.claimed.then(|| Write::Delete {
            table: Table::Idempotency,
            key: self.key.clone(),
            condition: Some(Condition::Equals(OWNER.into(), self.record.owner.as_str().into())),
        })
    }

    /// The write that records `order_id` as this request's, for the transaction that creates it:
    /// it fails (and with it the transaction) if the lease was lost.
    ///
    /// # Errors
    /// Only if the record cannot be serialised.
    pub fn attach(&mut self, order_id: &OrderId) -> Result<Write, ApiError> {
        self.record.order_id = Some(order_id.clone());
        self.write(&self.record)
    }

    /// Forgets the order [attached](Guard::attach) to this request, once it was given back (its
    /// reservation released, and the key with it when [`Guard::release_write`] was written): a
    /// retry then starts afresh instead of continuing with it.
    pub fn detach(&mut self) {
        self.record.order_id = None;
        self.claimed = false;
    }

    /// The write that stores the final response, for the transaction that finishes the request.
    ///
    /// # Errors
    /// Only if the record cannot be serialised.
    pub fn finish_write(&self, status: StatusCode, body: &str) -> Result<Write, ApiError> {
        let stored = match &self.sealer {
            Some(sealer) => sealer.seal(&self.key.pk, body)?,
            None => body.to_owned(),
        };
        let done = IdempotencyRecord { response: Some((status.as_u16(), stored)), ..self.record.clone() };
        self.write(&done)
    }

    /// Stores the final response on its own.
    ///
    /// # Errors
    /// 409 `request_in_progress` if the lease was lost; store failures.
    pub async fn finish(&self, store: &dyn Store, status: StatusCode, body: &str) -> Result<(), ApiError> {
        let Write::Put { table, item, condition } = self.finish_write(status, body)? else {
            unreachable!("finish_write is a put")
        };
        store
            .put(table, item, condition)
            .await
            .map_err(|e| if e.is_condition_failed() { in_progress() } else { store_error(e) })
    }

    /// Ends the request after a transient failure whose effects are not known. If the record in
    /// the store names the order this request [attached](Guard::attach) (the transaction that
    /// created it landed, even if its answer was lost), the lease ends now and the record stays,
    /// so a retry takes over at once and continues with that order. Otherwise nothing was created
    /// and the key is [released](Guard::release).
    ///
    /// Releasing instead would be wrong once an order exists: the retry would start over, find
    /// the cart checked out, and never learn of the order holding its stock.
    ///
    /// # Errors
    /// Store failures, which leave the record held until its lease runs out; a retry then takes
    /// over as from a request that died.
    pub async fn hand_over(&self, store: &dyn Store) -> Result<(), ApiError> {
        let Some(order) = &self.record.order_id else { return self.release(store).await };
        // Whether or not this request knows it claimed the key: a transaction whose answer was
        // lost may have claimed it.
        let ended = IdempotencyRecord { lease_until: 0, ..self.record.clone() };
        let mine = Condition::And(vec![
            Condition::Equals(OWNER.into(), self.record.owner.as_str().into()),
            Condition::Equals(ORDER_ID.into(), order.as_str().into()),
        ]);
        match store.put(Table::Idempotency, item(&self.key, &ended)?, Some(mine)).await {
            Ok(()) => Ok(()),
            // The order was never attached (or another request holds the key now).
            Err(StoreError::ConditionFailed { .. }) => self.release(store).await,
            Err(e) => Err(store_error(e)),
        }
    }

    /// Gives the key back, so a retry runs from the start (after a failure that changed nothing).
    ///
    /// # Errors
    /// Store failures; a lost lease is fine (someone else holds the key now).
    pub async fn release(&self, store: &dyn Store) -> Result<(), ApiError> {
        if !self.claimed {
            // Nothing of this request's is stored (`hand_over` has already checked for a record
            // a lost answer may have left).
            return Ok(());
        }
        match store
            .delete(
                Table::Idempotency,
                &self.key,
                Some(Condition::Equals(OWNER.into(), self.record.owner.as_str().into())),
            )
            .await
        {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_answer_opens_only_for_its_record_under_its_key() {
        let sealer = Sealer::new([3; 32]);
        let answer = r#"{"client_secret":"pi_1_secret_abc","shipping_address":{"line1":"1 Rue de Rivoli"}}"#;
        let sealed = sealer.seal("IDEM#POST /checkout#k1", answer).expect("seals");
        assert!(sealed.starts_with(SEALED));
        assert!(!sealed.contains("pi_1_secret_abc") && !sealed.contains("Rivoli"), "{sealed}");
        assert_eq!(sealer.open("IDEM#POST /checkout#k1", &sealed).as_deref(), Some(answer));
        assert_ne!(sealed, sealer.seal("IDEM#POST /checkout#k1", answer).expect("seals"), "a fresh nonce each time");
        assert_eq!(sealer.open("IDEM#POST /checkout#k2", &sealed), None, "moved to another record");
        assert_eq!(Sealer::new([4; 32]).open("IDEM#POST /checkout#k1", &sealed), None, "another key");
        let rotated = Sealer::with_previous([4; 32], Some([3; 32]));
        assert_eq!(rotated.open("IDEM#POST /checkout#k1", &sealed).as_deref(), Some(answer), "the previous key");
        let resealed = rotated.seal("IDEM#POST /checkout#k1", answer).expect("seals");
        assert_eq!(sealer.open("IDEM#POST /checkout#k1", &resealed), None, "sealed under the current key");
        let mut altered = sealed.clone();
        altered.pop();
        assert_eq!(sealer.open("IDEM#POST /checkout#k1", &altered), None);
        assert_eq!(sealer.open("IDEM#POST /checkout#k1", "sealed:v1:"), None);
        assert_eq!(sealer.open("IDEM#POST /checkout#k1", answer), None, "not sealed");
    }
}
