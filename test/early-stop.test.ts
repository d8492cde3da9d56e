/**
 * End to end: early stopping ([early_stop]) on the landscape template, whose runs print a made-up
 * training curve (`progress: elapsed=S loss=L`) that decays to the true value: real git, real
 * SQLite, real runs in the sandbox. A clearly worse change is stopped early and discarded; good
 * changes are never stopped; a change that prints no progress lines, or fake low losses, is
 * neither stopped nor kept for it (progress lines only ever stop a run, never keep one).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Experiment } from '../src/ledger/types.ts';
import type { StudyEvent } from '../src/loop/events.ts';
import { CURVE_KIND } from '../src/loop/early-stop.ts';
import { cli } from '../src/test-support/cli.ts';
import { git } from '../src/test-support/landscape.ts';
import { runTestStudy, scriptedProposer } from '../src/test-support/study-harness.ts';

/**
 * Replaces the template's `train(...)` (which prints the curve) with the edited file's own: the
 * same sleep and checkpoint, with `line` printed as its progress (none when omitted). The diff
 * screen allows this (the evaluate step alone scores); rebinding console.log it would reject.
 */
const OWN_TRAIN = (line?: string) => (text: string) =>
  `import { writeFileSync } from 'node:fs';\nimport { join } from 'node:path';\n${text.replace(
    'await train(',
    `const t0 = Date.now();
for (let i = 1; i <= 10; i++) {
  await new Promise((r) => setTimeout(r, 200));
  ${line ?? ''}
}
const ownTrain = async (knobs) => writeFileSync(join(process.env.AUTORESEARCH_OUTPUT, 'knobs.json'), JSON.stringify(knobs));
await ownTrain(`,
  )}`;
const NO_PROGRESS = OWN_TRAIN();
// biome-ignore lint/suspicious/noTemplateCurlyInString: the edited script's own template literal
const FAKE_LOW = OWN_TRAIN('console.log(`progress: elapsed=${(Date.now() - t0) / 1000} loss=0.001`);');

type Edit = [from: string, to: string, description: string, transform?: (text: string) => string];
// True values (templates/landscape/prepare.mjs), noise sigma 0.002:
const EDITS: Edit[] = [
  ['const LR = 0.01;', 'const LR = 0.0001;', 'LR 0.01 -> 0.0001 (far worse: +6.0)'],
  ['const WIDTH = 64;', 'const WIDTH = 256;', 'WIDTH 64 -> 256 (better: -0.08)'],
  ['const LR = 0.01;', 'const LR = 0.0002;', 'LR -> 0.0002, no progress lines (worse: +4.7)', NO_PROGRESS],
  ['const LR = 0.01;', 'const LR = 0.0003;', 'LR -> 0.0003, fake low progress losses (worse: +4.0)', FAKE_LOW],
  ['const DEPTH = 3;', 'const DEPTH = 6;', 'DEPTH 3 -> 6, no progress lines (better: -0.09)', NO_PROGRESS],
];

function workspace(tag: string, earlyStop: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'ar-early-stop-')), 'ws');
  const init = cli(['init', dir, '--template', 'landscape', '--tag', tag]);
  assert.equal(init.code, 0, init.stderr);
  const toml = join(dir, 'autoresearch.toml');
  writeFileSync(
    toml,
    readFileSync(toml, 'utf8')
      .replace('[run]\n', '[run]\nenv = { LANDSCAPE_SLEEP_S = "2" }\n')
      .replace(/^\[slots\]\n/m, '[slots]\nprefetch = 0\n')
      .replace(/^kind = "sequential".*$/m, 'kind = "sequential"\nseeds = "indexed"')
      .concat(`\n[early_stop]\n${earlyStop}\n`),
  );
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'early stop on']);
  return dir;
}

function scripted(edits: Edit[]) {
  return scriptedProposer('scripted', async (ctx, call) => {
    if (call >= edits.length) return { kind: 'exhausted', reason: 'script done' };
    const p = join(ctx.worktree, 'train.mjs');
    const [from, to, description, transform] = edits[call]!;
    const text = readFileSync(p, 'utf8');
    assert.ok(text.includes(from), `${description}: "${from}" in train.mjs`);
    const edited = text.replace(from, to);
    writeFileSync(p, transform ? transform(edited) : edited);
    return { kind: 'ok', description };
  });
}

