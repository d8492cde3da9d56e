/**
 * Builds the `anthropic` / `openai` proposers from `[proposer]` and the environment.
 *
 * Contract: never throws; returns one line saying what to set when the model can't be chosen or
 * no key and no base URL is set. The key is read from the environment only (ANTHROPIC_API_KEY /
 * OPENAI_API_KEY, or the variable named by [proposer].api_key_env), never from the config file.
 * Default models: anthropic -> claude-sonnet-5-5; openai -> gpt-5.4-mini on api.openai.com (a
 * compatible server at a custom base URL needs an explicit model).
 */
import type { Config } from '../../config/load.js';
import type { Proposer } from '../types.js';
import type { AgentSettings } from './agent.js';
import { AnthropicProvider, ANTHROPIC_DEFAULT_BASE_URL } from './anthropic.js';
import { LlmProposer } from './llm-proposer.js';
import { OpenAIProvider, OPENAI_DEFAULT_BASE_URL } from './openai.js';
import type { LlmProvider } from './provider.js';
import { DEFAULT_RETRY_POLICY, realRetryDeps, type RetryDeps } from './retry.js';

export const LLM_KINDS = ['anthropic', 'openai'] as const;
export type LlmKind = (typeof LLM_KINDS)[number];

export const DEFAULT_MODELS: Record<LlmKind, string> = {
  anthropic: 'claude-sonnet-5-5',
  openai: 'gpt-5.4-mini',
};

export type Env = Readonly<Record<string, string | undefined>>;

export interface LlmDeps {
  retryDeps?: RetryDeps;
  fetch?: typeof fetch;
  preflightTimeoutMs?: number;
}

export type Made = { ok: true; proposer: Proposer; note?: string } | { ok: false; message: string };

export function createLlmProposer(kind: LlmKind, p: Config['proposer'], env: Env, deps: LlmDeps = {}): Made {
  const keyVar = p.api_key_env ?? (kind === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY');
  const baseVar = kind === 'anthropic' ? 'ANTHROPIC_BASE_URL' : 'OPENAI_BASE_URL';
  const apiKey = env[keyVar]?.trim() || null;
  const baseUrl = p.base_url ?? (env[baseVar]?.trim() || null);
  if (!apiKey && !baseUrl) {
    return {
      ok: false,
      message:
        kind === 'anthropic'
          ? `set ${keyVar} (or ANTHROPIC_BASE_URL for a compatible server)`
          : `set ${keyVar} (or OPENAI_BASE_URL for a compatible server such as Ollama, vLLM or LM Studio)`,
    };
  }
  const model = p.model ?? (kind === 'openai' && baseUrl ? null : DEFAULT_MODELS[kind]);
  if (!model) return { ok: false, message: `set [proposer].model (or --model) to a model that ${baseUrl} serves` };

  const requestTimeoutMs = p.request_timeout_s * 1000;
  const common = {
    model,
    apiKey,
    baseUrl,
    requestTimeoutMs,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.preflightTimeoutMs ? { preflightTimeoutMs: deps.preflightTimeoutMs } : {}),
  };
  const provider: LlmProvider =
    kind === 'anthropic' ? new AnthropicProvider(common) : new OpenAIProvider({ ...common, keyVar });
  const settings: AgentSettings = {
    maxTurns: p.max_turns,
    maxTokens: p.max_tokens,
    ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
    retry: { ...DEFAULT_RETRY_POLICY, maxRetries: p.max_retries },
    retryDeps: deps.retryDeps ?? realRetryDeps(),
    prices: p.prices,
    secrets: apiKey ? [apiKey] : [],
  };
  const url = baseUrl ?? (kind === 'anthropic' ? ANTHROPIC_DEFAULT_BASE_URL : OPENAI_DEFAULT_BASE_URL);
  return {
    ok: true,
    proposer: new LlmProposer(provider, settings),
    note: `proposer: ${kind} agent, model ${model} at ${url} (up to ${p.max_turns} turns per proposal)`,
  };
}
