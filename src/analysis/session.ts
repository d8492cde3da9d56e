/**
 * Where an analysis (ablate, transfer, heldout) runs: the study's lock (no `run` of the same
 * study meanwhile: they would share worktrees and cards), its slots (GPU reservations as for
 * `run`), one worktree per slot plus a scratch worktree to build commits in, all under the
 * study's worktree folder and removed at the end. Nothing on the study branch moves.
 *
 * Runs go through the loop's own `runOnce` (sandbox, protected-file checks, the evaluate step),
 * each on the seed its job names, on free slots in parallel. Each run is a study record of the
 * analysis's kind, key `<prefix>run/<variant>/<run>`, value `RunRecord`: written `running`
 * (with its process group) before the run and `done` after, so a killed analysis resumes — the
 * runs already done are reused, the survivors of a `kill -9` are killed first.
 *
 * Contract: `openAnalysis` returns `{ok: false, message}` for what the user must fix (the study
 * is running, no study, no slots); `measure` never throws for what runs do; 'interrupted' when
 * the signal aborted (the runs not finished stay `running`, re-run on resume).
 */
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import type { Ledger, Study } from '../ledger/types.js';
import type { AnalysisKind, EmitEvent } from '../loop/events.js';
import { acquireLock, acquireStudyLock, gpuLockPath, studyLockPath } from '../loop/lock.js';
import { runMarker } from '../loop/run-env.js';
import { type RunContext, runOnce } from '../loop/run-once.js';
import { SlotPool } from '../loop/slot-pool.js';
import { killStaleGroup } from '../loop/stale-process.js';
import type { Sandbox } from '../runner/sandbox.js';
import type { Secret } from '../runner/secrets.js';
import type { Runner } from '../runner/types.js';
import { reserveSlots } from '../scheduler/gpu-reservations.js';
import { type Gpu, listGpus } from '../scheduler/gpus.js';
import type { Workspace } from '../workspace/workspace.js';
import type { Worktree } from '../workspace/worktree.js';

export interface AnalysisDeps {
  config: Config;
  workspace: Workspace;
  ledger: Ledger;
  runner: Runner;
  sandbox: Sandbox;
  secrets: readonly Secret[];
  emit: EmitEvent;
  signal: AbortSignal;
  /** GPU discovery (nvidia-smi by default); injectable for tests. */
  listGpus?: () => Promise<Gpu[]>;
}

/** One run to make: a commit on a seed, for a variant (e.g. "base", "without-3"). */
export interface Job {
  variant: string;
  run: number;
  commit: string;
  /** The commit's tree: a run is reused when it measured this tree on this seed (rebuilt variants get new commits). */
  tree: string;
  seed: number;
}

/** A run's study record (kind = the analysis, key `<prefix>run/<variant>/<run>`). */
export interface RunRecord {
  status: 'running' | 'done';
  variant: string;
  run: number;
  seed: number;
  commit: string;
  tree: string;
  /** The run's number in its log names and process marker (AUTORESEARCH_EXPERIMENT). */
  number: number;
  pgid?: number | null;
  logPath?: string;
  outcome?: 'ok' | 'crash' | 'timeout' | 'tampered';
  value?: number | null;
  /** The held-out split's value (null: not scored; see heldoutReason). */
  heldout?: number | null;
  heldoutReason?: string;
  reason?: string;
  metrics?: Record<string, number>;
  startedAt?: number;
  endedAt?: number;
}

export interface AnalysisSession {
  study: Study;
  ledger: Ledger;
  /** A scratch worktree to build variant commits in (reset freely). */
  build: Worktree;
  slots: number;
  /**
   * Runs `jobs` (the done ones reused), records each; resolves with every job's record, or
   * 'interrupted'. `heldout`: also score the held-out split (a second evaluate step).
   */
  measure(
    jobs: Job[],
    opts: { prefix: string; heldout: boolean; numberBase: number },
  ): Promise<RunRecord[] | 'interrupted'>;
}

export type Opened = { ok: true; session: AnalysisSession; close(): Promise<void> } | { ok: false; message: string };

export async function withAnalysis<T>(
  deps: AnalysisDeps,
  kind: AnalysisKind,
  fn: (s: AnalysisSession) => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; message: string }> {
  const opened = await openAnalysis(deps, kind);
  if (!opened.ok) return opened;
  try {
    return { ok: true, value: await fn(opened.session) };
  } finally {
    await opened.close();
  }
}

