//! The Stripe adapter: [`StripeGateway`] on async-stripe 1.0.0-rc.10.
//!
//! Requests are async-stripe-core's typed builders sent by async-stripe's client (rustls on
//! aws-lc-rs, bundled webpki roots). Responses are read into small lenient types of our own rather
//! than async-stripe's `PaymentIntent` and `Refund`, which require every field of the API version
//! they are generated for: localstripe, the emulator the adapter is tested against, omits several
//! (`amount_received`, `confirmation_method`, `payment_method_types`, …), and nanoshop needs five.
//!
//! Retries: async-stripe's `RequestStrategy::Idempotent(key)` makes exactly one attempt, and its
//! retrying strategies send no idempotency key unless its `uuid` feature is on. So every call is
//! one attempt, and [`StripeGateway`] retries a transport failure, a timeout, 409, 424, 429 and
//! 5xx itself, [`ATTEMPTS`] times in all with a short backoff, resending the same idempotency key
//! on calls that create something.
//!
//! Keys: the secret key comes from a [`KeySource`], which may change at run time (a secret read
//! from Secrets Manager). The client is rebuilt when the key changes, and a 401 makes the gateway
//! read the key again (the source limits how often) and retry once with the new one. A missing,
//! placeholder or refused key is [`NotConfigured`]. A base URL other than Stripe's own must be
//! https, or http to this machine, and never receives a live key ([`check_key`]).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use ::stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use async_trait::async_trait;
use nanoshop_domain::{Currency, Money};
use secrecy::{ExposeSecret, SecretString};
use stripe_client_core::CustomizableStripeRequest;
use stripe_core::payment_intent::{CancelPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent};
use stripe_core::refund::CreateRefund;

use crate::port::{
    CreateIntent, Intent, IntentStatus, NotConfigured, ORDER_ID_METADATA, PaymentError, PaymentGateway, Refund,
};

/// Attempts per call, the first included.
pub const ATTEMPTS: usize = 3;
/// The wait before the second and the third attempt.
const BACKOFF: [Duration; ATTEMPTS - 1] = [Duration::from_millis(100), Duration::from_millis(400)];
/// The budget of one attempt (connect, send, read). A request makes at most one call with every
/// attempt and one single-attempt check beside it ([`WORST_CASE_REQUEST`]), which with the store's
/// calls must fit in API Gateway's 29 s integration timeout, so a hanging Stripe gives a 502, not a
/// 504. Stripe answers these calls in well under a second; a timed-out attempt is retried with the
/// same idempotency key, so a slow success is not made twice.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest one call can take: every attempt running out its [`ATTEMPT_TIMEOUT`], and the
/// [`BACKOFF`] waits between them. A function that calls Stripe needs at least this much time
/// (plus its own store calls) to run its recovery after Stripe fails, such as giving back
/// checkout's reservation; `tests/e2e/infra/timeouts.rs` holds each function's `Timeout` to it.
pub const WORST_CASE_BUDGET: Duration = worst_case_budget(ATTEMPTS, ATTEMPT_TIMEOUT, &BACKOFF);

/// Time for one read of the secret key after Stripe answered 401: at least the Secrets Manager
/// client's operation timeout (`nanoshop_api::secrets::SECRETS_MANAGER_TIMEOUT`;
/// `tests/e2e/infra/timeouts.rs` holds them together).
pub const KEY_REREAD_ALLOWANCE: Duration = Duration::from_secs(2);

/// The longest the Stripe calls of one request can take: a call with every attempt
/// ([`WORST_CASE_BUDGET`]; the retry after a 401 counts as one of its attempts, plus one read of
/// the key), and the single-attempt check that a refund makes before it, or a refused cancel after
/// it. Every function's `Timeout` covers this plus its store calls (`tests/e2e/infra/timeouts.rs`).
pub const WORST_CASE_REQUEST: Duration =
    WORST_CASE_BUDGET.saturating_add(ATTEMPT_TIMEOUT).saturating_add(KEY_REREAD_ALLOWANCE);

/// `attempts` × `timeout` plus the sum of `backoff`.
const fn worst_case_budget(attempts: usize, timeout: Duration, backoff: &[Duration]) -> Duration {
    let mut total = Duration::ZERO;
    let mut i = 0;
    while i < attempts {
        total = total.saturating_add(timeout);
        i += 1;
    }
    let mut i = 0;
    while i < backoff.len() {
        total = total.saturating_add(backoff[i]);
        i += 1;
    }
    total
}

/// Stripe's API, the only base a live key is ever sent to.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com";

/// Where the gateway gets a key that may change at run time (`nanoshop_api::Secret` with this
/// crate's feature `secrets`; a fixed string otherwise).
#[async_trait]
pub trait KeySource: Send + Sync + std::fmt::Debug {
    /// The key as cached now, reading nothing.
    fn cached(&self) -> Option<SecretString>;
    /// The key, read first when none is cached.
    async fn get(&self) -> Option<SecretString>;
    /// Reads the key again because Stripe refused it; true when it changed. The source decides
    /// how often it really reads.
    async fn reread(&self) -> bool;
}

