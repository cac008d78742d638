//! Verification and reading of events: signatures, timestamps, fixtures of every event shape,
//! and properties over arbitrary payloads.

use nanoshop_domain::ids::OrderId;
use nanoshop_domain::{Currency, Money};

use stripe_webhook::WebhookError as StripeError;

use super::*;
use crate::port::ORDER_ID_METADATA;

#[test]
fn the_pinned_api_version_is_the_one_async_stripe_is_generated_for() {
    assert_eq!(STRIPE_API_VERSION, stripe_client_core::VERSION.as_str());
}

const SECRET: &str = "whsec_test_secret";
/// The event types nanoshop reads a PaymentIntent from, and those it reads a charge from.
const INTENT_TYPES: [&str; 4] = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.processing",
];
const CHARGE_TYPES: [&str; 2] = ["charge.refunded", "charge.dispute.created"];
const ORDER: &str = "ord_01JGZ3M5K8Q2W7X4V9N6B1C3D5";

fn fixture(name: &str) -> &'static str {
    match name {
        "payment_intent.succeeded" => include_str!("../../tests/fixtures/payment_intent.succeeded.json"),
        "payment_intent.payment_failed" => include_str!("../../tests/fixtures/payment_intent.payment_failed.json"),
        "payment_intent.canceled" => include_str!("../../tests/fixtures/payment_intent.canceled.json"),
        "payment_intent.processing" => include_str!("../../tests/fixtures/payment_intent.processing.json"),
        "charge.refunded" => include_str!("../../tests/fixtures/charge.refunded.json"),
        "charge.dispute.created" => include_str!("../../tests/fixtures/charge.dispute.created.json"),
        "customer.created" => include_str!("../../tests/fixtures/customer.created.json"),
        "localstripe.payment_intent.succeeded" => {
            include_str!("../../tests/fixtures/localstripe.payment_intent.succeeded.json")
        }
        other => panic!("no fixture {other}"),
    }
}

use super::unix_now as now;

fn signed(payload: &str) -> Result<WebhookEvent, WebhookError> {
    verify(payload, Some(&sign(payload, SECRET, now())), SECRET)
}

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR)
}

#[test]
fn a_timestamp_too_far_to_subtract_is_stale_not_a_panic() {
    // fuzz/corpus/webhook_signature/signed-t-i64-min: correctly signed, so only our guard
    // stands between it and async-stripe-webhook's unchecked `(now - t).abs()`.
    let payload = fixture("payment_intent.succeeded");
    for t in [i64::MIN, now() + i64::MIN, i64::MIN + 1, -i64::MAX] {
        let header = sign(payload, SECRET, t);
        assert_eq!(verify(payload, Some(&header), SECRET), Err(WebhookError::Stale), "t = {t}");
    }
    // A wrong signature is still answered as one first, whatever the time.
    let forged = format!("t={},v1={}", i64::MIN, "ab".repeat(32));
    assert_eq!(verify(payload, Some(&forged), SECRET), Err(WebhookError::BadSignature));
    // Far, but subtractable: the library's own tolerance check answers.
    let header = sign(payload, SECRET, i64::MIN / 2);
    assert_eq!(verify(payload, Some(&header), SECRET), Err(WebhookError::Stale));
}

