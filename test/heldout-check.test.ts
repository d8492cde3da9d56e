/**
 * The loop's periodic held-out check ([heldout] every): the best scored on the template's held-out
 * split every N keeps (and the baseline as the reference), recorded, shown by status and the
 * report, never shown to the proposer and never a decision.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeldoutCheckRecord } from '../src/loop/heldout-check.ts';
import { cli } from '../src/test-support/cli.js';
import { git, makeLandscapeRepo } from '../src/test-support/landscape.ts';
import { runTestStudy, scriptedProposer, type StudyRun } from '../src/test-support/study-harness.js';

const opened: StudyRun[] = [];
after(async () => {
  for (const r of opened) await r.ledger.close();
});

// four real improvements on templates/landscape (gains of 5-30 sigma)
const EDITS: Array<[string, string]> = [
  ["const ACTIVATION = 'relu';", "const ACTIVATION = 'relu2';"],
  ['const WIDTH = 64;', 'const WIDTH = 128;'],
  ['const WIDTH = 128;', 'const WIDTH = 256;'],
  ['const USE_BIAS = true;', 'const USE_BIAS = false;'],
];

describe('periodic held-out check in the loop', () => {
  it('scores the baseline and every 2nd keep on the held-out split; status, --json and the report show the gap', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ar-hc-')), 'ws');
    const init = cli(['init', dir, '--template', 'landscape', '--tag', 'hc']);
    assert.equal(init.code, 0, init.stderr);
    const toml = join(dir, 'autoresearch.toml');
    writeFileSync(
      toml,
      `${readFileSync(toml, 'utf8')
        .replace(/^\[slots\]\n/m, '[slots]\nprefetch = 0\n')
        .replace(/^kind = "sequential".*$/m, 'kind = "noise"\nseeds = "indexed"')}\n[heldout]\nevery = 2\n`,
    );
    git(dir, ['add', '-A']);
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'heldout every 2']);
    const seen: string[] = [];
    const proposer = scriptedProposer('scripted', async (ctx, call) => {
      seen.push(JSON.stringify(ctx));
      if (call >= EDITS.length) return { kind: 'exhausted', reason: 'script done' };
      const p = join(ctx.worktree, 'train.mjs');
      writeFileSync(p, readFileSync(p, 'utf8').replace(EDITS[call]![0], EDITS[call]![1]));
      return { kind: 'ok', description: `edit ${call + 1}` };
    });
    const r = await runTestStudy(dir, { maxExperiments: EDITS.length }, { proposer, overrides: { slots: 1 } });
    opened.push(r);
    const study = (await r.ledger.getStudy('hc'))!;
    const all = await r.ledger.listExperiments(study.id);
    assert.deepEqual(
      all.map((e) => e.status),
      ['keep', 'keep', 'keep', 'keep', 'keep'],
    );
    const checks = (await r.ledger.listRecords(study.id, 'heldout-check')).map((x) => x.value as HeldoutCheckRecord);
    assert.deepEqual(
      checks.map((c) => [c.number, c.keeps]).sort((a, b) => a[0]! - b[0]!),
      [
        [0, 0],
        [2, 2],
        [4, 4],
      ],
    );
    for (const c of checks) {
      assert.equal(typeof c.validation, 'number', JSON.stringify(c));
      assert.equal(typeof c.heldout, 'number');
      assert.notEqual(c.validation, c.heldout, 'another split, another value');
      assert.ok(Math.abs(c.gap! - (c.heldout! - c.validation!)) < 1e-12);
      // the landscape's held-out split is the same truth with another noise draw (sigma 0.002)
      assert.ok(Math.abs(c.gap!) < 0.02, JSON.stringify(c));
    }
    const events = r.events.filter((e) => e.type === 'heldout-check');
    assert.equal(events.length, 3);
    // never a decision: no experiment for it, the best is the last keep's own estimate
    assert.equal(all.length, 5);
    assert.equal(study.bestNumber, 4);
    assert.equal(study.bestValue, all[4]!.value);
    // never shown to the proposer
    for (const text of seen) {
      assert.doesNotMatch(text, /heldout|held-out/i);
      for (const c of checks) assert.ok(!text.includes(String(c.heldout)), 'a held-out value in a prompt');
    }

    const st = cli(['status', dir]);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^periodic held-out check \(one run per check; gap = held-out - validation/m);
    assert.match(st.stdout, /^ {2}#0 baseline +validation \S+ +held-out \S+ +gap [+-]\S+$/m);
    assert.match(
      st.stdout,
      /^ {2}#4 \(after 4 keeps\) +validation \S+ +held-out \S+ +gap [+-]\S+ +gap moved [+-]\S+ since the baseline$/m,
    );
    const js = cli(['status', dir, '--json']);
    assert.equal(js.code, 0, js.stderr);
    assert.equal(JSON.parse(js.stdout).heldoutChecks.length, 3);

    const out = join(dir, 'r.md');
    const rep = cli(['report', dir, '--md', '--out', out]);
    assert.equal(rep.code, 0, rep.stderr);
    const md = readFileSync(out, 'utf8');
    assert.match(md, /\| validation \/ held-out \(gap\) \|/);
    const row4 = md.split('\n').find((l) => l.startsWith('| 4 |'))!;
    assert.match(row4, /\| \S+ \/ \S+ \([+-]\S+; baseline [+-]\S+\) \|/);
    assert.doesNotMatch(md, /## Heldout check/i, 'folded into the kept table, not a table of its own');
  });

  it('a workspace without an evaluate step records once that it has no held-out split, and goes on', async () => {
    const dir = makeLandscapeRepo({
      extraToml: '[slots]\nprefetch = 0\n[judge]\nkind = "greedy"\n[heldout]\nevery = 1\n',
    });
    let n = 0;
    const proposer = scriptedProposer('scripted', async (ctx) => {
      const p = join(ctx.worktree, 'train.mjs');
      n++;
      writeFileSync(p, readFileSync(p, 'utf8').replace(/const DROPOUT = [\d.]+;/, `const DROPOUT = ${0.5 - 0.1 * n};`));
      return { kind: 'ok', description: `dropout ${n}` };
    });
    const r = await runTestStudy(dir, { maxExperiments: 2 }, { proposer });
    opened.push(r);
    const study = (await r.ledger.getStudy('test'))!;
    const all = await r.ledger.listExperiments(study.id);
    assert.deepEqual(
      all.map((e) => e.status),
      ['keep', 'keep', 'keep'],
    );
    const checks = (await r.ledger.listRecords(study.id, 'heldout-check')).map((x) => x.value as HeldoutCheckRecord);
    assert.equal(checks.length, 1);
    assert.equal(checks[0]!.unsupported, true);
    assert.match(checks[0]!.reason!, /no \[run\] evaluate step/);
    const st = cli(['status', dir]);
    assert.match(st.stdout, /periodic held-out check: not available: no \[run\] evaluate step/);
  });
});
