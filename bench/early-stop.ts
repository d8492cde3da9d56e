/**
 * Early stopping on templates/tiny (issue 12, item 8): experiments per hour with [early_stop]
 * on vs off, and how often a stop killed a change that would have been kept.
 *
 * The same scripted sequence of changes (each edits one constant of train.ts on the current best)
 * runs in two studies side by side (at once, so both see the same machine load), each with the
 * default sequential judge on the Gutenberg sample:
 *  - off: [early_stop] enabled with dry_run: every run goes to the end and is judged as usual, and
 *    the harness announces when it WOULD have stopped it: for each such change we know whether it
 *    was kept (a false stop) — the stopped ones run to the end;
 *  - on: [early_stop] enabled: stopped runs end early and are discarded.
 * Rates count decided experiments (baseline excluded) over the time from the first experiment's
 * start to the study's end.
 *
 * Two starts: `near` (the template as shipped: at 20 s hardly any change is kept) and `far` (the
 * learning rates set 20x too low first, and 5 baseline runs instead of 3 so that the sequential
 * judge has the degrees of freedom to keep: the changes that restore them should be kept, so a
 * false stop of a good change can show).
 *
 * Run: node --import tsx bench/early-stop.ts [budgetSeconds=20] [changes=12] [near|far]
 *      (DATA=dir with sample-train.jsonl.gz and sample-val.jsonl.gz; default /work/shared/data/gutenberg)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Experiment } from '../src/ledger/types.js';
import type { StudyEvent } from '../src/loop/events.js';
import { runTestStudy, scriptedProposer } from '../src/test-support/study-harness.js';

const BUDGET = Number(process.argv[2] ?? 20);
const CHANGES = Number(process.argv[3] ?? 12);
const START = process.argv[4] === 'far' ? 'far' : 'near';
const DATA = process.env.DATA ?? '/work/shared/data/gutenberg';
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** `far`: the learning rates of the template, 20x too low, set before the baseline. */
const FAR: Array<[name: string, value: string]> = [
  ['MATRIX_LR', '0.0005'],
  ['EMBED_LR', '0.0015'],
];

/** One constant of train.ts per change, so each applies on whatever the best is. */
const FAR_EDITS: Array<[name: string, value: string]> = [
  ['MATRIX_LR', '0.01'],
  ['N_EMBD', '128'],
  ['EMBED_LR', '0.03'],
  ['DEPTH', '3'],
  ['MATRIX_LR', '0.0002'],
  ['EMBED_LR', '0.1'],
  ['SEQ_LEN', '64'],
  ['MATRIX_LR', '0.02'],
  ['BATCH_SIZE', '4'],
  ['WARMDOWN_RATIO', '0.6'],
  ['GRAD_CLIP', '0.0'],
  ['EMBED_LR', '0.001'],
];
const NEAR_EDITS: Array<[name: string, value: string]> = [
  ['MATRIX_LR', '0.001'],
  ['MATRIX_LR', '0.02'],
  ['N_EMBD', '128'],
  ['EMBED_LR', '0.1'],
  ['BATCH_SIZE', '4'],
  ['WARMDOWN_RATIO', '0.6'],
  ['DEPTH', '3'],
  ['EMBED_LR', '0.003'],
  ['BETA2', '0.95'],
  ['SEQ_LEN', '64'],
  ['GRAD_CLIP', '0.0'],
  ['MATRIX_LR', '0.3'],
];

const setConstant = (text: string, name: string, value: string) =>
  text.replace(new RegExp(`^const ${name} = [^;]*;`, 'm'), `const ${name} = ${value};`);

function workspace(tag: string, earlyStop: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), `ar-bench-es-${tag}-`)), 'ws');
  execFileSync(process.execPath, ['--import', 'tsx', MAIN, 'init', dir, '--template', 'tiny', '--tag', tag], {
    env: {
      ...process.env,
      AUTORESEARCH_DATA: join(DATA, 'sample-train.jsonl.gz'),
      AUTORESEARCH_VAL_DATA: join(DATA, 'sample-val.jsonl.gz'),
    },
    stdio: 'ignore',
  });
  if (START === 'far') {
    const train = join(dir, 'train.ts');
    let text = readFileSync(train, 'utf8');
    for (const [name, value] of FAR) text = setConstant(text, name, value);
    writeFileSync(train, text);
  }
  const toml = join(dir, 'autoresearch.toml');
  writeFileSync(
    toml,
    `${readFileSync(toml, 'utf8')
      .replace(/^\[slots\]\n/m, '[slots]\nprefetch = 0\n')
      .replace(
        /^noise_runs = 3/m,
        START === 'far' ? 'noise_runs = 5' : 'noise_runs = 3',
      )}\n[early_stop]\n${earlyStop}\n`,
  );
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir });
  git('add', '-A');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'bench config', '--allow-empty');
  return dir;
}

