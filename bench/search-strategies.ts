/**
 * Search strategies on the landscape (issue 12, item 4): the true value a study reaches after 40
 * and 100 experiments, over many seeds, for today's hill climbing, hill climbing with the plateau
 * response, and coordinate descent (with and without the plateau response).
 *
 * Like bench/judge-false-keeps.ts: the real SearchProposer and the real noise-aware judge on
 * templates/landscape (a known function of its knobs plus Gaussian noise), in-process, without git
 * or child processes, one slot. A study that the proposer declares exhausted stops there (as the
 * real loop does) and keeps its value. Run:
 *   node --import tsx bench/search-strategies.ts [studies] [sigma]
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoiseJudge } from '../src/judge/noise.js';
import { sampleStd } from '../src/judge/types.js';
import type { Experiment } from '../src/ledger/types.js';
import { plateauOf } from '../src/proposer/plateau.js';
import { findConstants } from '../src/proposer/search/constants.js';
import { SearchProposer } from '../src/proposer/search/search-proposer.js';
// @ts-expect-error plain JavaScript template file
import { trueValue } from '../templates/landscape/prepare.mjs';

const STUDIES = Number(process.argv[2] ?? 100);
const FIRST = Number(process.env.FIRST_SEED ?? 0);
const SIGMA = Number(process.argv[3] ?? 0.002);
const CHECKPOINTS = [40, 100];
const EXPERIMENTS = Math.max(...CHECKPOINTS);
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

const knobsOf = (source: string) =>
  Object.fromEntries(findConstants(source, 'typescript').map((c) => [c.name, c.value])) as Record<string, unknown>;

interface Strategy {
  name: string;
  strategy: 'hill' | 'coordinate';
  plateauAfter: number;
}

/** True value of the best after each checkpoint, and whether the proposer ran out first. */
async function simulate(s: Strategy, seed: number): Promise<{ at: number[]; exhaustedAt: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'ar-strat-'));
  copyFileSync(join(TEMPLATE, 'train.mjs'), join(dir, 'train.mjs'));
  const random = rng(seed * 7919 + 1);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const run = (truth: number) => truth + SIGMA * normal();
  const read = () => readFileSync(join(dir, 'train.mjs'), 'utf8');
  const commitOf = (src: string) => createHash('sha1').update(src).digest('hex');
  const judge = new NoiseJudge({ z: 2, confirmRuns: 2 });

  let bestSrc = read();
  let bestTruth = trueValue(knobsOf(bestSrc)) as number;
  const baseRuns = [run(bestTruth), run(bestTruth), run(bestTruth)];
  const noise = { sigma: sampleStd(baseRuns), runs: baseRuns };
  let best = { mean: baseRuns.reduce((a, b) => a + b, 0) / 3, runs: 3, number: 0 };
  const history: Experiment[] = [];
  const proposer = new SearchProposer({ seed, strategy: s.strategy });
  const at: number[] = [];
  let exhaustedAt: number | null = null;
  for (let n = 1; n <= EXPERIMENTS; n++) {
    if (exhaustedAt === null) {
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
        plateau: plateauOf(history, s.plateauAfter),
      });
      if (p.kind !== 'ok') {
        exhaustedAt = n;
        if (process.env.TRACE) console.log(n, p.kind, 'reason' in p ? p.reason : '');
      } else {
        const src = read();
        const truth = trueValue(knobsOf(src)) as number;
        const values = [run(truth)];
        const input = () => ({
          direction: 'minimize' as const,
          best: { mean: best.mean, runs: best.runs },
          candidate: values,
          noise,
        });
        let d = judge.decide(input());
        while (d.decision === 'confirm') {
          values.push(run(truth));
          d = judge.decide(input());
        }
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        history.push({
          ...({} as Experiment),
          id: n,
          number: n,
          baseline: false,
          status: d.decision === 'keep' ? 'keep' : 'discard',
          parentCommit: parent,
          commit: commitOf(src),
          description: p.description,
          change: p.change ?? null,
          value: mean,
        });
        if (process.env.TRACE) console.log(n, d.decision, p.description, truth.toFixed(4));
        if (d.decision === 'keep') {
          bestSrc = src;
          bestTruth = truth;
          best = { mean, runs: values.length, number: n };
        } else writeFileSync(join(dir, 'train.mjs'), bestSrc);
      }
    }
    if (CHECKPOINTS.includes(n)) at.push(bestTruth);
  }
  rmSync(dir, { recursive: true, force: true });
  return { at, exhaustedAt };
}

const strategies: Strategy[] = [
  { name: 'hill (today: no plateau response)', strategy: 'hill', plateauAfter: 0 },
  { name: 'hill + plateau response (N=10)', strategy: 'hill', plateauAfter: 10 },
  { name: 'coordinate, no plateau response', strategy: 'coordinate', plateauAfter: 0 },
  { name: 'coordinate + plateau response (N=10)', strategy: 'coordinate', plateauAfter: 10 },
];
const t0 = Date.now();
console.log(
  `${STUDIES} studies (seeds 0..${STUDIES - 1}) x ${EXPERIMENTS} experiments, noise sigma ${SIGMA}, judge noise z=2`,
);
console.log(
  `landscape optimum 1.0; machine: ${cpus().length} x ${cpus()[0]?.model}, load ${loadavg()[0]!.toFixed(1)}, node ${process.version}\n`,
);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const seOf = (xs: number[]) => sampleStd(xs) / Math.sqrt(xs.length);
const rows: string[] = [];
const perSeed: number[][][] = [];
for (const s of strategies) {
  const results: Array<Awaited<ReturnType<typeof simulate>>> = [];
  for (let seed = FIRST; seed < FIRST + STUDIES; seed++) results.push(await simulate(s, seed));
  perSeed.push(results.map((r) => r.at));
  const cols = CHECKPOINTS.map((_, i) => {
    const xs = results.map((r) => r.at[i]!);
    return `${meanOf(xs).toFixed(4)} ± ${seOf(xs).toFixed(4)} (median ${median(xs).toFixed(4)}, <= 1.01: ${xs.filter((x) => x <= 1.01).length})`;
  });
  const ex = results.filter((r) => r.exhaustedAt !== null);
  rows.push(
    `| ${s.name} | ${cols.join(' | ')} | ${ex.length}${ex.length ? ` (median at #${median(ex.map((r) => r.exhaustedAt!))})` : ''} |`,
  );
}
console.log(
  `| strategy | true value after ${CHECKPOINTS.map((c) => `${c}`).join(' | after ')} | studies that ran out of moves |`,
);
console.log(`| --- | ${CHECKPOINTS.map(() => '---').join(' | ')} | --- |`);
for (const r of rows) console.log(r);
// paired comparison against today's: per seed, difference in true value
console.log('\npaired vs today (per seed, negative = better than today), mean ± standard error, wins/losses:');
for (let k = 1; k < strategies.length; k++) {
  const parts = CHECKPOINTS.map((c, i) => {
    const d = perSeed[k]!.map((r, seed) => r[i]! - perSeed[0]![seed]![i]!);
    return `after ${c}: ${meanOf(d).toFixed(4)} ± ${seOf(d).toFixed(4)} (${d.filter((x) => x < -1e-12).length}/${d.filter((x) => x > 1e-12).length})`;
  });
  console.log(`  ${strategies[k]!.name}: ${parts.join('; ')}`);
}
console.log(`\n(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
