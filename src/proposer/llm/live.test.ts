/**
 * LIVE tests against the real APIs: skipped unless AUTORESEARCH_LIVE_TESTS=1 and a real key
 * (ANTHROPIC_API_KEY / OPENAI_API_KEY) are set. They spend a few cents. Model via
 * AUTORESEARCH_LIVE_ANTHROPIC_MODEL / AUTORESEARCH_LIVE_OPENAI_MODEL (default: the kind's default).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeProposalDir, proposalContext, proposerConfig } from '../../test-support/proposal-fixtures.js';
import { createLlmProposer } from './create.js';

const live = process.env.AUTORESEARCH_LIVE_TESTS === '1';

for (const kind of ['anthropic', 'openai'] as const) {
  const keyVar = kind === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY';
  const skip = !live || !process.env[keyVar];
  const model = process.env[`AUTORESEARCH_LIVE_${kind.toUpperCase()}_MODEL`];
  describe(`LIVE ${kind} API (skipped unless AUTORESEARCH_LIVE_TESTS=1 and ${keyVar} are set)`, { skip }, () => {
    it('preflight passes and one real proposal edits train.mjs', { timeout: 300_000 }, async () => {
      const made = createLlmProposer(
        kind,
        proposerConfig({ kind, ...(model ? { model } : {}), max_turns: 10 }),
        process.env,
      );
      assert.ok(made.ok, made.ok ? '' : made.message);
      assert.equal(await made.proposer.preflight!(), null);
      const dir = makeProposalDir();
      const before = readFileSync(join(dir, 'train.mjs'), 'utf8');
      const r = await made.proposer.propose(proposalContext(dir));
      assert.equal(r.kind, 'ok', JSON.stringify(r));
      assert.notEqual(readFileSync(join(dir, 'train.mjs'), 'utf8'), before);
      assert.ok(r.usage && r.usage.inputTokens! > 0 && r.usage.outputTokens! > 0);
    });
  });
}
