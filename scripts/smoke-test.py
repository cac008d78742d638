#!/usr/bin/env python3
"""The smoke test: one real order through a running nanoshop, from product to event.

    smoke-test.py --stack STACK [--region REGION]   # a deployed stack (docs/deploy.md)
    smoke-test.py --serve PATH/TO/nanoshop          # a `nanoshop serve` it starts and stops itself

Steps, each printed as it passes:

1. every function is healthy: on a stack, each HTTP function answers `GET /health` through an API
   Gateway event (`aws lambda invoke`: through the API, `/health` reaches only catalog), the
   expiry sweep runs, and the event relay takes an empty batch; then `GET /health` through the API;
2. an admin creates an active product with one SKU and puts 5 units in stock;
3. a guest puts it in a cart and checks out (a shipping zone for it is added for the run when the
   store ships nowhere yet, and the settings are put back afterwards);
4. the guest pays with Stripe's test card: on a stack, the PaymentIntent is confirmed at Stripe
   with `pm_card_visa` and the stack's own test key; locally, through the payment simulator;
5. Stripe's webhook marks the order paid (polled through `GET /orders/{id}` with the order token);
6. `order.placed` and `order.paid` for that order arrive: on a stack, on an SQS queue the script
   subscribes to the stack's event bus for the run (an EventBridge rule; both removed afterwards);
   locally, in the server's events.jsonl.

The product is archived at the end, pass or fail; the paid test order stays (refund or keep it).

On a stack it needs AWS credentials allowed to describe the stack, invoke its functions, read its
Stripe secret, and create and delete an SQS queue and an EventBridge rule; and an admin's ID token
in NANOSHOP_ADMIN_TOKEN. It refuses a live Stripe key: the smoke test pays, and only test cards are
free. Run it with the tools venv's Python (boto3): `make smoke STACK=...`.
"""

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

STRIPE_API = "https://api.stripe.com"
# The stack's HTTP functions (logical ids in infra/template.yaml); each serves GET /health.
HTTP_FUNCTIONS = ["CatalogFunction", "CartFunction", "CheckoutFunction", "PaymentsWebhookFunction", "OrdersFunction"]
WAIT_SECONDS = 90  # for the webhook and the events: Stripe and EventBridge usually take a few


class SmokeFailure(Exception):
    pass


def step(message):
    print(f"smoke: {message}", flush=True)


def expect(condition, message):
    if not condition:
        raise SmokeFailure(message)


