/**
 * Posts a contributor's decided experiments to its hub study: an event-stream consumer (it reads
 * `study-started` and `experiment-finished`, then the experiment from the local ledger), so the
 * loop knows nothing of the hub.
 *
 * - Every decided experiment that made a commit is posted (the baseline as `baseline`); one that
 *   never made a commit (a rejected proposal, a conflict) has nothing to show on the tree and is
 *   not posted.
 * - Each result's id is derived from (hub study, local study tag, experiment number, host), so a
 *   re-post after a crash or a restart is recognised by the hub as the same result. What the hub
 *   acknowledged is recorded in the local ledger (a `hub-posted` study record per experiment); at
 *   `study-started` every decided experiment without one is posted (a kill -9 between the ledger
 *   write and the post, or between the post and its record, loses nothing and duplicates nothing).
 * - An unreachable hub is a `notice`, never a stop: the result goes to the offline queue file and
 *   is flushed before the next post.
 *
 * Contract: `onEvent` never throws and never blocks (posts run one at a time, in order, in the
 * background); `drain` waits for them.
 */
import { createHash } from 'node:crypto';
import type { StudyEvent } from '../loop/events.js';
import type { Experiment, Ledger } from '../ledger/types.js';
import type { HubClient, ResultInput } from './client.js';
import { queuedChangeOf } from './hub-proposer.js';
import { HUB_PROPOSER } from './import-best.js';
import type { Platform } from './wire.js';

export interface HubPosterDeps {
  client: HubClient;
  studyId: string;
  ledger: Ledger;
  tag: string;
  host: string;
  platform: Platform;
  warn: (message: string) => void;
  /** Called once an owner-queued experiment's result reached the hub or was refused (stops its heartbeats). */
  workDone?: (workId: number) => void;
  /** Called at the start for each owner-queued experiment still running (resumed: heartbeats again). */
  workResumed?: (workId: number) => void;
}

/** The result id of one local experiment: stable across restarts, distinct across hosts. */
export function resultIdFor(studyId: string, tag: string, number: number, host: string): string {
  return `x-${createHash('sha256').update(`${studyId}\0${tag}\0${number}\0${host}`).digest('hex').slice(0, 40)}`;
}

export function toResult(deps: Pick<HubPosterDeps, 'studyId' | 'tag' | 'host' | 'platform'>, e: Experiment) {
  const work = queuedChangeOf(e.change);
  if (work) return e.status === 'running' ? null : queuedResult(deps, e, work);
  // The baseline ran its parent as it is: its commit is the parent (the ledger leaves it null).
  const commit = e.baseline ? (e.commit ?? e.parentCommit) : e.commit;
  // An imported keep (./import-best.ts) is the hub's own node: not posted back.
  if (e.status === 'running' || e.status === 'conflict' || !commit || e.proposer === HUB_PROPOSER) return null;
  const input: ResultInput = {
    id: resultIdFor(deps.studyId, deps.tag, e.number, deps.host),
    parent: e.parentCommit,
    commit,
    diff: e.baseline ? '' : e.diff,
    value: e.value !== null && Number.isFinite(e.value) ? e.value : null,
    status: e.baseline ? 'baseline' : e.status,
    description: (e.baseline ? 'baseline' : e.description).slice(0, 2000),
    platform: deps.platform,
  };
  return input;
}

/**
 * The result of an owner-queued experiment, for its work: on the work's parent (the hub refuses
 * another). Run on a commit with its parent's tree, it is a result like any (a keep is a claim);
 * moved onto another best, its value was measured there: posted as no claim (a keep is posted as
 * `discard`, the description says where it ran). Never run (rejected by the guard, a conflict):
 * `rejected`, no value, the parent as its commit.
 */
function queuedResult(
  deps: Pick<HubPosterDeps, 'studyId' | 'tag' | 'host' | 'platform'>,
  e: Experiment,
  work: NonNullable<ReturnType<typeof queuedChangeOf>>,
): ResultInput {
  const base = {
    id: resultIdFor(deps.studyId, deps.tag, e.number, deps.host),
    workId: work.id,
    parent: work.parent,
    platform: deps.platform,
  };
  if (!e.commit || e.status === 'conflict' || e.status === 'rejected')
    return {
      ...base,
      commit: work.parent,
      diff: work.diff,
      value: null,
      status: 'rejected',
      // a failed proposal's description and reason both name the work already: said once
      description: (e.description.startsWith('proposal failed')
        ? `${e.status}: ${e.reason}`
        : `${e.description}: ${e.status}: ${e.reason}`
      ).slice(0, 2000),
    };
  const value = e.value !== null && Number.isFinite(e.value) ? e.value : null;
  const onParent = work.onParentTree && e.parentCommit === work.placedOn;
  if (onParent)
    return {
      ...base,
      commit: e.commit,
      diff: e.diff,
      value,
      status: e.status as ResultInput['status'],
      description: e.description.slice(0, 2000),
    };
  return {
    ...base,
    commit: e.commit,
    diff: work.diff,
    value,
    status: e.status === 'keep' ? 'discard' : (e.status as ResultInput['status']),
    description:
      `${e.description} [${e.status}, run on this contributor's best ${e.parentCommit.slice(0, 7)}, not on ${work.parent.slice(0, 7)}: no claim]`.slice(
        0,
        2000,
      ),
  };
}

