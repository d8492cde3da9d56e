/**
 * A ledger that waits for its server: every call that fails because the server can't be reached
 * (`LedgerUnreachableError`: PostgreSQL down, the network cut) is tried again, after a pause that
 * grows from 0.25 s to at most 5 s, until the server answers; the caller just waits. Used by
 * `run` on a shared ledger, so that a host cut off from the database pauses instead of crashing,
 * and goes on where it was once the database is back (../loop/lease-keeper.ts stops its runs
 * meanwhile, before other hosts take them over).
 *
 * Writes that may have landed before the connection broke are settled before they are tried
 * again (a retry never records twice): a finish or keep is looked up (this very result, by its
 * end time, is returned as written), a new experiment is looked for by its start time, proposer,
 * parent and host. The other writes are idempotent (patches, upserts, leases).
 *
 * Contract: same as the wrapped `Ledger`, except that unreachable-server failures never reach
 * the caller while `signal` is live (they do once it aborts: Ctrl-C stops the wait). `onDown` is
 * called once when an outage starts (with the first failure's message), `onUp` once when the
 * ledger answers again (with how long it was down). Other errors pass through unchanged.
 */
import type {
  Experiment,
  ExperimentPatch,
  ExperimentResult,
  KeepOutcome,
  Ledger,
  NewExperiment,
  NoiseFloor,
  Study,
  StudyRecord,
  StudySpec,
} from './types.js';
import { LedgerUnreachableError } from './types.js';

export interface WaitingOptions {
  signal: AbortSignal;
  onDown(reason: string): void;
  onUp(downMs: number): void;
  /** The pause before the n-th retry (n >= 1); default 0.25 s doubling, at most 5 s. */
  retryMs?: (n: number) => number;
}

export const RETRY_MAX_MS = 5000;

export function retryPauseMs(n: number): number {
  return Math.min(RETRY_MAX_MS, 250 * 2 ** Math.min(Math.max(0, n - 1), 10));
}

export class WaitingLedger implements Ledger {
  private downSince: number | null = null;

  constructor(
    private readonly inner: Ledger,
    private readonly opts: WaitingOptions,
  ) {}

  openStudy(spec: StudySpec): Promise<Study> {
    return this.retry(() => this.inner.openStudy(spec));
  }
  getStudy(tag: string): Promise<Study | null> {
    return this.retry(() => this.inner.getStudy(tag));
  }
  setStudyNoise(studyId: number, noise: NoiseFloor): Promise<Study> {
    return this.retry(() => this.inner.setStudyNoise(studyId, noise));
  }
  listStudies(): Promise<Study[]> {
    return this.retry(() => this.inner.listStudies());
  }

  createExperiment(studyId: number, e: NewExperiment): Promise<Experiment> {
    const spec = { ...e, startedAt: e.startedAt ?? Date.now() };
    return this.retry(
      () => this.inner.createExperiment(studyId, spec),
      async () =>
        (await this.inner.listExperiments(studyId)).find(
          (x) =>
            x.startedAt === spec.startedAt &&
            x.proposer === spec.proposer &&
            x.parentCommit === spec.parentCommit &&
            x.baseline === spec.baseline &&
            x.host === (spec.lease?.host ?? null),
        ),
    );
  }

  updateExperiment(id: number, patch: ExperimentPatch): Promise<Experiment> {
    return this.retry(() => this.inner.updateExperiment(id, patch));
  }

  finishExperiment(id: number, result: ExperimentResult, holder?: string): Promise<Experiment> {
    const r = { ...result, endedAt: result.endedAt ?? Date.now() };
    return this.retry(
      () => this.inner.finishExperiment(id, r, holder),
      async () => {
        const e = await this.inner.getExperiment(id);
        return e && e.status === r.status && e.endedAt === r.endedAt ? e : undefined;
      },
    );
  }

  keepIfBest(
    id: number,
    result: Omit<ExperimentResult, 'status'>,
    expectBest: string | null,
    holder?: string,
  ): Promise<KeepOutcome> {
    const r = { ...result, endedAt: result.endedAt ?? Date.now() };
    return this.retry(
      () => this.inner.keepIfBest(id, r, expectBest, holder),
      async (): Promise<KeepOutcome | undefined> => {
        const e = await this.inner.getExperiment(id);
        if (e?.status !== 'keep' || e.endedAt !== r.endedAt) return undefined;
        const study = (await this.inner.listStudies()).find((s) => s.id === e.studyId);
        return study ? { kind: 'kept', experiment: e, study } : undefined;
      },
    );
  }

  claimExperiment(id: number, host: string, leaseMs: number): Promise<Experiment | null> {
    return this.retry(() => this.inner.claimExperiment(id, host, leaseMs));
  }
  renewLeases(studyId: number, host: string, leaseMs: number): Promise<number[]> {
    return this.retry(() => this.inner.renewLeases(studyId, host, leaseMs));
  }
  getExperiment(id: number): Promise<Experiment | null> {
    return this.retry(() => this.inner.getExperiment(id));
  }
  listExperiments(studyId: number): Promise<Experiment[]> {
    return this.retry(() => this.inner.listExperiments(studyId));
  }
  putRecord(studyId: number, kind: string, key: string, value: unknown): Promise<StudyRecord> {
    return this.retry(() => this.inner.putRecord(studyId, kind, key, value));
  }
  getRecord(studyId: number, kind: string, key: string): Promise<StudyRecord | null> {
    return this.retry(() => this.inner.getRecord(studyId, kind, key));
  }
  listRecords(studyId: number, kind: string): Promise<StudyRecord[]> {
    return this.retry(() => this.inner.listRecords(studyId, kind));
  }
  deleteRecord(studyId: number, kind: string, key: string): Promise<boolean> {
    return this.retry(() => this.inner.deleteRecord(studyId, kind, key));
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  /**
   * Runs `call` until it gets through. `settle` (for writes that are not idempotent) runs before
   * each retry: when it finds the write already done, that is the answer.
   */
  private async retry<T>(call: () => Promise<T>, settle?: () => Promise<T | undefined>): Promise<T> {
    let failures = 0;
    for (;;) {
      try {
        const landed = failures > 0 && settle ? await settle() : undefined;
        const out = landed !== undefined ? landed : await call();
        this.up();
        return out;
      } catch (err) {
        if (!(err instanceof LedgerUnreachableError) || this.opts.signal.aborted) throw err;
        this.down(err.message);
        failures++;
        if (!(await sleep((this.opts.retryMs ?? retryPauseMs)(failures), this.opts.signal))) throw err;
      }
    }
  }

  private down(reason: string): void {
    if (this.downSince !== null) return;
    this.downSince = Date.now();
    this.opts.onDown(reason);
  }

  private up(): void {
    if (this.downSince === null) return;
    const ms = Date.now() - this.downSince;
    this.downSince = null;
    this.opts.onUp(ms);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
