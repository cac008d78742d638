"""Schemathesis hooks for scripts/apitools.sh: which bearer token each operation gets.

The served document says who may call each operation. An operation that accepts a bearer JWT
gets the administrator's token when only an administrator may call it (OpenAPI 3.1 lets a
non-OAuth requirement name roles, as `{"bearer": ["admin"]}`; the `x-nanoshop-access` /
`x-nanoshop-who` extensions say the same), and the customer's token otherwise, so carts the run
creates are the customer's and its later cart calls are the owner's. Operations that take no
bearer (the Stripe webhook) get none. The tokens come from `nanoshop token` (see apitools.sh).
"""

import os

import schemathesis

ADMIN_TOKEN = os.environ["NANOSHOP_ADMIN_TOKEN"]
CUSTOMER_TOKEN = os.environ["NANOSHOP_CUSTOMER_TOKEN"]


def _requirements(operation):
    return operation.definition.raw.get("security") or []


def _takes_bearer(operation):
    return any("bearer" in requirement for requirement in _requirements(operation))


def _admin_only(operation):
    raw = operation.definition.raw
    roles = [requirement.get("bearer") for requirement in _requirements(operation) if "bearer" in requirement]
    if roles and all("admin" in (r or []) for r in roles):
        return True
    return raw.get("x-nanoshop-access") == "Admin" or raw.get("x-nanoshop-who") == "admin"


@schemathesis.auth(refresh_interval=None)
class NanoshopBearer:
    def get(self, case, context):
        return {"admin": ADMIN_TOKEN, "customer": CUSTOMER_TOKEN}

    def set(self, case, data, context):
        if not _takes_bearer(case.operation):
            return
        token = data["admin"] if _admin_only(case.operation) else data["customer"]
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schemathesis.hook
def map_case(context, case):
    """A cursor is opaque and signed: the only valid ones are those a listing handed out, so a
    generated one is a forgery the server must refuse (400 `invalid_cursor`) however well it fits
    the schema. Cases meant to be valid go without one; invalid ones keep theirs (and libFuzzer's
    `cursor` target covers the decoder)."""
    if case.meta is not None and case.meta.generation.mode == "positive" and case.query and "cursor" in case.query:
        case.query = {k: v for k, v in case.query.items() if k != "cursor"}
    return case
