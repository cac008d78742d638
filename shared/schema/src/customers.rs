//! Customers: profiles and address books, in the carts table beside the customer's cart pointer.
//!
//! | item            | pk               | sk               | attributes                                   |
//! |-----------------|------------------|------------------|----------------------------------------------|
//! | profile         | `CUSTOMER#{sub}` | `PROFILE`        | `doc`: [`Profile`]; `version`; `address_count`; `gsi1pk` `CUSTOMER_EMAIL#{email}`, `gsi1sk` `{sub}` when it has an e-mail |
//! | saved address   | `CUSTOMER#{sub}` | `ADDRESS#{id}`   | `doc`: [`SavedAddress`]                      |
//!
//! One item collection per customer (with `carts::customer_cart_key`), so the whole account is
//! one query, erasing it is one query and its deletes, and checkout reads a saved address with
//! the same batch read as the cart. The carts table, not a table of its own: these items are read
//! by the functions that read carts, and a fifth table would add a resource, a policy statement
//! and an attach parameter for four item kinds. Profiles and addresses carry no `expires_at`:
//! only carts and their pointer expire.
//!
//! [`Profile`]: nanoshop_domain::customer::Profile
//! [`SavedAddress`]: nanoshop_domain::customer::SavedAddress

use nanoshop_domain::ids::AddressId;
use nanoshop_store::Key;

/// The partition of everything stored about customer `sub`.
pub fn customer_pk(sub: &str) -> String {
    format!("CUSTOMER#{sub}")
}

pub fn profile_key(sub: &str) -> Key {
    Key::new(customer_pk(sub), "PROFILE")
}

/// The sort-key prefix every saved address of a customer shares, for querying the address book.
pub const ADDRESS_PREFIX: &str = "ADDRESS#";

pub fn address_key(sub: &str, id: &AddressId) -> Key {
    Key::new(customer_pk(sub), format!("{ADDRESS_PREFIX}{id}"))
}

/// The profile's count of saved addresses. Every change to the address book adds to it on
/// condition of the count read, so two additions at once cannot both take the 20th place; it
/// is apart from `version` so that adding an address does not change the profile's `ETag`.
pub const ADDRESS_COUNT: &str = "address_count";

/// The index partition that finds a customer by their (normalised) e-mail address.
pub fn email_index_pk(email: &str) -> String {
    format!("CUSTOMER_EMAIL#{email}")
}
