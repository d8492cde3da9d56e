/**
 * Many experiments at once (issue 6, issue 10 item 8):
 *  1. busy fraction of one slot when the agent takes 20% of a run's time: proposals made only
 *     when the slot is idle (prefetch 0, the sequential loop) vs pipelined (prefetch 1);
 *  2. throughput with 8 CPU slots vs 1 on sleep-bound landscape runs;
 *  3. busy fraction of 8 CPU slots when the agent takes 20% of a run's time: one proposal at a
 *     time ([proposer] concurrency = 1, the old serial pipeline) vs concurrent proposals (the
 *     default: one per slot).
 * Real loop: git worktrees, SQLite ledger, child processes. Run: npm run bench:slots
 * (BENCH_PART=busy8 runs part 3 only; BENCH_RUN_S sets the run time, default 3 s).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { StudyEvent } from '../src/loop/events.js';
import { SearchProposer } from '../src/proposer/search/search-proposer.js';
import type { Proposer } from '../src/proposer/types.js';
import { runTestStudy } from '../src/test-support/study-harness.js';

const TEMPLATE = new URL('../templates/landscape/', import.meta.url).pathname;

/**
 * A proposer that never runs out: each proposal adds a unique unused constant, so the metric
 * does not change and nothing is kept (no stale experiments): pure scheduling throughput.
 */
function trialProposer(): Proposer {
  return {
    name: 'trial',
    propose: async (ctx) => {
      const f = join(ctx.worktree, 'train.mjs');
      const src = readFileSync(f, 'utf8');
      writeFileSync(
        f,
        src
          .replace(/^const TRIAL = \d+;.*\n/m, '')
          .replace('// ---- Run', `const TRIAL = ${ctx.number}; // unused\n\n// ---- Run`),
      );
      return { kind: 'ok', description: `trial ${ctx.number}` };
    },
  };
}