def http(method, url, body=None, headers=None, form=None):
    """One request; returns (status, parsed JSON or None). Never raises on an HTTP status."""
    data, all_headers = None, dict(headers or {})
    if body is not None:
        data, all_headers["content-type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        all_headers["content-type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


class Api:
    def __init__(self, base, admin_token):
        self.base, self.admin = base.rstrip("/"), {"authorization": f"Bearer {admin_token}"}

    def call(self, method, path, body=None, headers=None, want=(200,)):
        status, answer = http(method, self.base + path, body, headers)
        expect(status in want, f"{method} {path}: {status} {answer}")
        return answer


def wait_until(what, probe, seconds=WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{what}: nothing after {seconds} s")
        time.sleep(2)


# --- a `nanoshop serve` of our own -------------------------------------------------------------


class LocalServer:
    """`nanoshop serve` on a free 127.0.0.1 port with a fresh data dir and no demo catalog."""

    def __init__(self, binary):
        self.binary = binary

    def __enter__(self):
        self.data = tempfile.mkdtemp(prefix="nanoshop-smoke.")
        self.log = open(os.path.join(self.data, "serve.log"), "w+")
        # Always the built-in payment simulator: a Stripe key in the environment must not leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_") and not k.startswith("NANOSHOP_")}
        env["RUST_LOG"] = "warn,nanoshop::serving=info"
        self.process = subprocess.Popen(
            [self.binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", self.data, "--no-seed"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )

        def served_at():
            expect(self.process.poll() is None, f"nanoshop serve exited: {self.server_log()}")
            found = re.search(r"serving at (http://\S+)", self.server_log())
            return found and http("GET", found.group(1) + "/health")[0] == 200 and found.group(1)

        self.url = wait_until("nanoshop serve answering", served_at, 60)
        return self

    def server_log(self):
        self.log.seek(0)
        return self.log.read()

    def __exit__(self, *_):
        self.process.terminate()
        self.process.wait(30)
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


class LocalTarget:
    def __init__(self, server):
        self.server, self.api_url = server, server.url

    def check_health(self):
        status, answer = http("GET", f"{self.api_url}/health")
        expect(status == 200 and answer.get("status") == "ok", f"GET /health: {status} {answer}")
        step(f"nanoshop serve is healthy ({answer.get('function')} {answer.get('version')})")

    def admin_token(self):
        status, answer = http("POST", f"{self.api_url}/dev/token", {"sub": "smoke-admin", "admin": True})
        expect(status == 200, f"POST /dev/token: {status} {answer}")
        return answer["token"]

    def pay(self, intent_id):
        status, answer = http("POST", f"{self.api_url}/dev/payments/{intent_id}/confirm", {"card": "4242424242424242"})
        expect(status == 200 and answer.get("status") == "succeeded", f"the simulator's payment: {status} {answer}")

    @contextlib.contextmanager
    def events(self):
        path = os.path.join(self.server.data, "events.jsonl")

        def received():
            if not os.path.exists(path):
                return []
            with open(path) as f:
                return [json.loads(line) for line in f if line.strip()]

        yield received


# --- a deployed stack --------------------------------------------------------------------------


class StackTarget:
    def __init__(self, stack, region):
        import boto3  # the tools venv has it; the local mode needs nothing beyond the standard library

        self.session = boto3.Session(region_name=region or os.environ.get("AWS_REGION"))
        self.stack = stack
        cloudformation = self.session.client("cloudformation")
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        self.api_url = self.outputs["ApiUrl"]
        resources = cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
        self.functions = {
            r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::Lambda::Function"
        }

    def invoke(self, logical_id, event):
        answer = self.session.client("lambda").invoke(FunctionName=self.functions[logical_id], Payload=json.dumps(event))
        payload = json.loads(answer["Payload"].read() or b"null")
        expect("FunctionError" not in answer, f"{logical_id} failed: {payload}")
        return payload

    def check_health(self):
        for logical_id in HTTP_FUNCTIONS:
            if logical_id not in self.functions:
                step(f"{logical_id} is not in this stack (swapped out): not checked")
                continue
            response = self.invoke(logical_id, health_event())
            body = json.loads(response.get("body") or "{}")
            expect(response.get("statusCode") == 200 and body.get("status") == "ok", f"{logical_id} /health: {response}")
            step(f"{logical_id} is healthy ({body.get('function')} {body.get('version')})")
        if "OrdersExpirerFunction" in self.functions:
            swept = self.invoke("OrdersExpirerFunction", {})
            step(f"the expiry sweep runs ({swept})")
        if "OrdersEventsRelayFunction" in self.functions:
            relayed = self.invoke("OrdersEventsRelayFunction", {"Records": []})
            expect(relayed.get("batchItemFailures") == [], f"the event relay on an empty batch: {relayed}")
            step("the event relay takes a batch")
        status, answer = http("GET", f"{self.api_url}/health")
        expect(status == 200 and answer.get("status") == "ok", f"GET {self.api_url}/health: {status} {answer}")
        step("the API answers GET /health")

    def admin_token(self):
        token = os.environ.get("NANOSHOP_ADMIN_TOKEN")
        expect(bool(token), "NANOSHOP_ADMIN_TOKEN is not set: an admin's ID token from your identity provider")
        return token

    def pay(self, intent_id):
        secret_id = self.outputs["StripeSecretId"]
        stored = json.loads(self.session.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
        key = stored.get("secret_key", "")
        expect(key.startswith(("sk_test_", "rk_test_")), f"{secret_id} holds no test key: the smoke test pays only in test mode")
        # What Stripe.js does in the shopper's browser, with Stripe's test card. A return URL is
        # required when the intent offers redirecting methods; the card needs none.
        status, answer = http(
            "POST", f"{STRIPE_API}/v1/payment_intents/{intent_id}/confirm",
            form={"payment_method": "pm_card_visa", "return_url": "https://example.com/smoke-test"},
            headers={"authorization": f"Bearer {key}"},
        )
        expect(status == 200 and answer.get("status") == "succeeded", f"Stripe's confirm: {status} {answer}")

    @contextlib.contextmanager
    def events(self):
        """An SQS queue subscribed to the stack's bus for the run; removed whatever happens."""
        sqs, events = self.session.client("sqs"), self.session.client("events")
        name, bus = f"{self.stack}-smoke-{secrets.token_hex(4)}", self.outputs["EventBusName"]
        queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        try:
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            rule_arn = events.put_rule(
                Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["nanoshop.orders"]})
            )["RuleArn"]
            try:
                policy = {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                    "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]}
                sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
                events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "smoke", "Arn": queue_arn}])
                seen = []

                def received():
                    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=5)
                    for message in messages.get("Messages", []):
                        seen.append(json.loads(message["Body"])["detail"])
                    return list(seen)

                yield received
            finally:
                events.remove_targets(Rule=name, EventBusName=bus, Ids=["smoke"])
                events.delete_rule(Name=name, EventBusName=bus)
        finally:
            sqs.delete_queue(QueueUrl=queue_url)


