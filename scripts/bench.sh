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
REPORT_BEGIN='<!-- report: begin, written by scripts/bench.sh -->'
REPORT_END='<!-- report: end -->'
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
  local bins packages b largest="" largest_zip=0 out
  bins=$(sed -n '/^\[\[bin\]\]/,/^name/s/^name *= *"\(.*\)"/\1/p' functions/*/Cargo.toml)
  packages=$(sed -n '/^\[package\]/,/^name/s/^name *= *"\(.*\)"/\1/p' functions/*/Cargo.toml)
  scripts/services.sh tools >/dev/null
  rustup target list --installed | grep -qx $triple || rustup target add $triple >/dev/null
  command -v llvm-strip >/dev/null || { apt-get update -qq && apt-get install -y -qq llvm >/dev/null; }
  if [ "${BENCH_NO_BUILD:-}" != 1 ]; then
    # Niced: it takes tens of minutes here. STRIP=false also changes the dependencies' build, so
    # `make lambdas` after it builds everything again.
    CARGO_PROFILE_RELEASE_STRIP=false PATH="$tools:$PATH" nice -n 19 cargo lambda build --release --arm64 \
      $(printf -- '-p %s ' $packages) $(printf -- '--bin %s ' $bins) >&2
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
# Puts `table` between the scale markers of docs/benchmarks.md, leaving the rest as it is.
write_scale_section() { # table
  python3 - docs/benchmarks.md "$SCALE_BEGIN" "$SCALE_END" "$1" "nanoshop catalog at scale — $(nproc) cores, $(uname -m), $(date -u +%F)" <<'PY'
import sys
path, begin, end, table, title = sys.argv[1:]
text = open(path).read()
if begin not in text or end not in text:
    sys.exit(f"bench: {path} has no scale section (its markers {begin!r} and {end!r})")
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

# Only the report's block: the prose around it lives in docs/benchmarks.md alone, and the size,
# peers and scale sections are each rewritten by their own writer.
write_section "$REPORT_BEGIN" "$REPORT_END" "$table"
write_peers_section "nanoshop peers — $(nproc) cores, $(uname -m), $(date -u +%F) (\`make bench\`)
$peer_figures"
write_scale_section "$scale_figures"
