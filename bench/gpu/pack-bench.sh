#!/usr/bin/env bash
# Packs a CPU benchmark for the device machine (no Node, no npm there): one esbuild bundle of
# bench/<name>.ts with its one native module (better-sqlite3) and the landscape template, under
# .device/bench. Node comes from ../shared/tools/device/pack-node.sh (.device/node.xz).
# Usage (here): bash bench/gpu/pack-bench.sh slots-keeps
# There:        node .device/bench/bench/slots-keeps.mjs 240 10 both
set -euo pipefail
name=${1:?usage: pack-bench.sh <bench name, e.g. slots-keeps>}
out=.device/bench
rm -rf "$out" && mkdir -p "$out/bench" "$out/templates" "$out/node_modules"
npx esbuild "bench/$name.ts" --bundle --platform=node --format=esm --target=node20 \
  --external:better-sqlite3 \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" \
  --outfile="$out/bench/$name.mjs" --log-level=warning
cp -r templates/landscape "$out/templates/"
for d in better-sqlite3 bindings file-uri-to-path; do cp -r "node_modules/$d" "$out/node_modules/$d"; done
rm -rf "$out/node_modules/better-sqlite3/deps" "$out/node_modules/better-sqlite3/src"
find "$out/node_modules/better-sqlite3/build" -mindepth 1 -not -path '*/build/Release' -not -name better_sqlite3.node -prune -exec rm -rf {} +
du -sh "$out"
