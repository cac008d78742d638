#!/usr/bin/env python3
"""Connects a deployed stack to Stripe: registers its webhook endpoint and stores the signing secret.

`make deploy` runs this after `sam deploy`, with the venv's Python (it brings boto3):

    connect-stripe.py --stack STACK            # reads the stack's outputs
    connect-stripe.py --webhook-url URL --secret-id ID   # without CloudFormation (tests)
    connect-stripe.py --check-secret           # JSON array of strings on stdin -> verdicts (tests)

It reads the Stripe secret (JSON with `secret_key` and `publishable_key`, which the merchant
created) and makes sure Stripe delivers to this stack, in the key's mode, with a signing secret
the secret holds. Next to `webhook_secret` it keeps what it registered: `webhook_endpoint_id`,
`webhook_url` and `webhook_livemode`. On every run it asks Stripe for that endpoint
(`GET /v1/webhook_endpoints/{id}`) and registers a new one (`POST /v1/webhook_endpoints`) when
there is none yet, the endpoint is gone, it is at another URL (the stack was re-created, or
another stack shares this secret), it is in the other mode (test keys swapped for live ones), it
is pinned to another API version, or the stored signing secret is not usable (Stripe shows a
secret only when it creates the endpoint). The new endpoint is at the stack's `StripeWebhookUrl`,
for exactly the events the webhook handles (`HANDLED_EVENT_TYPES` in
shared/payments/src/webhook/mod.rs), pinned to the API version nanoshop reads (`STRIPE_API_VERSION`
there); its id, URL, mode and secret are merged into the JSON secret, and the functions read it
at run time: no second deploy. Only then are endpoints it made earlier at the same URL and in the
same mode deleted; an endpoint at another URL is left (it may be another stack's) and named.
An endpoint that is right but subscribed to other events is updated in place.

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
# The events the webhook acts on: HANDLED_EVENT_TYPES in shared/payments/src/webhook/mod.rs (a test
# checks that the two lists agree).
EVENTS = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.processing",
    "charge.refunded",
    "charge.dispute.created",
]
# The API version events are rendered in: STRIPE_API_VERSION in shared/payments/src/webhook/mod.rs,
# the one async-stripe is generated for (a test checks the script sends it).
API_VERSION = "2026-09-30.endive"
# Metadata that marks an endpoint as registered by this script for one secret.
OWNER_METADATA = "nanoshop_secret_id"


def fail(message):
    print(f"connect-stripe: {message}", file=sys.stderr)
    sys.exit(1)


def say(message):
    print(f"connect-stripe: {message}", file=sys.stderr)


# `check_signing_secret` in shared/payments/src/webhook/secret.rs, rule for rule (a test feeds the
# same table to both): the webhook refuses what this refuses, so the deploy never stores a secret
# the webhook would answer 503 with, nor keeps one it refuses.
MIN_SECRET_CHARS = 24  # MIN_SECRET_CHARS there
PLACEHOLDER_WORDS = ("replace", "example", "placeholder", "changeme", "secret")
SECRET_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")
# What Rust's `str::trim` removes (Unicode White_Space); Python's `str.strip()` also removes \x1c-\x1f.
WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def signing_secret_problem(value):
    """None for a usable signing secret; else why not, as `UnusableSecret` says it (snake case)."""
    secret = value.strip(WHITESPACE) if isinstance(value, str) else ""
    if not secret:
        return "missing"
    if not secret.startswith("whsec_"):
        return "not_a_signing_secret"
    rest = secret[len("whsec_"):].encode("utf-8")
    if (
        len(rest) < MIN_SECRET_CHARS
        or not all(b in SECRET_CHARS for b in rest)
        or any(word.encode() in rest.lower() for word in PLACEHOLDER_WORDS)
    ):
        return "placeholder"
    distinct = len(set(rest))
    ascending = sum(1 for a, b in zip(rest, rest[1:]) if b == (a + 1) % 256)
    repeats = any(all(a == b for a, b in zip(rest, rest[p:])) for p in range(1, len(rest) // 2 + 1))
    if distinct < 8 or ascending * 2 > len(rest) or repeats:
        return "low_entropy"
    return None


def usable_signing_secret(value):
    return signing_secret_problem(value) is None


def live_key(key):
    return key.startswith(("sk_live_", "rk_live_"))


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


def stripe(base, key, method, path, form=None, missing_ok=False):
    """Stripe's JSON answer; None for a 404 when `missing_ok`."""
    data = urllib.parse.urlencode(form or [], doseq=True).encode() if form is not None else None
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{key}:".encode()).decode())
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        if e.code == 404 and missing_ok:
            return None
        # Stripe's message may name the key's last digits: only the status is shown.
        fail(f"Stripe answered {e.code} to {method} {path}; check the secret key in the Stripe secret")
    except urllib.error.URLError as e:
        fail(f"Stripe cannot be reached at {base}: {e.reason}")


def endpoint_path(endpoint_id):
    return f"/v1/webhook_endpoints/{urllib.parse.quote(endpoint_id, safe='')}"


def all_endpoints(base, key):
    """Every webhook endpoint of the key's account, in the key's mode (Stripe lists only those)."""
    endpoints, after = [], None
    while True:
        query = "?limit=100" + (f"&starting_after={urllib.parse.quote(after, safe='')}" if after else "")
        page = stripe(base, key, "GET", "/v1/webhook_endpoints" + query)
        endpoints += page.get("data", [])
        if not page.get("has_more") or not page.get("data"):
            return endpoints
        after = page["data"][-1]["id"]


