/**
 * False keeps on the landscape: the greedy rule vs the noise-aware judge, over many seeds.
 *
 * Simulates studies with the real search proposer and the real judges on templates/landscape
 * (a known function of the knobs plus Gaussian noise), without git or child processes, so that
 * hundreds of studies run in seconds. A keep is "real" when the kept code's TRUE value is better
 * than the true value of the best it replaced. Run: node --import tsx bench/judge-false-keeps.ts
 * [studies] [experiments] [sigma]
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { GreedyJudge } from '../src/judge/greedy.js';
import { NoiseJudge } from '../src/judge/noise.js';
import { sampleStd, type Judge } from '../src/judge/types.js';
import type { Experiment } from '../src/ledger/types.js';
import { findConstants } from '../src/proposer/search/constants.js';
import { SearchProposer } from '../src/proposer/search/search-proposer.js';
// @ts-expect-error plain JavaScript template file
import { trueValue } from '../templates/landscape/prepare.mjs';

const STUDIES = Number(process.argv[2] ?? 60);
const EXPERIMENTS = Number(process.argv[3] ?? 40);
const SIGMA = Number(process.argv[4] ?? 0.002);
const TEMPLATE = new URL('../templates/landscape/', import.meta.url).pathname;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function knobsOf(source: string): Record<string, unknown> {
  return Object.fromEntries(findConstants(source, 'typescript').map((c) => [c.name, c.value]));
}

interface Outcome {
  keeps: number;
  real: number;
  runs: number;
  finalTruth: number;
}

async function simulate(judge: Judge, noiseRuns: number, seed: number): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'ar-sim-'));
  copyFileSync(join(TEMPLATE, 'train.mjs'), join(dir, 'train.mjs'));
  const random = rng(seed * 7919 + 1);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const run = (truth: number) => truth + SIGMA * normal();
  const read = () => readFileSync(join(dir, 'train.mjs'), 'utf8');
  const commitOf = (s: string) => createHash('sha1').update(s).digest('hex');

  let bestSrc = read();
  let bestTruth = trueValue(knobsOf(bestSrc)) as number;
  const baseRuns = Array.from({ length: noiseRuns }, () => run(bestTruth));
  const noise = noiseRuns > 1 ? { sigma: sampleStd(baseRuns), runs: baseRuns } : null;
  let best = { mean: baseRuns.reduce((a, b) => a + b, 0) / baseRuns.length, runs: baseRuns.length, number: 0 };
  let runs = baseRuns.length;
  const history: Experiment[] = [];
  const proposer = new SearchProposer({ seed });
  let keeps = 0;
  let real = 0;
  for (let n = 1; n <= EXPERIMENTS; n++) {
    const parent = commitOf(bestSrc);
    const p = await proposer.propose({
      worktree: dir,
      editable: ['train.mjs'],
      protected: [],
      objective: { metric: 'val_bpb', direction: 'minimize' },
      parentCommit: parent,
      best: { commit: parent, value: best.mean, number: best.number },
      number: n,
      history,
      program: null,
      budget: { experimentsLeft: null, secondsLeft: null },
      inFlight: [],
    });
    if (p.kind !== 'ok') break;
    const src = read();
    const truth = trueValue(knobsOf(src)) as number;
    const values = [run(truth)];
    runs++;
    let d = judge.decide({
      direction: 'minimize',
      best: { mean: best.mean, runs: best.runs },
      candidate: values,
      noise,
    });
    while (d.decision === 'confirm') {
      values.push(run(truth));
      runs++;
      d = judge.decide({ direction: 'minimize', best: { mean: best.mean, runs: best.runs }, candidate: values, noise });
    }
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const commit = commitOf(src);
    history.push({
      id: n,
      studyId: 1,
      number: n,
      baseline: false,
      status: d.decision === 'keep' ? 'keep' : 'discard',
      parentCommit: parent,
      commit,
      description: p.description,
      diff: '',
      change: p.change ?? null,
      proposer: 'search',
      value: mean,
      metrics: {},
      reason: '',
      logPath: null,
      logTail: '',
      exitCode: 0,
      pgid: null,
      attempts: 1,
      usage: null,
      env: {},
      startedAt: 0,
      endedAt: 0,
      proposeMs: 0,
      runMs: 0,
      slot: 0,
      evidence: null,
      repairs: [],
      host: null,
      leaseUntil: null,
    });
    if (d.decision === 'keep') {
      keeps++;
      if (truth < bestTruth) real++;
      bestSrc = src;
      bestTruth = truth;
      best = { mean, runs: values.length, number: n };
    } else {
      // reset the file to the best (the harness's git reset)
      (await import('node:fs')).writeFileSync(join(dir, 'train.mjs'), bestSrc);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return { keeps, real, runs, finalTruth: bestTruth };
}

const judges: Array<[string, Judge, number]> = [
  ['greedy (the original rule)', new GreedyJudge(0), 1],
  ['noise-aware z=2, 2 confirmations', new NoiseJudge({ z: 2, confirmRuns: 2 }), 3],
  ['noise-aware z=3, 2 confirmations', new NoiseJudge({ z: 3, confirmRuns: 2 }), 3],
];
console.log(`${STUDIES} studies x ${EXPERIMENTS} experiments, noise sigma ${SIGMA}, landscape optimum 1.0`);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}\n`);
for (const [name, judge, noiseRuns] of judges) {
  const tot = { keeps: 0, real: 0, runs: 0, finalTruth: 0 };
  for (let s = 0; s < STUDIES; s++) {
    const o = await simulate(judge, noiseRuns, s);
    tot.keeps += o.keeps;
    tot.real += o.real;
    tot.runs += o.runs;
    tot.finalTruth += o.finalTruth;
  }
  const frac = tot.keeps ? tot.real / tot.keeps : 1;
  console.log(
    `${name.padEnd(34)} keeps ${String(tot.keeps).padStart(5)}  real ${(frac * 100).toFixed(1).padStart(5)}%  ` +
      `mean final true value ${(tot.finalTruth / STUDIES).toFixed(4)}  runs/study ${(tot.runs / STUDIES).toFixed(1)}`,
  );
}
