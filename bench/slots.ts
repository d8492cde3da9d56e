/**
 * Many experiments at once (issue 6):
 *  1. busy fraction of one slot when the agent takes 20% of a run's time: proposals made only
 *     when the slot is idle (prefetch 0, the sequential loop) vs pipelined (prefetch 1);
 *  2. throughput with 8 CPU slots vs 1 on sleep-bound landscape runs.
 * Real loop: git worktrees, SQLite ledger, child processes. Run: npm run bench:slots
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { StudyEvent } from '../src/loop/events.js';
import { SearchProposer } from '../src/proposer/search/search-proposer.js';
import type { Proposer } from '../src/proposer/types.js';
import { runTestStudy } from '../src/test-support/study-harness.js';

const TEMPLATE = new URL('../templates/landscape/', import.meta.url).pathname;

/** The landscape's knobs set to its optimum: every proposal is worse, so nothing is kept. */
const AT_OPTIMUM = `import { evaluate } from './prepare.mjs';
const LR = 0.04; // learning rate
const WIDTH = 256; // model width (a power of two)
const DEPTH = 6; // number of layers
const WARMUP_RATIO = 0.05; // fraction of the budget spent warming up
const WEIGHT_DECAY = 0.1; // weight decay
const USE_BIAS = false; // biases in the linear layers
const ACTIVATION = 'relu2'; // MLP non-linearity: "relu" | "gelu" | "relu2"
await evaluate({ LR, WIDTH, DEPTH, WARMUP_RATIO, WEIGHT_DECAY, USE_BIAS, ACTIVATION });
`;

function workspace(runS: number, slots: number, prefetch: number, atOptimum = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-bench-slots-'));
  cpSync(TEMPLATE, dir, { recursive: true });
  if (atOptimum) writeFileSync(join(dir, 'train.mjs'), AT_OPTIMUM);
  writeFileSync(
    join(dir, 'autoresearch.toml'),
    `[study]\ntag = "bench"\n[run]\ncommand = "node train.mjs"\ntimeout_s = 120\nenv = { LANDSCAPE_SLEEP_S = "${runS}" }\n` +
      `[files]\neditable = ["train.mjs"]\nprotected = ["prepare.mjs"]\n[judge]\nkind = "greedy"\nnoise_runs = 1\n` +
      `[slots]\ncount = ${slots}\ngpus = "none"\nprefetch = ${prefetch}\n`,
  );
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'init');
  return dir;
}

/** The search proposer, slowed down to take `ms` per proposal (an agent thinking). */
function slowProposer(ms: number): Proposer {
  const inner = new SearchProposer({ seed: 1 });
  return {
    name: `search+${ms}ms`,
    propose: async (ctx, signal) => {
      await new Promise((r) => setTimeout(r, ms));
      return inner.propose(ctx, signal);
    },
  };
}

async function study(runS: number, slots: number, prefetch: number, n: number, agentMs: number, atOptimum = false) {
  const events: StudyEvent[] = [];
  const r = await runTestStudy(workspace(runS, slots, prefetch, atOptimum), { maxExperiments: n }, { proposer: slowProposer(agentMs), onEvent: (e) => events.push(e) });
  await r.ledger.close();
  const firstStart = events.find((e) => e.type === 'experiment-started' && !e.baseline)!.t;
  const hours = (r.outcome.t - firstStart) / 3600_000;
  const runs = events.filter((e) => e.type === 'run-started' && e.t >= firstStart).length;
  return { outcome: r.outcome, perHour: r.outcome.finished / hours, runsPerHour: runs / hours, kept: r.outcome.kept };
}

const machine = `${cpus().length} x ${cpus()[0]?.model}, node ${process.version}`;
console.log(`machine: ${machine}`);

const RUN_S = Number(process.env.BENCH_RUN_S ?? 3);
const seq = await study(RUN_S, 1, 0, 10, RUN_S * 200);
const pipe = await study(RUN_S, 1, 1, 10, RUN_S * 200);
const f = (o: typeof seq) => o.outcome.busy[0]!.fraction;
console.log(`busy fraction, 1 slot, runs of ${RUN_S} s, agent ${RUN_S * 0.2} s per proposal:`);
console.log(`  sequential (prefetch 0): ${f(seq).toFixed(3)}   ${seq.perHour.toFixed(0)} experiments/hour`);
console.log(`  pipelined  (prefetch 1): ${f(pipe).toFixed(3)}   ${pipe.perHour.toFixed(0)} experiments/hour`);

for (const atOptimum of [true, false]) {
  const one = await study(RUN_S, 1, 1, 6, 0, atOptimum);
  const eight = await study(RUN_S, 8, 1, 48, 0, atOptimum);
  console.log(`throughput, runs of ${RUN_S} s (sleep-bound), search proposer, ${atOptimum ? 'starting at the optimum (nothing to keep: pure scheduling)' : 'starting far from the optimum (many keeps: stale experiments are re-run)'}:`);
  for (const [name, o] of [['1 slot ', one], ['8 slots', eight]] as const) {
    console.log(`  ${name}: ${o.perHour.toFixed(0)} experiments/hour, ${o.runsPerHour.toFixed(0)} runs/hour (${o.outcome.finished} experiments, ${o.kept} kept, busy ${o.outcome.busy.map((b) => b.fraction.toFixed(2)).join(' ')})`);
  }
  console.log(`  ratio  : ${(eight.perHour / one.perHour).toFixed(2)}x experiments/hour, ${(eight.runsPerHour / one.runsPerHour).toFixed(2)}x runs/hour`);
}
