//! Store settings: the currencies a store sells in, tax rates by country and region, whether
//! prices include tax, and shipping zones with their methods; and what the store's mails say
//! about it: its name, postal address, reply-to address and locale. One document per store.

use std::collections::BTreeSet;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::locale::Locale;
use crate::money::{Currency, Money};
use crate::validation::{ValidationErrors, text};

pub const MAX_CURRENCIES: usize = 20;
pub const MAX_ZONES: usize = 50;
pub const MAX_METHODS_PER_ZONE: usize = 20;
pub const MAX_TAX_RATES: usize = 500;
/// The store's name, in characters: it is the mails' sender name and heading.
pub const MAX_STORE_NAME: usize = 100;
/// The store's postal address, in characters, all lines together.
pub const MAX_STORE_ADDRESS: usize = 300;
/// Lines of the postal address: enough for any country's format plus a company line.
pub const MAX_STORE_ADDRESS_LINES: usize = 6;

/// An ISO 3166-1 alpha-2 country code, upper case (`DE`). The syntax is checked; the code list is
/// not, so a newly assigned code needs no release.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a two-letter upper-case ISO 3166-1 country code, like `DE`")]
pub struct InvalidCountry;

impl FromStr for CountryCode {
    type Err = InvalidCountry;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidCountry)
        }
    }
}

crate::newtype::string_newtype!(CountryCode, InvalidCountry);

/// A tax rate for a country, or for one region of it (which then wins over the country's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaxRate {
    pub country: CountryCode,
    pub region: Option<String>,
    /// `0.19` for 19 %.
    #[serde(with = "rust_decimal::serde::str")]
    #[schemars(with = "String")]
    pub rate: Decimal,
}

/// A shipping method within a zone: a flat price per currency, free from a threshold on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShippingMethod {
    pub id: String,
    pub name: String,
    pub prices: Vec<Money>,
    /// Subtotals at or above the threshold in their currency ship free.
    pub free_over: Vec<Money>,
}

/// Countries that share shipping methods. A country belongs to at most one zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShippingZone {
    pub name: String,
    pub countries: Vec<CountryCode>,
    pub methods: Vec<ShippingMethod>,
}

/// The whole settings document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoreSettings {
    /// The first is the store's default.
    pub currencies: Vec<Currency>,
    pub prices_include_tax: bool,
    pub tax_rates: Vec<TaxRate>,
    pub shipping_zones: Vec<ShippingZone>,
    /// The store's name in its mails. `None`: the notifications function's `STORE_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_name: Option<String>,
    /// The postal address in the mails' footer, lines separated by `\n`, none blank. `None`: the
    /// notifications function's `STORE_ADDRESS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_address: Option<String>,
    /// Where shoppers' replies to the mails go. `None`: `MAIL_REPLY_TO`, else the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Email>,
    /// How the mails write money and dates. Documents stored before it existed read as `en-US`.
    #[serde(default)]
    pub locale: Locale,
    pub version: u64,
}

impl Default for StoreSettings {
    /// A store that sells in EUR and ships nowhere until configured.
    fn default() -> Self {
        Self {
            currencies: vec![Currency::EUR],
            prices_include_tax: true,
            tax_rates: Vec::new(),
            shipping_zones: Vec::new(),
            store_name: None,
            store_address: None,
            reply_to: None,
            locale: Locale::default(),
            version: 0,
        }
    }
}

