//! The code a shopper types, in the one spelling it is stored and compared in.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub const MIN_CODE_LEN: usize = 3;
pub const MAX_CODE_LEN: usize = 32;

/// A code a shopper types: 3–32 of `A`–`Z`, `0`–`9`, `-` and `_`. Input is trimmed and
/// upper-cased first, so `" spring10 "` and `"SPRING10"` are the same code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct DiscountCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be {MIN_CODE_LEN}–{MAX_CODE_LEN} letters, digits, `-` or `_`, like `SPRING10` (case does not matter)")]
pub struct InvalidDiscountCode;

impl FromStr for DiscountCode {
    type Err = InvalidDiscountCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // ASCII upper-casing only: full Unicode would turn `ß` into `SS` and accept it.
        let code = s.trim().to_ascii_uppercase();
        let ok = (MIN_CODE_LEN..=MAX_CODE_LEN).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
        if ok { Ok(Self(code)) } else { Err(InvalidDiscountCode) }
    }
}

crate::newtype::string_newtype!(DiscountCode, InvalidDiscountCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_trimmed_upper_cased_and_limited_to_a_safe_alphabet() {
        for (input, code) in [("spring10", "SPRING10"), ("  Black-Friday_2026 ", "BLACK-FRIDAY_2026"), ("ABC", "ABC")] {
            assert_eq!(input.parse::<DiscountCode>().map(String::from), Ok(code.into()));
        }
        for bad in ["AB", "  ab  ", "SPRING 10", "SPRING10!", "straße", "", &"A".repeat(33)] {
            assert!(bad.parse::<DiscountCode>().is_err(), "{bad}");
        }
        let json: DiscountCode = serde_json::from_str("\"welcome\"").expect("parses");
        assert_eq!(json.as_str(), "WELCOME");
    }
}