def health_event():
    """`GET /health` as API Gateway (HTTP API, payload 2.0) hands it to a function."""
    return {
        "version": "2.0", "routeKey": "GET /health", "rawPath": "/health", "rawQueryString": "",
        "headers": {"host": "smoke.invalid", "accept": "application/json"}, "isBase64Encoded": False,
        "requestContext": {
            "accountId": "smoke", "apiId": "smoke", "domainName": "smoke.invalid", "domainPrefix": "smoke",
            "requestId": f"smoke-{secrets.token_hex(8)}", "routeKey": "GET /health", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()), "timeEpoch": int(time.time() * 1000),
            "http": {"method": "GET", "path": "/health", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "smoke-test"},
        },
    }


# --- the order ---------------------------------------------------------------------------------


@contextlib.contextmanager
def a_shipping_zone(api):
    """A country the store ships to, a method and a currency priced there; a temporary zone when
    the store ships nowhere yet (a fresh stack), with the settings put back afterwards."""
    settings = api.call("GET", "/settings", headers=api.admin)
    for zone in settings["shipping_zones"]:
        for method in zone["methods"]:
            for price in method["prices"]:
                if price["currency"] in settings["currencies"]:
                    yield zone["countries"][0], method["id"], price["currency"]
                    return
    original = {k: settings[k] for k in ("currencies", "prices_include_tax", "tax_rates", "shipping_zones")}
    currency = settings["currencies"][0]
    zone = {"name": "Smoke test", "countries": ["DE"],
            "methods": [{"id": "smoke-test", "name": "Smoke test", "prices": [{"amount": 100, "currency": currency}]}]}
    api.call("PUT", "/settings", {**original, "shipping_zones": [zone]}, headers=api.admin)
    step(f"the store ships nowhere yet: a temporary zone (DE, {currency}) for the run")
    try:
        yield "DE", "smoke-test", currency
    finally:
        api.call("PUT", "/settings", original, headers=api.admin)
        step("settings put back")


def smoke(target):
    target.check_health()
    api = Api(target.api_url, target.admin_token())
    run = f"smoke-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(2)}"
    sku = run.upper()
    with target.events() as received, a_shipping_zone(api) as (country, method, currency):
        product = api.call("POST", "/products", {
            "slug": run, "title": "Smoke test", "status": "active",
            "variants": [{"sku": sku, "prices": [{"amount": 500, "currency": currency}]}],
        }, headers=api.admin, want=(201,))
        try:
            api.call("PUT", f"/inventory/{sku}", {"on_hand": 5}, headers=api.admin)
            step(f"admin created product {product['id']} ({sku}, 5 in stock)")
            cart = api.call("POST", "/carts", {"currency": currency, "items": [{"sku": sku, "quantity": 1}]}, want=(201,))
            address = {"name": "Smoke Test", "line1": "Teststrasse 1", "city": "Berlin", "postal_code": "10117", "country": country}
            checkout = api.call("POST", "/checkout", {
                "cart_id": cart["id"], "email": "smoke-test@example.com", "shipping_address": address, "shipping_method": method,
            }, headers={"x-cart-token": cart["token"], "idempotency-key": run}, want=(201,))
            order, intent = checkout["order"], checkout["payment"]["payment_intent_id"]
            step(f"guest checked out: order {order['number']} ({order['id']}), {order['totals']['total']}")
            target.pay(intent)
            step(f"paid {intent} with the test card")
            order_headers = {"x-order-token": checkout["order_token"]}

            def paid():
                status, read = http("GET", f"{api.base}/orders/{order['id']}", headers=order_headers)
                return status == 200 and read["status"] == "paid" and read

            paid_order = wait_until("the webhook marking the order paid", paid)
            step(f"the webhook marked it paid (payment {paid_order['payment_status']}, stock {paid_order['stock']})")

            def both_events():
                types = [e["type"] for e in received() if e.get("order_id") == order["id"]]
                return "order.placed" in types and "order.paid" in types and types

            step(f"events arrived for the order: {', '.join(wait_until('order.placed and order.paid', both_events))}")
        finally:
            api.call("DELETE", f"/products/{product['id']}", headers=api.admin, want=(200, 204))
            step(f"product {product['id']} archived")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="a deployed stack's name")
    where.add_argument("--serve", metavar="BINARY", help="the nanoshop binary to start with `serve`")
    parser.add_argument("--region", help="the stack's region (else AWS_REGION)")
    args = parser.parse_args()
    started = time.monotonic()
    try:
        if args.serve:
            with LocalServer(args.serve) as server:
                smoke(LocalTarget(server))
        else:
            smoke(StackTarget(args.stack, args.region))
    except SmokeFailure as failure:
        print(f"smoke: FAILED: {failure}", file=sys.stderr)
        return 1
    step(f"passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
