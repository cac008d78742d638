//! The simulator's intents and charges as Stripe renders them in events: every field of the
//! object, so that async-stripe's typed parser accepts them too (the tests check).

use serde_json::{Value, json};

use super::SimIntent;
use crate::port::{IntentStatus, ORDER_ID_METADATA};

fn status_name(status: IntentStatus) -> &'static str {
    match status {
        IntentStatus::RequiresPaymentMethod => "requires_payment_method",
        IntentStatus::RequiresConfirmation => "requires_confirmation",
        IntentStatus::RequiresAction => "requires_action",
        IntentStatus::Processing => "processing",
        IntentStatus::Succeeded => "succeeded",
        IntentStatus::Canceled => "canceled",
        // The simulator never puts an intent in another state.
        IntentStatus::Other => "requires_capture",
    }
}

/// The PaymentIntent as Stripe renders it in an event: every field of the object, so that
/// async-stripe's typed parser accepts it too (the tests check).
pub(super) fn intent_object(intent: &SimIntent) -> Value {
    let succeeded = intent.status == IntentStatus::Succeeded;
    let last_payment_error = intent.decline.as_ref().map(|d| {
        json!({
            "charge": intent.charge.as_ref().map(|c| c.id.clone()),
            "code": "card_declined",
            "decline_code": d.code,
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": d.message,
            "type": "card_error",
        })
    });
    json!({
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount.amount,
        "amount_capturable": 0,
        "amount_details": { "tip": {} },
        "amount_received": if succeeded { intent.amount.amount } else { 0 },
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": { "allow_redirects": "never", "enabled": true },
        "canceled_at": intent.canceled_at,
        "cancellation_reason": null,
        "capture_method": "automatic_async",
        "client_secret": intent.client_secret,
        "confirmation_method": "automatic",
        "created": intent.created,
        "currency": intent.amount.currency.code().to_ascii_lowercase(),
        "customer": null,
        "description": null,
        "last_payment_error": last_payment_error,
        "latest_charge": intent.charge.as_ref().map(|c| c.id.clone()),
        "livemode": false,
        "metadata": { ORDER_ID_METADATA: intent.order_id.as_str() },
        "next_action": null,
        "on_behalf_of": null,
        // Stripe detaches a declined payment method from the intent.
        "payment_method": if intent.decline.is_some() { None } else { intent.payment_method.as_ref().map(|p| p.id.clone()) },
        "payment_method_options": { "card": { "installments": null, "mandate_options": null, "network": null, "request_three_d_secure": "automatic" } },
        "payment_method_types": ["card"],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "source": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": status_name(intent.status),
        "transfer_data": null,
        "transfer_group": null,
    })
}

/// The paid charge of `intent` with its refunds, as in a `charge.refunded` event.
pub(super) fn charge_object(intent: &SimIntent) -> Value {
    let Some(charge) = &intent.charge else { return Value::Null };
    let currency = intent.amount.currency.code().to_ascii_lowercase();
    let amount_refunded = charge.amount_refunded();
    let (pm_id, last4, brand) = intent
        .payment_method
        .as_ref()
        .map_or((None, "0000".to_owned(), "visa"), |p| (Some(p.id.clone()), p.last4.clone(), p.brand));
    let refunds: Vec<Value> = charge
        .refunds
        .iter()
        .rev()
        .map(|r| {
            json!({
                "id": r.id,
                "object": "refund",
                "amount": r.amount,
                "balance_transaction": null,
                "charge": charge.id,
                "created": r.created,
                "currency": currency,
                "metadata": {},
                "payment_intent": intent.id,
                "reason": null,
                "receipt_number": null,
                "source_transfer_reversal": null,
                "status": "succeeded",
                "transfer_reversal": null,
            })
        })
        .collect();
    let billing_details = json!({ "address": null, "email": null, "name": null, "phone": null, "tax_id": null });
    let outcome = json!({
        "network_status": "approved_by_network", "reason": null, "risk_level": "normal", "risk_score": 20,
        "seller_message": "Payment complete.", "type": "authorized",
    });
    let card = json!({
        "brand": brand, "country": "US", "exp_month": 12, "exp_year": 2034, "funding": "credit", "last4": last4,
        "network": brand,
    });
    let refund_list = json!({
        "object": "list", "data": refunds, "has_more": false, "total_count": charge.refunds.len(),
        "url": format!("/v1/charges/{}/refunds", charge.id),
    });
    let mut object = json!({
        "id": charge.id,
        "object": "charge",
        "amount": intent.amount.amount,
        "amount_captured": if charge.paid { intent.amount.amount } else { 0 },
        "amount_refunded": amount_refunded,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": null,
        "billing_details": billing_details,
        "calculated_statement_descriptor": "NANOSHOP",
        "captured": charge.paid,
        "created": charge.created,
        "currency": currency,
        "customer": null,
        "description": null,
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": null,
        "failure_message": null,
        "fraud_details": {},
        "livemode": false,
        "metadata": {},
        "on_behalf_of": null,
    });
    // Two literals: one would exceed serde_json's macro recursion limit.
    let rest = json!({
        "outcome": outcome,
        "paid": charge.paid,
        "payment_intent": intent.id,
        "payment_method": pm_id,
        "payment_method_details": { "card": card, "type": "card" },
        "receipt_email": null,
        "receipt_number": null,
        "receipt_url": null,
        "refunded": amount_refunded >= intent.amount.amount,
        "refunds": refund_list,
        "review": null,
        "shipping": null,
        "source": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": if charge.paid { "succeeded" } else { "failed" },
        "transfer_data": null,
        "transfer_group": null,
    });
    if let (Some(object), Value::Object(rest)) = (object.as_object_mut(), rest) {
        object.extend(rest);
    }
    object
}
