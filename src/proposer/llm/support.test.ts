import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { experiment, makeProposalDir, proposalContext } from '../../test-support/proposal-fixtures.js';
import { LlmError, retryAfterMs } from './errors.js';
import { summarizeHistory } from './history-summary.js';
import { costUsd, findPrice } from './prices.js';
import { cliPrompt, taskPrompt } from './prompt.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, withRetries } from './retry.js';
import { scrubSecrets } from './scrub.js';

describe('prices', () => {
  it('longest prefix, dated and provider-prefixed names, overrides, unknown = 0', () => {
    assert.deepEqual(findPrice('claude-sonnet-4-5-20250929'), { input: 3, output: 15 });
    assert.deepEqual(findPrice('anthropic/claude-opus-4-1'), { input: 15, output: 75 });
    assert.deepEqual(findPrice('gpt-5.4-mini-2026-03-17'), { input: 0.75, output: 4.5 });
    assert.deepEqual(findPrice('gpt-5-mini'), { input: 0.25, output: 2 });
    assert.equal(findPrice('llama3.2'), null);
    assert.equal(costUsd('llama3.2', { inputTokens: 1e6, outputTokens: 1e6 }), 0);
    assert.equal(
      costUsd('llama3.2', { inputTokens: 1e6, outputTokens: 1e6 }, { 'llama3.2': { input: 0.1, output: 0.2 } }),
      0.3,
    );
    assert.equal(costUsd('claude-sonnet-5-5', { inputTokens: 1e6, outputTokens: 1e5 }), 3);
    // cache reads at 0.1x, cache writes at 1.25x the input price
    assert.equal(
      costUsd('claude-sonnet-5-5', { inputTokens: 1e6, outputTokens: 0, cacheReadTokens: 5e5, cacheWriteTokens: 1e5 }),
      1.15,
    );
  });
});

describe('retry', () => {
  it('backoff: retry-after first (capped), else exponential with jitter', () => {
    const p = DEFAULT_RETRY_POLICY;
    assert.equal(
      backoffDelay(0, new LlmError('rate_limit', 'x', { retryAfterMs: 3000 }), p, () => 0),
      3000,
    );
    assert.equal(
      backoffDelay(0, new LlmError('rate_limit', 'x', { retryAfterMs: 1e9 }), p, () => 0),
      p.maxRetryAfterMs,
    );
    assert.equal(
      backoffDelay(0, new LlmError('server', 'x'), p, () => 0),
      500,
    );
    assert.equal(
      backoffDelay(3, new LlmError('server', 'x'), p, () => 1),
      8000,
    );
    assert.equal(
      backoffDelay(20, new LlmError('server', 'x'), p, () => 1),
      p.maxDelayMs,
    );
  });

  it('retries only retryable errors, bounded', async () => {
    const pauses: number[] = [];
    const deps = { sleep: async (ms: number) => void pauses.push(ms), random: () => 0 };
    let n = 0;
    await assert.rejects(
      withRetries(
        async () => {
          n++;
          throw new LlmError('auth', 'no');
        },
        DEFAULT_RETRY_POLICY,
        deps,
      ),
      /no/,
    );
    assert.equal(n, 1);
    n = 0;
    await assert.rejects(
      withRetries(
        async () => {
          n++;
          throw new LlmError('timeout', 't');
        },
        { ...DEFAULT_RETRY_POLICY, maxRetries: 3 },
        deps,
      ),
    );
    assert.equal(n, 4);
    assert.deepEqual(pauses, [500, 1000, 2000]);
  });

  it('parses retry-after in seconds, ms and HTTP dates', () => {
    const h = (o: Record<string, string>) => new Headers(o);
    assert.equal(retryAfterMs(h({ 'retry-after': '7' })), 7000);
    assert.equal(retryAfterMs(h({ 'retry-after-ms': '120' })), 120);
    assert.equal(retryAfterMs(h({ 'retry-after': new Date(10_000).toUTCString() }), 4_000), 6000);
    assert.equal(retryAfterMs(h({})), null);
  });
});

describe('scrubSecrets', () => {
  it('removes given secrets and key-like strings', () => {
    assert.equal(scrubSecrets('key abc123xyz here', ['abc123xyz']), 'key *** here');
    assert.equal(scrubSecrets('Authorization: Bearer eyJhbGciOiJIUzI1 x'), 'Authorization: Bearer *** x');
    assert.equal(scrubSecrets('bad key sk-ant-api03-abcdefghijkl'), 'bad key sk-***');
    assert.equal(scrubSecrets('{"x-api-key": "abcdefgh12345"}'), '{"x-api-key": "***"}');
  });
});

