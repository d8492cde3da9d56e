/**
 * Several slots when changes are kept (issue 10, items 6-7): decided experiments per hour,
 * 4 slots vs 1, on the landscape template (sleep-bound runs, evaluate step, sandbox as
 * configured by default), the offline search proposer, the default noise-aware judge.
 *
 * Two starts:
 *  - far:  the template as shipped (far from its optimum: many keeps, ~50 %);
 *  - near: the knobs edited close to the optimum (a realistic keep rate, ~15 %).
 * For each start the 1-slot and the 4-slot study run side by side (at once, each in its own
 * process, as two `autoresearch run`s would), each for the same wall-clock window, so both see
 * the same machine load; the ratio of their rates is the figure. "Decided" = judged: kept or discarded (crash/timeout counted too); conflicts
 * and rejections are reported apart. Rates count decisions made within the window, from the
 * first experiment's start (the baseline excluded) to the deadline, or to the study's stop when it
 * stopped sooner (the search proposer had tried every move from the best: reported as 'exhausted').
 *
 * Run: node --import tsx bench/slots-keeps.ts [windowSeconds=90] [runSeconds=2] [far|near|both]
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StudyEvent } from '../src/loop/events.js';
import { runTestStudy } from '../src/test-support/study-harness.js';

const TEMPLATE = new URL('../templates/landscape/', import.meta.url).pathname;

/** Knobs near the optimum (LR 0.04, WIDTH 256, DEPTH 6, WARMUP 0.05, WD 0.1, no bias, relu2). */
const NEAR: Array<[RegExp, string]> = [
  [/^const LR = .*;/m, 'const LR = 0.02;'],
  [/^const WIDTH = .*;/m, 'const WIDTH = 128;'],
  [/^const DEPTH = .*;/m, 'const DEPTH = 4;'],
  [/^const WARMUP_RATIO = .*;/m, 'const WARMUP_RATIO = 0.05;'],
  [/^const WEIGHT_DECAY = .*;/m, 'const WEIGHT_DECAY = 0.1;'],
  [/^const USE_BIAS = .*;/m, 'const USE_BIAS = false;'],
  [/^const ACTIVATION = .*;/m, "const ACTIVATION = 'gelu';"],
];

function workspace(start: 'far' | 'near', slots: number, runS: number): string {
  const dir = mkdtempSync(join(tmpdir(), `ar-bench-keeps-${start}-${slots}-`));
  cpSync(TEMPLATE, dir, { recursive: true });
  if (start === 'near') {
    const f = join(dir, 'train.mjs');
    let src = readFileSync(f, 'utf8');
    for (const [re, line] of NEAR) src = src.replace(re, (m) => `${line}${m.slice(m.indexOf(';') + 1)}`);
    writeFileSync(f, src);
  }
  writeFileSync(
    join(dir, 'autoresearch.toml'),
    `[study]\ntag = "bench"\n[run]\ncommand = "node train.mjs"\nevaluate = "node prepare.mjs evaluate"\ntimeout_s = 120\n` +
      `env = { LANDSCAPE_SLEEP_S = "${runS}" }\n[files]\neditable = ["train.mjs"]\nprotected = ["prepare.mjs"]\n` +
      `[proposer]\nkind = "search"\n[slots]\ncount = ${slots}\ngpus = "none"\n`,
  );
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'init');
  return dir;
}

interface Figures {
  slots: number;
  decided: number;
  kept: number;
  perHour: number;
  runs: number;
  rebases: number;
  other: Record<string, number>;
  /** Most runs one experiment took (first runs, confirmations, re-runs after moves). */
  maxRuns: number;
  busy: string;
  baselineS: number;
  /** Judged experiments by status, and the longest experiment (ms, all its runs). */
  statuses: Record<string, number>;
  longestMs: number;
  /** Why the study stopped (the window's end is 'max-hours'). */
  stopped: string;
}

