/**
 * Simulated studies on templates/landscape (a known function of the knobs plus Gaussian noise),
 * with the real search proposer and the real judges, without git or child processes, so that
 * hundreds of studies run in seconds. Each run is a fresh draw (the harness draws a new seed per
 * run, and the landscape's noise is keyed by seed and knobs, so runs of different code are
 * independent). `flat` makes every change a no-op (the true value is constant).
 *
 * A "policy" is what the loop does around the judge: how many baseline runs, whether the noise
 * estimate is pooled over every commit measured more than once (src/judge/pooled-noise.ts), and
 * how many runs re-measure a new best (winner's curse) before later candidates are compared
 * with it.
 *
 * `seedSigma` adds a seed effect shared by all code (LANDSCAPE_SEED_NOISE: the same seed shifts
 * every version alike, like a GPU run's initialisation and data order); `sigma` is then the part a
 * change scrambles. A `paired` policy runs candidate and best on common seeds drawn per best
 * (src/loop/paired-seeds.ts): the best's value on each seed measured once, reused for every
 * candidate compared with it, and the judge tests the paired differences.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pairedDiffNoise, poolNoise, type Measured } from '../src/judge/pooled-noise.js';
import { sampleStd, type Judge } from '../src/judge/types.js';
import type { Experiment, NoiseFloor } from '../src/ledger/types.js';
import { findConstants } from '../src/proposer/search/constants.js';
import { SearchProposer } from '../src/proposer/search/search-proposer.js';
// @ts-expect-error plain JavaScript template file
import { trueValue } from '../templates/landscape/prepare.mjs';

const TEMPLATE = new URL('../templates/landscape/', import.meta.url).pathname;

export interface Policy {
  name: string;
  judge: Judge;
  baselineRuns: number;
  /** Pool the noise estimate over every repeated measurement (else: the baseline's runs only). */
  pool: boolean;
  /** Runs that re-measure a new best; its estimate is then the mean of all its runs. 0 = none. */
  remeasure: number;
  /** Paired seeds (needs a sequential judge): the candidate's run i on the best's seed i. */
  paired?: { seeds: number };
}

export interface Outcome {
  decisions: number;
  keeps: number;
  /** Keeps whose true value is better than the best they replaced. */
  real: number;
  /** Candidate runs (first + confirmations). */
  candidateRuns: number;
  /** Baseline and re-measurement runs. */
  otherRuns: number;
  finalTruth: number;
}

