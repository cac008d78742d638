//! Opaque, prefixed identifiers that sort by creation time: `prod_01J…`, `cart_01J…`.
//!
//! The part after the prefix is a ULID (48-bit millisecond timestamp, 80 random bits), so ids
//! created later sort later, which is what "newest first" queries page over. Each kind of id is
//! its own type, so a cart id can never be passed where a product id is meant.

use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind} id (expected `{prefix}_` and 26 base32 characters)")]
pub struct InvalidId {
    pub kind: &'static str,
    pub prefix: &'static str,
    pub value: String,
}

/// One generator per process: ULIDs from the same millisecond then still sort in creation order,
/// which "newest first" listings rely on. Cross-process order is by millisecond only.
static GENERATOR: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());

fn next_ulid() -> Ulid {
    let mut generator = GENERATOR.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // `generate` fails only when 2^80 ids were made in one millisecond; a fresh random ULID is
    // then still unique, merely unordered within that millisecond.
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id, sorting after every id generated earlier in this process (and after
            /// ids of earlier milliseconds anywhere).
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, next_ulid()))
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let invalid = || InvalidId { kind: $kind, prefix: $prefix, value: s.chars().take(64).collect() };
                let rest = s.strip_prefix(concat!($prefix, "_")).ok_or_else(invalid)?;
                // Ulid::from_string accepts lower case too; keep one spelling per id.
                if rest.len() != 26 || rest.bytes().any(|b| b.is_ascii_lowercase()) {
                    return Err(invalid());
                }
                Ulid::from_string(rest).map_err(|_| invalid())?;
                Ok(Self(s.to_owned()))
            }
        }

        crate::newtype::string_newtype!($name, InvalidId);
    };
}

prefixed_id!(/// A product.
    ProductId, "prod", "product");
prefixed_id!(/// An image of a product.
    ImageId, "img", "image");
prefixed_id!(/// A cart.
    CartId, "cart", "cart");
prefixed_id!(/// An order.
    OrderId, "ord", "order");
prefixed_id!(/// A discount code.
    DiscountId, "disc", "discount");
prefixed_id!(/// An order event, unique, for consumers to deduplicate deliveries by.
    OrderEventId, "oevt", "order event");
prefixed_id!(/// An address in a customer's address book.
    AddressId, "addr", "address");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_sort_by_creation() {
        let first = ProductId::generate();
        let many: Vec<ProductId> = (0..1000).map(|_| ProductId::generate()).collect();
        assert!(many.windows(2).all(|w| w[0] < w[1]), "ids of one millisecond sort in creation order too");
        assert!(first < many[0]);
        assert_eq!(first.as_str().parse::<ProductId>(), Ok(first.clone()));
        assert!(first.as_str().starts_with("prod_"));
    }

    #[test]
    fn ids_of_another_kind_or_malformed_are_refused() {
        let cart = CartId::generate();
        assert!(cart.as_str().parse::<ProductId>().is_err());
        for bad in [
            "",
            "prod_",
            "prod_123",
            "prod_01hxyz0000000000000000000a",
            "prod_01HXYZ00000000000000000000!",
            "PROD_01HXYZ0000000000000000000",
        ] {
            assert!(bad.parse::<ProductId>().is_err(), "{bad}");
        }
    }
}
