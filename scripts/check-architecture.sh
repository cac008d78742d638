#!/usr/bin/env bash
# The invariants of ARCHITECTURE.md that are absences, checked mechanically. Run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
problem() { echo "architecture: $*" >&2; fail=1; }

deps() { cargo tree --quiet --offline -p "$1" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u; }

# 1. nanoshop-domain does no I/O: no runtime, no network, no AWS, no web framework, no storage.
if bad=$(deps nanoshop-domain | grep -E '^(tokio|mio|hyper|axum|aws-|reqwest|redb|lambda_)'); then
  problem "nanoshop-domain depends on I/O crates: $(echo $bad)"
fi

# 2. Cart, catalog and customers never link Stripe (nor the payments crate); only checkout,
#    payments-webhook and orders may.
for crate in nanoshop-catalog nanoshop-cart nanoshop-customers; do
  if bad=$(deps "$crate" | grep -E '^(async-stripe|stripe|nanoshop-payments)'); then
    problem "$crate links Stripe: $(echo $bad)"
  fi
done

# 3. No function depends on another function's crate: they share the domain and table schemas.
for manifest in functions/*/Cargo.toml; do
  own=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)
  if others=$(grep -oE '^nanoshop-(catalog|cart|checkout|payments-webhook|orders|customers)[. ]' "$manifest" | tr -d '. ' | grep -vx "$own"); then
    problem "$own depends on another function: $(echo $others)"
  fi
done

# 4. Every member takes the workspace lints.
for manifest in Cargo.toml shared/*/Cargo.toml functions/*/Cargo.toml; do
  grep -q '^\[lints\]' "$manifest" && grep -A1 '^\[lints\]' "$manifest" | grep -q 'workspace = true' || problem "$manifest does not use the workspace lints"
done

# 5. No floats near money: the domain and every function keep amounts as integers and rates as decimals.
if hits=$(grep -rnE '\bf(32|64)\b' shared/domain/src functions/*/src); then
  problem "floating point in domain or function code: $hits"
fi

# 6. No DynamoDB expressions outside the DynamoDB adapter: not in the functions, the local server,
#    nor any other shared crate or store module. The adapter's folder must exist, so that a move
#    of it cannot leave this rule checking nothing.
adapter=shared/store/src/dynamo
[ -d "$adapter" ] || problem "the DynamoDB adapter is no longer at $adapter/: update rule 6"
if hits=$(grep -rnE 'attribute_not_exists|ConditionExpression|KeyConditionExpression' --include=*.rs functions src shared | grep -v "^$adapter/"); then
  problem "DynamoDB expressions outside $adapter/: $hits"
fi

[ $fail = 0 ] && echo "architecture: all invariants hold"
exit $fail
