/**
 * Test support: a fake Anthropic Messages API (POST /v1/messages, JSON or SSE streaming when the
 * request sets `stream: true`; GET /v1/models and /v1/models/{id}; POST /v1/messages/count_tokens)
 * scripted by a list of replies. Speaks the exact wire format the SDK and Claude Code parse.
 */
import type { ServerResponse } from 'node:http';
import {
  sendJson,
  sendSse,
  startFakeServer,
  type FakeReply,
  type FakeServer,
  type RecordedRequest,
  type Script,
} from './fake-llm-server.js';

export type { FakeReply, FakeServer, RecordedRequest, Script } from './fake-llm-server.js';

export interface FakeAnthropicOptions {
  /** Model ids GET /v1/models lists (default: claude-sonnet-5-5). */
  models?: string[];
  /** Reply used when the script list runs out (default: a 500 error). */
  fallback?: (req: RecordedRequest) => FakeReply;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export function anthropicError(status: number, message = `fake error ${status}`): unknown {
  return { type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message } };
}

let seq = 0;

function blocks(reply: Extract<FakeReply, { text?: string }>) {
  const out: (
    | { type: 'text'; text: string }
    | { type: 'tool_use'; id: string; name: string; input: unknown; raw: string }
  )[] = [];
  if (reply.text) out.push({ type: 'text', text: reply.text });
  for (const c of reply.toolCalls ?? []) {
    const raw = c.rawArguments ?? JSON.stringify(c.input ?? {});
    let input: unknown = {};
    try {
      input = JSON.parse(raw);
    } catch {
      input = {};
    }
    out.push({ type: 'tool_use', id: c.id ?? `toolu_fake${++seq}`, name: c.name, input, raw });
  }
  return out;
}

function reply(req: RecordedRequest, r: Extract<FakeReply, { text?: string }>, res: ServerResponse): void {
  const model = (req.body as { model?: string })?.model ?? 'claude-fake';
  const content = blocks(r);
  const stop = r.stopReason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
  const usage = {
    input_tokens: r.usage?.input ?? 100,
    output_tokens: r.usage?.output ?? 20,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  const id = `msg_fake${++seq}`;
  if (!(req.body as { stream?: boolean })?.stream) {
    sendJson(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: content.map((b) =>
        b.type === 'text' ? b : { type: 'tool_use', id: b.id, name: b.name, input: b.input },
      ),
      stop_reason: stop,
      stop_sequence: null,
      usage,
    });
    return;
  }
  const events: { event: string; data: unknown }[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 1 },
        },
      },
    },
  ];
  content.forEach((b, index) => {
    if (b.type === 'text') {
      events.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
      });
      events.push({
        event: 'content_block_delta',
        data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: b.text } },
      });
    } else {
      events.push({
        event: 'content_block_start',
        data: {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
        },
      });
      const half = Math.floor(b.raw.length / 2); // two chunks, as real streams split JSON anywhere
      for (const part of [b.raw.slice(0, half), b.raw.slice(half)]) {
        events.push({
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } },
        });
      }
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({
    event: 'message_delta',
    data: {
      type: 'message_delta',
      delta: { stop_reason: stop, stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    },
  });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  sendSse(res, events);
}

export function startFakeAnthropic(script: Script, opts: FakeAnthropicOptions = {}): Promise<FakeServer> {
  const models = opts.models ?? ['claude-sonnet-5-5'];
  const info = (id: string) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' });
  return startFakeServer(
    {
      callPath: '/v1/messages',
      errorBody: (status) => anthropicError(status),
      reply,
      other: (req, res) => {
        if (req.method === 'GET' && req.path === '/v1/models') {
          sendJson(res, 200, {
            data: models.map(info),
            has_more: false,
            first_id: models[0] ?? null,
            last_id: models.at(-1) ?? null,
          });
          return true;
        }
        const m = /^\/v1\/models\/(.+)$/.exec(req.path);
        if (req.method === 'GET' && m) {
          const id = decodeURIComponent(m[1]!);
          if (models.includes(id)) sendJson(res, 200, info(id));
          else sendJson(res, 404, anthropicError(404, `model: ${id}`));
          return true;
        }
        if (req.method === 'POST' && req.path === '/v1/messages/count_tokens') {
          sendJson(res, 200, { input_tokens: 100 });
          return true;
        }
        return false;
      },
    },
    script,
    opts.fallback,
  );
}
