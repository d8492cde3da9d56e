/**
 * Experiments the study owner queued (`autoresearch hub queue`) that this contributor holds: the
 * verifier's "give me work" (./verifier.ts) hands them here, the hub proposer
 * (./hub-proposer.ts) takes the next one as its proposal, and the poster (./poster.ts) releases
 * it once its result went to the hub (or was refused). Every held item's lease is extended by a
 * heartbeat while it waits, is proposed and runs (and again when a killed run is resumed: `hold`);
 * a heartbeat the hub answers "not yours" (the lease expired and went to someone else) drops it
 * with a notice.
 *
 * Contract: never throws; timers are unref'd (they never keep the process alive); `stop` ends
 * every heartbeat (what was not posted then is left to its lease, which expires and goes to the
 * next contributor).
 */
import type { HubClient } from './client.js';
import type { WorkItem } from './work.js';

export interface WorkDeskDeps {
  client: Pick<HubClient, 'heartbeat'>;
  studyId: string;
  /** Heartbeat period (ms); default a third of the lease left, between 1 s and 60 s. */
  heartbeatMs?: number;
  notice: (level: 'info' | 'warn', message: string) => void;
}

export class WorkDesk {
  private readonly inbox: WorkItem[] = [];
  private readonly beats = new Map<number, ReturnType<typeof setInterval>>();

  constructor(private readonly deps: WorkDeskDeps) {}

  /** An owner-queued experiment the hub handed to this contributor: held (heartbeats) until released. */
  offer(item: WorkItem): void {
    if (this.beats.has(item.id)) return;
    this.inbox.push(item);
    this.hold(item.id, item.leaseExpiresAt - Date.now());
  }

  /**
   * Heartbeats only, for work already proposed: an owner-queued experiment a run killed left
   * `running`, resumed by this run (the poster finds it at the start and releases it when posted).
   * `leftMs`: the lease left, when known (sets the period); default a one-minute period.
   */
  hold(workId: number, leftMs = 180_000): void {
    if (this.beats.has(workId)) return;
    const period = this.deps.heartbeatMs ?? Math.min(60_000, Math.max(1000, leftMs / 3));
    const timer = setInterval(() => void this.beat(workId), period);
    timer.unref();
    this.beats.set(workId, timer);
  }

  /** The next held experiment not yet proposed, if any. */
  next(): WorkItem | undefined {
    return this.inbox.shift();
  }

  /** Held experiments not yet proposed. */
  waiting(): number {
    return this.inbox.length;
  }

  /** Its result reached the hub (or never will): no more heartbeats. */
  release(workId: number): void {
    const t = this.beats.get(workId);
    if (t) clearInterval(t);
    this.beats.delete(workId);
    const i = this.inbox.findIndex((w) => w.id === workId);
    if (i >= 0) this.inbox.splice(i, 1);
  }

  stop(): void {
    for (const id of [...this.beats.keys()]) this.release(id);
    this.inbox.length = 0;
  }

  private async beat(workId: number): Promise<void> {
    const r = await this.deps.client.heartbeat(this.deps.studyId, workId);
    if (r.kind === 'refused' && this.beats.has(workId)) {
      this.release(workId);
      this.deps.notice('warn', `hub: lost the lease on queued work #${workId}: ${r.message}`);
    }
  }
}
