//! Pricing by hand-computed examples, and its laws (sums of rounded parts, never negative,
//! independent of line order) by proptest.

use std::collections::BTreeMap;

use super::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rust_decimal::RoundingStrategy;

fn sku(s: &str) -> Sku {
    s.parse().expect("sku")
}

fn line(s: &str, quantity: i64, unit: Money) -> LineInput {
    LineInput {
        sku: sku(s),
        quantity: Quantity::try_from(quantity).expect("quantity"),
        unit_price: Some(unit),
        unavailable: None,
    }
}

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR)
}

fn cart(currency: Currency, lines: Vec<LineInput>) -> PricingInput {
    PricingInput {
        currency,
        lines,
        discount: None,
        shipping: None,
        tax: TaxRule { rate: Decimal::ZERO, prices_include_tax: false },
    }
}

fn taxed(mut input: PricingInput, percent: i64, prices_include_tax: bool) -> PricingInput {
    input.tax = TaxRule { rate: Decimal::new(percent, 2), prices_include_tax };
    input
}

fn fixed(amount: Money) -> Option<DiscountKind> {
    Some(DiscountKind::Fixed(vec![amount]))
}

fn percent(p: i64) -> Option<DiscountKind> {
    Some(DiscountKind::Percentage(Decimal::new(p, 2)))
}

fn shipping(price: Money, free_over: Option<Money>) -> Option<ShippingCharge> {
    Some(ShippingCharge { price, free_over })
}

/// Prices `input` and compares `[subtotal, discount, shipping, tax, total]` and each line's
/// `(discount, tax)`, in minor units.
fn check(name: &str, input: PricingInput, totals: [i64; 5], lines: &[(i64, i64)]) {
    let priced = price(&input).expect(name);
    let got = [priced.subtotal, priced.discount, priced.shipping, priced.tax, priced.total].map(|m| m.amount);
    assert_eq!(got, totals, "{name}: totals");
    let parts: Vec<(i64, i64)> = priced.lines.iter().map(|l| (l.discount.amount, l.tax.amount)).collect();
    assert_eq!(parts, lines, "{name}: line (discount, tax)");
}

