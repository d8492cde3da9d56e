#!/usr/bin/env bash
# The gpt template at depth 8 through the product, without and with the bubblewrap sandbox (one
# call, ~6-8 minutes): for each of [run] sandbox = "none" and "bwrap", a fresh study runs only its
# baseline (training for BUDGET seconds, then the evaluate step `prepare.py evaluate` in a fresh
# process), and this prints mfu_percent from the training `---` block, val_bpb from the evaluate
# step and the evaluate step's wall time (eval_total_s), side by side.
# Needs, carried: .device/node.xz (pack-node.sh), .device/ar (bench/gpu/pack-product.sh, built
# from the branch under test), .device/data2 (Gutenberg shards) and .device/bubblewrap_*.deb.
# Usage (device): bash bench/gpu/sandbox-mfu.sh [budget_s]   (default 75). Logs land in $OUT.
set -u
BUDGET=${1:-75}
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
ROOT=$PWD
xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH
AR="node $ROOT/.device/ar/bin/autoresearch.js"
rm -rf /tmp/bw && mkdir -p /tmp/bw && dpkg -x .device/bubblewrap_*.deb /tmp/bw
export PATH=/tmp/bw/usr/bin:$PATH          # the product finds bwrap on PATH
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; node --version; $AR --version; bwrap --version; } 2>&1 | tee "$OUT/gpu.txt"

# Outside /tmp and $HOME: the sandbox gives runs a private /tmp and hides $HOME.
BASE=/var/tmp/ar-sandbox-mfu
rm -rf $BASE && mkdir -p $BASE
cp -r .device/data2 $BASE/corpus
export AUTORESEARCH_DATA=$BASE/corpus
unset AUTORESEARCH_CACHE
# data/ (training tokens, data/validation/) prepared once, ahead, with the network of the host
SEED_WS=$BASE/prepared
cp -r templates/gpt $SEED_WS
(cd $SEED_WS && time python3 prepare.py) > "$OUT/prepare.txt" 2>&1 || { tail -20 "$OUT/prepare.txt"; exit 1; }

for MODE in none bwrap; do
  WS=$BASE/study-$MODE
  $AR init $WS --template gpt --tag sbx-$MODE > "$OUT/init-$MODE.txt" 2>&1 || { cat "$OUT/init-$MODE.txt"; exit 1; }
  cp -r $SEED_WS/data $WS/data
  cd $WS
  # the settings under test, whatever init already wrote (python3: no uv on the device)
  python3 - "$MODE" <<'EOF'
import re, sys
mode = sys.argv[1]
text = open("autoresearch.toml").read()
def setkey(text, section, key, value):
    line = f"{key} = {value}"
    pat = re.compile(rf"^{key}\s*=.*$", re.M)
    head = text.index(f"[{section}]")
    nxt = text.find("\n[", head + 1)
    body = text[head:nxt if nxt >= 0 else len(text)]
    body = pat.sub(line, body) if pat.search(body) else body.replace(f"[{section}]", f"[{section}]\n{line}", 1)
    return text[:head] + body + (text[nxt:] if nxt >= 0 else "")
text = setkey(text, "run", "command", '"python3 train.py"')
text = setkey(text, "run", "evaluate", '"python3 prepare.py evaluate"')
text = setkey(text, "run", "sandbox", f'"{mode}"')
text = setkey(text, "run", "network", "false")
text = setkey(text, "files", "validation", '["data/validation"]')
open("autoresearch.toml", "w").write(text)
EOF
  grep -A12 '^\[run\]' autoresearch.toml > "$OUT/config-$MODE.txt"
  echo "data/" >> .gitignore           # the copied tokens stay out of git
  git add autoresearch.toml .gitignore >/dev/null 2>&1; git commit -qm "sandbox-mfu $MODE" >/dev/null 2>&1
  START=$(date +%s)
  timeout 400 $AR run . --max-experiments 0 --judge greedy --time-budget "$BUDGET" > "$OUT/run-$MODE.txt" 2>&1
  echo "exit: $? wall: $(( $(date +%s) - START ))s" >> "$OUT/run-$MODE.txt"
  find .autoresearch -name '*.log' | sort | while read -r f; do echo "== $f"; cat "$f"; done > "$OUT/logs-$MODE.txt" 2>&1
  cp results.tsv "$OUT/results-$MODE.tsv" 2>/dev/null
  cd "$ROOT"
done

# mfu_percent: the training `---` block; val_bpb and eval_total_s: the evaluate step's (the last)
summary() {
  local f="$OUT/logs-$1.txt"
  local mfu bpb evals train
  mfu=$(grep -E '^mfu_percent:' "$f" | head -1 | awk '{print $2}')
  train=$(grep -E '^training_seconds:' "$f" | head -1 | awk '{print $2}')
  bpb=$(grep -E '^val_bpb:' "$f" | tail -1 | awk '{print $2}')
  evals=$(grep -E '^eval_total_s:' "$f" | tail -1 | awk '{print $2}')
  printf '%-6s mfu_percent=%-6s training_s=%-6s val_bpb=%-9s evaluate_wall_s=%s  (%s)\n' "$1" "${mfu:-?}" "${train:-?}" "${bpb:-?}" "${evals:-?}" "$(tail -1 "$OUT/run-$1.txt")"
}
{ echo "gpt depth 8, budget ${BUDGET}s, one baseline run each"; summary none; summary bwrap; } | tee "$OUT/summary.txt"
