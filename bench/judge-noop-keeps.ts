/**
 * No-op changes kept (issue 12, item 3): on the landscape made flat (LANDSCAPE_FLAT=1: every
 * change is a no-op, its true value is the baseline's), with noise sigma 0.01, how often does a
 * judge keep a change, and how many runs does a decision cost? Today's judge (kind = "noise",
 * z = 2, 2 confirmations, seeds = study seed + run index, sigma from the 3 baseline runs only)
 * and the sequential judge with its defaults (pooled noise, drawn seeds, re-measured bests), side
 * by side in one run:
 *
 *  1. the real loop: `autoresearch run` in-process on the landscape template (train + protected
 *     evaluate step, sandbox as configured by default, real git), 2 slots, the offline search
 *     proposer, `studies` studies x `experiments` experiments per judge;
 *  2. the same policies simulated (bench/simulate.ts) over `simStudies` studies, for a figure
 *     with a small confidence interval.
 *
 * "Runs per decision" counts every run a decision needed: the candidate's first run and
 * confirmations, re-measurements of a new best, the baseline; in the real loop also confirmation
 * runs started at once on free slots that the decision did not need.
 *
 * `seedSigma` (LANDSCAPE_SEED_NOISE) adds a seed effect every version of the code shares; the
 * sequential judge is run unpaired and paired ([judge] paired, the default).
 *
 * Run: node --import tsx bench/judge-noop-keeps.ts [studies=3] [experiments=20] [sigma=0.01] [simStudies=300] [seedSigma=0]
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { NoiseJudge } from '../src/judge/noise.js';
import { SequentialJudge } from '../src/judge/sequential.js';
import type { StudyEvent } from '../src/loop/events.js';
import { runTestStudy } from '../src/test-support/study-harness.js';
import { many, type Policy } from './simulate.js';

const STUDIES = Number(process.argv[2] ?? 3);
const EXPERIMENTS = Number(process.argv[3] ?? 20);
const SIGMA = Number(process.argv[4] ?? 0.01);
const SIM_STUDIES = Number(process.argv[5] ?? 300);
const SEED_SIGMA = Number(process.argv[6] ?? 0);
const TEMPLATE = new URL('../templates/landscape/', import.meta.url).pathname;

const TODAY = '[judge]\nkind = "noise"\nseeds = "indexed"\n';
const JUDGES: Array<[string, string]> = [
  ['today: noise z=2, 2 confirmations', TODAY],
  ['sequential, unpaired', '[judge]\npaired = false\n'],
  ['sequential (defaults: paired)', ''],
];

function workspace(seed: number, judgeToml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-bench-noop-'));
  cpSync(TEMPLATE, dir, { recursive: true });
  writeFileSync(
    join(dir, 'autoresearch.toml'),
    `[study]\ntag = "bench"\nseed = ${seed}\n[run]\ncommand = "node train.mjs"\nevaluate = "node prepare.mjs evaluate"\ntimeout_s = 120\n` +
      `env = { LANDSCAPE_FLAT = "1", LANDSCAPE_NOISE = "${SIGMA}", LANDSCAPE_SEED_NOISE = "${SEED_SIGMA}" }\n[files]\neditable = ["train.mjs"]\nprotected = ["prepare.mjs"]\n` +
      `[proposer]\nkind = "search"\n[slots]\ncount = 2\ngpus = "none"\n${judgeToml}`,
  );
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'init');
  return dir;
}

interface Tally {
  decided: number;
  kept: number;
  runs: number;
  judgedRuns: number;
  perStudyKeeps: number[];
  seconds: number;
}

async function realLoop(judgeToml: string): Promise<Tally> {
  const t: Tally = { decided: 0, kept: 0, runs: 0, judgedRuns: 0, perStudyKeeps: [], seconds: 0 };
  for (let s = 0; s < STUDIES; s++) {
    const events: StudyEvent[] = [];
    const t0 = Date.now();
    const r = await runTestStudy(
      workspace(s + 1, judgeToml),
      { maxExperiments: EXPERIMENTS },
      { onEvent: (e) => events.push(e) },
    );
    t.seconds += (Date.now() - t0) / 1000;
    const study = (await r.ledger.getStudy('bench'))!;
    const all = await r.ledger.listExperiments(study.id);
    await r.ledger.close();
    const decided = all.filter((e) => !e.baseline && (e.status === 'keep' || e.status === 'discard'));
    const kept = decided.filter((e) => e.status === 'keep').length;
    t.decided += decided.length;
    t.kept += kept;
    t.perStudyKeeps.push(kept);
    t.runs += events.filter((e) => e.type === 'run-started').length;
    t.judgedRuns += all.reduce(
      (n, e) => n + (e.evidence?.runs.length ?? 0) + (e.evidence?.rebased?.runs.length ?? 0),
      0,
    );
  }
  return t;
}

const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`;
console.log(
  `no-op changes kept: landscape made flat, noise sigma ${SIGMA} (+ shared seed effect ${SEED_SIGMA}), 2 slots, ${STUDIES} studies x ${EXPERIMENTS} experiments per judge (real loop); ${SIM_STUDIES} simulated studies`,
);
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, load average at start ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}\n`,
);
console.log('real loop (autoresearch run, in-process):');
for (const [name, toml] of JUDGES) {
  const t = await realLoop(toml);
  console.log(
    `  ${name.padEnd(36)} kept ${t.kept} of ${t.decided} no-op changes (${pct(t.kept, t.decided)}; per study ${t.perStudyKeeps.join(', ')})  ` +
      `runs per decision ${(t.runs / Math.max(1, t.decided)).toFixed(2)} started / ${(t.judgedRuns / Math.max(1, t.decided)).toFixed(2)} judged  ` +
      `${(t.seconds / STUDIES).toFixed(0)} s per study`,
  );
}

const policies: Policy[] = [
  {
    name: 'today: noise z=2, 2 confirmations',
    judge: new NoiseJudge({ z: 2, confirmRuns: 2 }),
    baselineRuns: 3,
    pool: false,
    remeasure: 0,
  },
  {
    name: 'sequential, unpaired',
    judge: new SequentialJudge({ alpha: 0.02, maxRuns: 4, futility: 0.5 }),
    baselineRuns: 3,
    pool: true,
    remeasure: 2,
  },
  {
    name: 'sequential (defaults: paired)',
    judge: new SequentialJudge({ alpha: 0.02, maxRuns: 4, futility: 0.5 }),
    baselineRuns: 3,
    pool: true,
    remeasure: 2,
    paired: { seeds: 4 },
  },
];
console.log(`\nsimulated (bench/simulate.ts, ${SIM_STUDIES} studies x ${EXPERIMENTS} experiments, 1 slot):`);
for (const p of policies) {
  const o = await many(p, {
    studies: SIM_STUDIES,
    experiments: EXPERIMENTS,
    sigma: SIGMA,
    seedSigma: SEED_SIGMA,
    flat: true,
  });
  const f = o.keeps / Math.max(1, o.decisions);
  const ci = 1.96 * Math.sqrt((f * (1 - f)) / Math.max(1, o.decisions));
  console.log(
    `  ${p.name.padEnd(36)} kept ${o.keeps} of ${o.decisions} no-op changes (${(100 * f).toFixed(2)}% +- ${(100 * ci).toFixed(2)})  ` +
      `runs per decision ${((o.candidateRuns + o.otherRuns) / Math.max(1, o.decisions)).toFixed(2)} (candidate runs ${(o.candidateRuns / Math.max(1, o.decisions)).toFixed(2)})`,
  );
}