#[test]
fn hand_computed_carts_price_as_expected() {
    check(
        // 1497 × 0.19 = 284.43.
        "19 % VAT on top of 3 × 4.99 EUR",
        taxed(cart(Currency::EUR, vec![line("TEE", 3, eur(499))]), 19, false),
        [1497, 0, 0, 284, 1781],
        &[(0, 284)],
    );
    check(
        // 1497 × 0.19 / 1.19 = 239.02; the total is the shelf price.
        "19 % VAT contained in 3 × 4.99 EUR",
        taxed(cart(Currency::EUR, vec![line("TEE", 3, eur(499))]), 19, true),
        [1497, 0, 0, 239, 1497],
        &[(0, 239)],
    );
    check(
        // 14 × 0.12 / 1.12 is exactly 1.5, which rounds away from zero.
        "12 % VAT contained in 0.14 EUR is exactly half a cent above 1",
        taxed(cart(Currency::EUR, vec![line("PIN", 1, eur(14))]), 12, true),
        [14, 0, 0, 2, 14],
        &[(0, 2)],
    );
    check(
        // 1000 × 1000 / 3000 = 333 r 1000 on every line: the spare cent goes to SKU A.
        "10 EUR off three equal lines gives the spare cent to the first SKU, not line",
        PricingInput {
            discount: fixed(eur(1000)),
            ..cart(Currency::EUR, vec![line("C", 1, eur(1000)), line("A", 1, eur(1000)), line("B", 1, eur(1000))])
        },
        [3000, 1000, 0, 0, 2000],
        &[(333, 0), (334, 0), (333, 0)],
    );
    check(
        // Of 1000 over 4397: 295 r 1885, 591 r 373, 113 r 2139; the spare cent to r 2139.
        "10 EUR off uneven lines gives the spare cent to the largest remainder",
        PricingInput {
            discount: fixed(eur(1000)),
            ..cart(Currency::EUR, vec![line("A", 1, eur(1299)), line("B", 1, eur(2599)), line("C", 1, eur(499))])
        },
        [4397, 1000, 0, 0, 3397],
        &[(295, 0), (591, 0), (114, 0)],
    );
    check(
        // Shipping tax: 490 × 0.19 = 93.1.
        "a fixed discount above the subtotal takes the subtotal and shipping is still taxed",
        PricingInput {
            discount: fixed(eur(1000)),
            shipping: shipping(eur(490), None),
            ..taxed(cart(Currency::EUR, vec![line("A", 1, eur(500))]), 19, false)
        },
        [500, 500, 490, 93, 583],
        &[(500, 0)],
    );
    check(
        // 5940 − 594 = 5346; 534.6 → 535 on the line, 50 on shipping.
        "JPY has no minor digits: 10 % off 3 × 1980 JPY with 10 % tax and 500 JPY shipping",
        PricingInput {
            discount: percent(10),
            shipping: shipping(Money::new(500, Currency::JPY), None),
            ..taxed(cart(Currency::JPY, vec![line("MUG", 3, Money::new(1980, Currency::JPY))]), 10, false)
        },
        [5940, 594, 500, 585, 6431],
        &[(594, 535)],
    );
    check(
        "shipping is free when the discounted subtotal exactly meets the threshold",
        PricingInput {
            discount: fixed(eur(1000)),
            shipping: shipping(eur(490), Some(eur(5000))),
            ..cart(Currency::EUR, vec![line("A", 2, eur(3000))])
        },
        [6000, 1000, 0, 0, 5000],
        &[(1000, 0)],
    );
    check(
        "shipping is charged one cent below the threshold",
        PricingInput {
            discount: fixed(eur(1001)),
            shipping: shipping(eur(490), Some(eur(5000))),
            ..cart(Currency::EUR, vec![line("A", 2, eur(3000))])
        },
        [6000, 1001, 490, 0, 5489],
        &[(1001, 0)],
    );
    check(
        // Rounding the cart's 1.5 cents once would give 2.
        "10 % off three 5-cent lines is rounded per line to a cent each",
        PricingInput {
            discount: percent(10),
            ..cart(Currency::EUR, vec![line("A", 1, eur(5)), line("B", 1, eur(5)), line("C", 1, eur(5))])
        },
        [15, 3, 0, 0, 12],
        &[(1, 0), (1, 0), (1, 0)],
    );
    check(
        // 0.100 KWD off 1.250 + 3.750 KWD: exactly 25 and 75 fils; 5 % tax on 1225 and 3675.
        "KWD has three minor digits",
        PricingInput {
            discount: fixed(Money::new(100, Currency::KWD)),
            ..taxed(
                cart(
                    Currency::KWD,
                    vec![line("A", 1, Money::new(1250, Currency::KWD)), line("B", 1, Money::new(3750, Currency::KWD))],
                ),
                5,
                false,
            )
        },
        [5000, 100, 0, 245, 5145],
        &[(25, 61), (75, 184)],
    );
}

#[test]
fn unavailable_lines_are_shown_but_count_in_no_total() {
    let mut input = PricingInput {
        discount: percent(10),
        ..taxed(
            cart(Currency::EUR, vec![line("A", 2, eur(1000)), line("B", 1, eur(500)), line("C", 1, eur(700))]),
            19,
            false,
        )
    };
    input.lines[1].unavailable = Some(Unavailable::InsufficientStock { available: 0 });
    // A price missing without a reason is still a missing price.
    input.lines[2].unit_price = None;
    let priced = price(&input).expect("prices");
    // 2000 − 200 = 1800; 1800 × 0.19 = 342.
    assert_eq!([priced.subtotal, priced.discount, priced.tax, priced.total].map(|m| m.amount), [2000, 200, 342, 2142]);
    let b = &priced.lines[1];
    assert_eq!(b.line_total, Some(eur(500)), "the shopper still sees its price");
    assert_eq!((b.discount, b.tax), (eur(0), eur(0)));
    let c = &priced.lines[2];
    assert_eq!(c.unavailable, Some(Unavailable::NoPriceInCurrency));
    assert_eq!(c.line_total, None);
}