export function rng(seed: number): () => number {
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

export async function simulate(
  policy: Policy,
  opts: { seed: number; experiments: number; sigma: number; flat?: boolean; seedSigma?: number; scramble?: number },
): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'ar-sim-'));
  copyFileSync(join(TEMPLATE, 'train.mjs'), join(dir, 'train.mjs'));
  const random = rng(opts.seed * 7919 + 1);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  // the seed effect: a fixed draw per seed (its own stream, so the unpaired runs stay as they were)
  const seedRandom = rng(opts.seed * 104729 + 7);
  const seedNormal = () => Math.sqrt(-2 * Math.log(1 - seedRandom())) * Math.cos(2 * Math.PI * seedRandom());
  const seedSigma = opts.seedSigma ?? 0;
  const newSeed = () => (seedSigma > 0 ? seedSigma * seedNormal() : 0); // a seed is its effect here
  const run = (truth: number, seedEffect = newSeed()) => truth + seedEffect + opts.sigma * normal();
  const pairedCount = policy.paired?.seeds ?? 0;
  const newList = () => Array.from({ length: pairedCount }, newSeed);
  const read = () => readFileSync(join(dir, 'train.mjs'), 'utf8');
  const commitOf = (s: string) => createHash('sha1').update(s).digest('hex');
  const truthOf = (src: string): number => (opts.flat ? 1 : (trueValue(knobsOf(src)) as number));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  let bestSrc = read();
  let bestTruth = truthOf(bestSrc);
  let bestSeeds = newList();
  let bestOn: Array<number | undefined> = [];
  const baseRuns = Array.from({ length: policy.baselineRuns }, (_, i) =>
    pairedCount && i < pairedCount ? (bestOn[i] = run(bestTruth, bestSeeds[i])) : run(bestTruth),
  );
  const diffs: number[][] = [];
  const measured: Measured[] = [{ commit: commitOf(bestSrc), runs: baseRuns }];
  const estimate = (): NoiseFloor | null =>
    policy.baselineRuns < 2
      ? null
      : policy.pool
        ? poolNoise(baseRuns, measured)
        : { sigma: sampleStd(baseRuns), runs: baseRuns };
  let noise = estimate();
  let bestRuns = [...baseRuns];
  let bestNumber = 0;
  const out: Outcome = { decisions: 0, keeps: 0, real: 0, candidateRuns: 0, otherRuns: baseRuns.length, finalTruth: 0 };
  const history: Experiment[] = [];
  const proposer = new SearchProposer({ seed: opts.seed });
  for (let n = 1; n <= opts.experiments; n++) {
    const parent = commitOf(bestSrc);
    const best = { mean: avg(bestRuns), runs: bestRuns.length };
    const p = await proposer.propose({
      worktree: dir,
      editable: ['train.mjs'],
      protected: [],
      objective: { metric: 'val_bpb', direction: 'minimize' },
      parentCommit: parent,
      best: { commit: parent, value: best.mean, number: bestNumber },
      number: n,
      history,
      program: null,
      budget: { experimentsLeft: null, secondsLeft: null },
      inFlight: [],
    });
    if (p.kind !== 'ok') break;
    const src = read();
    const truth = truthOf(src);
    const values: number[] = [];
    // a change that touches the random stream: its seed effect is a fresh draw, shared with nothing
    const scrambles = (opts.scramble ?? 0) > 0 && seedRandom() < opts.scramble!;
    const next = () => {
      const k = values.length;
      if (!pairedCount || scrambles) {
        if (pairedCount && bestOn[k] === undefined) {
          bestOn[k] = run(bestTruth, bestSeeds[k]);
          measured.push({ commit: parent, runs: [bestOn[k]!] });
          out.otherRuns++;
        }
        return values.push(run(truth));
      }
      if (bestOn[k] === undefined) {
        bestOn[k] = run(bestTruth, bestSeeds[k]); // the best on this seed: once, reused
        measured.push({ commit: parent, runs: [bestOn[k]!] });
        out.otherRuns++;
      }
      return values.push(run(truth, bestSeeds[k]));
    };
    const input = () => {
      if (!pairedCount) return { direction: 'minimize' as const, best, candidate: values, noise };
      const pb = bestOn.slice(0, values.length) as number[];
      const own = values.map((x, i) => x - pb[i]!);
      const dn = pairedDiffNoise([...diffs, own], noise);
      return {
        direction: 'minimize' as const,
        best,
        candidate: values,
        noise,
        ...(dn ? { paired: { best: pb, noise: dn } } : {}),
      };
    };
    next();
    let d = policy.judge.decide(input());
    while (d.decision === 'confirm') {
      next();
      d = policy.judge.decide(input());
    }
    if (pairedCount && values.length >= 2) diffs.push(values.map((x, i) => x - bestOn[i]!));
    out.decisions++;
    out.candidateRuns += values.length;
    const commit = commitOf(src);
    if (values.length > 1) measured.push({ commit, runs: values });
    history.push(experiment(n, parent, commit, p.description, p.change ?? null, d.decision, avg(values)));
    if (d.decision === 'keep') {
      out.keeps++;
      if (truth < bestTruth) out.real++;
      bestSrc = src;
      bestTruth = truth;
      bestNumber = n;
      bestRuns = [...values];
      bestSeeds = newList(); // fresh seeds for the new best
      bestOn = [];
      if (policy.remeasure > 0 && noise && noise.sigma > 0) {
        const again = Array.from({ length: policy.remeasure }, (_, i) =>
          pairedCount && i < pairedCount ? (bestOn[i] = run(truth, bestSeeds[i])) : run(truth),
        );
        out.otherRuns += again.length;
        bestRuns.push(...again);
        measured.push({ commit, runs: again });
      }
    } else {
      writeFileSync(join(dir, 'train.mjs'), bestSrc); // the harness's git reset
    }
    noise = estimate();
  }
  rmSync(dir, { recursive: true, force: true });
  out.finalTruth = bestTruth;
  return out;
}

function experiment(
  n: number,
  parent: string,
  commit: string,
  description: string,
  change: Experiment['change'],
  decision: string,
  value: number,
): Experiment {
  return {
    id: n,
    studyId: 1,
    number: n,
    baseline: false,
    status: decision === 'keep' ? 'keep' : 'discard',
    parentCommit: parent,
    commit,
    description,
    diff: '',
    change,
    proposer: 'search',
    value,
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
  };
}

/** Sums outcomes over `studies` seeds. */
export async function many(
  policy: Policy,
  opts: { studies: number; experiments: number; sigma: number; flat?: boolean; seedSigma?: number; scramble?: number },
): Promise<Outcome> {
  const tot: Outcome = { decisions: 0, keeps: 0, real: 0, candidateRuns: 0, otherRuns: 0, finalTruth: 0 };
  for (let s = 0; s < opts.studies; s++) {
    const o = await simulate(policy, {
      seed: s,
      experiments: opts.experiments,
      sigma: opts.sigma,
      flat: opts.flat,
      seedSigma: opts.seedSigma,
      scramble: opts.scramble,
    });
    tot.decisions += o.decisions;
    tot.keeps += o.keeps;
    tot.real += o.real;
    tot.candidateRuns += o.candidateRuns;
    tot.otherRuns += o.otherRuns;
    tot.finalTruth += o.finalTruth / opts.studies;
  }
  return tot;
}
