#!/bin/bash
# Runs the whole test matrix, each step in its own build directory:
#   1. the normal build: every suite (C, Python, GJS, examples, consumers)
#   2. the C suite again with CYMEM_DEBUG=malloc (no chunks), then the C
#      tests and examples under valgrind memcheck; then the C suite built
#      with -Dportable=true (the GMutex lock and the code other systems than
#      Linux get), with no warning at -Dwarning_level=3
#   3. AddressSanitizer + UndefinedBehaviorSanitizer: every suite, the Python
#      and GJS ones with libasan preloaded; the library built with schedule
#      perturbation (-Dperturb=true, CYMEM_PERTURB=1), and the stress test
#      repeated 15 times
#   4. ThreadSanitizer: the C suite, perturbed, stress test repeated 15 times
#   5. the libFuzzer target, with clang, for FUZZ_SECONDS (default 60); a
#      crash fails the run and its input is kept in fuzz-artifacts/ and printed
#   6. TypeScript definitions from the GIR, and a typed GJS example
#   7. meson dist: the release tarball builds and passes its tests
# Any failing step fails the whole run.
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
STRESS_REPEATS=${STRESS_REPEATS:-15}
step() { printf '\n=== %s ===\n' "$*"; }
setup() {  # setup DIR [options...]: configure once, then reuse
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
  meson compile -C "$dir"
}

step "normal build: all suites"
setup build
meson test -C build --print-errorlogs

step "normal build: the C suite with one malloc per block (CYMEM_DEBUG=malloc)"
CYMEM_DEBUG=malloc meson test -C build --suite c --print-errorlogs

step "valgrind memcheck"
meson test -C build --setup valgrind --print-errorlogs

step "portable build: the code for systems other than Linux, C suite"
setup build-portable -Dportable=true -Dintrospection=disabled -Dexamples=false \
  -Dwarning_level=3 -Dwerror=true
meson test -C build-portable --suite c --print-errorlogs

step "AddressSanitizer + UndefinedBehaviorSanitizer (perturbed schedule)"
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dperturb=true
export G_SLICE=always-malloc UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
CYMEM_PERTURB=1 meson test -C build-asan --print-errorlogs
CYMEM_PERTURB=1 meson test -C build-asan --print-errorlogs --repeat "$STRESS_REPEATS" test-stress

step "ThreadSanitizer (perturbed schedule)"
setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dintrospection=disabled -Dexamples=false \
  -Dperturb=true
# GLib is not built with ThreadSanitizer: GSlice's magazines, which hand
# memory between threads inside libglib, would look like races; with
# always-malloc its allocations go through malloc, which TSan sees.
CYMEM_PERTURB=1 meson test -C build-tsan --suite c --print-errorlogs
CYMEM_PERTURB=1 meson test -C build-tsan --print-errorlogs --repeat "$STRESS_REPEATS" test-stress
unset G_SLICE UBSAN_OPTIONS

step "libFuzzer, ${FUZZ_SECONDS} s"
CC=clang setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dintrospection=disabled -Dexamples=false -Dtests=true
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp tests/fuzz/corpus/* "$corpus"/
mkdir -p fuzz-artifacts
if ! ASAN_OPTIONS=allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ./build-fuzz/tests/fuzz/fuzz-pool -max_total_time="$FUZZ_SECONDS" -max_len=2048 \
    -artifact_prefix=fuzz-artifacts/ "$corpus" > fuzz-artifacts/fuzz.log 2>&1; then
  tail -n 60 fuzz-artifacts/fuzz.log
  # The input as base64 (base64 -d rebuilds it), then what went wrong: a
  # CI log shown only by its end still has both.
  for crash in fuzz-artifacts/crash-* fuzz-artifacts/leak-* fuzz-artifacts/timeout-* fuzz-artifacts/oom-*; do
    [ -e "$crash" ] || continue
    echo "--- kept $crash (replay: ./build-fuzz/tests/fuzz/fuzz-pool $crash), base64: ---"
    base64 -w 76 "$crash"
  done
  echo "--- what the fuzzer reported ---"
  grep -E 'ERROR|runtime error|SUMMARY|assertion|ERROR:|#[0-4] ' fuzz-artifacts/fuzz.log | head -n 12 || true
  echo "FAILED: the fuzzer found a crash"
  exit 1
fi
tail -n 3 fuzz-artifacts/fuzz.log

step "TypeScript definitions"
tools/check-typescript.sh build

step "meson dist"
if git rev-parse --git-dir >/dev/null 2>&1 && [ -z "$(git status --porcelain --untracked-files=no)" ]; then
  meson dist -C build --formats xztar --allow-dirty >/dev/null
  echo "tarball built and tested: $(ls build/meson-dist/*.tar.xz)"
else
  echo "SKIP: meson dist needs a clean git checkout"
fi

step "all passed"
