//! The simulator against the webhook's own verification and async-stripe's typed parser.

use nanoshop_domain::Currency;
use stripe_webhook::Webhook;

use super::*;
use crate::webhook::{EventKind, IntentEvent, verify};

const SECRET: &str = "whsec_local_test";

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR)
}

fn request(amount: Money) -> CreateIntent {
    CreateIntent { order_id: OrderId::generate(), amount, email: "a@b.example".into() }
}

/// Every event the simulator emits must pass our verification and async-stripe's typed
/// parser (which is what a real Stripe event passes).
fn check(event: &SignedEvent) -> EventKind {
    Webhook::construct_event(&event.payload, &event.signature, SECRET)
        .unwrap_or_else(|e| panic!("async-stripe refuses {}: {e}", event.payload));
    verify(&event.payload, Some(&event.signature), SECRET).expect("verifies").kind
}

fn single(events: SignedEvents) -> SignedEvent {
    assert_eq!(events.len(), 1, "one event expected");
    events.into_iter().next().expect("one event")
}

#[tokio::test]
async fn an_intent_looks_like_stripes_and_a_key_replays_it() {
    let sim = Simulator::new(SECRET.into());
    let req = request(eur(5880));
    let intent = sim.create_intent(&req).await.expect("created");
    assert!(intent.id.starts_with("pi_sim_"), "{}", intent.id);
    assert!(intent.client_secret.starts_with(&format!("{}_secret_", intent.id)));
    assert_eq!((intent.amount, intent.status), (eur(5880), IntentStatus::RequiresPaymentMethod));
    assert_eq!(sim.publishable_key(), "pk_local");

    assert_eq!(sim.create_intent(&req).await.expect("replayed"), intent);
    let other_amount = CreateIntent { amount: eur(1), ..req.clone() };
    assert!(matches!(sim.create_intent(&other_amount).await, Err(PaymentError::Refused(_))));
    assert!(matches!(sim.create_intent(&request(eur(0))).await, Err(PaymentError::Refused(_))));
    assert_ne!(sim.create_intent(&request(eur(5880))).await.expect("another order").id, intent.id);
}

#[tokio::test]
async fn a_paying_card_emits_payment_intent_succeeded_for_the_order() {
    let sim = Simulator::new(SECRET.into());
    let req = request(eur(5880));
    let intent = sim.create_intent(&req).await.expect("created");
    let event = single(sim.confirm(&intent.id, "4242 4242 4242 4242").expect("confirmed"));
    assert_eq!(
        check(&event),
        EventKind::PaymentSucceeded(IntentEvent {
            intent_id: intent.id.clone(),
            order_id: Some(req.order_id.clone()),
            amount: eur(5880),
            amount_received: 5880,
            failure_message: None,
            canceled_at: None,
        })
    );
    assert!(sim.take_pending_events().is_empty(), "confirm returns its events; it does not queue them");
    assert_eq!(
        sim.confirm(&intent.id, "4242424242424242"),
        Err(SimulatorError::NotConfirmable { intent_id: intent.id.clone(), status: IntentStatus::Succeeded })
    );
    assert_eq!(sim.create_intent(&req).await.expect("replayed").status, IntentStatus::Succeeded);
}

#[tokio::test]
async fn a_declined_card_emits_payment_failed_and_the_intent_can_be_confirmed_again() {
    let sim = Simulator::new(SECRET.into());
    let req = request(eur(2500));
    let intent = sim.create_intent(&req).await.expect("created");
    let failed = single(sim.confirm(&intent.id, "4000000000000002").expect("confirmed"));
    let EventKind::PaymentFailed(failure) = check(&failed) else { panic!("not a failure: {}", failed.payload) };
    assert_eq!(failure.failure_message.as_deref(), Some("Your card was declined."));
    assert_eq!((failure.order_id, failure.amount_received), (Some(req.order_id.clone()), 0));
    assert_eq!(sim.create_intent(&req).await.expect("replayed").status, IntentStatus::RequiresPaymentMethod);

    let paid = single(sim.confirm(&intent.id, "4242424242424242").expect("confirmed"));
    assert!(matches!(check(&paid), EventKind::PaymentSucceeded(_)));
    assert_ne!(failed.payload, paid.payload);
}

