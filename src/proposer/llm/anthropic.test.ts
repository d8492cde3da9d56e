import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startFakeAnthropic, type FakeServer, type Script } from '../../test-support/fake-anthropic.js';
import {
  instantRetry,
  makeProposalDir,
  proposalContext,
  proposerConfig,
} from '../../test-support/proposal-fixtures.js';
import { LANDSCAPE_PREPARE } from '../../test-support/landscape.js';
import type { Proposer } from '../types.js';
import { closedPortUrl } from '../../test-support/fake-llm-server.js';
import { createLlmProposer } from './create.js';
import { AnthropicProvider } from './anthropic.js';

const KEY = 'sk-ant-test-SECRET-0123456789';
const read = { name: 'read_file', input: { path: 'train.mjs' } };
const edit = {
  name: 'edit_file',
  input: { path: 'train.mjs', old_string: 'const LR = 0.01;', new_string: 'const LR = 0.04;' },
};
const finish = { name: 'finish', input: { description: 'LR 0.01 -> 0.04' } };

/** Text of a message's content (a string, or blocks once it carries a cache breakpoint). */
const text = (c: unknown): string =>
  typeof c === 'string'
    ? c
    : (c as { text?: string; content?: string }[]).map((b) => b.text ?? b.content ?? '').join('\n');