function workspace(runS: number, slots: number, prefetch: number, concurrency?: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-bench-slots-'));
  cpSync(TEMPLATE, dir, { recursive: true });
  writeFileSync(
    join(dir, 'autoresearch.toml'),
    `[study]\ntag = "bench"\n[run]\ncommand = "node train.mjs"\ntimeout_s = 120\nenv = { LANDSCAPE_SLEEP_S = "${runS}" }\n` +
      `[files]\neditable = ["train.mjs"]\nprotected = ["prepare.mjs"]\n[judge]\nkind = "greedy"\nnoise_runs = 1\n` +
      `[slots]\ncount = ${slots}\ngpus = "none"\nprefetch = ${prefetch}\n` +
      (concurrency !== undefined ? `[proposer]\nconcurrency = ${concurrency}\n` : ''),
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

async function study(
  runS: number,
  slots: number,
  prefetch: number,
  n: number,
  proposer: Proposer,
  concurrency?: number,
) {
  const events: StudyEvent[] = [];
  const r = await runTestStudy(
    workspace(runS, slots, prefetch, concurrency),
    { maxExperiments: n },
    { proposer, onEvent: (e) => events.push(e) },
  );
  await r.ledger.close();
  const firstStart = events.find((e) => e.type === 'experiment-started' && !e.baseline)!.t;
  const hours = (r.outcome.t - firstStart) / 3600_000;
  const runs = events.filter((e) => e.type === 'run-started' && e.t >= firstStart).length;
  // the slot's idle time between the end of one run and the start of the next
  const gaps: number[] = [];
  const lastEnd = new Map<number, number>();
  for (const e of events) {
    if (e.type === 'run-started' && lastEnd.has(e.slot)) gaps.push(e.t - lastEnd.get(e.slot)!);
    if (e.type === 'experiment-finished' && e.slot !== null) lastEnd.set(e.slot, e.t);
    if (e.type === 'confirm' || e.type === 'rebase') lastEnd.set(e.slot, e.t);
  }
  gaps.sort((a, b) => a - b);
  const gapMs = gaps.length ? gaps[Math.floor(gaps.length / 2)]! : 0;
  // of the slots' idle time, the part spent waiting for a change (finished -> next started)
  let waitMs = 0;
  const finishedAt = new Map<number, number>();
  for (const e of events) {
    if (e.type === 'experiment-finished' && e.slot !== null) finishedAt.set(e.slot, e.t);
    if (e.type === 'experiment-started' && !e.baseline && finishedAt.has(e.slot))
      waitMs += e.t - finishedAt.get(e.slot)!;
  }
  const spanMs = r.outcome.busy.length * (r.outcome.t - firstStart);
  return {
    outcome: r.outcome,
    perHour: r.outcome.finished / hours,
    runsPerHour: runs / hours,
    kept: r.outcome.kept,
    gapMs,
    waitShare: waitMs / spanMs,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const machine = `${cpus().length} x ${cpus()[0]?.model}, node ${process.version}`;
console.log(`machine: ${machine}`);

const RUN_S = Number(process.env.BENCH_RUN_S ?? 3);
const PART = process.env.BENCH_PART ?? 'all';

if (PART === 'all' || PART === 'busy8') {
  const n = Number(process.env.BENCH_BUSY8_N ?? 48);
  console.log(
    `busy fraction, 8 CPU slots, landscape runs of ${RUN_S} s, search proposer slowed to ${RUN_S * 0.2} s per proposal (20%), ${n} experiments:`,
  );
  const modes = (process.env.BENCH_BUSY8_MODES ?? '1,default')
    .split(',')
    .map((m) => (m === 'default' ? undefined : Number(m)));
  for (const concurrency of modes) {
    const o = await study(RUN_S, 8, 1, n, slowProposer(RUN_S * 200), concurrency);
    const fr = o.outcome.busy.map((b) => b.fraction);
    const name =
      concurrency === undefined
        ? 'concurrent proposals (default: 8)    '
        : `${concurrency} proposal(s) at a time (concurrency ${concurrency})`;
    console.log(
      `  ${name}: busy mean ${mean(fr).toFixed(3)}, min ${Math.min(...fr).toFixed(3)}   ${o.perHour.toFixed(0)} experiments/hour, median gap ${o.gapMs} ms, ` +
        `${o.outcome.kept} kept, ${o.outcome.notRun} never run; waiting for a change ${(o.waitShare * 100).toFixed(1)} % of slot time`,
    );
  }
}
if (PART !== 'all') process.exit(0);

const seq = await study(RUN_S, 1, 0, 10, slowProposer(RUN_S * 200));
const pipe = await study(RUN_S, 1, 1, 10, slowProposer(RUN_S * 200));
const f = (o: typeof seq) => o.outcome.busy[0]!.fraction;
console.log(
  `busy fraction, 1 slot, landscape runs of ${RUN_S} s, search proposer slowed to ${RUN_S * 0.2} s per proposal (20%):`,
);
console.log(
  `  sequential (prefetch 0): ${f(seq).toFixed(3)}   ${seq.perHour.toFixed(0)} experiments/hour, median gap between runs ${seq.gapMs} ms`,
);
console.log(
  `  pipelined  (prefetch 1): ${f(pipe).toFixed(3)}   ${pipe.perHour.toFixed(0)} experiments/hour, median gap between runs ${pipe.gapMs} ms (${pipe.outcome.kept} kept: a keep makes the prepared change stale, re-applied before it runs)`,
);

const one = await study(RUN_S, 1, 1, 8, trialProposer());
const eight = await study(RUN_S, 8, 1, 64, trialProposer());
console.log(`throughput, sleep-bound landscape runs of ${RUN_S} s, a proposer that never runs out (nothing kept):`);
for (const [name, o] of [
  ['1 slot ', one],
  ['8 slots', eight],
] as const) {
  console.log(
    `  ${name}: ${o.perHour.toFixed(0)} experiments/hour (${o.outcome.finished} experiments, busy ${o.outcome.busy.map((b) => b.fraction.toFixed(2)).join(' ')}, median gap ${o.gapMs} ms)`,
  );
}
console.log(`  ratio  : ${(eight.perHour / one.perHour).toFixed(2)}x`);
