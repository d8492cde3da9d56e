/**
 * An LLM API outage in the real loop (git, runner, judge, SQLite ledger): the fake Messages API
 * answers 503 for a while, then recovers. Proposing pauses with a growing back-off (an injected
 * instant pause records each one), nothing is recorded or counted meanwhile, and a crash repair
 * hit by the outage keeps its attempt.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startFakeAnthropic, type FakeServer, type RecordedRequest } from '../../test-support/fake-anthropic.js';
import type { FakeReply } from '../../test-support/fake-llm-server.js';
import { makeLandscapeRepo } from '../../test-support/landscape.js';
import { instantRetry, proposerConfig } from '../../test-support/proposal-fixtures.js';
import { runTestStudy, type StudyRun } from '../../test-support/study-harness.js';
import { createLlmProposer } from './create.js';

const opened: StudyRun[] = [];
const fakes: FakeServer[] = [];
after(async () => {
  for (const r of opened) await r.ledger.close();
  for (const f of fakes) await f.close();
});

const firstText = (req: RecordedRequest): string => {
  const first = (req.body.messages as { content: string | { text?: string }[] }[])[0]!.content;
  return typeof first === 'string' ? first : first.map((b) => b.text ?? '').join('');
};

/** A conversation of two calls: the edit, then finish. */
const editThenFinish = (req: RecordedRequest, from: string, to: string, description: string): FakeReply =>
  req.body.messages.length === 1
    ? {
        toolCalls: [{ name: 'edit_file', input: { path: 'train.mjs', old_string: from, new_string: to } }],
        usage: { input: 1000, output: 50 },
      }
    : { toolCalls: [{ name: 'finish', input: { description } }], usage: { input: 1000, output: 10 } };

async function study(
  script: (req: RecordedRequest, index: number) => FakeReply,
  proposer: Record<string, unknown>,
  maxExperiments: number,
) {
  const fake = await startFakeAnthropic(script);
  fakes.push(fake);
  const made = createLlmProposer(
    'anthropic',
    proposerConfig({ kind: 'anthropic', base_url: fake.url, max_retries: 1, ...proposer }),
    { ANTHROPIC_API_KEY: 'sk-ant-outage-test' },
    { retryDeps: instantRetry() },
  );
  assert.ok(made.ok);
  const pauses: number[] = [];
  const dir = makeLandscapeRepo({ extraToml: '[judge]\nkind = "greedy"\nnoise_runs = 1\n[slots]\nprefetch = 0\n' });
  const run = await runTestStudy(
    dir,
    { maxExperiments },
    {
      proposer: made.proposer,
      pause: async (ms) => {
        pauses.push(ms);
        return true;
      },
    },
  );
  opened.push(run);
  const all = await run.ledger.listExperiments((await run.ledger.getStudy('test'))!.id);
  const notices = run.events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));
  return { run, all, pauses, notices, fake };
}

