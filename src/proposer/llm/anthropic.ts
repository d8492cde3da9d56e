/**
 * `anthropic` provider: the Messages API with tool use, through the official SDK (non-streaming).
 * Serves api.anthropic.com and any server speaking the same API (ANTHROPIC_BASE_URL).
 * See provider.ts for the contract.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { ChatMessage, CompletionRequest, CompletionTurn, LlmProvider } from './provider.js';
import type { LlmError } from './errors.js';
import { sdkErrorToLlm } from './sdk-errors.js';
import { checkModelListed, describeUnreachable } from './preflight.js';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

export interface AnthropicProviderOptions {
  model: string;
  /** null when neither ANTHROPIC_API_KEY nor a config key is set. */
  apiKey: string | null;
  /** null = the public API. */
  baseUrl: string | null;
  requestTimeoutMs: number;
  preflightTimeoutMs?: number;
  fetch?: typeof fetch;
}

type Param = Anthropic.Messages.MessageParam;
type Block = Anthropic.Messages.ContentBlockParam;

export class AnthropicProvider implements LlmProvider {
  readonly provider = 'anthropic';
  readonly model: string;
  private readonly client: Anthropic;
  private readonly opts: AnthropicProviderOptions;

  constructor(opts: AnthropicProviderOptions) {
    this.opts = opts;
    this.model = opts.model;
    this.client = new Anthropic({
      // A compatible local server usually ignores the key; the SDK needs one to send.
      apiKey: opts.apiKey ?? 'no-key',
      baseURL: opts.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL,
      maxRetries: 0,
      timeout: opts.requestTimeoutMs,
      logLevel: 'off',
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  get baseUrl(): string {
    return this.opts.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL;
  }

  async complete(req: CompletionRequest, signal?: AbortSignal): Promise<CompletionTurn> {
    try {
      const res = await this.client.messages.create(
        {
          model: this.model,
          max_tokens: req.maxTokens,
          // Prompt caching: the tools + system prefix and the conversation so far are cached, so
          // each turn pays full price only for what is new.
          system: [{ type: 'text', text: req.system, cache_control: { type: 'ephemeral' } }],
          messages: withCacheBreakpoint(toParams(req.messages)),
          tools: req.tools.map((t) => ({
            name: t.name,
            description: t.description,
            input_schema: t.inputSchema as Anthropic.Messages.Tool.InputSchema,
          })),
          ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        },
        { signal: signal ?? null },
      );
      let text = '';
      const toolCalls: CompletionTurn['toolCalls'] = [];
      for (const block of res.content ?? []) {
        if (block.type === 'text') text += block.text;
        else if (block.type === 'tool_use')
          toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
      }
      const u = res.usage;
      return {
        text,
        toolCalls,
        usage: {
          inputTokens:
            (u?.input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0) + (u?.cache_read_input_tokens ?? 0),
          outputTokens: u?.output_tokens ?? 0,
          cacheReadTokens: u?.cache_read_input_tokens ?? 0,
          cacheWriteTokens: u?.cache_creation_input_tokens ?? 0,
        },
        stopReason: res.stop_reason ?? '',
      };
    } catch (err) {
      throw this.toLlmError(err, signal);
    }
  }

  async preflight(signal?: AbortSignal): Promise<string | null> {
    if (!this.opts.apiKey && !this.opts.baseUrl)
      return 'set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a compatible server)';
    const timeout = this.opts.preflightTimeoutMs ?? 10_000;
    let ids: string[] | null;
    try {
      const page = await this.client.models.list({ limit: 1000 }, { timeout, maxRetries: 0, signal: signal ?? null });
      ids = page.data.map((m) => m.id);
    } catch (err) {
      const e = this.toLlmError(err, signal);
      if (e.kind === 'not_found' || e.kind === 'bad_request')
        ids = null; // server has no model listing
      else return describeUnreachable('Anthropic', this.baseUrl, e, 'ANTHROPIC_API_KEY');
    }
    return checkModelListed(this.model, this.baseUrl, ids, async () => {
      try {
        await this.client.models.retrieve(this.model, {}, { timeout, maxRetries: 0, signal: signal ?? null });
        return true;
      } catch (err) {
        return this.toLlmError(err, signal).kind !== 'not_found';
      }
    });
  }

  private toLlmError(err: unknown, signal?: AbortSignal): LlmError {
    const sdk = {
      abort: Anthropic.APIUserAbortError,
      timeout: Anthropic.APIConnectionTimeoutError,
      connection: Anthropic.APIConnectionError,
      api: Anthropic.APIError,
      base: Anthropic.AnthropicError,
    };
    return sdkErrorToLlm(err, sdk, {
      baseUrl: this.baseUrl,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      apiKey: this.opts.apiKey,
      signal,
    });
  }
}

function toParams(messages: ChatMessage[]): Param[] {
  return messages.map((m): Param => {
    if (m.role === 'user') return { role: 'user', content: m.content };
    if (m.role === 'assistant') {
      const content: Block[] = [];
      if (m.text) content.push({ type: 'text', text: m.text });
      for (const c of m.toolCalls)
        content.push({ type: 'tool_use', id: c.id, name: c.name, input: parseObject(c.arguments) });
      if (content.length === 0) content.push({ type: 'text', text: '(no answer)' });
      return { role: 'assistant', content };
    }
    const content: Block[] = m.results.map((r) => ({
      type: 'tool_result',
      tool_use_id: r.callId,
      content: r.content,
      is_error: r.isError,
    }));
    if (m.note) content.push({ type: 'text', text: m.note });
    return { role: 'user', content };
  });
}

/** Marks the last block of the last message as a cache breakpoint. */
function withCacheBreakpoint(params: Param[]): Param[] {
  const last = params.at(-1);
  if (!last) return params;
  const blocks: Block[] = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : [...last.content];
  const end = blocks.at(-1);
  if (end && (end.type === 'text' || end.type === 'tool_result'))
    blocks[blocks.length - 1] = { ...end, cache_control: { type: 'ephemeral' } };
  return [...params.slice(0, -1), { ...last, content: blocks } as Param];
}

function parseObject(json: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(json);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
