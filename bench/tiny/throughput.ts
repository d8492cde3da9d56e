// Side-by-side throughput of the tiny template: templates/tiny/train.ts (Node, hand-written
// kernels) against the same model in PyTorch on the CPU (bench/tiny/torch_ref.py), run
// alternately so that both see the same machine load. Not a test: a benchmark to read.
//
//   node --import tsx bench/tiny/throughput.ts [--budget 20] [--rounds 3] [--torch-threads 1,2] [--set NAME=VALUE ...]
//
// --set overrides a knob of train.ts (in a temp copy) for both sides, e.g. --set N_EMBD=128.
// The data are prepared once in the temp copy (AUTORESEARCH_DATA / AUTORESEARCH_VAL_DATA pass through);
// train.ts's val_bpb comes from `tsx evaluate.ts` (EVAL_SEQ_LEN windows), torch's from its own eval;
// the hyperparameters are read from train.ts's UPPER_CASE constants and handed to torch_ref.py.
// PYTHON names the interpreter that has torch (default /usr/bin/python3, Debian's python3-torch).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { prepareData } from '../../templates/tiny/prepare.ts';

const root = new URL('../..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
};
const budget = Number(opt('budget', '20'));
const rounds = Number(opt('rounds', '3'));
const torchThreads = opt('torch-threads', '1,2').split(',').map(Number);
const python = process.env.PYTHON ?? '/usr/bin/python3';

// train.ts (a temp copy, with the --set overrides) and its knobs: `const NAME = literal; // comment`
const dir = mkdtempSync(join(tmpdir(), 'tiny-bench-'));
let trainSrc = readFileSync(join(root, 'templates/tiny/train.ts'), 'utf8');
argv.forEach((a, i) => {
  if (argv[i - 1] !== '--set') return;
  const [name, value] = a.split('=');
  const re = new RegExp(`^const ${name} = [^;]+;`, 'm');
  if (!re.test(trainSrc)) throw new Error(`train.ts has no knob ${name}`);
  trainSrc = trainSrc.replace(re, `const ${name} = ${value};`);
});
writeFileSync(join(dir, 'train.ts'), trainSrc);
for (const f of ['prepare.ts', 'evaluate.ts']) copyFileSync(join(root, 'templates/tiny', f), join(dir, f));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const knobs: Record<string, string> = {};
for (const m of trainSrc.matchAll(/^const ([A-Z][A-Z0-9_]*) = ([^;]+);/gm)) knobs[m[1]!] = m[2]!.replace(/_/g, '');
const torchArgs = Object.entries({
  depth: 'DEPTH',
  width: 'N_EMBD',
  heads: 'N_HEAD',
  'mlp-ratio': 'MLP_RATIO',
  'seq-len': 'SEQ_LEN',
  'batch-size': 'BATCH_SIZE',
  'matrix-lr': 'MATRIX_LR',
  'embed-lr': 'EMBED_LR',
  'norm-lr': 'NORM_LR',
  'warmup-ratio': 'WARMUP_RATIO',
  'warmdown-ratio': 'WARMDOWN_RATIO',
  'weight-decay': 'WEIGHT_DECAY',
  beta1: 'BETA1',
  beta2: 'BETA2',
  'adam-eps': 'ADAM_EPS',
  'grad-clip': 'GRAD_CLIP',
  seed: 'SEED',
}).flatMap(([flag, knob]) => {
  if (knobs[knob] === undefined) throw new Error(`train.ts has no constant ${knob}`);
  return [`--${flag}`, knobs[knob]!];
});

// The exact bytes train.ts trains on and is evaluated on: dir/data/train.bin and val.bin.
prepareData(join(dir, 'data'));

function summary(out: string): Record<string, number> {
  const block = out.slice(out.lastIndexOf('\n---\n'));
  return Object.fromEntries([...block.matchAll(/^(\w+):\s+(\S+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

interface Row {
  who: string;
  round: number;
  load: number;
  tps: number;
  bpb: number;
  steps: number;
}
const rows: Row[] = [];
function run(who: string, cmd: string, args: string[], round: number): void {
  const load = loadavg()[0]!;
  const env = { ...process.env, AUTORESEARCH_TIME_BUDGET: String(budget), AUTORESEARCH_OUTPUT: join(dir, 'out') };
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${who} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
  let s = summary(r.stdout);
  if (who === 'train.ts') {
    const e = spawnSync(process.execPath, ['--import', tsx, join(dir, 'evaluate.ts')], {
      cwd: dir,
      encoding: 'utf8',
      env,
    });
    if (e.status !== 0) throw new Error(`evaluate failed (${e.status}): ${e.stdout}\n${e.stderr}`);
    s = { ...s, ...summary(e.stdout) };
  }
  rows.push({ who, round, load, tps: s.tokens_per_second!, bpb: s.val_bpb!, steps: s.num_steps! });
  console.log(
    `round ${round} ${who.padEnd(16)} load ${load.toFixed(2)}  ${String(s.tokens_per_second).padStart(6)} tok/s  val_bpb ${s.val_bpb!.toFixed(4)}  steps ${s.num_steps}`,
  );
}

console.log(
  `machine: ${cpus().length} cpus, ${cpus()[0]?.model}; node ${process.version}; budget ${budget}s x ${rounds} rounds`,
);
console.log(
  `model: ${['DEPTH', 'N_EMBD', 'N_HEAD', 'SEQ_LEN', 'BATCH_SIZE'].map((k) => `${k}=${knobs[k]}`).join(' ')}`,
);
for (let round = 1; round <= rounds; round++) {
  run('train.ts', process.execPath, ['--import', tsx, join(dir, 'train.ts')], round);
  for (const th of torchThreads) {
    run(
      `torch ${th} thread${th > 1 ? 's' : ''}`,
      python,
      [
        'bench/tiny/torch_ref.py',
        '--train',
        join(dir, 'data', 'train.bin'),
        '--val',
        join(dir, 'data', 'val.bin'),
        '--budget',
        String(budget),
        '--threads',
        String(th),
        ...torchArgs,
      ],
      round,
    );
  }
}
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ours = median(rows.filter((r) => r.who === 'train.ts').map((r) => r.tps));
console.log(`\nmedian tokens/s: train.ts ${ours}`);
for (const th of torchThreads) {
  const who = `torch ${th} thread${th > 1 ? 's' : ''}`;
  const theirs = median(rows.filter((r) => r.who === who).map((r) => r.tps));
  const pairs = rows
    .filter((r) => r.who === who)
    .map((r) => rows.find((o) => o.who === 'train.ts' && o.round === r.round)!.tps / r.tps);
  console.log(
    `${who}: ${theirs} tok/s; ratio train.ts / torch = ${(ours / theirs).toFixed(2)} (per round: ${pairs.map((x) => x.toFixed(2)).join(', ')})`,
  );
}
