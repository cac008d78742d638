#!/usr/bin/env bash
# `make bench`: what nanoshop costs. Prints a table and writes it to docs/benchmarks.md:
#   - release size of every Lambda binary, raw and zipped as Lambda ships it (`bootstrap`);
#   - start-up in HTTP mode: process start to the first 200 on /health;
#   - Lambda cold start under a stand-in Runtime API, against DynamoDB Local: init, first answer
#     and peak memory per function (tests/e2e/lambda.rs, ignored in `make test`);
#   - warm throughput and latency (wrk) of the main endpoints on `nanoshop serve`;
#   - the long form of the mixed shopping load, on the embedded store and on DynamoDB Local, with
#     every invariant checked afterwards (tests/e2e/load.rs);
#   - DynamoDB round trips per request, from the counting adapter (e2e test);
#   - the peers: GET /products/{id} by the catalog binary and by the Python and Node handlers a
#     merchant would deploy instead, under one stand-in Runtime API, as ratios (bench/peers/);
#   - the catalog as it grows: 10,000 and 100,000 products seeded into DynamoDB Local, listing,
#     category listing and searches timed with their calls and read capacity, plotted into
#     docs/catalog-scale.svg (tests/e2e/scale.rs, bench/scale_report.py).
# `scripts/bench.sh peers` (`make bench-peers`) runs only the last, in minutes, and rewrites only its
# section of docs/benchmarks.md; `scripts/bench.sh scale` (`make bench-scale`) only the catalog at
# scale, rewriting only its section and the plot.
# `scripts/bench.sh size` (`make bench-size`) builds the Lambda packages as `make lambdas ARCH=arm64`
# does and writes their zipped sizes and what the largest holds, per crate, into its own section
# (the full run keeps that section as it is: the arm64 build takes tens of minutes here).
# Like `make test`, it installs what it needs, then runs inside a loopback-only network namespace
# with the services started. Load runs are bounded. Client and server share the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
# The features every `cargo lambda build` turns on (Cargo.toml, [workspace.metadata.lambda.build]),
# so the release binaries timed in Lambda mode start as the deployed ones do.
LAMBDA_FEATURES=$(python3 -c 'import tomllib; print(" ".join("--features " + f for f in tomllib.load(open("Cargo.toml", "rb"))["workspace"]["metadata"]["lambda"]["build"].get("features", [])))')
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
RUNS=${BENCH_STARTUP_RUNS:-20}

LOAD_OPS=${BENCH_LOAD_OPS:-200}
MODE=${1:-all}
case $MODE in
  all | peers | scale | size) ;;
  *) echo "usage: scripts/bench.sh [peers | scale | size]" >&2; exit 2 ;;
esac
# The peers live in the cache with their pinned dependencies, never in the clone.
PEERS=${NANOSHOP_CACHE:-$HOME/.cache/nanoshop}/peers

# Installs each peer when its pinned dependencies changed, and copies its handler beside them.
install_peers() {
  local py=$PEERS/python node=$PEERS/node
  mkdir -p "$py/task" "$node"
  if [ ! -x "$py/venv/bin/python" ] || ! cmp -s bench/peers/python/requirements.txt "$py/requirements.txt"; then
    rm -rf "$py/venv"
    python3 -m venv "$py/venv"
    # Every package is pinned in the file, so nothing else may come in.
    "$py/venv/bin/pip" install -q --no-deps -r bench/peers/python/requirements.txt
    cp bench/peers/python/requirements.txt "$py/"
  fi
  cp bench/peers/python/app.py "$py/task/"
  # The lock is kept as `installed.json` only once `npm ci` succeeded: a failed install is redone.
  if ! cmp -s bench/peers/node/package-lock.json "$node/installed.json"; then
    # aws-lambda-ric builds AWS's C++ runtime client and curl from source when it installs (3 min here).
    { command -v cmake && command -v autoreconf && command -v libtoolize; } >/dev/null ||
      { apt-get update -qq && apt-get install -y -qq cmake autoconf automake libtool make g++ >/dev/null; }
    rm -rf "$node/node_modules" "$node/installed.json"
    cp bench/peers/node/package.json bench/peers/node/package-lock.json "$node/"
    (cd "$node" && npm ci --no-audit --no-fund --loglevel=error)
    cp bench/peers/node/package-lock.json "$node/installed.json"
  fi
  cp bench/peers/node/app.mjs "$node/"
}

