//! Paying an intent with a test card, as a browser would: for tests against localstripe or
//! Stripe's test mode only.

use ::stripe::StripeRequest;

use super::StripeGateway;
use super::wire::{IntentResponse, to_intent};
use crate::port::{Intent, PaymentError};

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