/**
 * The parent to post for `e`: a local commit made by importing the hub's verified best
 * (./import-best.ts) is unknown to the hub, whose node for that tree is the commit it stands for
 * (`change.hubCommit`); posting that one lets other contributors rebuild the result (the diff is
 * the same: the imported commit has the hub commit's tree). Any other parent is posted as it is.
 */
export function hubParentOf(e: Pick<Experiment, 'parentCommit'>, experiments: readonly Experiment[]): string {
  const imported = experiments.find((x) => x.commit === e.parentCommit && x.proposer === HUB_PROPOSER);
  const hubCommit = (imported?.change as { hubCommit?: unknown } | null | undefined)?.hubCommit;
  return typeof hubCommit === 'string' && /^[0-9a-f]{40,64}$/.test(hubCommit) ? hubCommit : e.parentCommit;
}

/** Study record kind: experiment numbers the hub acknowledged (key = the number). */
export const POSTED = 'hub-posted';

export class HubPoster {
  private chain: Promise<void> = Promise.resolve();
  private studyNumericId: number | null = null;
  private unreachable = false;
  /** Results the hub took (new or duplicate), refused, or queued, for the report and tests. */
  readonly counts = { posted: 0, duplicate: 0, queued: 0, refused: 0 };

  constructor(private readonly deps: HubPosterDeps) {}

  onEvent(e: StudyEvent): void {
    if (e.type === 'study-started') this.enqueue(() => this.catchUp());
    if (e.type === 'experiment-finished') {
      const n = e.number;
      this.enqueue(() => this.postNumber(n));
    }
  }

  /** Waits for every post so far (then tries the offline queue once more). */
  async drain(): Promise<void> {
    this.enqueue(() => this.flush());
    await this.chain;
  }

  private enqueue(job: () => Promise<void>): void {
    this.chain = this.chain.then(job).catch((err) => this.deps.warn(`hub: ${(err as Error).message}`));
  }

  private async studyId(): Promise<number | null> {
    if (this.studyNumericId === null)
      this.studyNumericId = (await this.deps.ledger.getStudy(this.deps.tag))?.id ?? null;
    return this.studyNumericId;
  }

  private async catchUp(): Promise<void> {
    const id = await this.studyId();
    if (id === null) return;
    await this.flush();
    const done = new Set((await this.deps.ledger.listRecords(id, POSTED)).map((r) => r.key));
    for (const e of await this.deps.ledger.listExperiments(id)) {
      const work = e.status === 'running' ? queuedChangeOf(e.change) : null;
      if (work) this.deps.workResumed?.(work.id);
      else if (!done.has(String(e.number))) await this.post(e);
    }
  }

  private async postNumber(n: number): Promise<void> {
    const id = await this.studyId();
    if (id === null) return;
    const e = (await this.deps.ledger.listExperiments(id)).find((x) => x.number === n);
    if (!e) return;
    await this.flush();
    await this.post(e);
  }

  private async flush(): Promise<void> {
    if (this.deps.client.pending() === 0) return;
    const r = await this.deps.client.flush();
    for (const w of r.workIds) this.deps.workDone?.(w);
    for (const x of r.refused) this.refused(x.id, 'message' in x ? x.message : '');
    this.counts.posted += r.posted;
    if (r.posted > 0) {
      this.unreachable = r.remaining > 0;
      this.deps.warn(`hub reachable again: ${r.posted} queued result(s) posted, ${r.remaining} left`);
    }
  }

  private async post(e: Experiment): Promise<void> {
    const input = toResult(this.deps, e);
    if (!input) return;
    // owner-queued work names its own parent; a result on an imported best names the hub's commit
    if (input.workId === undefined && !e.baseline && input.parent === e.parentCommit)
      input.parent = hubParentOf(e, await this.deps.ledger.listExperiments(e.studyId));
    const r = await this.deps.client.postResult(this.deps.studyId, input);
    // The hub has it (or will never take it): not re-posted at the next start.
    if (r.kind === 'posted' || r.kind === 'refused') {
      if (input.workId !== undefined) this.deps.workDone?.(input.workId); // first: no heartbeat on done work
      await this.deps.ledger.putRecord(e.studyId, POSTED, String(e.number), {
        id: input.id,
        outcome: r.kind === 'posted' ? (r.verification ?? 'recorded') : `refused: ${r.message}`,
      });
    }
    if (r.kind === 'posted') {
      if (r.duplicate) this.counts.duplicate++;
      else this.counts.posted++;
      this.reached('hub reachable again');
    } else if (r.kind === 'queued' || r.kind === 'unreachable') {
      this.counts.queued++;
      if (!this.unreachable)
        this.deps.warn(`hub unreachable (${r.message}); results are queued and posted when it answers`);
      this.unreachable = true;
    } else this.refused(r.id, r.message);
  }

  private reached(message: string): void {
    if (!this.unreachable) return;
    this.unreachable = false;
    this.deps.warn(message);
  }

  private refused(id: string, message: string): void {
    this.counts.refused++;
    this.deps.warn(`hub refused result ${id}: ${message}`);
  }
}
