//! E-mail addresses, as checkout records them on an order and the orders listing finds them.
//!
//! The check is deliberately loose: something before an `@`, a dot after it, no whitespace, at
//! most [`MAX_EMAIL_LEN`] bytes. Whether the address receives mail is the payment provider's and
//! the shopper's business; a stricter grammar would only refuse real addresses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest address accepted, in bytes (RFC 5321's limit on a forward path).
pub const MAX_EMAIL_LEN: usize = 254;

/// An e-mail address: trimmed, checked, then lower-cased ([`Email::normalize`]), so the same
/// address typed twice is one listing and one once-per-customer discount use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an e-mail address")]
pub struct InvalidEmail;

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form addresses are stored and looked up in: trimmed and lower-cased. A lookup by an
    /// address that is not one finds nothing, so it needs no check.
    pub fn normalize(raw: &str) -> String {
        raw.trim().to_lowercase()
    }
}

impl FromStr for Email {
    type Err = InvalidEmail;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let email = s.trim();
        // The checks apply to the address as typed: lower-casing can lengthen some letters.
        let (local, domain) = email.split_once('@').unwrap_or_default();
        if email.len() > MAX_EMAIL_LEN
            || local.is_empty()
            || !domain.contains('.')
            || email.chars().any(char::is_whitespace)
        {
            return Err(InvalidEmail);
        }
        Ok(Self(Self::normalize(email)))
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidEmail;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Email> for String {
    fn from(e: Email) -> Self {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<&str>) {
        assert_eq!(input.parse::<Email>().ok().as_ref().map(Email::as_str), expected, "{input:?}");
    }

    #[test]
    fn an_address_is_trimmed_and_lower_cased() {
        check("ada@example.com", Some("ada@example.com"));
        check("  Ada.Lovelace@Example.COM\n", Some("ada.lovelace@example.com"));
        check("a@b.c", Some("a@b.c"));
        check("a+tag@sub.example.co.uk", Some("a+tag@sub.example.co.uk"));
    }

    #[test]
    fn an_address_needs_a_local_part_an_at_and_a_dot_after_it() {
        for bad in ["", "   ", "not-an-address", "@example.com", "ada@example", "ada@", "ada.example.com", "a.b@c"] {
            check(bad, None);
        }
        // Only the first `@` splits: the rest belongs to the domain, which only needs a dot.
        check("a@b@c.d", Some("a@b@c.d"));
    }

    #[test]
    fn whitespace_inside_an_address_is_refused() {
        for bad in ["ada lovelace@example.com", "ada@exa mple.com", "ada@example.com\u{a0}x", "ada\t@example.com"] {
            check(bad, None);
        }
    }

    #[test]
    fn at_most_254_bytes_are_accepted_before_lower_casing() {
        let at_limit = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN - "@example.com".len()));
        assert_eq!(at_limit.len(), MAX_EMAIL_LEN);
        check(&at_limit, Some(at_limit.as_str()));
        check(&format!("a{at_limit}"), None);
        check(&format!("  {at_limit}  "), Some(at_limit.as_str()));
        // `İ` is 2 bytes and lower-cases to 3: the limit counts the address as typed.
        let typed = format!("{}@example.com", "İ".repeat((MAX_EMAIL_LEN - "@example.com".len()) / 2));
        assert!(typed.len() <= MAX_EMAIL_LEN);
        let email: Email = typed.parse().expect("within the limit as typed");
        assert!(email.as_str().len() > MAX_EMAIL_LEN);
    }

    #[test]
    fn the_error_says_what_is_expected() {
        assert_eq!(InvalidEmail.to_string(), "must be an e-mail address");
    }

    #[test]
    fn an_address_serializes_as_its_string_and_is_checked_when_read() {
        let email: Email = "Ada@Example.com".parse().expect("valid");
        assert_eq!(serde_json::to_string(&email).expect("serializes"), r#""ada@example.com""#);
        assert_eq!(serde_json::from_str::<Email>(r#"" ADA@example.com""#).expect("valid"), email);
        assert!(serde_json::from_str::<Email>(r#""no at sign""#).is_err());
    }

    #[test]
    fn a_lookup_uses_the_stored_form() {
        assert_eq!(Email::normalize("  Ada@Example.COM "), "ada@example.com");
        assert_eq!(Email::normalize("not an address"), "not an address");
    }
}
