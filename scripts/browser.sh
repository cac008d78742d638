#!/usr/bin/env bash
# The storefront's browser tests (storefront-example/tests): Debian's Chromium, driven headless by
# playwright-core, against a `nanoshop serve` each test file starts on a free 127.0.0.1 port.
#
#   scripts/browser.sh install        # idempotent; needs the package registries (apt, npm)
#   scripts/browser.sh test [args]    # node --test over storefront-example/tests/*.test.mjs;
#                                     # offline, loopback only; args go to node --test
#
# playwright-core lives under $NANOSHOP_CACHE/browser (default ~/.cache/nanoshop/browser), outside
# the clone; `npx playwright install` is never used (it downloads a browser of its own). Beside it,
# the pinned oauth4webapi release, which `test` holds the storefront's vendored copy
# (storefront-example/vendor/oauth4webapi/) to, byte for byte. tests/oidc.test.mjs signs in
# through node-oidc-provider (tests/oidc/install.sh installs it).
# The server binary is $NANOSHOP_BIN, else the debug build in cargo's target directory
# (`cargo build --bin nanoshop`). Screenshots go to test-output/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${NANOSHOP_CACHE:-$HOME/.cache/nanoshop}
export NANOSHOP_BROWSER_DIR=${NANOSHOP_BROWSER_DIR:-$CACHE/browser}
PLAYWRIGHT_CORE_VERSION=1.65.1
OAUTH4WEBAPI_VERSION=3.8.9   # storefront-example/vendor/oauth4webapi/ is this release's build/
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

log() { printf 'browser: %s\n' "$*" >&2; }

install() {
  if [ ! -x "$CHROMIUM" ]; then
    log "installing Debian's chromium"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  fi
  local package version
  for package in "playwright-core@$PLAYWRIGHT_CORE_VERSION" "oauth4webapi@$OAUTH4WEBAPI_VERSION"; do
    version=$(node -p "require('$NANOSHOP_BROWSER_DIR/node_modules/${package%@*}/package.json').version" 2>/dev/null || true)
    if [ "$version" != "${package##*@}" ]; then
      log "installing $package into $NANOSHOP_BROWSER_DIR"
      mkdir -p "$NANOSHOP_BROWSER_DIR"
      (cd "$NANOSHOP_BROWSER_DIR" && npm install --silent --no-audit --no-fund --save-exact "$package" >/dev/null)
    fi
  done
}

# The storefront serves oauth4webapi from its own folder (no CDN, no install step for a deployer):
# that copy must be the pinned release's, unchanged.
vendored_oauth4webapi_is_the_pinned_release() {
  local release=$NANOSHOP_BROWSER_DIR/node_modules/oauth4webapi vendored=storefront-example/vendor/oauth4webapi
  cmp -s "$vendored/oauth4webapi.js" "$release/build/index.js" &&
    cmp -s "$vendored/oauth4webapi.d.ts" "$release/build/index.d.ts" &&
    cmp -s "$vendored/LICENSE.md" "$release/LICENSE.md" || {
    log "$vendored is not oauth4webapi@$OAUTH4WEBAPI_VERSION: copy build/index.js, build/index.d.ts and LICENSE.md from $release (see its README.md)"
    exit 1
  }
}

run_tests() {
  if [ -z "${NANOSHOP_BIN:-}" ]; then
    local target
    target=$(cargo metadata --format-version 1 --no-deps --offline | node -e \
      'let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => console.log(JSON.parse(s).target_directory))')
    export NANOSHOP_BIN=$target/debug/nanoshop
  fi
  [ -x "$NANOSHOP_BIN" ] || { log "no server binary at $NANOSHOP_BIN: run cargo build --bin nanoshop"; exit 1; }
  vendored_oauth4webapi_is_the_pinned_release
  mkdir -p test-output/screenshots
  node --test --test-concurrency=1 "$@" storefront-example/tests/*.test.mjs
}

case "${1:-}" in
  install) install ;;
  test) shift; run_tests "$@" ;;
  *) echo "usage: $0 install|test [node --test args]" >&2; exit 2 ;;
esac
