#!/usr/bin/env bash
# `make test`: every test, against the real components.
#
# 1. installs DynamoDB Local, moto and SeaweedFS if missing (scripts/services.sh install),
#    Chromium and playwright-core for the storefront's browser tests (scripts/browser.sh install),
#    and the API contract's tools: Schemathesis, Redocly CLI, openapi-typescript, TypeScript
#    (scripts/apitools.sh install);
# 2. builds every test binary while the package registries are reachable;
# 3. inside a fresh loopback-only network namespace (DynamoDB Local cannot bind to 127.0.0.1
#    alone, and nothing here should be reachable from outside), starts the services, runs the
#    tests offline, and stops the services whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh install
scripts/browser.sh install
scripts/apitools.sh install
scripts/fuzz.sh install
cargo test --workspace --no-run --quiet
cargo build --workspace --bins --quiet   # the server the browser tests start; the Lambda test runs a function binary
scripts/fuzz.sh build
scripts/check-architecture.sh
# infra/template.yaml, offline: cfn-lint, then SAM's own lint. `sam validate` prints cfn-lint's INFO
# log (the whole transformed template) on stderr, so that is shown only when it fails.
TOOLS=${NANOSHOP_CACHE:-$HOME/.cache/nanoshop}/venv/bin
"$TOOLS/cfn-lint" infra/template.yaml
sam_log=$(mktemp) && (cd infra && SAM_CLI_TELEMETRY=0 "$TOOLS/sam" validate --lint --region eu-west-1 2>"$sam_log") || { cat "$sam_log" >&2; exit 1; }
rm -f "$sam_log"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

if [ "${NANOSHOP_IN_NETNS:-}" != 1 ]; then
  exec unshare --net env NANOSHOP_IN_NETNS=1 "$0" "$@"
fi

ip link set lo up
export NANOSHOP_SERVICES_RUN="${NANOSHOP_SERVICES_RUN:-$(mktemp -d /tmp/nanoshop-services.XXXXXX)}"
trap 'scripts/services.sh stop' EXIT
scripts/services.sh start

export NANOSHOP_DYNAMODB_LOCAL=http://127.0.0.1:8000
export NANOSHOP_MOTO=http://127.0.0.1:5000
export NANOSHOP_SEAWEEDFS=http://127.0.0.1:8333
export NANOSHOP_LOCALSTRIPE=http://127.0.0.1:8420
cargo test --workspace --offline "$@"
scripts/fuzz.sh run
# The storefront, the merchant console and /docs in headless Chromium against `nanoshop serve`
# (loopback only): scripts/browser.sh.
scripts/browser.sh test
# The served /openapi.json against tools nobody here wrote: Redocly's lint, openapi-typescript and
# tsc over the storefront's and the console's API modules, and Schemathesis (every check, seed 1,
# 20 examples per operation) against a fresh `nanoshop serve`.
scripts/apitools.sh check
