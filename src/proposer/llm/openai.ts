/**
 * `openai` provider: Chat Completions with tools, through the official SDK (non-streaming).
 * Serves api.openai.com and every OpenAI-compatible server (Ollama, vLLM, llama.cpp server,
 * OpenRouter, LM Studio) through OPENAI_BASE_URL / [proposer].base_url.
 * See provider.ts for the contract.
 */
import OpenAI from 'openai';
import type { ChatMessage, CompletionRequest, CompletionTurn, LlmProvider } from './provider.js';
import type { LlmError } from './errors.js';
import { sdkErrorToLlm } from './sdk-errors.js';
import { checkModelListed, describeUnreachable } from './preflight.js';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIProviderOptions {
  model: string;
  apiKey: string | null;
  /** null = api.openai.com. */
  baseUrl: string | null;
  requestTimeoutMs: number;
  preflightTimeoutMs?: number;
  /** Name of the variable the key comes from, for messages (default OPENAI_API_KEY). */
  keyVar?: string;
  fetch?: typeof fetch;
}

type Param = OpenAI.Chat.Completions.ChatCompletionMessageParam;

export class OpenAIProvider implements LlmProvider {
  readonly provider = 'openai';
  readonly model: string;
  private readonly client: OpenAI;
  private readonly opts: OpenAIProviderOptions;

  constructor(opts: OpenAIProviderOptions) {
    this.opts = opts;
    this.model = opts.model;
    this.client = new OpenAI({
      apiKey: opts.apiKey ?? 'no-key',
      baseURL: opts.baseUrl ?? OPENAI_DEFAULT_BASE_URL,
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: opts.requestTimeoutMs,
      logLevel: 'off',
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  get baseUrl(): string {
    return this.opts.baseUrl ?? OPENAI_DEFAULT_BASE_URL;
  }

  async complete(req: CompletionRequest, signal?: AbortSignal): Promise<CompletionTurn> {
    try {
      // api.openai.com's newer models take max_completion_tokens only; compatible servers know max_tokens.
      const limit = this.opts.baseUrl ? { max_tokens: req.maxTokens } : { max_completion_tokens: req.maxTokens };
      const res = await this.client.chat.completions.create(
        {
          model: this.model,
          messages: toParams(req.system, req.messages),
          tools: req.tools.map((t) => ({
            type: 'function' as const,
            function: { name: t.name, description: t.description, parameters: t.inputSchema },
          })),
          ...limit,
          ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        },
        { signal: signal ?? null },
      );
      const choice = res.choices?.[0];
      const msg = choice?.message;
      const toolCalls: CompletionTurn['toolCalls'] = [];
      (msg?.tool_calls ?? []).forEach((c, i) => {
        if (c.type === 'function' || (c as { function?: unknown }).function) {
          const fn = (c as { function: { name?: string; arguments?: unknown } }).function;
          // Some compatible servers send the arguments as an object instead of JSON text.
          const args =
            typeof fn.arguments === 'string'
              ? fn.arguments
              : fn.arguments === undefined
                ? ''
                : JSON.stringify(fn.arguments);
          toolCalls.push({ id: c.id || `call_${i}`, name: fn.name ?? '', arguments: args });
        }
      });
      return {
        text: typeof msg?.content === 'string' ? msg.content : '',
        toolCalls,
        usage: { inputTokens: res.usage?.prompt_tokens ?? 0, outputTokens: res.usage?.completion_tokens ?? 0 },
        stopReason: choice?.finish_reason ?? '',
      };
    } catch (err) {
      throw this.toLlmError(err, signal);
    }
  }

  async preflight(signal?: AbortSignal): Promise<string | null> {
    const keyVar = this.opts.keyVar ?? 'OPENAI_API_KEY';
    if (!this.opts.apiKey && !this.opts.baseUrl)
      return `set ${keyVar} (or OPENAI_BASE_URL for a compatible server such as Ollama or vLLM)`;
    const timeout = this.opts.preflightTimeoutMs ?? 10_000;
    let ids: string[] | null;
    try {
      const page = await this.client.models.list({ timeout, maxRetries: 0, signal: signal ?? null });
      ids = page.data.map((m) => m.id);
    } catch (err) {
      const e = this.toLlmError(err, signal);
      if (e.kind === 'not_found' || e.kind === 'bad_request') ids = null;
      else return describeUnreachable('OpenAI-compatible', this.baseUrl, e, keyVar);
    }
    return checkModelListed(this.model, this.baseUrl, ids, async () => {
      try {
        await this.client.models.retrieve(this.model, { timeout, maxRetries: 0, signal: signal ?? null });
        return true;
      } catch (err) {
        return this.toLlmError(err, signal).kind !== 'not_found';
      }
    });
  }

  private toLlmError(err: unknown, signal?: AbortSignal): LlmError {
    const sdk = {
      abort: OpenAI.APIUserAbortError,
      timeout: OpenAI.APIConnectionTimeoutError,
      connection: OpenAI.APIConnectionError,
      api: OpenAI.APIError,
      base: OpenAI.OpenAIError,
    };
    return sdkErrorToLlm(err, sdk, {
      baseUrl: this.baseUrl,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      apiKey: this.opts.apiKey,
      signal,
    });
  }
}

function toParams(system: string, messages: ChatMessage[]): Param[] {
  const out: Param[] = [{ role: 'system', content: system }];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.content });
    else if (m.role === 'assistant') {
      out.push({
        role: 'assistant',
        content: m.text || (m.toolCalls.length ? null : '(no answer)'),
        ...(m.toolCalls.length
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      });
    } else {
      for (const r of m.results)
        out.push({ role: 'tool', tool_call_id: r.callId, content: r.isError ? `ERROR: ${r.content}` : r.content });
      if (m.note) out.push({ role: 'user', content: m.note });
    }
  }
  return out;
}
