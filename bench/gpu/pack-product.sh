#!/usr/bin/env bash
# Packs the built product for the GPU machine (which has no Node and no npm registry) into
# .device/ar (~10 MB): one esbuild bundle of the CLI laid out like dist/, the two native
# modules it loads (better-sqlite3, @resvg/resvg-js), the gpt and tiny templates, and tsx with its
# esbuild (the tiny template runs `tsx train.ts`; bin/tsx resolves it from node_modules). Node itself comes from
# ../shared/tools/device/pack-node.sh (.device/node.xz).
# Usage (here, from the repository root): bash bench/gpu/pack-product.sh
# There: node .device/ar/bin/autoresearch.js --version
set -euo pipefail
out=.device/ar
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
npx tsc -p tsconfig.build.json --outDir "$build/dist"
cp package.json "$build/"
ln -s "$PWD/node_modules" "$build/node_modules"
rm -rf "$out" && mkdir -p "$out/dist/cli" "$out/bin" "$out/node_modules/@resvg"
# the bundle sits where dist/cli/main.js would: ../../package.json and dist/../templates resolve
npx esbuild "$build/dist/cli/main.js" --bundle --platform=node --format=esm --target=node20 \
  --external:better-sqlite3 --external:@resvg/resvg-js --external:vega --external:vega-lite \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" \
  --outfile="$out/dist/cli/main.js" --log-level=warning
cp package.json "$out/"
cp bin/autoresearch.js bin/tsx "$out/bin/"
mkdir -p "$out/dist/templates" && cp -r templates/gpt templates/tiny "$out/dist/templates/"
rm -rf "$out/dist/templates/gpt/__pycache__"
for d in better-sqlite3 bindings file-uri-to-path @resvg/resvg-js @resvg/resvg-js-linux-x64-gnu tsx esbuild @esbuild/linux-x64; do
  mkdir -p "$(dirname "$out/node_modules/$d")"
  cp -r "node_modules/$d" "$out/node_modules/$d"
done
rm -rf "$out/node_modules/better-sqlite3/deps" "$out/node_modules/better-sqlite3/src" "$out/node_modules/esbuild/bin/esbuild"  # esbuild finds its binary in @esbuild/linux-x64
find "$out/node_modules/better-sqlite3/build" -mindepth 1 -not -path '*/build/Release' -not -name better_sqlite3.node -prune -exec rm -rf {} +
node "$out/bin/autoresearch.js" --version >/dev/null
du -sh "$out"
