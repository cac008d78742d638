use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn check(amount: i64, currency: &str, locale: Locale, expected: &str) {
    let currency: Currency = currency.parse().expect("currency");
    // The tables below write the no-break spaces visibly: `_` for U+00A0, `^` for U+202F.
    let expected = expected.replace('_', NBSP).replace('^', NNBSP);
    assert_eq!(money(Money::new(amount, currency), locale), expected, "{amount} {currency} in {locale}");
}

#[test]
fn money_reads_as_each_locale_writes_it() {
    use Locale::*;
    for (locale, expected) in [
        (EnUs, "$1,234.50"),
        (EnGb, "US$1,234.50"),
        (DeDe, "1.234,50_US$"),
        (FrFr, "1^234,50_US$"),
        (NlNl, "US$_1.234,50"),
        (EsEs, "1234,50_US$"),
        (ItIt, "1.234,50_US$"),
    ] {
        check(123_450, "USD", locale, expected);
    }
    for (locale, expected) in [
        (EnUs, "€1,234.50"),
        (EnGb, "€1,234.50"),
        (DeDe, "1.234,50_€"),
        (FrFr, "1^234,50_€"),
        (NlNl, "€_1.234,50"),
        (EsEs, "1234,50_€"),
        (ItIt, "1.234,50_€"),
    ] {
        check(123_450, "EUR", locale, expected);
    }
    check(123_450, "GBP", EnGb, "£1,234.50");
    check(1_234_567_890, "EUR", EsEs, "12.345.678,90_€");
    check(1_234_567_890, "EUR", FrFr, "12^345^678,90_€");
}

#[test]
fn the_currency_s_exponent_decides_the_digits_whatever_the_locale() {
    use Locale::*;
    check(1235, "JPY", EnUs, "¥1,235");
    check(1235, "JPY", DeDe, "1.235_¥");
    check(0, "JPY", EnUs, "¥0");
    check(1_500_250, "KWD", EnUs, "KWD_1,500.250");
    check(1_500_250, "KWD", DeDe, "1.500,250_KWD");
    check(5, "KWD", FrFr, "0,005_KWD");
    check(7, "EUR", EnGb, "€0.07");
    check(100, "CHF", NlNl, "CHF_1,00");
}

#[test]
fn a_negative_amount_keeps_its_minus_where_the_locale_puts_it() {
    use Locale::*;
    check(-100, "USD", EnUs, "-$1.00");
    check(-100, "EUR", DeDe, "-1,00_€");
    check(-100, "EUR", NlNl, "€_-1,00");
    check(i64::MIN, "EUR", EnUs, "-€92,233,720,368,547,758.08");
}

#[test]
fn dates_name_the_month_in_the_locale_s_language_and_order() {
    use Locale::*;
    let at = Utc.with_ymd_and_hms(2026, 12, 7, 15, 5, 0).single().expect("date");
    for (locale, day, full) in [
        (EnUs, "December 7, 2026", "December 7, 2026 at 3:05_PM UTC"),
        (EnGb, "7 December 2026", "7 December 2026 at 15:05 UTC"),
        (DeDe, "7. Dezember 2026", "7. Dezember 2026 um 15:05 UTC"),
        (FrFr, "7 décembre 2026", "7 décembre 2026 à 15:05 UTC"),
        (NlNl, "7 december 2026", "7 december 2026 om 15:05 UTC"),
        (EsEs, "7 de diciembre de 2026", "7 de diciembre de 2026, 15:05 UTC"),
        (ItIt, "7 dicembre 2026", "7 dicembre 2026 alle ore 15:05 UTC"),
    ] {
        assert_eq!(date(at, locale), day, "{locale}");
        assert_eq!(date_time(at, locale), full.replace('_', NBSP), "{locale}");
    }
    let march = Utc.with_ymd_and_hms(2027, 3, 1, 0, 30, 0).single().expect("date");
    assert_eq!(date(march, DeDe), "1. März 2027");
    assert_eq!(date_time(march, EnUs), format!("March 1, 2027 at 12:30{NBSP}AM UTC"));
}

proptest! {
    #[test]
    fn formatting_never_panics_and_keeps_every_digit(
        amount in any::<i64>(),
        currency in prop::sample::select(Currency::all().collect::<Vec<_>>()),
        locale in prop::sample::select(Locale::ALL.to_vec()),
    ) {
        let written = money(Money::new(amount, currency), locale);
        let digits: String = written.chars().filter(char::is_ascii_digit).collect();
        let expected = format!("{:0>width$}", amount.unsigned_abs(), width = usize::from(currency.exponent()) + 1);
        prop_assert_eq!(digits, expected);
        prop_assert_eq!(written.starts_with('-') || written.contains(&format!("{NBSP}-")), amount < 0);
    }
}
