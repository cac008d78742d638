//! A signed-in customer's profile and address book.
//!
//! A customer is the subject (`sub`) of an OpenID token; the profile and the saved addresses are
//! what nanoshop keeps about them beyond their orders. Checkout can ship to or bill a saved
//! address by its id, so a customer types an address once.

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::email::Email;
use crate::ids::AddressId;

/// The most addresses one customer may save.
pub const MAX_ADDRESSES: usize = 20;

/// What a customer tells us about themselves. Every field is optional: a new customer has an
/// empty profile until they write one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Profile {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<String>,
    /// Whether the customer agreed to marketing mail. Order mail is transactional and is sent
    /// either way.
    #[serde(default)]
    pub marketing_consent: bool,
    /// The saved address used for shipping when checkout names none.
    pub default_shipping_address_id: Option<AddressId>,
    /// The saved address used for billing when checkout names none.
    pub default_billing_address_id: Option<AddressId>,
}

/// An address in the address book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SavedAddress {
    pub id: AddressId,
    /// A name the customer gave it ("Home", "Office"); at most 50 characters.
    pub label: Option<String>,
    pub address: Address,
}
