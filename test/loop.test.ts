import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, LANDSCAPE_PREPARE, LANDSCAPE_TRAIN, makeLandscapeRepo } from '../src/test-support/landscape.js';
import { SqliteLedger } from '../src/ledger/sqlite.js';
import { cli, cliAsync, waitForEvent } from '../src/test-support/cli.js';
import { ledgerPath, scriptedProposer, studiesClosedAfterAll } from '../src/test-support/study-harness.js';

const study = studiesClosedAfterAll();

describe('the study loop on a landscape workspace', () => {
  it('runs the baseline, then finds improvements with the search proposer', async () => {
    const dir = makeLandscapeRepo();
    const userHead = git(dir, ['rev-parse', 'HEAD']).trim();
    const { outcome, ledger } = await study(dir, { maxExperiments: 12 });
    assert.equal(outcome.reason, 'max-experiments');
    assert.equal(outcome.finished, 12);
    const s = (await ledger.getStudy('test'))!;
    const all = await ledger.listExperiments(s.id);
    assert.equal(all.length, 13);
    assert.deepEqual(
      all.map((e) => e.number),
      [...Array(13).keys()],
    );
    const baseline = all[0]!;
    assert.equal(baseline.baseline, true);
    assert.equal(baseline.status, 'keep');
    assert.ok(outcome.kept >= 2, `expected keeps, got ${outcome.kept}`);
    assert.ok(s.bestValue! < baseline.value! - 0.1, `best ${s.bestValue} vs baseline ${baseline.value}`);
    // git agrees with the ledger: the branch tip is the best commit, and each keep is on it
    assert.equal(git(dir, ['rev-parse', 'autoresearch/test']).trim(), s.bestCommit);
    const onBranch = git(dir, ['log', '--format=%H', 'autoresearch/test']).split('\n');
    for (const e of all.filter((x) => !x.baseline && x.status === 'keep')) assert.ok(onBranch.includes(e.commit!));
    // every experiment keeps its diff and log; the user's checkout is untouched
    for (const e of all.filter((x) => !x.baseline)) assert.match(e.diff, /^diff --git a\/train\.mjs/m);
    assert.equal(git(dir, ['rev-parse', 'HEAD']).trim(), userHead);
    assert.equal(git(dir, ['status', '--porcelain']).trim(), '');
    assert.equal(readFileSync(join(dir, 'train.mjs'), 'utf8'), LANDSCAPE_TRAIN);
    const tsv = readFileSync(join(dir, 'results.tsv'), 'utf8').split('\n');
    assert.equal(tsv[0], 'commit\tval_bpb\tmemory_gb\tstatus\tdescription');
    assert.equal(tsv.length, 15); // header + 13 rows + trailing newline
    assert.match(tsv[1]!, /^[0-9a-f]{7}\t\d\.\d{6}\t2\.0\tkeep\tbaseline$/);
  });

  it('stops at the same N when resumed, and --max-experiments counts the whole study', async () => {
    const dir = makeLandscapeRepo();
    const first = await study(dir, { maxExperiments: 3 });
    assert.equal(first.outcome.finished, 3);
    const again = await study(dir, { maxExperiments: 3 });
    assert.equal(again.outcome.reason, 'max-experiments');
    assert.equal(again.outcome.finished, 3);
    const more = await study(dir, { maxExperiments: 5 });
    assert.equal(more.outcome.finished, 5);
    const s = (await more.ledger.getStudy('test'))!;
    const nums = (await more.ledger.listExperiments(s.id)).map((e) => e.number);
    assert.deepEqual(nums, [0, 1, 2, 3, 4, 5]);
    type Started = { resumed?: boolean } | undefined;
    const started = (r: typeof first) => r.events.find((e) => e.type === 'study-started') as Started;
    assert.equal(started(first)?.resumed, false, 'the first run starts the study');
    assert.equal(started(more)?.resumed, true, 'a later run resumes it');
  });

  it('rejects a change to a protected file without running it', async () => {
    const dir = makeLandscapeRepo();
    const attacker = scriptedProposer('attacker', async (ctx) => {
      writeFileSync(join(ctx.worktree, 'prepare.mjs'), 'export const EVAL = 0;\n');
      return { kind: 'ok', description: 'make the evaluation easier' };
    });
    const { ledger, events } = await study(dir, { maxExperiments: 1 }, { proposer: attacker });
    const s = (await ledger.getStudy('test'))!;
    const e = (await ledger.listExperiments(s.id))[1]!;
    assert.equal(e.status, 'rejected');
    assert.match(e.reason, /outside \[files\]\.editable: prepare\.mjs/);
    assert.match(e.diff, /prepare\.mjs/);
    assert.equal(e.commit, null);
    assert.equal(e.logPath, null, 'a rejected change is never run');
    assert.ok(!events.some((x) => x.type === 'run-started' && x.number === 1));
    assert.equal(git(dir, ['show', 'autoresearch/test:prepare.mjs']), readFileSync(join(dir, 'prepare.mjs'), 'utf8'));
    assert.equal(git(dir, ['worktree', 'list']).trim().split('\n').length, 1, 'no worktree is left behind');
  });

  it('screens proposals: a fake metric line is rejected with the rule and line, never run; a warning says why', async () => {
    const dir = makeLandscapeRepo();
    const forger = scriptedProposer('forger', async (ctx) => {
      const f = join(ctx.worktree, 'train.mjs');
      writeFileSync(f, `${readFileSync(f, 'utf8')}console.log("val_bpb:      0.010000");\n`);
      return { kind: 'ok', description: 'a better number' };
    });
    const { ledger, events } = await study(dir, { maxExperiments: 1 }, { proposer: forger });
    const e = (await ledger.listExperiments((await ledger.getStudy('test'))!.id))[1]!;
    assert.equal(e.status, 'rejected');
    assert.match(e.reason, /^screened out: rule \(a\) metric output: train\.mjs:17 /);
    assert.match(e.diff, /0\.010000/, 'the screened diff is kept for review');
    assert.equal(e.commit, null);
    assert.equal(e.logPath, null, 'a screened change is never run');
    assert.ok(!events.some((x) => x.type === 'run-started' && x.number === 1));
    const warnings = events.filter(
      (x) => x.type === 'notice' && x.level === 'warn' && /no \[run\] evaluate/.test(x.message),
    );
    assert.equal(warnings.length, 1, 'warned once at study start');
  });

  it('screens proposals: rebinding a protected import or changing a seed is rejected', async () => {
    const dir = makeLandscapeRepo({
      train: `import { EVAL } from './prepare.mjs';\nconst SEED = 1;\n${LANDSCAPE_TRAIN}`,
    });
    const edits: [string, string][] = [
      ['const SEED = 1;', 'const SEED = 2;'],
      ['const LR = 0.01;', 'const LR = 0.01; { const EVAL = 0; }'],
      ['const LR = 0.01;', 'const LR = 0.04;'],
    ];
    const p = scriptedProposer('scripted', async (ctx, call) => {
      const f = join(ctx.worktree, 'train.mjs');
      writeFileSync(f, readFileSync(f, 'utf8').replace(...edits[call]!));
      return { kind: 'ok', description: `edit ${call}` };
    });
    const { ledger, outcome } = await study(dir, { maxExperiments: 1 }, { proposer: p });
    const all = (await ledger.listExperiments((await ledger.getStudy('test'))!.id)).slice(1);
    assert.deepEqual(
      all.map((e) => e.status),
      ['rejected', 'rejected', 'keep'],
      'rejections do not use up --max-experiments',
    );
    assert.deepEqual([outcome.finished, outcome.notRun], [1, 2]);
    assert.match(all[0]!.reason, /^screened out: rule \(c\) seed: train\.mjs:2 /);
    assert.match(all[1]!.reason, /^screened out: rule \(b\) protected names: train\.mjs:\d+ .*"EVAL"/);
  });

  it('rejects empty changes and failed proposals, recording why', async () => {
    const dir = makeLandscapeRepo({ extraToml: '[proposer]\nmax_rejections = 2\n' });
    const p = scriptedProposer('scripted', async (_ctx, call) =>
      call === 0
        ? { kind: 'ok', description: 'nothing really' }
        : { kind: 'failed', reason: 'the model answered garbage' },
    );
    const { ledger, outcome } = await study(dir, { maxExperiments: 5 }, { proposer: p });
    assert.equal(outcome.reason, 'rejections', 'two in a row never ran: the study stops, not counted as experiments');
    const all = await ledger.listExperiments((await ledger.getStudy('test'))!.id);
    assert.deepEqual(
      all.slice(1).map((e) => [e.status, e.reason]),
      [
        ['rejected', 'the proposal changed no file'],
        ['rejected', 'the proposer failed: the model answered garbage'],
      ],
    );
  });

  it('rejects a run that modifies a protected file, and restores it', async () => {
    const dir = makeLandscapeRepo();
    const sneaky = scriptedProposer('sneaky', async (ctx) => {
      const f = join(ctx.worktree, 'train.mjs');
      writeFileSync(
        f,
        `import { writeFileSync } from 'node:fs';\nwriteFileSync('prepare.mjs', 'export const EVAL = 0;\\n');\n${readFileSync(f, 'utf8')}`,
      );
      return { kind: 'ok', description: 'rewrite the evaluation at run time' };
    });
    const { ledger } = await study(dir, { maxExperiments: 1 }, { proposer: sneaky });
    const e = (await ledger.listExperiments((await ledger.getStudy('test'))!.id))[1]!;
    assert.equal(e.status, 'rejected');
    assert.match(e.reason, /the run modified protected file\(s\) prepare\.mjs/);
    assert.equal(readFileSync(join(dir, 'prepare.mjs'), 'utf8'), LANDSCAPE_PREPARE);
    assert.equal(git(dir, ['show', 'autoresearch/test:prepare.mjs']), LANDSCAPE_PREPARE);
  });

  it('records crashes, missing metrics, NaN and timeouts, and keeps going', async () => {
    const dir = makeLandscapeRepo({ timeoutS: 1 });
    const bodies = [
      'throw new Error("boom: shape mismatch");',
      'console.log("no metric here");',
      LANDSCAPE_TRAIN.replace('const LR = 0.01;', 'const LR = -1;'), // log10(-1): the printed value is NaN
      'setInterval(() => {}, 1000);',
    ];
    const p = scriptedProposer('scripted', async (ctx, call) => {
      writeFileSync(join(ctx.worktree, 'train.mjs'), bodies[call]!.replace(/\n?$/, '\n'));
      return { kind: 'ok', description: `case ${call}` };
    });
    const { ledger } = await study(dir, { maxExperiments: 4 }, { proposer: p });
    const s = (await ledger.getStudy('test'))!;
    const all = (await ledger.listExperiments(s.id)).slice(1);
    assert.deepEqual(
      all.map((e) => e.status),
      ['crash', 'crash', 'crash', 'timeout'],
    );
    assert.match(all[0]!.reason, /exit code 1/);
    assert.match(all[0]!.logTail, /boom: shape mismatch/);
    assert.match(all[1]!.reason, /val_bpb/);
    assert.match(all[2]!.reason, /NaN|non-finite|not finite/i);
    assert.equal(git(dir, ['rev-parse', 'autoresearch/test']).trim(), s.bestCommit, 'the branch is reset to the best');
    assert.equal(s.bestNumber, 0);
  });

  it('kills a run that goes silent at [run] stall_timeout_s and records it as a stalled timeout', async () => {
    const dir = makeLandscapeRepo({ timeoutS: 60 });
    const toml = join(dir, 'autoresearch.toml');
    const withStall = readFileSync(toml, 'utf8').replace('kill_grace_s = 1', 'kill_grace_s = 1\nstall_timeout_s = 1');
    writeFileSync(toml, withStall);
    git(dir, ['commit', '-qam', 'stall timeout']);
    const p = scriptedProposer('scripted', async (ctx) => {
      const hangs = 'console.log("step 1: loss 3.2");\nsetInterval(() => {}, 1000);\n';
      writeFileSync(join(ctx.worktree, 'train.mjs'), hangs);
      return { kind: 'ok', description: 'hangs after its first step' };
    });
    const t0 = Date.now();
    const { ledger } = await study(dir, { maxExperiments: 1 }, { proposer: p });
    const e = (await ledger.listExperiments((await ledger.getStudy('test'))!.id))[1]!;
    assert.equal(e.status, 'timeout');
    assert.match(e.reason, /stalled \(no output for 1 s\)/);
    assert.match(e.logTail, /step 1: loss 3\.2/);
    assert.ok(Date.now() - t0 < 30_000, 'stopped long before the hard timeout (60 s)');
  });

  it('stops with a clear message when the baseline fails, and retries it on the next run', async () => {
    const dir = makeLandscapeRepo({ command: 'node train.mjs && exit 3' });
    const first = await study(dir, { maxExperiments: 2 });
    assert.equal(first.outcome.reason, 'baseline-failed');
    assert.match(first.outcome.message, /baseline .* ended as crash: run 1\/3: exit code 3/);
    const second = await study(dir, { maxExperiments: 1 }, { overrides: { command: 'node train.mjs' } });
    assert.equal(second.outcome.reason, 'max-experiments');
    const all = await second.ledger.listExperiments((await second.ledger.getStudy('test'))!.id);
    assert.deepEqual(
      all.slice(0, 2).map((e) => [e.number, e.baseline, e.status]),
      [
        [0, true, 'crash'],
        [1, true, 'keep'],
      ],
    );
    // After the retried baseline, the study ran and judged a real experiment against it.
    assert.deepEqual([all.length, all[2]!.number, all[2]!.baseline], [3, 2, false]);
    const judged = ['keep', 'discard'].includes(all[2]!.status);
    assert.ok(judged, `experiment 2 was judged, got ${all[2]!.status}: ${all[2]!.reason}`);
    assert.ok(Number.isFinite(all[2]!.value), 'experiment 2 ran and produced the metric');
  });
});

