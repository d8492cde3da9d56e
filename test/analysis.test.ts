/**
 * End to end: ablate, transfer and heldout through the real CLI on a landscape workspace (the
 * template with its evaluate step; true values known), after a study whose keeps are scripted:
 * real git, real SQLite, real runs in the sandbox.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedger } from '../src/ledger/open.ts';
import { cli, cliAsync } from '../src/test-support/cli.ts';
import { git, makeLandscapeRepo } from '../src/test-support/landscape.ts';
import { runTestStudy, scriptedProposer } from '../src/test-support/study-harness.ts';

// The scripted keeps and their true gains on the landscape (templates/landscape/prepare.mjs):
//   #1 ACTIVATION 'relu' -> 'relu2'   0.012
//   #2 WIDTH 64 -> 128                0.06  (0.02 * (2^2 - 1^2))
//   #3 WIDTH 128 -> 256               0.02  (edits what #2 wrote: measured together with it)
//   #4 USE_BIAS true -> false         0.01
const EDITS: Array<[string, string, string]> = [
  ["const ACTIVATION = 'relu';", "const ACTIVATION = 'relu2';", "ACTIVATION 'relu' -> 'relu2'"],
  ['const WIDTH = 64;', 'const WIDTH = 128;', 'WIDTH 64 -> 128'],
  ['const WIDTH = 128;', 'const WIDTH = 256;', 'WIDTH 128 -> 256'],
  ['const USE_BIAS = true;', 'const USE_BIAS = false;', 'USE_BIAS true -> false'],
];
const TRUTH = new Map([
  ['1', 0.012],
  ['2+3', 0.08],
  ['4', 0.01],
]);

let dir = '';
let branchAt = '';
before(async () => {
  const root = mkdtempSync(join(tmpdir(), 'ar-analysis-'));
  dir = join(root, 'ws');
  const init = cli(['init', dir, '--template', 'landscape', '--tag', 'abl']);
  assert.equal(init.code, 0, init.stderr);
  // one proposal at a time, each on the best so far (the script's edits build on each other)
  const toml = join(dir, 'autoresearch.toml');
  // The scripted keeps must all be kept for the figures below: the z-rule judge on indexed seeds
  // keeps each of them (gains of 5-30 sigma). The sequential judge, with only the baseline's 2
  // degrees of freedom at the first decision, discards the first one (a 7-sigma gain) about
  // one time in four; that is its own finding, not what this file tests.
  writeFileSync(
    toml,
    readFileSync(toml, 'utf8')
      .replace(/^\[slots\]\n/m, '[slots]\nprefetch = 0\n')
      .replace(/^kind = "sequential".*$/m, 'kind = "noise"\nseeds = "indexed"'),
  );
  git(dir, ['add', '-A']);
  if (git(dir, ['status', '--porcelain']).trim())
    // init commits a new repository itself
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'landscape']);
  const proposer = scriptedProposer('scripted', async (ctx, call) => {
    if (call >= EDITS.length) return { kind: 'exhausted', reason: 'script done' }; // asked ahead
    const p = join(ctx.worktree, 'train.mjs');
    const [from, to, description] = EDITS[call]!;
    writeFileSync(p, readFileSync(p, 'utf8').replace(from, to));
    return { kind: 'ok', description };
  });
  const r = await runTestStudy(dir, { maxExperiments: EDITS.length }, { proposer, overrides: { slots: 1 } });
  const all = await r.ledger.listExperiments((await r.ledger.getStudy('abl'))!.id);
  await r.ledger.close();
  assert.deepEqual(
    all.filter((e) => !e.baseline).map((e) => e.status),
    ['keep', 'keep', 'keep', 'keep'],
    'the scripted changes are all kept',
  );
  branchAt = git(dir, ['rev-parse', 'autoresearch/abl']).trim();
});

/** Adds `line` to the [run] table of the workspace's config (runs' environment, the analysis's alone). */
function runEnvToml(line: string): void {
  const p = join(dir, 'autoresearch.toml');
  const text = readFileSync(p, 'utf8').replace(/^env = .*\n/m, '');
  writeFileSync(p, text.replace('[run]\n', `[run]\n${line}\n`));
}

