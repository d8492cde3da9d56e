#!/usr/bin/env bash
# GPU measurements of templates/gpt on the device machine (one call): GPU facts, the Python
# tests with the real packages, attention kernels, data preparation (tokenizer training and
# tokenization of the carried Gutenberg shards), then train.py at its defaults with a shortened
# budget and one variant. Logs land in $OUT (at most 8 files).
# Usage (device): bash bench/gpu/mfu.sh [budget_s] [variant_budget_s]
set -u
BUDGET=${1:-60}
VBUDGET=${2:-20}
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
ROOT=$PWD

{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  python3 -c "import torch, tiktoken, tokenizers, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version(), '| tiktoken', tiktoken.__version__, '| tokenizers', tokenizers.__version__, '| numpy', numpy.__version__)"
  nproc; } 2>&1 | tee "$OUT/gpu.txt"

python3 -m unittest discover -s test/gpt -p 'test_*.py' 2>&1 | grep -v '^  \|^Preparing' | tail -15 | tee "$OUT/unittest.txt"

timeout 120 python3 bench/gpu/attn_bench.py 32 2>&1 | grep -v Warning | tee "$OUT/attn.txt"

WS=/tmp/ws
rm -rf $WS && cp -r templates/gpt $WS
export AUTORESEARCH_DATA=$ROOT/.device/data AUTORESEARCH_CACHE=${AUTORESEARCH_CACHE:-/tmp/arcache}
(cd $WS && time python3 prepare.py) 2>&1 | tee "$OUT/prepare.txt"
cp "$AUTORESEARCH_CACHE"/*/tokenizer.txt "$OUT/" 2>/dev/null

(cd $WS && AUTORESEARCH_TIME_BUDGET=$BUDGET timeout 400 python3 train.py) 2>&1 | tee "$OUT/train_default.txt"
if ! grep -q '^val_bpb' "$OUT/train_default.txt"; then   # one fallback: smaller batch after OOM, else flash
  if grep -q 'out of memory' "$OUT/train_default.txt"; then
    sed -i 's/^DEVICE_BATCH_SIZE = .*/DEVICE_BATCH_SIZE = 64/' $WS/train.py
  else
    sed -i 's/^ATTENTION = .*/ATTENTION = "flash"/' $WS/train.py
  fi
  (cd $WS && AUTORESEARCH_TIME_BUDGET=$BUDGET timeout 300 python3 train.py) 2>&1 | tee "$OUT/train_fallback.txt"
fi
sed -i 's/^WINDOW_PATTERN = .*/WINDOW_PATTERN = "SSSL"/' $WS/train.py
(cd $WS && AUTORESEARCH_TIME_BUDGET=$VBUDGET timeout 240 python3 train.py) 2>&1 | tee "$OUT/train_sssl.txt"
grep -h -A12 '^---' "$OUT"/train_*.txt
