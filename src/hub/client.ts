/**
 * HubClient: what a contributor's machine uses to talk to a hub (fetch-based). Contract: no method
 * throws for an expected failure; each returns a value with a `kind`: `ok`, `refused` (the hub
 * answered 4xx: the request itself is wrong, retrying will not help) or `unreachable` (network
 * error, timeout, 5xx or 429 after the retries). `postResult` gives every result an id before
 * its first attempt, so retries and the offline queue never duplicate it on the hub.
 */
import { randomUUID } from 'node:crypto';
import { OfflineQueue } from './offline-queue.js';
import type { HubResultRow } from './recent.js';
import type { HubSummary } from './summary.js';
import type { WorkItem } from './work.js';
import type { Platform } from './wire.js';

export type HubReply<T> =
  | { kind: 'ok'; status: number; value: T }
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'unreachable'; message: string };

export type PostOutcome =
  | { kind: 'posted'; id: string; duplicate: boolean; verification: string | null }
  | { kind: 'queued'; id: string; message: string }
  | { kind: 'refused'; id: string; status: number; message: string }
  | { kind: 'unreachable'; id: string; message: string };

export interface HubClientOptions {
  /** The hub's base URL, e.g. http://127.0.0.1:8787. */
  url: string;
  token: string;
  /** Where results are kept while the hub is unreachable; without it they are not kept. */
  queueFile?: string;
  /** Attempts per request (default 4), backoff base in ms (default 250, doubled each time). */
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export interface ResultInput {
  id?: string;
  workId?: number;
  parent: string;
  commit: string;
  diff: string;
  value: number | null;
  status: 'keep' | 'discard' | 'crash' | 'timeout' | 'rejected' | 'baseline';
  description?: string;
  platform: Platform;
}

/** Splits a study URL (…/studies/<id>) into the hub's base URL and the study id. */
export function parseStudyUrl(url: string): { base: string; studyId: string } | null {
  const m = /^(https?:\/\/[^/]+(?:\/.*?)?)\/studies\/([0-9a-f-]{36})\/?$/i.exec(url.trim());
  return m ? { base: m[1]!, studyId: m[2]!.toLowerCase() } : null;
}

export class HubClient {
  private readonly base: string;
  private readonly queue: OfflineQueue | null;
  private readonly doFetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: HubClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.queue = opts.queueFile ? new OfflineQueue(opts.queueFile) : null;
    this.doFetch = opts.fetch ?? fetch;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** One request with retries on network errors, timeouts, 5xx and 429 (Retry-After honoured). */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<HubReply<T>> {
    const attempts = this.opts.attempts ?? 4;
    let last = '';
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await this.sleep((this.opts.backoffMs ?? 250) * 2 ** (i - 1));
      let res: Response;
      try {
        res = await this.doFetch(`${this.base}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.opts.token}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
        });
      } catch (err) {
        last = `${this.base} unreachable: ${(err as Error).cause ?? (err as Error).message}`;
        continue;
      }
      const text = await res.text().catch(() => '');
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      if (res.ok) return { kind: 'ok', status: res.status, value: (json ?? text) as T };
      const message = (json as { error?: string } | null)?.error ?? `HTTP ${res.status}`;
      if (res.status === 429 || res.status >= 500) {
        last = `hub answered ${res.status}: ${message}`;
        const wait = Number(res.headers.get('retry-after'));
        if (res.status === 429 && wait > 0) await this.sleep(Math.min(wait, 60) * 1000);
        continue;
      }
      return { kind: 'refused', status: res.status, message };
    }
    return { kind: 'unreachable', message: last };
  }

  /** Posts a result; when the hub is unreachable it is queued (with a queue file) for `flush`. */
  async postResult(studyId: string, input: ResultInput): Promise<PostOutcome> {
    const body = { ...input, id: input.id ?? `r-${randomUUID()}`, description: input.description ?? '' };
    const r = await this.sendResult(studyId, body);
    if (r.kind !== 'unreachable' || !this.queue) return r;
    this.queue.add({ studyId, body, queuedAt: Date.now() });
    return { kind: 'queued', id: body.id, message: r.message };
  }

  /** Posts queued results in order; stops at the first that cannot reach the hub. */
  async flush(): Promise<{ posted: number; refused: PostOutcome[]; remaining: number; workIds: number[] }> {
    if (!this.queue) return { posted: 0, refused: [], remaining: 0, workIds: [] };
    const done = new Set<string>();
    const workIds: number[] = [];
    const refused: PostOutcome[] = [];
    let posted = 0;
    for (const q of this.queue.list()) {
      const r = await this.sendResult(q.studyId, q.body);
      if (r.kind === 'unreachable') break;
      done.add(q.body.id);
      if (typeof q.body.workId === 'number') workIds.push(q.body.workId);
      if (r.kind === 'posted') posted++;
      else refused.push(r);
    }
    this.queue.remove(done);
    return { posted, refused, remaining: this.queue.list().length, workIds };
  }

  pending(): number {
    return this.queue?.list().length ?? 0;
  }

  private async sendResult(studyId: string, body: { id: string } & Record<string, unknown>): Promise<PostOutcome> {
    const r = await this.request<{ duplicate: boolean; verification: string | null }>(
      'POST',
      `/studies/${studyId}/results`,
      body,
    );
    if (r.kind === 'ok')
      return { kind: 'posted', id: body.id, duplicate: r.value.duplicate, verification: r.value.verification };
    if (r.kind === 'refused') return { kind: 'refused', id: body.id, status: r.status, message: r.message };
    return { kind: 'unreachable', id: body.id, message: r.message };
  }

  async getWork(studyId: string, platform: Platform): Promise<HubReply<WorkItem | null>> {
    const r = await this.request<{ work: WorkItem | null }>('POST', `/studies/${studyId}/work`, { platform });
    return r.kind === 'ok' ? { ...r, value: r.value.work } : r;
  }

  heartbeat(studyId: string, workId: number): Promise<HubReply<{ leaseExpiresAt: number }>> {
    return this.request('POST', `/studies/${studyId}/work/${workId}/heartbeat`, {});
  }

  publish(study: {
    name: string;
    metric: string;
    direction: 'minimize' | 'maximize';
    tolerance: number;
    baselineCommit: string;
    bundle: Buffer;
    config: string;
    program: string;
  }): Promise<HubReply<{ id: string; url: string }>> {
    const { bundle, ...rest } = study;
    return this.request('POST', '/studies', { ...rest, bundleBase64: bundle.toString('base64') });
  }

  /** The study owner queues an experiment (403 for anyone else). */
  queueExperiment(studyId: string, body: { parent: string; diff: string; description: string; platform?: Platform }) {
    return this.request<{ workId: number }>('POST', `/studies/${studyId}/queue`, body);
  }

  study(studyId: string) {
    return this.request<Record<string, unknown>>('GET', `/studies/${studyId}`);
  }

  async bundle(studyId: string): Promise<HubReply<Buffer>> {
    try {
      const res = await this.doFetch(`${this.base}/studies/${studyId}/bundle`, {
        headers: { authorization: `Bearer ${this.opts.token}` },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 120_000),
      });
      if (!res.ok) {
        const j = (await res.json().catch(() => null)) as { error?: string } | null;
        return { kind: 'refused', status: res.status, message: j?.error ?? `HTTP ${res.status}` };
      }
      return { kind: 'ok', status: res.status, value: Buffer.from(await res.arrayBuffer()) };
    } catch (err) {
      return { kind: 'unreachable', message: `${this.base} unreachable: ${(err as Error).message}` };
    }
  }

  frontier(studyId: string) {
    return this.request<{ platforms: unknown[] }>('GET', `/studies/${studyId}/frontier`);
  }
  leaves(studyId: string) {
    return this.request<{ leaves: unknown[] }>('GET', `/studies/${studyId}/leaves`);
  }
  children(studyId: string, commit: string) {
    return this.request<{ children: unknown[] }>('GET', `/studies/${studyId}/commits/${commit}/children`);
  }
  tried(studyId: string, from: string) {
    return this.request<{ results: unknown[]; pending: unknown[] }>('GET', `/studies/${studyId}/tried?from=${from}`);
  }
  /** The study across contributors (`status --hub`, the dashboard); `recent` results (1-1000, default 20). */
  summary(studyId: string, recent?: number) {
    return this.request<HubSummary>('GET', `/studies/${studyId}/summary${recent ? `?recent=${recent}` : ''}`);
  }
  /** The results table, newest first (`limit` 1-1000, default 100), of every platform or one (its key). */
  results(studyId: string, opts: { limit?: number; platformKey?: string } = {}) {
    const q = new URLSearchParams();
    if (opts.limit !== undefined) q.set('limit', String(opts.limit));
    if (opts.platformKey !== undefined) q.set('platform', opts.platformKey);
    const qs = q.toString();
    return this.request<{ results: HubResultRow[] }>('GET', `/studies/${studyId}/results${qs ? `?${qs}` : ''}`);
  }
  contributors(studyId: string) {
    return this.request<{ contributors: unknown[] }>('GET', `/studies/${studyId}/contributors`);
  }
  notes(studyId: string, commit?: string) {
    return this.request<{ notes: Array<{ contributor: string; text: string }> }>(
      'GET',
      `/studies/${studyId}/notes${commit ? `?commit=${commit}` : ''}`,
    );
  }
  postNote(studyId: string, note: { text: string; commit?: string; key?: string }) {
    return this.request<{ id: number; duplicate: boolean }>('POST', `/studies/${studyId}/notes`, {
      key: note.key ?? randomUUID(),
      ...note,
    });
  }
}