describe('an LLM API outage pauses proposing and uses up nothing', () => {
  it('503 for a while: growing pauses (30 s doubling, capped at 10 min), no experiment recorded or counted, then proposing resumes', async () => {
    const CHANGES = [
      ['const LR = 0.01;', 'const LR = 0.04;', 'LR 0.01 -> 0.04'],
      ['const USE_TRICK = false;', 'const USE_TRICK = true;', 'turn USE_TRICK on'],
      ['const DROPOUT = 0.5;', 'const DROPOUT = 0.1;', 'DROPOUT 0.5 -> 0.1'],
    ] as const;
    let proposals = 0;
    const owner = new Map<string, number>();
    // calls 0-1: the first proposal; calls 2-15: 503 (7 unavailable answers of 2 calls each); then fine
    const script = (req: RecordedRequest, index: number): FakeReply => {
      if (index >= 2 && index < 16)
        return {
          status: 503,
          body: { type: 'error', error: { type: 'overloaded_error', message: 'service unavailable' } },
        };
      if (req.body.messages.length === 1) owner.set(firstText(req), proposals++);
      const [from, to, description] = CHANGES[owner.get(firstText(req))! % CHANGES.length]!;
      return editThenFinish(req, from, to, description);
    };
    const { run, all, pauses, notices } = await study(script, {}, 3);
    assert.equal(run.outcome.reason, 'max-experiments', run.outcome.message);
    const exps = all.filter((e) => !e.baseline);
    assert.deepEqual(
      exps.map((e) => `${e.status} ${e.description}`),
      ['keep LR 0.01 -> 0.04', 'keep turn USE_TRICK on', 'keep DROPOUT 0.5 -> 0.1'],
    );
    assert.deepEqual(pauses, [30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
    const down = notices.filter((m) => m.startsWith('the proposer is unavailable (anthropic API unavailable: '));
    assert.equal(down.length, 7, notices.join('\n'));
    assert.match(
      down[0]!,
      /; proposals paused for 30 s, then asked again \(pause 1; nothing is recorded or counted meanwhile; Ctrl-C stops\)$/,
    );
    assert.match(down[6]!, /paused for 10 min/);
    assert.deepEqual(
      notices.filter((m) => /answers again/.test(m)),
      ['the proposer answers again after 7 pauses; proposing resumes'],
    );
  });

  it('Ctrl-C during a pause stops the study at once, with nothing recorded for the outage', async () => {
    const fake = await startFakeAnthropic(() => ({ status: 503 }));
    fakes.push(fake);
    const made = createLlmProposer(
      'anthropic',
      proposerConfig({ kind: 'anthropic', base_url: fake.url, max_retries: 0 }),
      { ANTHROPIC_API_KEY: 'sk-ant-outage-test' },
      { retryDeps: instantRetry() },
    );
    assert.ok(made.ok);
    const dir = makeLandscapeRepo({ extraToml: '[judge]\nkind = "greedy"\nnoise_runs = 1\n' });
    const ac = new AbortController();
    let pauses = 0;
    const run = await runTestStudy(
      dir,
      { maxExperiments: 3 },
      {
        proposer: made.proposer,
        signal: ac.signal,
        pause: (_ms, signal) =>
          new Promise((resolve) => {
            if (++pauses < 2) return resolve(true);
            signal.addEventListener('abort', () => resolve(false), { once: true });
            ac.abort(); // the user presses Ctrl-C during the second pause
          }),
      },
    );
    opened.push(run);
    assert.equal(run.outcome.reason, 'interrupted');
    assert.equal(pauses, 2);
    const all = await run.ledger.listExperiments((await run.ledger.getStudy('test'))!.id);
    assert.deepEqual(
      all.map((e) => e.baseline),
      [true],
      'only the baseline is recorded',
    );
  });

  it('a crash repair hit by the outage keeps its attempt: with repair_attempts = 1 the fix still lands', async () => {
    const crashing = 'const LR = 0.04; if (!process.env.NEVER_SET) throw new Error("boom");';
    let repairCalls = 0;
    const script = (req: RecordedRequest): FakeReply => {
      if (/Your change crashed \(repair attempt 1\)/.test(firstText(req))) {
        if (repairCalls++ < 2) return { status: 503 }; // one unavailable answer (max_retries 1)
        return editThenFinish(req, crashing, 'const LR = 0.04;', 'drop the stray throw');
      }
      return editThenFinish(req, 'const LR = 0.01;', crashing, 'LR 0.01 -> 0.04');
    };
    const { run, all, pauses, notices } = await study(script, { repair_attempts: 1 }, 1);
    assert.equal(run.outcome.reason, 'max-experiments', run.outcome.message);
    const exp = all.find((e) => !e.baseline)!;
    assert.equal(exp.status, 'keep', `${exp.status}: ${exp.reason}`);
    assert.equal(exp.repairs.length, 1, 'the outage used no repair attempt');
    assert.equal(exp.repairs[0]!.description, 'drop the stray throw');
    assert.deepEqual(pauses, [30_000]);
    assert.ok(
      notices.some((m) => /the repair of #1 paused for 30 s/.test(m)),
      notices.join('\n'),
    );
  });
});
