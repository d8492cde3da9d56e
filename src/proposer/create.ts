/**
 * Builds the proposer named by `[proposer].kind`. Returns a message (never throws) for an
 * unknown kind, a model that can't be chosen or a missing key, so the CLI can say what to set
 * before the baseline runs.
 *
 * Kinds: `search` (offline, the default); `anthropic`, `openai` (LLM agents with tools, see
 * llm/create.ts for default models and keys); `claude`, `codex`, `pi`, `gemini`, `opencode`,
 * `aider` (coding-agent CLIs, see agent-cli/).
 */
import type { Config } from '../config/load.js';
import { AGENT_CLI_KINDS, createAgentCliProposer, isAgentCliKind, type AgentCliDeps } from './agent-cli/index.js';
import { createLlmProposer, LLM_KINDS, type Env, type LlmDeps } from './llm/index.js';
import { SearchProposer } from './search/index.js';
import type { Proposer } from './types.js';

export const PROPOSER_KINDS = ['search', ...LLM_KINDS, ...AGENT_CLI_KINDS] as const;

export interface ProposerDeps {
  /** The environment keys and base URLs are read from (default process.env). */
  env?: Env;
  llm?: LlmDeps;
  cli?: AgentCliDeps;
}

export function createProposer(
  config: Config,
  deps: ProposerDeps = {},
): { ok: true; proposer: Proposer; note?: string } | { ok: false; message: string } {
  const kind = config.proposer.kind;
  const env = deps.env ?? process.env;
  if (kind === 'search') {
    return {
      ok: true,
      proposer: new SearchProposer({
        seed: config.study.seed,
        exclude: [...config.proposer.exclude],
        strategy: config.proposer.strategy,
      }),
      note: `proposer: offline search (${config.proposer.strategy === 'coordinate' ? 'coordinate descent' : 'hill climbing'}) over the UPPER_CASE constants (no LLM configured)`,
    };
  }
  if (kind === 'anthropic' || kind === 'openai') return createLlmProposer(kind, config.proposer, env, deps.llm);
  if (isAgentCliKind(kind)) return createAgentCliProposer(kind, config.proposer, env, deps.cli);
  return {
    ok: false,
    message: `unknown proposer kind "${kind}" in [proposer].kind / --agent; available: ${PROPOSER_KINDS.join(', ')}`,
  };
}
