#!/usr/bin/env bash
# The storefront's browser tests (storefront-example/tests): Debian's Chromium, driven headless by
# playwright-core, against a `nanoshop serve` each test file starts on a free 127.0.0.1 port.
#
#   scripts/browser.sh install        # idempotent; needs the package registries (apt, npm)
#   scripts/browser.sh test [args]    # node --test over storefront-example/tests/*.test.mjs;
#                                     # offline, loopback only; args go to node --test
#
# playwright-core lives under $NANOSHOP_CACHE/browser (default ~/.cache/nanoshop/browser), outside
# the clone; `npx playwright install` is never used (it downloads a browser of its own).
# The server binary is $NANOSHOP_BIN, else the debug build in cargo's target directory
# (`cargo build --bin nanoshop`). Screenshots go to test-output/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${NANOSHOP_CACHE:-$HOME/.cache/nanoshop}
export NANOSHOP_BROWSER_DIR=${NANOSHOP_BROWSER_DIR:-$CACHE/browser}
PLAYWRIGHT_CORE_VERSION=1.65.1
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

log() { printf 'browser: %s\n' "$*" >&2; }

install() {
  if [ ! -x "$CHROMIUM" ]; then
    log "installing Debian's chromium"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  fi
  local have
  have=$(node -p "require('$NANOSHOP_BROWSER_DIR/node_modules/playwright-core/package.json').version" 2>/dev/null || true)
  if [ "$have" != "$PLAYWRIGHT_CORE_VERSION" ]; then
    log "installing playwright-core $PLAYWRIGHT_CORE_VERSION into $NANOSHOP_BROWSER_DIR"
    mkdir -p "$NANOSHOP_BROWSER_DIR"
    (cd "$NANOSHOP_BROWSER_DIR" && npm install --silent --no-audit --no-fund --save-exact \
      "playwright-core@$PLAYWRIGHT_CORE_VERSION" >/dev/null)
  fi
}

run_tests() {
  if [ -z "${NANOSHOP_BIN:-}" ]; then
    local target
    target=$(cargo metadata --format-version 1 --no-deps --offline | node -e \
      'let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => console.log(JSON.parse(s).target_directory))')
    export NANOSHOP_BIN=$target/debug/nanoshop
  fi
  [ -x "$NANOSHOP_BIN" ] || { log "no server binary at $NANOSHOP_BIN: run cargo build --bin nanoshop"; exit 1; }
  mkdir -p test-output/screenshots
  node --test --test-concurrency=1 "$@" storefront-example/tests/*.test.mjs
}

case "${1:-}" in
  install) install ;;
  test) shift; run_tests "$@" ;;
  *) echo "usage: $0 install|test [node --test args]" >&2; exit 2 ;;
esac
