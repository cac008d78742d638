//! Money in integer minor units, and currencies with the exponent Stripe charges in.
//!
//! An amount is never a float: `Money { amount: 1999, currency: EUR }` is 19.99 EUR, exactly the
//! integer Stripe is asked to charge. Arithmetic is checked: overflow and mixing currencies are
//! errors, never a wrap or a silent conversion. Rates (tax, percentage discounts) are
//! [`rust_decimal::Decimal`] and a product of money and rate is rounded once, half away from zero.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// A currency Stripe can charge in, with the number of minor-unit digits an amount carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Every currency Stripe supports for card payments, with the exponent of the amounts Stripe
/// expects. That is the ISO 4217 exponent, except where Stripe documents its own convention:
/// MGA is zero-decimal at Stripe, and ISK and UGX (zero-decimal in ISO 4217) are two-decimal
/// at Stripe, whose amounts must then be multiples of 100. Since nanoshop's amounts are exactly
/// what Stripe charges, the Stripe exponent wins where the two disagree.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 2),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 0),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("STD", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 2),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
];

impl Currency {
    pub const EUR: Self = Self { code: *b"EUR", exponent: 2 };
    pub const USD: Self = Self { code: *b"USD", exponent: 2 };
    pub const GBP: Self = Self { code: *b"GBP", exponent: 2 };
    pub const JPY: Self = Self { code: *b"JPY", exponent: 0 };
    pub const KWD: Self = Self { code: *b"KWD", exponent: 3 };

    /// The three-letter code, upper case.
    pub fn code(&self) -> &str {
        // The code bytes come only from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// How many minor-unit digits an amount in this currency has (EUR 2, JPY 0, KWD 3).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Every supported currency, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().map(|(code, exponent)| {
            let b = code.as_bytes();
            Currency { code: [b[0], b[1], b[2]], exponent: *exponent }
        })
    }
}

/// The schema is the closed list of codes [`Currency::from_str`] accepts, not any three capital
/// letters: a client (or a schema-driven tester) learns from it which codes exist at all.
impl schemars::JsonSchema for Currency {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = CURRENCIES.iter().map(|(code, _)| *code).collect();
        schemars::json_schema!({
            "type": "string",
            "description": "An upper-case ISO 4217 code Stripe charges in.",
            "enum": codes,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a currency nanoshop supports (an upper-case ISO 4217 code Stripe charges in)")]
pub struct UnknownCurrency(pub String);

impl FromStr for Currency {
    type Err = UnknownCurrency;

    /// Accepts only the upper-case code: `"eur"` is refused rather than guessed, so a typo in a
    /// price list never turns into a second currency.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CURRENCIES
            .binary_search_by(|(code, _)| (*code).cmp(s))
            .map(|i| {
                let b = CURRENCIES[i].0.as_bytes();
                Currency { code: [b[0], b[1], b[2]], exponent: CURRENCIES[i].1 }
            })
            .map_err(|_| UnknownCurrency(s.chars().take(16).collect()))
    }
}

impl TryFrom<String> for Currency {
    type Error = UnknownCurrency;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a money operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {left} and {right} amounts")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount out of range")]
    Overflow,
    #[error("amount must not be negative")]
    Negative,
}

/// An amount in a currency's minor unit. May be negative only as an intermediate (a discount
/// line); prices are constructed with [`Money::price`], which refuses negatives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(
    description = "An amount in the currency's minor unit (cents for EUR): `{\"amount\": 1999, \"currency\": \"EUR\"}`."
)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self { amount: 0, currency }
    }

    /// A price: an amount that must not be negative.
    ///
    /// # Errors
    /// [`MoneyError::Negative`] for amounts below zero.
    pub fn price(amount: i64, currency: Currency) -> Result<Self, MoneyError> {
        if amount < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Self { amount, currency })
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch { left: self.currency, right: other.currency })
        }
    }

    /// # Errors
    /// Different currencies, or a sum outside `i64`.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self.amount.checked_add(other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, ..self })
    }

    /// # Errors
    /// Different currencies, or a difference outside `i64`.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self.amount.checked_sub(other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, ..self })
    }

    /// A unit price times a quantity.
    ///
    /// # Errors
    /// A product outside `i64`.
    pub fn checked_mul(self, quantity: u32) -> Result<Money, MoneyError> {
        let amount = self.amount.checked_mul(i64::from(quantity)).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, ..self })
    }

    /// This amount times a rate (`0.19` for 19 %), rounded once to the minor unit, half away from
    /// zero. Rounding happens here and nowhere else, so totals are sums of rounded parts.
    ///
    /// # Errors
    /// A result outside `i64`.
    pub fn times_rate(self, rate: Decimal) -> Result<Money, MoneyError> {
        let exact = Decimal::from(self.amount).checked_mul(rate).ok_or(MoneyError::Overflow)?;
        let rounded = exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        let amount = i64::try_from(rounded).map_err(|_| MoneyError::Overflow)?;
        Ok(Money { amount, ..self })
    }

    /// Sums amounts of one currency; the sum of nothing is zero in `currency`.
    ///
    /// # Errors
    /// A mismatched currency or overflow.
    pub fn sum(currency: Currency, items: impl IntoIterator<Item = Money>) -> Result<Money, MoneyError> {
        items.into_iter().try_fold(Money::zero(currency), Money::checked_add)
    }
}

impl fmt::Display for Money {
    /// `19.99 EUR`, `1000 JPY`, `1.500 KWD`: for logs and messages, never for parsing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = Decimal::new(self.amount, u32::from(self.currency.exponent()));
        write!(f, "{value} {}", self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn currency_table_is_sorted_so_lookup_finds_every_code() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
        for (code, exponent) in CURRENCIES {
            let c: Currency = code.parse().expect("listed code parses");
            assert_eq!(c.exponent(), *exponent);
            assert_eq!(c.code(), *code);
        }
    }