/// A key that never changes.
#[derive(Clone)]
pub struct FixedKey(pub Option<SecretString>);

impl std::fmt::Debug for FixedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixedKey")
    }
}

#[async_trait]
impl KeySource for FixedKey {
    fn cached(&self) -> Option<SecretString> {
        self.0.clone()
    }
    async fn get(&self) -> Option<SecretString> {
        self.0.clone()
    }
    async fn reread(&self) -> bool {
        false
    }
}

#[cfg(feature = "secrets")]
#[async_trait]
impl KeySource for nanoshop_api::Secret {
    fn cached(&self) -> Option<SecretString> {
        nanoshop_api::Secret::cached(self)
    }
    async fn get(&self) -> Option<SecretString> {
        nanoshop_api::Secret::get(self).await
    }
    async fn reread(&self) -> bool {
        nanoshop_api::Secret::reread(self).await
    }
}

/// The Stripe adapter. See the module documentation.
#[derive(Clone)]
pub struct StripeGateway {
    secret_key: Arc<dyn KeySource>,
    publishable_key: Option<Arc<dyn KeySource>>,
    base_url: Option<String>,
    /// The client of the key it was built with.
    client: Arc<RwLock<Option<(SecretString, Client)>>>,
}

impl std::fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeGateway")
            .field("publishable_key", &self.publishable_key())
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// The secret key or the base URL cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid Stripe configuration: {0}")]
pub struct StripeConfigError(String);

/// Stripe answered something the adapter cannot read.
#[derive(Debug, thiserror::Error)]
#[error("unexpected answer from Stripe: {0}")]
struct UnexpectedResponse(String);

/// A Stripe error that may pass (a server error, a rate limit, a conflict on a key in use).
#[derive(Debug, thiserror::Error)]
#[error("Stripe answered {status}: {message}")]
struct TransientStripeError {
    status: u16,
    message: String,
}

/// Whether `base` may be given any key: Stripe's own, any https URL, or http to a loopback
/// address (localstripe in tests). Anything else would send the key in clear over a network.
///
/// # Errors
/// [`StripeConfigError`] naming the URL's problem.
pub fn check_base(base: &str) -> Result<(), StripeConfigError> {
    let (scheme, rest) = base.split_once("://").ok_or_else(|| StripeConfigError(format!("{base} is not a URL")))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() || authority.contains('@') {
        return Err(StripeConfigError(format!("{base} names no plain host")));
    }
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match scheme {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(StripeConfigError(format!("{base} is plain http to another machine; use https"))),
        _ => Err(StripeConfigError(format!("{base} is not an http(s) URL"))),
    }
}

/// Whether `key` can be sent to `base` (`None`: Stripe's own): a secret (`sk_`) or restricted
/// (`rk_`) key of test or live mode, not a placeholder (`sk_live_…`, `…replace…`); a live key only
/// to Stripe itself, so a variable cannot send it anywhere else.
///
/// # Errors
/// [`StripeConfigError`] saying why, never showing the key.
pub fn check_key(key: &str, base: Option<&str>) -> Result<(), StripeConfigError> {
    let rest = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"]
        .iter()
        .find_map(|p| key.strip_prefix(p))
        .ok_or_else(|| StripeConfigError("the secret key is not an sk_… or rk_… key".into()))?;
    let lower = rest.to_ascii_lowercase();
    if rest.len() < 4
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        || ["replace", "example", "placeholder"].iter().any(|p| lower.contains(p))
    {
        return Err(StripeConfigError("the secret key is a placeholder, not a key".into()));
    }
    let live = key.starts_with("sk_live_") || key.starts_with("rk_live_");
    if let Some(base) = base {
        check_base(base)?;
        if live && base.trim_end_matches('/') != STRIPE_API_BASE {
            return Err(StripeConfigError(format!("a live key is only ever sent to {STRIPE_API_BASE}, not {base}")));
        }
    }
    Ok(())
}

fn build_client(key: &str, base_url: Option<&str>) -> Result<Client, StripeConfigError> {
    check_key(key, base_url)?;
    let mut builder = ClientBuilder::new(key).timeout(ATTEMPT_TIMEOUT);
    if let Some(url) = base_url {
        builder = builder.url(url);
    }
    // async-stripe's configuration errors name the setting, never the secret's value.
    builder.build().map_err(|e| StripeConfigError(e.to_string()))
}

/// 503 `not_configured` for a key [`check_key`] refuses, logged with why (never the key).
fn unusable(e: &StripeConfigError) -> PaymentError {
    tracing::error!(error = %e, "the Stripe secret key cannot be used");
    not_configured("the Stripe secret key cannot be used")
}

fn not_configured(what: &'static str) -> PaymentError {
    PaymentError::Unavailable(Box::new(NotConfigured(what)))
}

