import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarise } from '../src/cli/commands/status.ts';
import { cli } from '../src/test-support/cli.js';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { runTestStudy, scriptedProposer, type StudyRun } from '../src/test-support/study-harness.js';

const opened: StudyRun[] = [];
after(async () => {
  for (const r of opened) await r.ledger.close();
});

// val_bpb = BASE + 0.01 x a standard normal draw keyed by AUTORESEARCH_SEED (a training run's
// seed luck). Cheats: 'pinned' hashes a seed of its own instead of the harness's; 'fixed' prints a
// lucky draw of its own, leaving the seed lines alone.
type Cheat = 'pinned' | 'fixed';
const train = (base: number, cheat?: Cheat) =>
  `const BASE = ${base};\n` +
  'const seed = Number(process.env.AUTORESEARCH_SEED ?? 0);\n' +
  `let h = (${cheat === 'pinned' ? '7' : 'seed'} * 2654435761) >>> 0; const u = () => { h = (Math.imul(h ^ (h >>> 15), 2246822519) + 374761393) >>> 0; return (h + 0.5) / 4294967296; };\n` +
  `const z = ${cheat === 'fixed' ? '-2.5' : 'Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())'};\n` +
  'console.log("---"); console.log("val_bpb: " + (BASE + 0.01 * z).toFixed(6));\n';

async function study(candidates: Array<{ base: number; cheat?: Cheat }>, extraToml = '') {
  // unpaired: every run its own seed (paired seeds: ./paired-seeds.test.ts)
  const dir = makeLandscapeRepo({ train: train(1.0), extraToml: `[judge]\npaired = false\n${extraToml}` });
  const seen: string[] = [];
  const p = scriptedProposer('scripted', async (ctx, call) => {
    seen.push(JSON.stringify({ history: ctx.history, best: ctx.best, inFlight: ctx.inFlight }));
    const c = candidates[Math.min(call, candidates.length - 1)]!; // a prefetched extra proposal may never run
    writeFileSync(join(ctx.worktree, 'train.mjs'), train(c.base, c.cheat));
    return { kind: 'ok', description: `candidate ${call}` };
  });
  const r = await runTestStudy(dir, { maxExperiments: candidates.length }, { proposer: p });
  opened.push(r);
  const s = (await r.ledger.getStudy('test'))!;
  const all = await r.ledger.listExperiments(s.id);
  const seeds = (await r.ledger.listRecords(s.id, 'seed')).map((x) => ({
    key: x.key,
    ...(x.value as { seed: number; commit: string }),
  }));
  return { r, study: s, all, seeds, seen, dir };
}

