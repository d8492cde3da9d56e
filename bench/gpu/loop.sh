#!/usr/bin/env bash
# The product on the GPU machine (one call): train.py at its defaults on this card (MFU), then
# `autoresearch init --template gpt` and `autoresearch run --max-experiments 3` with the search
# proposer and a shortened budget. Needs, carried: .device/node.xz (pack-node.sh), .device/ar
# (the bundled CLI, see RESULTS.md) and .device/data2 (Gutenberg shards). Logs land in $OUT.
# Usage (device): bash bench/gpu/loop.sh [default_budget_s|0] [loop_budget_s] [judge]
# (default_budget_s 0 skips the default run.)
set -u
BUDGET=${1:-45}
LOOP_BUDGET=${2:-60}
JUDGE=${3:-noise}
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
ROOT=$PWD
xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH
AR="node $ROOT/.device/ar/bin/autoresearch.js"
export AUTORESEARCH_DATA=$ROOT/.device/data2 AUTORESEARCH_CACHE=/tmp/arcache

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; node --version; $AR --version; } 2>&1 | tee "$OUT/gpu.txt"

WS0=/tmp/ws0
rm -rf $WS0 && cp -r templates/gpt $WS0
(cd $WS0 && python3 prepare.py) 2>&1 | tee "$OUT/prepare.txt"
if [ "$BUDGET" != 0 ]; then
  (cd $WS0 && AUTORESEARCH_TIME_BUDGET=$BUDGET timeout 300 python3 train.py) 2>&1 | tee "$OUT/train_default.txt"
fi

STUDY=/tmp/study
rm -rf $STUDY
{ $AR init $STUDY --template gpt --tag gpu
  cd $STUDY
  time timeout 540 $AR run . --max-experiments 3 --time-budget $LOOP_BUDGET --command "python3 train.py" --judge $JUDGE
  echo "exit: $?"
  $AR status .
  git log --oneline --decorate autoresearch/gpu | head -20
} 2>&1 | tee "$OUT/loop.txt"
cp $STUDY/results.tsv "$OUT/" 2>/dev/null
find $STUDY/.autoresearch -name '*.log' | sort | while read -r f; do echo "== $f"; grep -E '^(gpu|model|training|eval):' "$f"; grep -A10 '^---$' "$f"; done > "$OUT/summaries.txt" 2>&1
cat "$OUT/results.tsv"
