#!/usr/bin/env bash
# The API contract, checked by tools nobody here wrote, against the document a fresh
# `nanoshop serve` serves at /openapi.json (whatever that document says):
#
#   scripts/apitools.sh install        # idempotent; needs the package registries (PyPI, npm)
#   scripts/apitools.sh check          # offline, loopback only: lint, types, Schemathesis (seed 1,
#                                      # 20 examples per operation) (make test)
#   scripts/apitools.sh lint           # Redocly CLI, the recommended rules (redocly.yaml)
#   scripts/apitools.sh types          # openapi-typescript -> storefront-example/js/api-types.d.ts,
#                                      # then tsc --checkJs over the storefront's and the console's API modules
#   scripts/apitools.sh schemathesis [EXAMPLES [ST ARGS]]  # every check, EXAMPLES per operation (default 20)
#   scripts/apitools.sh fuzz [SECONDS]             # make fuzz: Schemathesis for SECONDS (default 300)
#
# Schemathesis goes into the project's venv ($NANOSHOP_CACHE/venv, beside moto and SAM CLI: pip
# finds no conflict); Redocly CLI, openapi-typescript, TypeScript and Redoc into
# $NANOSHOP_CACHE/apitools (default ~/.cache/nanoshop/apitools), outside the clone. Redoc's bundle
# is vendored in vendor/redoc/ (`nanoshop serve` compiles it in for /docs): `check` proves it is
# the pinned npm release byte for byte. The server binary is $NANOSHOP_BIN, else the debug build
# in cargo's target directory.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${NANOSHOP_CACHE:-$HOME/.cache/nanoshop}
VENV=$CACHE/venv
NPM_DIR=$CACHE/apitools
SCHEMATHESIS_VERSION=4.32.5
REDOCLY_CLI_VERSION=2.77.0
OPENAPI_TYPESCRIPT_VERSION=7.13.0
TYPESCRIPT_VERSION=5.9.3     # openapi-typescript 7 wants TypeScript 5
REDOC_VERSION=2.5.4          # vendor/redoc/redoc.standalone.js is this release's bundle

# Redocly CLI reports each run home unless told not to; its update notice needs the network.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

log() { printf 'apitools: %s\n' "$*" >&2; }

install() {
  mkdir -p "$CACHE"
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  local want="@redocly/cli@$REDOCLY_CLI_VERSION openapi-typescript@$OPENAPI_TYPESCRIPT_VERSION typescript@$TYPESCRIPT_VERSION redoc@$REDOC_VERSION"
  local spec name missing=
  for spec in $want; do
    name=${spec%@*}
    [ "$(node -p "require('$NPM_DIR/node_modules/$name/package.json').version" 2>/dev/null)" = "${spec##*@}" ] || missing="$missing $spec"
  done
  if [ -n "$missing" ]; then
    log "installing$missing into $NPM_DIR"
    mkdir -p "$NPM_DIR"
    # shellcheck disable=SC2086 # $want is a list of package specs
    (cd "$NPM_DIR" && npm install --silent --no-audit --no-fund --save-exact $want >/dev/null)
  fi
}

server_binary() {
  if [ -n "${NANOSHOP_BIN:-}" ]; then echo "$NANOSHOP_BIN"; return; fi
  local target
  target=$(cargo metadata --format-version 1 --no-deps --offline | node -e \
    'let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => console.log(JSON.parse(s).target_directory))')
  echo "$target/debug/nanoshop"
}