impl StoreSettings {
    /// Checks the cross-field rules: unique currencies, rates within 0–100 %, one rate per
    /// country and region, a country in at most one zone, method ids unique within a zone, and
    /// method prices and thresholds only in the store's currencies, one per currency; a store name
    /// of one line and an address of at most [`MAX_STORE_ADDRESS_LINES`] lines, neither blank.
    ///
    /// # Errors
    /// Every rule broken, by field.
    pub fn validate(self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.currencies.is_empty() || self.currencies.len() > MAX_CURRENCIES {
            errors.add("currencies", format!("a store sells in 1–{MAX_CURRENCIES} currencies"));
        }
        let currencies: BTreeSet<Currency> = self.currencies.iter().copied().collect();
        if currencies.len() != self.currencies.len() {
            errors.add("currencies", "each currency once");
        }
        if self.tax_rates.len() > MAX_TAX_RATES {
            errors.add("tax_rates", format!("at most {MAX_TAX_RATES} rates"));
        }
        let mut places = BTreeSet::new();
        for (i, t) in self.tax_rates.iter().enumerate() {
            if t.rate < Decimal::ZERO || t.rate > Decimal::ONE {
                errors.add(format!("tax_rates[{i}].rate"), "must be between 0 and 1 (0.19 is 19 %)");
            }
            if let Some(region) = &t.region {
                text(&mut errors, &format!("tax_rates[{i}].region"), region, 1, 50);
            }
            if !places.insert((t.country.clone(), t.region.clone())) {
                errors.add(format!("tax_rates[{i}]"), "another rate covers the same country and region");
            }
        }
        if self.shipping_zones.len() > MAX_ZONES {
            errors.add("shipping_zones", format!("at most {MAX_ZONES} zones"));
        }
        let mut zoned = BTreeSet::new();
        for (z, zone) in self.shipping_zones.iter().enumerate() {
            text(&mut errors, &format!("shipping_zones[{z}].name"), &zone.name, 1, 100);
            if zone.countries.is_empty() {
                errors.add(format!("shipping_zones[{z}].countries"), "a zone needs at least one country");
            }
            for (c, country) in zone.countries.iter().enumerate() {
                if !zoned.insert(country.clone()) {
                    errors.add(
                        format!("shipping_zones[{z}].countries[{c}]"),
                        format!("{country} is already in another zone"),
                    );
                }
            }
            if zone.methods.is_empty() || zone.methods.len() > MAX_METHODS_PER_ZONE {
                errors.add(
                    format!("shipping_zones[{z}].methods"),
                    format!("a zone has 1–{MAX_METHODS_PER_ZONE} methods"),
                );
            }
            let mut ids = BTreeSet::new();
            for (m, method) in zone.methods.iter().enumerate() {
                let at = format!("shipping_zones[{z}].methods[{m}]");
                if crate::catalog::Slug::from_str(&method.id).is_err() {
                    errors.add(format!("{at}.id"), "must be lower-case letters, digits and hyphens, like `standard`");
                }
                if !ids.insert(method.id.as_str()) {
                    errors.add(format!("{at}.id"), "method ids must be unique within a zone");
                }
                text(&mut errors, &format!("{at}.name"), &method.name, 1, 100);
                for (field, list) in [("prices", &method.prices), ("free_over", &method.free_over)] {
                    let mut seen = BTreeSet::new();
                    for (p, price) in list.iter().enumerate() {
                        if price.amount < 0 {
                            errors.add(format!("{at}.{field}[{p}].amount"), "must not be negative");
                        }
                        if !currencies.contains(&price.currency) {
                            errors.add(
                                format!("{at}.{field}[{p}].currency"),
                                format!("{} is not one of the store's currencies", price.currency),
                            );
                        } else if !seen.insert(price.currency) {
                            errors.add(format!("{at}.{field}[{p}].currency"), "one amount per currency");
                        }
                    }
                }
            }
        }
        if let Some(name) = &self.store_name {
            text(&mut errors, "store_name", name, 1, MAX_STORE_NAME);
            if name.contains(['\n', '\t']) {
                errors.add("store_name", "must be one line");
            }
        }
        if let Some(address) = &self.store_address {
            text(&mut errors, "store_address", address, 1, MAX_STORE_ADDRESS);
            if address.lines().filter(|l| !l.trim().is_empty()).count() > MAX_STORE_ADDRESS_LINES {
                errors.add("store_address", format!("at most {MAX_STORE_ADDRESS_LINES} lines"));
            }
        }
        errors.into_result(self)
    }