#[tokio::test]
async fn unknown_intents_and_cards_are_refused() {
    let sim = Simulator::new(SECRET.into());
    assert_eq!(
        sim.confirm("pi_sim_nope", "4242424242424242"),
        Err(SimulatorError::UnknownIntent("pi_sim_nope".into()))
    );
    let intent = sim.create_intent(&request(eur(100))).await.expect("created");
    assert_eq!(sim.confirm(&intent.id, "1234123412341234"), Err(SimulatorError::UnknownCard));
}

#[tokio::test]
async fn cancel_queues_payment_intent_canceled_once_and_refuses_paid_intents() {
    let sim = Simulator::new(SECRET.into());
    let intent = sim.create_intent(&request(eur(700))).await.expect("created");
    sim.cancel_intent(&intent.id).await.expect("canceled");
    sim.cancel_intent(&intent.id).await.expect("canceling again is fine");
    let event = single(sim.take_pending_events());
    let EventKind::PaymentCanceled(canceled) = check(&event) else { panic!("{}", event.payload) };
    assert_eq!(canceled.intent_id, intent.id);
    assert!(sim.take_pending_events().is_empty(), "handed out once");
    assert_eq!(
        sim.confirm(&intent.id, "4242424242424242"),
        Err(SimulatorError::NotConfirmable { intent_id: intent.id.clone(), status: IntentStatus::Canceled })
    );

    let paid = sim.create_intent(&request(eur(700))).await.expect("created");
    sim.confirm(&paid.id, "4242424242424242").expect("confirmed");
    assert!(matches!(sim.cancel_intent(&paid.id).await, Err(PaymentError::Refused(_))));
    assert!(matches!(sim.cancel_intent("pi_sim_nope").await, Err(PaymentError::Refused(_))));
    assert!(sim.take_pending_events().is_empty());
}

#[tokio::test]
async fn refunds_emit_charge_refunded_with_the_running_total_and_stop_at_what_was_paid() {
    let sim = Simulator::new(SECRET.into());
    let intent = sim.create_intent(&request(eur(5880))).await.expect("created");
    assert!(matches!(sim.refund(&intent.id, eur(100), "r0").await, Err(PaymentError::Refused(_))), "unpaid");
    sim.confirm(&intent.id, "4242424242424242").expect("confirmed");

    let first = sim.refund(&intent.id, eur(2000), "r1").await.expect("refunded");
    assert!(first.id.starts_with("re_sim_"));
    assert_eq!((first.amount, first.status.as_str()), (eur(2000), "succeeded"));
    assert_eq!(sim.refund(&intent.id, eur(2000), "r1").await.expect("replayed"), first);
    assert!(matches!(sim.refund(&intent.id, eur(1), "r1").await, Err(PaymentError::Refused(_))), "key reused");
    assert!(matches!(sim.refund(&intent.id, eur(3881), "r2").await, Err(PaymentError::Refused(_))), "over");
    let usd = Money::new(100, Currency::USD);
    assert!(matches!(sim.refund(&intent.id, usd, "r3").await, Err(PaymentError::Refused(_))), "currency");
    sim.refund(&intent.id, eur(3880), "r4").await.expect("the rest");
    assert!(matches!(sim.refund(&intent.id, eur(1), "r5").await, Err(PaymentError::Refused(_))), "all refunded");

    let events = sim.take_pending_events();
    let totals: Vec<_> = events
        .iter()
        .map(|e| match check(e) {
            EventKind::ChargeRefunded(c) => {
                assert_eq!((c.intent_id.as_deref(), c.amount), (Some(intent.id.as_str()), eur(5880)));
                c.amount_refunded
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(totals, [eur(2000), eur(5880)], "one event per refund, not per replay");
}

#[tokio::test]
async fn events_are_signed_with_the_configured_secret_only() {
    let sim = Simulator::new(SECRET.into());
    let intent = sim.create_intent(&request(eur(100))).await.expect("created");
    let event = single(sim.confirm(&intent.id, "4242424242424242").expect("confirmed"));
    assert!(verify(&event.payload, Some(&event.signature), "whsec_other").is_err());
}

#[test]
fn debug_shows_no_secret() {
    let sim = Simulator::new("whsec_do_not_print".into());
    assert!(!format!("{sim:?}").contains("whsec_do_not_print"));
}
