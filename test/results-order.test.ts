import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { scriptedProposer, studiesClosedAfterAll } from '../src/test-support/study-harness.js';

const study = studiesClosedAfterAll();

// The landscape with a run time the proposer controls (SLEEP_MS), so that a slow change
// proposed first is decided after a fast one proposed second.
const TRAIN = `const LR = 0.01;
const WIDTH = 32;
const DROPOUT = 0.5;
const SLEEP_MS = 0;
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SLEEP_MS);
const score = 1 + (Math.log10(LR) - Math.log10(0.04)) ** 2 + 0.05 * (Math.log2(WIDTH) - 7) ** 2 + (DROPOUT - 0.1) ** 2;
console.log("---");
console.log("val_bpb: " + score.toFixed(6));
`;

describe('results.tsv with several slots', () => {
  it('lists rows in decision order: kept values improve row by row (numbers stay in the ledger)', async () => {
    const dir = makeLandscapeRepo({
      train: TRAIN,
      extraToml:
        '[proposer]\nconcurrency = 1\n[judge]\nkind = "greedy"\nnoise_runs = 1\n[slots]\ncount = 3\ngpus = "none"\n',
    });
    const edits: Array<Record<string, string>> = [
      { DROPOUT: '0.1', SLEEP_MS: '2500' }, // #1: a gain, decided last (slow)
      { WIDTH: '128' }, // #2: a larger gain, decided first
      { DROPOUT: '0.9' }, // #3: worse
    ];
    const p = scriptedProposer('scripted', async (ctx, call) => {
      const f = join(ctx.worktree, 'train.mjs');
      let src = readFileSync(f, 'utf8');
      for (const [k, v] of Object.entries(edits[call] ?? { LR: '0.02' }))
        src = src.replace(new RegExp(`const ${k} = [^;]+;`), `const ${k} = ${v};`);
      writeFileSync(f, src);
      return { kind: 'ok', description: `edit ${call + 1}` };
    });
    const { outcome, ledger } = await study(dir, { maxExperiments: 3 }, { proposer: p });
    assert.equal(outcome.reason, 'max-experiments', outcome.message);
    const all = await ledger.listExperiments((await ledger.getStudy('test'))!.id);
    const keptByNumber = all.filter((e) => e.status === 'keep' && !e.baseline).map((e) => e.number);
    assert.deepEqual(
      keptByNumber,
      [1, 2],
      all.map((e) => `#${e.number} ${e.status} ${e.value} ${e.reason}`).join('\n'),
    );
    assert.ok(all[1]!.endedAt! > all[2]!.endedAt!, 'the slow #1 was decided after #2');

    const rows = readFileSync(join(dir, 'results.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    assert.deepEqual(
      rows.map((r) => r[4]),
      ['baseline', 'edit 2', 'edit 3', 'edit 1'].filter((d) => rows.some((r) => r[4] === d)),
    );
    const kept = rows.filter((r) => r[3] === 'keep').map((r) => Number(r[1]));
    assert.equal(kept.length, 3);
    for (let i = 1; i < kept.length; i++)
      assert.ok(kept[i]! < kept[i - 1]!, `kept rows in file order: ${kept.join(', ')}`);
  });
});
