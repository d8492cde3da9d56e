#!/usr/bin/env bash
# Issue 6 on the GPU machine: a short real study of templates/gpt on every GPU of the host at
# once (one experiment per card through CUDA_VISIBLE_DEVICES), with nvidia-smi sampled while it
# runs to show which processes hold which card. Needs, carried: .device/node.xz, .device/ar,
# .device/data2 (see loop.sh). Usage (device): bash bench/gpu/slots.sh [experiments] [budget_s]
set -u
N=${1:-4}
BUDGET=${2:-30}
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
ROOT=$PWD
xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH
AR="node $ROOT/.device/ar/bin/autoresearch.js"
export AUTORESEARCH_DATA=$ROOT/.device/data2 AUTORESEARCH_CACHE=/tmp/arcache
{ nvidia-smi --query-gpu=index,name,memory.total --format=csv; node --version; } 2>&1 | tee "$OUT/gpus.txt"
STUDY=/tmp/study
rm -rf $STUDY
$AR init $STUDY --template gpt --tag gpus > "$OUT/init.txt" 2>&1
(cd $STUDY && python3 prepare.py) > "$OUT/prepare.txt" 2>&1
( while true; do date +%T; nvidia-smi --query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader; nvidia-smi --query-gpu=index,uuid,utilization.gpu --format=csv,noheader; sleep 5; done ) > "$OUT/smi.txt" 2>&1 &
SMI=$!
cd $STUDY
time timeout 520 $AR run . --max-experiments "$N" --time-budget "$BUDGET" --command "python3 train.py" --judge greedy --json > "$OUT/events.jsonl" 2> "$OUT/run-stderr.txt"
echo "exit: $?" >> "$OUT/run-stderr.txt"
kill $SMI
$AR status . > "$OUT/status.txt" 2>&1
cp results.tsv "$OUT/" 2>/dev/null
grep -h -E '"type":"(study-started|run-started|experiment-finished|study-stopped)"' "$OUT/events.jsonl" | cut -c1-400
cat "$OUT/results.tsv" "$OUT/status.txt" "$OUT/run-stderr.txt"
