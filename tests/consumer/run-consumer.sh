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
# Strict, and limited to the 1.0 API: every call must be available in 1.0
# and none deprecated.
# shellcheck disable=SC2046
${CC:-cc} -Wall -Wextra -Wpedantic -Werror \
  -DCYMEM_VERSION_MIN_REQUIRED=CYMEM_VERSION_1_0 -DCYMEM_VERSION_MAX_ALLOWED=CYMEM_VERSION_1_0 \
  -o "$work/consumer" "$srcdir/tests/consumer/consumer.c" \
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

# The PyGObject override and the Cython declarations, as installed under the
# prefix's Python directory (e.g. lib/python3/dist-packages): the override
# must be found there, and a Cython module must build against the installed
# cymem_glib.pxd and headers alone.
override=$(find "$work/prefix" -path '*/gi/overrides/Cymem.py' -print -quit)
if [ -f "$GI_TYPELIB_PATH/Cymem-1.typelib" ] && /usr/bin/python3 -c 'import gi' 2>/dev/null; then
  test -n "$override" || { echo "gi/overrides/Cymem.py was not installed" >&2; exit 1; }
  pydir=${override%/gi/overrides/Cymem.py}
  test -f "$pydir/cymem_glib.pxd" || { echo "cymem_glib.pxd was not installed in $pydir" >&2; exit 1; }
  PYTHONPATH="$pydir" CYMEM_EXPECTED_OVERRIDE="$pydir" PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 "$srcdir/tests/python/test_override.py" 2>&1 | tail -n 3
  pyinc=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  ext=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
  if command -v cython3 >/dev/null && [ -f "$pyinc/Python.h" ]; then
    mkdir -p "$work/cython"
    for pyx in tests/cython/cymem_cython_check.pyx examples/cython/sparse_matrix.pyx; do
      mod=$(basename "$pyx" .pyx)
      cython3 -3 -I "$pydir" -o "$work/cython/$mod.c" "$srcdir/$pyx"
      # shellcheck disable=SC2046
      ${CC:-cc} -shared -fPIC -w -o "$work/cython/$mod$ext" "$work/cython/$mod.c" \
        -I"$pyinc" $(pkg-config --cflags --libs cymem-glib-1)
    done
    for test in test_pxd.py test_sparse_matrix.py; do
      PYTHONPATH="$work/cython:$pydir" PYTHONDONTWRITEBYTECODE=1 \
        /usr/bin/python3 "$srcdir/tests/cython/$test" 2>&1 | tail -n 3
    done
  fi
fi