impl StripeGateway {
    /// A gateway for a fixed `secret_key` (`sk_…`, or a restricted `rk_…` allowed PaymentIntents
    /// and Refunds). `base_url` replaces [`STRIPE_API_BASE`] (localstripe in tests).
    ///
    /// # Errors
    /// [`StripeConfigError`] when the key or the URL fails [`check_key`], or the key is not a
    /// valid header value.
    pub fn new(secret_key: &str, publishable_key: String, base_url: Option<&str>) -> Result<Self, StripeConfigError> {
        let client = build_client(secret_key, base_url)?;
        let gateway = Self::with_keys(
            Arc::new(FixedKey(Some(secret_key.into()))),
            Some(Arc::new(FixedKey(Some(publishable_key.into())))),
            base_url,
        )?;
        *gateway.client.write().unwrap_or_else(PoisonError::into_inner) = Some((secret_key.into(), client));
        Ok(gateway)
    }

    /// A gateway whose keys may change at run time; `publishable_key` only where a browser is
    /// handed one (checkout). Keys are read on first use, not here.
    ///
    /// # Errors
    /// [`StripeConfigError`] when `base_url` fails [`check_base`].
    pub fn with_keys(
        secret_key: Arc<dyn KeySource>,
        publishable_key: Option<Arc<dyn KeySource>>,
        base_url: Option<&str>,
    ) -> Result<Self, StripeConfigError> {
        if let Some(base) = base_url {
            check_base(base)?;
        }
        Ok(Self {
            secret_key,
            publishable_key,
            base_url: base_url.map(str::to_owned),
            client: Arc::new(RwLock::new(None)),
        })
    }

    /// The intent as Stripe has it now.
    ///
    /// # Errors
    /// As [`PaymentGateway::create_intent`]; refused for an unknown intent.
    pub async fn retrieve_intent(&self, intent_id: &str) -> Result<Intent, PaymentError> {
        to_intent(self.fetch(intent_id).await?)
    }

    async fn fetch(&self, intent_id: &str) -> Result<IntentResponse, PaymentError> {
        self.fetch_with(intent_id, ATTEMPTS).await
    }

    /// The intent, in at most `attempts` attempts: a check beside another call of the same request
    /// makes one, so the request stays within [`WORST_CASE_REQUEST`]; its caller retries.
    async fn fetch_with(&self, intent_id: &str, attempts: usize) -> Result<IntentResponse, PaymentError> {
        self.send("retrieve payment intent", attempts, || RetrievePaymentIntent::new(intent_id).build().customize())
            .await
    }

    /// The client for the current key, rebuilt when the key changed. A key that cannot be used
    /// (a placeholder, a live key for another base) is read again before it is refused, so a key
    /// fixed in Secrets Manager is picked up without a restart (the source limits how often).
    async fn client(&self) -> Result<Client, PaymentError> {
        let Some(key) = self.secret_key.get().await else { return Err(not_configured("no Stripe secret key")) };
        if let Some((built_for, client)) = &*self.client.read().unwrap_or_else(PoisonError::into_inner)
            && built_for.expose_secret() == key.expose_secret()
        {
            return Ok(client.clone());
        }
        let (key, client) = match build_client(key.expose_secret(), self.base_url.as_deref()) {
            Ok(client) => (key, client),
            Err(first) => {
                let fixed = if self.secret_key.reread().await { self.secret_key.cached() } else { None };
                let built =
                    fixed.map(|key| build_client(key.expose_secret(), self.base_url.as_deref()).map(|c| (key, c)));
                match built {
                    Some(Ok(built)) => built,
                    Some(Err(e)) => return Err(unusable(&e)),
                    None => return Err(unusable(&first)),
                }
            }
        };
        *self.client.write().unwrap_or_else(PoisonError::into_inner) = Some((key, client.clone()));
        Ok(client)
    }

    /// Sends what `request` builds, up to `attempts` times while the failure is transient. A 401
    /// reads the key again and, when it changed, sends once more with the new one.
    async fn send<T: miniserde::Deserialize>(
        &self,
        what: &'static str,
        attempts: usize,
        request: impl Fn() -> CustomizableStripeRequest<T>,
    ) -> Result<T, PaymentError> {
        let mut attempt = 0;
        let mut reread = false;
        loop {
            let client = self.client().await?;
            let error = match request().send(&client).await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            if matches!(error, StripeError::Stripe(_, 401)) {
                // Stripe's message names the key's last digits: it stays out of logs and answers.
                tracing::error!(what, "Stripe refused the secret key (401)");
                // The retry with a new key is one of the call's attempts, so a call stays within
                // WORST_CASE_BUDGET plus one read of the key.
                attempt += 1;
                if !reread && attempt < attempts && self.secret_key.reread().await {
                    reread = true;
                    continue;
                }
                return Err(not_configured("Stripe refused the secret key"));
            }
            let (error, transient) = classify(error);
            attempt += 1;
            match BACKOFF.get(attempt - 1) {
                Some(wait) if transient && attempt < attempts => {
                    tracing::warn!(what, attempt, error = %error, "Stripe call failed; retrying");
                    tokio::time::sleep(*wait).await;
                }
                _ => return Err(error),
            }
        }
    }
}

