//! Every function binary started as the template deploys it ([`functions`]), on the tables,
//! secrets and bus the template defines, created locally ([`Deployed`]): each starts, answers
//! `/health`, and serves a request of its own, in order a purchase (catalog, cart, checkout,
//! payment, the order read back), under the Lambda runtime and again in a container. A variable
//! the template forgets stops the binary at start; one it gives that the binary never reads
//! fails the comparison with the binary's list.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::time::Duration;

use nanoshop_payments::PaymentGateway;
use nanoshop_payments::simulator::Simulator;
use serde_json::{Value, json};

use super::aws::LocalAws;
use super::functions::{Call, Mode, Running, reads};
use super::provision::Deployed;
use super::stack::{as_written, stacks};

/// The functions of the stack as written, started in `mode`, by binary name.
pub(crate) struct Started {
    pub(crate) deployed: Deployed<'static>,
    pub(crate) functions: BTreeMap<String, Running>,
}

impl Started {
    pub(crate) async fn start(aws: LocalAws, mode: Mode) -> Self {
        Self::start_with(aws, mode, BTreeMap::new()).await
    }

    /// [`Started::start`] with `parameters` set over the stack's own.
    pub(crate) async fn start_with(aws: LocalAws, mode: Mode, parameters: BTreeMap<String, Value>) -> Self {
        let deployed = Deployed::provision_with(as_written(), aws, parameters).await;
        let mut functions = BTreeMap::new();
        for id in deployed.functions() {
            let bin = deployed.binary_of(&id);
            // A container serves HTTP only: the sweep and the relay are Lambda's alone.
            let http = deployed.stack.resources.values().any(|r| {
                r["Type"] == "AWS::ApiGatewayV2::Integration"
                    && Deployed::function_named(&r["Properties"]["IntegrationUri"]).as_deref() == Some(id.as_str())
            });
            if mode == Mode::Lambda || http {
                functions.insert(bin, Running::start(&deployed, &id, mode).await);
            }
        }
        Self { deployed, functions }
    }

    pub(crate) fn function(&mut self, bin: &str) -> &mut Running {
        self.functions.get_mut(bin).unwrap_or_else(|| panic!("{bin} is not started"))
    }

    pub(crate) async fn call(&mut self, bin: &str, call: Call<'_>) -> super::functions::Reply {
        let function = self.functions.get_mut(bin).unwrap_or_else(|| panic!("{bin} is not started"));
        function.call(&self.deployed, call).await
    }

