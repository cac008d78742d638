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
//!
//! One concern a file: this one holds the gateway, its retries and the port's calls; `keys` the
//! key sources and the checks of a key and a base URL; `wire` what Stripe answers, read into
//! the port's types and errors; `test_card` pays an intent as a browser would, for tests.

mod keys;
#[cfg(any(test, feature = "testing"))]
mod test_card;
#[cfg(test)]
mod tests;
#[cfg(feature = "secrets")]
mod variables;
mod wire;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use ::stripe::{Client, ClientBuilder, RequestStrategy, StripeError, StripeRequest};
use async_trait::async_trait;
use nanoshop_domain::Money;
use nanoshop_retry::Backoff;
use secrecy::{ExposeSecret, SecretString};
use stripe_client_core::CustomizableStripeRequest;
use stripe_core::payment_intent::{CancelPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent};
use stripe_core::refund::CreateRefund;

pub use self::keys::{FixedKey, KeySource, StripeConfigError, check_base, check_key};
#[cfg(feature = "secrets")]
pub use self::variables::StripeVariables;
use self::wire::{IntentResponse, RefundResponse, classify, idempotency_key, money, to_intent};
use crate::port::{CreateIntent, Intent, NotConfigured, ORDER_ID_METADATA, PaymentError, PaymentGateway, Refund};
/// Attempts per call, the first included.
pub const ATTEMPTS: u32 = 3;
/// The wait before the second and the third attempt: 100 ms, then 400 ms. No jitter: the waits
/// are part of [`WORST_CASE_BUDGET`], and one request's retries collide with nobody's.
const BACKOFF: Backoff = Backoff::exponential(Duration::from_millis(100), 4, Duration::from_millis(400));
/// The budget of one attempt (connect, send, read). A request makes at most one call with every
/// attempt and one single-attempt check beside it ([`WORST_CASE_REQUEST`]), which with the store's
/// calls must fit in API Gateway's 29 s integration timeout, so a hanging Stripe gives a 502, not a
/// 504. Stripe answers these calls in well under a second; a timed-out attempt is retried with the
/// same idempotency key, so a slow success is not made twice.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest one call can take: every attempt running out its [`ATTEMPT_TIMEOUT`], and the
/// backoff's waits between them (100 ms, then 400 ms). A function that calls Stripe needs at least
/// this much time (plus its own store calls) to run its recovery after Stripe fails, such as giving
/// back checkout's reservation; `tests/e2e/infra/timeouts.rs` holds each function's `Timeout` to it.
pub const WORST_CASE_BUDGET: Duration = worst_case_budget(ATTEMPTS, ATTEMPT_TIMEOUT, &BACKOFF);

/// Time for one read of the secret key after Stripe answered 401: at least the Secrets Manager
/// client's operation timeout (`nanoshop_api::secrets::SECRETS_MANAGER_TIMEOUT`; `tests/e2e/infra/timeouts.rs`
/// holds them together).
pub const KEY_REREAD_ALLOWANCE: Duration = Duration::from_secs(2);

/// The longest the Stripe calls of one request can take: a call with every attempt
/// ([`WORST_CASE_BUDGET`]; the retry after a 401 counts as one of its attempts, plus one read of
/// the key), and the single-attempt check that a refund makes before it, or a refused cancel after
/// it. Every function's `Timeout` covers this plus its store calls (`tests/e2e/infra/timeouts.rs`).
pub const WORST_CASE_REQUEST: Duration =
    WORST_CASE_BUDGET.saturating_add(ATTEMPT_TIMEOUT).saturating_add(KEY_REREAD_ALLOWANCE);

/// `attempts` × `timeout` plus the longest `backoff` waits between them.
const fn worst_case_budget(attempts: u32, timeout: Duration, backoff: &Backoff) -> Duration {
    let retries = attempts.saturating_sub(1);
    match timeout.checked_mul(attempts) {
        Some(attempting) => attempting.saturating_add(backoff.longest_total(retries)),
        None => Duration::MAX,
    }
}

/// Stripe's API, the only base a live key is ever sent to.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com";
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
    async fn fetch_with(&self, intent_id: &str, attempts: u32) -> Result<IntentResponse, PaymentError> {
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
        attempts: u32,
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
            if !(transient && attempt < attempts) {
                return Err(error);
            }
            tracing::warn!(what, attempt, error = %error, "Stripe call failed; retrying");
            BACKOFF.sleep(attempt - 1).await;
        }
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