    /// The store's address as its lines, blank ones left out.
    pub fn store_address_lines(&self) -> Vec<String> {
        self.store_address
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The zone that ships to `country`, if any ([`StoreSettings::validate`] keeps a country in
    /// at most one zone).
    pub fn zone_for(&self, country: &CountryCode) -> Option<&ShippingZone> {
        self.shipping_zones.iter().find(|z| z.countries.contains(country))
    }

    /// The tax rate for a destination: the region's own rate if the store has one, otherwise
    /// the country's, otherwise 0. Regions match ignoring case and surrounding spaces, since
    /// they come from addresses shoppers type.
    pub fn tax_rate_for(&self, country: &CountryCode, region: Option<&str>) -> Decimal {
        let key = |r: &str| r.trim().to_lowercase();
        let wanted = region.map(key);
        let mut country_rate = None;
        for t in self.tax_rates.iter().filter(|t| t.country == *country) {
            match (&t.region, &wanted) {
                (Some(r), Some(w)) if key(r) == *w => return t.rate,
                (None, _) => country_rate = Some(t.rate),
                _ => {}
            }
        }
        country_rate.unwrap_or(Decimal::ZERO)
    }

    /// Every country some zone ships to, sorted.
    pub fn countries(&self) -> Vec<CountryCode> {
        let all: BTreeSet<&CountryCode> = self.shipping_zones.iter().flat_map(|z| &z.countries).collect();
        all.into_iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> CountryCode {
        "DE".parse().expect("country")
    }

    fn settings() -> StoreSettings {
        StoreSettings {
            currencies: vec![Currency::EUR, Currency::USD],
            prices_include_tax: true,
            tax_rates: vec![TaxRate { country: de(), region: None, rate: Decimal::new(19, 2) }],
            shipping_zones: vec![ShippingZone {
                name: "Germany".into(),
                countries: vec![de()],
                methods: vec![ShippingMethod {
                    id: "standard".into(),
                    name: "Standard".into(),
                    prices: vec![Money::new(490, Currency::EUR)],
                    free_over: vec![Money::new(5000, Currency::EUR)],
                }],
            }],
            store_name: Some("Kaffeehaus".into()),
            store_address: Some("Hauptstraße 1\n10115 Berlin".into()),
            reply_to: Some("hilfe@kaffeehaus.example".parse().expect("email")),
            locale: Locale::DeDe,
            version: 0,
        }
    }

    #[test]
    fn valid_settings_pass_and_list_their_countries() {
        let s = settings().validate().expect("valid");
        assert_eq!(s.countries(), vec![de()]);
    }

    #[test]
    fn broken_rules_are_named() {
        let mut s = settings();
        s.tax_rates.push(TaxRate { country: de(), region: None, rate: Decimal::new(2, 0) });
        s.shipping_zones.push(s.shipping_zones[0].clone());
        s.shipping_zones[0].methods[0].prices.push(Money::new(100, Currency::JPY));
        let fields: Vec<String> = s.validate().expect_err("invalid").0.into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "tax_rates[1].rate",
                "tax_rates[1]",
                "shipping_zones[0].methods[0].prices[1].currency",
                "shipping_zones[1].countries[0]"
            ]
        );
    }

    #[test]
    fn the_mail_fields_are_bounded_and_named_when_broken() {
        let mut s = settings();
        s.store_name = Some("Kaffee\nhaus".into());
        s.store_address = Some("1\n2\n3\n4\n5\n6\n7".into());
        let fields: Vec<String> = s.validate().expect_err("invalid").0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["store_name", "store_address"]);
        let mut s = settings();
        s.store_name = Some("x".repeat(MAX_STORE_NAME + 1));
        s.store_address = Some(format!("{}\u{7}", "a"));
        let fields: Vec<String> = s.validate().expect_err("invalid").0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["store_name", "store_address"]);
        let mut s = settings();
        s.store_address = Some("Hauptstraße 1\n\n  \n10115 Berlin\n".into());
        let s = s.validate().expect("blank lines do not count");
        assert_eq!(s.store_address_lines(), ["Hauptstraße 1", "10115 Berlin"]);
    }

    #[test]
    fn a_document_stored_before_the_mail_fields_reads_as_en_us_with_none_set() {
        let old = serde_json::json!({"currencies": ["EUR"], "prices_include_tax": true, "tax_rates": [],
            "shipping_zones": [], "version": 3});
        let s: StoreSettings = serde_json::from_value(old).expect("old document");
        assert_eq!((s.store_name, s.store_address, s.reply_to, s.locale), (None, None, None, Locale::EnUs));
    }

    #[test]
    fn a_country_finds_the_zone_that_ships_to_it() {
        let s = settings();
        assert_eq!(s.zone_for(&de()).map(|z| z.name.as_str()), Some("Germany"));
        assert!(s.zone_for(&"FR".parse().expect("country")).is_none());
    }

    #[test]
    fn a_region_rate_wins_over_the_country_rate_and_no_rate_is_zero() {
        let us: CountryCode = "US".parse().expect("country");
        let mut s = settings();
        s.tax_rates.extend([
            TaxRate { country: us.clone(), region: Some("CA".into()), rate: Decimal::new(725, 4) },
            TaxRate { country: de(), region: Some("Bayern".into()), rate: Decimal::new(7, 2) },
        ]);
        assert_eq!(s.tax_rate_for(&de(), None), Decimal::new(19, 2));
        assert_eq!(s.tax_rate_for(&de(), Some(" bayern ")), Decimal::new(7, 2));
        assert_eq!(s.tax_rate_for(&de(), Some("Berlin")), Decimal::new(19, 2));
        assert_eq!(s.tax_rate_for(&us, Some("CA")), Decimal::new(725, 4));
        assert_eq!(s.tax_rate_for(&us, Some("NY")), Decimal::ZERO);
        assert_eq!(s.tax_rate_for(&us, None), Decimal::ZERO);
    }

    #[test]
    fn country_codes_are_two_upper_case_letters() {
        assert!("DE".parse::<CountryCode>().is_ok());
        for bad in ["de", "DEU", "D", "", "D1"] {
            assert!(bad.parse::<CountryCode>().is_err(), "{bad}");
        }
    }
}
