#!/usr/bin/env bash
# libFuzzer targets (fuzz/, cargo-fuzz layout) for the parsers that read attacker-controlled input:
# webhook_signature (the Stripe-Signature check), webhook_event (the event parser behind a valid
# signature) and cursor (the list cursor decoder). Each target's doc comment says what it proves.
#
#   scripts/fuzz.sh install          # cargo-fuzz $CARGO_FUZZ_VERSION, if missing; needs crates.io
#   scripts/fuzz.sh build            # every target; needs crates.io the first time, and leaves all
#                                    # that `run` needs (crates, lock file, binaries) on disk
#   scripts/fuzz.sh run [seconds]    # each target for [seconds] (else $FUZZ_SECONDS, else 10);
#                                    # offline; fails if any target finds a crash
#
# `make test` runs them briefly (10 s each), `make fuzz` longer (FUZZ_SECONDS, default 300).
# cargo-fuzz lives under $NANOSHOP_CACHE/cargo-tools (default ~/.cache/nanoshop/cargo-tools), the
# instrumented build under $CARGO_TARGET_DIR/fuzz (default target/fuzz), apart from the
# workspace's own builds and reused from run to run. A crash's input is kept in
# fuzz/artifacts/<target>/; `$CARGO_TARGET_DIR/fuzz/x86_64-unknown-linux-gnu/release/<target> <file>`
# replays it. Each run's libFuzzer log is in $CARGO_TARGET_DIR/fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${NANOSHOP_CACHE:-$HOME/.cache/nanoshop}
CARGO_FUZZ_VERSION=0.13.2
TOOLS=$CACHE/cargo-tools
export PATH="$TOOLS/bin:$PATH"
TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")/fuzz
TARGETS=(webhook_signature webhook_event cursor)

# cargo-fuzz is made for nightly: a sanitizer is `-Zsanitizer=...`, and it may pass other -Z flags
# in later versions (with `-s none`, 0.13.2 passes only stable -C flags). So: the rustup nightly
# when there is one, else the stable toolchain with RUSTC_BOOTSTRAP=1, which lets a stable rustc
# take nightly flags (a fresh machine has only the pinned stable).
fuzz_toolchain() {
  if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    export RUSTUP_TOOLCHAIN=nightly
  else
    export RUSTC_BOOTSTRAP=1
  fi
}

# The same flags for `build` and `run`, so `run` finds the build up to date and compiles nothing.
# - No sanitizer (`-s none`): AddressSanitizer finds memory errors in unsafe code, and nanoshop's
#   crates forbid `unsafe`; it makes the build and every execution slower. What the targets catch
#   are panics and failed assertions, including integer overflow: `--debug-assertions` turns on
#   overflow checks and debug_assert! in every crate of the build, dependencies included.
# - 16 codegen units instead of cargo-fuzz's default of 1, so the big crates of the tree (the AWS
#   SDK, async-stripe, axum) compile on both cores; the fuzzed code may run a little slower.
BUILD_FLAGS=(--sanitizer none --debug-assertions --codegen-units 16 --target-dir "$TARGET_DIR")

log() { printf 'fuzz: %s\n' "$*" >&2; }

install() {
  if [ "$(cargo-fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    log "installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOLS"
    cargo install --locked --quiet --version "$CARGO_FUZZ_VERSION" cargo-fuzz --root "$TOOLS"
  fi
}

build() {
  command -v cargo-fuzz >/dev/null || { log "no cargo-fuzz: run scripts/fuzz.sh install"; exit 1; }
  fuzz_toolchain
  # Downloads what fuzz/Cargo.lock names, so `run` needs no network. Not --locked: when a crate
  # under test gains a dependency, cargo adds it to the lock file rather than failing.
  (cd fuzz && cargo fetch --quiet)
  cargo fuzz build "${BUILD_FLAGS[@]}"
}

run() {
  local seconds=${1:-${FUZZ_SECONDS:-10}}
  command -v cargo-fuzz >/dev/null || { log "no cargo-fuzz: run scripts/fuzz.sh install"; exit 1; }
  fuzz_toolchain
  # Offline: `cargo fuzz run` calls `cargo build` again (a no-op after `build`), which must not
  # try the network inside make test's namespace.
  export CARGO_NET_OFFLINE=true
  mkdir -p "$TARGET_DIR/logs"
  local target failed=() summary=()
  for target in "${TARGETS[@]}"; do
    # New inputs go to the first corpus directory, fuzz/corpus-grown/<target> (not committed; it
    # carries coverage from run to run); the committed seeds in fuzz/corpus/<target> are only read.
    mkdir -p "fuzz/corpus-grown/$target"
    local run_log="$TARGET_DIR/logs/$target.log"
    log "$target: ${seconds}s"
    # -timeout: one input taking 20 s is a finding too (libFuzzer reports it as a crash).
    if ! cargo fuzz run "${BUILD_FLAGS[@]}" "$target" "fuzz/corpus-grown/$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -timeout=20 -print_final_stats=1 >"$run_log" 2>&1; then
      tail -n 60 "$run_log" >&2
      log "$target FAILED (log: $run_log; the input is in fuzz/artifacts/$target/)"
      failed+=("$target")
    fi
    # libFuzzer's last words: `Done N runs in S second(s)` and `stat::average_exec_per_sec: E`.
    local runs per_sec
    runs=$(sed -n 's/^Done \([0-9]*\) runs in.*/\1/p' "$run_log" | tail -n 1)
    per_sec=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$run_log" | tail -n 1)
    summary+=("$(printf '%-18s %12s runs %10s exec/s' "$target" "${runs:-?}" "${per_sec:-?}")")
  done
  printf '%s\n' "${summary[@]}"
  if [ ${#failed[@]} -gt 0 ]; then
    log "crashed: ${failed[*]}"
    exit 1
  fi
}

case "${1:-}" in
  install) install ;;
  build) build ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 install|build|run [seconds]" >&2; exit 2 ;;
esac