# --- the arm64 packages -------------------------------------------------------------------------
SIZE_BEGIN='<!-- size: begin, written by scripts/bench.sh size -->'
SIZE_END='<!-- size: end -->'
# Puts `figures` between the markers `begin` and `end` of docs/benchmarks.md, leaving the rest as it is.
write_section() { # begin end figures
  python3 - docs/benchmarks.md "$1" "$2" "$3" <<'PY'
import sys
path, begin, end, figures = sys.argv[1:]
text = open(path).read()
if begin not in text or end not in text:
    sys.exit(f"bench: {path} has no section {begin!r}; run `make bench` once")
head, rest = text.split(begin, 1)
tail = rest.split(end, 1)[1]
open(path, "w").write(f"{head}{begin}\n\n```\n{figures}\n```\n\n{end}{tail}")
PY
}
# Every function binary, as `make lambdas` builds it: cargo-lambda, --arm64, the release profile (and
# what cargo-lambda adds to it: panic = "abort", target-cpu=neoverse-n1). Symbols are kept for the
# per-crate breakdown, so each package is measured on a copy stripped here, as `strip = true` would
# (llvm-strip --strip-all; 256 bytes apart on a test binary). Zipped as Lambda ships it, `bootstrap`,
# at deflate level 9.
mib2() { awk -v b="$1" 'BEGIN{printf "%.2f", b/1048576}'; }
size_figures() {
  local tools=${NANOSHOP_CACHE:-$HOME/.cache/nanoshop}/venv/bin triple=aarch64-unknown-linux-gnu
  local bins b largest="" largest_zip=0 out
  bins=$(sed -n '/^\[\[bin\]\]/,/^name/s/^name *= *"\(.*\)"/\1/p' functions/*/Cargo.toml)
  scripts/services.sh tools >/dev/null
  rustup target list --installed | grep -qx $triple || rustup target add $triple >/dev/null
  command -v llvm-strip >/dev/null || { apt-get update -qq && apt-get install -y -qq llvm >/dev/null; }
  if [ "${BENCH_NO_BUILD:-}" != 1 ]; then
    # Niced: it takes tens of minutes here. STRIP=false also changes the dependencies' build, so
    # `make lambdas` after it builds everything again.
    CARGO_PROFILE_RELEASE_STRIP=false PATH="$tools:$PATH" nice -n 19 cargo lambda build --release --arm64 \
      --workspace $(printf -- '--bin %s ' $bins) >&2
  fi
  out=$(mktemp -d /tmp/nanoshop-size.XXXXXX)
  printf 'arm64 Lambda packages (cargo lambda build --release --arm64, as make lambdas ARCH=arm64; stripped, zipped):\n'
  for b in $bins; do
    llvm-strip --strip-all -o "$out/$b" "$TARGET/lambda/$b/bootstrap"
    local zipped raw
    raw=$(stat -c %s "$out/$b")
    zipped=$(python3 - "$out/$b" "$out/$b.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.write(sys.argv[1], "bootstrap")
print(os.path.getsize(sys.argv[2]))
PY
)
    printf '  %-22s %6s MiB stripped, %5s MiB zipped%s\n' "$b" "$(mib2 "$raw")" "$(mib2 "$zipped")" \
      "$([ "$zipped" -le 3145728 ] || echo '   (over 3 MiB)')"
    if [ "$zipped" -gt "$largest_zip" ]; then largest=$b largest_zip=$zipped; fi
  done
  rm -rf "$out"
  printf '\nWhat the largest, %s, holds per crate (scripts/size_breakdown.py, as cargo bloat --crates):\n' "$largest"
  python3 scripts/size_breakdown.py "$TARGET/lambda/$largest/bootstrap" --deps "$TARGET/$triple/release/deps" \
    --target $triple --rows 25
}
if [ "$MODE" = size ]; then
  figures="nanoshop packages — $(date -u +%F) (\`make bench-size\`)
$(size_figures)"
  printf '%s\n' "$figures"
  write_section "$SIZE_BEGIN" "$SIZE_END" "$figures"
  exit 0
fi

if [ "${NANOSHOP_IN_NETNS:-}" != 1 ]; then
  scripts/services.sh install
  install_peers
  if [ "$MODE" = scale ]; then
    cargo test --quiet --test e2e --no-run
  elif [ "$MODE" = peers ]; then
    # Only the catalog binary is compared; niced, as its release build takes ten minutes here.
    [ "${BENCH_NO_BUILD:-}" = 1 ] || nice -n 19 cargo build --release --quiet $LAMBDA_FEATURES -p nanoshop-catalog --bin catalog
  else
    command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    # BENCH_NO_BUILD=1 measures the release binaries already built (a rebuild takes tens of minutes here).
    [ "${BENCH_NO_BUILD:-}" = 1 ] || cargo build --release --quiet $LAMBDA_FEATURES --workspace --bins
    cargo test --quiet --test e2e --no-run
  fi
  exec unshare --net env NANOSHOP_IN_NETNS=1 "$0" "$@"
fi
ip link set lo up
export NANOSHOP_SERVICES_RUN="${NANOSHOP_SERVICES_RUN:-$(mktemp -d /tmp/nanoshop-services.XXXXXX)}"
export NANOSHOP_DYNAMODB_LOCAL=http://127.0.0.1:8000
# The functions' cold starts read their secrets from Secrets Manager, as deployed (moto here).
export NANOSHOP_MOTO=http://127.0.0.1:5000
BINS="catalog cart checkout payments-webhook orders orders-expirer orders-events-relay customers notifications"
HTTP_BINS="catalog cart checkout payments-webhook orders customers"
WORK=$(mktemp -d /tmp/nanoshop-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  scripts/services.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
scripts/services.sh start >/dev/null

# --- the peers -----------------------------------------------------------------------------------
PEERS_BEGIN='<!-- peers: begin, written by scripts/bench.sh -->'
PEERS_END='<!-- peers: end -->'
# The release catalog binary and the two peers, side by side in one run (bench/peers/compare.py).
peers() {
  "$PEERS/python/venv/bin/python" bench/peers/compare.py --catalog "$TARGET/release/catalog" \
    --python-root "$PEERS/python" --node-root "$PEERS/node" --dynamodb "$NANOSHOP_DYNAMODB_LOCAL" \
    --runs "${BENCH_PEER_RUNS:-10}" --warm "${BENCH_PEER_WARM:-50}"
  printf '  (%s)\n' "$(peer_versions)"
}
peer_versions() {
  printf 'python %s, awslambdaric %s, boto3 %s; node %s, aws-lambda-ric %s, @aws-sdk/client-dynamodb %s' \
    "$("$PEERS/python/venv/bin/python" -c 'import platform; print(platform.python_version())')" \
    "$(sed -n 's/^awslambdaric==//p' bench/peers/python/requirements.txt)" \
    "$(sed -n 's/^boto3==//p' bench/peers/python/requirements.txt)" \
    "$(node --version)" \
    "$(node -p 'require("./bench/peers/node/package.json").dependencies["aws-lambda-ric"]')" \
    "$(node -p 'require("./bench/peers/node/package.json").dependencies["@aws-sdk/client-dynamodb"]')"
}
# Puts `figures` between the peers markers of docs/benchmarks.md, leaving the rest as it is.
write_peers_section() { # figures
  python3 - docs/benchmarks.md "$PEERS_BEGIN" "$PEERS_END" "$1" <<'PY'
import sys
path, begin, end, figures = sys.argv[1:]
text = open(path).read()
if begin not in text or end not in text:
    sys.exit(f"bench: {path} has no peers section; run `make bench` once")
head, rest = text.split(begin, 1)
tail = rest.split(end, 1)[1]
open(path, "w").write(f"{head}{begin}\n\n```\n{figures}\n```\n\n{end}{tail}")
PY
}
if [ "$MODE" = peers ]; then
  figures="nanoshop peers — $(nproc) cores, $(uname -m), $(date -u +%F) (\`make bench-peers\`)
$(peers)"
  printf '%s\n' "$figures"
  write_peers_section "$figures"
  exit 0
fi

# --- the catalog as it grows ---------------------------------------------------------------------
SCALE_BEGIN='<!-- scale: begin, written by scripts/bench.sh -->'
SCALE_END='<!-- scale: end -->'
# Seeds the sizes into one set of DynamoDB Local tables (niced: 100,000 products take minutes),
# measures at each, writes the plot and prints the table (tests/e2e/scale.rs).
scale() {
  if ! NANOSHOP_SCALE_SIZES=${BENCH_SCALE_SIZES:-10000,100000} NANOSHOP_SCALE_RUNS=${BENCH_SCALE_RUNS:-5} \
    NANOSHOP_SCALE_OUT="$WORK/scale.json" nice -n 10 cargo test --offline --quiet --test e2e catalog_at_scale \
    -- --include-ignored --nocapture >"$WORK/scale.log" 2>&1; then
    tail -n 40 "$WORK/scale.log" >&2
    echo "bench: the catalog at scale failed (the output above)" >&2
    exit 1
  fi
  python3 bench/scale_report.py "$WORK/scale.json" docs/catalog-scale.svg
}
# Puts `table` between the scale markers of docs/benchmarks.md, adding the section if it has none.
write_scale_section() { # table
  python3 - docs/benchmarks.md "$SCALE_BEGIN" "$SCALE_END" "$1" "nanoshop catalog at scale — $(nproc) cores, $(uname -m), $(date -u +%F)" <<'PY'
import sys
path, begin, end, table, title = sys.argv[1:]
text = open(path).read()
if begin not in text or end not in text:
    text = text.rstrip("\n") + """

## The catalog as it grows

`tests/e2e/scale.rs` seeds products into one set of DynamoDB Local tables through the store port
(`CatalogRepository::create_products`: whole products packed into 100-write transactions, four at
a time), first 10,000, then 90,000 more, and at each size times four requests in process through
the catalog's router (median of warm runs: the function's work and DynamoDB Local's, no HTTP),
counting their DynamoDB calls (the counting adapter; a batch get counts once) and the read
capacity they consume. The store adapter does not ask for `ReturnConsumedCapacity` (the port has
no place to hand it back), so the units are counted from what each call returned, by DynamoDB's
published rules: a strongly consistent get or batch get (as the adapter reads the table) costs
1 unit per 4 KB of each item and 1 per missing key, an index query (eventually consistent) ½ unit
per 4 KB of all the items it read, ½ at least. DynamoDB Local does report consumed capacity when
asked, but simplifies: checked by hand, it charged a query of 21 items of 1.5 KB 4 units whether
strongly or eventually consistent, and a batch get nothing for its missing keys. Each product has
three title words (the common word `cotton` is in one product of ten), one of 20 categories, one
variant and no stock item (a missing stock item is a strongly consistent read of a missing key:
1 unit). The rare word `zephyr` is only in the oldest product, the last a newest-first listing
reaches. [`catalog-scale.svg`](catalog-scale.svg) plots latency and calls against size. The
times are of the e2e test's debug build against DynamoDB Local (a JVM) on the same shared two
cores, so they move by tens of milliseconds between runs and sizes with the machine's load; the
calls and read units are exact, and they are what does or does not grow with the catalog.

A search reads the word index (`shared/schema/src/catalog.rs`): one query of only the index items
whose word starts with the needle, one batch read of those products, one of their stock, so its
calls and read capacity stay the same at any size, and the rare word is found at once. A category
listing reads the category index the same way: the category tree (one query), one query per
category of the subtree listed (`cat-7` has none below it), each reading only that category's
entries, newest first, and the products and their stock, so it fills its page in one round at any
size. (Until 2026-12-07 it walked the newest-first listing and filtered, up to 5 pages of 100 per
request, so a rare category could answer a short page with a cursor: 6 calls and 48–49 read
units per page in the table's earlier run.)

Product read by id stays at 2 calls (the product item, then one batch read of its SKUs' stock).
One query of the product's item collection would need the stock items in that collection
(`PRODUCT#{id}` / `STOCK#{sku}`), but they are keyed per SKU (`STOCK#{sku}`) and written by
checkout, the payments webhook and orders through `nanoshop_schema::catalog::StockMove`, whose
writes name only the SKU; moving them means those functions' writes name the product, a change
of `StockMove`'s signature and of the functions that call it, left for when checkout is not being
changed beside it. A copy of stock in the product's collection would be stale, and the index
cannot hold the product item under two partitions.

""" + begin + "\n" + end + "\n"
head, rest = text.split(begin, 1)
tail = rest.split(end, 1)[1]
open(path, "w").write(f"{head}{begin}\n\n{title}\n\n{table}\n\n{end}{tail}")
PY
}
if [ "$MODE" = scale ]; then
  figures=$(scale)
  printf '%s\n' "$figures"
  write_scale_section "$figures"
  exit 0
fi

# An e2e test whose printed figures the report quotes: its whole output is kept, and shown if it
# fails or prints nothing that `pattern` matches.
figures() { # name pattern [cargo test arguments]
  local name=$1 pattern=$2
  shift 2
  if ! cargo test --offline --quiet --test e2e "$@" >"$WORK/$name.log" 2>&1 || ! grep -qE "$pattern" "$WORK/$name.log"; then
    tail -n 40 "$WORK/$name.log" >&2
    echo "bench: $name failed (the output above)" >&2
    exit 1
  fi
  grep -E "$pattern" "$WORK/$name.log"
}

# --- size ---------------------------------------------------------------------------------------
zipped() { # binary -> bytes of a Lambda zip holding it as `bootstrap`
  python3 - "$1" "$WORK/$(basename "$1").zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.write(sys.argv[1], "bootstrap")
print(os.path.getsize(sys.argv[2]))
PY
}
mib() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1048576}'; }
sizes=""
for b in $BINS; do
  raw=$(stat -c %s "$TARGET/release/$b")
  sizes+=$(printf '  %-22s %6s MiB raw, %5s MiB zipped\n' "$b" "$(mib "$raw")" "$(mib "$(zipped "$TARGET/release/$b")")")$'\n'
done

# --- start-up -----------------------------------------------------------------------------------
# A JWKS built from the test RSA key, so the verifier starts as it would in AWS.
jwks=$(python3 - shared/api/src/testdata/rsa_public.pem <<'PY'
import base64, json, subprocess, sys
mod = subprocess.run(["openssl", "rsa", "-pubin", "-in", sys.argv[1], "-noout", "-modulus"], capture_output=True, text=True, check=True).stdout.strip().split("=", 1)[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig", "n": b64(bytes.fromhex(mod)), "e": "AQAB"}]}))
PY
)
secret=0123456789abcdef0123456789abcdef
port=18080
# Polls for the first 200 on /health from within bash (/dev/tcp): spawning a curl per poll costs
# milliseconds here and made the figure mostly curl (18 ms measured that way against 8 ms this way).
# Between polls it naps 0.5 ms on a pipe nothing writes to (no fork), so it does not take a core
# from the process it measures; an answer gets 5 s.
exec {nap}<> <(:)
first_200() { # port pid: fails once the process is gone
  local line
  while kill -0 "$2" 2>/dev/null; do
    if { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
      printf 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
      IFS= read -r -t 5 line <&3 || line=
      exec 3>&-
      [[ $line == "HTTP/1.1 200"* ]] && return 0
    fi
    read -r -t 0.0005 -u "$nap" _ || true
  done
  return 1
}
# Microseconds since the epoch; the digits alone, whatever decimal point the locale uses.
now_us() { local t=$EPOCHREALTIME; REPLY=${t//[!0-9]/}; }
startups=""
for b in $HTTP_BINS; do
  ms=()
  for _ in $(seq "$RUNS"); do
    now_us; start=$REPLY
    # AWS endpoints point at a closed local port: the warm-up call fails at once, nothing leaves the machine.
    env -i PATH="$PATH" BIND_ADDR=127.0.0.1:$port AWS_REGION=eu-west-1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
      AWS_ENDPOINT_URL=http://127.0.0.1:9 CATALOG_TABLE=c CARTS_TABLE=c ORDERS_TABLE=o IDEMPOTENCY_TABLE=i \
      IMAGE_BUCKET=b IMAGE_BASE_URL=https://img.example CURSOR_SECRET=$secret ORDER_TOKEN_SECRET=$secret \
      STRIPE_SECRET_KEY=sk_test_bench STRIPE_PUBLISHABLE_KEY=pk_test_bench STRIPE_WEBHOOK_SECRET=whsec_bench \
      STRIPE_API_BASE=http://127.0.0.1:9 AUTH_ISSUER=https://issuer.example AUTH_AUDIENCE=bench AUTH_JWKS="$jwks" \
      RUST_LOG=warn "$TARGET/release/$b" >/dev/null 2>&1 &
    pid=$!
    first_200 $port $pid || { echo "bench: $b exited before answering /health" >&2; exit 1; }
    now_us; end=$REPLY
    ms+=("$(( end - start ))")
    kill $pid; wait $pid 2>/dev/null || true
  done
  startups+=$(printf '%s\n' "${ms[@]}" | sort -n | awk -v b="$b" '{a[NR]=$1} END {printf "  %-22s p50 %5.1f ms, min %5.1f ms, max %5.1f ms", b, a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000}')$'\n'
done

# --- mixed load, long form ------------------------------------------------------------------------
# Run before the cold starts on purpose: it also warms DynamoDB Local's JVM, which is always warm
# in AWS. Measured cold, the first functions' init figures came out 2-5 ms slower.
mixed=$(LOAD_OPS=$LOAD_OPS figures mixed-load '^mixed load on' a_mixed_shopping_load -- --nocapture --test-threads 1 |
  sed 's/^mixed load on /  /')

# --- Lambda cold start ----------------------------------------------------------------------------
lambda=$(NANOSHOP_BENCH_BIN_DIR="$TARGET/release" NANOSHOP_BENCH_RUNS="$RUNS" \
  figures cold-start '^  [a-z-]+ +init p50' cold_starts_under_the_lambda_runtime -- --include-ignored --nocapture)

# --- the peers, beside the catalog ---------------------------------------------------------------
peer_figures=$(peers)

# --- the catalog as it grows (its own section below the report, with the plot) -----------------
scale_figures=$(scale)

# --- throughput ---------------------------------------------------------------------------------
"$TARGET/release/nanoshop" serve --addr 127.0.0.1:13000 --data-dir "$WORK/data" --storefront /nonexistent >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
until curl -sf -o /dev/null http://127.0.0.1:13000/health; do sleep 0.05; done
until curl -sf http://127.0.0.1:13000/products | grep -q prod_; do sleep 0.05; done
id=$(curl -sf http://127.0.0.1:13000/products | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
load() { # path [wrk options] -> "req/s p50 p99 errors"
  local path=$1
  shift
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "http://127.0.0.1:13000$path" | awk '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /Non-2xx/ {err=$NF}
    END {printf "%8.0f req/s  p50 %-8s p99 %-8s non-2xx %s", rps, p50, p99, (err==""?0:err)}'
}
one=$(load "/products/$id")
list=$(load "/products")
# Carts: a cart with two lines, read and changed (a PATCH to the same quantity, so it can repeat).
admin=$("$TARGET/release/nanoshop" token --admin --data-dir "$WORK/data")
curl -sf -X PUT http://127.0.0.1:13000/inventory/LS-M -H "authorization: Bearer $admin" -H 'content-type: application/json' -d '{"on_hand": 1000000}' >/dev/null
cart=$(curl -sf http://127.0.0.1:13000/carts -H 'content-type: application/json' -d '{"currency": "EUR", "items": [{"sku": "LS-M", "quantity": 1}, {"sku": "MUG-SAND", "quantity": 2}]}')
cart_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$cart")
cart_token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' <<<"$cart")
cart_get=$(load "/carts/$cart_id" -H "x-cart-token: $cart_token")
cat >"$WORK/patch.lua" <<LUA
wrk.method = "PATCH"
wrk.body = '{"quantity": 3}'
wrk.headers["content-type"] = "application/json"
wrk.headers["x-cart-token"] = "$cart_token"
LUA
cart_patch=$(load "/carts/$cart_id/items/LS-M" -s "$WORK/patch.lua")
# Checkout consumes its cart, so it is timed one request at a time over fresh carts.
CHECKOUTS=${BENCH_CHECKOUTS:-200}
address='{"name": "Ada", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE"}'
: >"$WORK/checkout.times"
for i in $(seq "$CHECKOUTS"); do
  c=$(curl -sf http://127.0.0.1:13000/carts -H 'content-type: application/json' -d '{"currency": "EUR", "items": [{"sku": "LS-M", "quantity": 1}]}')
  cid=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$c")
  ctok=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' <<<"$c")
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' http://127.0.0.1:13000/checkout -H 'content-type: application/json' \
    -H "x-cart-token: $ctok" -H "idempotency-key: bench-$i" \
    -d "{\"cart_id\": \"$cid\", \"email\": \"bench@example.com\", \"shipping_address\": $address, \"shipping_method\": \"standard\"}" >>"$WORK/checkout.times"
done
# Orders: one order read, and the admin's newest-first listing (the orders function).
order_id=$(curl -sf 'http://127.0.0.1:13000/orders?limit=1' -H "authorization: Bearer $admin" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
order_get=$(load "/orders/$order_id" -H "authorization: Bearer $admin")
order_list=$(load "/orders?limit=20" -H "authorization: Bearer $admin")
checkout=$(sort -k2 -n "$WORK/checkout.times" | awk '{t[NR]=$2*1000; if ($1 != 201) bad++} END {printf "p50 %.2f ms, p99 %.2f ms over %d sequential checkouts, non-201 %d", t[int((NR+1)/2)], t[int(NR*0.99)], NR, bad+0}')
rss=$(ps -o rss= -p "${PIDS[0]}" | awk '{printf "%.1f MiB", $1/1024}')

# --- round trips ---------------------------------------------------------------------------------
trips=$(figures round-trips '^  (GET|PUT|POST|PATCH) |^DynamoDB round trips per checkout' round_trips -- --nocapture)

table=$(cat <<TABLE

nanoshop benchmark — $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), $(date -u +%F)
Lambda binaries (release: opt-level s, fat LTO, 1 codegen unit, stripped; x86_64 here, arm64 in AWS):
$sizes
Start-up, process start to the first 200 on /health (HTTP mode, $RUNS runs each):
$startups
Lambda cold start under a stand-in Runtime API, against DynamoDB Local ($RUNS runs each; init = process
start to the first poll for work, as Lambda's Init Duration; peak RSS = VmHWM after the first answer):
$lambda
nanoshop serve, embedded store, wrk -t2 -c$CONNECTIONS -d$DURATION (client and server share the machine):
  GET /products/{id}            $one
  GET /products                 $list
  GET /carts/{id}               $cart_get
  PATCH /carts/{id}/items/{sku} $cart_patch
  POST /checkout                $checkout
  GET /orders/{id}              $order_get
  GET /orders?limit=20          $order_list
  server RSS after load         $rss
Mixed shopping load, long form: 16 clients x $LOAD_OPS operations (browse 70 %, cart 20 %, checkout 10 %),
in process (debug build of the e2e test), every stock and order invariant checked afterwards:
$mixed
DynamoDB round trips per request (counting adapter; a batch get counts once):
$trips
The catalog binary beside the peers (see "The peers, in the same run" below):
$peer_figures
TABLE
)
printf '%s\n' "$table"

# The arm64 packages' section is `make bench-size`'s: kept as it is.
size_block=$(python3 - docs/benchmarks.md "$SIZE_BEGIN" "$SIZE_END" <<'PY'
import sys
path, begin, end = sys.argv[1:]
text = open(path).read()
if begin in text and end in text:
    print(begin + text.split(begin, 1)[1].split(end, 1)[0] + end)
else:
    print(f"{begin}\n\nNot measured yet: run `make bench-size`.\n\n{end}")
PY
)
# The report, with the published figures each one should beat beside it.
cat >docs/benchmarks.md <<REPORT
# nanoshop benchmarks

Written by \`make bench\` (scripts/bench.sh); the figures are from its last run.

\`\`\`
$table
\`\`\`

Anchors to beat (published figures, not measured here):

| figure | anchor |
|---|---|
| Lambda cold start | Rust hello-world ~14–18 ms (maxday/lambda-perf); Python 3.13 77–91 ms; Node 22 124–147 ms |
| memory | Rust hello-world ~15 MB (maxday/lambda-perf) |
| warm latency | serverless-rust-demo warm p50 5.1 ms, cold p50 123 ms at 128 MB |

Start-up in HTTP mode is process start to the first 200 on \`/health\`, on x86_64, with the
DynamoDB warm-up call failing at once (no network). It is polled from within the shell; reports
before 2026-11-27 polled with a curl process per try, which about doubled the figure, so do not
compare start-up across that change. The Lambda cold start runs each release binary
as Lambda does (\`AWS_LAMBDA_RUNTIME_API\`) against a stand-in Runtime API on loopback, with
DynamoDB Local as the backend, so the warm-up call at init is a real round trip; it does not include
what AWS adds before the process starts (fetching and unpacking the package, the microVM). The
anchors are AWS-side measurements, so compare the order of magnitude, not the digits.
Throughput is \`nanoshop serve\` on the embedded store with client and server on the same two cores:
it measures the code, not DynamoDB. The mixed load's DynamoDB Local figures measure DynamoDB Local (a
Java process on the same two cores), not DynamoDB. This machine is a shared VM: the same binary's
GET /products/{id} gave 67k and then 50k req/s half an hour apart, so compare figures within one
run, or runs made back to back, never against a run from another day.

## The peers, in the same run

What a merchant would deploy instead of the catalog function, measured beside it: the same
\`GET /products/{id}\` (read the product item and its variants' stock items from the catalog table in
nanoshop's layout, answer the catalog's JSON) written as the AWS serverless samples write a handler,
client made at module load. \`bench/peers/python/app.py\` is boto3 under AWS's runtime interface
client awslambdaric (\`python -m awslambdaric app.lambda_handler\`, as AWS's container images start
it); \`bench/peers/node/app.mjs\` is the AWS SDK v3 document client under AWS's aws-lambda-ric, run
by node on the client's own entry point (\`npx aws-lambda-ric\`, as AWS's Node container example
starts it, would add an npm process to its cold start). Their pinned dependencies
(\`requirements.txt\`, \`package-lock.json\`) are installed into the cache, never into the clone.
The catalog is the release binary in Lambda mode. \`make bench-peers\` (\`scripts/bench.sh peers\`)
runs only this comparison and rewrites only the block below.

All three answer the same API Gateway (HTTP API, payload 2.0) event under one stand-in Runtime API
(\`bench/peers/compare.py\`, standard-library Python: the Rust stand-in that times the cold starts
above lives inside the e2e test binary), against one product with three variants,
created beforehand through the catalog's own admin API in DynamoDB Local. Each run starts all three
afresh, one after the other, so the machine's noise falls on each alike (after one start of each
that is thrown away). Init is process start to the first poll for work; first answer is process
start to the answer of the first event, with its real reads; warm latency is event queued to answer
posted, one request at a time; peak memory is VmHWM summed over the process tree after the last
answer. The catalog reads its secrets from variables here, as the peers read none. Ratios are
peer / catalog of the medians: 20× means the catalog took a twentieth. The goals:
first answer ≥ 20× faster than the Python peer and ≥ 15× faster than the Node peer, peak memory
≥ 4× smaller than either; the block says which were met. The catalog's init includes its warm-up
round trip to DynamoDB (the peers make none before their first event). Warm latency is mostly
DynamoDB Local's (a JVM on the same two cores, two reads per request), so its ratios understate the
difference in code, and its p99 is that JVM's and the machine's noise more than the contenders'.

Where the catalog's cold start goes (release binary, measured 2026-12-07 with \`strace
--seccomp-bpf\` on the milestones and \`perf stat -r 30\` for its CPU): about 2.5 ms from exec to the
runtime's threads; about 3 ms for its configuration, the JWKS, the AWS configuration, the clients
and the signing of the warm-up request; the warm-up \`DescribeTable\`, 4–6 ms in DynamoDB Local on a
quiet machine and up to 20 ms on a busy one; under 1 ms to the first poll; then the event's two
reads, 2–5 ms each. The process uses 4–5 ms of CPU in all; the rest of the first answer is
waiting on DynamoDB Local's three round trips. Two changes were measured and not kept:

- The AWS SDK's default HTTPS client, one per SDK client, loads the system's trust store at its
  first connection (here \`/etc/ssl/certs/ca-certificates.crt\`, then each of the ~290 files of
  \`/etc/ssl/certs\`). One HTTPS client shared by every SDK client, trusting the bundled Mozilla
  roots, took the CPU from 5.3–5.6 ms to 4.1–4.9 ms, about 1 ms of a 15–25 ms first answer and
  within this machine's noise (first answers back to back: 23.2 and 23.2 ms before, 15.2 and
  22.9 ms after), while the bundled certificates added about 95 KB to every zipped package, against
  the package-size goal below. On Lambda the trust store is one bundle file, not ~290.
- Without the warm-up the first answer was 14.0 and 16.1 ms in the same session. The warm-up moves
  the TLS handshake to DynamoDB into init; over plain HTTP to DynamoDB Local it has no handshake to
  move and costs a round trip, so the bench charges it to nanoshop and not to the peers, which make
  no call before their first event. It stays: on AWS it keeps the handshake out of the first
  request whenever init runs ahead of one.

The first-answer goals need about 6–12 ms against peers that answered in 118–580 ms across this
day's runs (their start-up is CPU-bound, so they slow down more than the catalog on a loaded
machine; the ratios moved between 8× and 17.5× from run to run, and the block below is from the
quietest run, with no build beside it). What is left is DynamoDB
Local's latency and the product read's two calls (see the round trips below).

Both runtime clients build native code. awslambdaric is installed from its manylinux wheel on PyPI,
AWS's own build of its C++ client. aws-lambda-ric builds AWS's C++ client and curl from source on
install (cmake, autoconf, automake, libtool, g++; the bench installs them from Debian if missing).
Its newest release, 4.0.2, requires Node ≥ 22 and this machine has Node 20 (its nodejs package),
so the peer uses 3.3.0, the newest release that supports Node 20 (AWS's \`nodejs20.x\` runtime).

$PEERS_BEGIN
$PEERS_END

## Package size on arm64

What AWS fetches on a cold start is the zipped package; the goal is at most 3 MiB for every
function. \`make bench-size\` (\`scripts/bench.sh size\`) builds every function binary as
\`make lambdas ARCH=arm64\` does (cargo-lambda, which links with zig and adds \`panic = "abort"\` and
\`target-cpu=neoverse-n1\` to the release profile) and rewrites only the block below: each package's
size, stripped and zipped, and what the largest binary holds per crate, grouped as
\`cargo bloat --crates\` groups it (\`scripts/size_breakdown.py\`; cargo-bloat itself cannot link for
aarch64 here). The x86_64 sizes at the top come from the plain \`cargo build --release\` of the full
run, which keeps unwinding, so they are larger.

### What issue 19's cuts did (measured 2026-12-07)

Before is the merge base the cuts started from (3499c3d); "first cuts" is the branch with the
first three cuts below, "patched client" adds the last (async-stripe's client patched in
\`vendor/async-stripe/\`). All built as above (before and patched client: \`cargo lambda build
--release --arm64 -p …\` per function crate, symbols kept; first cuts: \`make bench-size\`'s build,
which the same \`-p\` build of checkout matched to the byte count); zipped MiB, stripped MiB in
brackets:

| package | before | first cuts | patched client |
|---|---|---|---|
| checkout | 4.80 (11.86) | 4.47 (10.73) | 3.29 (7.17) |
| payments-webhook | 4.77 (11.89) | 4.25 (10.26) | 3.05 (6.70) |
| orders | 4.77 (11.80) | 4.44 (10.67) | 3.25 (7.11) |
| orders-expirer | 4.21 (10.71) | 3.89 (9.59) | 2.69 (6.03) |

The block below is \`make bench-size\`'s build after the patched client: all nine function
binaries in one cargo call (customers and notifications are new since the first cuts were
measured), whose features unify across them (aws-sdk-s3's event-stream signing reaches
aws-sigv4 and aws-runtime in every function, for one). That gives each Stripe function
0.03–0.04 MiB more than its own \`-p\` build above: checkout 3.32, orders 3.28, payments-webhook
3.09, orders-expirer 2.73.

What each cut took out of \`.text\`, read from the per-crate rows of the two builds
(\`scripts/size_breakdown.py\`; before: checkout's largest rows stripe_shared 2246 KiB, std 971,
aws_sdk_dynamodb 373, aws_lc_sys 290, rustls 251, stripe 218, regex_automata 89, regex_syntax 87):

- \`RUST_LOG\` read by \`tracing_subscriber::filter::Targets\` instead of \`EnvFilter\`: regex-automata
  and regex-syntax (176 KiB) and \`EnvFilter\` itself (51 KiB of tracing-subscriber), in every
  function.
- async-stripe's \`redact-generated-debug\`: the derived \`Debug\` of the Stripe error type's object
  graph, which the error's \`Display\` prints (the \`stripe\` crate's row, 218 KiB to 0–17 KiB), in
  every function that links Stripe. std's row also fell by 181 KiB in each of them: formatting
  code these two cuts left unused, which the two builds cannot split between them.
- The webhook's \`Stripe-Signature\` checked without \`Webhook::construct_event\`, which went on to
  parse the event into the generated type of every event's object: 358 KiB of stripe_shared and
  33 KiB of std, in payments-webhook.
- async-stripe's client patched (\`vendor/async-stripe/\`, put in place by \`[patch.crates-io]\` in
  \`Cargo.toml\`) to read an error answer into the error's own fields (\`ApiErrorFields\`: message,
  code, decline code, type, param) instead of \`ApiErrors\`, which holds a whole PaymentIntent,
  PaymentMethod, SetupIntent and payment source: the parsers of most of Stripe's generated
  objects went, 2197 KiB of stripe_shared and 218 KiB of std (the float parsing and formatting
  only they used) in checkout, whose \`.text\` fell from 7142 to 4724 KiB; as much in the three
  others. async-stripe stays the client of every call; what the patch changes, and how to drop it
  when upstream changes, is in \`vendor/async-stripe/README.md\`. Checkout's largest rows after it:
  std 574 KiB, aws_sdk_dynamodb 377, aws_lc_sys 290, rustls 251, nanoshop_checkout 216,
  nanoshop_api 198, C code 184, aws_smithy_runtime 177, aws_smithy_http_client 171, aws_config
  159, nanoshop_store 134, lambda_runtime_api_client 131, h2 111, clap_builder 106,
  nanoshop_payments 105, aws_sdk_sts 99, checkout (its \`main\`) 91, stripe_core 80, stripe_shared
  13.

Not cut:

- Duplicate crates. \`rand\` 0.8 (rust_decimal's optional \`rand\`, never enabled), \`rand\` 0.10
  (proptest, tests only) and \`ring\` (rustls-webpki's optional backend, never enabled) are in
  \`Cargo.lock\` but in no function binary (\`cargo tree -e normal --target aarch64-unknown-linux-gnu
  -i <crate>\`): one \`rand\`, and aws-lc-rs as the only crypto library. The duplicates that are
  linked (base64 0.22/0.23, sha2/hmac/digest 0.10/0.11, getrandom 0.3/0.4) come to under 10 KiB.
- The AWS SDK's features are already off (\`default-features = false\`; rustls on aws-lc-rs). What it
  links is what it reaches: h2 (110 KiB; its HTTPS client always offers HTTP/2) and aws-sdk-sts
  (98 KiB; the default credential chain's web-identity provider, which IRSA in containers needs).
- What is still over 3 MiB after the patched client, and what would bring it under, each measured
  as an experiment on a copy of the tree (same \`cargo lambda build -p …\`, nothing of it committed):
  - The default credential chain (\`aws_config::load_defaults\` in \`nanoshop_api::startup\`): profile
    files, web identity through STS (whose XML protocol brings aws-smithy-xml and xmlparser), ECS
    and IMDS providers. In Lambda the credentials and region are environment variables; an
    \`SdkConfig\` built from those alone (\`EnvironmentVariableCredentialsProvider\`, \`AWS_REGION\`)
    took checkout from 3.29 to 3.03 MiB zipped (7.17 to 6.56 stripped; \`.text\` −393 KiB:
    aws_config 156, aws_sdk_sts 99, std 42, aws_runtime 35, XML 34, aws_smithy_types 17), and
    every function has the same start-up. Not taken: the same binaries run as containers
    (\`Containerfile\`), where IRSA, ECS or IMDS credentials are the norm, and \`load_defaults\` also
    reads \`AWS_ENDPOINT_URL*\`, retry and profile settings that the narrow loader would ignore. It
    wants a build-time switch that only the Lambda builds turn on (\`make lambdas\`, \`sam build\`
    through \`[workspace.metadata.lambda.build]\`) and a test of that loader.
  - encoding_rs, in every function through lambda_http 1.3.2 (the newest): it turns each text
    response body into a string with \`Encoding::for_label(charset)\`, which reaches every legacy
    encoding's tables (122 KiB of \`.rodata\`, 25 KiB of code), although every answer here is
    UTF-8. With lambda_http patched to decode UTF-8 alone, on top of the previous experiment,
    checkout went from 3.03 to 2.90 MiB zipped (6.40 stripped). That would be a second vendored
    patch; lambda_http has no feature for it.
  - aws-sdk-s3 in catalog, used for one presigned PUT (\`images.rs\`): catalog without it was
    3.25 MiB zipped instead of 3.44 (7.06 stripped instead of 7.55; aws_sdk_s3 224 KiB, std 42,
    crc-fast and aws-smithy-checksums 31, aws_smithy_types 18). Since taken, with notifications'
    reads: "aws-sdk-s3 out of catalog and notifications" below.
  - clap (clap_builder, 106 KiB in every function): the functions' configuration is read by clap
    from the environment (\`nanoshop_api::config\`), by design.
- Unwinding. cargo-lambda adds \`panic = "abort"\` because \`[profile.release]\` does not name \`panic\`,
  although Cargo.toml's comment there says unwinding stays on (a panic in one request is to become
  that request's 500): the packages above abort on a panic. With \`panic = "unwind"\` in the
  profile, checkout was 5.11 MiB zipped (12.19 MiB stripped) instead of 4.47.
- Layout: the binaries are position-independent (\`.rela.dyn\`: before the patched client 1.2 MiB in
  checkout, 0.2 MiB deflated; after it 0.57 MiB, 0.10 deflated) and keep unwind tables
  (\`.eh_frame\` and its index: before 1.3 MiB, 0.35 MiB deflated; after 0.68 MiB, 0.21 deflated).
  cart (3.11 MiB), customers (3.08), notifications (3.06) and catalog (3.45) link no Stripe code
  and are still over 3 MiB: AWS SDK, rustls, AWS-LC and std are most of them (catalog and
  notifications also after aws-sdk-s3 went, below).

### aws-sdk-s3 out of catalog and notifications (measured 2026-12-07)

The catalog presigned its uploads and the notifications function read its template overrides with
aws-sdk-s3. Both now sign their few requests with aws-sigv4, which every function already links
under the SDK, through \`nanoshop-s3\` (\`shared/s3\`): one presigned PUT, and GETs of the templates'
names instead of a listing and reads. aws-sdk-s3 is left to the tests. Built on the merge base
(8199827) and after by the same \`cargo lambda build --release --arm64 --output-format zip -p
nanoshop-catalog -p nanoshop-notifications\`; zipped MiB as cargo-lambda zips, stripped MiB in
brackets:

| package | before | after |
|---|---|---|
| catalog | 3.47 (7.59) | 3.25 (7.07) |
| notifications | 3.26 (7.32) | 3.11 (6.94) |

What replaced it is small: \`nanoshop_s3\` is 10 KiB of notifications' \`.text\` (4 KiB of the
catalog's), the signed GETs' hyper-rustls and http-body-util 8 KiB more, aws_sigv4 41 KiB, as
before. Both are still over 3 MiB. Notifications' largest rows after it: std 612 KiB,
aws_sdk_dynamodb 378, minijinja 332, aws_lc_sys 290, rustls 252, C code 184, aws_smithy_runtime
178, aws_smithy_http_client 164, aws_config 160, nanoshop_notifications 152. The x86_64 figure
below (0.83 MiB zipped for aws-sdk-s3) was of a binary that keeps unwinding; on arm64, as
deployed, aws-sdk-s3 was 0.15 MiB of notifications. The narrower credential loader measured on
checkout above (0.26 MiB there) would bring both under 3 MiB if it saves as much here.

$size_block
REPORT
write_peers_section "nanoshop peers — $(nproc) cores, $(uname -m), $(date -u +%F) (\`make bench\`)
$peer_figures"
write_scale_section "$scale_figures"