async function withFake(script: Script, fn: (fake: FakeServer) => Promise<void>): Promise<void> {
  const fake = await startFakeAnthropic(script);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

function make(fake: FakeServer, over: Record<string, unknown> = {}) {
  const retry = instantRetry();
  const made = createLlmProposer(
    'anthropic',
    proposerConfig({ kind: 'anthropic', base_url: fake.url, ...over }),
    { ANTHROPIC_API_KEY: KEY },
    { retryDeps: retry },
  );
  assert.ok(made.ok, made.ok ? '' : made.message);
  return { proposer: made.proposer as Proposer, retry };
}

describe('anthropic proposer (fake Messages API)', () => {
  it('reads, edits and finishes; sends tools, program, files and history; counts tokens and cost', () =>
    withFake(
      [{ toolCalls: [read] }, { toolCalls: [edit], usage: { input: 1000, output: 50 } }, { toolCalls: [finish] }],
      async (fake) => {
        const dir = makeProposalDir();
        const { proposer } = make(fake);
        assert.equal(proposer.name, 'anthropic:claude-sonnet-5-5');
        const r = await proposer.propose(proposalContext(dir));
        assert.equal(r.kind, 'ok');
        assert.ok(r.kind === 'ok');
        assert.equal(r.description, 'LR 0.01 -> 0.04');
        assert.match(readFileSync(join(dir, 'train.mjs'), 'utf8'), /const LR = 0\.04;/);
        assert.deepEqual(r.usage, { inputTokens: 1200, outputTokens: 90, costUsd: (1200 * 2 + 90 * 10) / 1e6 });
        assert.deepEqual((r.change as { files: string[] }).files, ['train.mjs']);
        // the session's summary is kept with the change (shown on the dashboard's experiment page)
        const transcript = (r.change as { transcript: { steps: Array<{ turn: number; tools: unknown[] }> } })
          .transcript;
        assert.deepEqual(
          transcript.steps.map((s) => [s.turn, s.tools]),
          [
            [1, [{ name: 'read_file', target: 'train.mjs' }]],
            [2, [{ name: 'edit_file', target: 'train.mjs' }]],
            [3, [{ name: 'finish', target: 'LR 0.01 -> 0.04' }]],
          ],
        );

        const [first, second] = fake.calls();
        const body = first!.body;
        assert.deepEqual(
          body.tools.map((t: { name: string }) => t.name),
          ['read_file', 'edit_file', 'write_file', 'list_files', 'query_results', 'finish'],
        );
        assert.deepEqual(body.tools[1].input_schema.required, ['path', 'old_string', 'new_string']);
        assert.equal(body.system[0].cache_control.type, 'ephemeral');
        assert.match(text(body.system), /Research program \(program\.md\)[\s\S]*Try the learning rate first/);
        const task = text(body.messages[0].content);
        assert.match(task, /## train\.mjs\n```\n\/\/ A synthetic landscape/);
        assert.match(task, /Protected files \(read-only\)[\s\S]*export const EVAL = 1;/);
        assert.match(task, /#0 keep/);
        assert.match(task, /5 experiment\(s\) left/);
        assert.equal(body.stream, undefined);
        const results = second!.body.messages.at(-1).content;
        assert.equal(results[0].type, 'tool_result');
        assert.match(results[0].content, /const LR = 0\.01;/);
        assert.equal(second!.body.messages[1].content[0].type, 'tool_use');
      },
    ));

  it('retries 429 honouring retry-after, and 500 with backoff', () =>
    withFake(
      [
        { status: 429, headers: { 'retry-after': '2' } },
        { status: 500 },
        { status: 529 },
        { toolCalls: [edit] },
        { toolCalls: [finish] },
      ],
      async (fake) => {
        const { proposer, retry } = make(fake);
        const r = await proposer.propose(proposalContext(makeProposalDir()));
        assert.equal(r.kind, 'ok');
        assert.deepEqual(retry.pauses, [2000, 1500, 3000]);
      },
    ));

  it('retries a hanging request after the request timeout', () =>
    withFake([{ hang: true }, { toolCalls: [edit] }, { toolCalls: [finish] }], async (fake) => {
      const { proposer, retry } = make(fake, { request_timeout_s: 0.3 });
      const r = await proposer.propose(proposalContext(makeProposalDir()));
      assert.equal(r.kind, 'ok');
      assert.equal(retry.pauses.length, 1);
      assert.equal(fake.calls().length, 3);
    }));

  it('after max_retries of 5xx answers it reports the API unavailable (an outage, not a failed proposal), never a throw', () =>
    withFake([{ status: 500 }, { status: 503 }, { status: 500 }], async (fake) => {
      const { proposer, retry } = make(fake, { max_retries: 2 });
      const r = await proposer.propose(proposalContext(makeProposalDir()));
      assert.equal(r.kind, 'unavailable');
      assert.ok(r.kind === 'unavailable');
      assert.match(r.reason, /anthropic API unavailable: .*500/);
      assert.equal(retry.pauses.length, 2);
    }));

  it('refuses an edit of a protected file inside the tool; the model recovers', () =>
    withFake(
      [
        { toolCalls: [{ name: 'write_file', input: { path: 'prepare.mjs', content: 'export const EVAL = 0;\n' } }] },
        { toolCalls: [{ name: 'edit_file', input: { path: '../outside.mjs', old_string: 'a', new_string: 'b' } }] },
        { toolCalls: [edit] },
        { toolCalls: [finish] },
      ],
      async (fake) => {
        const dir = makeProposalDir();
        const r = await make(fake).proposer.propose(proposalContext(dir));
        assert.equal(r.kind, 'ok');
        assert.equal(readFileSync(join(dir, 'prepare.mjs'), 'utf8'), LANDSCAPE_PREPARE);
        const [, second, third] = fake.calls();
        const refused = second!.body.messages.at(-1).content[0];
        assert.equal(refused.is_error, true);
        assert.match(
          refused.content,
          /refused: prepare\.mjs is protected \(read-only\)\. You may change only: train\.mjs/,
        );
        assert.match(third!.body.messages.at(-1).content[0].content, /outside the worktree/);
      },
    ));

  it('answers an old_string that does not match (or matches twice) with the reason', () =>
    withFake(
      [
        {
          toolCalls: [
            { name: 'edit_file', input: { path: 'train.mjs', old_string: 'const LR = 0.02;', new_string: 'x' } },
          ],
        },
        { toolCalls: [{ name: 'edit_file', input: { path: 'train.mjs', old_string: 'const', new_string: 'let' } }] },
        { toolCalls: [edit, finish] },
      ],
      async (fake) => {
        const r = await make(fake).proposer.propose(proposalContext(makeProposalDir()));
        assert.equal(r.kind, 'ok');
        const calls = fake.calls();
        assert.match(calls[1]!.body.messages.at(-1).content[0].content, /old_string not found in train\.mjs/);
        assert.match(
          calls[2]!.body.messages.at(-1).content[0].content,
          /old_string found 6 times in train\.mjs; include more surrounding lines/,
        );
      },
    ));

  it('sends malformed answers back (no tool call, unknown tool, finish without a change) and fails at the turn limit', () =>
    withFake(
      [
        { text: 'I think LR should be higher.' },
        { toolCalls: [{ name: 'run_shell', input: { cmd: 'ls' } }] },
        { toolCalls: [{ name: 'finish', input: { description: 'nothing' } }] },
        { toolCalls: [{ name: 'edit_file', input: { path: 'train.mjs' } }] },
      ],
      async (fake) => {
        const r = await make(fake, { max_turns: 4 }).proposer.propose(proposalContext(makeProposalDir()));
        assert.deepEqual(
          { kind: r.kind, reason: r.kind === 'failed' ? r.reason : '' },
          { kind: 'failed', reason: 'no finish after 4 turns' },
        );
        assert.ok(r.kind === 'failed' && r.usage?.inputTokens === 400);
        const calls = fake.calls();
        assert.match(text(calls[1]!.body.messages.at(-1).content), /You did not call any tool/);
        assert.match(
          calls[2]!.body.messages.at(-1).content[0].content,
          /unknown tool "run_shell"; available tools: read_file/,
        );
        assert.match(
          calls[3]!.body.messages.at(-1).content[0].content,
          /no editable file \(train\.mjs\) has changed yet/,
        );
        assert.match(calls[3]!.body.messages.at(-1).content[1].text, /last turn/);
      },
    ));

  it('never puts the key in an error, even when the server echoes it', () =>
    withFake(
      [
        {
          status: 401,
          body: { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${KEY}` } },
        },
      ],
      async (fake) => {
        const { proposer } = make(fake);
        const r = await proposer.propose(proposalContext(makeProposalDir()));
        assert.ok(r.kind === 'failed');
        assert.match(r.reason, /401/);
        assert.ok(!r.reason.includes(KEY), r.reason);
        assert.equal(fake.calls().length, 1, 'a 401 is not retried');
        assert.equal(
          (fake.calls()[0]!.headers.authorization ?? fake.calls()[0]!.headers['x-api-key']) ? 'sent' : 'missing',
          'sent',
        );
      },
    ));

  it('returns failed "aborted" promptly when the signal aborts during a call', () =>
    withFake([{ hang: true }], async (fake) => {
      const ac = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ac.abort(), 100);
      const r = await make(fake).proposer.propose(proposalContext(makeProposalDir()), ac.signal);
      assert.deepEqual(
        { kind: r.kind, reason: r.kind === 'failed' ? r.reason : '' },
        { kind: 'failed', reason: 'aborted' },
      );
      assert.ok(Date.now() - t0 < 2000);
    }));

  it('repairs a crash: the crash reason and log tail reach the model; "give up" fails', () =>
    withFake(
      [
        { toolCalls: [edit, finish] },
        { toolCalls: [{ name: 'finish', input: { description: 'give up: the idea needs a new file' } }] },
      ],
      async (fake) => {
        const { proposer } = make(fake);
        const crash = {
          description: 'LR 0.01 -> 0.04',
          reason: 'exit code 1: ReferenceError: LRR is not defined',
          logTail: 'ReferenceError: LRR is not defined\n    at train.mjs:2',
          attempt: 1,
        };
        const ok = await proposer.repair!(proposalContext(makeProposalDir()), crash);
        assert.equal(ok.kind, 'ok');
        const task = text(fake.calls()[0]!.body.messages[0].content);
        assert.match(task, /Your change crashed \(repair attempt 1\)[\s\S]*LRR is not defined[\s\S]*at train\.mjs:2/);
        const gaveUp = await proposer.repair!(proposalContext(makeProposalDir()), { ...crash, attempt: 2 });
        assert.deepEqual(
          { kind: gaveUp.kind, reason: gaveUp.kind === 'failed' ? gaveUp.reason : '' },
          { kind: 'failed', reason: 'the agent gave up: the idea needs a new file' },
        );
      },
    ));
});

describe('anthropic preflight', () => {
  it('says what to set when neither key nor base URL is set', () => {
    const made = createLlmProposer('anthropic', proposerConfig({ kind: 'anthropic' }), {});
    assert.deepEqual(made, {
      ok: false,
      message: 'set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a compatible server)',
    });
    const p = new AnthropicProvider({ model: 'm', apiKey: null, baseUrl: null, requestTimeoutMs: 1000 });
    return p
      .preflight()
      .then((m) => assert.equal(m, 'set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a compatible server)'));
  });

  it('names an unreachable base URL in one line', async () => {
    const url = await closedPortUrl();
    const made = createLlmProposer(
      'anthropic',
      proposerConfig({ base_url: url }),
      { ANTHROPIC_API_KEY: KEY },
      { preflightTimeoutMs: 2000 },
    );
    assert.ok(made.ok);
    const msg = await made.proposer.preflight!();
    assert.equal(
      msg,
      `cannot reach the Anthropic API at ${url} (ECONNREFUSED); check the base URL ([proposer].base_url or the environment)`,
    );
    assert.ok(!msg!.includes('\n'));
  });

  it('reports an unknown model, and null when ready', () =>
    withFake([], async (fake) => {
      const bad = createLlmProposer('anthropic', proposerConfig({ base_url: fake.url, model: 'claude-nonexistent' }), {
        ANTHROPIC_API_KEY: KEY,
      });
      assert.ok(bad.ok);
      assert.match(
        (await bad.proposer.preflight!()) ?? '',
        /unknown model "claude-nonexistent" at http:\/\/127\.0\.0\.1:\d+ \(it serves: claude-sonnet-5-5\); set \[proposer\]\.model or --model/,
      );
      assert.equal(await make(fake).proposer.preflight!(), null);
    }));

  it('reports a refused key without showing it', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid key ${KEY}` } }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const made = createLlmProposer('anthropic', proposerConfig({ base_url: url }), { ANTHROPIC_API_KEY: KEY });
      assert.ok(made.ok);
      assert.equal(await made.proposer.preflight!(), `${url} refused the API key (401): check ANTHROPIC_API_KEY`);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
