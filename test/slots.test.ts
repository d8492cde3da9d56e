import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedger } from '../src/ledger/sqlite.js';
import { cli, cliAsync, liveGroupMembers } from '../src/test-support/cli.js';
import { tally } from '../src/loop/in-flight.js';
import { git, makeLandscapeRepo } from '../src/test-support/landscape.js';
import { scriptedProposer, studiesClosedAfterAll } from '../src/test-support/study-harness.js';

const study = studiesClosedAfterAll();
const fakeGpus = async () => [0, 1, 2].map((index) => ({ index, name: 'Fake H100', memoryMb: 80000 }));
const GREEDY_FAST = '[judge]\nkind = "greedy"\nnoise_runs = 1\n';

describe('slots', () => {
  it('run one experiment per GPU at once and never two on one card', async () => {
    const log = 'gpu.log';
    const dir = makeLandscapeRepo({
      command: `echo "$CUDA_VISIBLE_DEVICES start $(date +%s%N)" >> "$AUTORESEARCH_WORKSPACE/${log}"; sleep 0.4; node train.mjs; echo "$CUDA_VISIBLE_DEVICES end $(date +%s%N)" >> "$AUTORESEARCH_WORKSPACE/${log}"`,
      extraToml: GREEDY_FAST,
      sandbox: 'none', // the command logs into the workspace, which a sandboxed run can't write
    });
    const { outcome, ledger } = await study(dir, { maxExperiments: 6 }, { listGpus: fakeGpus });
    assert.equal(outcome.finished, 6);
    const lines = readFileSync(join(dir, log), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const byGpu = new Map<string, Array<[string, bigint]>>();
    for (const [gpu, what, t] of lines) byGpu.set(gpu!, [...(byGpu.get(gpu!) ?? []), [what!, BigInt(t!)]]);
    assert.ok(byGpu.size >= 2, `used ${[...byGpu.keys()].join(',')}`);
    for (const [gpu, events] of byGpu) {
      events.sort((a, b) => (a[1] < b[1] ? -1 : 1));
      for (let i = 0; i < events.length; i++)
        assert.equal(events[i]![0], i % 2 === 0 ? 'start' : 'end', `GPU ${gpu} ran two experiments at once`);
    }
    const starts = lines.filter((l) => l[1] === 'start').map((l) => BigInt(l[2]!));
    const ends = lines.filter((l) => l[1] === 'end').map((l) => BigInt(l[2]!));
    const overlapping = starts.some((s, i) => starts.some((s2, j) => j !== i && s2 > s && s2 < ends[i]!));
    assert.ok(overlapping, 'experiments ran concurrently on different GPUs');
    const all = await ledger.listExperiments((await ledger.getStudy('test'))!.id);
    for (const e of all) assert.equal(e.env.gpu, 'Fake H100');
    assert.ok(new Set(all.map((e) => e.slot)).size >= 2);
  });

  it('a crashing slot does not stop the others', async () => {
    const dir = makeLandscapeRepo({ extraToml: `${GREEDY_FAST}[slots]\ncount = 2\ngpus = "none"\n` });
    const p = scriptedProposer('scripted', async (ctx, call) => {
      const f = join(ctx.worktree, 'train.mjs');
      const src = readFileSync(f, 'utf8');
      writeFileSync(
        f,
        call % 2 === 0
          ? `throw new Error("boom ${call}");\n`
          : src.replace('const DROPOUT = 0.5;', `const DROPOUT = ${0.5 - 0.05 * call};`),
      );
      return { kind: 'ok', description: `case ${call}` };
    });
    const { outcome, ledger } = await study(dir, { maxExperiments: 6 }, { proposer: p });
    assert.equal(outcome.reason, 'max-experiments');
    assert.equal(outcome.finished, 6, 'six ran (conflicts before a run are not counted)');
    const all = (await ledger.listExperiments((await ledger.getStudy('test'))!.id)).slice(1);
    assert.equal(all.length, 6 + outcome.notRun);
    // a proposal queued while another one was kept may become a conflict (same line) instead
    for (const e of all) {
      const call = Number(e.description.replace('case ', ''));
      const allowed = call % 2 === 0 ? ['crash', 'conflict'] : ['keep', 'discard', 'conflict', 'rejected'];
      assert.ok(allowed.includes(e.status), `${e.description}: ${e.status}`);
    }
    assert.ok(all.some((e) => e.status === 'crash'));
    assert.ok(all.some((e) => e.status === 'keep'));
  });
});

describe('stale bases', () => {
  // One line between the constants: git's three-way merge treats edits of adjacent lines as a
  // conflict, so A (X and SLEEP_MS) and B (Y) must not touch neighbouring lines to merge cleanly.
  const TRAIN = [
    'const X = 2.0; // main value',
    '',
    'const Y = 0.0; // subtracted',
    '',
    'const SLEEP_MS = 0; // run time',
    'await new Promise((r) => setTimeout(r, SLEEP_MS));',
    'console.log("---"); console.log("val_bpb: " + (X - Y).toFixed(6));',
    '',
  ].join('\n');
  const edit = (from: string, to: string) => async (ctx: { worktree: string }) => {
    const f = join(ctx.worktree, 'train.mjs');
    writeFileSync(f, readFileSync(f, 'utf8').replace(from, to));
  };

  /**
   * Two slots, no prefetch: A (slow) is proposed on the baseline, B (fast) too; B is kept while
   * A runs, so A (if it beat its own base) is re-applied onto B and re-run.
   */
  async function twoSlotRace(
    second: [string, string],
    opts: {
      train?: string;
      first?: [string, string];
      command?: string;
      setup?: (dir: string) => void;
      judge?: string;
    } = {},
  ) {
    const dir = makeLandscapeRepo({
      train: opts.train ?? TRAIN,
      ...(opts.command ? { command: opts.command } : {}),
      extraToml: `${opts.judge ?? GREEDY_FAST}[slots]\ncount = 2\ngpus = "none"\nprefetch = 0\n[proposer]\nconcurrency = 1\n`,
    });
    opts.setup?.(dir);
    const slowA = edit(
      ...(opts.first ?? [
        'const X = 2.0; // main value\n\nconst Y = 0.0; // subtracted\n\nconst SLEEP_MS = 0;',
        'const X = 1.5; // main value\n\nconst Y = 0.0; // subtracted\n\nconst SLEEP_MS = 1500;',
      ]),
    );
    const p = scriptedProposer('scripted', async (ctx, call) => {
      if (call === 0) await slowA(ctx);
      else if (call === 1) await edit(...second)(ctx);
      else await edit('console.log("---");', `/* trial ${call} */ console.log("---");`)(ctx); // asked again after a rejection
      return {
        kind: 'ok',
        description: call === 0 ? 'slow A: X 2.0 -> 1.5' : call === 1 ? `fast B: ${second[1]}` : `trial ${call}`,
      };
    });
    const r = await study(dir, { maxExperiments: 2 }, { proposer: p });
    const all = await r.ledger.listExperiments((await r.ledger.getStudy('test'))!.id);
    return { dir, all, r };
  }

  it('re-applies an experiment that beat its older base onto the current best, and re-runs it', async () => {
    const { dir, all, r } = await twoSlotRace(['const Y = 0.0;', 'const Y = 0.2;']);
    const [, a, b] = all;
    assert.equal(b!.status, 'keep');
    assert.equal(b!.value, 1.8);
    assert.equal(a!.status, 'keep');
    assert.equal(a!.value, 1.3, 'A was re-run on top of B (1.5 - 0.2)');
    assert.equal(a!.evidence?.rebased?.runs[0], 1.5);
    assert.equal(a!.parentCommit, b!.commit);
    assert.ok(r.events.some((e) => e.type === 'rebase' && e.number === a!.number));
    assert.match(git(dir, ['show', 'autoresearch/test:train.mjs']), /const X = 1\.5;[\s\S]*const Y = 0\.2;/);
  });

  it('records a conflict when the change no longer applies', async () => {
    const { all } = await twoSlotRace(['const X = 2.0;', 'const X = 1.9;']);
    const [, a, b] = all;
    assert.equal(b!.status, 'keep');
    assert.equal(a!.status, 'conflict');
    assert.match(a!.reason, /could not re-apply it onto the best #2/);
  });

  it('rejects a stale experiment whose change another experiment already kept', async () => {
    const same: [string, string] = [
      'const X = 2.0; // main value\n\nconst Y = 0.0; // subtracted\n\nconst SLEEP_MS = 0;',
      'const X = 1.5; // main value\n\nconst Y = 0.0; // subtracted\n\nconst SLEEP_MS = 1500;',
    ];
    const { all } = await twoSlotRace(same);
    const statuses = all
      .slice(1, 3)
      .map((e) => e.status)
      .sort();
    assert.deepEqual(statuses, ['keep', 'rejected']);
    // B repeats A while A is in flight: the pipeline rejects it before it is queued (not counted)
    assert.match(all.find((e) => e.status === 'rejected')!.reason, /already part of the best|repeats #1 \(in flight\)/);
  });

  it('re-applies a line-adding change where it was made, not at its old line number', async () => {
    // The reported case: A adds a line inside g(); B (kept meanwhile) inserted lines above g.
    // A zero-context patch put A's line after `return x;` in f() (dead code), exit 0.
    const train = [
      'function f() {',
      '  const x = 1;',
      '  return x;',
      '}',
      '',
      'function g() {',
      '  let y = 2.0;',
      '  return y;',
      '}',
      '',
      'const SLEEP_MS = 0; // run time',
      'await new Promise((r) => setTimeout(r, SLEEP_MS));',
      'console.log("---"); console.log("val_bpb: " + (g() * f() - (typeof BONUS === "undefined" ? 0 : BONUS)).toFixed(6));',
      '',
    ].join('\n');
    const { dir, all } = await twoSlotRace(
      ['function f() {', '// bonus for B\nvar BONUS = 0.2;\n// padding\n\nfunction f() {'],
      {
        train,
        first: [
          '  let y = 2.0;\n  return y;\n}\n\nconst SLEEP_MS = 0;',
          '  let y = 2.0;\n  y -= 0.5;\n  return y;\n}\n\nconst SLEEP_MS = 1500;',
        ],
      },
    );
    const [, a, b] = all;
    assert.equal(b!.status, 'keep', b!.reason);
    assert.equal(a!.status, 'keep', `${a!.status}: ${a!.reason}`);
    assert.equal(a!.value, 1.3, 'A re-run on top of B: (2.0 - 0.5) - 0.2');
    const best = git(dir, ['show', 'autoresearch/test:train.mjs']);
    assert.match(best, /function g\(\) \{\n {2}let y = 2\.0;\n {2}y -= 0\.5;\n {2}return y;/);
    assert.match(best, /return x;\n\}/, 'nothing was added to f()');
    assert.equal(
      a!.diff,
      git(dir, ['diff', '--no-color', b!.commit!, a!.commit!]),
      "the ledger holds the re-applied commit's diff",
    );
    assert.match(a!.diff, /^@@ -9,\d+ \+9,\d+ @@/m, 'its line numbers are those of the new base');
  });

  it("re-applies in a slot holding ignored files (a run's __pycache__) without stopping the study", async () => {
    const { all, r } = await twoSlotRace(['const Y = 0.0;', 'const Y = 0.2;'], {
      command: 'mkdir -p __pycache__ && echo cache > __pycache__/x.pyc && node train.mjs',
      setup: (dir) => {
        writeFileSync(join(dir, '.gitignore'), '__pycache__/\n');
        git(dir, ['add', '.gitignore']);
        git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'ignore caches']);
      },
    });
    assert.equal(r.outcome.reason, 'max-experiments');
    const [, a, b] = all;
    assert.equal(b!.status, 'keep');
    assert.equal(a!.status, 'keep', `${a!.status}: ${a!.reason}`);
    assert.equal(a!.value, 1.3);
    assert.doesNotMatch(a!.diff, /__pycache__/);
  });

  it('discards a stale experiment that did not beat its own base, without re-running it', async () => {
    // A (slow) makes things worse (X 2.0 -> 2.1); B (fast) is kept while A runs: A is judged
    // against its own base and discarded there, not re-applied onto B and run again.
    const { all, r } = await twoSlotRace(['const Y = 0.0;', 'const Y = 0.7;'], {
      first: [
        'const X = 2.0; // main value\n\nconst Y = 0.0; // subtracted\n\nconst SLEEP_MS = 0;',
        'const X = 2.1; // main value\n\nconst Y = 0.0; // subtracted\n\nconst SLEEP_MS = 1500;',
      ],
    });
    const [, a, b] = all;
    assert.equal(b!.status, 'keep');
    assert.equal(b!.value, 1.3);
    assert.equal(a!.status, 'discard', `${a!.status}: ${a!.reason}`);
    assert.match(a!.reason, /worse by 0\.1 \(vs its base #0\)/);
    assert.notEqual(a!.parentCommit, b!.commit, 'still on its own base');
    assert.deepEqual(a!.evidence?.runs, [2.1]);
    assert.equal(a!.evidence?.bestMean, 2.0, 'judged against its own base, not the best #2');
    assert.ok(!r.events.some((e) => e.type === 'rebase'), 'not re-applied');
    assert.equal(r.events.filter((e) => e.type === 'run-started' && e.number === a!.number).length, 1, 'run once');
  });

  it('a promising stale experiment is measured on the current best, not confirmed on its old base', async () => {
    // Noise from the run's seed (0, +0.01, -0.01): the baseline's 3 runs give sigma 0.01, so A's
    // gain of 0.01 is within noise ("confirm"). B is kept while A runs: A's confirmations would
    // be spent on a base that is no longer the best, so A is re-applied onto B and measured there.
    const train = TRAIN.replace(
      'console.log("---");',
      'const NOISE = [0, 0.01, -0.01][Number(process.env.AUTORESEARCH_SEED) % 3]; console.log("---");',
    ).replace('(X - Y).toFixed(6)', '(X - Y + NOISE).toFixed(6)');
    const { all, r } = await twoSlotRace(['const Y = 0.0;', 'const Y = 0.2;'], {
      train,
      first: [
        'const X = 2.0; // main value\n\nconst Y = 0.0; // subtracted\n\nconst SLEEP_MS = 0;',
        'const X = 1.99; // main value\n\nconst Y = 0.0; // subtracted\n\nconst SLEEP_MS = 1500;',
      ],
      judge: '[judge]\nkind = "noise"\nnoise_runs = 3\nvary_seed = true\nseeds = "indexed"\n',
    });
    const [, a, b] = all;
    const sigma = (await r.ledger.getStudy('test'))!.noise?.sigma ?? 0;
    assert.ok(Math.abs(sigma - 0.01) < 1e-9, `baseline noise sigma 0.01: ${sigma}`);
    assert.equal(b!.status, 'keep', `${b!.status}: ${b!.reason}`);
    const rebases = r.events.filter((e) => e.type === 'rebase' && e.number === a!.number);
    assert.equal(rebases.length, 1, 'A re-applied once');
    assert.match((rebases[0] as { reason: string }).reason, /within noise .* measured there instead/);
    assert.deepEqual(a!.evidence?.rebased?.runs, [1.99], 'one run on its old base: no confirmation there');
    assert.equal(a!.parentCommit, b!.commit, 'judged on the best');
    assert.ok(!r.events.some((e) => e.type === 'confirm' && e.number === a!.number && e.t < rebases[0]!.t));
  });

  it('re-runs a change that beat its base as often as the best moves under it, then judges it (never dropped unjudged)', async () => {
    // A waits, in each run, until two more runs of B-changes have happened; each B is kept
    // meanwhile, so the best moves under every run of A (4 times, more than the old cap of 3
    // that discarded A as "giving up on re-applying it"). When the Bs run out, A's run ends on
    // the current best and A is judged there.
    const sync = join(mkdtempSync(join(tmpdir(), 'ar-sync-')), 'b-runs');
    const train = [
      'const X = 2.0; // main value',
      '',
      'const Y = 0.0; // subtracted',
      '',
      'const WAIT = false; // A waits for two more B runs',
      '',
      "const fs = await import('node:fs');",
      `const SYNC = ${JSON.stringify(sync)};`,
      "const count = () => (fs.existsSync(SYNC) ? fs.readFileSync(SYNC, 'utf8').split('\\n').length - 1 : 0);",
      'if (WAIT) {',
      '  const c = count(); const t0 = Date.now();',
      '  while (count() < c + 2 && Date.now() - t0 < 4000) await new Promise((r) => setTimeout(r, 50));',
      "} else fs.appendFileSync(SYNC, 'run\\n');",
      'console.log("---"); console.log("val_bpb: " + (X - Y).toFixed(6));',
      '',
    ].join('\n');
    const dir = makeLandscapeRepo({
      train,
      sandbox: 'none',
      extraToml: `${GREEDY_FAST}[slots]\ncount = 2\ngpus = "none"\nprefetch = 0\n[proposer]\nconcurrency = 1\n`,
    });
    // 12 Bs: how many are kept during one run of A depends on scheduling (two, sometimes three),
    // so 8 gave 3 moves in some CI runs; 12 leave room for 4 or more
    const B = 12;
    const p = scriptedProposer('scripted', async (ctx, call) => {
      const f = join(ctx.worktree, 'train.mjs');
      const src = readFileSync(f, 'utf8');
      if (call === 0) {
        writeFileSync(
          f,
          src.replace('const X = 2.0;', 'const X = 1.5;').replace('const WAIT = false;', 'const WAIT = true;'),
        );
        return { kind: 'ok', description: 'A: X 2.0 -> 1.5' };
      }
      const y = Number(/const Y = ([\d.]+);/.exec(src)![1]);
      writeFileSync(f, src.replace(/const Y = [\d.]+;/, `const Y = ${(y + 0.1).toFixed(1)};`));
      return { kind: 'ok', description: `B${call}: Y ${y.toFixed(1)} -> ${(y + 0.1).toFixed(1)}` };
    });
    const r = await study(dir, { maxExperiments: 1 + B }, { proposer: p });
    const all = await r.ledger.listExperiments((await r.ledger.getStudy('test'))!.id);
    const a = all[1]!;
    assert.equal(all.slice(2).filter((e) => e.status === 'keep').length, B, 'every B kept');
    const moves = r.events.filter((e) => e.type === 'rebase' && e.number === a.number).length;
    assert.ok(moves >= 4, `the best moved ${moves} times under A`);
    assert.equal(a.status, 'keep', `${a.status}: ${a.reason}`);
    assert.equal(a.parentCommit, all.at(-1)!.commit, 'on the last B');
    assert.ok(Math.abs(a.value! - (1.5 - 0.1 * B)) < 1e-9, `A re-run on top of every B: ${a.value}`);
    assert.match(git(dir, ['show', 'autoresearch/test:train.mjs']), /const X = 1\.5;[\s\S]*const Y = 1\.2;/);
  });
});

describe('kill -9 with several slots', () => {
  it('resumes: nothing lost or duplicated, no orphan, no stale worktree', async () => {
    const dir = makeLandscapeRepo({
      command:
        'if [ "$AUTORESEARCH_EXPERIMENT" != 0 ] && [ ! -e "$AUTORESEARCH_WORKSPACE/go-fast" ]; then sleep 60; fi; node train.mjs',
      extraToml: `${GREEDY_FAST}[slots]\ncount = 3\ngpus = "none"\n`,
      sandbox: 'none', // resume must find and kill the orphans (a sandboxed run dies with the harness: test/cli.test.ts)
    });
    const child = cliAsync(['run', dir, '-n', '5', '--json']);
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not 3 runs started:\n${out}`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const started = out
          .split('\n')
          .filter((l) => l.includes('"type":"run-started"') && !l.includes('"number":0,')).length;
        if (started >= 3) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    let ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
    const before = await ledger.listExperiments((await ledger.getStudy('test'))!.id);
    const running = before.filter((e) => e.status === 'running');
    assert.ok(running.length >= 3, `running: ${running.length}`);
    const pgids = running.map((e) => e.pgid).filter((p): p is number => p !== null);
    assert.ok(pgids.length >= 3 && pgids.every((p) => liveGroupMembers(p).length > 0));
    await ledger.close();

    writeFileSync(join(dir, 'go-fast'), '');
    const r = cli(['run', dir, '-n', '5', '--json']);
    assert.equal(r.code, 0, r.stderr);
    for (const p of pgids) assert.deepEqual(liveGroupMembers(p), [], 'no orphan survives the resume');
    ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
    const all = await ledger.listExperiments((await ledger.getStudy('test'))!.id);
    // numbered without gaps or repeats; 5 that ran (a never-run proposal, e.g. a conflict of
    // two changes in flight, is not counted, so a sixth may have been proposed to make up for it)
    assert.deepEqual(
      all.map((e) => e.number),
      [...Array(all.length).keys()],
    );
    assert.equal(tally(all).ran, 5, all.map((e) => `#${e.number} ${e.status} ${e.reason}`).join('\n'));
    assert.ok(all.every((e) => e.status !== 'running'));
    for (const e of running)
      assert.equal(
        all.find((x) => x.number === e.number)!.description,
        e.description,
        'the interrupted ones were re-run, not re-proposed',
      );
    assert.equal(git(dir, ['worktree', 'list']).trim().split('\n').length, 1, 'no stale worktree');
    assert.equal(git(dir, ['rev-parse', 'autoresearch/test']).trim(), (await ledger.getStudy('test'))!.bestCommit);
    await ledger.close();
  });
});
