#!/bin/bash
# check-chunk-tools.sh PROGRAM valgrind|asan
#
# Runs chunk-misuse in each mode under a memory tool and checks the tool
# reports the misuse of a chunk-carved block as it would for malloc(), and
# nothing for correct use.
#
# SPDX-License-Identifier: MIT
set -euo pipefail

prog=$1
tool=$2
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run MODE EXPECTED_STATUS(ok|fail) PATTERN...: every pattern must appear.
run() {
  local mode=$1 expect=$2 status=0
  shift 2
  case $tool in
    valgrind)
      G_SLICE=always-malloc G_DEBUG=gc-friendly valgrind --error-exitcode=99 \
        --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect \
        "$prog" "$mode" >"$log" 2>&1 || status=$?
      ;;
    asan)
      G_SLICE=always-malloc ASAN_OPTIONS=detect_leaks=1 "$prog" "$mode" >"$log" 2>&1 || status=$?
      ;;
  esac
  if [ "$expect" = ok ] && [ "$status" -ne 0 ]; then
    echo "FAIL: $tool, $mode: exit status $status, expected 0"; cat "$log"; exit 1
  fi
  if [ "$expect" = fail ] && [ "$status" -eq 0 ]; then
    echo "FAIL: $tool, $mode: the tool reported nothing"; cat "$log"; exit 1
  fi
  for pattern in "$@"; do
    if ! grep -Eq -- "$pattern" "$log"; then
      echo "FAIL: $tool, $mode: no match for /$pattern/"; cat "$log"; exit 1
    fi
  done
  echo "ok: $tool catches $mode"
}

case $tool in
  valgrind)
    run ok ok "ERROR SUMMARY: 0 errors"
    run overflow fail "Invalid write of size 1" "0 bytes after a block of size 64 alloc'd" "cymem_pool_alloc"
    run underflow fail "Invalid write of size 1" "1 bytes before a block of size 64 alloc'd"
    run zero fail "Invalid write of size 1" "0 bytes after a block of size 0 alloc'd"
    run zero-small fail "Invalid write of size 1" "0 bytes after a block of size 0 alloc'd"
    run use-after-free fail "Invalid read of size 1" "inside a block of size 64 free'd" "cymem_pool_free"
    run use-after-reuse fail "Invalid write of size 1" "inside a block of size 64 free'd"
    run leak fail "64 bytes in 1 blocks are (definitely|indirectly) lost" "cymem_pool_alloc"
    # A live pool's table is malloc()ed under a leak checker, not mapped
    # (which memcheck scans as a root): a leaked pool's blocks are lost.
    run live-many ok "ERROR SUMMARY: 0 errors"
    run leak-many fail "300,000 bytes in 300 blocks are (definitely|indirectly) lost"
    ;;
  asan)
    run ok ok
    run overflow fail "ERROR: AddressSanitizer: use-after-poison" "WRITE of size 1"
    run underflow fail "ERROR: AddressSanitizer: use-after-poison" "WRITE of size 1"
    # (ASan's own malloc (0) gives one writable byte, so zero-small is not
    # checked here: the pool behaves as malloc does.)
    run zero fail "ERROR: AddressSanitizer: use-after-poison" "WRITE of size 1"
    run use-after-free fail "ERROR: AddressSanitizer: use-after-poison" "READ of size 1"
    run use-after-reuse fail "ERROR: AddressSanitizer: use-after-poison" "WRITE of size 1"
    # LeakSanitizer does not scan a mapping the library made: the table is
    # malloc()ed, so a live pool's blocks are not reported, a leaked one's are.
    run live-many ok
    run leak-many fail "leak of 300000 byte\(s\) in 300 object"
    ;;
  *)
    echo "usage: $0 PROGRAM valgrind|asan"; exit 2
    ;;
esac
