#!/usr/bin/env python3
"""Connects a deployed stack to Stripe: registers its webhook endpoint and stores the signing secret.

`make deploy` runs this after `sam deploy`, with the venv's Python (it brings boto3):

    connect-stripe.py --stack STACK            # reads the stack's outputs
    connect-stripe.py --webhook-url URL --secret-id ID   # without CloudFormation (tests)

It reads the Stripe secret (JSON with `secret_key` and `publishable_key`, which the merchant
created). If it already holds a usable `webhook_secret`, there is nothing to do. Otherwise it
creates the endpoint with `POST /v1/webhook_endpoints` (the URL is the stack's `StripeWebhookUrl`
output; the events are exactly those the webhook handles, `HANDLED_EVENT_TYPES` in
shared/payments/src/webhook.rs), replacing an endpoint at the same URL whose secret is lost (Stripe
shows a secret only when it creates the endpoint), and merges the returned secret into the JSON
secret. The functions read it at run time: no second deploy.

Environment: the usual AWS variables (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL for a local
Secrets Manager); STRIPE_API_BASE for a local Stripe stand-in (https, or http to this machine;
a live key is only ever sent to Stripe itself). Never prints a secret.
"""

import argparse
import base64
import ipaddress
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

STRIPE_API = "https://api.stripe.com"
# The events the webhook acts on: HANDLED_EVENT_TYPES in shared/payments/src/webhook.rs (a test
# checks that the two lists agree).
EVENTS = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.processing",
    "charge.refunded",
    "charge.dispute.created",
]


def fail(message):
    print(f"connect-stripe: {message}", file=sys.stderr)
    sys.exit(1)


def say(message):
    print(f"connect-stripe: {message}", file=sys.stderr)


def usable_signing_secret(value):
    """The webhook's own rule, coarsely: `whsec_` and at least 24 generated characters."""
    rest = value[len("whsec_"):] if isinstance(value, str) and value.startswith("whsec_") else ""
    return len(rest) >= 24 and rest.replace("_", "").replace("-", "").replace("+", "").replace("/", "").replace("=", "").isalnum() \
        and not any(p in rest.lower() for p in ("replace", "example", "placeholder", "changeme", "secret"))


def check_base(base, key):
    """https anywhere, http only to this machine; a live key only to Stripe's own API."""
    url = urllib.parse.urlsplit(base)
    host = url.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if url.scheme != "https" and not (url.scheme == "http" and loopback):
        fail(f"STRIPE_API_BASE {base} must be https, or http to this machine")
    if key.startswith(("sk_live_", "rk_live_")) and base.rstrip("/") != STRIPE_API:
        fail(f"a live key is only ever sent to {STRIPE_API}, not {base}")


def stripe(base, key, method, path, form=None):
    data = urllib.parse.urlencode(form or [], doseq=True).encode() if form is not None else None
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{key}:".encode()).decode())
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        # Stripe's message may name the key's last digits: only the status is shown.
        fail(f"Stripe answered {e.code} to {method} {path}; check the secret key in the Stripe secret")
    except urllib.error.URLError as e:
        fail(f"Stripe cannot be reached at {base}: {e.reason}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="the stack's name (reads StripeWebhookUrl and StripeSecretId)")
    parser.add_argument("--webhook-url", help="the endpoint to register (instead of the stack's output)")
    parser.add_argument("--secret-id", help="the Stripe secret's name or ARN (instead of the stack's output)")
    parser.add_argument("--region", help="the stack's region (else AWS_REGION)")
    args = parser.parse_args()

    import boto3  # the venv's; imported late so --help works without it

    url, secret_id = args.webhook_url, args.secret_id
    if not (url and secret_id):
        if not args.stack:
            fail("give --stack, or --webhook-url and --secret-id")
        stacks = boto3.client("cloudformation", region_name=args.region).describe_stacks(StackName=args.stack)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        url = url or outputs.get("StripeWebhookUrl")
        secret_id = secret_id or outputs.get("StripeSecretId")
        if not (url and secret_id):
            say("the stack deploys no payments webhook; nothing to connect")
            return

    secrets = boto3.client("secretsmanager", region_name=args.region)
    try:
        current = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    except secrets.exceptions.ResourceNotFoundException:
        fail(f"the secret {secret_id} does not exist: create it with your Stripe keys (docs/deploy.md, step 2)")
    try:
        document = json.loads(current)
        assert isinstance(document, dict)
    except (ValueError, AssertionError):
        fail(f"the secret {secret_id} is not a JSON object (docs/deploy.md, step 2)")
    key = document.get("secret_key", "")
    if not key.startswith(("sk_", "rk_")) or "…" in key or "..." in key:
        fail(f"the secret {secret_id} has no Stripe secret key yet (docs/deploy.md, step 2)")
    if usable_signing_secret(document.get("webhook_secret", "")):
        say(f"the webhook is connected already ({url})")
        return

    base = os.environ.get("STRIPE_API_BASE") or STRIPE_API
    check_base(base, key)
    existing = stripe(base, key, "GET", "/v1/webhook_endpoints?limit=100").get("data", [])
    for endpoint in existing:
        if endpoint.get("url") == url:
            # Its secret cannot be read back: replace it with one whose secret we keep.
            say(f"replacing the endpoint {endpoint['id']} at {url}, whose signing secret is not stored")
            stripe(base, key, "DELETE", f"/v1/webhook_endpoints/{urllib.parse.quote(endpoint['id'])}")
    created = stripe(
        base,
        key,
        "POST",
        "/v1/webhook_endpoints",
        [("url", url), ("description", f"nanoshop {args.stack or secret_id}")]
        + [("enabled_events[]", event) for event in EVENTS],
    )
    signing_secret = created.get("secret", "")
    if not usable_signing_secret(signing_secret):
        fail(f"Stripe created the endpoint {created.get('id')} but returned no usable signing secret")
    document["webhook_secret"] = signing_secret
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(document))
    say(f"registered {url} at Stripe ({created.get('id')}) and stored its signing secret in {secret_id}")


if __name__ == "__main__":
    main()