#[test]
fn json_arrays_are_not_events_nor_their_objects() {
    // fuzz/corpus/webhook_event/event-as-json-array and intent-as-json-array: serde's derived
    // structs read arrays field by field, so these were taken as an event and a payment.
    let intent = r#"["pi_1",100,"eur",null,"succeeded",null,null]"#;
    for payload in [
        r#"["evt_1",1,"payout.paid",null]"#.to_owned(),
        format!(r#"{{"id":"evt_1","created":1,"type":"payment_intent.succeeded","data":{{"object":{intent}}}}}"#),
        format!(r#"{{"id":"evt_1","created":1,"type":"payment_intent.succeeded","data":[{intent}]}}"#),
        r#"{"id":"evt_1","created":1,"type":"charge.refunded","data":{"object":{"id":"ch_1","amount":100,"amount_refunded":100,"currency":"eur","payment_intent":["pi_1"]}}}"#.to_owned(),
    ] {
        assert!(matches!(signed(&payload), Err(WebhookError::Malformed(_))), "{payload}: {:?}", signed(&payload));
    }
    // The same charge with the intent as an id, or expanded, is read.
    for reference in [r#""pi_1""#, r#"{"id":"pi_1","object":"payment_intent"}"#] {
        let payload = format!(
            r#"{{"id":"evt_1","created":1,"type":"charge.refunded","data":{{"object":{{"id":"ch_1","amount":100,"amount_refunded":100,"currency":"eur","payment_intent":{reference}}}}}}}"#
        );
        let EventKind::ChargeRefunded(charge) = signed(&payload).expect("a charge").kind else { panic!() };
        assert_eq!(charge.intent_id.as_deref(), Some("pi_1"));
    }
}

fn order() -> Option<OrderId> {
    Some(ORDER.parse().expect("valid order id"))
}

#[test]
fn every_fixture_is_stripe_shaped_enough_for_async_stripes_typed_parser() {
    // The fixtures stand for real Stripe events: async-stripe's typed objects accept them.
    for name in INTENT_TYPES.into_iter().chain(CHARGE_TYPES).chain(["customer.created"]) {
        let payload = fixture(name);
        let header = sign(payload, SECRET, now());
        if let Err(e) = Webhook::construct_event(payload, &header, SECRET) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn a_succeeded_payment_is_read_with_its_order_and_amounts() {
    let event = signed(fixture("payment_intent.succeeded")).expect("verifies");
    assert_eq!(event.id, "evt_3QkXyZLkdIwHu7ix1aBcDeFg");
    assert_eq!(event.created, 1_767_225_612);
    assert_eq!(
        event.kind,
        EventKind::PaymentSucceeded(IntentEvent {
            intent_id: "pi_3QkXyZLkdIwHu7ix0XyZ1234".into(),
            order_id: order(),
            amount: eur(5880),
            amount_received: 5880,
            failure_message: None,
            canceled_at: None,
        })
    );
}

#[test]
fn a_failed_payment_carries_the_decline_message() {
    let event = signed(fixture("payment_intent.payment_failed")).expect("verifies");
    assert_eq!(
        event.kind,
        EventKind::PaymentFailed(IntentEvent {
            intent_id: "pi_3QkXyZLkdIwHu7ix0XyZ1234".into(),
            order_id: order(),
            amount: eur(5880),
            amount_received: 0,
            failure_message: Some("Your card was declined.".into()),
            canceled_at: None,
        })
    );
}

#[test]
fn canceled_and_processing_payments_are_read() {
    let canceled = signed(fixture("payment_intent.canceled")).expect("verifies");
    let EventKind::PaymentCanceled(intent) = canceled.kind else { panic!("{canceled:?}") };
    assert_eq!((intent.order_id, intent.amount, intent.amount_received), (order(), eur(5880), 0));
    assert_eq!(intent.canceled_at, Some(1_767_227_400));

    let processing = signed(fixture("payment_intent.processing")).expect("verifies");
    let EventKind::PaymentProcessing(intent) = processing.kind else { panic!("{processing:?}") };
    assert_eq!((intent.order_id, intent.amount, intent.amount_received), (order(), eur(5880), 0));
}

#[test]
fn a_refunded_charge_carries_the_total_refunded() {
    let event = signed(fixture("charge.refunded")).expect("verifies");
    assert_eq!(
        event.kind,
        EventKind::ChargeRefunded(ChargeEvent {
            charge_id: "ch_3QkXyZLkdIwHu7ix0Ch12345".into(),
            intent_id: Some("pi_3QkXyZLkdIwHu7ix0XyZ1234".into()),
            amount: eur(5880),
            amount_refunded: eur(2000),
        })
    );
}

#[test]
fn a_dispute_is_read_with_its_reason() {
    let event = signed(fixture("charge.dispute.created")).expect("verifies");
    assert_eq!(
        event.kind,
        EventKind::DisputeCreated(DisputeEvent {
            dispute_id: "du_1QkZaBLkdIwHu7ixDsp12345".into(),
            intent_id: Some("pi_3QkXyZLkdIwHu7ix0XyZ1234".into()),
            amount: eur(5880),
            reason: "fraudulent".into(),
        })
    );
}

#[test]
fn an_intent_without_our_metadata_is_foreign() {
    let mut event: serde_json::Value = serde_json::from_str(fixture("payment_intent.succeeded")).expect("json");
    event["data"]["object"]["metadata"] = serde_json::json!({});
    let foreign = signed(&event.to_string()).expect("verifies");
    let EventKind::PaymentSucceeded(intent) = foreign.kind else { panic!("{foreign:?}") };
    assert_eq!(intent.order_id, None);

    event["data"]["object"]["metadata"] = serde_json::json!({ ORDER_ID_METADATA: "order-42" });
    let not_ours = signed(&event.to_string()).expect("verifies");
    let EventKind::PaymentSucceeded(intent) = not_ours.kind else { panic!("{not_ours:?}") };
    assert_eq!(intent.order_id, None, "a value that is not an order id is someone else's too");
}

#[test]
fn an_unknown_type_is_ignored_by_name() {
    let event = signed(fixture("customer.created")).expect("verifies");
    assert_eq!(event.kind, EventKind::Ignored("customer.created".into()));
}

#[test]
fn localstripes_sparser_objects_are_read() {
    // localstripe's PaymentIntents have no amount_received and its events no
    // pending_webhooks: async-stripe's typed parser refuses them, ours reads what it needs.
    let payload = fixture("localstripe.payment_intent.succeeded");
    let header = sign(payload, "whsec_test", now());
    assert!(matches!(Webhook::construct_event(payload, &header, "whsec_test"), Err(StripeError::BadParse(_))));
    let event = verify(payload, Some(&header), "whsec_test").expect("verifies");
    let EventKind::PaymentSucceeded(intent) = event.kind else { panic!("{event:?}") };
    assert_eq!(intent.amount, eur(1999));
    assert_eq!(intent.amount_received, 1999, "a succeeded intent without amount_received received it all");
}

#[test]
fn a_missing_or_empty_header_is_missing() {
    let payload = fixture("payment_intent.succeeded");
    assert_eq!(verify(payload, None, SECRET), Err(WebhookError::MissingSignature));
    assert_eq!(verify(payload, Some(""), SECRET), Err(WebhookError::MissingSignature));
}

#[test]
fn a_malformed_header_is_a_bad_signature() {
    let payload = fixture("payment_intent.succeeded");
    let t = now();
    let good = sign(payload, SECRET, t);
    let v1 = good.split_once(",v1=").map(|(_, v)| v.to_owned()).expect("v1");
    for header in [
        "garbage".to_owned(),
        format!("t={t}"),
        format!("v1={v1}"),
        format!("t=yesterday,v1={v1}"),
        format!("t={t},v1=not-hex"),
        format!("t={t},v0={v1}"),
        format!("t={t};v1={v1}"),
    ] {
        assert_eq!(verify(payload, Some(&header), SECRET), Err(WebhookError::BadSignature), "{header}");
    }
}

#[test]
fn a_wrong_or_empty_secret_is_a_bad_signature() {
    let payload = fixture("payment_intent.succeeded");
    let header = sign(payload, "whsec_someone_else", now());
    assert_eq!(verify(payload, Some(&header), SECRET), Err(WebhookError::BadSignature));
    let header = sign(payload, "", now());
    assert_eq!(verify(payload, Some(&header), ""), Err(WebhookError::BadSignature));
}

#[test]
fn a_tampered_payload_is_a_bad_signature() {
    let payload = fixture("payment_intent.succeeded");
    let header = sign(payload, SECRET, now());
    let tampered = payload.replace("5880", "1");
    assert_ne!(tampered, payload);
    assert_eq!(verify(&tampered, Some(&header), SECRET), Err(WebhookError::BadSignature));
}

#[test]
fn signatures_older_or_newer_than_five_minutes_are_stale() {
    let payload = fixture("payment_intent.succeeded");
    let t = now();
    for (offset, expected) in
        [(-301, Err(WebhookError::Stale)), (301, Err(WebhookError::Stale)), (-3600, Err(WebhookError::Stale))]
    {
        assert_eq!(verify(payload, Some(&sign(payload, SECRET, t + offset)), SECRET).map(|_| ()), expected);
    }
    // Within the tolerance either way (a few seconds short of it, so a slow test cannot flake).
    for offset in [-290, 290] {
        assert!(verify(payload, Some(&sign(payload, SECRET, t + offset)), SECRET).is_ok(), "{offset}");
    }
}

#[test]
fn any_matching_v1_signature_is_enough_so_secrets_can_rotate() {
    let payload = fixture("payment_intent.succeeded");
    let t = now();
    let v1 = |secret: &str| sign(payload, secret, t).split_once(",v1=").map(|(_, v)| v.to_owned()).expect("v1");
    let both = format!("t={t},v1={},v1={}", v1("whsec_old"), v1("whsec_new"));
    assert!(verify(payload, Some(&both), "whsec_old").is_ok());
    assert!(verify(payload, Some(&both), "whsec_new").is_ok());
    assert_eq!(verify(payload, Some(&both), "whsec_other"), Err(WebhookError::BadSignature));
    // Stripe also sends a v0 (test-mode) signature and may add schemes: they are skipped.
    let with_v0 = format!("t={t},v1={},v0={}", v1("whsec_new"), v1("whsec_old"));
    assert!(verify(payload, Some(&with_v0), "whsec_new").is_ok());
}

/// What async-stripe-webhook's `construct_event` (the check `verify` replaced) makes of `header`,
/// in `verify`'s terms: its parse failure comes after both checks, so it counts as a pass.
fn librarys_verdict(payload: &str, header: &str, secret: &str) -> Result<(), WebhookError> {
    match Webhook::construct_event(payload, header, secret) {
        Ok(_) | Err(StripeError::BadParse(_)) => Ok(()),
        Err(StripeError::BadTimestamp(_)) => Err(WebhookError::Stale),
        Err(StripeError::BadSignature | StripeError::BadHeader(_) | StripeError::BadKey) => {
            Err(WebhookError::BadSignature)
        }
    }
}

/// One element of a `Stripe-Signature` header, for [`headers_are_judged_as_async_stripe_judges_them`].
#[derive(Debug, Clone)]
enum Element {
    /// `t=` now plus this many seconds, written as `{t}`, `+{t}` or `0{t}`.
    T(i32, u8),
    /// `v1=` the HMAC of `"{t}.{payload}"` at the header's last `t` (`None`) or at now plus this
    /// many seconds, under ours or another secret, in upper case, or with its last character changed.
    V1 { offset: Option<i32>, ours: bool, upper: bool, corrupt: bool },
    /// `v0=` signed like a good `v1`.
    V0(i32),
    /// Any `name=value`, or text that may hold no `=`.
    Raw(String),
}

fn render(element: &Element, payload: &str, now: i64, last_t: i64) -> String {
    let mac =
        |t: i64, secret: &str| sign(payload, secret, t).split_once(",v1=").map(|(_, v)| v.to_owned()).expect("v1");
    match element {
        Element::T(offset, form) => {
            let t = now + i64::from(*offset);
            match form % 3 {
                0 => format!("t={t}"),
                1 => format!("t=+{t}"),
                _ => format!("t=0{t}"),
            }
        }
        Element::V1 { offset, ours, upper, corrupt } => {
            let t = offset.map_or(last_t, |offset| now + i64::from(offset));
            let mut v1 = mac(t, if *ours { SECRET } else { "whsec_someone_else" });
            if *upper {
                v1 = v1.to_ascii_uppercase();
            }
            if *corrupt {
                let last = if v1.ends_with('0') { '1' } else { '0' };
                v1.pop();
                v1.push(last);
            }
            format!("v1={v1}")
        }
        Element::V0(offset) => format!("v0={}", mac(now + i64::from(*offset), SECRET)),
        Element::Raw(text) => text.clone(),
    }
}

/// Elements for [`headers_are_judged_as_async_stripe_judges_them`], a good `v1` among them often.
fn element() -> impl proptest::strategy::Strategy<Value = Element> {
    use proptest::prelude::*;
    prop_oneof![
        (-400i32..400, any::<u8>()).prop_map(|(offset, form)| Element::T(offset, form)),
        (proptest::option::of(-400i32..400), any::<bool>(), any::<bool>(), any::<bool>())
            .prop_map(|(offset, ours, upper, corrupt)| Element::V1 { offset, ours, upper, corrupt }),
        Just(Element::V1 { offset: None, ours: true, upper: false, corrupt: false }),
        (-400i32..400).prop_map(Element::V0),
        "[a-z0-9]{0,3}=[a-z0-9]{0,6}|[a-z0-9 ;]{0,8}|t=[a-z0-9]{0,4}".prop_map(Element::Raw),
    ]
}

proptest::proptest! {
    /// Differential: for headers built from the elements Stripe sends and some it does not, in
    /// any order, `verify` passes, refuses as a bad signature or as stale exactly where
    /// async-stripe-webhook's own check does (timestamps within what it can subtract).
    #[test]
    fn headers_are_judged_as_async_stripe_judges_them(elements in proptest::collection::vec(element(), 0..5)) {
        let payload = fixture("payment_intent.succeeded");
        let now = now();
        let last_t = elements.iter().rev().find_map(|e| match e {
            Element::T(offset, _) => Some(now + i64::from(*offset)),
            _ => None,
        });
        let last_t = last_t.unwrap_or(now);
        let header = elements.iter().map(|e| render(e, payload, now, last_t)).collect::<Vec<_>>().join(",");
        proptest::prop_assume!(!header.trim().is_empty());
        let ours = verify(payload, Some(&header), SECRET).map(|_| ());
        // The clock may tick between the two calls: compare again at the edge of the tolerance.
        let theirs = librarys_verdict(payload, &header, SECRET);
        if ours != theirs {
            let again = verify(payload, Some(&header), SECRET).map(|_| ());
            proptest::prop_assert_eq!(again, librarys_verdict(payload, &header, SECRET), "{}", header);
        }
    }
}

#[test]
fn an_unreadable_payload_is_only_malformed_once_authentic() {
    // Pins the order the module relies on: the parse failure comes after both checks.
    let payload = r#"{"hello": "world"}"#;
    assert!(matches!(signed(payload), Err(WebhookError::Malformed(_))));
    let wrong = sign(payload, "whsec_someone_else", now());
    assert_eq!(verify(payload, Some(&wrong), SECRET), Err(WebhookError::BadSignature));
    let old = sign(payload, SECRET, now() - 301);
    assert_eq!(verify(payload, Some(&old), SECRET), Err(WebhookError::Stale));
}

#[test]
fn an_event_we_act_on_without_its_fields_or_with_an_unknown_currency_is_malformed() {
    let mut event: serde_json::Value = serde_json::from_str(fixture("payment_intent.succeeded")).expect("json");
    event["data"]["object"]["currency"] = "xyz".into();
    let Err(WebhookError::Malformed(why)) = signed(&event.to_string()) else { panic!("accepted xyz") };
    assert!(why.contains("XYZ"), "{why}");

    event["data"]["object"]["currency"] = "eur".into();
    event["data"]["object"].as_object_mut().expect("object").remove("amount");
    let Err(WebhookError::Malformed(why)) = signed(&event.to_string()) else { panic!("accepted no amount") };
    assert!(why.contains("amount"), "{why}");

    let no_data = r#"{"id": "evt_1", "object": "event", "created": 1, "type": "charge.refunded"}"#;
    assert!(matches!(signed(no_data), Err(WebhookError::Malformed(_))));
    // An unknown type needs nothing but its name.
    let unknown = r#"{"id": "evt_2", "object": "event", "created": 1, "type": "payout.paid"}"#;
    assert_eq!(signed(unknown).map(|e| e.kind), Ok(EventKind::Ignored("payout.paid".into())));
}

#[test]
fn currencies_keep_their_exponent() {
    let mut event: serde_json::Value = serde_json::from_str(fixture("payment_intent.succeeded")).expect("json");
    event["data"]["object"]["currency"] = "jpy".into();
    let EventKind::PaymentSucceeded(intent) = signed(&event.to_string()).expect("verifies").kind else {
        panic!("kind")
    };
    assert_eq!(intent.amount, Money::new(5880, Currency::JPY));
}

/// What a PaymentIntent event built from the strategy below must be read as.
#[derive(Debug, Clone)]
struct IntentCase {
    kind: &'static str,
    intent_id: String,
    amount: i64,
    currency: Currency,
    status: &'static str,
    amount_received: Option<i64>,
    /// An order id, something else under the metadata key, or no key.
    metadata: Option<String>,
    failure_message: Option<String>,
    canceled_at: Option<i64>,
}

fn intent_cases() -> impl proptest::strategy::Strategy<Value = IntentCase> {
    use proptest::prelude::*;
    let kinds = prop::sample::select(INTENT_TYPES.to_vec());
    let statuses = prop::sample::select(vec!["succeeded", "requires_payment_method", "canceled", "processing"]);
    let metadata =
        prop_oneof![Just(None), Just(Some(OrderId::generate().to_string())), "[a-z_0-9]{0,30}".prop_map(Some),];
    (
        (
            kinds,
            "pi_[A-Za-z0-9]{1,24}",
            0i64..1_000_000_000_000,
            prop::sample::select(Currency::all().collect::<Vec<_>>()),
        ),
        (statuses, prop::option::of(0i64..1_000_000_000_000), metadata),
        (prop::option::of(".{0,40}"), prop::option::of(0i64..4_000_000_000)),
    )
        .prop_map(
            |(
                (kind, intent_id, amount, currency),
                (status, amount_received, metadata),
                (failure_message, canceled_at),
            )| {
                IntentCase {
                    kind,
                    intent_id,
                    amount,
                    currency,
                    status,
                    amount_received,
                    metadata,
                    failure_message,
                    canceled_at,
                }
            },
        )
}

/// Bodies that look like events, half of them not quite: `id` and `created` of any JSON
/// type, a known or made-up `type`, and `data.object` empty, absent or not an object. Random
/// text alone is almost never an event, so this is what reaches the accepting branch.
fn event_shaped() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let scalar = || {
        prop_oneof![
            "[a-z_0-9]{0,12}".prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
        ]
    };
    let kind = prop_oneof![
        prop::sample::select(INTENT_TYPES.into_iter().chain(CHARGE_TYPES).chain(["payout.paid"]).collect::<Vec<_>>())
            .prop_map(str::to_owned),
        "[a-z._]{1,24}",
    ];
    let data = prop_oneof![
        Just(Some(serde_json::json!({ "object": {} }))),
        Just(Some(serde_json::json!({ "object": [] }))),
        Just(None),
    ];
    (scalar(), scalar(), kind, data).prop_map(|(id, created, kind, data)| {
        let mut event = serde_json::json!({ "id": id, "object": "event", "created": created, "type": kind });
        if let Some(data) = data {
            event["data"] = data;
        }
        event.to_string()
    })
}

proptest::proptest! {
    /// Any body with any `Stripe-Signature` header: verified or refused, never a panic, and a
    /// body signed with another secret is never accepted. Signed with ours, a body is
    /// `Malformed`, or read as exactly the event its own JSON says: a string `id`, an integer
    /// `created`, and a type nanoshop ignores unless its object has what nanoshop reads.
    #[test]
    fn arbitrary_payloads_and_headers_never_panic_or_pass(
        payload in proptest::prop_oneof![".{0,400}", event_shaped()],
        header in ".{0,200}",
        t in 0i64..4_000_000_000,
    ) {
        proptest::prop_assert!(verify(&payload, Some(&header), SECRET).is_err());
        let forged = sign(&payload, "whsec_other", t);
        proptest::prop_assert_eq!(verify(&payload, Some(&forged), SECRET), Err(WebhookError::BadSignature));
        match signed(&payload) {
            Err(WebhookError::Malformed(_)) => {}
            Err(other) => proptest::prop_assert!(false, "correctly signed, refused as {other:?}"),
            Ok(event) => {
                let json: serde_json::Value = serde_json::from_str(&payload).expect("an accepted event is JSON");
                proptest::prop_assert_eq!(json["id"].as_str(), Some(event.id.as_str()));
                proptest::prop_assert_eq!(json["created"].as_i64(), Some(event.created));
                // None of these bodies carries what an event nanoshop acts on needs.
                let ignored = json["type"].as_str().map(|t| EventKind::Ignored(t.into()));
                proptest::prop_assert_eq!(Some(event.kind), ignored);
            }
        }
    }

    /// A PaymentIntent event with any ids, amounts, currency, status and optional fields is
    /// read field for field, with `amount_received` defaulted from the status when absent.
    #[test]
    fn intent_events_are_read_field_for_field(case in intent_cases(), created in 0i64..4_000_000_000) {
        let mut object = serde_json::json!({
            "id": case.intent_id,
            "object": "payment_intent",
            "amount": case.amount,
            "currency": case.currency.code().to_ascii_lowercase(),
            "status": case.status,
        });
        if let Some(received) = case.amount_received {
            object["amount_received"] = received.into();
        }
        if let Some(value) = &case.metadata {
            object["metadata"] = serde_json::json!({ crate::port::ORDER_ID_METADATA: value });
        }
        if let Some(message) = &case.failure_message {
            object["last_payment_error"] = serde_json::json!({ "message": message });
        }
        if let Some(at) = case.canceled_at {
            object["canceled_at"] = at.into();
        }
        let payload = serde_json::json!({
            "id": "evt_prop", "object": "event", "created": created, "type": case.kind,
            "data": { "object": object },
        })
        .to_string();

        let event = signed(&payload).expect("a well-formed intent event verifies");
        let expected = IntentEvent {
            intent_id: case.intent_id.clone(),
            order_id: case.metadata.as_deref().and_then(|m| m.parse().ok()),
            amount: Money::new(case.amount, case.currency),
            amount_received: case.amount_received.unwrap_or(if case.status == "succeeded" { case.amount } else { 0 }),
            failure_message: case.failure_message.clone(),
            canceled_at: case.canceled_at,
        };
        let kind = match case.kind {
            "payment_intent.succeeded" => EventKind::PaymentSucceeded(expected),
            "payment_intent.payment_failed" => EventKind::PaymentFailed(expected),
            "payment_intent.canceled" => EventKind::PaymentCanceled(expected),
            _ => EventKind::PaymentProcessing(expected),
        };
        proptest::prop_assert_eq!(event, WebhookEvent { id: "evt_prop".into(), created, kind });
    }
}