/// Only for tests against localstripe or Stripe's test mode.
#[cfg(any(test, feature = "testing"))]
impl StripeGateway {
    /// Pays `intent_id` with a test card number, as a browser would: creates a card
    /// PaymentMethod, attaches it to the intent and confirms. localstripe: `4242424242424242`
    /// succeeds, `4000000000000341` is declined, `4000002760003184` requires 3-D Secure (the
    /// intent is then `requires_action`). Real Stripe accepts raw card numbers only on accounts
    /// allowed to send them; use its `pm_card_…` ids there. No call is retried: a confirmation is
    /// not idempotent.
    ///
    /// # Errors
    /// [`PaymentError::Refused`] with the decline message for a declined card (the intent is then
    /// `requires_payment_method` again); otherwise as [`PaymentGateway::create_intent`].
    pub async fn confirm_with_test_card(&self, intent_id: &str, card_number: &str) -> Result<Intent, PaymentError> {
        use stripe_client_core::{RequestBuilder, StripeMethod};
        use stripe_core::payment_intent::{ConfirmPaymentIntent, UpdatePaymentIntent};

        #[derive(serde::Serialize)]
        struct CardPaymentMethod<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            card: Card<'a>,
        }
        #[derive(serde::Serialize)]
        struct Card<'a> {
            number: &'a str,
            exp_month: u8,
            exp_year: u16,
            cvc: &'static str,
        }
        #[derive(miniserde::Deserialize)]
        struct Created {
            id: String,
        }

        let form = CardPaymentMethod {
            kind: "card",
            card: Card { number: card_number, exp_month: 12, exp_year: 2034, cvc: "123" },
        };
        let method: Created = self
            .send("create payment method", 1, || {
                RequestBuilder::new(StripeMethod::Post, "/payment_methods").form(&form).customize()
            })
            .await?;
        self.send("attach payment method", 1, || {
            UpdatePaymentIntent::new(intent_id).payment_method(method.id.as_str()).build().customize::<IntentResponse>()
        })
        .await?;
        let confirmed =
            self.send("confirm payment intent", 1, || ConfirmPaymentIntent::new(intent_id).build().customize()).await?;
        to_intent(confirmed)
    }
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, PaymentError> {
        let key = idempotency_key(&request.idempotency_key())?;
        let Ok(currency) = request.amount.currency.code().to_ascii_lowercase().parse::<stripe_types::Currency>();
        let metadata = HashMap::from([(ORDER_ID_METADATA.to_owned(), request.order_id.to_string())]);
        // Neither `automatic_payment_methods` nor `payment_method_types` (which localstripe
        // refuses, and async-stripe 1.0's builder no longer has): since API version 2023-08-16
        // Stripe then offers the payment methods enabled in the Dashboard, cards among them.
        // `receipt_email` is not sent either (localstripe refuses it; receipts are nanoshop's).
        let create = CreatePaymentIntent::new(request.amount.amount, currency).metadata(metadata);
        let created = self
            .send("create payment intent", ATTEMPTS, || {
                create.build().customize().request_strategy(RequestStrategy::Idempotent(key.clone()))
            })
            .await?;
        let intent = to_intent(created)?;
        if intent.amount != request.amount {
            // Only possible if the order's key was once used for another amount.
            return Err(PaymentError::Refused(format!(
                "the payment intent of order {} is for {}, not {}",
                request.order_id, intent.amount, request.amount
            )));
        }
        Ok(intent)
    }

    /// Not sent with an idempotency key: Stripe would replay a refusal (the intent was
    /// `processing`) for 24 hours. Cancelling is idempotent by itself instead: when Stripe refuses
    /// because the intent is already canceled, that is success.
    async fn cancel_intent(&self, intent_id: &str) -> Result<(), PaymentError> {
        let cancel = CancelPaymentIntent::new(intent_id);
        match self.send("cancel payment intent", ATTEMPTS, || cancel.build().customize::<IntentResponse>()).await {
            Ok(_) => Ok(()),
            Err(PaymentError::Refused(why)) => match self.fetch_with(intent_id, 1).await?.status.as_str() {
                "canceled" => Ok(()),
                _ => Err(PaymentError::Refused(why)),
            },
            Err(e) => Err(e),
        }
    }

    /// Checks the intent first (one GET): it must have succeeded, in the refund's currency, for
    /// at least the amount. Stripe refunds have no currency of their own, so without the check a
    /// USD amount would silently refund that many euro cents; and localstripe accepts any
    /// amount. A second refund that makes the total exceed what was paid is left to Stripe: a
    /// check of what is left would refuse the replay of a full refund under its own key.
    async fn refund(&self, intent_id: &str, amount: Money, idempotency_key: &str) -> Result<Refund, PaymentError> {
        let key = self::idempotency_key(idempotency_key)?;
        let paid = self.fetch_with(intent_id, 1).await?;
        let paid_amount = money(paid.amount, &paid.currency)?;
        if paid.status != "succeeded" {
            return Err(PaymentError::Refused(format!("payment {intent_id} is {}; nothing to refund", paid.status)));
        }
        if amount.currency != paid_amount.currency {
            return Err(PaymentError::Refused(format!(
                "refund in {} of a payment in {}",
                amount.currency, paid_amount.currency
            )));
        }
        // localstripe omits amount_received; a succeeded intent there received all of it.
        let received = paid.amount_received.unwrap_or(paid.amount);
        if amount.amount < 1 || amount.amount > received {
            return Err(PaymentError::Refused(format!(
                "refund of {amount} on a payment of {}",
                Money::new(received, amount.currency)
            )));
        }
        let create = CreateRefund::new().payment_intent(intent_id).amount(amount.amount);
        let refund: RefundResponse = self
            .send("create refund", ATTEMPTS, || {
                create.build().customize().request_strategy(RequestStrategy::Idempotent(key.clone()))
            })
            .await?;
        Ok(Refund {
            amount: money(refund.amount, &refund.currency)?,
            id: refund.id,
            status: refund.status.unwrap_or_else(|| "pending".into()),
        })
    }

    async fn ready(&self) -> Result<(), PaymentError> {
        self.client().await?;
        if let Some(publishable) = &self.publishable_key {
            let usable = |key: Option<SecretString>| key.is_some_and(|k| k.expose_secret().starts_with("pk_"));
            // One that is missing or not a `pk_…` key is read again before it is refused.
            let ready = usable(publishable.get().await) || (publishable.reread().await && usable(publishable.cached()));
            if !ready {
                return Err(not_configured("no Stripe publishable key"));
            }
        }
        Ok(())
    }

    fn publishable_key(&self) -> String {
        let key = self.publishable_key.as_ref().and_then(|k| k.cached());
        key.map(|k| k.expose_secret().to_owned()).unwrap_or_default()
    }
}

