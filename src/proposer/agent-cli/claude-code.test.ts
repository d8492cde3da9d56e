/**
 * Integration: the REAL Claude Code CLI from npm (devDependency @anthropic-ai/claude-code) runs
 * headless against the fake Anthropic server (SSE streaming) as the `claude` proposer, end to end.
 * Skipped only when node_modules/.bin/claude is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { startFakeAnthropic, type RecordedRequest } from '../../test-support/fake-anthropic.js';
import { makeProposalDir, proposalContext, proposerConfig } from '../../test-support/proposal-fixtures.js';
import { createAgentCliProposer } from './index.js';

const CLAUDE = resolve(import.meta.dirname, '../../../node_modules/.bin/claude');
const absent = !existsSync(CLAUDE);

/** Claude Code's main loop asks with tools; side requests (titles, checks) get plain text. */
function claudeScript(dir: string, target: string, replacement: string) {
  let step = 0;
  return (req: RecordedRequest) => {
    const tools: string[] = (req.body?.tools ?? []).map((t: { name: string }) => t.name);
    if (!tools.includes('Edit')) return { text: 'ok' };
    step++;
    if (step === 1) return { toolCalls: [{ name: 'Read', input: { file_path: join(dir, 'train.mjs') } }] };
    if (step === 2)
      return {
        toolCalls: [
          { name: 'Edit', input: { file_path: join(dir, 'train.mjs'), old_string: target, new_string: replacement } },
        ],
      };
    return { text: 'Raised the learning rate towards its optimum.\nDESCRIPTION: LR 0.01 -> 0.04 (claude)' };
  };
}

describe(`claude CLI proposer: real Claude Code from npm against the fake Anthropic server${absent ? ' (skipped: node_modules/.bin/claude is absent)' : ''}`, {
  skip: absent,
}, () => {
  it('reads and edits train.mjs with its own tools; the DESCRIPTION line, tokens and cost come back', async () => {
    const dir = makeProposalDir();
    const fake = await startFakeAnthropic(claudeScript(dir, 'const LR = 0.01;', 'const LR = 0.04;'));
    try {
      const made = createAgentCliProposer(
        'claude',
        proposerConfig({ kind: 'claude', command: CLAUDE, model: 'claude-sonnet-5-5', timeout_s: 90 }),
        {
          PATH: process.env.PATH,
          HOME: mkdtempSync(join(tmpdir(), 'ar-claude-home-')),
          ANTHROPIC_BASE_URL: fake.url,
          ANTHROPIC_API_KEY: 'sk-ant-fake-for-tests',
        },
      );
      assert.ok(made.ok);
      assert.equal(await made.proposer.preflight!(), null);
      const r = await made.proposer.propose(proposalContext(dir));
      assert.ok(r.kind === 'ok', JSON.stringify(r));
      assert.equal(r.description, 'LR 0.01 -> 0.04 (claude)');
      assert.match(readFileSync(join(dir, 'train.mjs'), 'utf8'), /const LR = 0\.04;/);
      assert.ok(
        r.usage && r.usage.inputTokens! >= 300 && r.usage.outputTokens! >= 60 && r.usage.costUsd! > 0,
        JSON.stringify(r.usage),
      );
      assert.deepEqual((r.change as { removedStrayFiles: string[] }).removedStrayFiles, []);

      const main = fake.calls().filter((c) => (c.body.tools ?? []).some((t: { name: string }) => t.name === 'Edit'));
      assert.equal(main.length, 3);
      assert.equal(main[0]!.body.stream, true, 'Claude Code streams (SSE)');
      assert.equal(main[0]!.body.model, 'claude-sonnet-5-5');
      const names = main[0]!.body.tools.map((t: { name: string }) => t.name);
      assert.ok(!names.includes('Bash'), `only file tools: ${names.join(',')}`);
      assert.match(JSON.stringify(main[0]!.body.messages), /Research program \(program\.md\)/);
    } finally {
      await fake.close();
    }
  });
});
