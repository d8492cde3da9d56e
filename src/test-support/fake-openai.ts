/**
 * Test support: a fake OpenAI Chat Completions API (POST /v1/chat/completions, JSON or SSE when
 * the request sets `stream: true`; GET /v1/models and /v1/models/{id}) scripted by a list of
 * replies. Tool-call arguments may be raw text (to inject invalid JSON). Base URL for clients:
 * `${server.url}/v1`.
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

export interface FakeOpenAIOptions {
  models?: string[];
  fallback?: (req: RecordedRequest) => FakeReply;
}

export function openaiError(status: number, message = `fake error ${status}`): unknown {
  return {
    error: {
      message,
      type: status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error',
      param: null,
      code: null,
    },
  };
}

let seq = 0;

function reply(req: RecordedRequest, r: Extract<FakeReply, { text?: string }>, res: ServerResponse): void {
  const model = (req.body as { model?: string })?.model ?? 'gpt-fake';
  const toolCalls = (r.toolCalls ?? []).map((c) => ({
    id: c.id ?? `call_fake${++seq}`,
    type: 'function' as const,
    function: { name: c.name, arguments: c.rawArguments ?? JSON.stringify(c.input ?? {}) },
  }));
  const finish = r.stopReason ?? (toolCalls.length ? 'tool_calls' : 'stop');
  const usage = {
    prompt_tokens: r.usage?.input ?? 100,
    completion_tokens: r.usage?.output ?? 20,
    total_tokens: (r.usage?.input ?? 100) + (r.usage?.output ?? 20),
  };
  const id = `chatcmpl-fake${++seq}`;
  const created = 1_700_000_000;
  if (!(req.body as { stream?: boolean })?.stream) {
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: r.text ?? null,
            ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
            refusal: null,
          },
          finish_reason: finish,
          logprobs: null,
        },
      ],
      usage,
    });
    return;
  }
  const chunk = (delta: unknown, finish_reason: string | null, extra: object = {}) => ({
    data: {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason }],
      ...extra,
    },
  });
  const events = [chunk({ role: 'assistant', content: '' }, null)];
  if (r.text) events.push(chunk({ content: r.text }, null));
  for (const [index, c] of toolCalls.entries()) {
    events.push(
      chunk(
        {
          tool_calls: [
            { index, id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } },
          ],
        },
        null,
      ),
    );
  }
  events.push(chunk({}, finish, { usage }));
  sendSse(res, [...events, { data: '[DONE]' }]);
}

export function startFakeOpenAI(script: Script, opts: FakeOpenAIOptions = {}): Promise<FakeServer> {
  const models = opts.models ?? ['gpt-5.4-mini'];
  const info = (id: string) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'fake' });
  return startFakeServer(
    {
      callPath: '/v1/chat/completions',
      errorBody: (status) => openaiError(status),
      reply,
      other: (req, res) => {
        if (req.method === 'GET' && req.path === '/v1/models') {
          sendJson(res, 200, { object: 'list', data: models.map(info) });
          return true;
        }
        const m = /^\/v1\/models\/(.+)$/.exec(req.path);
        if (req.method === 'GET' && m) {
          const id = decodeURIComponent(m[1]!);
          if (models.includes(id)) sendJson(res, 200, info(id));
          else sendJson(res, 404, openaiError(404, `The model '${id}' does not exist`));
          return true;
        }
        return false;
      },
    },
    script,
    opts.fallback,
  );
}
