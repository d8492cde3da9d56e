/**
 * Test support: the HTTP core shared by the fake Anthropic and OpenAI servers: an in-process
 * node:http server on 127.0.0.1 (random port) that records every request and answers the
 * model-call route from a script (a list of replies, consumed in order; or a function).
 *
 * Each API file (fake-anthropic.ts, fake-openai.ts) turns a neutral `FakeReply` into its exact
 * wire format (JSON, or SSE when the request asks to stream).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeToolCall {
  name: string;
  /** Arguments as an object... */
  input?: unknown;
  /** ...or raw argument text, sent as is (OpenAI: may be invalid JSON). */
  rawArguments?: string;
  id?: string;
}

export type FakeReply =
  | { text?: string; toolCalls?: FakeToolCall[]; usage?: { input: number; output: number }; stopReason?: string }
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: a test server's view of any JSON request body
  body: any;
  raw: string;
}

export type Script = FakeReply[] | ((req: RecordedRequest, index: number) => FakeReply);

export interface FakeServer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  requests: RecordedRequest[];
  /** Model-call requests only. */
  calls: () => RecordedRequest[];
  close: () => Promise<void>;
}

export interface Api {
  /** Route of the model call, e.g. "/v1/messages". */
  callPath: string;
  /** Answers other routes (models list, ...) or returns false. */
  other: (req: RecordedRequest, res: ServerResponse) => boolean;
  /** Writes a scripted reply in the API's wire format. */
  reply: (
    req: RecordedRequest,
    reply: Exclude<FakeReply, { status: number } | { hang: true }>,
    res: ServerResponse,
  ) => void;
  /** Body of an error reply when the script gives no body. */
  errorBody: (status: number) => unknown;
}

export async function startFakeServer(
  api: Api,
  script: Script,
  fallback?: (req: RecordedRequest) => FakeReply,
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let next = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = raw;
      }
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0]!,
        headers: req.headers,
        body,
        raw,
      };
      requests.push(rec);
      if (rec.method === 'POST' && rec.path === api.callPath) {
        const index = next++;
        const reply =
          typeof script === 'function'
            ? script(rec, index)
            : (script[index] ?? fallback?.(rec) ?? { status: 500, body: api.errorBody(500) });
        if ('hang' in reply) return; // never answer; the socket is destroyed on close
        if ('status' in reply) {
          res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
          res.end(JSON.stringify(reply.body ?? api.errorBody(reply.status)));
          return;
        }
        api.reply(rec, reply, res);
        return;
      }
      if (api.other(rec, res)) return;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(api.errorBody(404)));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    calls: () => requests.filter((r) => r.method === 'POST' && r.path === api.callPath),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Writes Server-Sent Events, one `event:`/`data:` pair each. */
export function sendSse(res: ServerResponse, events: { event?: string; data: unknown }[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (const e of events)
    res.write(
      `${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`,
    );
  res.end();
}

/** A URL on 127.0.0.1 where nothing listens (a port just released). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
