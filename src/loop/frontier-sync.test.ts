/**
 * Several hosts: what one host re-measured (a new best on fresh seeds, ./remeasure.ts) and the
 * noise estimate it pooled again (./noise-estimate.ts) reach the other host's next decision
 * through the shared PostgreSQL ledger: two frontiers (two hosts' contexts), one database.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NoiseJudge } from '../judge/noise.js';
import type { JudgeInput } from '../judge/types.js';
import { PostgresLedger } from '../ledger/postgres.js';
import { git, makeLandscapeRepo } from '../test-support/landscape.ts';
import { testDatabase } from '../test-support/postgres.ts';
import { Workspace } from '../workspace/workspace.js';
import { Frontier } from './frontier.js';
import { MEASUREMENT, type MeasurementRecord } from './measurement.js';

describe('frontier sync across hosts (PostgreSQL)', () => {
  it("host B's re-measurement and noise update are used by host A's next decision", async () => {
    const db = await testDatabase('fsync');
    const dir = makeLandscapeRepo({ sandbox: 'none' });
    const opened = await Workspace.open(dir);
    assert.ok(opened.ok);
    const ws = opened.workspace;
    const [la, lb] = [await PostgresLedger.open(db.url), await PostgresLedger.open(db.url)];
    try {
      const base = git(dir, ['rev-parse', 'HEAD']).trim();
      const s = await la.openStudy({
        tag: 'test',
        branch: 'autoresearch/test',
        metric: 'val_bpb',
        direction: 'minimize',
        baseCommit: base,
        protectedHashes: {},
        config: {},
      });
      const b0 = await la.createExperiment(s.id, { baseline: true, parentCommit: base, proposer: 'baseline' });
      await la.finishExperiment(b0.id, {
        status: 'keep',
        value: 1,
        metrics: {},
        evidence: { runs: [1], mean: 1, spread: 0 },
      });
      await la.setStudyNoise(s.id, { sigma: 0.05, runs: [0.95, 1.05] });
      const k = await la.createExperiment(s.id, { baseline: false, parentCommit: base, proposer: 'x' });
      await la.updateExperiment(k.id, { commit: base }); // the best stays where the repo is: no rebuild needed
      await la.finishExperiment(k.id, {
        status: 'keep',
        value: 0.9,
        metrics: {},
        evidence: { runs: [0.9], mean: 0.9, spread: 0 },
      });
      const all = await la.listExperiments(s.id);
      const study = (await la.getStudy('test'))!;
      const A = new Frontier(study, all, la, ws);
      const B = new Frontier(study, all, lb, ws);
      const judge = new NoiseJudge({ z: 2, confirmRuns: 0, minDelta: 0 });
      // what decide() in ./slot-worker.ts passes the judge, after frontier.sync()
      const input = (f: Frontier): JudgeInput => ({
        direction: 'minimize',
        best: { mean: f.current!.mean, runs: f.current!.runs },
        candidate: [0.85],
        noise: f.currentStudy.noise,
      });
      await A.synced();
      assert.equal(judge.decide(input(A)).decision, 'discard', 'within the noise of the best as first measured');

      // host B re-measures the best on two fresh seeds and pools the noise estimate again
      const record: MeasurementRecord = { commit: base, number: k.number, runs: [0.92, 0.94], source: 'remeasure' };
      await lb.putRecord(s.id, MEASUREMENT, `remeasure.${k.number}`, record);
      await B.lock.run(async () => B.addRuns(base, record.runs));
      await lb.setStudyNoise(s.id, { sigma: 0.01, runs: [0.95, 1.05], df: 4 });

      assert.equal(A.current!.runs, 1, 'A has not read the ledger yet');
      await A.synced(); // what A's next decision does first
      assert.equal(A.current!.runs, 3);
      assert.ok(Math.abs(A.current!.mean - 0.92) < 1e-12, `A's estimate of the best: ${A.current!.mean}`);
      assert.deepEqual([A.current!.mean, A.current!.runs], [B.current!.mean, B.current!.runs], 'both hosts agree');
      assert.equal(A.currentStudy.noise?.sigma, 0.01);
      assert.equal(judge.decide(input(A)).decision, 'keep', "A's decision uses B's re-measurement and noise");
      // syncing again does not count B's runs twice
      await A.synced();
      await B.synced();
      assert.deepEqual([A.current!.runs, B.current!.runs], [3, 3]);
    } finally {
      await la.close();
      await lb.close();
      await db.drop();
    }
  });
});