    #[test]
    fn exponents_follow_what_stripe_charges() {
        let check = |code: &str, exponent: u8| {
            assert_eq!(code.parse::<Currency>().map(|c| c.exponent()), Ok(exponent), "{code}")
        };
        check("EUR", 2);
        check("JPY", 0);
        check("KWD", 3);
        check("BHD", 3);
        check("KRW", 0);
        check("CLP", 0);
    }

    #[test]
    fn lower_case_and_unknown_codes_are_refused() {
        for code in ["eur", "EURO", "", "XXX", "ZWL", "€"] {
            assert!(code.parse::<Currency>().is_err(), "{code}");
        }
    }

    #[test]
    fn mixing_currencies_is_an_error() {
        let err = Money::new(1, Currency::EUR).checked_add(Money::new(1, Currency::USD));
        assert_eq!(err, Err(MoneyError::CurrencyMismatch { left: Currency::EUR, right: Currency::USD }));
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(
            Money::new(i64::MAX, Currency::EUR).checked_add(Money::new(1, Currency::EUR)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(Money::new(i64::MAX / 2 + 1, Currency::EUR).checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(
            Money::new(i64::MIN, Currency::EUR).checked_sub(Money::new(1, Currency::EUR)),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn rates_round_half_away_from_zero() {
        let rate = Decimal::new(5, 1); // 0.5
        assert_eq!(Money::new(1, Currency::EUR).times_rate(rate).map(|m| m.amount), Ok(1));
        assert_eq!(Money::new(3, Currency::EUR).times_rate(rate).map(|m| m.amount), Ok(2));
        assert_eq!(Money::new(-3, Currency::EUR).times_rate(rate).map(|m| m.amount), Ok(-2));
        // 19 % of 4.99 EUR is 0.9481 EUR: 95 cents.
        assert_eq!(Money::new(499, Currency::EUR).times_rate(Decimal::new(19, 2)).map(|m| m.amount), Ok(95));
    }

    #[test]
    fn negative_prices_are_refused() {
        assert_eq!(Money::price(-1, Currency::EUR), Err(MoneyError::Negative));
        assert_eq!(Money::price(0, Currency::EUR).map(|m| m.amount), Ok(0));
    }

    #[test]
    fn display_uses_the_currency_exponent() {
        assert_eq!(Money::new(1999, Currency::EUR).to_string(), "19.99 EUR");
        assert_eq!(Money::new(1000, Currency::JPY).to_string(), "1000 JPY");
        assert_eq!(Money::new(1500, Currency::KWD).to_string(), "1.500 KWD");
    }

    #[test]
    fn serialises_as_the_api_shape() {
        let json = serde_json::to_value(Money::new(1999, Currency::EUR)).expect("serialises");
        assert_eq!(json, serde_json::json!({"amount": 1999, "currency": "EUR"}));
        let bad: Result<Money, _> = serde_json::from_value(serde_json::json!({"amount": 1, "currency": "eur"}));
        assert!(bad.is_err());
    }

    fn currency() -> impl Strategy<Value = Currency> {
        (0..CURRENCIES.len()).prop_map(|i| Currency::all().nth(i).unwrap_or(Currency::EUR))
    }

    proptest! {
        #[test]
        fn addition_commutes_and_subtraction_undoes_it(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000, c in currency()) {
            let (x, y) = (Money::new(a, c), Money::new(b, c));
            prop_assert_eq!(x.checked_add(y), y.checked_add(x));
            prop_assert_eq!(x.checked_add(y).and_then(|s| s.checked_sub(y)), Ok(x));
        }

        #[test]
        fn checked_ops_agree_with_i128_or_refuse(a in any::<i64>(), b in any::<i64>(), q in any::<u32>()) {
            let (x, y) = (Money::new(a, Currency::EUR), Money::new(b, Currency::EUR));
            let wide = i128::from(a) + i128::from(b);
            match x.checked_add(y) {
                Ok(s) => prop_assert_eq!(i128::from(s.amount), wide),
                Err(e) => { prop_assert_eq!(e, MoneyError::Overflow); prop_assert!(i64::try_from(wide).is_err()); }
            }
            let wide = i128::from(a) * i128::from(q);
            match x.checked_mul(q) {
                Ok(p) => prop_assert_eq!(i128::from(p.amount), wide),
                Err(e) => { prop_assert_eq!(e, MoneyError::Overflow); prop_assert!(i64::try_from(wide).is_err()); }
            }
        }

        #[test]
        fn sums_do_not_depend_on_order(mut amounts in proptest::collection::vec(0i64..10_000_000, 0..50)) {
            let forward = Money::sum(Currency::EUR, amounts.iter().map(|a| Money::new(*a, Currency::EUR)));
            amounts.reverse();
            let backward = Money::sum(Currency::EUR, amounts.iter().map(|a| Money::new(*a, Currency::EUR)));
            prop_assert_eq!(forward, backward);
        }

        #[test]
        fn a_rate_between_zero_and_one_stays_between_zero_and_the_amount(amount in 0i64..1_000_000_000_000, bp in 0i64..=10_000) {
            let rate = Decimal::new(bp, 4);
            let part = Money::new(amount, Currency::EUR).times_rate(rate).map(|m| m.amount);
            prop_assert!(matches!(part, Ok(p) if (0..=amount).contains(&p)));
            // Rounded once: never more than half a minor unit from the exact product.
            let exact = Decimal::from(amount) * rate;
            let p = Decimal::from(part.unwrap_or_default());
            prop_assert!((p - exact).abs() <= Decimal::new(5, 1));
        }
    }
}
