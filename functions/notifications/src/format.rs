//! Money and dates written the way a store's locale writes them: `$1,234.50`, `1.234,50 €`,
//! `1 234,50 €`; `December 7, 2026`, `7. Dezember 2026`.
//!
//! A table per supported [`Locale`] (the closed list the store settings accept), taken from CLDR's
//! data for those locales, instead of ICU: ICU4X's data for seven locales would outweigh the rest
//! of the function, and the rules needed here are a handful of separators, the currency sign's
//! place, and twelve month names. An amount's digits come from the domain's [`Currency`] exponent
//! (JPY 0, EUR 2, KWD 3), never from the locale, so no amount is rounded. Dates are in UTC: the
//! settings carry no time zone, and an order's times are stored in UTC.

use chrono::{DateTime, Datelike, Timelike, Utc};
use nanoshop_domain::locale::Locale;
use nanoshop_domain::money::{Currency, Money};

/// U+00A0 NO-BREAK SPACE: between an amount and its sign, so they never wrap apart.
const NBSP: &str = "\u{a0}";
/// U+202F NARROW NO-BREAK SPACE: French thousands separator.
const NNBSP: &str = "\u{202f}";

/// How a date is laid out around its year, which always comes last.
#[derive(Debug, Clone, Copy)]
enum DateOrder {
    /// `December 7, 2026`
    MonthDay,
    /// `7 December 2026`
    DayMonth,
    /// `7. Dezember 2026`
    DayDotMonth,
    /// `7 de diciembre de 2026`
    DayDeMonthDe,
}

