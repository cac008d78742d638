//! Bodies more than one function reads or writes, with their one conversion into the domain.

use nanoshop_domain::address::{Address, UncheckedAddress};
use nanoshop_domain::{Currency, FieldError, Money, ValidationErrors};
use serde::{Deserialize, Serialize};

/// A line of an address as the domain's validation admits it: no control character but tab and
/// line feed (`char::is_control`: U+0000–U+001F, U+007F–U+009F).
const LINE: &str = "^[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*$";
/// The same, and not blank: required fields are trimmed, then must not be empty.
const FILLED_LINE: &str =
    "^[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*$";

/// A postal address as clients send it (cart shipping, checkout).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressHttpBody {
    #[schemars(length(min = 1, max = 200), extend("pattern" = FILLED_LINE))]
    pub name: String,
    #[schemars(length(min = 1, max = 200), extend("pattern" = FILLED_LINE))]
    pub line1: String,
    #[serde(default)]
    #[schemars(length(max = 100), extend("pattern" = LINE))]
    pub line2: Option<String>,
    #[schemars(length(min = 1, max = 100), extend("pattern" = FILLED_LINE))]
    pub city: String,
    #[schemars(length(min = 1, max = 20), extend("pattern" = FILLED_LINE))]
    pub postal_code: String,
    #[serde(default)]
    #[schemars(length(max = 100), extend("pattern" = LINE))]
    pub region: Option<String>,
    #[schemars(extend("pattern" = "^[A-Z]{2}$"))]
    pub country: String,
    #[serde(default)]
    pub phone: Option<String>,
}

impl AddressHttpBody {
    /// The checked address, or every problem with its field named under `prefix` (`address.city`).
    ///
    /// # Errors
    /// The address's validation errors, renamed.
    pub fn parse(self, prefix: &str) -> Result<Address, ValidationErrors> {
        Address::new(UncheckedAddress {
            name: self.name,
            line1: self.line1,
            line2: self.line2,
            city: self.city,
            postal_code: self.postal_code,
            region: self.region,
            country: self.country,
            phone: self.phone,
        })
        .map_err(|e| {
            ValidationErrors(
                e.0.into_iter()
                    .map(|f| FieldError { field: format!("{prefix}.{}", f.field), message: f.message })
                    .collect(),
            )
        })
    }
}

/// Money as the API writes it, in requests and responses: `{"amount": 1999, "currency": "EUR"}`.
///
/// The currency is kept as sent, not as a [`Currency`]: [`parse`](Self::parse) reports an unknown
/// code as a field error beside the body's other field errors, where serde would stop at the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyHttpBody {
    pub amount: i64,
    pub currency: String,
}

/// Described as the one `Money` of the API: every body that carries an amount names the same
/// schema, the domain's.
impl schemars::JsonSchema for MoneyHttpBody {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        Money::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        Money::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        Money::json_schema(generator)
    }
}

impl From<Money> for MoneyHttpBody {
    fn from(m: Money) -> Self {
        Self { amount: m.amount, currency: m.currency.to_string() }
    }
}

impl MoneyHttpBody {
    /// The amount as money, or a field error at `field`.
    pub fn parse(&self, field: &str, errors: &mut ValidationErrors) -> Option<Money> {
        match self.currency.parse::<Currency>() {
            Ok(currency) => Some(Money::new(self.amount, currency)),
            Err(e) => {
                errors.add(format!("{field}.currency"), e.to_string());
                None
            }
        }
    }
}
