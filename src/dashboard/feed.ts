/**
 * The dashboard's live feed: snapshots of the study, pushed to subscribers when something
 * changed. Two sources, one output:
 * - in-process: `publish(event)` with the study's own `StudyEvent`s (`run --dashboard`): the
 *   event is forwarded as it is, and the snapshot is refreshed at once;
 * - another process (the usual `run` in one terminal, `dashboard` in another): the ledger is
 *   polled every `pollMs` and a snapshot is pushed when its fingerprint changed.
 *
 * Contract: never writes to the ledger; `refresh()` never throws (a failed read is kept as
 * `error` and retried on the next poll); subscribers get messages in order; `stop()` ends polling.
 */
import { join } from 'node:path';
import type { Ledger } from '../ledger/types.js';
import type { StudyEvent } from '../loop/events.js';
import { liveLockHolder, studyLockPath } from '../loop/lock.js';
import { STATE_DIR } from '../workspace/workspace.js';
import { readRunLimits } from './run-limits.js';
import { buildSnapshot, fingerprint, type DashboardSnapshot, type RunLimits } from './snapshot.js';

export type FeedMessage =
  | { kind: 'snapshot'; snapshot: DashboardSnapshot }
  | { kind: 'waiting'; message: string }
  | { kind: 'event'; event: StudyEvent };

export interface FeedOptions {
  ledger: Ledger;
  tag: string;
  /** Workspace root (to see whether a `run` holds the study lock). */
  root: string;
  pollMs?: number;
  now?: () => number;
}

export class LiveFeed {
  private readonly subscribers = new Set<(m: FeedMessage) => void>();
  private last: FeedMessage | null = null;
  private lastPrint = '';
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private limits: RunLimits | null = null;
  private inProcessLive: { pid: number; since: number } | null = null;
  private refreshing: Promise<void> | null = null;
  error: string | null = null;

  constructor(private readonly opts: FeedOptions) {}

  /**
   * Polls until `stop()`. The next poll waits `pollMs`, or 4x the last read's duration when that
   * is longer, so a large ledger on a busy machine costs at most ~20% of a core.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async () => {
      const t = Date.now();
      await this.refresh();
      if (!this.running) return;
      const delay = Math.max(this.opts.pollMs ?? 1000, 4 * (Date.now() - t));
      this.timer = setTimeout(loop, delay);
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

  /** Subscribes; the latest state is delivered at once. Returns the unsubscribe function. */
  subscribe(fn: (m: FeedMessage) => void): () => void {
    this.subscribers.add(fn);
    if (this.last) fn(this.last);
    return () => this.subscribers.delete(fn);
  }

  /** The latest snapshot or waiting message (refreshing first when there is none yet). */
  async current(): Promise<FeedMessage> {
    if (!this.last) await this.refresh();
    return this.last ?? { kind: 'waiting', message: this.error ?? 'loading' };
  }

  /** An event of a study running in this process: forwarded, then the snapshot is refreshed. */
  publish(event: StudyEvent): void {
    if (event.type === 'study-started') {
      this.limits = { maxExperiments: event.maxExperiments, maxHours: event.maxHours, since: event.t };
      this.inProcessLive = { pid: process.pid, since: event.t };
    }
    if (event.type === 'study-stopped') this.inProcessLive = null;
    this.broadcast({ kind: 'event', event });
    void this.refresh(true);
  }

  /** Reads the ledger; pushes a snapshot when something changed (or when `force`). */
  refresh(force = false): Promise<void> {
    if (this.refreshing) {
      if (!force) return this.refreshing;
      return this.refreshing.then(() => this.refresh());
    }
    this.refreshing = this.read(force).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async read(force: boolean): Promise<void> {
    const { ledger, tag, root } = this.opts;
    try {
      const study = await ledger.getStudy(tag);
      if (!study) {
        const message = `waiting for study "${tag}" to start (autoresearch run)`;
        if (this.last?.kind !== 'waiting') this.broadcast({ kind: 'waiting', message });
        this.lastPrint = '';
        return;
      }
      const all = await ledger.listExperiments(study.id);
      const holder = liveLockHolder(studyLockPath(join(root, STATE_DIR), tag));
      const live = this.inProcessLive ?? (holder ? { pid: holder.pid, since: holder.startedAt } : null);
      if (!live) this.limits = null;
      else if (!this.inProcessLive && holder) this.limits = await readRunLimits(ledger, study.id, holder.pid);
      const print = fingerprint(study, all, live);
      this.error = null;
      if (!force && print === this.lastPrint && this.last) return;
      this.lastPrint = print;
      const now = (this.opts.now ?? Date.now)();
      this.broadcast({ kind: 'snapshot', snapshot: buildSnapshot(study, all, live, now, this.limits) });
    } catch (err) {
      this.error = `cannot read the ledger: ${(err as Error).message}`;
    }
  }

  private broadcast(m: FeedMessage): void {
    if (m.kind !== 'event') this.last = m;
    for (const fn of this.subscribers) {
      try {
        fn(m);
      } catch {
        // a closed connection; its stream unsubscribes itself
      }
    }
  }
}
