/** The LLM proposers (`anthropic`, `openai`): providers, tools, prompt, agent loop. */
export { createLlmProposer, DEFAULT_MODELS, LLM_KINDS } from './create.js';
export type { Env, LlmDeps, LlmKind } from './create.js';
export { LlmProposer } from './llm-proposer.js';
export { runAgent } from './agent.js';
export type { AgentSettings, AgentTask } from './agent.js';
export { AnthropicProvider } from './anthropic.js';
export { OpenAIProvider } from './openai.js';
export type {
  ChatMessage,
  CompletionRequest,
  CompletionTurn,
  LlmProvider,
  ToolCall,
  ToolResult,
  ToolSpec,
} from './provider.js';
export { LlmError } from './errors.js';
export { withRetries, DEFAULT_RETRY_POLICY } from './retry.js';
export type { RetryDeps, RetryPolicy } from './retry.js';
export { PRICES, costUsd, findPrice } from './prices.js';
export type { Price } from './prices.js';
export { cliPrompt, systemPrompt, taskPrompt } from './prompt.js';
export { summarizeHistory, queryResults } from './history-summary.js';
export { scrubSecrets } from './scrub.js';
export { ToolBox } from './toolbox.js';
export { toolSpecs, TOOL_NAMES } from './tool-specs.js';