async function experiments(): Promise<number> {
  const ledger = await openLedger('sqlite:.autoresearch/ledger.db', { root: dir });
  try {
    return (await ledger.listExperiments((await ledger.getStudy('abl'))!.id)).length;
  } finally {
    await ledger.close();
  }
}

describe('autoresearch ablate', () => {
  after(() => runEnvToml(''));

  it('measures each kept change alone and in context, against the true contributions', async () => {
    const before = await experiments();
    const r = cli(['ablate', dir, '--runs', '3', '--slots', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(r.stdout);
    assert.deepEqual(
      a.changes.map((c: { numbers: number[] }) => c.numbers.join('+')),
      ['1', '2+3', '4'],
    );
    // #3 edits what #2 wrote: reported, and measured together with it
    assert.equal(a.merged.length, 1);
    assert.equal(a.merged[0].number, 3);
    assert.deepEqual(a.merged[0].with, [2]);
    for (const c of a.changes) {
      const truth = TRUTH.get(c.numbers.join('+'))!;
      // within 5 standard errors of the truth (a 95% interval misses 1 time in 20 by design)
      assert.ok(Math.abs(c.alone.value - truth) <= 5 * c.alone.se, `alone ${c.alone.value} vs ${truth}`);
      assert.ok(Math.abs(c.inContext.value - truth) <= 5 * c.inContext.se, `in context ${c.inContext.value}`);
      assert.equal(c.removable, false);
      assert.equal(c.conflict, null);
      assert.ok(c.heldout.alone, 'scored on the held-out split too');
    }
    assert.equal(a.additivity.additive, true, JSON.stringify(a.additivity));
    assert.ok(Math.abs(a.whole.values.value - 0.102) <= 5 * a.whole.values.se);
    assert.equal(a.base.n, 3);
    assert.equal(new Set(a.seeds).size, 3, 'a fresh seed per run');
    // analysis runs are records, not experiments; nothing on the study branch moved
    assert.equal(await experiments(), before);
    assert.equal(git(dir, ['rev-parse', 'autoresearch/abl']).trim(), branchAt);
    // the table names the merge
    const text = cli(['ablate', dir, '--runs', '3', '--slots', '2']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /measured together: #3 does not apply on the baseline without #2/);
    assert.match(text.stderr, /done earlier/, 'a second ablation reuses the recorded runs');
    assert.match(text.stdout, /additivity: .* -> additive/);
  });

  it('marks a change whose removal does not hurt, and a chain that is not additive', async () => {
    // A and B overlap: either gives 0.1, B gives 0.05 more. Kept A, then B: without A nothing is
    // lost (B covers it), and the gains alone (0.1 + 0.15) add up to more than the whole (0.15).
    const train = [
      'const A = false; // first change',
      'const B = false; // second change',
      'const seed = Number(process.env.AUTORESEARCH_SEED ?? 0);',
      'const noise = Math.sin(seed) * 5e-4; // a small, seeded spread, different on every seed',
      'const score = 1 - (A || B ? 0.1 : 0) - (B ? 0.05 : 0) + noise;',
      'console.log("---"); console.log("val_bpb: " + score.toFixed(9));',
      '',
    ].join('\n');
    const ws = makeLandscapeRepo({ train, tag: 'overlap', extraToml: '[slots]\nprefetch = 0' });
    const proposer = scriptedProposer('scripted', async (ctx, call) => {
      if (call >= 2) return { kind: 'exhausted', reason: 'script done' };
      const p = join(ctx.worktree, 'train.mjs');
      const name = call === 0 ? 'A' : 'B';
      writeFileSync(p, readFileSync(p, 'utf8').replace(`const ${name} = false;`, `const ${name} = true;`));
      return { kind: 'ok', description: `${name} on` };
    });
    const study = await runTestStudy(ws, { maxExperiments: 2 }, { proposer, overrides: { slots: 1 } });
    await study.ledger.close();
    const r = cli(['ablate', ws, '--runs', '3', '--slots', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(r.stdout);
    const [first, second] = a.changes;
    assert.equal(first.description, 'A on');
    assert.equal(first.removable, true, 'removing A does not hurt: B covers it');
    assert.ok(Math.abs(first.inContext.value) < 0.002);
    assert.equal(second.removable, false);
    assert.ok(Math.abs(first.alone.value - 0.1) < 0.002 && Math.abs(second.alone.value - 0.15) < 0.002);
    assert.equal(a.additivity.additive, false);
    assert.ok(Math.abs(a.additivity.difference.value - 0.1) < 0.003);
    assert.equal(first.heldout.alone, null, 'no evaluate step: no held-out split');
    const text = cli(['ablate', ws, '--runs', '3']);
    assert.match(text.stdout, /#1 A on .*removal does not hurt/);
    assert.match(text.stdout, /NOT additive/);
  });

  it('continues after a kill -9 mid-ablation, reusing the runs done', async () => {
    runEnvToml('env = { LANDSCAPE_SLEEP_S = "1" }'); // runs take a second: time to kill one mid-run
    const child = cliAsync(['ablate', dir, '--runs', '4', '--slots', '1']);
    let err = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no progress: ${err}`)), 90_000);
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        // past the runs reused from the tests before: new runs of run index 3 are done
        if ((err.match(/run 3: ok/g) ?? []).length >= 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const again = cli(['ablate', dir, '--runs', '4', '--slots', '2', '--json']);
    assert.equal(again.code, 0, again.stderr);
    const a = JSON.parse(again.stdout);
    const variants = 2 * a.changes.length + 2;
    const reused = (again.stderr.match(/done earlier/g) ?? []).length;
    assert.ok(reused >= 3 * variants + 2, `the runs recorded before the kill are reused (${reused})`);
    assert.ok(reused < 4 * variants, 'the runs not done before the kill are run now');
    assert.equal(a.base.n, 4);
    for (const c of a.changes) assert.equal(c.conflict, null);
  });
});

describe('autoresearch transfer', () => {
  after(() => runEnvToml(''));

  it('re-runs the chain with a constant overridden: gains on that constant vanish, the others hold', () => {
    runEnvToml('env = { LANDSCAPE_NOISE = "0" }'); // exact values: the verdicts are certain
    const r = cli(['transfer', dir, '--set', 'WIDTH=128', '--chain', '--runs', '2', '--slots', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    const verdict = new Map(t.steps.map((s: { number: number; verdict: string }) => [s.number, s.verdict]));
    assert.equal(verdict.get(2), 'vanished', 'WIDTH 64 -> 128 is a no-op when WIDTH is set to 128');
    assert.equal(verdict.get(3), 'vanished');
    assert.ok(['held', 'grew', 'shrank'].includes(verdict.get(1) as string));
    assert.ok(['held', 'grew', 'shrank'].includes(verdict.get(4) as string));
    // the override is a commit of its own; the study branch and its file did not change
    assert.equal(git(dir, ['rev-parse', 'autoresearch/abl']).trim(), branchAt);
    assert.match(git(dir, ['show', 'autoresearch/abl:train.mjs']), /const WIDTH = 256;/);
    const text = cli([
      'transfer',
      dir,
      '--set',
      'WIDTH=128',
      '--set',
      'DEPTH=6',
      '--runs',
      '2',
      '--time-budget',
      '5',
      '--timeout',
      '30',
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /transfer of study abl to WIDTH=128, DEPTH=6, 5 s budget/);
    assert.match(text.stdout, /best \(4 kept changes\)/);
  });

  it('an unknown constant is one clear line listing the constants found', () => {
    const r = cli(['transfer', dir, '--set', 'DEPTHH=24']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /DEPTHH: not a constant of the editable file\(s\) train\.mjs\. Constants found: LR, WIDTH, DEPTH/,
    );
    const bad = cli(['transfer', dir, '--set', 'DEPTH']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--set expects NAME=VALUE/);
    const none = cli(['transfer', dir]);
    assert.match(none.stderr, /at least one --set/);
  });
});

describe('autoresearch heldout', () => {
  it('scores every kept change on the held-out split; status shows the gap', () => {
    const r = cli(['heldout', dir, '--runs', '2', '--slots', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const h = JSON.parse(r.stdout);
    assert.equal(h.supported, true);
    assert.equal(h.changes.length, 4);
    for (const c of h.changes) {
      assert.equal(typeof c.heldout.value, 'number');
      assert.equal(typeof c.gap.value, 'number');
    }
    const s = cli(['status', dir]);
    assert.match(s.stdout, /validation vs held-out, per kept change/);
    assert.match(s.stdout, /#4 USE_BIAS true -> false/);
    const sj = JSON.parse(cli(['status', dir, '--json']).stdout);
    assert.equal(sj.heldout.changes.length, 4);
  });
});

describe('the held-out split and an evaluate step without one', () => {
  it('training never sees AUTORESEARCH_SPLIT; an evaluate step that ignores it gives no held-out values', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'ar-nosplit-'));
    // training prints what it sees and saves a number; the protected evaluate step scores it and
    // knows nothing of a held-out split
    writeFileSync(
      join(ws, 'train.mjs'),
      [
        "import { writeFileSync } from 'node:fs';",
        'const GAIN = 0; // what the change improves',
        'console.log("train sees split=" + (process.env.AUTORESEARCH_SPLIT ?? "none"));',
        "writeFileSync(process.env.AUTORESEARCH_OUTPUT + '/v.json', JSON.stringify(1 - GAIN));",
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(ws, 'eval.mjs'),
      [
        "import { readFileSync } from 'node:fs';",
        "const v = JSON.parse(readFileSync(process.env.AUTORESEARCH_OUTPUT + '/v.json', 'utf8'));",
        'const seed = Number(process.env.AUTORESEARCH_SEED ?? 0);',
        // run-to-run noise that differs on every seed (two seeds giving one value would look like
        // code that ignores the seed, which the sequential judge discards)
        "console.log('---'); console.log('val_bpb: ' + (v + Math.sin(seed) * 1e-4).toFixed(9));",
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(ws, 'autoresearch.toml'),
      [
        '[study]',
        'tag = "nosplit"',
        '[run]',
        'command = "node train.mjs"',
        'evaluate = "node eval.mjs"',
        'timeout_s = 30',
        'kill_grace_s = 1',
        'env = { AUTORESEARCH_SPLIT = "heldout" }   # the user cannot turn a study run into a held-out one',
        '[files]',
        'editable = ["train.mjs"]',
        'protected = ["eval.mjs"]',
        '[slots]',
        'prefetch = 0',
        '',
      ].join('\n'),
    );
    git(ws, ['init', '--quiet', '-b', 'main']);
    git(ws, ['add', '-A']);
    git(ws, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'init']);
    const proposer = scriptedProposer('scripted', async (ctx, call) => {
      if (call >= 1) return { kind: 'exhausted', reason: 'script done' };
      const p = join(ctx.worktree, 'train.mjs');
      writeFileSync(p, readFileSync(p, 'utf8').replace('const GAIN = 0;', 'const GAIN = 0.1;'));
      return { kind: 'ok', description: 'GAIN 0 -> 0.1' };
    });
    const study = await runTestStudy(ws, { maxExperiments: 1 }, { proposer, overrides: { slots: 1 } });
    await study.ledger.close();
    const r = cli(['ablate', ws, '--runs', '2', '--json'], { env: { AUTORESEARCH_SPLIT: 'heldout' } });
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(r.stdout);
    assert.ok(Math.abs(a.changes[0].alone.value - 0.1) < 0.001);
    assert.equal(a.changes[0].heldout.alone, null, 'no held-out values from an evaluate step without that split');
    const h = cli(['heldout', ws]);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /held-out check: not available: the evaluate step does not score a held-out split/);
    // what every training step of the study and the analyses saw
    const logs = execFileSync('grep', ['-rh', 'train sees split=', join(ws, '.autoresearch', 'logs')], {
      encoding: 'utf8',
    });
    assert.ok(logs.trim().split('\n').length >= 5);
    assert.doesNotMatch(logs, /split=heldout/);
  });
});
