/**
 * The dashboard's hub feed: polls a hub study's summary (GET /studies/:id/summary) and pushes it
 * to subscribers when it changed, so the page shows the study across contributors live. The
 * dashboard server holds the token (in its HubClient); the page only ever sees the summary, the
 * study URL and error text, never the token.
 *
 * Contract: never throws from polling; a failed poll keeps the last summary and adds `error`
 * (what to do, from `describe`); the next poll retries. Messages reach subscribers in order;
 * `stop()` ends polling.
 */
import type { HubClient, HubReply } from '../hub/client.js';
import type { HubSummary } from '../hub/summary.js';

export interface HubFeedMessage {
  kind: 'hub';
  /** The study's URL on the hub (no token in it). */
  url: string;
  summary: HubSummary | null;
  /** Why the last poll failed (the summary shown is the last one read), or null. */
  error: string | null;
}

export interface HubFeedOptions {
  client: HubClient;
  studyId: string;
  studyUrl: string;
  pollMs?: number;
  /** How many recent results the page lists (default 30). */
  recent?: number;
  /** One line saying what went wrong and what to do (the CLI's wording). */
  describe: (failure: Exclude<HubReply<unknown>, { kind: 'ok' }>) => string;
}

export class HubFeed {
  private readonly subscribers = new Set<(m: HubFeedMessage) => void>();
  private last: HubFeedMessage | null = null;
  private lastText = '';
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly opts: HubFeedOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async () => {
      const t = Date.now();
      await this.refresh();
      if (!this.running) return;
      // A large study makes each read slower (~1.8 s at 100,000 results on a busy 2-core machine):
      // then the next poll waits 4x the read, so one watcher costs the hub at most ~20% of a core.
      this.timer = setTimeout(loop, Math.max(this.opts.pollMs ?? 2000, 4 * (Date.now() - t)));
      this.timer.unref();
    };
    void loop();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.subscribers.clear();
  }

  subscribe(fn: (m: HubFeedMessage) => void): () => void {
    this.subscribers.add(fn);
    if (this.last) fn(this.last);
    return () => this.subscribers.delete(fn);
  }

  async current(): Promise<HubFeedMessage> {
    if (!this.last) await this.refresh();
    return this.last!;
  }

  /** Reads the summary once; pushes a message when the summary or the error changed. */
  async refresh(): Promise<void> {
    const r = await this.opts.client.summary(this.opts.studyId, this.opts.recent ?? 30);
    const m: HubFeedMessage =
      r.kind === 'ok'
        ? { kind: 'hub', url: this.opts.studyUrl, summary: r.value, error: null }
        : { kind: 'hub', url: this.opts.studyUrl, summary: this.last?.summary ?? null, error: this.opts.describe(r) };
    // The hub's clock moves every read: compare without it.
    const text = JSON.stringify({ ...m, summary: m.summary ? { ...m.summary, now: 0 } : null });
    if (text === this.lastText && this.last) return;
    this.lastText = text;
    this.last = m;
    for (const fn of this.subscribers) {
      try {
        fn(m);
      } catch {
        // a closed connection; its stream unsubscribes itself
      }
    }
  }
}