async function openAnalysis(deps: AnalysisDeps, kind: AnalysisKind): Promise<Opened> {
  const { config, workspace, ledger } = deps;
  const tag = config.study.tag;
  const study = await ledger.getStudy(tag);
  if (!study) return { ok: false, message: `no study "${tag}" in this workspace: run \`autoresearch run\` first` };
  const lock = acquireStudyLock(studyLockPath(workspace.stateDir, tag), tag);
  if (!lock.ok)
    return {
      ok: false,
      message: `study "${tag}" is running (pid ${lock.holder.pid}): an analysis needs its slots and worktrees; stop the study first (Ctrl-C; \`autoresearch run\` resumes it later)`,
    };
  const held: Array<{ release(): void }> = [lock.lock];
  const release = () => {
    for (const h of held.splice(0).reverse()) h.release();
  };
  try {
    const gpus = await (deps.listGpus ?? listGpus)();
    const planned = reserveSlots({ count: config.slots.count, gpus: config.slots.gpus }, gpus, (i) =>
      acquireLock(gpuLockPath(workspace.stateDir, i), { tag }, 50),
    );
    if (!planned.ok) {
      release();
      return { ok: false, message: planned.message };
    }
    held.push(planned);
    const dir = join(workspace.worktreeDir(tag), kind);
    const at = study.bestCommit ?? study.baseCommit;
    const trees: Worktree[] = [];
    for (const p of [join(dir, 'build'), ...planned.slots.map((s) => join(dir, `slot-${s.index}`))]) {
      const wt = await workspace.openWorktree(p, at);
      const problems = wt.linkFrom(config.root, config.files.link);
      if (problems.length) throw new Error(problems.join('\n'));
      trees.push(wt);
    }
    const pool = new SlotPool(planned.slots.map((slot, i) => ({ slot, worktree: trees[i + 1]! })));
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const onAbort = () => controller.abort();
    deps.signal.addEventListener('abort', onAbort, { once: true });
    if (deps.signal.aborted) controller.abort();
    const ctx: RunContext = {
      config,
      workspace,
      ledger,
      emit: () => {}, // run-started events of analysis runs are not study events
      logDir: join(workspace.stateDir, 'logs', tag, kind),
      runner: deps.runner,
      sandbox: deps.sandbox,
      secrets: deps.secrets,
      signal: controller.signal,
    };
    const session: AnalysisSession = {
      study,
      ledger,
      build: trees[0]!,
      slots: planned.slots.length,
      measure: (jobs, opts) => measure(deps, kind, study, ctx, pool, jobs, opts),
    };
    return {
      ok: true,
      session,
      close: async () => {
        deps.signal.removeEventListener('abort', onAbort);
        try {
          await workspace.removeWorktreesUnder(dir);
        } finally {
          release();
        }
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

async function measure(
  deps: AnalysisDeps,
  kind: AnalysisKind,
  study: Study,
  ctx: RunContext,
  pool: SlotPool,
  jobs: Job[],
  opts: { prefix: string; heldout: boolean; numberBase: number },
): Promise<RunRecord[] | 'interrupted'> {
  const { ledger, config, emit } = deps;
  const keyOf = (j: Job) => `${opts.prefix}run/${j.variant}/${j.run}`;
  const existing = new Map(
    (await ledger.listRecords(study.id, kind))
      .filter((r) => r.key.startsWith(`${opts.prefix}run/`))
      .map((r) => [r.key, r.value as RunRecord]),
  );
  // What a kill -9 left running: kill it before its slot is used again.
  for (const r of existing.values())
    if (r.status === 'running' && r.pgid) killStaleGroup(r.pgid, `AUTORESEARCH_RUN=${runMarker(config, r.number)}`);

  const out: RunRecord[] = new Array(jobs.length);
  let done = 0;
  const progress = (r: RunRecord, status: Extract<Parameters<EmitEvent>[0], { type: 'analysis-run' }>['status']) =>
    emit({
      type: 'analysis-run',
      t: Date.now(),
      analysis: kind,
      variant: r.variant,
      run: r.run,
      status,
      value: r.value ?? null,
      heldout: r.heldout ?? null,
      reason: r.reason ?? '',
      done: ++done,
      total: jobs.length,
    });
  const todo: number[] = [];
  for (const [i, j] of jobs.entries()) {
    const r = existing.get(keyOf(j));
    // reused only when it measured this very commit on this seed (a rebuilt variant may differ)
    if (r && r.status === 'done' && r.tree === j.tree && r.seed === j.seed && (!opts.heldout || 'heldout' in r)) {
      out[i] = r;
      progress(r, 'reused');
    } else todo.push(i);
  }
  let interrupted = false;
  // once a run shows the evaluate step scores no held-out split, the others skip that second step
  let heldoutFor: boolean = opts.heldout;
  let unsupported = '';
  await Promise.all(
    todo.map(async (i) => {
      const job = jobs[i]!;
      const lease = await pool.acquire(ctx.signal);
      if (!lease) {
        interrupted = true;
        return;
      }
      try {
        const key = keyOf(job);
        let rec: RunRecord = {
          status: 'running',
          variant: job.variant,
          run: job.run,
          seed: job.seed,
          commit: job.commit,
          tree: job.tree,
          number: opts.numberBase + i,
          startedAt: Date.now(),
        };
        await ledger.putRecord(study.id, kind, key, rec);
        const r = await lease.timed(() =>
          runOnce(ctx, {
            exp: { id: -1, number: rec.number },
            study,
            worktree: lease.worktree,
            slot: lease.slot,
            runIndex: job.run,
            commit: job.commit,
            attempt: 1,
            seed: job.seed,
            heldout: heldoutFor,
            record: async (patch) => {
              rec = { ...rec, ...patch };
              await ledger.putRecord(study.id, kind, key, rec);
            },
          }),
        );
        if (r.kind === 'interrupted') {
          interrupted = true;
          return;
        }
        const res = r.result;
        if (r.kind === 'ran' && r.heldout?.unsupported) {
          heldoutFor = false;
          unsupported = r.heldout.reason ?? '';
        }
        rec = {
          ...rec,
          status: 'done',
          pgid: null,
          outcome: r.kind === 'tampered' ? 'tampered' : res.kind,
          value: r.kind === 'ran' && res.kind === 'ok' ? res.value : null,
          reason: r.kind === 'tampered' ? `changed protected file(s) ${r.files.join(', ')}` : (res.reason ?? ''),
          metrics: res.metrics,
          endedAt: Date.now(),
          ...(opts.heldout
            ? {
                heldout: r.kind === 'ran' ? (r.heldout?.value ?? null) : null,
                heldoutReason:
                  r.kind === 'ran' ? (r.heldout?.reason ?? (res.kind !== 'ok' ? 'the run failed' : unsupported)) : '',
              }
            : {}),
        };
        await ledger.putRecord(study.id, kind, key, rec);
        out[i] = rec;
        progress(rec, rec.outcome!);
      } finally {
        lease.release();
      }
    }),
  );
  return interrupted || ctx.signal.aborted ? 'interrupted' : out;
}
