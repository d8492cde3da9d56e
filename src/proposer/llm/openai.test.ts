import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { closedPortUrl } from '../../test-support/fake-llm-server.js';
import { startFakeOpenAI, type FakeServer, type Script } from '../../test-support/fake-openai.js';
import {
  instantRetry,
  makeProposalDir,
  proposalContext,
  proposerConfig,
} from '../../test-support/proposal-fixtures.js';
import { createLlmProposer } from './create.js';

const KEY = 'sk-proj-TEST-secret-abcdef012345';
const edit = {
  name: 'edit_file',
  input: { path: 'train.mjs', old_string: 'const USE_TRICK = false;', new_string: 'const USE_TRICK = true;' },
};
const finish = { name: 'finish', input: { description: 'turn on the trick' } };

async function withFake(script: Script, fn: (fake: FakeServer) => Promise<void>, models?: string[]): Promise<void> {
  const fake = await startFakeOpenAI(script, models ? { models } : {});
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

function make(
  fake: FakeServer,
  over: Record<string, unknown> = {},
  env: Record<string, string> = { OPENAI_API_KEY: KEY },
) {
  const retry = instantRetry();
  const made = createLlmProposer(
    'openai',
    proposerConfig({ kind: 'openai', model: 'gpt-5.4-mini', base_url: `${fake.url}/v1`, ...over }),
    env,
    { retryDeps: retry },
  );
  assert.ok(made.ok, made.ok ? '' : made.message);
  return { proposer: made.proposer, retry };
}

describe('openai proposer (fake Chat Completions API)', () => {
  it('edits and finishes; wire format of tools, tool results and usage', () =>
    withFake(
      [
        { toolCalls: [edit], usage: { input: 2000, output: 100 } },
        { toolCalls: [finish], usage: { input: 2100, output: 10 } },
      ],
      async (fake) => {
        const dir = makeProposalDir();
        const { proposer } = make(fake);
        assert.equal(proposer.name, 'openai:gpt-5.4-mini');
        const r = await proposer.propose(proposalContext(dir));
        assert.ok(r.kind === 'ok');
        assert.equal(r.description, 'turn on the trick');
        assert.match(readFileSync(join(dir, 'train.mjs'), 'utf8'), /USE_TRICK = true/);
        assert.deepEqual(r.usage, {
          inputTokens: 4100,
          outputTokens: 110,
          costUsd: Math.round(((4100 * 0.75 + 110 * 4.5) / 1e6) * 1e6) / 1e6,
        });
        const [first, second] = fake.calls();
        assert.equal(first!.headers.authorization, `Bearer ${KEY}`);
        assert.equal(first!.body.messages[0].role, 'system');
        assert.equal(first!.body.tools[0].type, 'function');
        assert.equal(first!.body.tools[1].function.name, 'edit_file');
        assert.equal(first!.body.max_tokens, 8192, 'compatible servers get max_tokens');
        const msgs = second!.body.messages;
        assert.equal(msgs.at(-2).role, 'assistant');
        assert.equal(msgs.at(-2).tool_calls[0].function.name, 'edit_file');
        assert.equal(msgs.at(-1).role, 'tool');
        assert.equal(msgs.at(-1).tool_call_id, msgs.at(-2).tool_calls[0].id);
        assert.match(msgs.at(-1).content, /^edited train\.mjs: replaced 1 occurrence/);
      },
    ));

  it('answers bad JSON arguments and wrong argument types with errors the model can fix', () =>
    withFake(
      [
        { toolCalls: [{ name: 'edit_file', rawArguments: '{"path": "train.mjs", "old_string": "const LR' }] },
        { toolCalls: [{ name: 'edit_file', input: { path: 'train.mjs', old_string: 1, new_string: 2 } }] },
        { toolCalls: [{ name: 'write_file', input: { path: 'prepare.mjs', content: 'x' } }, edit] },
        { toolCalls: [finish] },
      ],
      async (fake) => {
        const r = await make(fake).proposer.propose(proposalContext(makeProposalDir()));
        assert.equal(r.kind, 'ok');
        const c = fake.calls();
        assert.match(c[1]!.body.messages.at(-1).content, /^ERROR: the arguments of edit_file are not valid JSON/);
        assert.match(
          c[2]!.body.messages.at(-1).content,
          /^ERROR: invalid arguments for edit_file: old_string: .*expected string/,
        );
        assert.match(c[3]!.body.messages.at(-2).content, /^ERROR: refused: prepare\.mjs is protected/);
        assert.match(c[3]!.body.messages.at(-1).content, /^edited train\.mjs/);
      },
    ));

  it('an empty answer (no choices) is sent back, then succeeds', () =>
    withFake([{ text: '' }, { toolCalls: [edit, finish] }], async (fake) => {
      const r = await make(fake).proposer.propose(proposalContext(makeProposalDir()));
      assert.equal(r.kind, 'ok');
      assert.match(fake.calls()[1]!.body.messages.at(-1).content, /You did not call any tool/);
    }));

  it('retries 429 with retry-after-ms and keeps the key out of the final error', () =>
    withFake(
      [
        { status: 429, headers: { 'retry-after-ms': '250' } },
        { status: 400, body: { error: { message: `bad request for key ${KEY}`, type: 'invalid_request_error' } } },
      ],
      async (fake) => {
        const { proposer, retry } = make(fake);
        const r = await proposer.propose(proposalContext(makeProposalDir()));
        assert.ok(r.kind === 'failed');
        assert.deepEqual(retry.pauses, [250]);
        assert.match(r.reason, /openai API error: .*400/);
        assert.ok(!r.reason.includes(KEY), r.reason);
      },
    ));

  it('api.openai.com gets max_completion_tokens (newer models reject max_tokens)', async () => {
    const seen: unknown[] = [];
    const fakeFetch = (async (_url: string | URL | Request, init?: RequestInit) => {
      seen.push(JSON.parse(String(init?.body)));
      return new Response(JSON.stringify({ error: { message: 'stop' } }), {
        status: 400,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
    const made = createLlmProposer(
      'openai',
      proposerConfig({ kind: 'openai' }),
      { OPENAI_API_KEY: KEY },
      { fetch: fakeFetch, retryDeps: instantRetry() },
    );
    assert.ok(made.ok);
    await made.proposer.propose(proposalContext(makeProposalDir()));
    assert.equal((seen[0] as { max_completion_tokens?: number }).max_completion_tokens, 8192);
    assert.equal((seen[0] as { model: string }).model, 'gpt-5.4-mini');
  });
});

describe('openai factory and preflight', () => {
  it('a compatible server needs a model; no key and no base URL says what to set', () => {
    assert.deepEqual(createLlmProposer('openai', proposerConfig({ base_url: 'http://127.0.0.1:11434/v1' }), {}), {
      ok: false,
      message: 'set [proposer].model (or --model) to a model that http://127.0.0.1:11434/v1 serves',
    });
    const none = createLlmProposer('openai', proposerConfig({}), {});
    assert.ok(!none.ok && none.message.startsWith('set OPENAI_API_KEY (or OPENAI_BASE_URL'));
    const custom = createLlmProposer('openai', proposerConfig({ api_key_env: 'OPENROUTER_API_KEY' }), {});
    assert.ok(!custom.ok && custom.message.startsWith('set OPENROUTER_API_KEY'));
    assert.ok(
      createLlmProposer('openai', proposerConfig({ model: 'llama3' }), { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' })
        .ok,
      'no key needed for a local server',
    );
  });

  it('unreachable URL, unknown model, ready', async () => {
    const url = `${await closedPortUrl()}/v1`;
    const down = createLlmProposer('openai', proposerConfig({ model: 'x', base_url: url }), {});
    assert.ok(down.ok);
    assert.match(
      (await down.proposer.preflight!()) ?? '',
      new RegExp(`^cannot reach the OpenAI-compatible API at ${url.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`),
    );
    await withFake(
      [],
      async (fake) => {
        const bad = make(fake, { model: 'llama-9000' }).proposer;
        assert.match(
          (await bad.preflight!()) ?? '',
          /^unknown model "llama-9000" at .* \(it serves: qwen3:8b, llama3\.2\); set \[proposer\]\.model or --model$/,
        );
        assert.equal(await make(fake, { model: 'qwen3:8b' }).proposer.preflight!(), null);
        assert.equal(
          await make(fake, { model: 'qwen3' }).proposer.preflight!(),
          null,
          'an Ollama-style alias of qwen3:8b',
        );
      },
      ['qwen3:8b', 'llama3.2'],
    );
  });
});
