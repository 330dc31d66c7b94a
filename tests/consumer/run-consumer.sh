#!/bin/bash
# Installs cymem-glib into a temporary prefix, then builds and runs
# consumer.c against it with pkg-config, as an outside program would.
# SPDX-License-Identifier: MIT
set -euo pipefail
srcdir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

meson setup "$work/build" "$srcdir" --prefix="$work/prefix" --libdir=lib \
  -Dtests=false -Dexamples=false >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
meson install -C "$work/build" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
pkg-config --exists --print-errors cymem-glib-1
test -f "$work/prefix/lib/girepository-1.0/Cymem-1.typelib" || test "${CYMEM_NO_GIR:-}" = 1
# shellcheck disable=SC2046
${CC:-cc} -Wall -Werror -o "$work/consumer" "$srcdir/tests/consumer/consumer.c" \
  $(pkg-config --cflags --libs cymem-glib-1)
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer"

# The binding suites again, this time against the installed typelib only.
export GI_TYPELIB_PATH="$work/prefix/lib/girepository-1.0"
export LD_LIBRARY_PATH="$work/prefix/lib"
if [ -f "$GI_TYPELIB_PATH/Cymem-1.typelib" ]; then
  if /usr/bin/python3 -c 'import gi' 2>/dev/null; then
    /usr/bin/python3 "$srcdir/tests/python/test_pool.py" 2>&1 | tail -n 3
  fi
  if command -v gjs >/dev/null; then
    gjs "$srcdir/tests/gjs/test-pool.js" | tail -n 1
  fi
fi