/// The fields of a PaymentIntent nanoshop reads.
#[derive(miniserde::Deserialize)]
struct IntentResponse {
    id: String,
    amount: i64,
    currency: String,
    status: String,
    client_secret: Option<String>,
    amount_received: Option<i64>,
}

/// The fields of a Refund nanoshop reads.
#[derive(miniserde::Deserialize)]
struct RefundResponse {
    id: String,
    amount: i64,
    currency: String,
    status: Option<String>,
}

fn to_intent(pi: IntentResponse) -> Result<Intent, PaymentError> {
    let client_secret =
        pi.client_secret.ok_or_else(|| unexpected(format!("payment intent {} without client_secret", pi.id)))?;
    Ok(Intent { amount: money(pi.amount, &pi.currency)?, status: status(&pi.status), id: pi.id, client_secret })
}

fn status(status: &str) -> IntentStatus {
    match status {
        "requires_payment_method" => IntentStatus::RequiresPaymentMethod,
        "requires_confirmation" => IntentStatus::RequiresConfirmation,
        "requires_action" => IntentStatus::RequiresAction,
        "processing" => IntentStatus::Processing,
        "succeeded" => IntentStatus::Succeeded,
        "canceled" => IntentStatus::Canceled,
        _ => IntentStatus::Other,
    }
}

fn money(amount: i64, currency: &str) -> Result<Money, PaymentError> {
    let currency: Currency = currency.to_ascii_uppercase().parse().map_err(|e| unexpected(format!("{e}")))?;
    Ok(Money::new(amount, currency))
}

fn idempotency_key(key: &str) -> Result<IdempotencyKey, PaymentError> {
    IdempotencyKey::new(key).map_err(|e| PaymentError::Refused(e.to_string()))
}

fn unexpected(what: String) -> PaymentError {
    PaymentError::Unavailable(Box::new(UnexpectedResponse(what)))
}

/// The port's error for what async-stripe reports, and whether the same call may succeed if
/// sent again.
fn classify(error: StripeError) -> (PaymentError, bool) {
    match error {
        StripeError::Stripe(api, status) => {
            let message = api
                .message
                .clone()
                .or_else(|| api.code.as_ref().map(|c| c.as_str().to_owned()))
                .unwrap_or_else(|| api.type_.as_str().to_owned());
            if matches!(status, 409 | 424 | 429 | 500..=599) {
                (PaymentError::Unavailable(Box::new(TransientStripeError { status, message })), true)
            } else {
                (PaymentError::Refused(message), false)
            }
        }
        StripeError::ClientError(_) | StripeError::Timeout => (PaymentError::Unavailable(Box::new(error)), true),
        // An error status whose body is not a Stripe error (a proxy's page, a crashed emulator):
        // async-stripe drops the status, so it is taken as a server error.
        StripeError::JSONDeserialize(ref why) if why == "error deserializing Stripe error" => {
            (PaymentError::Unavailable(Box::new(error)), true)
        }
        // A success we cannot read would read no better the second time.
        StripeError::JSONDeserialize(_) | StripeError::ConfigError(_) => {
            (PaymentError::Unavailable(Box::new(error)), false)
        }
    }
}