    /// A purchase through the functions: the admin sets up the store and a product with stock
    /// (catalog), a guest fills a cart (cart) and checks out (checkout, a PaymentIntent at
    /// localstripe), Stripe's signed `payment_intent.succeeded` arrives (payments-webhook), and
    /// the guest reads the paid order with its order token (orders); a customer saves a profile
    /// that the admin finds by e-mail (customers). Returns the order's id.
    pub(crate) async fn purchase(&mut self, key: &str) -> String {
        let admin = self.deployed.token("admin-1", &["admin"]);
        let stripe = self.deployed.stripe.clone();
        let settings = json!({
            "currencies": ["EUR"], "prices_include_tax": true,
            "tax_rates": [{"country": "DE", "rate": "0.19"}],
            "shipping_zones": [{"name": "EU", "countries": ["DE"], "methods": [
                {"id": "standard", "name": "Standard", "prices": [{"amount": 490, "currency": "EUR"}]}]}]
        });
        let reply = self.call("catalog", Call::new("PUT", "/settings").token(&admin).json(settings)).await;
        assert_eq!(reply.status, 200, "catalog PUT /settings: {}", reply.body);
        let sku = format!("SKU-{key}");
        let product = json!({"slug": format!("p-{}", key.to_lowercase()), "title": "Linen shirt", "status": "active",
                             "variants": [{"sku": sku, "prices": [{"amount": 1000, "currency": "EUR"}]}]});
        let reply = self.call("catalog", Call::new("POST", "/products").token(&admin).json(product)).await;
        assert_eq!(reply.status, 201, "catalog POST /products: {}", reply.body);
        let path = format!("/inventory/{sku}");
        let reply = self.call("catalog", Call::new("PUT", &path).token(&admin).json(json!({"on_hand": 5}))).await;
        assert_eq!(reply.status, 200, "catalog PUT {path}: {}", reply.body);

        let cart = json!({"currency": "EUR", "items": [{"sku": sku, "quantity": 2}]});
        let reply = self.call("cart", Call::new("POST", "/carts").json(cart)).await;
        assert_eq!(reply.status, 201, "cart POST /carts: {}", reply.body);
        let (cart_id, cart_token) =
            (reply.body["id"].as_str().unwrap().to_owned(), reply.body["token"].as_str().unwrap().to_owned());

        let body = json!({"cart_id": cart_id, "email": "ada@example.com", "shipping_method": "standard",
            "shipping_address": {"name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE"}});
        let call = Call::new("POST", "/checkout")
            .header("x-cart-token", &cart_token)
            .header("idempotency-key", key)
            .json(body);
        let reply = self.call("checkout", call).await;
        assert_eq!(reply.status, 201, "checkout POST /checkout: {}", reply.body);
        // The publishable key came from the Stripe secret in Secrets Manager, through STRIPE_SECRET_ID.
        assert_eq!(reply.body["payment"]["publishable_key"], stripe["publishable_key"], "{}", reply.body);
        let order = reply.body["order"]["id"].as_str().unwrap().to_owned();
        let order_token = reply.body["order_token"].as_str().unwrap().to_owned();
        let intent = reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned();
        let total = reply.body["order"]["totals"]["total"]["amount"].as_i64().unwrap();

        let event = succeeded_event(&order, &intent, total).await;
        let signature = nanoshop_payments::webhook::sign(
            &event,
            stripe["webhook_secret"].as_str().unwrap(),
            chrono::Utc::now().timestamp(),
        );
        let call = Call::new("POST", "/webhooks/stripe").header("stripe-signature", signature).raw(event);
        let reply = self.call("payments-webhook", call).await;
        assert_eq!(
            (reply.status, &reply.body["outcome"]),
            (200, &json!("applied")),
            "payments-webhook: {}",
            reply.body
        );

        let path = format!("/orders/{order}");
        let reply = self.call("orders", Call::new("GET", &path).header("x-order-token", order_token)).await;
        assert_eq!(reply.status, 200, "orders GET {path}: {}", reply.body);
        assert_eq!(reply.body["status"], "paid", "{}", reply.body);

        // A signed-in customer keeps a profile (customers, the carts table), and the admin finds
        // them by its e-mail (the carts table's index).
        let customer = self.deployed.token(&format!("cust-{}", key.to_lowercase()), &[]);
        let email = format!("{}@example.com", key.to_lowercase());
        let call = Call::new("PATCH", "/me").token(&customer).json(json!({"email": email.to_uppercase()}));
        let reply = self.call("customers", call).await;
        assert_eq!(reply.status, 200, "customers PATCH /me: {}", reply.body);
        let path = format!("/customers?email={email}");
        let reply = self.call("customers", Call::new("GET", &path).token(&admin)).await;
        assert_eq!(reply.status, 200, "customers GET {path}: {}", reply.body);
        assert_eq!(reply.body["items"][0]["email"], json!(email), "{}", reply.body);
        order
    }
}

/// Stripe's `payment_intent.succeeded` for `intent`, paying `amount` cents of order `order`.
async fn succeeded_event(order: &str, intent: &str, amount: i64) -> String {
    let simulator = Simulator::new(String::new());
    let request = nanoshop_payments::CreateIntent {
        order_id: order.parse().unwrap(),
        amount: nanoshop_domain::Money::new(amount, nanoshop_domain::Currency::EUR),
        email: "ada@example.com".into(),
    };
    let made = simulator.create_intent(&request).await.unwrap();
    let events = simulator.confirm(&made.id, "4242424242424242").unwrap();
    let mut event: Value = serde_json::from_str(&events[0].payload).unwrap();
    event["data"]["object"]["id"] = json!(intent);
    event.to_string()
}

