#!/bin/bash
# Builds an outside Meson project that uses cymem-glib as a subproject:
# dependency('cymem-glib-1') falls back to it, found through
# meson.override_dependency. With default options, the parent must see none
# of cymem-glib's tests and install none of its docs, VAPI or examples; asking
# for them (-Dcymem-glib:tests=true) brings the tests back.
# SPDX-License-Identifier: MIT
set -euo pipefail
srcdir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/outside/subprojects"
ln -s "$srcdir" "$work/outside/subprojects/cymem-glib"
cp "$srcdir/tests/consumer/consumer.c" "$work/outside/"
cat > "$work/outside/meson.build" <<'MESON'
project('outside', 'c', meson_version: '>= 1.0.0')
cymem_dep = dependency('cymem-glib-1', fallback: 'cymem-glib')
consumer = executable('consumer', 'consumer.c', dependencies: cymem_dep,
  install: true)
test('outside-consumer', consumer)
MESON

# Default options only: nothing of cymem-glib's but the library.
meson setup "$work/build" "$work/outside" --force-fallback-for=cymem-glib-1 \
  --prefix=/usr >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
meson compile -C "$work/build" >"$work/compile.log" 2>&1 || { cat "$work/compile.log"; exit 1; }
"$work/build/consumer"

tests=$(meson test -C "$work/build" --list 2>/dev/null | grep -v '^ninja' || true)
echo "tests the parent sees: $(echo "$tests" | grep -c . || true)"
echo "$tests" | sed 's/^/  /'
[ "$tests" = "outside-consumer" ] || fail "the parent sees cymem-glib's tests"
meson test -C "$work/build" >"$work/test.log" 2>&1 || { cat "$work/test.log"; exit 1; }

DESTDIR="$work/dest" meson install -C "$work/build" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; exit 1; }
installed=$(cd "$work/dest" && find . -type f -o -type l | sort)
echo "installed: $(echo "$installed" | wc -l) files"; echo "$installed" | sed "s/^/  /"
echo "$installed" | grep -q 'libcymem-glib-1\.so\.0' || fail "library not installed"
echo "$installed" | grep -q 'include/cymem-glib-1/cymem-glib/cymem-glib\.h' || fail "headers not installed"
echo "$installed" | grep -q 'pkgconfig/cymem-glib-1\.pc' || fail "pkg-config file not installed"
if echo "$installed" | grep -E 'share/doc|/vala/|\.vapi$|devhelp|examples'; then
  fail "docs, VAPI or examples installed by the subproject"
fi

# Asked for explicitly, the tests are there.
meson configure "$work/build" -Dcymem-glib:tests=true >/dev/null
n=$(meson test -C "$work/build" --list 2>/dev/null | grep -c '^cymem-glib:' || true)
echo "with -Dcymem-glib:tests=true the parent sees $n cymem-glib tests"
[ "$n" -gt 0 ] || fail "-Dcymem-glib:tests=true registers no tests"
echo "subproject OK"