async function study(dir: string, tag: string, edits: Edit[]) {
  const r = await runTestStudy(
    dir,
    { maxExperiments: edits.length },
    { proposer: scripted(edits), overrides: { slots: 1 } },
  );
  const all = await r.ledger.listExperiments((await r.ledger.getStudy(tag))!.id);
  const curves = await r.ledger.listRecords((await r.ledger.getStudy(tag))!.id, CURVE_KIND);
  await r.ledger.close();
  const byNumber = new Map(all.map((e) => [e.number, e]));
  return { events: r.events, exp: (n: number) => byNumber.get(n) as Experiment, curves };
}

const stops = (events: StudyEvent[]) =>
  events.filter((e): e is Extract<StudyEvent, { type: 'early-stop' }> => e.type === 'early-stop');

describe('early stop on the landscape', () => {
  it('stops a clearly worse change, never a good one, and never lets progress lines keep anything', async () => {
    const dir = workspace('es', 'enabled = true');
    const { events, exp, curves } = await study(dir, 'es', EDITS);

    // #1: far worse, stopped early: a discard without a value, the evaluate step never ran
    const bad = exp(1);
    assert.equal(bad.status, 'discard');
    assert.match(bad.reason, /^stopped early \(loss \d+\.\d+ at t=\d+\.\ds vs best \d+\.\d+ ± /);
    assert.equal(bad.value, null);
    assert.equal(bad.metrics.training_seconds, undefined, 'training never reached its summary block');
    assert.equal(existsSync(bad.logPath!.replace(/\.log$/, '.eval.log')), false, 'no evaluate step');
    const stopped = stops(events);
    assert.deepEqual(
      stopped.map((e) => [e.number, e.run, e.dryRun]),
      [[1, 0, false]],
      'only #1 is stopped, once',
    );
    assert.ok(stopped[0]!.elapsed >= 0.3 * 2 * 0.9, `not before min_fraction: t=${stopped[0]!.elapsed}`);
    assert.ok(stopped[0]!.elapsed < 2, 'before the end of training');
    assert.ok(stopped[0]!.loss > stopped[0]!.threshold && stopped[0]!.threshold > stopped[0]!.mean);

    // #2: a real gain, run to the end and kept
    assert.equal(exp(2).status, 'keep', exp(2).reason);
    // #3: worse but prints no progress lines: not stopped, judged on its metric, not penalised
    assert.equal(exp(3).status, 'discard');
    assert.doesNotMatch(exp(3).reason, /stopped early/);
    assert.ok((exp(3).value ?? 0) > 5, String(exp(3).value));
    // #4: worse with fake low progress losses: not stopped (its loss) and still discarded
    assert.equal(exp(4).status, 'discard');
    assert.doesNotMatch(exp(4).reason, /stopped early/);
    assert.ok((exp(4).value ?? 0) > 4, String(exp(4).value));
    // #5: better, no progress lines: kept
    assert.equal(exp(5).status, 'keep', exp(5).reason);

    // curves: the baseline's runs and the keep's runs; none of the stopped run, none without lines
    const keys = curves.map((c) => c.key);
    assert.ok(keys.filter((k) => k.startsWith('0.')).length >= 3, keys.join(' '));
    assert.ok(
      keys.some((k) => k.startsWith('2.')),
      keys.join(' '),
    );
    assert.ok(!keys.some((k) => /^[135]\./.test(k)), keys.join(' '));
    assert.ok(
      keys.some((k) => k.startsWith('4.')),
      'a fake curve is stored: it never becomes a reference (discarded)',
    );

    // status shows the reason, results.tsv the discard
    const status = cli(['status', dir]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /stopped early/);
    const tsv = readFileSync(join(dir, 'results.tsv'), 'utf8').split('\n');
    assert.match(tsv[2] ?? '', /\t0\.000000\t0\.0\tdiscard\tLR 0\.01 -> 0\.0001/);
  });

  it('with dry_run only announces the stop: the run goes on and is judged as usual', async () => {
    const dir = workspace('esdry', 'enabled = true\ndry_run = true');
    const { events, exp } = await study(dir, 'esdry', EDITS.slice(0, 1));
    assert.deepEqual(
      stops(events).map((e) => [e.number, e.dryRun]),
      [[1, true]],
    );
    assert.match(stops(events)[0]!.reason, /dry run: not stopped$/);
    assert.equal(exp(1).status, 'discard');
    assert.doesNotMatch(exp(1).reason, /stopped early/);
    assert.ok((exp(1).value ?? 0) > 6);
  });

  it('is off by default: the same change runs to the end', async () => {
    const dir = workspace('esoff', '');
    const { events, exp } = await study(dir, 'esoff', EDITS.slice(0, 1));
    assert.equal(stops(events).length, 0);
    assert.equal(exp(1).status, 'discard');
    assert.ok((exp(1).value ?? 0) > 6);
  });
});
