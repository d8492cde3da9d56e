/**
 * False keeps on the landscape: the greedy rule, the earlier noise-aware judge and the sequential
 * judge (the default), over many seeds. Simulated studies (./simulate.ts: the real search
 * proposer and the real judges on templates/landscape, Gaussian noise, no git or child
 * processes). A keep is "real" when the kept code's TRUE value is better than the true value of
 * the best it replaced. Run: node --import tsx bench/judge-false-keeps.ts [studies] [experiments] [sigma]
 */
import { cpus, loadavg } from 'node:os';
import { GreedyJudge } from '../src/judge/greedy.js';
import { NoiseJudge } from '../src/judge/noise.js';
import { SequentialJudge } from '../src/judge/sequential.js';
import { many, type Policy } from './simulate.js';

const STUDIES = Number(process.argv[2] ?? 60);
const EXPERIMENTS = Number(process.argv[3] ?? 40);
const SIGMA = Number(process.argv[4] ?? 0.002);

const policies: Policy[] = [
  { name: 'greedy (the original rule)', judge: new GreedyJudge(0), baselineRuns: 1, pool: false, remeasure: 0 },
  {
    name: 'noise-aware z=2, 2 confirmations',
    judge: new NoiseJudge({ z: 2, confirmRuns: 2 }),
    baselineRuns: 3,
    pool: false,
    remeasure: 0,
  },
  {
    name: 'noise-aware z=3, 2 confirmations',
    judge: new NoiseJudge({ z: 3, confirmRuns: 2 }),
    baselineRuns: 3,
    pool: false,
    remeasure: 0,
  },
  {
    name: 'sequential (defaults)',
    judge: new SequentialJudge({ alpha: 0.02, maxRuns: 4, futility: 0.5 }),
    baselineRuns: 3,
    pool: true,
    remeasure: 2,
  },
];
console.log(`${STUDIES} studies x ${EXPERIMENTS} experiments, noise sigma ${SIGMA}, landscape optimum 1.0`);
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, load ${loadavg()[0]!.toFixed(1)}\n`,
);
for (const p of policies) {
  const o = await many(p, { studies: STUDIES, experiments: EXPERIMENTS, sigma: SIGMA });
  const frac = o.keeps ? o.real / o.keeps : 1;
  console.log(
    `${p.name.padEnd(34)} keeps ${String(o.keeps).padStart(5)}  real ${(frac * 100).toFixed(1).padStart(5)}%  ` +
      `mean final true value ${o.finalTruth.toFixed(4)}  runs/study ${((o.candidateRuns + o.otherRuns) / STUDIES).toFixed(1)}  ` +
      `runs/decision ${((o.candidateRuns + o.otherRuns) / Math.max(1, o.decisions)).toFixed(2)}`,
  );
}
