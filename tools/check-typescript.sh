#!/bin/sh
# Generates TypeScript definitions for the Cymem-1 namespace from the built
# GIR with @ts-for-gir/cli, and type-checks examples/typescript/records.ts
# against them. Skips, saying so, when the npm registry is unreachable.
#   tools/check-typescript.sh BUILDDIR
# SPDX-License-Identifier: MIT
set -eu
builddir=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! command -v npm >/dev/null; then
  echo "SKIP: npm is not installed (Debian: npm); TypeScript definitions not checked"
  exit 0
fi
cd "$work"
if ! timeout 300 npm install --silent --no-audit --no-fund @ts-for-gir/cli@5 typescript@5 >npm.log 2>&1; then
  echo "SKIP: the npm registry is unreachable; TypeScript definitions not checked"
  tail -n 5 npm.log
  exit 0
fi

cp "$src/examples/typescript/records.ts" "$src/examples/typescript/tsconfig.json" .
npx ts-for-gir generate Cymem-1 -g "$builddir/cymem-glib" -g /usr/share/gir-1.0 \
  -o "$work/@types" --ignoreVersionConflicts >generate.log 2>&1 || { cat generate.log; exit 1; }
test -f "$work/@types/cymem-1.d.ts"
npx tsc -p tsconfig.json
echo "TypeScript: examples/typescript/records.ts type-checks against the generated Cymem-1 definitions"