# Starts `nanoshop serve` on a free 127.0.0.1 port with a fresh data dir (demo catalog seeded);
# sets BASE, DATA, SERVER_PID, ADMIN_TOKEN, CUSTOMER_TOKEN and fetches the served document to
# $DATA/openapi.json. The EXIT trap stops it and removes the data dir.
start_server() {
  BIN=$(server_binary)
  [ -x "$BIN" ] || { log "no server binary at $BIN: run cargo build --bin nanoshop"; exit 1; }
  DATA=$(mktemp -d /tmp/nanoshop-apitools.XXXXXX)
  : >"$DATA/serve.log"   # before the server opens it: the loop below reads it at once
  # Always the built-in payment simulator: a real Stripe key in the environment must not leak in.
  env -u STRIPE_SECRET_KEY -u STRIPE_PUBLISHABLE_KEY -u STRIPE_API_BASE -u STRIPE_WEBHOOK_SECRET \
    -u NANOSHOP_ADDR -u NANOSHOP_DATA_DIR -u NANOSHOP_STOREFRONT -u NANOSHOP_AUTH_ISSUER RUST_LOG=warn,nanoshop::serving=info \
    "$BIN" serve --addr 127.0.0.1:0 --data-dir "$DATA" --storefront storefront-example >"$DATA/serve.log" 2>&1 &
  SERVER_PID=$!
  trap stop_server EXIT
  local deadline=$((SECONDS + 60))
  BASE=
  until [ -n "$BASE" ] && curl -sf -o /dev/null "$BASE/health"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { log "nanoshop serve exited:"; cat "$DATA/serve.log" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { log "nanoshop serve did not answer within 60 s:"; cat "$DATA/serve.log" >&2; exit 1; }
    BASE=$(sed -n 's/.*serving at \(http:[^ ]*\) .*/\1/p' "$DATA/serve.log" | head -1)
    sleep 0.1
  done
  # Pretty-printed, so the lint names lines rather than columns of one long line.
  curl -sf "$BASE/openapi.json" | python3 -m json.tool --indent 2 >"$DATA/openapi.json"
  ADMIN_TOKEN=$("$BIN" token --data-dir "$DATA" --sub schemathesis-admin --admin)
  CUSTOMER_TOKEN=$("$BIN" token --data-dir "$DATA" --sub schemathesis-customer --email st@example.com)
  export ADMIN_TOKEN CUSTOMER_TOKEN
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true   # not INT: a background job of a script ignores it
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
  [ -z "${DATA:-}" ] || rm -rf "$DATA"
}

timed() { # label command...: runs it, then logs how long it took
  local start=$SECONDS
  "${@:2}"
  log "$1 took $((SECONDS - start)) s"
}

lint() {
  "$NPM_DIR/node_modules/.bin/redocly" lint "$DATA/openapi.json" --config redocly.yaml --format stylish
}

# The storefront stays no-build: its modules carry JSDoc types that import the generated
# declarations, which are derived (git-ignored) and regenerated from the served document here.
types() {
  # From the data dir: openapi-typescript would otherwise apply ./redocly.yaml, which is lint's job.
  # --default-non-nullable=false: by default openapi-typescript makes a property with a `default`
  # required, which is right for responses but wrong for request bodies (`"default": null` on an
  # optional input field the server fills in when it is missing, like a shipping method).
  (cd "$DATA" && "$NPM_DIR/node_modules/.bin/openapi-typescript" openapi.json --silent --default-non-nullable=false \
    --output "$OLDPWD/storefront-example/js/api-types.d.ts")
  "$NPM_DIR/node_modules/.bin/tsc" --project storefront-example/tsconfig.json
}

# Every check Schemathesis has runs (its default since 4.0; `--checks all` would also override the
# per-operation exceptions in scripts/schemathesis.toml, each of which says why it is there).
schemathesis() { # extra st arguments...
  mkdir -p test-output/schemathesis
  NANOSHOP_ADMIN_TOKEN=$ADMIN_TOKEN NANOSHOP_CUSTOMER_TOKEN=$CUSTOMER_TOKEN \
    PYTHONPATH=scripts SCHEMATHESIS_HOOKS=schemathesis_hooks \
    "$VENV/bin/st" --config-file scripts/schemathesis.toml run "$BASE/openapi.json" --no-color --generation-database none \
    --report junit --report-junit-path test-output/schemathesis/junit.xml "$@"
}

redoc_is_the_pinned_release() {
  cmp -s vendor/redoc/redoc.standalone.js "$NPM_DIR/node_modules/redoc/bundles/redoc.standalone.js" || {
    log "vendor/redoc/redoc.standalone.js is not redoc@$REDOC_VERSION's bundle: copy it from $NPM_DIR/node_modules/redoc/bundles/"
    exit 1
  }
}

case "${1:-}" in
  install) install ;;
  check)
    redoc_is_the_pinned_release
    start_server
    timed lint lint
    timed types types
    # Every check, 20 examples per operation, a fixed seed: the same cases each run (~3500 over the
    # 35 operations, ~15 s), so a failure here is a change in the server or the document, not luck.
    # `make fuzz` runs it longer with fresh seeds.
    timed schemathesis schemathesis --max-examples 20 --seed 1
    ;;
  lint) start_server; lint ;;
  types) start_server; types ;;
  schemathesis) start_server; schemathesis --max-examples "${2:-20}" "${@:3}" ;;
  fuzz) start_server; schemathesis --max-examples 1000 --max-time "${2:-300}" ;;
  *) echo "usage: $0 install|check|lint|types|schemathesis [examples]|fuzz [seconds]" >&2; exit 2 ;;
esac
