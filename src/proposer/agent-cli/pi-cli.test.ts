/**
 * Integration: the REAL pi coding agent from npm (devDependency @mariozechner/pi-coding-agent)
 * runs in print mode against the fake OpenAI-compatible server (declared as a custom provider in
 * a temporary ~/.pi/agent/models.json) as the `pi` proposer, end to end.
 * Skipped only when node_modules/.bin/pi is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { startFakeOpenAI, type RecordedRequest } from '../../test-support/fake-openai.js';
import { makeProposalDir, proposalContext, proposerConfig } from '../../test-support/proposal-fixtures.js';
import { createAgentCliProposer } from './index.js';

const PI = resolve(import.meta.dirname, '../../../node_modules/.bin/pi');
const absent = !existsSync(PI);

describe(`pi CLI proposer: real pi from npm against the fake OpenAI-compatible server${absent ? ' (skipped: node_modules/.bin/pi is absent)' : ''}`, {
  skip: absent,
}, () => {
  it('reads and edits train.mjs with its own tools; the DESCRIPTION line comes back', async () => {
    const dir = makeProposalDir();
    let step = 0;
    const fake = await startFakeOpenAI(
      (_req: RecordedRequest) => {
        step++;
        if (step === 1) return { toolCalls: [{ name: 'read', input: { path: 'train.mjs' } }] };
        if (step === 2)
          return {
            toolCalls: [
              {
                name: 'edit',
                input: {
                  path: 'train.mjs',
                  edits: [{ oldText: 'const DROPOUT = 0.5;', newText: 'const DROPOUT = 0.1;' }],
                },
              },
            ],
          };
        return { text: 'Lowered dropout.\nDESCRIPTION: DROPOUT 0.5 -> 0.1 (pi)' };
      },
      { models: ['fake-coder'] },
    );
    try {
      const home = mkdtempSync(join(tmpdir(), 'ar-pi-home-'));
      mkdirSync(join(home, '.pi', 'agent'), { recursive: true });
      const provider = {
        baseUrl: `${fake.url}/v1`,
        api: 'openai-completions',
        apiKey: 'none',
        compat: { supportsDeveloperRole: false, supportsReasoningEffort: false },
        models: [{ id: 'fake-coder' }],
      };
      writeFileSync(join(home, '.pi', 'agent', 'models.json'), JSON.stringify({ providers: { fake: provider } }));
      const made = createAgentCliProposer(
        'pi',
        proposerConfig({ kind: 'pi', command: PI, model: 'fake/fake-coder', timeout_s: 90 }),
        { PATH: process.env.PATH, HOME: home },
      );
      assert.ok(made.ok);
      assert.equal(await made.proposer.preflight!(), null);
      const r = await made.proposer.propose(proposalContext(dir));
      assert.ok(r.kind === 'ok', JSON.stringify(r));
      assert.equal(r.description, 'DROPOUT 0.5 -> 0.1 (pi)');
      assert.match(readFileSync(join(dir, 'train.mjs'), 'utf8'), /const DROPOUT = 0\.1;/);
      const calls = fake.calls();
      assert.equal(calls.length, 3);
      assert.deepEqual(calls[0]!.body.tools.map((t: { function: { name: string } }) => t.function.name).sort(), [
        'edit',
        'read',
        'write',
      ]);
      assert.match(JSON.stringify(calls[0]!.body.messages), /Research program \(program\.md\)/);
    } finally {
      await fake.close();
    }
  });
});
