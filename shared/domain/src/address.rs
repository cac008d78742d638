//! Postal addresses, as a cart ships to them and an order records them.

use serde::{Deserialize, Serialize};

use crate::settings::CountryCode;
use crate::validation::{ValidationErrors, text};

/// A shipping address, checked field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Address {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    /// A state, province or region; tax rates may depend on it.
    pub region: Option<String>,
    pub country: CountryCode,
    pub phone: Option<String>,
}

/// An address as received.
#[derive(Debug, Clone, Default)]
pub struct UncheckedAddress {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub region: Option<String>,
    pub country: String,
    pub phone: Option<String>,
}

impl Address {
    /// # Errors
    /// Every field that is empty where required, too long, or malformed, by name.
    pub fn new(input: UncheckedAddress) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        text(&mut errors, "name", &input.name, 1, 200);
        text(&mut errors, "line1", &input.line1, 1, 200);
        text(&mut errors, "city", &input.city, 1, 100);
        text(&mut errors, "postal_code", &input.postal_code, 1, 20);
        for (field, value) in [("line2", &input.line2), ("region", &input.region)] {
            if let Some(v) = value {
                text(&mut errors, field, v, 0, 100);
            }
        }
        if let Some(phone) = &input.phone
            && (phone.len() > 32 || !phone.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c)))
        {
            errors.add("phone", "must be up to 32 digits, spaces and + - ( ) . /");
        }
        let country = input.country.parse::<CountryCode>().map_err(|e| errors.add("country", e.to_string())).ok();
        let trimmed = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        match country {
            Some(country) if errors.is_empty() => Ok(Self {
                name: input.name.trim().to_owned(),
                line1: input.line1.trim().to_owned(),
                line2: trimmed(input.line2),
                city: input.city.trim().to_owned(),
                postal_code: input.postal_code.trim().to_owned(),
                region: trimmed(input.region),
                country,
                phone: trimmed(input.phone),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> UncheckedAddress {
        UncheckedAddress {
            name: "Ada".into(),
            line1: "Unter den Linden 1".into(),
            city: "Berlin".into(),
            postal_code: "10117".into(),
            country: "DE".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_address_is_accepted_and_trimmed() {
        let mut input = berlin();
        input.region = Some("  ".into());
        input.name = " Ada ".into();
        let a = Address::new(input).expect("valid");
        assert_eq!((a.name.as_str(), a.region), ("Ada", None));
    }

    #[test]
    fn missing_and_malformed_fields_are_named() {
        let mut input = berlin();
        input.city = String::new();
        input.country = "Germany".into();
        input.phone = Some("call me".into());
        let fields: Vec<String> = Address::new(input).expect_err("invalid").0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["city", "phone", "country"]);
    }
}