#[test]
fn an_empty_or_wholly_unavailable_cart_costs_only_its_shipping() {
    let mut input = PricingInput {
        discount: fixed(eur(500)),
        shipping: shipping(eur(490), Some(eur(0))),
        ..cart(Currency::EUR, vec![line("A", 1, eur(1000))])
    };
    input.lines[0].unavailable = Some(Unavailable::Archived);
    // A zero threshold makes shipping free even for nothing.
    assert_eq!(price(&input).map(|p| p.total), Ok(eur(0)));
    input.shipping = shipping(eur(490), None);
    input.lines.clear();
    assert_eq!(price(&input).map(|p| p.total), Ok(eur(490)));
}

#[test]
fn a_fixed_discount_without_an_amount_in_the_cart_currency_takes_nothing_off() {
    let input = PricingInput {
        discount: Some(DiscountKind::Fixed(vec![Money::new(500, Currency::USD)])),
        ..cart(Currency::EUR, vec![line("A", 1, eur(1000))])
    };
    assert_eq!(price(&input).map(|p| p.total), Ok(eur(1000)));
}

#[test]
fn amounts_in_another_currency_or_negative_are_refused() {
    let mismatch = Err(MoneyError::CurrencyMismatch { left: Currency::EUR, right: Currency::USD });
    let usd = cart(Currency::EUR, vec![line("A", 1, Money::new(100, Currency::USD))]);
    assert_eq!(price(&usd), mismatch);
    let usd_shipping = PricingInput {
        shipping: shipping(eur(100), Some(Money::new(100, Currency::USD))),
        ..cart(Currency::EUR, vec![line("A", 1, eur(100))])
    };
    assert_eq!(price(&usd_shipping), mismatch);
    let negative = cart(Currency::EUR, vec![line("A", 1, eur(-1))]);
    assert_eq!(price(&negative), Err(MoneyError::Negative));
}

#[test]
fn overflow_anywhere_is_an_error_not_a_panic() {
    let big = eur(i64::MAX / 2 + 1);
    let line_total = cart(Currency::EUR, vec![line("A", 2, big)]);
    assert_eq!(price(&line_total), Err(MoneyError::Overflow));
    let subtotal = cart(Currency::EUR, vec![line("A", 1, big), line("B", 1, big)]);
    assert_eq!(price(&subtotal), Err(MoneyError::Overflow));
    let total = PricingInput { shipping: shipping(big, None), ..cart(Currency::EUR, vec![line("A", 1, big)]) };
    assert_eq!(price(&total), Err(MoneyError::Overflow));
    let mut tax = cart(Currency::EUR, vec![line("A", 1, eur(i64::MAX))]);
    tax.tax.rate = Decimal::MAX;
    assert_eq!(price(&tax), Err(MoneyError::Overflow));
}

#[test]
fn a_shipping_method_is_charged_in_the_cart_currency_only() {
    let method = ShippingMethod {
        id: "standard".into(),
        name: "Standard".into(),
        prices: vec![eur(490), Money::new(600, Currency::USD)],
        free_over: vec![eur(5000)],
    };
    assert_eq!(
        ShippingCharge::for_method(&method, Currency::EUR),
        Some(ShippingCharge { price: eur(490), free_over: Some(eur(5000)) })
    );
    assert_eq!(ShippingCharge::for_method(&method, Currency::USD).map(|c| c.free_over), Some(None));
    assert_eq!(ShippingCharge::for_method(&method, Currency::JPY), None);
}

// Property tests over random carts.

fn any_line(sku: u16, currency: Currency) -> impl Strategy<Value = LineInput> {
    // Common prices and small quantities make equal line totals, hence remainder ties that
    // only the SKU may break, likely.
    let quantity = prop_oneof![1i64..=3, 1i64..=99];
    let unit = prop_oneof![proptest::sample::select(vec![0i64, 1, 99, 500, 999, 1000]), 0i64..=10_000_000];
    (quantity, unit, 0u8..12, 0i64..99).prop_map(move |(quantity, unit, fate, available)| {
        let unit = Some(Money::new(unit, currency));
        let (unit_price, unavailable) = match fate {
            0 => (unit, Some(Unavailable::Archived)),
            1 => (None, Some(Unavailable::NoPriceInCurrency)),
            2 => (unit, Some(Unavailable::InsufficientStock { available })),
            3 => (None, Some(Unavailable::UnknownSku)),
            4 => (None, None),
            _ => (unit, None),
        };
        LineInput {
            sku: sku_of(sku),
            quantity: Quantity::try_from(quantity).unwrap_or(Quantity::MAX),
            unit_price,
            unavailable,
        }
    })
}