describe('history summary and prompts', () => {
  const history = [
    experiment({ number: 0, value: 1.5 }),
    experiment({ number: 1, status: 'discard', value: 1.51, description: 'DROPOUT 0.5 -> 0.6' }),
    experiment({ number: 2, status: 'keep', value: 1.3, description: 'LR 0.01 -> 0.04' }),
    experiment({ number: 3, status: 'discard', value: 1.9, description: 'WIDTH 32 -> 8' }),
    experiment({
      number: 4,
      status: 'crash',
      value: null,
      description: 'USE_TRICK',
      reason: 'exit code 1',
      logTail: 'SyntaxError: Unexpected token',
    }),
  ];

  it('deltas against the best at the time, kept path, near-misses, last crash tail', () => {
    const s = summarizeHistory(history, { metric: 'val_bpb', direction: 'minimize' }, { recent: 2 });
    assert.match(s, /Experiments so far: 4 \(2 discard, 1 keep, 1 crash\)/);
    assert.match(
      s,
      /Improvements kept[^\n]*:\n#0 keep +1\.5 {2}baseline\n#2 keep +1\.3 \(-0\.2\) {2}LR 0\.01 -> 0\.04/,
    );
    assert.match(s, /Most recent 2:\n#3 discard +1\.9 \(\+0\.6\) {2}WIDTH 32 -> 8\n#4 crash/);
    assert.match(s, /Near-misses[^\n]*\n#1 discard +1\.51 \(\+0\.01\) {2}DROPOUT 0\.5 -> 0\.6/);
    assert.match(s, /Last crash \(#4: USE_TRICK\): exit code 1\nLog tail:\n```\nSyntaxError: Unexpected token\n```/);
    assert.equal(summarizeHistory([], { metric: 'm', direction: 'maximize' }), 'No experiments yet.');
    const flying = summarizeHistory(
      [...history, experiment({ number: 5, status: 'running', value: null, description: 'DROPOUT 0.5 -> 0.1' })],
      { metric: 'val_bpb', direction: 'minimize' },
    );
    assert.match(
      flying,
      /In flight \(queued or running in other slots, or being proposed now; do not propose these again[^)]*\):\n#5 DROPOUT 0\.5 -> 0\.1$/,
    );
    assert.doesNotMatch(flying, /#5 running/);
  });

  it('task prompt truncates protected files; the CLI prompt asks for a DESCRIPTION line', () => {
    const dir = makeProposalDir({ 'big.mjs': 'x'.repeat(20_000) });
    const ctx = proposalContext(dir, {
      protected: ['prepare.mjs', 'big.mjs'],
      history,
      best: { commit: 'b'.repeat(40), value: 1.3, number: 2 },
      budget: { experimentsLeft: null, secondsLeft: 7200 },
    });
    const t = taskPrompt(ctx);
    assert.match(t, /Current best: val_bpb = 1\.3 \(#2: LR 0\.01 -> 0\.04, commit bbbbbbb\)/);
    assert.match(t, /2\.0 h left/);
    assert.match(t, /\[truncated at 8000 of 20000 characters; read_file shows the rest\]/);
    const c = cliPrompt(ctx);
    assert.match(c, /end your final message with one line `DESCRIPTION: /);
    assert.match(c, /Research program \(program\.md\)/);
    assert.ok(!c.includes('A synthetic landscape'), 'the CLI reads files itself');
  });
});

describe('prompts are scrubbed of secrets', () => {
  it('removes secret values from program.md, history, crash tails and files in every prompt', async () => {
    const { systemPrompt } = await import('./prompt.js');
    const secret = 'hf_SECRETSECRETSECRET';
    const dir = makeProposalDir({ 'train.mjs': `// token ${secret}\nconst LR = 0.01;\n` });
    const ctx = proposalContext(dir, {
      program: `Use the key ${secret} to download.`,
      history: [
        experiment({ number: 0 }),
        experiment({
          number: 1,
          status: 'crash',
          reason: `crashed with ${secret}`,
          logTail: `Traceback: token=${secret}\n`,
        }),
      ],
      secrets: [{ name: 'HF_TOKEN', value: secret }],
    });
    const crash = { description: 'x', reason: `exit 1: ${secret}`, logTail: `${secret}\n`, attempt: 1 };
    for (const p of [
      systemPrompt(ctx),
      taskPrompt(ctx),
      taskPrompt(ctx, crash),
      cliPrompt(ctx),
      cliPrompt(ctx, crash),
    ]) {
      assert.doesNotMatch(p, /SECRETSECRET/);
      assert.match(p, /\[redacted:HF_TOKEN\]/);
    }
    // without the list the same prompt would carry it (the test can fail)
    assert.match(cliPrompt({ ...ctx, secrets: [] }), /SECRETSECRET/);
  });
});
