//! Request bodies more than one function accepts, with their one conversion into the domain.

use nanoshop_domain::address::{Address, UncheckedAddress};
use nanoshop_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};

/// A postal address as clients send it (cart shipping, checkout).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressHttpBody {
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    #[serde(default)]
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
