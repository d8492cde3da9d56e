#!/usr/bin/env bash
# The ablation and transfer figure on templates/tiny (issue 12, "Figures"): a study on the
# Gutenberg sample, then `ablate`, `transfer --set DEPTH=<2x>` and the held-out check; every
# table is printed and kept under $OUT (default: a temp dir). Rerunnable; knobs by environment:
#
#   BUDGET=60 EXPERIMENTS=20 RUNS=3 TBUDGET=120 SLOTS=1 bash bench/analysis-tiny.sh   # the full figure
#   BUDGET=10 EXPERIMENTS=6 RUNS=2 TBUDGET=20 bash bench/analysis-tiny.sh              # a quick check
#
# DATA (default ../shared/data/gutenberg next to this checkout) holds sample-train.jsonl.gz and
# sample-val.jsonl.gz. Needs git and node (tsx comes with the package).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
BUDGET="${BUDGET:-60}"
EXPERIMENTS="${EXPERIMENTS:-20}"
RUNS="${RUNS:-3}"
TBUDGET="${TBUDGET:-120}"
SLOTS="${SLOTS:-1}"
DATA="${DATA:-$here/../../shared/data/gutenberg}"
[ -f "$DATA/sample-train.jsonl.gz" ] || DATA=/work/shared/data/gutenberg
OUT="${OUT:-$(mktemp -d -t analysis-tiny-XXXXXX)}"
ws="$OUT/ws"
ar() { node --import tsx "$here/src/cli/main.ts" "$@"; }
say() { printf '\n## %s\n' "$*" | tee -a "$OUT/summary.md"; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); budget ${BUDGET}s, $EXPERIMENTS experiments, --runs $RUNS, transfer budget ${TBUDGET}s; out: $OUT" | tee "$OUT/summary.md"
AUTORESEARCH_DATA="$DATA/sample-train.jsonl.gz" AUTORESEARCH_VAL_DATA="$DATA/sample-val.jsonl.gz" \
  ar init "$ws" --template tiny --tag bench >"$OUT/init.log"
git -C "$ws" add -A
git -C "$ws" diff --cached --quiet || git -C "$ws" -c user.name=bench -c user.email=bench@localhost commit -qm tiny

say "study: $EXPERIMENTS experiments at ${BUDGET}s (search proposer, $SLOTS slot(s))"
start=$(date +%s)
ar run "$ws" -n "$EXPERIMENTS" --time-budget "$BUDGET" --slots "$SLOTS" >"$OUT/run.log" 2>&1 || true
ar status "$ws" | tee -a "$OUT/summary.md"
echo "study took $(( $(date +%s) - start )) s" | tee -a "$OUT/summary.md"

say "ablate --runs $RUNS"
start=$(date +%s)
ar ablate "$ws" --runs "$RUNS" --slots "$SLOTS" 2>"$OUT/ablate.log" | tee -a "$OUT/summary.md" || true
echo "ablation took $(( $(date +%s) - start )) s; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/summary.md"

depth=$(git -C "$ws" show autoresearch/bench:train.ts | sed -n 's/^const DEPTH = \([0-9]*\);.*/\1/p')
say "transfer --set DEPTH=$((2 * depth)) --time-budget $TBUDGET --runs $RUNS --chain"
start=$(date +%s)
ar transfer "$ws" --set "DEPTH=$((2 * depth))" --time-budget "$TBUDGET" --runs "$RUNS" --chain --slots "$SLOTS" \
  2>"$OUT/transfer.log" | tee -a "$OUT/summary.md" || true
echo "transfer took $(( $(date +%s) - start )) s; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/summary.md"

say "held-out check"
ar heldout "$ws" --slots "$SLOTS" 2>"$OUT/heldout.log" | tee -a "$OUT/summary.md" || true
echo "tables in $OUT/summary.md"
