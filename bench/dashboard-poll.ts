/**
 * What one dashboard poll costs on a large ledger: N experiments with 3 KB diffs and 2 KB log
 * tails, read (listExperiments + fingerprint, every poll) and turned into a snapshot (on change).
 * Run: node --import tsx bench/dashboard-poll.ts [N]
 */
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSnapshot, fingerprint } from '../src/dashboard/snapshot.js';
import { SqliteLedger } from '../src/ledger/sqlite.js';

const n = Number(process.argv[2] ?? 2000);
const ledger = SqliteLedger.open(join(mkdtempSync(join(tmpdir(), 'ar-bench-')), 'ledger.db'));
const spec = {
  tag: 't',
  branch: 'b',
  metric: 'm',
  direction: 'minimize' as const,
  baseCommit: 'a',
  protectedHashes: {},
  config: {},
};
const s = await ledger.openStudy(spec);
for (let i = 0; i < n; i++) {
  const e = await ledger.createExperiment(s.id, {
    baseline: i === 0,
    parentCommit: 'a',
    proposer: 'p',
    description: `change ${i}`,
    diff: 'x'.repeat(3000),
    slot: i % 8,
  });
  await ledger.finishExperiment(e.id, {
    status: i % 3 ? 'discard' : 'keep',
    value: 2 - i / 1e4,
    metrics: {},
    runMs: 1000,
    endedAt: Date.now(),
    logTail: 'y'.repeat(2000),
  });
}
const study = (await ledger.getStudy('t'))!;
const time = async (withSnapshot: boolean): Promise<number> => {
  const t = performance.now();
  for (let k = 0; k < 10; k++) {
    const all = await ledger.listExperiments(study.id);
    fingerprint(study, all, null);
    if (withSnapshot) JSON.stringify(buildSnapshot(study, all, null, Date.now()));
  }
  return (performance.now() - t) / 10;
};
const poll = await time(false);
const snap = await time(true);
await ledger.close();
console.log(
  `${n} experiments: poll ${poll.toFixed(0)} ms, poll + snapshot ${snap.toFixed(0)} ms ` +
    `(${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)})`,
);