const edits = (START === 'far' ? FAR_EDITS : NEAR_EDITS).slice(0, CHANGES);
function proposer() {
  return scriptedProposer('scripted', async (ctx, call) => {
    if (call >= edits.length) return { kind: 'exhausted', reason: 'script done' };
    const [name, value] = edits[call]!;
    const p = join(ctx.worktree, 'train.ts');
    const text = readFileSync(p, 'utf8');
    writeFileSync(p, setConstant(text, name, value));
    return { kind: 'ok', description: `${name} = ${value}` };
  });
}

interface Arm {
  name: string;
  experiments: Experiment[];
  events: StudyEvent[];
  seconds: number;
}

async function arm(name: string, earlyStop: string): Promise<Arm> {
  const dir = workspace(name, earlyStop);
  const r = await runTestStudy(
    dir,
    { maxExperiments: edits.length },
    { proposer: proposer(), overrides: { slots: 1, timeBudgetS: BUDGET } },
  );
  const experiments = await r.ledger.listExperiments((await r.ledger.getStudy(name))!.id);
  await r.ledger.close();
  const first = r.events.find((e) => e.type === 'experiment-started' && !e.baseline)?.t ?? 0;
  const end = r.events.find((e) => e.type === 'study-stopped')?.t ?? Date.now();
  return { name, experiments, events: r.events, seconds: (end - first) / 1000 };
}

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `machine: ${cpus().length} cores, load ${load()} at start; tiny, ${START} start, budget ${BUDGET}s, ${edits.length} changes, 1 slot per study, both studies at once`,
);
const [off, on] = await Promise.all([arm('off', 'enabled = true\ndry_run = true'), arm('on', 'enabled = true')]);
console.log(`load ${load()} at the end`);

const decided = (a: Arm) => a.experiments.filter((e) => !e.baseline && e.status !== 'running');
const rate = (a: Arm) => (decided(a).length / a.seconds) * 3600;
const stopOf = (a: Arm, n: number) =>
  a.events.find((e): e is Extract<StudyEvent, { type: 'early-stop' }> => e.type === 'early-stop' && e.number === n);
const byDesc = (a: Arm) => new Map(decided(a).map((e) => [e.description, e]));
const offBy = byDesc(off);
const onBy = byDesc(on);

console.log(
  '\n| change | off: status (value) | off: would stop at | on: status (value) | on: stopped at | on: run s |',
);
console.log('|---|---|---|---|---|---|');
for (const [name, value] of edits) {
  const d = `${name} = ${value}`;
  const a = offBy.get(d);
  const b = onBy.get(d);
  const sa = a ? stopOf(off, a.number) : undefined;
  const sb = b ? stopOf(on, b.number) : undefined;
  const v = (e?: Experiment) => (e ? `${e.status} (${e.value === null ? '-' : e.value.toFixed(4)})` : '-');
  console.log(
    `| ${d} | ${v(a)} | ${sa ? `${sa.elapsed.toFixed(1)}s` : '-'} | ${v(b)} | ${sb ? `${sb.elapsed.toFixed(1)}s` : '-'} | ${b?.runMs ? (b.runMs / 1000).toFixed(0) : '-'} |`,
  );
}
const wouldStop = decided(off).filter((e) => stopOf(off, e.number));
const falseStops = wouldStop.filter((e) => e.status === 'keep');
const stopped = decided(on).filter((e) => e.reason.startsWith('stopped early'));
const stoppedKeptOff = stopped.filter((e) => offBy.get(e.description)?.status === 'keep');
console.log(
  `\noff (dry run): ${decided(off).length} decided in ${off.seconds.toFixed(0)} s = ${rate(off).toFixed(0)}/h; kept ${decided(off).filter((e) => e.status === 'keep').length}; would have stopped ${wouldStop.length}, of which kept when run to the end: ${falseStops.length}`,
);
console.log(
  `on: ${decided(on).length} decided in ${on.seconds.toFixed(0)} s = ${rate(on).toFixed(0)}/h; kept ${decided(on).filter((e) => e.status === 'keep').length}; stopped ${stopped.length}, of which the off study kept: ${stoppedKeptOff.length}`,
);
console.log(`experiments/hour: ${(rate(on) / rate(off)).toFixed(2)}x with early stop`);
