#!/usr/bin/env bash
# Issue 14: a real study on every card of the host vs one card, for the same wall time (one call
# under the device's 10-minute limit). templates/gpt (DEPTH via --set-free knob edits below),
# the offline search proposer, the sandbox, the protected evaluate step. First
# `run --slots auto` (one experiment per card) for WALL seconds, then a fresh study with
# `--slots 1` for the same WALL; nvidia-smi is sampled every 5 s throughout.
# Prints: cards detected, processes per card (from the samples), busy fraction per slot (the
# study's own figure), decided experiments per hour for both and their ratio, the harness's
# overhead between runs of a slot, and how long slots sat idle while a proposal was queued.
# Needs, carried: .device/node.xz, .device/ar (bench/gpu/pack-product.sh), .device/data2,
# .device/bubblewrap_*.deb. Usage (device): bash bench/gpu/cards.sh [wall_s] [budget_s] [depth]
set -u
WALL=${1:-240}
BUDGET=${2:-90}
DEPTH=${3:-8}
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
ROOT=$PWD
xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH
rm -rf /tmp/bw && mkdir -p /tmp/bw && dpkg -x .device/bubblewrap_*.deb /tmp/bw && export PATH=/tmp/bw/usr/bin:$PATH
AR="node $ROOT/.device/ar/bin/autoresearch.js"
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader | tee "$OUT/cards.txt"

BASE=/var/tmp/ar-cards
rm -rf $BASE && mkdir -p $BASE
cp -r .device/data2 $BASE/corpus
export AUTORESEARCH_DATA=$BASE/corpus
PREP=$BASE/prepared
cp -r templates/gpt $PREP
(cd $PREP && python3 prepare.py) > "$OUT/prepare.txt" 2>&1 || { tail -20 "$OUT/prepare.txt"; exit 1; }

( while true; do echo "@ $(date +%s)"; nvidia-smi --query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader; nvidia-smi --query-gpu=index,uuid,utilization.gpu --format=csv,noheader; sleep 5; done ) > "$OUT/smi.txt" 2>&1 &
SMI=$!

for SLOTS in auto 1; do
  WS=$BASE/study-$SLOTS
  $AR init $WS --template gpt --tag cards-$SLOTS > /dev/null 2>&1
  cp -r $PREP/data $WS/data
  cd $WS
  sed -i -E "s/^DEPTH = [0-9]+/DEPTH = $DEPTH/" train.py
  sed -i -E 's#^command = .*#command = "python3 train.py"#; s#^evaluate = .*#evaluate = "python3 prepare.py evaluate"#; s#^network = .*#network = false#' autoresearch.toml
  echo "data/" >> .gitignore
  git add -A > /dev/null 2>&1; git commit -qm "cards $SLOTS" > /dev/null 2>&1
  echo "== slots $SLOTS start $(date +%s)" >> "$OUT/smi.txt"
  timeout $((WALL + 200)) $AR run . --slots $SLOTS --max-hours "$(python3 -c "print($WALL/3600)")" --time-budget "$BUDGET" --judge greedy --json > "$OUT/events-$SLOTS.jsonl" 2> "$OUT/stderr-$SLOTS.txt"
  echo "exit: $?" >> "$OUT/stderr-$SLOTS.txt"
  echo "== slots $SLOTS end $(date +%s)" >> "$OUT/smi.txt"
  cd "$ROOT"
done
kill $SMI

python3 - "$OUT" <<'PY' | tee "$OUT/summary.txt"
import json, sys, collections
out = sys.argv[1]
def load(tag):
    return [json.loads(l) for l in open(f"{out}/events-{tag}.jsonl") if l.startswith("{")]
res = {}
for tag in ("auto", "1"):
    ev = load(tag)
    started = next(e for e in ev if e["type"] == "study-started")
    stopped = next((e for e in ev if e["type"] == "study-stopped"), None)
    t0 = min(e["t"] for e in ev); t1 = max(e["t"] for e in ev)
    decided = [e for e in ev if e["type"] == "experiment-finished" and not e["baseline"]]
    hours = (t1 - t0) / 3600_000
    # overhead: per slot, gap between a run's end (next event on that slot) and the next run start
    runs = collections.defaultdict(list)
    for e in ev:
        if e["type"] == "run-started": runs[e["slot"]].append(("start", e["t"]))
        if e["type"] == "experiment-finished" and e.get("slot") is not None: runs[e["slot"]].append(("end", e["t"]))
    gaps = []
    for slot, xs in runs.items():
        xs.sort(key=lambda x: x[1])
        for (a, ta), (b, tb) in zip(xs, xs[1:]):
            if a == "end" and b == "start": gaps.append(tb - ta)
    gaps.sort()
    med = gaps[len(gaps) // 2] if gaps else None
    res[tag] = len(decided) / hours if hours else 0
    print(f"slots={tag}: {len(started['slots'])} slot(s) {[s['gpu'] for s in started['slots']]}; wall {hours*3600:.0f} s; "
          f"decided {len(decided)} ({res[tag]:.1f}/h); busy {[round(b['fraction'], 3) for b in (stopped or {}).get('busy', [])]}; "
          f"median gap end->next start {med} ms over {len(gaps)} gaps; stop: {(stopped or {}).get('reason')}")
if res.get("1"):
    print(f"experiments/hour, all cards vs one: {res['auto'] / res['1']:.2f}x")
# processes per card from the nvidia-smi samples: the most seen on one card in one sample
uuid2idx, samples, cur = {}, [], None
for line in open(f"{out}/smi.txt"):
    if line.startswith("@"):
        cur = collections.Counter(); samples.append(cur); continue
    parts = [p.strip() for p in line.split(",")]
    if len(parts) == 3 and parts[1].startswith("GPU-"): uuid2idx[parts[1]] = parts[0]
    elif len(parts) == 3 and parts[0].startswith("GPU-") and cur is not None: cur[parts[0]] += 1
most = collections.Counter()
for c in samples:
    for u, n in c.items(): most[uuid2idx.get(u, u)] = max(most[uuid2idx.get(u, u)], n)
print(f"{len(samples)} nvidia-smi samples; most processes on one card at once:", dict(sorted(most.items())))
PY