fn sku_of(n: u16) -> Sku {
    format!("SKU-{n}").parse().expect("sku")
}

fn any_discount(currency: Currency) -> impl Strategy<Value = Option<DiscountKind>> {
    prop_oneof![
        Just(None),
        (1i64..=10_000).prop_map(|bp| Some(DiscountKind::Percentage(Decimal::new(bp, 4)))),
        // Small, typical and larger-than-any-cart amounts, beside one in another currency.
        prop_oneof![1i64..=10_000, 1i64..=1_000_000_000, 1i64..=100_000_000_000].prop_map(move |a| {
            Some(DiscountKind::Fixed(vec![Money::new(7, Currency::USD), Money::new(a, currency)]))
        }),
    ]
}

fn any_input() -> impl Strategy<Value = PricingInput> {
    let currency = prop_oneof![Just(Currency::EUR), Just(Currency::JPY), Just(Currency::KWD)];
    (currency, proptest::collection::btree_set(0u16..1000, 1..=50))
        .prop_flat_map(|(currency, skus)| {
            let lines: Vec<_> = skus.into_iter().map(|s| any_line(s, currency)).collect();
            let shipping = proptest::option::of((0i64..=100_000, proptest::option::of(0i64..=10_000_000_000)));
            (Just(currency), lines, any_discount(currency), shipping, 0i64..=3000, any::<bool>())
        })
        .prop_map(|(currency, lines, discount, shipping, rate, prices_include_tax)| PricingInput {
            currency,
            lines,
            discount,
            shipping: shipping.map(|(price, free_over)| ShippingCharge {
                price: Money::new(price, currency),
                free_over: free_over.map(|f| Money::new(f, currency)),
            }),
            tax: TaxRule { rate: Decimal::new(rate, 4), prices_include_tax },
        })
}

/// `input` and a permutation of its line indices.
fn any_input_and_order() -> impl Strategy<Value = (PricingInput, Vec<usize>)> {
    any_input().prop_flat_map(|input| {
        let order = Just((0..input.lines.len()).collect::<Vec<_>>()).prop_shuffle();
        (Just(input), order)
    })
}

/// The formula's exact value rounded half away from zero, computed independently of `price`.
fn rounded(exact: Decimal) -> i64 {
    i64::try_from(exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)).expect("in range")
}

fn expected_tax(part: i64, rule: TaxRule) -> i64 {
    let part = Decimal::from(part);
    if rule.prices_include_tax {
        rounded(part * rule.rate / (Decimal::ONE + rule.rate))
    } else {
        rounded(part * rule.rate)
    }
}

