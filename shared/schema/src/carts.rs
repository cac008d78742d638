//! The carts table.
//!
//! | item              | pk                  | sk      | attributes                                   |
//! |-------------------|---------------------|---------|----------------------------------------------|
//! | cart              | `CART#{id}`         | `CART`  | `doc`: the cart; `version`; `expires_at`     |
//! | customer's cart   | `CUSTOMER#{sub}`    | `CART`  | `cart_id`; `expires_at` (the cart's)         |
//!
//! The customer's profile and saved addresses share the `CUSTOMER#{sub}` partition: see
//! [`crate::customers`].
//!
//! A cart's lines live in its own document, so reading a cart is one `get`; the pointer makes
//! "the customer's active cart" one more.

use nanoshop_domain::ids::CartId;
use nanoshop_store::Key;

pub const CART_ID: &str = "cart_id";

pub fn cart_key(id: &CartId) -> Key {
    Key::new(format!("CART#{id}"), "CART")
}

/// The pointer to a customer's active cart. `sub` is the JWT subject, any string up to 128 bytes.
pub fn customer_cart_key(sub: &str) -> Key {
    Key::new(crate::customers::customer_pk(sub), "CART")
}