def why_register(document, stored_id, endpoint, url, livemode):
    """Why the stored endpoint does not do (a reason to register a new one), or None."""
    mode = "live" if livemode else "test"
    if not stored_id:
        return "no endpoint is stored yet"
    if endpoint is None and document.get("webhook_livemode") not in (None, livemode):
        # Stripe does not show a key one mode's endpoints through the other's key.
        return f"the stored endpoint {stored_id} is not in {mode} mode, the secret key's"
    if endpoint is None:
        return f"the endpoint {stored_id} is gone at Stripe"
    if endpoint.get("url") != url:
        return f"the endpoint {endpoint.get('id')} is at {endpoint.get('url')}, not at this stack's {url}"
    if bool(endpoint.get("livemode")) != livemode:
        return f"the endpoint {endpoint.get('id')} is not in {mode} mode, the secret key's"
    if endpoint.get("api_version") != API_VERSION:
        return f"the endpoint {endpoint.get('id')} renders events in API version {endpoint.get('api_version')}, not {API_VERSION}"
    problem = signing_secret_problem(document.get("webhook_secret"))
    if problem:
        return f"the stored signing secret is not usable ({problem.replace('_', ' ')})"
    return None


def ours(endpoint, secret_id, stored_id):
    """Registered by this script for this secret (or by its first version, which left no metadata)."""
    return (
        endpoint.get("id") == stored_id
        or (endpoint.get("metadata") or {}).get(OWNER_METADATA) == secret_id
        or (not endpoint.get("metadata") and (endpoint.get("description") or "").startswith("nanoshop "))
    )


def check_secrets():
    """`--check-secret`: a JSON array of strings on stdin, their verdicts on stdout ("ok" or why not)."""
    values = json.load(sys.stdin)
    print(json.dumps([signing_secret_problem(v) or "ok" for v in values]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="the stack's name (reads StripeWebhookUrl and StripeSecretId)")
    parser.add_argument("--webhook-url", help="the endpoint to register (instead of the stack's output)")
    parser.add_argument("--secret-id", help="the Stripe secret's name or ARN (instead of the stack's output)")
    parser.add_argument("--region", help="the stack's region (else AWS_REGION)")
    parser.add_argument("--check-secret", action="store_true", help="judge signing secrets read from stdin")
    args = parser.parse_args()
    if args.check_secret:
        return check_secrets()

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
    if not isinstance(key, str) or not key.startswith(("sk_", "rk_")) or "…" in key or "..." in key:
        fail(f"the secret {secret_id} has no Stripe secret key yet (docs/deploy.md, step 2)")
    livemode = live_key(key)

    base = os.environ.get("STRIPE_API_BASE") or STRIPE_API
    check_base(base, key)
    stored_id = document.get("webhook_endpoint_id")
    stored_id = stored_id if isinstance(stored_id, str) and stored_id else None
    endpoint = stripe(base, key, "GET", endpoint_path(stored_id), missing_ok=True) if stored_id else None
    reason = why_register(document, stored_id, endpoint, url, livemode)

    if reason is None:
        events = endpoint.get("enabled_events") or []
        if sorted(events) != sorted(EVENTS):
            say(f"the endpoint {stored_id} is subscribed to other events than the webhook handles: updating it")
            stripe(base, key, "POST", endpoint_path(stored_id), [("enabled_events[]", event) for event in EVENTS])
        if endpoint.get("status") == "disabled":
            say(f"the endpoint {stored_id} is disabled at Stripe: enable it in the Dashboard (Developers, Webhooks)")
        say(f"the webhook is connected already ({url}, {stored_id})")
        return

    say(f"registering {url} at Stripe: {reason}")
    created = stripe(
        base,
        key,
        "POST",
        "/v1/webhook_endpoints",
        [
            ("url", url),
            ("api_version", API_VERSION),
            ("description", f"nanoshop {args.stack or secret_id}"),
            (f"metadata[{OWNER_METADATA}]", secret_id),
        ]
        + [("enabled_events[]", event) for event in EVENTS],
    )
    signing_secret = created.get("secret", "")
    if not usable_signing_secret(signing_secret):
        fail(f"Stripe created the endpoint {created.get('id')} but returned no usable signing secret")
    if bool(created.get("livemode")) != livemode:
        fail(f"Stripe created the endpoint {created.get('id')} in the other mode than the key's")
    document.update(
        webhook_secret=signing_secret,
        webhook_endpoint_id=created["id"],
        webhook_url=url,
        webhook_livemode=livemode,
    )
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(document))
    say(f"registered {url} at Stripe ({created['id']}, {'live' if livemode else 'test'} mode) and stored its signing secret in {secret_id}")

    # The new one is stored: what it replaces can go, if it is ours, at this URL and in this mode
    # (an endpoint at another URL may be another stack's that shares this secret).
    for old in all_endpoints(base, key):
        if old.get("id") == created["id"] or bool(old.get("livemode")) != livemode:
            continue
        if old.get("url") == url and ours(old, secret_id, stored_id):
            say(f"deleting the endpoint {old['id']} at {url}, replaced by {created['id']}")
            stripe(base, key, "DELETE", endpoint_path(old["id"]), missing_ok=True)
        elif old.get("url") == url:
            say(
                f"the endpoint {old['id']} at {url} was not made by this script: Stripe sends it events "
                "signed with a secret the webhook does not have, which it refuses (400); delete it in the "
                "Dashboard (Developers, Webhooks) if it is not yours"
            )
    if endpoint is not None and endpoint.get("url") != url:
        say(
            f"the endpoint {endpoint.get('id')} at {endpoint.get('url')} is left at Stripe: if that stack is "
            "gone, delete it in the Dashboard (Developers, Webhooks); if another stack still uses it, give "
            "each stack its own StripeSecretId (docs/deploy.md), since they cannot share one signing secret"
        )


if __name__ == "__main__":
    main()
