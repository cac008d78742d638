//! Timeouts: a function that calls Stripe outlasts its worst case, and an API function answers
//! before API Gateway gives up.

use std::time::Duration;

use nanoshop_payments::stripe::{KEY_REREAD_ALLOWANCE, WORST_CASE_REQUEST};

use super::template::Template;
use super::workspace::{crate_of, function_crates};
use super::{FUNCTIONS, Trigger, function_id};

/// The binaries that call Stripe. Checked against the crates: each links `nanoshop-payments`
/// and reads a `STRIPE_…` variable, and no other binary reads one.
pub(super) const CALLS_STRIPE: &[&str] = &["checkout", "payments-webhook", "orders", "orders-expirer"];

/// What a function that calls Stripe needs beyond the adapter's worst case: the store calls
/// around the call (checkout's reservation before it and the give-back after a failure, a
/// refund's two writes, a sweep's order write), each a DynamoDB round trip of milliseconds that the
/// SDK retries a few times when throttled, and the function's own work.
pub(super) const STORE_ALLOWANCE: Duration = Duration::from_secs(3);

/// API Gateway (HTTP API) stops waiting for a function after 30 s and answers a bare 503; a
/// function must have given its own answer (a 502 problem, its reservation given back) before.
pub(super) const API_GATEWAY_TIMEOUT: Duration = Duration::from_secs(29);

#[test]
fn functions_that_call_stripe_outlast_its_worst_case_and_api_functions_answer_before_api_gateway() {
    let template = Template::load();
    // The key re-read after a 401 is bounded by the Secrets Manager client's own timeout.
    assert!(KEY_REREAD_ALLOWANCE >= nanoshop_api::secrets::SECRETS_MANAGER_TIMEOUT);
    let needed = WORST_CASE_REQUEST + STORE_ALLOWANCE;
    for function in FUNCTIONS {
        let id = function_id(function.bin);
        let props = template.function_properties(&id);
        let timeout = Duration::from_secs(props["Timeout"].as_u64().unwrap_or_else(|| panic!("{id} Timeout")));
        if CALLS_STRIPE.contains(&function.bin) {
            assert!(
                timeout >= needed,
                "{id} Timeout {timeout:?} < Stripe's worst case for a request {WORST_CASE_REQUEST:?} + {STORE_ALLOWANCE:?} for the store: Lambda would end a request before it gives back what it took"
            );
        }
        if function.trigger == Trigger::Api {
            assert!(
                timeout <= API_GATEWAY_TIMEOUT,
                "{id} Timeout {timeout:?} > {API_GATEWAY_TIMEOUT:?}: API Gateway gives up first and the caller gets a bare 503"
            );
        }
    }

    // The sweep starts orders for RUN_BUDGET, then finishes the one in hand: its cancel (when
    // Stripe refuses it, the adapter retrieves the intent once to tell a canceled one from a
    // processing one: WORST_CASE_REQUEST) and its store writes.
    let id = function_id("orders-expirer");
    let timeout = Duration::from_secs(template.function_properties(&id)["Timeout"].as_u64().unwrap());
    let cancel = WORST_CASE_REQUEST;
    let needed = nanoshop_orders::expiry::RUN_BUDGET + cancel + STORE_ALLOWANCE;
    assert!(
        timeout >= needed,
        "{id} Timeout {timeout:?} < the sweep's RUN_BUDGET {:?} + one worst-case cancel {cancel:?} + {STORE_ALLOWANCE:?} for the store: Lambda would cut the last order short",
        nanoshop_orders::expiry::RUN_BUDGET
    );

    // CALLS_STRIPE is what the crates say: binaries of crates linking the adapter that read a key.
    let crates = function_crates();
    for function in FUNCTIONS {
        let links = crate_of(&crates, function.bin).links_payments;
        let reads_a_key = (function.variables)().iter().any(|v| v.starts_with("STRIPE_"));
        assert_eq!(
            CALLS_STRIPE.contains(&function.bin),
            links && reads_a_key,
            "{}: CALLS_STRIPE must list exactly the binaries that link nanoshop-payments and read a STRIPE_ variable",
            function.bin
        );
    }
}
