#!/usr/bin/env bash
# Installs node-oidc-provider, the OpenID provider tests/oidc/provider.mjs runs for the e2e tests
# (tests/e2e/oidc.rs), into $NANOSHOP_CACHE/oidc-provider (default
# ~/.cache/nanoshop/oidc-provider), outside the clone. Idempotent; needs the npm registry only
# when the pinned version is missing.
set -euo pipefail

CACHE=${NANOSHOP_CACHE:-$HOME/.cache/nanoshop}
DIR=$CACHE/oidc-provider
OIDC_PROVIDER_VERSION=9.13.3

installed=$(node -p "require('$DIR/node_modules/oidc-provider/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$OIDC_PROVIDER_VERSION" ]; then
  printf 'oidc: installing oidc-provider %s into %s\n' "$OIDC_PROVIDER_VERSION" "$DIR" >&2
  mkdir -p "$DIR"
  (cd "$DIR" && npm install --silent --no-audit --no-fund --save-exact "oidc-provider@$OIDC_PROVIDER_VERSION" >/dev/null)
fi
