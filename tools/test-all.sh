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
#   5. the libFuzzer target, with clang: with ASan and UBSan for FUZZ_SECONDS
#      (default 60), then with UBSan only, where tables start narrow, for
#      FUZZ_NARROW_SECONDS (default 30); a crash fails the run and its input
#      is kept in fuzz-artifacts/ and printed
#   6. TypeScript definitions from the GIR, and a typed GJS example
#   7. meson dist: the release tarball builds and passes its tests
# Any failing step fails the whole run.
# SPDX-License-Identifier: MIT
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_NARROW_SECONDS=${FUZZ_NARROW_SECONDS:-30}
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

# fuzz DIR SECONDS: runs DIR's libFuzzer target from the seed corpus; a
# crash prints the input as base64 (base64 -d rebuilds it), then what went
# wrong, so that a CI log shown only by its end still has both.
fuzz() {
  local dir=$1 seconds=$2 corpus artifacts=fuzz-artifacts/$1
  corpus=$(mktemp -d)
  cp tests/fuzz/corpus/* "$corpus"/
  mkdir -p "$artifacts"
  if ! ASAN_OPTIONS=allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "./$dir/tests/fuzz/fuzz-pool" -max_total_time="$seconds" -max_len=2048 \
      -artifact_prefix="$artifacts/" "$corpus" > "$artifacts/fuzz.log" 2>&1; then
    rm -rf "$corpus"
    tail -n 60 "$artifacts/fuzz.log"
    for crash in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [ -e "$crash" ] || continue
      echo "--- kept $crash (replay: ./$dir/tests/fuzz/fuzz-pool $crash), base64: ---"
      base64 -w 76 "$crash"
    done
    echo "--- what the fuzzer reported ---"
    grep -E 'ERROR|runtime error|SUMMARY|assertion|#[0-4] ' "$artifacts/fuzz.log" | head -n 12 || true
    echo "FAILED: the fuzzer ($dir) found a crash"
    exit 1
  fi
  rm -rf "$corpus"
  tail -n 1 "$artifacts/fuzz.log"
}

step "libFuzzer with ASan and UBSan, ${FUZZ_SECONDS} s"
CC=clang setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dintrospection=disabled -Dexamples=false -Dtests=true
fuzz build-fuzz "$FUZZ_SECONDS"

# Under a leak checker every table is wide from its first entry; without
# one, tables start narrow (8-byte entries), which only this build fuzzes.
step "libFuzzer with UBSan only (narrow tables), ${FUZZ_NARROW_SECONDS} s"
CC=clang setup build-fuzz-ubsan -Dfuzzing=true -Db_sanitize=undefined -Db_lundef=false \
  -Dintrospection=disabled -Dexamples=false -Dtests=true
fuzz build-fuzz-ubsan "$FUZZ_NARROW_SECONDS"

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