fn laws_hold(input: &PricingInput, priced: &PricedCart) -> Result<(), TestCaseError> {
    let currency = input.currency;
    let amounts = [priced.subtotal, priced.discount, priced.shipping, priced.shipping_tax, priced.tax, priced.total];
    let line_amounts =
        priced.lines.iter().flat_map(|l| [Some(l.discount), Some(l.tax), l.line_total, l.unit_price]).flatten();
    prop_assert!(
        amounts.into_iter().chain(line_amounts).all(|m| m.currency == currency),
        "every amount is in the cart's currency"
    );
    prop_assert_eq!(priced.lines.len(), input.lines.len());

    let (mut subtotal, mut discount, mut line_tax) = (0i64, 0i64, 0i64);
    for (given, got) in input.lines.iter().zip(&priced.lines) {
        prop_assert_eq!(&got.sku, &given.sku, "lines keep their order");
        prop_assert_eq!(got.quantity, given.quantity);
        prop_assert_eq!(
            got.line_total.map(|t| t.amount),
            given.unit_price.map(|u| u.amount * i64::from(given.quantity.get()))
        );
        let reason = given.unavailable.or(match given.unit_price {
            None => Some(Unavailable::NoPriceInCurrency),
            Some(_) => None,
        });
        prop_assert_eq!(got.unavailable, reason);
        let Some(total) = got.line_total.filter(|_| reason.is_none()) else {
            prop_assert_eq!((got.discount.amount, got.tax.amount), (0, 0));
            continue;
        };
        let d = got.discount.amount;
        prop_assert!((0..=total.amount).contains(&d), "a line's discount stays within it");
        prop_assert_eq!(got.tax.amount, expected_tax(total.amount - d, input.tax));
        if let Some(DiscountKind::Percentage(p)) = &input.discount {
            prop_assert_eq!(d, rounded(Decimal::from(total.amount) * p));
        }
        subtotal += total.amount;
        discount += d;
        line_tax += got.tax.amount;
    }
    prop_assert_eq!(priced.subtotal.amount, subtotal);
    prop_assert_eq!(priced.discount.amount, discount, "line discounts sum to the discount");
    prop_assert!(discount <= subtotal);

    if let Some(fixed @ DiscountKind::Fixed(_)) = &input.discount {
        let amount = fixed.amount_in(currency).map_or(0, |a| a.amount);
        prop_assert_eq!(discount, amount.min(subtotal));
        for l in priced.lines.iter().filter(|l| l.unavailable.is_none()) {
            let total = l.line_total.map_or(0, |t| t.amount);
            let share = i128::from(discount) * i128::from(total) / i128::from(subtotal.max(1));
            let off = i128::from(l.discount.amount) - share;
            prop_assert!(off == 0 || off == 1, "a share is its proportion rounded down or up");
        }
    }

    let expected_shipping = match input.shipping {
        None => 0,
        Some(ShippingCharge { free_over: Some(f), .. }) if subtotal - discount >= f.amount => 0,
        Some(charge) => charge.price.amount,
    };
    prop_assert_eq!(priced.shipping.amount, expected_shipping);
    prop_assert_eq!(priced.shipping_tax.amount, expected_tax(expected_shipping, input.tax));
    prop_assert_eq!(priced.tax.amount, line_tax + priced.shipping_tax.amount);
    let added_tax = if input.tax.prices_include_tax { 0 } else { priced.tax.amount };
    prop_assert_eq!(priced.total.amount, subtotal - discount + expected_shipping + added_tax);
    prop_assert!(priced.total.amount >= 0, "the total is never negative");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn totals_add_up_and_do_not_depend_on_line_order((input, order) in any_input_and_order()) {
        let priced = price(&input).expect("valid carts price");
        laws_hold(&input, &priced)?;

        let mut shuffled = input.clone();
        shuffled.lines = order.iter().map(|&i| input.lines[i].clone()).collect();
        let reordered = price(&shuffled).expect("valid carts price");
        laws_hold(&shuffled, &reordered)?;
        let totals = |c: &PricedCart| [c.subtotal, c.discount, c.shipping, c.shipping_tax, c.tax, c.total];
        prop_assert_eq!(totals(&priced), totals(&reordered));
        let by_sku = |c: &PricedCart| c.lines.iter().map(|l| (l.sku.clone(), l.clone())).collect::<BTreeMap<_, _>>();
        prop_assert_eq!(by_sku(&priced), by_sku(&reordered));
    }

    #[test]
    fn pricing_never_panics_whatever_the_amounts_and_rates(
        units in proptest::collection::vec(any::<i64>(), 0..5),
        fixed_amount in any::<i64>(),
        shipping in any::<i64>(),
        rate in (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>(), 0u32..=28),
        percentage in (any::<u32>(), any::<bool>(), 0u32..=28),
        prices_include_tax in any::<bool>(),
    ) {
        let rate = Decimal::from_parts(rate.0, rate.1, rate.2, rate.3, rate.4);
        let percentage = Decimal::from_parts(percentage.0, 0, 0, percentage.1, percentage.2);
        for discount in [Some(DiscountKind::Percentage(percentage)), fixed(eur(fixed_amount))] {
            let input = PricingInput {
                currency: Currency::EUR,
                lines: units.iter().enumerate().map(|(i, u)| line(&format!("S{i}"), 99, eur(*u))).collect(),
                discount,
                shipping: Some(ShippingCharge { price: eur(shipping), free_over: None }),
                tax: TaxRule { rate, prices_include_tax },
            };
            if let Ok(priced) = price(&input) {
                prop_assert!(priced.discount.amount <= priced.subtotal.amount);
            }
        }
    }
}
