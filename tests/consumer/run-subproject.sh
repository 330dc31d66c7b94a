#!/bin/bash
# Builds an outside Meson project that uses cymem-glib as a subproject:
# dependency('cymem-glib-1') falls back to it, found through
# meson.override_dependency.
# SPDX-License-Identifier: MIT
set -euo pipefail
srcdir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/outside/subprojects"
ln -s "$srcdir" "$work/outside/subprojects/cymem-glib"
cp "$srcdir/tests/consumer/consumer.c" "$work/outside/"
cat > "$work/outside/meson.build" <<'MESON'
project('outside', 'c', meson_version: '>= 1.0.0')
cymem_dep = dependency('cymem-glib-1', fallback: 'cymem-glib')
executable('consumer', 'consumer.c', dependencies: cymem_dep)
MESON

meson setup "$work/build" "$work/outside" --force-fallback-for=cymem-glib-1 \
  -Dcymem-glib:tests=false -Dcymem-glib:examples=false \
  -Dcymem-glib:documentation=disabled -Dcymem-glib:vapi=disabled \
  >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
meson compile -C "$work/build" >"$work/compile.log" 2>&1 || { cat "$work/compile.log"; exit 1; }
"$work/build/consumer"
