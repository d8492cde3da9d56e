import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/load.js';
import { cli } from '../test-support/cli.js';
import { makeLandscapeRepo } from '../test-support/landscape.js';
import { createProposer, PROPOSER_KINDS } from './create.js';

function config(kind: string, model?: string) {
  const dir = makeLandscapeRepo();
  const c = loadConfig(dir, { proposer: kind, ...(model ? { model } : {}) });
  assert.ok(c.ok, c.ok ? '' : c.message);
  return c.config;
}

describe('createProposer', () => {
  it('knows every kind and names them for an unknown one', () => {
    assert.deepEqual(
      [...PROPOSER_KINDS],
      ['search', 'anthropic', 'openai', 'claude', 'codex', 'pi', 'gemini', 'opencode', 'aider'],
    );
    const r = createProposer(config('gpt4'), { env: {} });
    assert.deepEqual(r, {
      ok: false,
      message: `unknown proposer kind "gpt4" in [proposer].kind / --agent; available: ${PROPOSER_KINDS.join(', ')}`,
    });
  });

  it('LLM kinds: key from the environment, default models, one-line messages', () => {
    const none = createProposer(config('anthropic'), { env: {} });
    assert.deepEqual(none, {
      ok: false,
      message: 'set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a compatible server)',
    });
    const a = createProposer(config('anthropic'), { env: { ANTHROPIC_API_KEY: 'sk-ant-x' } });
    assert.ok(a.ok);
    assert.equal(a.proposer.name, 'anthropic:claude-sonnet-5-5');
    assert.equal(
      a.note,
      'proposer: anthropic agent, model claude-sonnet-5-5 at https://api.anthropic.com (up to 30 turns per proposal)',
    );
    const o = createProposer(config('openai'), { env: { OPENAI_API_KEY: 'sk-x' } });
    assert.ok(o.ok && o.proposer.name === 'openai:gpt-5.4-mini');
    const local = createProposer(config('openai'), { env: { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' } });
    assert.deepEqual(local, {
      ok: false,
      message: 'set [proposer].model (or --model) to a model that http://127.0.0.1:11434/v1 serves',
    });
    const ollama = createProposer(config('openai', 'qwen3:8b'), {
      env: { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' },
    });
    assert.ok(ollama.ok && ollama.proposer.name === 'openai:qwen3:8b');
  });

  it('CLI kinds: built without checks; preflight says how to install', async () => {
    for (const kind of ['claude', 'codex', 'pi', 'gemini', 'opencode', 'aider']) {
      const r = createProposer(config(kind), { env: { PATH: '/nonexistent' } });
      assert.ok(r.ok);
      assert.match(
        (await r.proposer.preflight!()) ?? '',
        new RegExp(`^install ${kind}: .+ \\(or set \\[proposer\\]\\.command\\)$`),
      );
    }
  });
});

describe('autoresearch run --agent', () => {
  it('a missing key stops before the baseline with one line', () => {
    const dir = makeLandscapeRepo();
    const r = cli(['run', dir, '--agent', 'anthropic', '-n', '1'], {
      env: { ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: '' },
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /set ANTHROPIC_API_KEY \(or ANTHROPIC_BASE_URL for a compatible server\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    const bad = cli(['run', dir, '--agent', 'gpt'], { env: {} });
    assert.match(bad.stderr, /unknown proposer kind "gpt"/);
  });
});
