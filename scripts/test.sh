#!/usr/bin/env bash
# `make test`: every test, against the real components.
#
# 1. installs DynamoDB Local, moto and SeaweedFS if missing (scripts/services.sh install),
#    Chromium and playwright-core for the storefront's browser tests (scripts/browser.sh install),
#    and the API contract's tools: Schemathesis, Redocly CLI, openapi-typescript, TypeScript
#    (scripts/apitools.sh install);
#    and the infrastructure tools: cfn-lint, SAM CLI, cargo-lambda, actionlint (services.sh tools);
# 2. builds every test binary while the package registries are reachable;
# 3. starts the services (scripts/services.sh), runs the tests offline, and stops the services
#    whatever happened. Where a network namespace can be made (root on Linux), that happens inside
#    a fresh loopback-only one: parallel runs cannot see each other's ports, nothing is reachable
#    from outside, and the services keep their usual ports. Elsewhere (macOS, unprivileged CI) the
#    services listen on 127.0.0.1 on free ports, and the tests read the URLs they were given.
#    NANOSHOP_NETNS=1 insists on the namespace, NANOSHOP_NETNS=0 does without it. The namespace
#    run also exercises the other path briefly (host_loopback_check), so both stay working.
set -euo pipefail
cd "$(dirname "$0")/.."

case ${NANOSHOP_NETNS:-auto} in
  0) netns=0 ;;
  1) unshare --net true || { echo "test: NANOSHOP_NETNS=1, but no network namespace can be made here" >&2; exit 1; }
     netns=1 ;;
  auto) if unshare --net true 2>/dev/null; then netns=1; else netns=0; fi ;;
  *) echo "test: NANOSHOP_NETNS is 0, 1 or unset (auto), not '$NANOSHOP_NETNS'" >&2; exit 2 ;;
esac

# The services on free 127.0.0.1 ports, as a run without a namespace starts them: each must answer
# a real request and listen on nothing else (services.sh check), and the store conformance suite
# must pass against DynamoDB Local and moto there. About half a minute, most of it start-up.
host_loopback_check() {
  local run
  run=$(mktemp -d "${TMPDIR:-/tmp}/nanoshop-services.XXXXXX")
  (
    export NANOSHOP_SERVICES_RUN=$run NANOSHOP_FREE_PORTS=1
    trap 'scripts/services.sh stop; rm -rf "$NANOSHOP_SERVICES_RUN"' EXIT
    scripts/services.sh start
    scripts/services.sh check
    # shellcheck source=/dev/null
    . "$run/services.env"
    cargo test --offline --quiet -p nanoshop-store --test conformance
  )
}

# The tests proper, with the services running; stops them whatever happened.
run_tests() {
  export NANOSHOP_SERVICES_RUN="${NANOSHOP_SERVICES_RUN:-$(mktemp -d "${TMPDIR:-/tmp}/nanoshop-services.XXXXXX")}"
  trap 'scripts/services.sh stop' EXIT
  scripts/services.sh start
  scripts/services.sh check
  # shellcheck source=/dev/null
  . "$NANOSHOP_SERVICES_RUN/services.env"
  cargo test --workspace --offline "$@"
  scripts/fuzz.sh run
  # The storefront, the merchant console and /docs in headless Chromium against `nanoshop serve`
  # (loopback only), sign-in through node-oidc-provider among them: scripts/browser.sh.
  scripts/browser.sh test
  # The served /openapi.json against tools nobody here wrote: Redocly's lint, openapi-typescript and
  # tsc over the storefront's and the console's API modules, and Schemathesis (every check, seed 1, 20 examples per
  # operation) against a fresh `nanoshop serve`.
  scripts/apitools.sh check
  # The smoke test a merchant runs after deploying, against a `nanoshop serve` it starts (~5 s).
  python3 scripts/smoke-test.py --serve "$(cargo metadata --format-version 1 --no-deps --offline |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/nanoshop"
}

# Re-entered inside the namespace (below): everything before the tests is done already.
if [ "${NANOSHOP_IN_NETNS:-}" = 1 ]; then
  ip link set lo up
  run_tests "$@"
  exit
fi

scripts/services.sh install
scripts/browser.sh install
scripts/apitools.sh install
tests/oidc/install.sh      # node-oidc-provider, the OpenID provider of tests/e2e/oidc.rs and storefront-example/tests/oidc.test.mjs
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
# The GitHub Actions workflow (.github/workflows), offline: expressions, job graph, action inputs.
"$TOOLS/actionlint" -oneline
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# What only `cargo lambda build` compiles (Cargo.toml, [workspace.metadata.lambda.build]).
cargo clippy -p nanoshop-api --features lambda-env --all-targets --quiet -- -D warnings

if [ $netns = 1 ]; then
  host_loopback_check
  exec unshare --net env NANOSHOP_IN_NETNS=1 scripts/test.sh "$@"   # not "$0": we are at the root now
fi
echo "test: no network namespace (NANOSHOP_NETNS=${NANOSHOP_NETNS:-auto}): services on free 127.0.0.1 ports" >&2
export NANOSHOP_FREE_PORTS=1
run_tests "$@"