/// In every deployment, each function is given exactly the variables its binary reads: one it
/// is not given stops it at start (the tests below see that); one it never reads is a setting
/// nobody can tell is dead, or a value handed to a process that has no use for it.
#[test]
fn every_function_is_given_exactly_the_variables_it_reads() {
    let mut wrong = BTreeSet::new();
    for stack in stacks() {
        for (id, function) in stack.resources_of("AWS::Lambda::Function") {
            let bin = crate::infra::binary_of(id);
            let given: BTreeSet<&str> = function["Properties"]["Environment"]["Variables"]
                .as_object()
                .into_iter()
                .flat_map(|v| v.keys().map(String::as_str))
                .collect();
            let read = reads(&bin);
            let read: BTreeSet<&str> = read.iter().map(String::as_str).collect();
            for missing in read.difference(&given) {
                wrong.insert(format!("{id} ({bin}) is not given {missing}, which it reads"));
            }
            for extra in given.difference(&read) {
                wrong.insert(format!("{id} ({bin}) is given {extra}, which it never reads"));
            }
        }
    }
    let wrong: Vec<String> = wrong.into_iter().collect();
    assert!(wrong.is_empty(), "the environments SAM gives the functions:\n{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_starts_under_the_lambda_runtime_as_deployed_and_serves_a_purchase() {
    let Some(aws) = LocalAws::from_env() else { return };
    let mut started = Started::start(aws, Mode::Lambda).await;
    for (bin, function) in &mut started.functions {
        if bin == "orders-expirer" || bin == "orders-events-relay" || bin == "notifications" {
            continue;
        }
        let health = function.health().await;
        assert_eq!(health.status, 200, "{bin} /health: {}\n{}", health.body, function.logs());
        assert_eq!(health.body["function"], json!(bin), "{}", health.body);
    }
    started.purchase("LAMBDA-1").await;
    // The sweep, as the schedule invokes it: nothing due, a run completed.
    let sweep = started
        .function("orders-expirer")
        .invoke(json!({"source": "aws.scheduler", "detail-type": "Scheduled Event"}))
        .await;
    assert!(sweep.is_ok(), "orders-expirer: {sweep:?}");
    let batch = started.function("orders-events-relay").invoke(json!({"Records": []})).await;
    assert_eq!(batch, Ok(json!({"batchItemFailures": []})), "orders-events-relay");
    // An order event as the rule delivers it; the stack's MailFrom is empty, so no mail is
    // configured and the event is acknowledged (sending is proven in functions/notifications).
    let event = json!({"source": "nanoshop.orders", "detail-type": "order.placed",
        "detail": {"id": "oevt_01JD0000000000000000000000", "type": "order.placed", "order_id": "ord_01JD0000000000000000000000"}});
    let mail = started.function("notifications").invoke(event).await;
    assert_eq!(mail, Ok(json!({"outcome": "MailNotConfigured"})), "notifications");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_http_function_starts_in_a_container_as_deployed_and_serves_a_purchase() {
    let Some(aws) = LocalAws::from_env() else { return };
    let mut started = Started::start(aws, Mode::Container).await;
    for (bin, function) in &mut started.functions {
        let health = function.health().await;
        assert_eq!((health.status, &health.body["function"]), (200, &json!(bin)), "{bin}: {}", health.body);
    }
    started.purchase("CONTAINER-1").await;

    // SIGTERM (how a container is stopped) while a request is half sent: the request is
    // answered, then the process exits cleanly.
    let cart = started.function("cart");
    let body = json!({"currency": "EUR"}).to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", cart.port())).unwrap();
    write!(
        stream,
        "POST /carts HTTP/1.1\r\nhost: api\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body.as_bytes()[..5]).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = std::process::Command::new("kill").arg("-TERM").arg(cart.pid().to_string()).status().unwrap();
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(cart.exited().is_none(), "cart exited with a request in flight:\n{}", cart.logs());
    stream.write_all(&body.as_bytes()[5..]).unwrap();
    let mut answer = String::new();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "the request in flight is answered: {answer:?}\n{}", cart.logs());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = cart.exited() {
            break exit;
        }
        assert!(std::time::Instant::now() < deadline, "cart still runs after SIGTERM:\n{}", cart.logs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "cart exits cleanly after SIGTERM: {exit:?}\n{}", cart.logs());
}
