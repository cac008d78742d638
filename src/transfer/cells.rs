//! The text of one cell: lists, option maps and prices, read and written exactly.
//!
//! Lists are separated by `|`, option entries by `;`, an option's name from its values by `=`;
//! a backslash makes the next character literal (`\|`, `\;`, `\=`, `\\`), so any text survives.

use nanoshop_domain::Currency;

/// The characters with a meaning inside a cell.
const SPECIAL: [char; 4] = ['\\', '|', ';', '='];

/// `text` with every special character escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` split at each `separator` that is not escaped; the parts keep their escapes, so they
/// can be split again.
fn split_raw(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut escaped = false;
    for c in text.chars() {
        if c == '\\' && !escaped {
            escaped = true;
        } else {
            out.push(c);
            escaped = false;
        }
    }
    out
}

/// A `|`-separated list; an empty cell is an empty list.
pub fn list(text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    split_raw(text, '|').into_iter().map(|p| unescape(p.trim())).collect()
}

pub fn write_list(items: &[String]) -> String {
    items.iter().map(|i| escape(i)).collect::<Vec<_>>().join("|")
}

/// `Name=value;Name=value` (a variant's option values) or `Name=v1|v2;…` (a product's options):
/// each entry's name and its `|`-separated values, in order.
///
/// # Errors
/// An entry without `=`.
pub fn entries(text: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_raw(text, ';')
        .into_iter()
        .map(|entry| match split_raw(entry, '=').as_slice() {
            [name, values] => Ok((unescape(name.trim()), list(values))),
            _ => Err(format!("`{}` is not `Name=value`", entry.trim())),
        })
        .collect()
}

pub fn write_entries<'a>(entries: impl IntoIterator<Item = (&'a String, Vec<String>)>) -> String {
    entries
        .into_iter()
        .map(|(name, values)| format!("{}={}", escape(name), write_list(&values)))
        .collect::<Vec<_>>()
        .join(";")
}

/// A price in `currency`'s major units, as a plain decimal with a dot (`49`, `49.9`, `49.90`),
/// as an exact amount in minor units. Never through a float: `0.1 + 0.2` stays a question of
/// digits.
///
/// # Errors
/// A comma, a sign, more decimals than the currency has, anything but digits, or an amount too
/// large; each with a message that says what to write instead.
pub fn price(text: &str, currency: Currency) -> Result<i64, String> {
    let text = text.trim();
    if text.contains(',') {
        return Err(format!(
            "`{text}` has a comma: write the amount with a dot for decimals and no thousands separator"
        ));
    }
    if text.starts_with('-') {
        return Err(format!("`{text}` is negative: a price is zero or more"));
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (text.contains('.') && !digits(fraction)) {
        return Err(format!("`{text}` is not an amount: write digits with an optional dot, as in 49.90"));
    }
    let exponent = usize::from(currency.exponent());
    if fraction.len() > exponent {
        return Err(format!("`{text}` has more than {exponent} decimal(s), the most {currency} has"));
    }
    let minor = format!("{whole}{fraction:0<exponent$}");
    minor.parse::<i64>().map_err(|_| format!("`{text}` is too large"))
}

/// `amount` minor units of `currency` in major units, with exactly the currency's decimals.
pub fn write_price(amount: i64, currency: Currency) -> String {
    let exponent = u32::from(currency.exponent());
    if exponent == 0 {
        return amount.to_string();
    }
    let unit = 10_i64.pow(exponent);
    let width = exponent as usize;
    format!("{}.{:0width$}", amount / unit, (amount % unit).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_exactly_in_each_currencys_minor_units() {
        let check = |text: &str, currency: Currency, expected: Result<i64, &str>| {
            let got = price(text, currency);
            match expected {
                Ok(amount) => assert_eq!(got, Ok(amount), "{text}"),
                Err(fragment) => assert!(got.as_ref().is_err_and(|e| e.contains(fragment)), "{text}: {got:?}"),
            }
        };
        check("49.90", Currency::EUR, Ok(4990));
        check("49.9", Currency::EUR, Ok(4990));
        check("49", Currency::EUR, Ok(4900));
        check("0.10", Currency::EUR, Ok(10));
        check("1200", Currency::JPY, Ok(1200));
        check("1.234", Currency::KWD, Ok(1234));
        check("49,90", Currency::EUR, Err("comma"));
        check("1,200.00", Currency::USD, Err("comma"));
        check("-1.00", Currency::EUR, Err("negative"));
        check("1.005", Currency::EUR, Err("more than 2 decimal"));
        check("12.5", Currency::JPY, Err("more than 0 decimal"));
        check("1e3", Currency::EUR, Err("not an amount"));
        check(".5", Currency::EUR, Err("not an amount"));
        check("", Currency::EUR, Err("not an amount"));
        check("99999999999999999999", Currency::EUR, Err("too large"));
    }

    #[test]
    fn written_prices_read_back_to_the_same_amount() {
        for (amount, currency) in [
            (4990, Currency::EUR),
            (5, Currency::USD),
            (0, Currency::EUR),
            (1200, Currency::JPY),
            (1234, Currency::KWD),
        ] {
            assert_eq!(price(&write_price(amount, currency), currency), Ok(amount), "{amount} {currency}");
        }
        assert_eq!(write_price(5, Currency::USD), "0.05");
    }

    #[test]
    fn any_text_survives_lists_and_entries() {
        let tricky = vec!["a|b".to_owned(), "c;d=e\\".to_owned(), " ".to_owned()];
        assert_eq!(list(&write_list(&tricky))[..2], tricky[..2]);
        let name = "Fit=Cut".to_owned();
        let text = write_entries([(&name, tricky[..2].to_vec())]);
        assert_eq!(entries(&text), Ok(vec![(name, tricky[..2].to_vec())]));
        assert!(entries("Size").is_err());
    }
}
