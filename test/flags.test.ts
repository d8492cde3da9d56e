/**
 * Every flag the README documents for init, run and status runs here through the real CLI and
 * has the effect it promises (a documented, broken flag slipped through once).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { SqliteLedger } from '../src/ledger/sqlite.js';
import { cli } from '../src/test-support/cli.js';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';

describe('documented flags', () => {
  it('init --command --metric --direction --editable --protected --timeout --tag write what they say', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ar-flags-'));
    const r = cli([
      'init',
      dir,
      '--command',
      'node bench.mjs',
      '--metric',
      'score',
      '--direction',
      'maximize',
      '--editable',
      'a.mjs,b.mjs',
      '--protected',
      'bench.mjs',
      '--timeout',
      '42',
      '--tag',
      'flags1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const toml = parse(readFileSync(join(dir, 'autoresearch.toml'), 'utf8')) as Record<string, Record<string, unknown>>;
    assert.equal(toml.run!.command, 'node bench.mjs');
    assert.equal(toml.run!.timeout_s, 42);
    assert.equal(toml.objective!.metric, 'score');
    assert.equal(toml.objective!.direction, 'maximize');
    assert.deepEqual(toml.files!.editable, ['a.mjs', 'b.mjs']);
    assert.deepEqual(toml.files!.protected, ['bench.mjs']);
    assert.equal(toml.study!.tag, 'flags1');
    const bad = cli([
      'init',
      mkdtempSync(join(tmpdir(), 'ar-flags-')),
      '--command',
      'x',
      '--editable',
      'a',
      '--direction',
      'sideways',
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--direction must be minimize or maximize/);
  });

  it('run --judge --min-delta --seed --timeout --proposer --max-hours --max-tokens --slots auto, then status --recent', async () => {
    const dir = makeLandscapeRepo();
    const r = cli([
      'run',
      dir,
      '-n',
      '3',
      '--judge',
      'greedy',
      '--min-delta',
      '0.05',
      '--seed',
      '7',
      '--timeout',
      '25',
      '--proposer',
      'search',
      '--max-hours',
      '1',
      '--max-tokens',
      '1000',
      '--slots',
      'auto',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = events.find((e) => e.type === 'study-started')!;
    assert.equal(started.judge, 'greedy');
    assert.equal(started.proposer, 'search');
    assert.equal(started.timeoutS, 25);
    assert.equal(started.maxHours, 1);
    assert.equal((started.slots as unknown[]).length, 1, '--slots auto without GPUs: one CPU slot');
    const ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
    const s = (await ledger.getStudy('test'))!;
    const all = await ledger.listExperiments(s.id);
    await ledger.close();
    assert.equal((s.config as { study: { seed: number } }).study.seed, 7);
    assert.equal(all[0]!.evidence?.runs.length, 1, 'greedy: one baseline run');
    for (const e of all.filter((x) => x.status === 'keep' && !x.baseline)) {
      const before = all.filter((x) => x.status === 'keep' && x.number < e.number).at(-1)!;
      assert.ok(before.value! - e.value! > 0.05, `#${e.number} kept by more than --min-delta`);
    }
    for (const e of all.filter((x) => x.status === 'discard')) {
      const best = all.filter((x) => x.status === 'keep' && x.number < e.number).at(-1)!;
      assert.ok(best.value! - e.value! <= 0.05, `#${e.number} gained more than --min-delta and was discarded`);
    }
    const st = cli(['status', dir, '--recent', '2', '--json']);
    assert.equal(st.code, 0, st.stderr);
    const status = JSON.parse(st.stdout) as { recent: unknown[] };
    assert.equal(status.recent.length, 2);
  });
});