async function study(start: 'far' | 'near', slots: number, runS: number, windowS: number): Promise<Figures> {
  const events: StudyEvent[] = [];
  const t0 = Date.now();
  const r = await runTestStudy(
    workspace(start, slots, runS),
    { maxHours: windowS / 3600 },
    { onEvent: (e) => events.push(e) },
  );
  await r.ledger.close();
  // BENCH_EVENTS_DIR=dir keeps each study's event stream (one JSON line per event) for a closer look.
  if (process.env.BENCH_EVENTS_DIR) {
    writeFileSync(
      join(process.env.BENCH_EVENTS_DIR, `events-${start}-${slots}.jsonl`),
      events.map((e) => JSON.stringify(e)).join('\n'),
    );
  }
  const deadline = t0 + windowS * 1000;
  const firstStart = events.find((e) => e.type === 'experiment-started' && !e.baseline)?.t ?? deadline;
  const baselineEnd = events.find((e) => e.type === 'experiment-finished' && e.baseline)?.t ?? t0;
  const inWindow = events.filter((e) => e.t <= deadline);
  const stoppedAt = events.find((e) => e.type === 'study-stopped')?.t ?? deadline;
  const finished = inWindow.filter(
    (e): e is Extract<StudyEvent, { type: 'experiment-finished' }> => e.type === 'experiment-finished' && !e.baseline,
  );
  const judged = finished.filter((e) => ['keep', 'discard', 'crash', 'timeout'].includes(e.status));
  const other: Record<string, number> = {};
  for (const e of finished) if (!judged.includes(e)) other[e.status] = (other[e.status] ?? 0) + 1;
  const runEvents = inWindow.filter(
    (e): e is Extract<StudyEvent, { type: 'run-started' }> => e.type === 'run-started' && e.t >= firstStart,
  );
  const runs = runEvents.length;
  const perExp = new Map<number, number>();
  for (const e of runEvents) perExp.set(e.number, (perExp.get(e.number) ?? 0) + 1);
  return {
    slots,
    decided: judged.length,
    kept: judged.filter((e) => e.status === 'keep').length,
    // a study that stopped before the window's end (the proposer exhausted its moves) is rated
    // over the time it ran
    perHour: judged.length / ((Math.min(deadline, stoppedAt) - firstStart) / 3600_000),
    runs,
    rebases: inWindow.filter((e) => e.type === 'rebase').length,
    other,
    maxRuns: Math.max(0, ...perExp.values()),
    busy: r.outcome.busy.map((b) => b.fraction.toFixed(2)).join(' '),
    baselineS: (baselineEnd - t0) / 1000,
    statuses: Object.fromEntries(
      ['keep', 'discard', 'crash', 'timeout'].map((k) => [k, judged.filter((e) => e.status === k).length]),
    ),
    longestMs: Math.max(0, ...judged.map((e) => e.runMs ?? 0)),
    stopped: events
      .filter((e) => e.type === 'study-stopped')
      .map((e) => `${e.reason}${e.reason === 'max-hours' ? '' : `: ${e.message}`}`)
      .join('; '),
  };
}

/** One study in a child process (its own event loop, as a separate `autoresearch run`). */
function child(start: 'far' | 'near', slots: number, runS: number, windowS: number): Promise<Figures> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      // a bundled copy (bench/gpu/pack-bench.sh) runs without tsx
      [
        ...(self.endsWith('.ts') ? ['--import', 'tsx'] : []),
        self,
        '--child',
        start,
        String(slots),
        String(runS),
        String(windowS),
      ],
      { maxBuffer: 1 << 24 },
      (err, out) => (err ? reject(err) : resolve(JSON.parse(out.trim().split('\n').pop()!) as Figures)),
    ),
  );
}

if (process.argv[2] === '--child') {
  const [start, slots, runS, windowS] = process.argv.slice(3);
  console.log(JSON.stringify(await study(start as 'far' | 'near', Number(slots), Number(runS), Number(windowS))));
} else {
  const [windowS = 90, runS = 2] = process.argv.slice(2, 4).map(Number);
  const which = process.argv[4] ?? 'both';
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; window ${windowS} s, runs of ${runS} s`,
  );
  for (const start of ['far', 'near'] as const) {
    if (which !== 'both' && which !== start) continue;
    const [one, four] = await Promise.all([child(start, 1, runS, windowS), child(start, 4, runS, windowS)]);
    for (const f of [one, four]) {
      if (f.decided === 0) throw new Error(`the ${f.slots}-slot study decided nothing (stopped: ${f.stopped})`);
    }
    console.log(`${start} start (1 and 4 slots side by side):`);
    for (const f of [one, four]) {
      const others =
        Object.entries(f.other)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ') || 'none';
      console.log(
        `  ${f.slots} slot(s): ${f.perHour.toFixed(0)} decided/hour (${f.decided} decided, ${f.kept} kept = ${((100 * f.kept) / Math.max(1, f.decided)).toFixed(0)} %, ` +
          `${f.runs} runs = ${(f.runs / Math.max(1, f.decided)).toFixed(2)} per decision, at most ${f.maxRuns} for one experiment, ${f.rebases} re-applied; ` +
          `not judged: ${others}; busy ${f.busy}; baseline ${f.baselineS.toFixed(1)} s; ` +
          `${Object.entries(f.statuses)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')}; longest experiment ${(f.longestMs / 1000).toFixed(1)} s)` +
          (f.stopped && f.stopped !== 'max-hours' ? `\n    stopped before the window's end: ${f.stopped}` : ''),
      );
    }
    console.log(`  ratio: ${(four.perHour / one.perHour).toFixed(2)}x`);
  }
}
