import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { runTestStudy, scriptedProposer, type StudyRun } from '../src/test-support/study-harness.js';

const opened: StudyRun[] = [];
after(async () => {
  for (const r of opened) await r.ledger.close();
});

// val_bpb = BASE + 0.01 x a standard normal draw keyed by AUTORESEARCH_SEED only: the seed's luck
// (initialisation, data order) is shared by every version of the code, as on a GPU where a change
// leaves the random stream alone. 'fixed' ignores the seed and prints a lucky draw of its own.
const train = (base: number, fixed = false) =>
  `const BASE = ${base};\n` +
  'const seed = Number(process.env.AUTORESEARCH_SEED ?? 0);\n' +
  'let h = (seed * 2654435761) >>> 0; const u = () => { h = (Math.imul(h ^ (h >>> 15), 2246822519) + 374761393) >>> 0; return (h + 0.5) / 4294967296; };\n' +
  `const z = ${fixed ? '-2.5' : 'Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())'};\n` +
  'console.log("---"); console.log("val_bpb: " + (BASE + 0.01 * z).toFixed(6));\n';

async function study(candidates: Array<{ base: number; fixed?: boolean }>, paired: boolean) {
  const dir = makeLandscapeRepo({
    train: train(1.0),
    extraToml: `[slots]\nprefetch = 0\n[judge]\npaired = ${paired}\n`,
  });
  const seen: string[] = [];
  const p = scriptedProposer('scripted', async (ctx, call) => {
    seen.push(JSON.stringify({ history: ctx.history, best: ctx.best, inFlight: ctx.inFlight }));
    const c = candidates[Math.min(call, candidates.length - 1)]!;
    writeFileSync(join(ctx.worktree, 'train.mjs'), train(c.base, c.fixed));
    return { kind: 'ok', description: `candidate ${call}` };
  });
  const r = await runTestStudy(dir, { maxExperiments: candidates.length }, { proposer: p });
  opened.push(r);
  const s = (await r.ledger.getStudy('test'))!;
  const all = await r.ledger.listExperiments(s.id);
  const rec = async (kind: string) => (await r.ledger.listRecords(s.id, kind)).map((x) => x.value as never);
  return {
    r,
    dir,
    all,
    seen,
    lists: (await rec('paired-seeds')) as Array<{ commit: string; number: number; seeds: number[] }>,
    values: (await rec('paired-value')) as Array<{ commit: string; seed: number; value: number }>,
    seeds: (await rec('seed')) as Array<{ commit: string; seed: number }>,
  };
}

describe('paired seeds in the loop ([judge] paired = true)', () => {
  it('keeps a gain below the seed luck that the unpaired test discards, on seeds drawn per best and never shown', async () => {
    // 2 sigma of the seed luck better on every seed (1.5 sigma fell under the futility line at the first run
    // when the 3 baseline runs drew a wide sample sigma: about 1 in 100); then a worse change
    const cands = [{ base: 0.98 }, { base: 1.02 }];
    const { all, lists, values, seeds, seen, r } = await study(cands, true);
    assert.equal(r.config.judge.paired, true);
    const [base, kept, worse] = all;
    assert.equal(kept!.status, 'keep', kept!.reason);
    assert.match(kept!.reason, /paired seeds/);
    // At the second paired seed (bar: sqrt(2) x the baseline's sigma) when the 3 baseline runs drew a
    // narrow sample sigma, else at the third (its own differences, 2 df): both seen in CI.
    const runs = kept!.evidence!.runs.length;
    assert.ok(runs === 2 || runs === 3, `kept at the second or third paired seed, not after ${runs}`);
    // one list per best, drawn fresh: the baseline's and the kept change's share no seed
    const baseList = lists.find((l) => l.commit === base!.parentCommit)!;
    const keptList = lists.find((l) => l.commit === kept!.commit)!;
    assert.equal(baseList.seeds.length, 4);
    assert.equal(keptList.number, 1);
    assert.equal(baseList.seeds.filter((x) => keptList.seeds.includes(x)).length, 0);
    // the candidate ran on the baseline's seeds, in order, and was compared with the baseline's values there
    const candSeeds = seeds.filter((s) => s.commit === kept!.commit).map((s) => s.seed);
    assert.deepEqual(candSeeds.slice(0, 3), baseList.seeds.slice(0, 3));
    const baseValue = (seed: number) => values.find((v) => v.commit === base!.parentCommit && v.seed === seed)!.value;
    assert.deepEqual(kept!.evidence!.pairedBest, baseList.seeds.slice(0, 3).map(baseValue));
    assert.deepEqual(base!.evidence!.runs, baseList.seeds.slice(0, 3).map(baseValue));
    // the re-measurement of the new best gave its values on its first two seeds
    assert.equal(values.filter((v) => v.commit === kept!.commit).length, 2);
    // the next change ran on the new best's seeds
    assert.equal(worse!.status, 'discard');
    assert.equal(seeds.find((s) => s.commit === worse!.commit)!.seed, keptList.seeds[0]);
    for (const text of seen)
      for (const v of [...baseList.seeds, ...keptList.seeds])
        assert.ok(!text.includes(String(v)), `seed ${v} shown to the proposer`);

    // the same change, unpaired: within the noise of 3 baseline runs, discarded
    const unpaired = await study([{ base: 0.985 }], false);
    assert.equal(unpaired.all[1]!.status, 'discard', unpaired.all[1]!.reason);
    assert.equal(unpaired.lists.length, 0);
  });

  it('discards a change that ignores the seed (a constant lucky value against the best on the same seeds)', async () => {
    const { all } = await study([{ base: 1.0, fixed: true }], true);
    const e = all[1]!;
    assert.equal(e.status, 'discard', e.reason);
    if (e.evidence!.runs.length > 1) assert.match(e.reason, /ignores AUTORESEARCH_SEED/);
    else assert.match(e.reason, /worse by/);
  });

  it('a resumed study reuses the recorded seed lists and values (the best is not run again on them)', async () => {
    const first = await study([{ base: 0.985 }], true);
    const dir = first.dir;
    const p = scriptedProposer('scripted', async (ctx) => {
      writeFileSync(join(ctx.worktree, 'train.mjs'), train(1.03));
      return { kind: 'ok', description: 'after resume' };
    });
    const again = await runTestStudy(dir, { maxExperiments: 2 }, { proposer: p });
    opened.push(again);
    const s = (await again.ledger.getStudy('test'))!;
    const lists = await again.ledger.listRecords(s.id, 'paired-seeds');
    assert.equal(lists.length, 2, 'no new list for a best that has one');
    const all = await again.ledger.listExperiments(s.id);
    assert.equal(all[2]!.status, 'discard');
    assert.equal(all[2]!.evidence!.pairedBest!.length, all[2]!.evidence!.runs.length);
  });
});
