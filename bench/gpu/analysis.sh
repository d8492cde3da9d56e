#!/usr/bin/env bash
# Issue 12's figures on the device machine, in two calls of under 10 minutes each:
#   templates/tiny (CPU, 60 s runs, Gutenberg sample): a 20-experiment study on 8 CPU slots, then
#   `ablate --runs 3`, `transfer --set DEPTH=<2x> --time-budget 120 --runs 3` and `heldout`;
#   templates/gpt (the GPU, at the same time): a short study at DEPTH 4 (30 s runs), then
#   `transfer --set DEPTH=8 --time-budget 60 --runs 2`.
# Needs, carried: .device/node.xz (../shared/tools/device/pack-node.sh), .device/ar.txz
# (bench/gpu/pack-product.sh, then `tar -C .device -cJf .device/ar.txz ar`: under the carry limit), .device/bubblewrap_*.deb, .device/data2 (Gutenberg shards for
# gpt) and .device/tinydata (sample-train/val.jsonl.gz). Between the calls the two workspaces
# travel as $OUT/ws.tgz -> .device/ws.tgz (carry it in the second call).
# Usage (device): bash bench/gpu/analysis.sh study    then    bash bench/gpu/analysis.sh analyse
set -u
PHASE=${1:?usage: analysis.sh study|analyse}
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
ROOT=$PWD
# node where the sandbox sees it (it hides /tmp), and bubblewrap from the carried .deb
xz -dc .device/node.xz > /usr/local/bin/node && chmod +x /usr/local/bin/node
dpkg -x .device/bubblewrap_*.deb /tmp/bw && cp /tmp/bw/usr/bin/bwrap /usr/local/bin/
[ -d .device/ar ] || tar -C .device -xJf .device/ar.txz
git config --global user.name bench && git config --global user.email bench@localhost
AR="node $ROOT/.device/ar/bin/autoresearch.js"
W=/opt/ar
mkdir -p $W
export AUTORESEARCH_CACHE=$W/cache
{ date -u; nproc; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; node --version; $AR --version; } > "$OUT/machine.txt" 2>&1

tiny_study() {
  AUTORESEARCH_DATA=$ROOT/.device/tinydata/sample-train.jsonl.gz AUTORESEARCH_VAL_DATA=$ROOT/.device/tinydata/sample-val.jsonl.gz \
    $AR init $W/tiny --template tiny --tag bench > "$OUT/tiny-init.txt" 2>&1
  cd $W/tiny && git add -A && { git diff --cached --quiet || git commit -qm tiny; }
  local start=$(date +%s)
  timeout 520 $AR run . -n 20 --time-budget 60 --slots 8 --json > "$OUT/tiny-events.jsonl" 2> "$OUT/tiny-run-stderr.txt"
  echo "exit $? after $(( $(date +%s) - start )) s" >> "$OUT/tiny-run-stderr.txt"
  $AR status . > "$OUT/tiny-status.txt" 2>&1
}

gpt_study() {
  # the runs need AUTORESEARCH_DATA too: it names the data source the cache is keyed by
  export AUTORESEARCH_DATA=$ROOT/.device/data2
  $AR init $W/gpt --template gpt --tag gpu > "$OUT/gpt-init.txt" 2>&1
  # no uv on the device: the template's `uv run` commands become python3 (torch is installed there)
  cd $W/gpt && sed -i 's/^DEPTH = 8 /DEPTH = 4 /' train.py && sed -i 's/"uv run /"python3 /' autoresearch.toml && grep -n '^DEPTH' train.py >> "$OUT/gpt-init.txt"
  python3 prepare.py >> "$OUT/gpt-init.txt" 2>&1
  git add -A && git commit -qm 'depth 4'
  local start=$(date +%s)
  timeout "${GPT_STUDY_S:-500}" $AR run . -n "${GPT_N:-8}" --time-budget "${GPT_BUDGET:-30}" --json > "$OUT/gpt-events.jsonl" 2> "$OUT/gpt-run-stderr.txt"
  echo "exit $? after $(( $(date +%s) - start )) s" >> "$OUT/gpt-run-stderr.txt"
  $AR status . > "$OUT/gpt-status.txt" 2>&1
}

tiny_analyse() {
  cd $W/tiny
  local depth
  depth=$(git show autoresearch/bench:train.ts | sed -n 's/^const DEPTH = \([0-9]*\);.*/\1/p')
  local start=$(date +%s)
  timeout 330 $AR ablate . --runs 3 --slots 8 > "$OUT/tiny-ablate.txt" 2> "$OUT/tiny-ablate.log"
  echo "ablate: exit $? after $(( $(date +%s) - start )) s" >> "$OUT/tiny-times.txt"
  start=$(date +%s)
  timeout 150 $AR transfer . --set "DEPTH=$((2 * depth))" --time-budget 120 --runs 3 --slots 8 > "$OUT/tiny-transfer.txt" 2> "$OUT/tiny-transfer.log"
  echo "transfer DEPTH=$((2 * depth)): exit $? after $(( $(date +%s) - start )) s" >> "$OUT/tiny-times.txt"
  start=$(date +%s)
  timeout 75 $AR heldout . --slots 8 > "$OUT/tiny-heldout.txt" 2> "$OUT/tiny-heldout.log"
  echo "heldout: exit $? after $(( $(date +%s) - start )) s" >> "$OUT/tiny-times.txt"
}

gpt_analyse() {
  cd $W/gpt
  export AUTORESEARCH_DATA=$ROOT/.device/data2
  [ -n "${GPT_NO_PREPARE:-}" ] || python3 prepare.py > "$OUT/gpt-prepare2.txt" 2>&1
  local start=$(date +%s)
  timeout "${GPT_TRANSFER_S:-540}" $AR transfer . --set DEPTH=8 --time-budget "${GPT_TBUDGET:-60}" --runs 2 > "$OUT/gpt-transfer.txt" 2> "$OUT/gpt-transfer.log"
  echo "gpt transfer: exit $? after $(( $(date +%s) - start )) s" >> "$OUT/gpt-times.txt"
}

case $PHASE in
  gpt)  # both gpt steps in one call (short: GPT_N=3 GPT_BUDGET=20 GPT_STUDY_S=300 GPT_TBUDGET=30 GPT_TRANSFER_S=250)
    rm -rf $W/gpt
    (gpt_study) && GPT_NO_PREPARE=1 gpt_analyse
    ;;
  study)
    rm -rf $W/tiny $W/gpt
    (tiny_study) & (gpt_study) & wait
    # both workspaces (ledgers, logs, tiny's data/) go back; gpt's tokenized data (in the cache) is re-made
    tar -C $W -czf "$OUT/ws.tgz" tiny gpt
    ;;
  analyse)
    rm -rf $W/tiny $W/gpt && tar -C $W -xzf .device/ws.tgz
    (tiny_analyse) & (gpt_analyse) & wait
    ;;
esac
ls -la "$OUT"
for f in "$OUT"/*-status.txt "$OUT"/*-ablate.txt "$OUT"/*-transfer.txt "$OUT"/*-heldout.txt "$OUT"/*-times.txt "$OUT"/*-stderr.txt; do
  [ -f "$f" ] && { echo "== $f"; tail -40 "$f"; }
done
