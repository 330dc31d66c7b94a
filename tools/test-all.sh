#!/bin/sh
# Runs the whole test matrix, each step in its own build directory:
#   1. the normal build: every suite (C, Python, GJS, examples, consumers)
#   2. the same C tests and examples under valgrind memcheck
#   3. AddressSanitizer + UndefinedBehaviorSanitizer: every suite, the Python
#      and GJS ones with libasan preloaded
#   4. ThreadSanitizer: the C suite (the 8-thread stress test among them)
#   5. the libFuzzer target, with clang, for FUZZ_SECONDS (default 60)
#   6. TypeScript definitions from the GIR, and a typed GJS example
#   7. meson dist: the release tarball builds and passes its tests
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
step() { printf '\n=== %s ===\n' "$*"; }
setup() {  # setup DIR [options...]: configure once, then reuse
  dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
  meson compile -C "$dir"
}

step "normal build: all suites"
setup build
meson test -C build --print-errorlogs

step "valgrind memcheck"
meson test -C build --setup valgrind --print-errorlogs

step "AddressSanitizer + UndefinedBehaviorSanitizer"
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
G_SLICE=always-malloc UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs

step "ThreadSanitizer"
setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dintrospection=disabled -Dexamples=false
# GLib is not built with ThreadSanitizer: GSlice's magazines, which hand
# memory between threads inside libglib, would look like races; with
# always-malloc its allocations go through malloc, which TSan sees.
G_SLICE=always-malloc TSAN_OPTIONS=halt_on_error=1 \
  meson test -C build-tsan --suite c --print-errorlogs

step "libFuzzer, ${FUZZ_SECONDS} s"
CC=clang setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dintrospection=disabled -Dexamples=false -Dtests=true
corpus=$(mktemp -d)
cp tests/fuzz/corpus/* "$corpus"/
ASAN_OPTIONS=allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ./build-fuzz/tests/fuzz/fuzz-pool -max_total_time="$FUZZ_SECONDS" -max_len=2048 \
  -artifact_prefix="$corpus/" "$corpus" 2>&1 | tail -n 3
rm -rf "$corpus"

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