/// One locale's conventions.
#[derive(Debug)]
struct Conventions {
    decimal: char,
    group: &'static str,
    /// Fewest integer digits before grouping starts (CLDR `minimumGroupingDigits`: Spanish writes
    /// `1234,50 €` but `12.345,50 €`).
    min_grouping: usize,
    /// The sign before the amount (`$1.00`, `€ 1,00`) or after it (`1,00 €`).
    sign_first: bool,
    /// Between a sign written first and the amount: none for a symbol in English (`$1.00`).
    space_after_sign: &'static str,
    /// Dutch writes the minus after a leading sign (`€ -1,00`), English before it (`-$1.00`).
    minus_after_sign: bool,
    months: [&'static str; 12],
    order: DateOrder,
    /// Between a date and its time (`7. Dezember 2026 um 15:00`).
    at: &'static str,
    twelve_hour: bool,
}

const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn conventions(locale: Locale) -> &'static Conventions {
    const EN_US: Conventions = Conventions {
        decimal: '.',
        group: ",",
        min_grouping: 1,
        sign_first: true,
        space_after_sign: "",
        minus_after_sign: false,
        months: EN_MONTHS,
        order: DateOrder::MonthDay,
        at: " at ",
        twelve_hour: true,
    };
    const EN_GB: Conventions = Conventions { order: DateOrder::DayMonth, twelve_hour: false, ..EN_US };
    const DE_DE: Conventions = Conventions {
        decimal: ',',
        group: ".",
        min_grouping: 1,
        sign_first: false,
        space_after_sign: NBSP,
        minus_after_sign: false,
        months: [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
        order: DateOrder::DayDotMonth,
        at: " um ",
        twelve_hour: false,
    };
    const FR_FR: Conventions = Conventions {
        group: NNBSP,
        months: [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        order: DateOrder::DayMonth,
        at: " à ",
        ..DE_DE
    };
    const NL_NL: Conventions = Conventions {
        sign_first: true,
        minus_after_sign: true,
        months: [
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ],
        order: DateOrder::DayMonth,
        at: " om ",
        ..DE_DE
    };
    const ES_ES: Conventions = Conventions {
        min_grouping: 2,
        months: [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
        order: DateOrder::DayDeMonthDe,
        at: ", ",
        ..DE_DE
    };
    const IT_IT: Conventions = Conventions {
        months: [
            "gennaio",
            "febbraio",
            "marzo",
            "aprile",
            "maggio",
            "giugno",
            "luglio",
            "agosto",
            "settembre",
            "ottobre",
            "novembre",
            "dicembre",
        ],
        order: DateOrder::DayMonth,
        at: " alle ore ",
        ..DE_DE
    };
    match locale {
        Locale::EnUs => &EN_US,
        Locale::EnGb => &EN_GB,
        Locale::DeDe => &DE_DE,
        Locale::FrFr => &FR_FR,
        Locale::NlNl => &NL_NL,
        Locale::EsEs => &ES_ES,
        Locale::ItIt => &IT_IT,
    }
}

/// The sign of `currency` in `locale`, and whether it is a symbol (`€`) rather than a code
/// (`CHF`). Only currencies whose symbol is unambiguous to the locale's readers get one; every
/// other is written by its ISO code, which no reader misreads.
fn sign(currency: Currency, locale: Locale) -> (&'static str, bool) {
    match (currency.code(), locale) {
        ("EUR", _) => ("€", true),
        ("GBP", _) => ("£", true),
        ("USD", Locale::EnUs) => ("$", true),
        ("USD", _) => ("US$", true),
        ("JPY", _) => ("¥", true),
        _ => ("", false),
    }
}

/// `money` as `locale` writes it, with every minor digit its currency has (`¥1,235`,
/// `1.234,50 €`, `KWD 1,500.250`). Never panics, whatever the amount.
pub fn money(money: Money, locale: Locale) -> String {
    let c = conventions(locale);
    let exponent = usize::from(money.currency.exponent());
    let digits = money.amount.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = exponent + 1);
    let (int, frac) = digits.split_at(digits.len() - exponent);
    let mut number = group(int, c);
    if !frac.is_empty() {
        number.push(c.decimal);
        number.push_str(frac);
    }
    let minus = if money.amount < 0 { "-" } else { "" };
    let (symbol, is_symbol) = sign(money.currency, locale);
    let (sign, space) = if is_symbol { (symbol, c.space_after_sign) } else { (money.currency.code(), NBSP) };
    match (c.sign_first, c.minus_after_sign) {
        (true, true) => format!("{sign}{space}{minus}{number}"),
        (true, false) => format!("{minus}{sign}{space}{number}"),
        (false, _) => format!("{minus}{number}{NBSP}{sign}"),
    }
}

/// The integer digits with the locale's thousands separator.
fn group(int: &str, c: &Conventions) -> String {
    if int.len() < 3 + c.min_grouping {
        return int.to_owned();
    }
    let mut out = String::with_capacity(int.len() + int.len() / 3 * c.group.len());
    for (i, d) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push_str(c.group);
        }
        out.push(d);
    }
    out
}

/// The day `at` falls on (UTC), as `locale` writes a date in full.
pub fn date(at: DateTime<Utc>, locale: Locale) -> String {
    let c = conventions(locale);
    let (day, month, year) = (at.day(), c.months[at.month0() as usize], at.year());
    match c.order {
        DateOrder::MonthDay => format!("{month} {day}, {year}"),
        DateOrder::DayMonth => format!("{day} {month} {year}"),
        DateOrder::DayDotMonth => format!("{day}. {month} {year}"),
        DateOrder::DayDeMonthDe => format!("{day} de {month} de {year}"),
    }
}

/// The date and the time of day `at` (UTC, said so), as `locale` writes them.
pub fn date_time(at: DateTime<Utc>, locale: Locale) -> String {
    let c = conventions(locale);
    let time = if c.twelve_hour {
        let (pm, hour) = at.hour12();
        format!("{hour}:{:02}{NBSP}{}", at.minute(), if pm { "PM" } else { "AM" })
    } else {
        format!("{:02}:{:02}", at.hour(), at.minute())
    };
    format!("{}{}{time} UTC", date(at, locale), c.at)
}

#[cfg(test)]
mod tests;
