/** Runs the Proposer contract suite against search and the LLM proposers (fake servers). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeAnthropic } from '../test-support/fake-anthropic.js';
import type { FakeReply, Script } from '../test-support/fake-llm-server.js';
import { startFakeOpenAI } from '../test-support/fake-openai.js';
import { instantRetry, proposerConfig } from '../test-support/proposal-fixtures.js';
import { createLlmProposer } from './llm/create.js';
import { proposerContract, type ProposerHarness } from './proposer.contract.js';
import { SearchProposer } from './search/index.js';
import type { ProposalContext, ProposalResult, Proposer } from './types.js';

/** Tool-call ids fixed: the fake server's own ids count up, and would differ between proposals. */
const GOOD: FakeReply[] = [
  { toolCalls: [{ id: 'tool_1', name: 'read_file', input: { path: 'train.mjs' } }] },
  {
    toolCalls: [
      {
        id: 'tool_2',
        name: 'edit_file',
        input: { path: 'train.mjs', old_string: 'const DROPOUT = 0.5;', new_string: 'const DROPOUT = 0.2;' },
      },
    ],
  },
  { toolCalls: [{ id: 'tool_3', name: 'finish', input: { description: 'DROPOUT 0.5 -> 0.2' } }] },
];
const BROKEN: FakeReply[] = [
  { text: 'I would change the learning rate.' },
  { toolCalls: [{ name: 'write_file', input: { path: 'prepare.mjs', content: 'export const EVAL = 0;' } }] },
  { status: 400 },
];

function llmSubject(kind: 'anthropic' | 'openai') {
  const start = kind === 'anthropic' ? startFakeAnthropic : startFakeOpenAI;
  const make = async (script: Script): Promise<ProposerHarness> => {
    const fake = await start(script);
    const base = kind === 'anthropic' ? fake.url : `${fake.url}/v1`;
    const made = createLlmProposer(
      kind,
      proposerConfig({
        kind,
        base_url: base,
        model: kind === 'anthropic' ? 'claude-sonnet-5-5' : 'gpt-5.4-mini',
        max_turns: 5,
      }),
      { [`${kind.toUpperCase()}_API_KEY`]: 'sk-contract-key-000000' },
      { retryDeps: instantRetry() },
    );
    if (!made.ok) throw new Error(made.message);
    return { proposer: made.proposer, cleanup: () => fake.close(), modelCalls: () => fake.calls().map((c) => c.body) };
  };
  // The good script answers every proposal alike (the same three turns, again and again).
  const good: Script = (_req, i) => GOOD[i % GOOD.length]!;
  return { good: () => make(good), broken: () => make([...BROKEN]), hanging: () => make([{ hang: true }]) };
}

for (const strategy of ['hill', 'coordinate'] as const)
  proposerContract(strategy === 'hill' ? 'search' : 'search (coordinate)', {
    good: async () => ({ proposer: new SearchProposer({ seed: 1, strategy }), cleanup: async () => {} }),
    broken: async () => {
      // No UPPER_CASE constants to move: the search proposer fails as a value.
      const inner = new SearchProposer({ seed: 1, strategy });
      const proposer: Proposer = {
        name: inner.name,
        propose: (ctx: ProposalContext, signal?: AbortSignal): Promise<ProposalResult> => {
          writeFileSync(join(ctx.worktree, 'train.mjs'), 'console.log("no knobs here");\n');
          return inner.propose(ctx, signal);
        },
      };
      return { proposer, cleanup: async () => {} };
    },
  });
proposerContract('anthropic (fake Messages API)', llmSubject('anthropic'));
proposerContract('openai (fake Chat Completions API)', llmSubject('openai'));
