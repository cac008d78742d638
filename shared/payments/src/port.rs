//! The payment port: what nanoshop asks of a payment processor.

use async_trait::async_trait;
use nanoshop_domain::Money;
use nanoshop_domain::ids::OrderId;

/// The metadata key every PaymentIntent nanoshop creates carries, naming its order. Events of
/// intents without it are someone else's and are ignored.
pub const ORDER_ID_METADATA: &str = "nanoshop_order_id";

/// A request for a PaymentIntent for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateIntent {
    pub order_id: OrderId,
    /// Exactly the order total.
    pub amount: Money,
    pub email: String,
}

impl CreateIntent {
    /// The idempotency key of the intent: derived from the order, so retries of any kind (ours,
    /// Lambda's, a replayed checkout) can never create a second intent for one order.
    pub fn idempotency_key(&self) -> String {
        format!("nanoshop-pi-{}", self.order_id)
    }
}

/// Where a PaymentIntent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    Succeeded,
    Canceled,
    /// A status this version does not know; treated as still open.
    Other,
}

/// A PaymentIntent as the processor reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: String,
    /// Handed to the browser so it can confirm the payment; never logged.
    pub client_secret: String,
    pub amount: Money,
    pub status: IntentStatus,
}

/// A refund as the processor reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub amount: Money,
    /// `succeeded`, `pending`, `failed`, … as the processor says.
    pub status: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The processor could not be reached or answered with a server error; the same call (with
    /// the same idempotency key) may succeed later.
    #[error("payment provider unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The processor refused the request (an unknown intent, a refund over what was paid).
    #[error("payment provider refused the request: {0}")]
    Refused(String),
}

/// The gateway has no usable credentials: none could be read, they are a placeholder, or the
/// processor refused them (401). Carried inside [`PaymentError::Unavailable`] (the same call may
/// succeed once an operator fixes the secret, which the gateway reads again); the HTTP functions
/// answer it with 503 `not_configured`.
#[derive(Debug, thiserror::Error)]
#[error("payment provider not configured: {0}")]
pub struct NotConfigured(pub &'static str);

impl PaymentError {
    /// The gateway is [`NotConfigured`].
    pub fn is_not_configured(&self) -> bool {
        matches!(self, Self::Unavailable(e) if e.is::<NotConfigured>())
    }
}

/// A payment processor. Every call that changes something takes an idempotency key, and
/// adapters retry transient failures with that same key, so a call is never applied twice.
#[async_trait]
pub trait PaymentGateway: Send + Sync + std::fmt::Debug {
    /// Creates (or, for a key seen before, returns) the PaymentIntent of an order, with the
    /// order id in its metadata under [`ORDER_ID_METADATA`].
    ///
    /// # Errors
    /// [`PaymentError::Unavailable`] when the processor is down; [`PaymentError::Refused`] for a
    /// request it will never accept (an amount below its minimum).
    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, PaymentError>;

    /// Cancels an intent that has not succeeded. Cancelling a cancelled intent is fine.
    ///
    /// # Errors
    /// As [`PaymentGateway::create_intent`]; refused for an intent that already succeeded.
    async fn cancel_intent(&self, intent_id: &str) -> Result<(), PaymentError>;

    /// Refunds `amount` of a succeeded intent. `idempotency_key` makes a retried refund a no-op.
    ///
    /// # Errors
    /// As [`PaymentGateway::create_intent`]; refused for more than is left to refund.
    async fn refund(&self, intent_id: &str, amount: Money, idempotency_key: &str) -> Result<Refund, PaymentError>;

    /// Whether the gateway has usable credentials now (reading them first if it must), without
    /// calling the processor: checkout asks before it reserves anything.
    ///
    /// # Errors
    /// [`PaymentError::Unavailable`] with [`NotConfigured`] inside.
    async fn ready(&self) -> Result<(), PaymentError> {
        Ok(())
    }

    /// The key a browser uses with this processor (`pk_…`); the simulator's is `pk_local`.
    fn publishable_key(&self) -> String;
}
