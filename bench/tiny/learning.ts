// Does the tiny template learn? Runs templates/tiny/train.ts (default knobs, default 60 s budget)
// a few times and the count-based baselines on the same data, and prints them side by side.
// Not a test: a benchmark to read.
//
//   node --import tsx bench/tiny/learning.ts [--runs 3] [--gutenberg]
//
// --gutenberg trains on ../shared/data/gutenberg/sample-train.jsonl.gz and evaluates on
// sample-val.jsonl.gz; without it the built-in synthetic data is used (or AUTORESEARCH_DATA).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 3) || 3;
const env: NodeJS.ProcessEnv = { ...process.env };
if (argv.includes('--gutenberg')) {
  const g = new URL('../../../shared/data/gutenberg/', import.meta.url).pathname;
  env.AUTORESEARCH_DATA = `${g}sample-train.jsonl.gz`;
  env.AUTORESEARCH_VAL_DATA = `${g}sample-val.jsonl.gz`;
}

// A workspace as init makes it: the template's files, data/ prepared once.
const ws = mkdtempSync(join(tmpdir(), 'tiny-learning-'));
for (const f of ['prepare.ts', 'evaluate.ts', 'train.ts']) copyFileSync(join(root, 'templates/tiny', f), join(ws, f));
const tsxRun = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env: { ...env, ...extra }, encoding: 'utf8' });
const prep = tsxRun([join(ws, 'prepare.ts')]);
if (prep.status !== 0) throw new Error(prep.stderr);
const base = tsxRun(['bench/tiny/baselines.ts', join(ws, 'data')]);
if (base.status !== 0) throw new Error(base.stderr);
process.stdout.write(base.stdout);

const results: number[] = [];
for (let i = 1; i <= runs; i++) {
  const load = loadavg()[0]!.toFixed(2);
  const out = { AUTORESEARCH_OUTPUT: join(ws, `out-${i}`) };
  const t = tsxRun([join(ws, 'train.ts')], out);
  if (t.status !== 0) throw new Error(`train.ts failed: ${t.stdout}\n${t.stderr}`);
  const e = tsxRun([join(ws, 'evaluate.ts')], out);
  if (e.status !== 0) throw new Error(`evaluate failed: ${e.stdout}\n${e.stderr}`);
  const r = { stdout: `${t.stdout}\n${e.stdout}` };
  const get = (k: string) => new RegExp(`^${k}:\\s+(\\S+)$`, 'm').exec(r.stdout)?.[1] ?? '?';
  results.push(Number(get('val_bpb')));
  console.log(
    `train.ts run ${i}: val_bpb ${get('val_bpb')}  steps ${get('num_steps')}  ${get('tokens_per_second')} tok/s  training ${get('training_seconds')}s  total ${get('total_seconds')}s  (load ${load})`,
  );
}
const sorted = [...results].sort((a, b) => a - b);
console.log(
  `train.ts val_bpb: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(4)}, min ${sorted[0]!.toFixed(4)}, max ${sorted.at(-1)!.toFixed(4)}`,
);
