import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedger } from '../src/ledger/sqlite.js';
import { cli, cliAsync, liveGroupMembers, waitForEvent } from '../src/test-support/cli.js';
import { git, makeLandscapeRepo } from '../src/test-support/landscape.js';

const SLOW_ON_2 =
  'if [ "$AUTORESEARCH_EXPERIMENT" = 2 ] && [ ! -e "$AUTORESEARCH_WORKSPACE/go-fast" ]; then sleep 60; fi; node train.mjs';

describe('run survives kill -9 and Ctrl-C', () => {
  it('resumes after kill -9 mid-experiment: nothing lost, nothing duplicated, no orphan (no sandbox: resume kills the orphan)', async () => {
    const dir = makeLandscapeRepo({ command: SLOW_ON_2, sandbox: 'none' });
    const child = cliAsync(['run', dir, '-n', '4', '--json']);
    const started = await waitForEvent(child, (e) => e.type === 'run-started' && e.number === 2);
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));

    let ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
    let s = (await ledger.getStudy('test'))!;
    const interrupted = (await ledger.listExperiments(s.id)).find((e) => e.number === 2)!;
    assert.equal(interrupted.status, 'running');
    assert.ok(interrupted.pgid, 'the running group is recorded');
    assert.ok(liveGroupMembers(interrupted.pgid!).length > 0, 'the orphaned run is still alive before resume');
    await ledger.close();

    writeFileSync(join(dir, 'go-fast'), '');
    const r = cli(['run', dir, '-n', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(liveGroupMembers(interrupted.pgid!), [], 'resume killed the orphaned run');
    assert.match(r.stdout, /"killed \d+ process\(es\) left by interrupted experiment 2"/);

    ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
    s = (await ledger.getStudy('test'))!;
    const all = await ledger.listExperiments(s.id);
    assert.deepEqual(
      all.map((e) => e.number),
      [0, 1, 2, 3, 4],
    );
    assert.ok(all.every((e) => e.status !== 'running'));
    const two = all[2]!;
    assert.equal(two.attempts, 2);
    assert.equal(started.number, 2);
    // The interrupted experiment is re-run as it was proposed, not replaced by a new proposal.
    assert.equal(two.description, interrupted.description);
    assert.equal(two.diff, interrupted.diff);
    assert.equal(git(dir, ['rev-parse', 'autoresearch/test']).trim(), s.bestCommit);
    assert.equal(git(dir, ['worktree', 'list']).trim().split('\n').length, 1, 'no stale worktree is left');
    const tsvRows = readFileSync(join(dir, 'results.tsv'), 'utf8').trim().split('\n');
    assert.equal(tsvRows.length, 6);
    await ledger.close();
  });

  it('under the sandbox, a run dies with the harness on kill -9 (nothing to kill on resume)', async () => {
    const dir = makeLandscapeRepo({ command: SLOW_ON_2, sandbox: 'bwrap' });
    const child = cliAsync(['run', dir, '-n', '3', '--json']);
    await waitForEvent(child, (e) => e.type === 'run-started' && e.number === 2);
    await new Promise((r) => setTimeout(r, 300));
    let ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
    const pgid = (await ledger.listExperiments((await ledger.getStudy('test'))!.id)).find((e) => e.number === 2)!.pgid!;
    await ledger.close();
    assert.ok(liveGroupMembers(pgid).length > 0, 'the run is alive while the harness is');
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(liveGroupMembers(pgid), [], 'the sandboxed run died with the harness');
    writeFileSync(join(dir, 'go-fast'), '');
    const r = cli(['run', dir, '-n', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
    const all = await ledger.listExperiments((await ledger.getStudy('test'))!.id);
    assert.deepEqual(
      all.map((e) => e.number),
      [0, 1, 2, 3],
    );
    assert.ok(all.every((e) => e.status !== 'running'));
    await ledger.close();
  });

  it('stops cleanly on SIGINT (exit 130) and re-runs the interrupted experiment on resume', async () => {
    const dir = makeLandscapeRepo({ command: SLOW_ON_2 });
    const child = cliAsync(['run', dir, '-n', '3', '--json']);
    await waitForEvent(child, (e) => e.type === 'run-started' && e.number === 2);
    child.kill('SIGINT');
    const stopped = await waitForEvent(child, (e) => e.type === 'study-stopped');
    assert.equal(stopped.reason, 'interrupted');
    const code = await new Promise((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 130);
    writeFileSync(join(dir, 'go-fast'), '');
    const r = cli(['run', dir, '-n', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
    const all = await ledger.listExperiments((await ledger.getStudy('test'))!.id);
    assert.deepEqual(
      all.map((e) => [e.number, e.attempts > 1]),
      [
        [0, false],
        [1, false],
        [2, true],
        [3, false],
      ],
    );
    await ledger.close();
  });
});

describe('the CLI on bad input: one clear line, no stack trace', () => {
  it('reports an invalid config with the key and a hint', () => {
    const dir = makeLandscapeRepo();
    writeFileSync(join(dir, 'autoresearch.toml'), '[run]\ncomand = "x"\n[files]\neditable = ["train.mjs"]\n');
    const r = cli(['run', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[run\]\.comand: unknown key \(did you mean "command"\?\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('reports unparsable TOML with its line', () => {
    const dir = makeLandscapeRepo();
    writeFileSync(join(dir, 'autoresearch.toml'), '[run\ncommand = 1\n');
    const r = cli(['status', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^autoresearch: autoresearch\.toml:1:\d+: invalid TOML/);
  });

  it('reports a command that is not installed before the baseline', () => {
    const dir = makeLandscapeRepo({ command: 'no-such-trainer --fast' });
    const r = cli(['run', dir, '-n', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /command not found: no-such-trainer/);
    assert.ok(!existsSync(join(dir, '.autoresearch', 'ledger.db')) || !/keep|crash/.test(cli(['results', dir]).stdout));
  });

  it('reports a missing config and a non-repository', () => {
    const empty = mkdtempSync(join(tmpdir(), 'ar-empty-'));
    const r = cli(['run', empty]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no autoresearch\.toml in .*autoresearch init/);
    writeFileSync(join(empty, 'autoresearch.toml'), '[run]\ncommand = "true"\n[files]\neditable = ["a"]\n');
    assert.match(cli(['run', empty]).stderr, /not a git repository/);
  });

  it('says what to set for an LLM agent before the baseline runs', () => {
    const dir = makeLandscapeRepo();
    const env = { ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', ANTHROPIC_BASE_URL: '', OPENAI_BASE_URL: '' };
    const noKey = cli(['run', dir, '-n', '1', '--agent', 'anthropic'], { env });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /ANTHROPIC_API_KEY/);
    assert.equal(noKey.stderr.trim().split('\n').length, 1, noKey.stderr);
    const unreachable = cli(['run', dir, '-n', '1', '--agent', 'openai', '--model', 'm'], {
      env: { ...env, OPENAI_API_KEY: 'sk-test-secret', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' },
    });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /127\.0\.0\.1:9/);
    assert.doesNotMatch(unreachable.stderr, /sk-test-secret/);
    const unknown = cli(['run', dir, '-n', '1', '--agent', 'gpt-pilot'], { env });
    assert.match(unknown.stderr, /unknown proposer kind "gpt-pilot"/);
    assert.equal(cli(['results', dir]).code, 1, 'no study was started: nothing ran');
  });

  it('rejects bad flag values', () => {
    const r = cli(['run', '.', '--max-experiments', 'many']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--max-experiments expects a whole number/);
  });
});

describe('init, run, results, status from the command line', () => {
  it('init --template custom with flags asks nothing and a run works', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ar-init-')), 'proj');
    const landscape = makeLandscapeRepo();
    const r0 = cli([
      'init',
      dir,
      '--template',
      'custom',
      '--command',
      'node train.mjs',
      '--editable',
      'train.mjs',
      '--protected',
      'prepare.mjs',
      '--tag',
      'demo',
    ]);
    assert.equal(r0.code, 0, r0.stderr);
    const toml = readFileSync(join(dir, 'autoresearch.toml'), 'utf8');
    assert.match(toml, /command = "node train\.mjs"/);
    assert.match(readFileSync(join(dir, 'program.md'), 'utf8'), /`train\.mjs`/);
    assert.equal(git(dir, ['status', '--porcelain']).trim(), '', 'a new repository is committed');
    // bring the training files, commit, run
    for (const f of ['train.mjs', 'prepare.mjs']) writeFileSync(join(dir, f), readFileSync(join(landscape, f)));
    git(dir, ['add', '-A']);
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'files']);
    const run = cli(['run', dir, '-n', '3']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /study stopped \(max-experiments\)/);
    const results = cli(['results', dir]);
    assert.equal(results.stdout.split('\n')[0], 'commit\tval_bpb\tmemory_gb\tstatus\tdescription');
    assert.equal(results.stdout.trim().split('\n').length, 5);
    const status = JSON.parse(cli(['status', dir, '--json']).stdout) as {
      finished: number;
      tag: string;
      best: { value: number };
    };
    assert.equal(status.tag, 'demo');
    assert.equal(status.finished, 3);
    assert.ok(status.best.value > 0);
  });

  it('init refuses to overwrite an existing config', () => {
    const dir = makeLandscapeRepo();
    const r = cli(['init', dir, '--command', 'x', '--editable', 'train.mjs']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exists; use --force/);
  });
});
