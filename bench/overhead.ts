/**
 * Harness overhead per experiment: from the end of one run to the start of the next, proposer
 * time excluded (git reset/commit/diff, ledger writes, protected-file hashing, results.tsv).
 * Target (issue 2): < 1 s. Run: npm run bench:overhead [-- N]
 */
import { cpus, hostname } from 'node:os';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { runTestStudy } from '../src/test-support/study-harness.js';

const n = Number(process.argv[2] ?? 40);
const dir = makeLandscapeRepo();
const { events, ledger, outcome } = await runTestStudy(dir, { maxExperiments: n });
await ledger.close();

const finishedAt = new Map<number, number>();
const proposeMs = new Map<number, number>();
const overheads: number[] = [];
let prevEnd: number | null = null;
for (const e of events) {
  if (e.type === 'experiment-finished') {
    finishedAt.set(e.number, e.t);
    prevEnd = e.t;
  } else if (e.type === 'proposal') proposeMs.set(e.number, e.proposeMs);
  else if (e.type === 'run-started' && prevEnd !== null) {
    overheads.push(e.t - prevEnd - (proposeMs.get(e.number) ?? 0));
  }
}
overheads.sort((a, b) => a - b);
const q = (p: number) => overheads[Math.min(overheads.length - 1, Math.floor(p * overheads.length))]!;
const proposals = [...proposeMs.values()].sort((a, b) => a - b);
const result = {
  experiments: overheads.length,
  stopped: `${outcome.reason}: ${outcome.message}`,
  overhead_ms: { median: q(0.5), p90: q(0.9), max: overheads.at(-1) },
  propose_ms_median: proposals[Math.floor(proposals.length / 2)],
  machine: { host: hostname(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
};
console.log(JSON.stringify(result, null, 2));
console.log(`harness overhead per experiment: median ${q(0.5)} ms, p90 ${q(0.9)} ms (target < 1000 ms)`);
