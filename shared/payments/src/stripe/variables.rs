//! Where a function finds its Stripe keys, declared once for the three that call Stripe
//! (checkout, orders with its expirer, the webhook) and flattened into each one's configuration.

use nanoshop_api::SecretSource;
use nanoshop_api::config::secret;
use secrecy::SecretString;

/// A deployment sets `STRIPE_SECRET_ID`; a container (`nanoshop serve`, tests) sets the values
/// instead. A function's other fields of the same secret (`publishable_key`, `webhook_secret`)
/// are located with [`StripeVariables::field`].
#[derive(Debug, clap::Args)]
pub struct StripeVariables {
    /// `STRIPE_SECRET_ID`: the Secrets Manager secret holding the Stripe keys as JSON fields
    /// (`secret_key`, and the function's others).
    #[arg(long = "stripe-secret-id", env = "STRIPE_SECRET_ID")]
    pub secret_id: Option<String>,
    /// `STRIPE_SECRET_KEY`: the Stripe API key (`sk_…`) itself, without `STRIPE_SECRET_ID`.
    #[arg(long = "stripe-secret-key", env = "STRIPE_SECRET_KEY", value_parser = secret)]
    pub secret_key_value: Option<SecretString>,
    /// `STRIPE_API_BASE`: another Stripe API endpoint (tests against localstripe); optional.
    #[arg(long = "stripe-api-base", env = "STRIPE_API_BASE")]
    pub api_base: Option<String>,
}

impl StripeVariables {
    /// The Stripe API key: field `secret_key` of `STRIPE_SECRET_ID`, else `STRIPE_SECRET_KEY`.
    pub fn secret_key(&self) -> SecretSource {
        self.field("secret_key", self.secret_key_value.clone())
    }

    /// Field `field` of `STRIPE_SECRET_ID`, else `value` (the function's own variable for it).
    pub fn field(&self, field: &'static str, value: Option<SecretString>) -> SecretSource {
        SecretSource::new(self.secret_id.clone(), Some(field), value)
    }
}