#[cfg(test)]
mod tests {
    //! The retry and error mapping against a fake Stripe that answers what each test scripts; the
    //! behaviour against a real Stripe emulator is in `tests/localstripe.rs`.

    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use nanoshop_domain::ids::OrderId;

    use super::*;

    #[derive(Default)]
    struct Script {
        answers: Vec<(u16, String)>,
        seen: Vec<(HeaderMap, String)>,
    }

    type Shared = Arc<Mutex<Script>>;

    async fn answer(State(script): State<Shared>, headers: HeaderMap, body: String) -> (StatusCode, String) {
        let mut script = script.lock().expect("lock");
        script.seen.push((headers, body));
        let (status, body) = if script.answers.is_empty() { (500, String::new()) } else { script.answers.remove(0) };
        (StatusCode::from_u16(status).expect("status"), body)
    }

    async fn fake_stripe(answers: Vec<(u16, &str)>) -> (StripeGateway, Shared) {
        let (addr, script) = fake_stripe_at(answers).await;
        let gateway = StripeGateway::new("sk_test_fake", "pk_test_fake".into(), Some(&format!("http://{addr}")))
            .expect("gateway");
        (gateway, script)
    }

    async fn fake_stripe_at(answers: Vec<(u16, &str)>) -> (std::net::SocketAddr, Shared) {
        let script: Shared = Arc::new(Mutex::new(Script {
            answers: answers.into_iter().map(|(s, b)| (s, b.to_owned())).collect(),
            seen: vec![],
        }));
        let app = Router::new().route("/v1/payment_intents", post(answer)).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (addr, script)
    }

    /// A key that changes when the test says, counting re-reads.
    #[derive(Debug, Default)]
    struct Rotating {
        current: Mutex<Option<String>>,
        next: Mutex<Option<String>>,
        rereads: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl KeySource for Rotating {
        fn cached(&self) -> Option<SecretString> {
            self.current.lock().expect("lock").clone().map(SecretString::from)
        }
        async fn get(&self) -> Option<SecretString> {
            self.cached()
        }
        async fn reread(&self) -> bool {
            self.rereads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match self.next.lock().expect("lock").take() {
                Some(next) => {
                    *self.current.lock().expect("lock") = Some(next);
                    true
                }
                None => false,
            }
        }
    }

    fn rotating(current: Option<&str>, next: Option<&str>) -> Arc<Rotating> {
        Arc::new(Rotating {
            current: Mutex::new(current.map(str::to_owned)),
            next: Mutex::new(next.map(str::to_owned)),
            rereads: Default::default(),
        })
    }

    fn bearer(headers: &HeaderMap) -> String {
        headers["authorization"].to_str().expect("ascii").to_owned()
    }

    #[tokio::test]
    async fn a_refused_key_is_read_again_and_the_call_sent_once_more_with_the_new_one() {
        let unauthorized = error("invalid_request_error", "Invalid API Key provided: sk_test_****_old");
        let (addr, script) = fake_stripe_at(vec![(401, &unauthorized), (200, INTENT)]).await;
        let key = rotating(Some("sk_test_old_key"), Some("sk_test_new_key"));
        let gateway = StripeGateway::with_keys(key.clone(), None, Some(&format!("http://{addr}"))).expect("gateway");
        let intent = gateway.create_intent(&request()).await.expect("the new key works");
        assert_eq!(intent.id, "pi_1");
        let seen = &script.lock().expect("lock").seen;
        assert_eq!(seen.len(), 2);
        assert!(bearer(&seen[0].0).contains("sk_test_old_key"));
        assert!(bearer(&seen[1].0).contains("sk_test_new_key"), "the client was rebuilt for the new key");
    }

