/**
 * Verification runs for the hub, between a slot's experiments: the contributor asks the hub for
 * work; a verification names a claimed commit by its parent and diff. The commit is rebuilt here
 * (./remote-commit.ts: the parent chain from the hub's nodes, the diff on top) and run ONCE
 * through the very step a study run takes (../loop/run-once.ts: the same runner, sandbox,
 * protected-file checks and evaluate step, on the slot's own worktree), with heartbeats on the
 * work's lease while it runs; the value goes back with the work id (the hub applies the BOINC
 * rule). A claimed commit that this repository has but whose tree differs from what its diff
 * builds is answered with no value (a disagreement).
 *
 * One verification at a time per contributor. Work the study owner queued (kind `experiment`)
 * goes to the work desk (./work-desk.ts, heartbeats from now on) and is the next proposal
 * (./hub-proposer.ts): it runs as an experiment of the local study; no more work is asked for
 * while one such experiment waits to be proposed.
 *
 * Contract: the hook never throws (a failure is a `notice`); an interrupted run posts nothing
 * (the lease expires and the work is handed out again).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { LoopContext } from '../loop/context.js';
import { runOnce, seedFor } from '../loop/run-once.js';
import type { SlotLease } from '../loop/slot-pool.js';
import type { HubClient } from './client.js';
import { buildOn, hasCommit, localCommitFor, type RemoteRecipe, treeOf } from './remote-commit.js';
import { type Platform, platformKey } from './wire.js';
import { hubBestImporter } from './import-best.js';
import type { WorkItem } from './work.js';
import type { WorkDesk } from './work-desk.js';

export interface VerifierDeps {
  client: HubClient;
  studyId: string;
  host: string;
  platform: Platform;
  /** Run verification work ([hub] verify, default true). */
  verify?: boolean;
  /** Move the local best to the hub's verified best when it is better (default true). */
  importBest?: boolean;
  /** Heartbeat period while a verification runs (ms). */
  heartbeatMs?: number;
  /** Where owner-queued experiments go (./work-desk.ts: proposed next, see ./hub-proposer.ts). */
  desk?: WorkDesk;
}

/** The earliest node the hub holds for a commit: its parent and diff. */
export async function recipeFromHub(client: HubClient, studyId: string, sha: string): Promise<RemoteRecipe | null> {
  const r = await client.request<{ nodes: Array<RemoteRecipe & { createdAt: number }> }>(
    'GET',
    `/studies/${studyId}/commits/${sha}`,
  );
  if (r.kind !== 'ok') return null;
  return [...r.value.nodes].sort((a, b) => a.createdAt - b.createdAt)[0] ?? null;
}

export function verificationResultId(studyId: string, workId: number, host: string): string {
  return `v-${createHash('sha256').update(`${studyId}\0${workId}\0${host}`).digest('hex').slice(0, 40)}`;
}

export function hubVerifier(deps: VerifierDeps): (ctx: LoopContext, lease: SlotLease) => Promise<void> {
  let busy = false;
  const importBest = hubBestImporter({
    client: deps.client,
    studyId: deps.studyId,
    platformKey: platformKey(deps.platform),
    recipeOf: (sha) => recipeFromHub(deps.client, deps.studyId, sha),
  });
  return async (ctx, lease) => {
    if (busy || ctx.signal.aborted) return;
    busy = true;
    const note = (level: 'info' | 'warn', message: string) =>
      ctx.emit({ type: 'notice', t: Date.now(), level, message: `hub: ${message}` });
    try {
      if (deps.importBest !== false) await importBest(ctx);
      if (deps.verify === false) return;
      // one queued experiment waiting to be proposed is enough: the next ask comes after it
      if (deps.desk && deps.desk.waiting() > 0) return;
      const got = await deps.client.getWork(deps.studyId, deps.platform);
      if (got.kind !== 'ok') return note('warn', `cannot ask for verification work: ${got.message}`);
      const work = got.value;
      if (!work) return;
      if (work.kind !== 'verification') {
        if (!deps.desk)
          return note('info', `work #${work.id} is a queued experiment; not run here (its lease will expire)`);
        deps.desk.offer(work);
        return note('info', `took queued experiment work #${work.id}; it is the next proposal`);
      }
      await verify(ctx, lease, deps, work, note);
    } catch (err) {
      note('warn', `verification failed: ${(err as Error).message}`);
    } finally {
      busy = false;
    }
  };
}

async function verify(
  ctx: LoopContext,
  lease: SlotLease,
  deps: VerifierDeps,
  work: WorkItem,
  note: (level: 'info' | 'warn', message: string) => void,
): Promise<void> {
  const git = ctx.workspace.git;
  const claimed = work.commit ?? work.parent;
  note('info', `verifying ${claimed.slice(0, 7)} (work #${work.id}): ${work.description.slice(0, 80)}`);
  const recipeOf = (sha: string) => recipeFromHub(deps.client, deps.studyId, sha);
  let value: number | null = null;
  let why = '';
  const parent = await localCommitFor(git, work.parent, recipeOf);
  const built = parent.ok ? await buildOn(git, parent.commit, work.diff, work.description) : parent;
  if (!built.ok) why = built.reason;
  else if ((await hasCommit(git, claimed)) && (await treeOf(git, claimed)) !== (await treeOf(git, built.commit)))
    why = `commit ${claimed.slice(0, 7)} here differs from what its diff builds`;
  else {
    // A third of the lease (on the hub's clock, so roughly), at most a minute.
    const period = deps.heartbeatMs ?? Math.min(60_000, Math.max(1000, (work.leaseExpiresAt - Date.now()) / 3));
    const beat = setInterval(() => void deps.client.heartbeat(deps.studyId, work.id), period);
    try {
      const r = await runOnce(verifyContext(ctx), {
        // no experiment of this study: nothing of the run goes to the ledger
        exp: { id: -1, number: work.id },
        record: async () => undefined,
        seed: seedFor(ctx.config, 0),
        study: ctx.frontier.currentStudy,
        worktree: lease.worktree,
        slot: lease.slot,
        runIndex: 0,
        commit: built.commit,
        attempt: 1,
      });
      if (r.kind === 'interrupted') return;
      if (r.kind === 'tampered') why = `the run changed protected file(s) ${r.files.join(', ')}`;
      else if (r.result.kind === 'ok' && r.result.value !== null) value = r.result.value;
      else why = r.result.reason ?? r.result.kind;
    } finally {
      clearInterval(beat);
    }
  }
  const posted = await deps.client.postResult(deps.studyId, {
    id: verificationResultId(deps.studyId, work.id, deps.host),
    workId: work.id,
    parent: work.parent,
    commit: claimed,
    diff: work.diff,
    value,
    status: value === null ? 'crash' : 'discard',
    description: `verification of ${claimed.slice(0, 12)}${why ? `: ${why}` : ''}`.slice(0, 2000),
    platform: deps.platform,
  });
  const what = value === null ? `no value (${why})` : `reproduced ${value}`;
  if (posted.kind === 'posted') note('info', `verified work #${work.id}: ${what}`);
  else note('warn', `verification of work #${work.id} (${what}) not taken: ${posted.message}`);
}

/** The loop's context for a run that is no experiment of this study: only notices reach the view. */
function verifyContext(ctx: LoopContext): LoopContext {
  return {
    ...ctx,
    logDir: join(ctx.logDir, 'hub-verify'),
    emit: (e) => {
      if (e.type === 'notice') ctx.emit(e);
    },
  };
}
