/**
 * Paired seeds vs unpaired (issue 12, item 3), simulated on the landscape (bench/simulate.ts: the
 * real search proposer and the real sequential judge, no git or processes), with a seed effect:
 * each seed shifts every version of the code alike by seedSigma x N(0, 1) (like a GPU run's
 * initialisation and data order; templates/landscape LANDSCAPE_SEED_NOISE), and a change adds
 * its own scrambled noise of `sigma` on top. Per setting, side by side:
 *  - no-op changes kept (the landscape made flat) and runs per decision;
 *  - on the landscape as shipped: keeps, real keeps among them, final true value, runs per decision.
 * Also the open question on `noise_runs` (the baseline's runs: the first decisions' df): 3 vs 5,
 * and how often a 7-sigma gain is kept at the first decision.
 *
 * Run: node --import tsx bench/judge-paired.ts [studies=200] [experiments=20] [landscapeStudies=40]
 */
import { cpus, loadavg } from 'node:os';
import { SequentialJudge } from '../src/judge/sequential.js';
import { many, rng, type Policy } from './simulate.js';

const STUDIES = Number(process.argv[2] ?? 200);
const EXPERIMENTS = Number(process.argv[3] ?? 20);
const LAND = Number(process.argv[4] ?? 40);

const judge = () => new SequentialJudge({ alpha: 0.02, maxRuns: 4, futility: 0.5 });
const unpaired = (baselineRuns = 3): Policy => ({
  name: `unpaired, noise_runs ${baselineRuns}`,
  judge: judge(),
  baselineRuns,
  pool: true,
  remeasure: 2,
});
const paired = (baselineRuns = 3): Policy => ({
  ...unpaired(baselineRuns),
  name: `paired, noise_runs ${baselineRuns}`,
  paired: { seeds: Math.max(4, baselineRuns) },
});

const pct = (k: number, n: number) => {
  const f = k / Math.max(1, n);
  return `${(100 * f).toFixed(2)}% +- ${(196 * Math.sqrt((f * (1 - f)) / Math.max(1, n))).toFixed(2)}`;
};

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
// total spread over seeds ~0.01 in every setting: seed effect s, scrambled part c, s^2 + c^2 = 0.01^2
// scramble: the share of changes that touch the random stream (their seed effect is a fresh draw)
const settings: Array<[number, number, number]> = [
  [0.00995, 0.001, 0], // a change leaves the random stream alone (the H200 case: same seed ~2e-5 apart)
  [0.00995, 0.001, 0.5], // half the changes scramble it: a mix the pooled difference sigma must survive
  [0.0087, 0.005, 0], // half the variance shared
  [0, 0.01, 0], // every change scrambles the random stream: nothing shared
];
const label = (s: number, c: number, x: number) =>
  `seed ${s} + own ${c}${x ? `, ${x * 100}% scramble` : ''}`.padEnd(34);
console.log(`\nno-op changes kept (flat landscape), ${STUDIES} studies x ${EXPERIMENTS} experiments:`);
for (const [seedSigma, sigma, scramble] of settings)
  for (const p of [unpaired(), paired()]) {
    const o = await many(p, { studies: STUDIES, experiments: EXPERIMENTS, sigma, seedSigma, scramble, flat: true });
    console.log(
      `  ${label(seedSigma, sigma, scramble)} ${p.name.padEnd(24)} kept ${o.keeps} of ${o.decisions} (${pct(o.keeps, o.decisions)})  ` +
        `runs per decision ${((o.candidateRuns + o.otherRuns) / Math.max(1, o.decisions)).toFixed(2)}`,
    );
  }
console.log(`\nlandscape as shipped, ${LAND} studies x 40 experiments (optimum 1.0):`);
for (const [seedSigma, sigma, scramble] of settings)
  for (const p of [unpaired(), paired()]) {
    const o = await many(p, { studies: LAND, experiments: 40, sigma, seedSigma, scramble });
    console.log(
      `  ${label(seedSigma, sigma, scramble)} ${p.name.padEnd(24)} keeps ${o.keeps}, real ${((100 * o.real) / Math.max(1, o.keeps)).toFixed(1)}%  ` +
        `final true value ${o.finalTruth.toFixed(4)}  runs per decision ${((o.candidateRuns + o.otherRuns) / Math.max(1, o.decisions)).toFixed(2)}`,
    );
  }

console.log('\nnoise_runs 3 vs 5 (unpaired, no seed effect, sigma 0.01):');
for (const n of [3, 5]) {
  const flat = await many(unpaired(n), { studies: STUDIES, experiments: EXPERIMENTS, sigma: 0.01, flat: true });
  const land = await many(unpaired(n), { studies: LAND, experiments: 40, sigma: 0.005 });
  console.log(
    `  noise_runs ${n}: no-op kept ${flat.keeps} of ${flat.decisions} (${pct(flat.keeps, flat.decisions)}), runs per decision ${((flat.candidateRuns + flat.otherRuns) / flat.decisions).toFixed(2)}; ` +
      `landscape sigma 0.005: real ${((100 * land.real) / Math.max(1, land.keeps)).toFixed(1)}%, final ${land.finalTruth.toFixed(4)}, runs per decision ${((land.candidateRuns + land.otherRuns) / land.decisions).toFixed(2)}`,
  );
}
// The first decision of a study: a candidate 7 sigma better than the baseline, sigma known only
// from the baseline's runs (noise_runs - 1 df); how often is it kept (after up to max_runs runs)?
const random = rng(99);
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
for (const n of [3, 5]) {
  let kept = 0;
  let runs = 0;
  const N = 20000;
  for (let i = 0; i < N; i++) {
    const base = Array.from({ length: n }, () => 1 + 0.01 * normal());
    const m = base.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(base.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
    const noise = { sigma: sd, runs: base, df: n - 1 };
    const cand: number[] = [];
    const j = judge();
    let d: ReturnType<typeof j.decide>;
    do {
      cand.push(0.93 + 0.01 * normal());
      d = j.decide({ direction: 'minimize', best: { mean: m, runs: n }, candidate: cand, noise });
    } while (d.decision === 'confirm');
    runs += cand.length;
    if (d.decision === 'keep') kept++;
  }
  console.log(
    `  first decision, a 7-sigma gain, noise_runs ${n}: kept ${pct(kept, N)}, ${(runs / N).toFixed(2)} candidate runs (+ ${n} baseline runs)`,
  );
}