    #[tokio::test]
    async fn a_refused_key_that_did_not_change_is_not_configured_and_hides_stripes_message() {
        let unauthorized = error("invalid_request_error", "Invalid API Key provided: sk_test_****_old");
        let (addr, script) = fake_stripe_at(vec![(401, &unauthorized), (401, &unauthorized), (200, INTENT)]).await;
        let key = rotating(Some("sk_test_old_key"), None);
        let gateway = StripeGateway::with_keys(key.clone(), None, Some(&format!("http://{addr}"))).expect("gateway");
        let err = gateway.create_intent(&request()).await.expect_err("refused");
        assert!(err.is_not_configured(), "{err:?}");
        assert!(!format!("{err:?} {err}").contains("****"), "{err:?}");
        assert_eq!(script.lock().expect("lock").seen.len(), 1, "no retry with a key Stripe refused");
        assert_eq!(key.rereads.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn without_a_usable_key_nothing_is_sent_and_the_gateway_is_not_ready() {
        let (addr, script) = fake_stripe_at(vec![(200, INTENT)]).await;
        let base = format!("http://{addr}");
        for key in [None, Some("sk_live_…"), Some("sk_test_replace_me"), Some("pk_test_abcdef"), Some("")] {
            let gateway = StripeGateway::with_keys(rotating(key, None), None, Some(&base)).expect("gateway");
            assert!(gateway.ready().await.expect_err("not ready").is_not_configured(), "{key:?}");
            let err = gateway.create_intent(&request()).await.expect_err("not sent");
            assert!(err.is_not_configured(), "{key:?}: {err:?}");
        }
        let publishable = Some(rotating(None, None) as Arc<dyn KeySource>);
        let gateway =
            StripeGateway::with_keys(rotating(Some("sk_test_good"), None), publishable, Some(&base)).expect("gateway");
        assert!(gateway.ready().await.expect_err("no publishable key").is_not_configured());
        assert!(script.lock().expect("lock").seen.is_empty());
    }

    /// A Secrets Manager secret as the functions read it (`nanoshop_api::Secret`), whose value
    /// the test changes.
    #[derive(Debug)]
    struct Source(Arc<Mutex<String>>);

    #[async_trait]
    impl nanoshop_api::secrets::SecretFetcher for Source {
        async fn fetch(&self) -> anyhow::Result<String> {
            Ok(self.0.lock().expect("lock").clone())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_placeholder_key_fixed_in_the_source_is_used_after_the_reread_interval_without_a_restart() {
        use nanoshop_api::secrets::{MIN_REREAD_INTERVAL, RemoteSecret};
        let (addr, script) = fake_stripe_at(vec![(200, INTENT)]).await;
        let document = |sk: &str, pk: &str| serde_json::json!({"secret_key": sk, "publishable_key": pk}).to_string();
        let value = Arc::new(Mutex::new(document("sk_test_replace_me", "replace_me")));
        let remote = RemoteSecret::new(Box::new(Source(value.clone())));
        let key = |field| Arc::new(nanoshop_api::Secret::remote(remote.clone(), Some(field))) as Arc<dyn KeySource>;
        let gateway =
            StripeGateway::with_keys(key("secret_key"), Some(key("publishable_key")), Some(&format!("http://{addr}")))
                .expect("gateway");
        assert!(gateway.ready().await.expect_err("a placeholder").is_not_configured());
        assert!(gateway.create_intent(&request()).await.expect_err("a placeholder").is_not_configured());

        *value.lock().expect("lock") = document("sk_test_fixed_key", "replace_me");
        assert!(gateway.ready().await.expect_err("not read again yet").is_not_configured());
        let reads = remote.reads();
        tokio::time::advance(MIN_REREAD_INTERVAL).await;
        assert!(
            gateway.ready().await.expect_err("the publishable key is still a placeholder").is_not_configured(),
            "a secret key alone does not make checkout ready"
        );
        assert_eq!(remote.reads(), reads + 1, "the placeholder was read again once the interval passed");

        *value.lock().expect("lock") = document("sk_test_fixed_key", "pk_test_fixed");
        tokio::time::advance(MIN_REREAD_INTERVAL).await;
        gateway.ready().await.expect("both keys fixed, no restart");
        assert_eq!(gateway.publishable_key(), "pk_test_fixed");
        // The network from here on: real time again, so the client's timeouts mean what they say.
        tokio::time::resume();
        gateway.create_intent(&request()).await.expect("sent with the fixed key");
        let seen = &script.lock().expect("lock").seen;
        assert_eq!(seen.len(), 1, "nothing was sent with the placeholder");
        assert!(bearer(&seen[0].0).contains("sk_test_fixed_key"));
        assert!(remote.reads() <= reads + 2, "at most one read per interval: {}", remote.reads());
    }

    #[test]
    fn a_base_url_is_https_or_http_to_this_machine() {
        for ok in [
            "https://api.stripe.com",
            "https://stripe.example/v1",
            "http://127.0.0.1:8420",
            "http://localhost:1",
            "http://[::1]:8420/",
        ] {
            assert!(check_base(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.stripe.com",
            "http://10.0.0.1:8420",
            "http://127.0.0.1.evil.example",
            "ftp://127.0.0.1",
            "not a url",
            "http://user@127.0.0.1",
            "https://",
        ] {
            assert!(check_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_live_key_goes_to_stripe_only_and_placeholders_are_refused() {
        for (key, base, ok) in [
            ("sk_live_51Habcdef", None, true),
            ("sk_live_51Habcdef", Some("https://api.stripe.com"), true),
            ("sk_live_51Habcdef", Some("https://api.stripe.com/"), true),
            ("sk_live_51Habcdef", Some("https://stripe.example"), false),
            ("rk_live_51Habcdef", Some("http://127.0.0.1:8420"), false),
            ("sk_test_51Habcdef", Some("http://127.0.0.1:8420"), true),
            ("rk_test_51Habcdef", Some("https://stripe.example"), true),
            ("sk_live_…", None, false),
            ("sk_live_...", None, false),
            ("sk_test_replace_me_later", None, false),
            ("sk_test_", None, false),
            ("pk_live_51Habcdef", None, false),
            ("whsec_51Habcdef", None, false),
        ] {
            let result = check_key(key, base);
            assert_eq!(result.is_ok(), ok, "{key} to {base:?}: {result:?}");
            if let Err(e) = result {
                assert!(!e.to_string().contains("51Habcdef"), "the error shows the key: {e}");
            }
        }
        assert!(StripeGateway::new("sk_live_51Habcdef", "pk_live_1".into(), Some("http://127.0.0.1:8420")).is_err());
        assert!(StripeGateway::with_keys(rotating(None, None), None, Some("http://stripe.example")).is_err());
    }

    fn request() -> CreateIntent {
        CreateIntent {
            order_id: OrderId::generate(),
            amount: Money::new(1999, Currency::EUR),
            email: "a@b.example".into(),
        }
    }

    const INTENT: &str = r#"{"id": "pi_1", "object": "payment_intent", "amount": 1999, "currency": "eur",
        "status": "requires_payment_method", "client_secret": "pi_1_secret_x"}"#;

    fn error(kind: &str, message: &str) -> String {
        format!(r#"{{"error": {{"type": "{kind}", "message": "{message}"}}}}"#)
    }

    #[tokio::test]
    async fn server_errors_are_retried_with_the_same_idempotency_key() {
        let api_error = error("api_error", "Something went wrong");
        let (gateway, script) = fake_stripe(vec![(500, &api_error), (503, "<html>busy</html>"), (200, INTENT)]).await;
        let req = request();
        let intent = gateway.create_intent(&req).await.expect("third attempt succeeds");
        assert_eq!(intent.id, "pi_1");
        assert_eq!(intent.client_secret, "pi_1_secret_x");
        assert_eq!((intent.amount, intent.status), (req.amount, IntentStatus::RequiresPaymentMethod));

        let seen = &script.lock().expect("lock").seen;
        assert_eq!(seen.len(), 3);
        for (headers, body) in seen {
            assert_eq!(headers["idempotency-key"], req.idempotency_key().as_str());
            assert!(body.contains("amount=1999") && body.contains("currency=eur"), "{body}");
            assert!(body.contains(&format!("metadata[{ORDER_ID_METADATA}]={}", req.order_id)), "{body}");
        }
    }

    #[test]
    fn the_worst_case_budget_is_every_attempt_timing_out_plus_the_backoff() {
        let attempts = u32::try_from(ATTEMPTS).expect("a few attempts");
        assert_eq!(WORST_CASE_BUDGET, ATTEMPT_TIMEOUT * attempts + BACKOFF.iter().sum::<Duration>());
        let backoff = [Duration::from_millis(100), Duration::from_millis(400)];
        assert_eq!(worst_case_budget(3, Duration::from_secs(8), &backoff), Duration::from_millis(24_500));
    }

    #[tokio::test]
    async fn three_transient_failures_are_unavailable() {
        let busy = error("invalid_request_error", "Too many requests");
        let (gateway, script) = fake_stripe(vec![(429, &busy), (429, &busy), (429, &busy), (200, INTENT)]).await;
        let err = gateway.create_intent(&request()).await.expect_err("gives up");
        assert!(matches!(err, PaymentError::Unavailable(_)), "{err:?}");
        assert_eq!(script.lock().expect("lock").seen.len(), ATTEMPTS);
    }

    #[tokio::test]
    async fn client_errors_are_refused_with_stripes_message_and_not_retried() {
        let invalid = error("invalid_request_error", "Amount must be at least €0.50 eur");
        let (gateway, script) = fake_stripe(vec![(400, &invalid), (200, INTENT)]).await;
        let err = gateway.create_intent(&request()).await.expect_err("refused");
        let PaymentError::Refused(message) = err else { panic!("{err:?}") };
        assert_eq!(message, "Amount must be at least €0.50 eur");
        assert_eq!(script.lock().expect("lock").seen.len(), 1);
    }

    #[tokio::test]
    async fn an_unreadable_success_is_unavailable_and_not_retried() {
        let (gateway, script) = fake_stripe(vec![(200, r#"{"id": "pi_1"}"#), (200, INTENT)]).await;
        assert!(matches!(gateway.create_intent(&request()).await, Err(PaymentError::Unavailable(_))));
        assert_eq!(script.lock().expect("lock").seen.len(), 1);
    }

    #[tokio::test]
    async fn an_intent_for_another_amount_under_the_orders_key_is_refused() {
        let other = INTENT.replace("1999", "2000");
        let (gateway, _) = fake_stripe(vec![(200, &other)]).await;
        assert!(matches!(gateway.create_intent(&request()).await, Err(PaymentError::Refused(_))));
    }

    #[test]
    fn a_bad_base_url_is_a_configuration_error() {
        assert!(StripeGateway::new("sk_test_valid1", "pk".into(), Some("not a url")).is_err());
        assert!(StripeGateway::new("sk_test\n", "pk".into(), None).is_err());
        let gateway = StripeGateway::new("sk_test_secret_value", "pk_test_1".into(), None).expect("gateway");
        assert!(!format!("{gateway:?}").contains("sk_test_secret_value"));
        assert_eq!(gateway.publishable_key(), "pk_test_1");
    }
}
