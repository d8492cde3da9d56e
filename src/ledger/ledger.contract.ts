/**
 * The shared Ledger contract suite: every backend runs it (see sqlite.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLedgerError, type LedgerHarness, sha, studySpec } from './contract-fixtures.js';
import { hostsContract } from './ledger-hosts.contract.js';
import { recordsContract } from './ledger-records.contract.js';
import type { Experiment } from './types.js';

export type { LedgerHarness } from './contract-fixtures.js';

/**
 * Registers the contract tests under `describe(name)`. `make` is called once per test and must
 * return a fresh ledger; `cleanup` is always awaited, even when the test fails.
 */
export function ledgerContract(name: string, make: () => Promise<LedgerHarness>): void {
  async function withLedger(fn: (h: LedgerHarness) => Promise<void>): Promise<void> {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.cleanup();
    }
  }

  describe(`Ledger contract: ${name}`, () => {
    it('openStudy creates, then returns the same study by tag (spec ignored)', () =>
      withLedger(async ({ ledger }) => {
        const s = await ledger.openStudy(studySpec('mar5'));
        assert.equal(s.tag, 'mar5');
        assert.equal(s.branch, 'autoresearch/mar5');
        assert.equal(s.direction, 'minimize');
        assert.deepEqual(s.protectedHashes, { 'prepare.py': 'a'.repeat(64) });
        assert.deepEqual(s.config, { objective: { metric: 'val_bpb' }, slots: [0, 1], budget: 300 });
        assert.equal(s.bestCommit, null);
        assert.equal(s.bestValue, null);
        assert.equal(s.bestNumber, null);
        assert.ok(s.createdAt > 0);
        const again = await ledger.openStudy(studySpec('mar5', { metric: 'other', direction: 'maximize' }));
        assert.deepEqual(again, s);
        const other = await ledger.openStudy(studySpec('mar6', { direction: 'maximize' }));
        assert.notEqual(other.id, s.id);
        assert.equal(other.direction, 'maximize');
        assert.deepEqual(await ledger.getStudy('mar5'), s);
        assert.equal(await ledger.getStudy('nope'), null);
        assert.deepEqual(
          (await ledger.listStudies()).map((x) => x.tag),
          ['mar5', 'mar6'],
        );
      }));

    it('numbers experiments 0, 1, 2 per study, starting running with defaults', () =>
      withLedger(async ({ ledger }) => {
        const a = await ledger.openStudy(studySpec('a'));
        const b = await ledger.openStudy(studySpec('b'));
        const e0 = await ledger.createExperiment(a.id, {
          baseline: true,
          parentCommit: sha('1'),
          proposer: 'baseline',
          startedAt: 1234,
        });
        assert.deepEqual({ ...e0, id: 0 }, {
          id: 0,
          studyId: a.id,
          number: 0,
          baseline: true,
          status: 'running',
          parentCommit: sha('1'),
          commit: null,
          description: '',
          diff: '',
          change: null,
          proposer: 'baseline',
          value: null,
          metrics: {},
          reason: '',
          logPath: null,
          logTail: '',
          exitCode: null,
          pgid: null,
          attempts: 1,
          usage: null,
          env: {},
          startedAt: 1234,
          endedAt: null,
          proposeMs: null,
          runMs: null,
          slot: null,
          evidence: null,
          repairs: [],
          host: null,
          leaseUntil: null,
        } satisfies Experiment);
        const e1 = await ledger.createExperiment(a.id, { baseline: false, parentCommit: sha('1'), proposer: 'search' });
        const f0 = await ledger.createExperiment(b.id, {
          baseline: true,
          parentCommit: sha('2'),
          proposer: 'baseline',
        });
        const e2 = await ledger.createExperiment(a.id, { baseline: false, parentCommit: sha('1'), proposer: 'search' });
        assert.deepEqual([e0.number, e1.number, e2.number, f0.number], [0, 1, 2, 0]);
        assert.equal(e1.baseline, false);
        assert.ok(e1.startedAt > 0);
        assert.equal(new Set([e0.id, e1.id, e2.id, f0.id]).size, 4);
      }));

    it('gives 20 concurrent createExperiment calls distinct consecutive numbers', () =>
      withLedger(async ({ ledger }) => {
        const s = await ledger.openStudy(studySpec('conc'));
        const made = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('c'), proposer: `p${i}` }),
          ),
        );
        assert.deepEqual(
          made.map((e) => e.number).sort((x, y) => x - y),
          [...Array(20).keys()],
        );
        assert.equal(new Set(made.map((e) => e.id)).size, 20);
      }));

    it('updates fields (undefined leaves, null clears) then finishes', () =>
      withLedger(async ({ ledger }) => {
        const s = await ledger.openStudy(studySpec('upd'));
        const e = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('1'), proposer: 'llm' });
        await ledger.updateExperiment(e.id, {
          description: 'increase LR',
          diff: '--- a\n+++ b\n',
          change: { file: 'train.py', to: 0.04 },
          commit: sha('2'),
          pgid: 4242,
          logPath: '/tmp/run.log',
          proposeMs: 1500,
          usage: { inputTokens: 10, outputTokens: 20, costUsd: 0.01 },
        });
        const u = await ledger.updateExperiment(e.id, { pgid: null, attempts: 2 });
        assert.equal(u.description, 'increase LR');
        assert.equal(u.commit, sha('2'));
        assert.equal(u.pgid, null);
        assert.equal(u.attempts, 2);
        assert.equal(u.logPath, '/tmp/run.log');
        assert.equal(u.proposeMs, 1500);
        assert.equal(u.status, 'running');
        assert.equal((await ledger.updateExperiment(e.id, { commit: null })).commit, null);
        assert.deepEqual(await ledger.updateExperiment(e.id, {}), await ledger.getExperiment(e.id));
        const f = await ledger.finishExperiment(e.id, {
          status: 'discard',
          value: 1.005,
          metrics: { val_bpb: 1.005, peak_vram_mb: 45060.2 },
          reason: 'worse than best',
          logTail: 'val_bpb: 1.005\n',
          exitCode: 0,
          runMs: 300100,
          endedAt: 99999,
          env: { gpu: 'NVIDIA H100', gpuCount: 1 },
        });
        assert.equal(f.status, 'discard');
        assert.equal(f.value, 1.005);
        assert.equal(f.reason, 'worse than best');
        assert.equal(f.logTail, 'val_bpb: 1.005\n');
        assert.equal(f.exitCode, 0);
        assert.equal(f.runMs, 300100);
        assert.equal(f.endedAt, 99999);
        assert.equal(f.description, 'increase LR');
        assert.deepEqual(await ledger.getExperiment(e.id), f);
      }));

    it('rejects misuse with LedgerError: finishing twice, unknown ids', () =>
      withLedger(async ({ ledger }) => {
        const s = await ledger.openStudy(studySpec('twice'));
        const e = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('1'), proposer: 'x' });
        await ledger.finishExperiment(e.id, { status: 'crash', value: null, metrics: {}, reason: 'boom' });
        await assert.rejects(ledger.finishExperiment(e.id, { status: 'keep', value: 0.5, metrics: {} }), isLedgerError);
        const after = await ledger.getExperiment(e.id);
        assert.equal(after?.status, 'crash');
        assert.equal((await ledger.getStudy('twice'))?.bestCommit, null);
        await assert.rejects(ledger.finishExperiment(999999, { status: 'keep', value: 1, metrics: {} }), isLedgerError);
        await assert.rejects(ledger.updateExperiment(999999, { description: 'x' }), isLedgerError);
        await assert.rejects(
          ledger.createExperiment(999999, { baseline: false, parentCommit: sha('1'), proposer: 'x' }),
          isLedgerError,
        );
        assert.equal(await ledger.getExperiment(999999), null);
        assert.deepEqual(await ledger.listExperiments(999999), []);
      }));

    it('moves the best on keep only; a baseline keep points at its parent commit', () =>
      withLedger(async ({ ledger }) => {
        const s = await ledger.openStudy(studySpec('best'));
        const base = await ledger.createExperiment(s.id, {
          baseline: true,
          parentCommit: sha('a'),
          proposer: 'baseline',
        });
        await ledger.finishExperiment(base.id, { status: 'keep', value: 0.9979, metrics: { val_bpb: 0.9979 } });
        let st = await ledger.getStudy('best');
        assert.deepEqual([st?.bestCommit, st?.bestValue, st?.bestNumber], [sha('a'), 0.9979, 0]);
        for (const status of ['discard', 'crash', 'timeout', 'rejected'] as const) {
          const e = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('a'), proposer: 's' });
          await ledger.updateExperiment(e.id, { commit: sha('d') });
          await ledger.finishExperiment(e.id, { status, value: status === 'discard' ? 1.2 : null, metrics: {} });
        }
        st = await ledger.getStudy('best');
        assert.deepEqual([st?.bestCommit, st?.bestValue, st?.bestNumber], [sha('a'), 0.9979, 0]);
        const k = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('a'), proposer: 's' });
        await ledger.updateExperiment(k.id, { commit: sha('e') });
        await ledger.finishExperiment(k.id, { status: 'keep', value: 0.9932, metrics: { val_bpb: 0.9932 } });
        st = await ledger.getStudy('best');
        assert.deepEqual([st?.bestCommit, st?.bestValue, st?.bestNumber], [sha('e'), 0.9932, 5]);
      }));

    it('round-trips JSON fields', () =>
      withLedger(async ({ ledger }) => {
        const s = await ledger.openStudy(
          studySpec('json', { config: { nested: { a: [1, 'two', null, true] }, s: 'é—"\n' } }),
        );
        assert.deepEqual((await ledger.getStudy('json'))?.config, {
          nested: { a: [1, 'two', null, true] },
          s: 'é—"\n',
        });
        const metrics: Record<string, number> = {};
        for (let i = 0; i < 60; i++) metrics[`m_${i}`] = i * 1.5 - 30;
        Object.assign(metrics, { tiny: 1e-300, big: 1.7976931348623157e308, neg0: -2.5, pi: Math.PI });
        const change = { kind: 'set', file: 'train.py', name: 'LR', from: 0.02, to: 0.04, tags: ['a', 'ü'] };
        const usage = { inputTokens: 1234, outputTokens: 56, costUsd: 0.0123 };
        const env = { gpu: 'NVIDIA H100 80GB HBM3', gpuCount: 8, host: 'box', cuda: { version: '12.4' } };
        const e = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('1'), proposer: 'llm' });
        await ledger.updateExperiment(e.id, { change, usage, description: 'tab\there "quoted" ü' });
        await ledger.finishExperiment(e.id, { status: 'discard', value: metrics.pi ?? 0, metrics, env });
        const got = await ledger.getExperiment(e.id);
        assert.deepEqual(got?.metrics, metrics);
        assert.deepEqual(got?.change, change);
        assert.deepEqual(got?.usage, usage);
        assert.deepEqual(got?.env, env);
        assert.equal(got?.description, 'tab\there "quoted" ü');
        assert.equal(got?.value, Math.PI);
      }));

    it('never stores NaN or Infinity: values become null, such metrics are dropped', () =>
      withLedger(async ({ ledger }) => {
        const s = await ledger.openStudy(studySpec('nan'));
        const e = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('1'), proposer: 'x' });
        const f = await ledger.finishExperiment(e.id, {
          status: 'crash',
          value: Number.NaN,
          metrics: { val_bpb: Number.NaN, loss: Infinity, steps: 12 },
        });
        assert.equal(f.value, null);
        assert.deepEqual(f.metrics, { steps: 12 });
        const k = await ledger.createExperiment(s.id, { baseline: true, parentCommit: sha('2'), proposer: 'baseline' });
        await ledger.finishExperiment(k.id, { status: 'keep', value: Infinity, metrics: {} });
        assert.equal((await ledger.getExperiment(k.id))?.value, null);
        assert.equal((await ledger.getStudy('nan'))?.bestValue, null);
      }));

    it('lists experiments by number, only the study’s own', () =>
      withLedger(async ({ ledger }) => {
        const a = await ledger.openStudy(studySpec('la'));
        const b = await ledger.openStudy(studySpec('lb'));
        const ids: number[] = [];
        for (let i = 0; i < 4; i++) {
          ids.push(
            (await ledger.createExperiment(a.id, { baseline: i === 0, parentCommit: sha('1'), proposer: 'x' })).id,
          );
          await ledger.createExperiment(b.id, { baseline: i === 0, parentCommit: sha('2'), proposer: 'y' });
        }
        for (const id of [ids[3], ids[1]]) {
          await ledger.finishExperiment(id ?? -1, { status: 'discard', value: 1, metrics: {} });
        }
        const list = await ledger.listExperiments(a.id);
        assert.deepEqual(
          list.map((e) => e.number),
          [0, 1, 2, 3],
        );
        assert.deepEqual(
          list.map((e) => e.id),
          ids,
        );
        assert.ok(list.every((e) => e.studyId === a.id));
        assert.deepEqual(
          list.map((e) => e.status),
          ['running', 'discard', 'running', 'discard'],
        );
      }));

    it('returns fresh copies', () =>
      withLedger(async ({ ledger }) => {
        const s = await ledger.openStudy(studySpec('copy'));
        const e = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('1'), proposer: 'x' });
        const f = await ledger.finishExperiment(e.id, {
          status: 'discard',
          value: 2,
          metrics: { a: 1 },
          env: { h: 'x' },
        });
        f.metrics.a = 99;
        f.env.h = 'y';
        s.protectedHashes.x = 'y';
        const again = await ledger.getExperiment(e.id);
        assert.deepEqual(again?.metrics, { a: 1 });
        assert.deepEqual(again?.env, { h: 'x' });
        assert.deepEqual((await ledger.getStudy('copy'))?.protectedHashes, { 'prepare.py': 'a'.repeat(64) });
      }));

    it('sets fields at creation, records evidence, repairs, slots, conflicts and the noise floor', () =>
      withLedger(async ({ ledger }) => {
        const s = await ledger.openStudy(studySpec('ev'));
        assert.equal(s.noise, null);
        const withNoise = await ledger.setStudyNoise(s.id, { sigma: 0.002, runs: [1, 1.002, 0.998] });
        assert.deepEqual(withNoise.noise, { sigma: 0.002, runs: [1, 1.002, 0.998] });
        const e = await ledger.createExperiment(s.id, {
          baseline: false,
          parentCommit: sha('a'),
          proposer: 'x',
          description: 'LR 0.1 -> 0.2',
          diff: 'diff --git',
          commit: sha('c'),
          slot: 3,
          change: { name: 'LR' },
        });
        assert.equal(e.status, 'running');
        assert.equal(e.description, 'LR 0.1 -> 0.2');
        assert.equal(e.commit, sha('c'));
        assert.equal(e.slot, 3);
        assert.deepEqual(e.repairs, []);
        assert.equal(e.evidence, null);
        const repairs = [{ attempt: 1, crashReason: 'exit code 1: NameError', description: 'fix typo', diff: 'd' }];
        const moved = await ledger.updateExperiment(e.id, { parentCommit: sha('d'), repairs });
        assert.equal(moved.parentCommit, sha('d'));
        assert.deepEqual(moved.repairs, repairs);
        const evidence = {
          runs: [0.9, 0.91],
          mean: 0.905,
          spread: 0.00707,
          bestMean: 1,
          bestRuns: 3,
          threshold: 0.004,
        };
        const f = await ledger.finishExperiment(e.id, { status: 'keep', value: 0.905, metrics: {}, evidence });
        assert.deepEqual(f.evidence, evidence);
        assert.equal((await ledger.getStudy('ev'))?.bestValue, 0.905);
        const c = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('a'), proposer: 'x' });
        const cf = await ledger.finishExperiment(c.id, {
          status: 'conflict',
          value: null,
          metrics: {},
          reason: 'conflict',
        });
        assert.equal(cf.status, 'conflict');
        assert.equal((await ledger.getStudy('ev'))?.bestCommit, sha('c'));
      }));

    recordsContract(withLedger);
    hostsContract(withLedger);

    it('is durable: a second connection sees everything', () =>
      withLedger(async ({ ledger, reopen }) => {
        const s = await ledger.openStudy(studySpec('dur'));
        const b = await ledger.createExperiment(s.id, { baseline: true, parentCommit: sha('a'), proposer: 'baseline' });
        await ledger.finishExperiment(b.id, { status: 'keep', value: 0.99, metrics: { val_bpb: 0.99 } });
        const r = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('a'), proposer: 'x' });
        await ledger.updateExperiment(r.id, { description: 'in flight', pgid: 77 });
        if (!reopen) return;
        const second = await reopen();
        try {
          assert.deepEqual(await second.getStudy('dur'), await ledger.getStudy('dur'));
          assert.deepEqual(await second.listExperiments(s.id), await ledger.listExperiments(s.id));
          const next = await second.createExperiment(s.id, { baseline: false, parentCommit: sha('a'), proposer: 'x' });
          assert.equal(next.number, 2);
        } finally {
          await second.close();
        }
      }));
  });
}