describe('the sequential judge in the loop (the default)', () => {
  it('draws a fresh seed for every run, records it, and never shows it to the proposer', async () => {
    const { all, seeds, seen, r } = await study([{ base: 0.5 }, { base: 0.52 }]);
    assert.equal(r.config.judge.kind, 'sequential');
    const runs = all.reduce((n, e) => n + (e.evidence?.runs.length ?? 0), 0);
    // baseline 3 + candidate 0 (2: a keep needs a second seed) + its 2 re-measurement runs + candidate 1
    assert.ok(seeds.length >= runs + 2, `${seeds.length} seeds for ${runs} judged runs`);
    const values = seeds.map((s) => s.seed);
    assert.equal(new Set(values).size, values.length, 'every run its own seed');
    assert.ok(values.every((v) => Number.isInteger(v) && v > 0 && v !== r.config.study.seed));
    assert.ok(!values.some((v) => v <= 3), 'not the study seed + run index');
    for (const text of seen)
      for (const v of values) assert.ok(!text.includes(String(v)), `seed ${v} shown to the proposer`);
  });

  it('keeps a clear gain after two seeds, re-measures the new best, and pools every repeat into the noise estimate', async () => {
    const { all, study: s, r, dir } = await study([{ base: 0.5 }, { base: 0.52 }], '[slots]\nprefetch = 0\n');
    const kept = all[1]!;
    assert.equal(kept.status, 'keep');
    assert.equal(kept.evidence?.runs.length, 2);
    assert.match(kept.reason, /x standard error, sigma/);
    const m = await r.ledger.getRecord(s.id, 'measurement', 'remeasure.1');
    assert.ok(m, 'the re-measurement is recorded');
    const rec = m.value as { commit: string; runs: number[]; source: string };
    assert.equal(rec.commit, kept.commit);
    assert.equal(rec.runs.length, 2);
    assert.ok(rec.runs.every((x) => Math.abs(x - 0.5) < 0.06));
    const logs = join(dir, '.autoresearch', 'logs', 'test');
    assert.ok(existsSync(join(logs, '0001.r4.log')) && existsSync(join(logs, '0001.r5.log')));
    assert.ok(
      r.events.some((e) => e.type === 'notice' && /re-measured the new best #1 on 2 fresh seeds/.test(e.message)),
    );
    // the (worse) change after it is compared with the best over its 4 runs
    assert.equal(all[2]!.status, 'discard');
    assert.equal(all[2]!.evidence?.bestRuns, 4);
    // pooled: baseline (3 runs, 2 df) + the kept commit (2 + 2 runs, 3 df) [+ the next change's runs]
    assert.ok(s.noise!.df! >= 5, JSON.stringify(s.noise));
    assert.ok(s.noise!.commits! >= 2);
    assert.ok(s.noise!.low! < s.noise!.sigma && s.noise!.sigma < s.noise!.high!);
    assert.ok(s.noise!.sigma > 0.002 && s.noise!.sigma < 0.03);
    const ev = r.events.filter((e) => e.type === 'noise-floor');
    assert.ok(ev.length >= 2, 'announced at the baseline and when it learnt');
    assert.equal(ev.at(-1)!.df, s.noise!.df);
    const status = summarise(s, all, null);
    assert.deepEqual(status.noise, s.noise);
    const shown = cli(['status', dir]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^noise: sigma \S+ \(95% \S+-\S+, \d+ df from \d+ commits, \d+ runs\)$/m);
  });

  it('screens out a change that pins its own seed (rule c), before it runs', async () => {
    const { all } = await study([{ base: 0.9, cheat: 'pinned' }]);
    assert.equal(all[1]!.status, 'rejected');
    assert.match(all[1]!.reason, /rule \(c\) seed/);
  });

  it('discards a change whose runs do not vary with the seed (a lucky draw of its own) and keeps it out of the estimate', async () => {
    // 1.0 - 0.025 on every seed: 2.5 sigma better on one run, the same on the second
    const { all, study: s } = await study([{ base: 1.0, cheat: 'fixed' }]);
    const e = all[1]!;
    assert.equal(e.status, 'discard', e.reason);
    assert.match(e.reason, /ignores AUTORESEARCH_SEED/);
    assert.deepEqual(e.evidence?.runs, [0.975, 0.975]);
    assert.equal(s.noise!.df, 2, 'only the baseline pooled');
  });

  it('a resumed study compares with the re-measured best (its re-measurement comes back from the ledger)', async () => {
    const { r, dir } = await study([{ base: 0.5 }], '[slots]\nprefetch = 0\n');
    const p = scriptedProposer('scripted', async (ctx) => {
      writeFileSync(join(ctx.worktree, 'train.mjs'), train(0.52));
      return { kind: 'ok', description: 'after resume' };
    });
    const again = await runTestStudy(dir, { maxExperiments: 2 }, { proposer: p });
    opened.push(again);
    const s = (await again.ledger.getStudy('test'))!;
    const all = await again.ledger.listExperiments(s.id);
    assert.equal(all[1]!.status, 'keep');
    assert.equal(all[2]!.evidence?.bestRuns, 4, 'the kept 2 runs + the 2 re-measurement runs');
    const m = (await r.ledger.getRecord(s.id, 'measurement', 'remeasure.1'))!.value as { runs: number[] };
    const expected = (all[1]!.evidence!.runs.reduce((a, b) => a + b, 0) + m.runs.reduce((a, b) => a + b, 0)) / 4;
    assert.ok(Math.abs(all[2]!.evidence!.bestMean! - expected) < 1e-12);
  });

  it('reads a noise floor stored by an older version (no df) and goes on', async () => {
    const { study: s, r } = await study([{ base: 0.5 }]);
    await r.ledger.setStudyNoise(s.id, { sigma: 0.01, runs: [1, 1.01, 0.99] });
    const again = await r.ledger.getStudy('test');
    assert.deepEqual(again!.noise, { sigma: 0.01, runs: [1, 1.01, 0.99] });
    assert.match(summarise(again!, await r.ledger.listExperiments(s.id), null).noise ? 'ok' : '', /ok/);
  });
});
