#!/usr/bin/env python3
"""A throw-away nanoshop stack: deployed for a test, then deleted with everything it kept.

    throwaway-stack.py up STACK      # identity, Stripe secret, sam build + deploy, Stripe webhook
    throwaway-stack.py token STACK   # prints an admin's ID token (for the smoke test)
    throwaway-stack.py down STACK    # the stack, its retained data, and everything `up` made

CI's deploy job runs these through make (`make throwaway`, `make smoke`, `make destroy`), and a
merchant may run them to try a change before deploying it over a real store. `up` makes, all named
after STACK: a Cognito user pool with an app client (USER_PASSWORD_AUTH), an `admin` group and one
admin user (the functions find the pool's keys by OpenID discovery); the Secrets Manager secret
STACK/stripe from STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY (test keys only); then the stack
itself, tagged `nanoshop:throwaway`, and the Stripe webhook endpoint (scripts/connect-stripe.py).

`down` refuses a stack without that tag: it deletes the tables, the image bucket and the
order-token key that a real stack keeps on purpose (docs/deploy.md, "Teardown"). It deletes what
it finds and carries on past what is already gone, so it also cleans up after an `up` that failed
half-way.

Needs AWS credentials that may do all of this (CI: an OIDC role), the tools venv (boto3, SAM CLI)
and, for `up`, the aarch64 Rust target (make throwaway adds it).
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import urllib.request

import boto3
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TAG = "nanoshop:throwaway"
ADMIN = "smoke-admin@example.com"


def log(message):
    print(f"throwaway-stack: {message}", file=sys.stderr, flush=True)


def names(stack):
    return {"pool": stack, "jwks": f"/{stack}/auth/jwks", "stripe": f"{stack}/stripe"}


def find_pool(cognito, name):
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] == name:
                return pool["Id"]
    return None


def pool_client(cognito, pool_id):
    return cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=1)["UserPoolClients"][0]["ClientId"]


def up(session, stack):
    n, region = names(stack), session.region_name
    key, publishable = os.environ.get("STRIPE_SECRET_KEY", ""), os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
    if not (key.startswith(("sk_test_", "rk_test_")) and publishable.startswith("pk_test_")):
        sys.exit("throwaway-stack: STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY must be Stripe test keys")
    cognito = session.client("cognito-idp")
    pool_id = find_pool(cognito, n["pool"]) or cognito.create_user_pool(
        PoolName=n["pool"], UsernameAttributes=["email"], UserPoolTags={TAG: "true"}
    )["UserPool"]["Id"]
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=1)["UserPoolClients"]
    client_id = clients[0]["ClientId"] if clients else cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="smoke", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    try:
        cognito.create_group(UserPoolId=pool_id, GroupName="admin")
        cognito.admin_create_user(UserPoolId=pool_id, Username=ADMIN, MessageAction="SUPPRESS")
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=ADMIN, GroupName="admin")
    except cognito.exceptions.GroupExistsException:
        pass  # a second `up` of the same stack
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    log(f"identity: pool {pool_id}, client {client_id}")

    stripe = json.dumps({"secret_key": key, "publishable_key": publishable})
    secretsmanager = session.client("secretsmanager")
    try:
        secretsmanager.create_secret(Name=n["stripe"], SecretString=stripe, Tags=[{"Key": TAG, "Value": "true"}])
    except secretsmanager.exceptions.ResourceExistsException:
        pass  # keep what connect-stripe.py merged into it
    log(f"Stripe test keys in {n['stripe']}")

    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    infra = os.path.join(ROOT, "infra")
    # Each function's build step (infra/Makefile) runs `make lambdas ARCH=arm64`: the first builds
    # every function in one cargo-lambda call, the rest find it fresh and package their binary.
    subprocess.run(["sam", "build"], cwd=infra, env=env, check=True)
    overrides = {
        "AuthIssuer": issuer, "AuthAudience": client_id, "StripeSecretId": n["stripe"],
        "AllowedOrigins": "https://smoke-test.invalid",
    }
    subprocess.run([
        "sam", "deploy", "--stack-name", stack, "--region", region, "--no-confirm-changeset",
        "--no-fail-on-empty-changeset", "--resolve-s3", "--capabilities", "CAPABILITY_IAM",
        "--tags", f"{TAG}=true", "--parameter-overrides", *[f"{k}={v}" for k, v in overrides.items()],
    ], cwd=infra, env=env, check=True)
    subprocess.run([sys.executable, os.path.join(HERE, "connect-stripe.py"), "--stack", stack, "--region", region], check=True)
    log(f"{stack} is up")


def token(session, stack):
    """Sets a fresh random password for the admin and signs in with it: nothing to keep between steps."""
    cognito = session.client("cognito-idp")
    pool_id = find_pool(cognito, names(stack)["pool"])
    if not pool_id:
        sys.exit(f"throwaway-stack: no user pool {stack}: not a throw-away stack (set NANOSHOP_ADMIN_TOKEN instead)")
    password = secrets.token_urlsafe(24) + "aA1!"
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=ADMIN, Password=password, Permanent=True)
    answer = cognito.initiate_auth(
        ClientId=pool_client(cognito, pool_id), AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": ADMIN, "PASSWORD": password},
    )
    print(answer["AuthenticationResult"]["IdToken"])


def gone(error):
    code = error.response["Error"]["Code"]
    return code in ("ResourceNotFoundException", "NoSuchBucket", "ParameterNotFound", "ValidationError", "NotFound")


def down(session, stack):
    n = names(stack)
    cloudformation = session.client("cloudformation")
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as e:
        if not gone(e):
            raise
        described = None
        log(f"no stack {stack}: cleaning up what `up` may have left")
    outputs = {}
    if described:
        tags = {t["Key"]: t["Value"] for t in described.get("Tags", [])}
        if tags.get(TAG) != "true":
            sys.exit(f"throwaway-stack: {stack} is not tagged {TAG}: refusing to delete its data")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        disconnect_stripe(session, n["stripe"])
        cloudformation.delete_stack(StackName=stack)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig={"Delay": 15, "MaxAttempts": 120})
        log(f"stack {stack} deleted")
    dynamodb = session.client("dynamodb")
    for output in ("CatalogTableName", "CartsTableName", "OrdersTableName", "IdempotencyTableName"):
        if output in outputs:
            attempt(f"table {outputs[output]}", lambda t=outputs[output]: (
                dynamodb.update_table(TableName=t, DeletionProtectionEnabled=False),
                dynamodb.get_waiter("table_exists").wait(TableName=t),
                dynamodb.delete_table(TableName=t)))
    if "ImageBucketName" in outputs:
        attempt(f"bucket {outputs['ImageBucketName']}", lambda: empty_and_delete(session, outputs["ImageBucketName"]))
    secretsmanager = session.client("secretsmanager")
    for secret in filter(None, [outputs.get("OrderTokenSecretArn"), n["stripe"]]):
        attempt(f"secret {secret}", lambda s=secret: secretsmanager.delete_secret(SecretId=s, ForceDeleteWithoutRecovery=True))
    # Stacks made before the keys were discovered kept the pool's JWKS in this parameter.
    attempt(f"parameter {n['jwks']}", lambda: session.client("ssm").delete_parameter(Name=n["jwks"]))
    cognito = session.client("cognito-idp")
    pool_id = find_pool(cognito, n["pool"])
    if pool_id:
        attempt(f"user pool {pool_id}", lambda: cognito.delete_user_pool(UserPoolId=pool_id))
    log(f"{stack} and its data are gone")


def disconnect_stripe(session, secret_id):
    """Deletes the webhook endpoint connect-stripe.py registered for this stack, if any."""
    try:
        stored = json.loads(session.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
    except ClientError as e:
        if gone(e):
            return
        raise
    endpoint = stored.get("webhook_endpoint_id")
    if endpoint and stored.get("secret_key", "").startswith(("sk_test_", "rk_test_")):
        request = urllib.request.Request(
            f"https://api.stripe.com/v1/webhook_endpoints/{endpoint}", method="DELETE",
            headers={"authorization": f"Bearer {stored['secret_key']}"},
        )
        attempt(f"Stripe webhook endpoint {endpoint}", lambda: urllib.request.urlopen(request, timeout=30).close())


def empty_and_delete(session, bucket):
    objects = session.resource("s3").Bucket(bucket)
    objects.object_versions.delete()
    objects.objects.delete()
    objects.delete()


def attempt(what, action):
    """Deletes one thing; what is already gone is fine, anything else fails the run at the end."""
    global failures
    try:
        action()
        log(f"deleted {what}")
    except ClientError as e:
        if gone(e):
            log(f"{what}: already gone")
        else:
            log(f"{what}: {e}")
            failures += 1
    except Exception as e:  # noqa: BLE001 - a Stripe or waiter error: report, go on with the rest
        log(f"{what}: {e}")
        failures += 1


failures = 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "token", "down"])
    parser.add_argument("stack")
    parser.add_argument("--region", help="else AWS_REGION")
    args = parser.parse_args()
    session = boto3.Session(region_name=args.region or os.environ.get("AWS_REGION"))
    if not session.region_name:
        sys.exit("throwaway-stack: no region: set AWS_REGION or --region")
    {"up": up, "token": token, "down": down}[args.command](session, args.stack)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
