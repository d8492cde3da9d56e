/**
 * Adversarial suite, the metric: hostile changes that try to forge the objective. Each runs
 * through the real loop (real git, SQLite, child processes, bubblewrap) and must end rejected,
 * crash or discard, with the reason recorded and the workspace intact.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { studiesClosedAfterAll } from '../../src/test-support/study-harness.js';
import {
  assertContained,
  hostile,
  makeHostileWorkspace,
  withEpilogue,
  withPrelude,
  type HostileWorkspace,
} from './fixture.js';

const study = studiesClosedAfterAll();
let ws: HostileWorkspace;
const realHome = process.env.HOME;
beforeEach(() => {
  ws = makeHostileWorkspace();
  process.env.HOME = ws.home;
});
afterEach(() => {
  process.env.HOME = realHome;
});

describe('adversarial: forging the metric', () => {
  it('a change that prints a fake metric after training is not kept; the recorded value is the evaluated one', async () => {
    const run = await study(
      ws.dir,
      { maxExperiments: 1 },
      { proposer: hostile('print the metric', withEpilogue(ws, "console.log('---\\nval_bpb: 0.010000');")) },
    );
    const [e] = await assertContained(ws, run);
    const base = (await run.ledger.listExperiments((await run.ledger.getStudy('adv'))!.id))[0]!;
    if (e!.status === 'discard') assert.equal(e!.value, base.value, 'the objective came from the evaluate step');
    assert.notEqual(e!.value, 0.01);
  });

  it('a change that replaces the evaluation function in its own process changes nothing', async () => {
    const src = withPrelude(
      ws,
      "import * as prep from './prepare.mjs';\ntry { prep.score = () => ({ value: 0.01, truth: 0.01 }); } catch { globalThis.__score = 0.01; }",
    );
    const run = await study(ws.dir, { maxExperiments: 1 }, { proposer: hostile('wrap the evaluation', src) });
    const [e] = await assertContained(ws, run);
    assert.notEqual(e!.value, 0.01);
  });

  it('a change that rewrites the protected evaluator at run time is rejected and the file restored', async () => {
    const src = withPrelude(
      ws,
      "import { writeFileSync as w } from 'node:fs';\nw('prepare.mjs', \"console.log('---'); console.log('val_bpb: 0.01');\");",
    );
    const run = await study(ws.dir, { maxExperiments: 1 }, { proposer: hostile('rewrite the evaluator', src) });
    const [e] = await assertContained(ws, run, ['rejected']);
    assert.match(e!.reason, /protected file\(s\) prepare\.mjs/);
  });

  it('a file planted in the worktree for the evaluate step to import is gone before it runs', async () => {
    // node resolves bare imports through node_modules next to the evaluator: plant one there,
    // and a copy of the evaluator that would print a fake number.
    const src = withPrelude(
      ws,
      [
        "import { mkdirSync as md, writeFileSync as wf } from 'node:fs';",
        "md('node_modules/fake', { recursive: true });",
        "wf('node_modules/fake/index.js', \"console.log('---\\\\nval_bpb: 0.01')\");",
        "wf('evaluate-hook.mjs', \"console.log('---\\\\nval_bpb: 0.01')\");",
      ].join('\n'),
    );
    const run = await study(ws.dir, { maxExperiments: 1 }, { proposer: hostile('plant modules', src) });
    const [e] = await assertContained(ws, run);
    assert.notEqual(e!.value, 0.01);
  });

  it('training cannot read the validation data (hidden by the sandbox); the evaluate step can', async () => {
    const src = withPrelude(
      ws,
      "import { readFileSync as rf } from 'node:fs';\nconst v = rf('data/val.txt', 'utf8');\nif (v.length) console.log('READ VALIDATION: ' + v);",
    );
    const run = await study(ws.dir, { maxExperiments: 1 }, { proposer: hostile('read the validation data', src) });
    const [e] = await assertContained(ws, run, ['crash', 'discard']);
    const log = readFileSync(e!.logPath!, 'utf8');
    assert.doesNotMatch(log, /READ VALIDATION: the validation text/);
    // the baseline's evaluate step ran with the same view: it could have read it (it is the protected code)
    assert.equal((await run.ledger.listExperiments((await run.ledger.getStudy('adv'))!.id))[0]!.status, 'keep');
  });
});
