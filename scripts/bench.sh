#!/usr/bin/env bash
# `make bench`: what the catalog costs. Prints a table:
#   - release size of the catalog Lambda binary, raw and zipped as Lambda ships it (`bootstrap`);
#   - start-up: process start to the first 200 on /health, catalog binary in HTTP mode;
#   - warm throughput and latency (wrk) of GET /products/{id} and GET /products on `nanoshop serve`;
#   - DynamoDB round trips per catalog endpoint, from the counting adapter (e2e test).
# Everything binds 127.0.0.1; load runs are bounded in time. Client and server share the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
RUNS=${BENCH_STARTUP_RUNS:-20}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet -p nanoshop-catalog --bin catalog -p nanoshop --bin nanoshop
WORK=$(mktemp -d /tmp/nanoshop-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# --- size ---------------------------------------------------------------------------------------
bin="$TARGET/release/catalog"
size_raw=$(stat -c %s "$bin")
size_zip=$(python3 - "$bin" "$WORK/catalog.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.write(sys.argv[1], "bootstrap")
print(os.path.getsize(sys.argv[2]))
PY
)

# --- start-up -----------------------------------------------------------------------------------
# A JWKS built from the test RSA key, so the verifier starts as it would in AWS.
jwks=$(python3 - shared/api/src/testdata/rsa_public.pem <<'PY'
import base64, json, subprocess, sys
mod = subprocess.run(["openssl", "rsa", "-pubin", "-in", sys.argv[1], "-noout", "-modulus"], capture_output=True, text=True, check=True).stdout.strip().split("=", 1)[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig", "n": b64(bytes.fromhex(mod)), "e": "AQAB"}]}))
PY
)
port=18080
startup_ms=()
for _ in $(seq "$RUNS"); do
  start=$(date +%s%N)
  # DynamoDB points at a closed local port: the warm-up call fails at once instead of leaving the machine.
  env -i PATH="$PATH" PORT=$port BIND_ADDR=127.0.0.1:$port AWS_REGION=eu-west-1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
    AWS_ENDPOINT_URL=http://127.0.0.1:9 CATALOG_TABLE=c CARTS_TABLE=c ORDERS_TABLE=o IDEMPOTENCY_TABLE=i \
    IMAGE_BUCKET=b IMAGE_BASE_URL=https://img.example CURSOR_SECRET=0123456789abcdef0123456789abcdef \
    AUTH_ISSUER=https://issuer.example AUTH_AUDIENCE=bench AUTH_JWKS="$jwks" RUST_LOG=warn "$bin" >/dev/null 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do sleep 0.001; done
  end=$(date +%s%N)
  startup_ms+=("$(( (end - start) / 1000 ))")
  kill $pid; wait $pid 2>/dev/null || true
done
startup=$(printf '%s\n' "${startup_ms[@]}" | sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms, min %.1f ms, max %.1f ms", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000}')

# --- throughput ---------------------------------------------------------------------------------
"$TARGET/release/nanoshop" serve --addr 127.0.0.1:13000 --data-dir "$WORK/data" --storefront /nonexistent >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
until curl -sf -o /dev/null http://127.0.0.1:13000/health; do sleep 0.05; done
until curl -sf http://127.0.0.1:13000/products | grep -q prod_; do sleep 0.05; done
id=$(curl -sf http://127.0.0.1:13000/products | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
load() { # path -> "req/s p50 p99 errors"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:13000$1" | awk '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /Non-2xx/ {err=$NF}
    END {printf "%8.0f req/s  p50 %-8s p99 %-8s non-2xx %s", rps, p50, p99, (err==""?0:err)}'
}
one=$(load "/products/$id")
list=$(load "/products")
rss=$(ps -o rss= -p "${PIDS[0]}" | awk '{printf "%.1f MiB", $1/1024}')

# --- round trips --------------------------------------------------------------------------------
trips=$(NANOSHOP_SKIP_SERVICES=1 cargo test --quiet --test e2e catalog_reads_make_few_round_trips -- --nocapture 2>&1 | grep -E '^  (GET|PUT|POST|PATCH) ')

cat <<TABLE

nanoshop benchmark — $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), $(date -u +%F)
catalog Lambda binary (release, thin LTO, stripped)   $(awk -v b="$size_raw" 'BEGIN{printf "%.1f MiB", b/1048576}') raw, $(awk -v b="$size_zip" 'BEGIN{printf "%.1f MiB", b/1048576}') zipped
catalog start-up to first /health 200 (HTTP, $RUNS runs)  $startup
nanoshop serve, wrk -t2 -c$CONNECTIONS -d$DURATION (embedded store):
  GET /products/{id}   $one
  GET /products        $list
  server RSS after load  $rss
DynamoDB round trips per request (counting adapter):
$trips
TABLE
