/**
 * LlmProvider seam: one chat-completion call with tools, in a provider-neutral shape, so that the
 * agent loop (tools, turns, history prompt) is written once for every API.
 *
 * Contract:
 * - `complete` sends the whole conversation (system + messages + tools) and returns the model's
 *   next turn: its text and tool calls, with token usage. One call = one HTTP request: it does not
 *   retry (the agent's retry policy does, see retry.ts) and the SDK's own retries are off.
 * - It throws only `LlmError` (see errors.ts), classified (rate limit, server, timeout, connection,
 *   auth, bad request, not found, aborted) and with any key scrubbed from its message. Anything
 *   else thrown is a bug.
 * - A tool call's `arguments` is the raw JSON text the model produced (OpenAI-style APIs may send
 *   invalid JSON; the agent parses it and answers errors to the model). Providers that receive an
 *   object (Anthropic) send `JSON.stringify(input)`.
 * - `preflight` makes at most one quick request (e.g. GET /models) with a short timeout and returns
 *   one line saying what to set (missing key, unreachable base URL, unknown model), or null when
 *   ready. Never throws.
 * - When `signal` aborts, the pending request is cancelled and `LlmError` kind 'aborted' thrown.
 */

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the tool's input (an object schema). */
  inputSchema: Record<string, unknown>;
}

export interface ToolCall {
  /** Provider-assigned id, echoed back with the result. */
  id: string;
  name: string;
  /** Raw JSON text of the arguments, as the model produced it. */
  arguments: string;
}

export interface ToolResult {
  callId: string;
  name: string;
  content: string;
  isError: boolean;
}

export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; text: string; toolCalls: ToolCall[] }
  /** Results for every tool call of the preceding assistant turn, plus an optional user note. */
  | { role: 'tool'; results: ToolResult[]; note?: string };

export interface CompletionRequest {
  system: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  maxTokens: number;
  temperature?: number;
}

export interface TurnUsage {
  /** All input tokens, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens: read from the provider's prompt cache (billed at a tenth), when reported. */
  cacheReadTokens?: number;
  /** Of inputTokens: written to the prompt cache (billed at 1.25x), when reported. */
  cacheWriteTokens?: number;
}

export interface CompletionTurn {
  text: string;
  toolCalls: ToolCall[];
  usage: TurnUsage;
  /** Provider's stop reason as sent (e.g. "tool_use", "end_turn", "length", "stop"). */
  stopReason: string;
}

export interface LlmProvider {
  /** "anthropic" or "openai". */
  readonly provider: string;
  readonly model: string;
  complete(req: CompletionRequest, signal?: AbortSignal): Promise<CompletionTurn>;
  preflight(signal?: AbortSignal): Promise<string | null>;
}