describe('starting a study refuses what it must not touch', () => {
  it('refuses a dirty tree and says what to do', async () => {
    const dir = makeLandscapeRepo();
    writeFileSync(join(dir, 'train.mjs'), '// my uncommitted work\n');
    const { outcome } = await study(dir, { maxExperiments: 1 });
    assert.equal(outcome.reason, 'error');
    assert.match(outcome.message, /uncommitted changes \(train\.mjs\).*commit them.*stash/);
    assert.equal(readFileSync(join(dir, 'train.mjs'), 'utf8'), '// my uncommitted work\n');
    assert.ok(!existsSync(join(dir, '.autoresearch', 'worktrees', 'test')));
  });

  it('refuses missing and uncommitted training files', async () => {
    const dir = makeLandscapeRepo({ extraToml: '' });
    writeFileSync(
      join(dir, 'autoresearch.toml'),
      readFileSync(join(dir, 'autoresearch.toml'), 'utf8').replace(
        'protected = ["prepare.mjs"]',
        'protected = ["prepare.mjs", "data.mjs"]',
      ),
    );
    git(dir, ['commit', '-qam', 'cfg']);
    let r = await study(dir, { maxExperiments: 1 });
    assert.match(r.outcome.message, /do not exist: data\.mjs/);
    writeFileSync(join(dir, 'data.mjs'), '');
    r = await study(dir, { maxExperiments: 1 });
    assert.match(r.outcome.message, /not committed: data\.mjs.*git add data\.mjs/);
  });

  it('refuses an existing branch of the same name that the ledger does not know', async () => {
    const dir = makeLandscapeRepo();
    git(dir, ['branch', 'autoresearch/test']);
    const { outcome } = await study(dir, { maxExperiments: 1 });
    assert.match(outcome.message, /branch autoresearch\/test already exists.*--tag testb/);
  });

  it('refuses a second run on a live study in the same process', async () => {
    const dir = makeLandscapeRepo({ command: 'sleep 2; node train.mjs' });
    const first = study(dir, { maxExperiments: 1 });
    await new Promise((r) => setTimeout(r, 700));
    const second = await study(dir, { maxExperiments: 1 });
    assert.equal(second.outcome.reason, 'error');
    assert.match(second.outcome.message, /already running \(pid \d+/);
    assert.equal((await first).outcome.reason, 'max-experiments');
  });

  it('refuses a second `autoresearch run` of the study from another process, naming the holder pid', async () => {
    const dir = makeLandscapeRepo({ command: 'sleep 60; node train.mjs' });
    const holder = cliAsync(['run', dir, '-n', '1', '--json']);
    const exited = new Promise<number | null>((r) => holder.on('exit', (code) => r(code)));
    try {
      await waitForEvent(holder, (e) => e.type === 'run-started' && e.number === 0);
      const second = cli(['run', dir, '-n', '1']);
      assert.equal(second.code, 1, second.stdout + second.stderr);
      const said = second.stdout + second.stderr;
      assert.match(said, new RegExp(`study "test" is already running \\(pid ${holder.pid} on `));
      assert.match(said, new RegExp(`kill ${holder.pid}\\)`));
    } finally {
      holder.kill('SIGINT');
    }
    assert.equal(await exited, 130, 'the holder stopped cleanly on Ctrl-C, undisturbed by the refused run');
    // The refused run recorded nothing: the ledger holds the holder's interrupted baseline only.
    const ledger = SqliteLedger.open(ledgerPath(dir));
    try {
      const all = await ledger.listExperiments((await ledger.getStudy('test'))!.id);
      assert.deepEqual(
        all.map((e) => [e.number, e.status]),
        [[0, 'running']],
      );
    } finally {
      await ledger.close();
    }
  });
});
