/**
 * End to end through the real loop (git, runner, judge, SQLite ledger): the anthropic proposer,
 * talking to the fake Messages API, proposes three changes to the landscape workspace; the ledger
 * records each one's description, diff, proposer name and usage.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startFakeAnthropic, type FakeServer, type RecordedRequest } from '../../test-support/fake-anthropic.js';
import { makeLandscapeRepo } from '../../test-support/landscape.js';
import { instantRetry, proposerConfig } from '../../test-support/proposal-fixtures.js';
import { runTestStudy, type StudyRun } from '../../test-support/study-harness.js';
import { createLlmProposer } from './create.js';

const CHANGES = [
  { from: 'const LR = 0.01;', to: 'const LR = 0.04;', description: 'LR 0.01 -> 0.04' },
  { from: 'const WIDTH = 32;', to: 'const WIDTH = 4;', description: 'WIDTH 32 -> 4' },
  { from: 'const USE_TRICK = false;', to: 'const USE_TRICK = true;', description: 'turn USE_TRICK on' },
];

/** Each new proposal (a conversation of one message) gets the next change: edit, then finish. */
function script() {
  let proposals = 0;
  const current = new Map<string, number>();
  return (req: RecordedRequest) => {
    const msgs = req.body.messages as { content: string | { text?: string }[] }[];
    const first = msgs[0]!.content; // a string, or blocks when it carries the cache breakpoint
    const key = typeof first === 'string' ? first : first.map((b) => b.text ?? '').join('');
    if (msgs.length === 1) current.set(key, proposals++);
    const c = CHANGES[current.get(key)! % CHANGES.length]!;
    if (msgs.length === 1) {
      return {
        toolCalls: [{ name: 'edit_file', input: { path: 'train.mjs', old_string: c.from, new_string: c.to } }],
        usage: { input: 3000, output: 80 },
      };
    }
    return {
      toolCalls: [{ name: 'finish', input: { description: c.description } }],
      usage: { input: 3100, output: 20 },
    };
  };
}

const opened: StudyRun[] = [];
let fake: FakeServer | undefined;
after(async () => {
  for (const r of opened) await r.ledger.close();
  await fake?.close();
});

describe('anthropic proposer in the real study loop', () => {
  it('three proposals are committed, run, judged and recorded with description, diff and usage', async () => {
    fake = await startFakeAnthropic(script());
    const made = createLlmProposer(
      'anthropic',
      proposerConfig({ kind: 'anthropic', base_url: fake.url }),
      { ANTHROPIC_API_KEY: 'sk-ant-e2e-test-key' },
      { retryDeps: instantRetry() },
    );
    assert.ok(made.ok);
    // prefetch 0: each proposal is made on the current best (the three edit adjacent lines, which
    // git's three-way merge would call a conflict if one were re-applied onto another)
    const dir = makeLandscapeRepo({ extraToml: '[judge]\nkind = "greedy"\n[slots]\nprefetch = 0\n' });
    const run = await runTestStudy(dir, { maxExperiments: 3 }, { proposer: made.proposer });
    opened.push(run);
    assert.equal(run.outcome.reason, 'max-experiments', run.outcome.message);
    const study = (await run.ledger.getStudy('test'))!;
    const exps = (await run.ledger.listExperiments(study.id)).filter((e) => !e.baseline);
    assert.equal(exps.length, 3);
    const byDesc = new Map(exps.map((e) => [e.description, e]));
    assert.deepEqual([...byDesc.keys()].sort(), CHANGES.map((c) => c.description).sort());
    for (const c of CHANGES) {
      const e = byDesc.get(c.description)!;
      assert.equal(e.proposer, 'anthropic:claude-sonnet-5-5');
      assert.match(e.diff, new RegExp(`^-${c.from}.*\\n\\+${c.to}`, 'm'));
      assert.deepEqual(e.usage, { inputTokens: 6100, outputTokens: 100, costUsd: (6100 * 2 + 100 * 10) / 1e6 });
      assert.deepEqual((e.change as { files: string[] }).files, ['train.mjs']);
    }
    assert.equal(byDesc.get('LR 0.01 -> 0.04')!.status, 'keep');
    assert.equal(byDesc.get('WIDTH 32 -> 4')!.status, 'discard');
    // the model saw the history: a later proposal's prompt lists the earlier experiments
    const lastTask = JSON.stringify(
      fake
        .calls()
        .filter((c) => c.body.messages.length === 1)
        .at(-1)!.body.messages[0],
    );
    assert.match(lastTask, /#0 keep/);
  });
});
