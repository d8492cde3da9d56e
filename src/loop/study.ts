/**
 * The study loop: baseline first (repeated to measure the noise floor), then experiments on
 * every slot at once, fed by the proposal pipeline, until a budget is reached, the proposer is
 * exhausted, or the signal aborts. Resumes a stopped or killed study where it stopped.
 *
 * Contract: `runStudy` never throws for user-level problems (they come back as a
 * `study-stopped` event with reason 'error' and a message saying what to do); it throws only for
 * bugs and unexpected git/ledger failures (after stopping every slot and waiting for them). It
 * holds the study lock, its GPUs' reservations and (when free at start) the root results.tsv for
 * its whole duration, and removes its worktrees when it stops, before letting those go.
 */
import { setMaxListeners } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { hasOriginalFiles, noEvaluateWarning } from '../config/detect.js';
import type { Config } from '../config/load.js';
import type { Judge } from '../judge/types.js';
import type { Experiment, Ledger } from '../ledger/types.js';
import type { Proposer } from '../proposer/types.js';
import type { Sandbox } from '../runner/sandbox.js';
import type { Secret } from '../runner/secrets.js';
import type { Runner } from '../runner/types.js';
import { AsyncQueue, Notifier, Semaphore } from '../scheduler/async-queue.js';
import { gpuFacts, listGpus, type Gpu } from '../scheduler/gpus.js';
import { reserveSlots } from '../scheduler/gpu-reservations.js';
import type { Workspace } from '../workspace/workspace.js';
import { runBaseline } from './baseline.js';
import type { LoopContext } from './context.js';
import type { EmitEvent, StopReason, StudyEvent } from './events.js';
import { failureSettings, failuresMessage } from './failures.js';
import { Frontier } from './frontier.js';
import { acquireLock, acquireStudyLock, gpuLockPath, studyLockPath } from './lock.js';
import { tally } from './in-flight.js';
import { runProposalPipeline } from './proposals.js';
import { openResultsFiles } from './results-files.js';
import { runMarker } from './run-env.js';
import { queuedNote } from './queued.js';
import { restoreRemeasured } from './remeasure.js';
import { PairedSeeds, pairedCount, pairedOf } from './paired-seeds.js';
import { openSession } from './setup.js';
import { busyFraction, SlotPool } from './slot-pool.js';
import { runSlotWorkers } from './slot-worker.js';
import { killStaleGroup } from './stale-process.js';
import { hostId, isSharedLedger } from './host-id.js';
import { branchPusher } from './remote.js';
import { awaitBaseline, claimOnStart, ranHere, startHeartbeat } from './leases.js';
import { LeaseKeeper } from './lease-keeper.js';
import { waitForLedger } from './ledger-outage.js';

export interface StudyDeps {
  config: Config;
  workspace: Workspace;
  ledger: Ledger;
  proposer: Proposer;
  runner: Runner;
  /** Wraps every run: createSandbox([run].sandbox). Required, so that no caller forgets it. */
  sandbox: Sandbox;
  /** Secret values to scrub from logs and prompts (default none; the CLI passes runSecrets(config)). */
  secrets?: readonly Secret[];
  judge: Judge;
  emit: EmitEvent;
  /** GPU discovery (nvidia-smi by default); injectable for tests. */
  listGpus?: () => Promise<Gpu[]>;
  /** The pause while the proposer is unavailable (./outage.ts); injectable for tests. */
  pause?: LoopContext['pause'];
  /** Work a slot does between experiments (a hub contributor's verification runs). */
  between?: LoopContext['between'];
}

export interface StudyLimits {
  /** Stop when the study has this many finished experiments (baseline not counted). */
  maxExperiments?: number | null;
  /** Stop starting experiments after this many hours of this invocation. */
  maxHours?: number | null;
  /** Stop proposing when the proposer has spent this much over the study (USD / tokens). */
  maxCostUsd?: number | null;
  maxTokens?: number | null;
}

export type StudyOutcome = Extract<StudyEvent, { type: 'study-stopped' }>;

export async function runStudy(deps: StudyDeps, limits: StudyLimits, userSignal: AbortSignal): Promise<StudyOutcome> {
  const { config, workspace, emit } = deps;
  // Several hosts: a host cut off from the shared ledger waits for it (./ledger-outage.ts)
  // instead of failing; its runs are stopped meanwhile by the lease keeper.
  const ledger = isSharedLedger(config) ? waitForLedger(deps.ledger, config, emit, userSignal) : deps.ledger;
  const started = Date.now();
  let studyId: number | null = null;
  let busy: StudyOutcome['busy'] = [];
  let frontier: Frontier | null = null;
  const stop = async (reason: StopReason, message: string): Promise<StudyOutcome> => {
    const all = studyId !== null ? await ledger.listExperiments(studyId) : [];
    const counts = tally(all);
    const event: StudyOutcome = {
      type: 'study-stopped',
      t: Date.now(),
      reason,
      message: reason === 'error' ? message : message + queuedNote(all),
      finished: counts.ran,
      notRun: counts.notRun,
      kept: all.filter((e) => !e.baseline && e.status === 'keep').length,
      best: frontier?.bestSoFar() ?? null,
      busy,
    };
    emit(event);
    return event;
  };

  const acquired = acquireStudyLock(studyLockPath(workspace.stateDir, config.study.tag), config.study.tag);
  if (!acquired.ok) {
    const h = acquired.holder;
    return stop(
      'error',
      `study "${config.study.tag}" is already running (pid ${h.pid} on ${h.host}, since ${new Date(h.startedAt).toISOString()}). Stop it first (Ctrl-C in its terminal, or kill ${h.pid}).`,
    );
  }
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // every slot, proposal worker and run listens to it
  const onUserAbort = () => controller.abort();
  userSignal.addEventListener('abort', onUserAbort, { once: true });
  if (userSignal.aborted) controller.abort();
  const held: Array<{ release(): void }> = []; // GPU reservations, the root results.tsv
  try {
    const gpus = await (deps.listGpus ?? listGpus)();
    const planned = reserveSlots({ count: config.slots.count, gpus: config.slots.gpus }, gpus, (i) =>
      acquireLock(gpuLockPath(workspace.stateDir, i), { tag: config.study.tag }, 50),
    );
    if (!planned.ok) return await stop('error', planned.message);
    held.push(planned);
    if (planned.notice) emit({ type: 'notice', t: Date.now(), level: 'info', message: planned.notice });
    const slots = planned.slots;

    const concurrency = config.proposer.concurrency ?? slots.length;
    const opened = await openSession(config, workspace, ledger, emit, slots.length, concurrency);
    if (!opened.ok) return await stop('error', opened.message);
    const { study, resumed, proposeWorktrees, slotWorktrees } = opened.session;
    studyId = study.id;
    const host = isSharedLedger(config) ? { id: hostId(config.root), leaseMs: config.ledger.lease_s * 1000 } : null;
    const leases = host ? new LeaseKeeper(host.leaseMs, emit) : null;
    const all = await ledger.listExperiments(study.id);
    for (const e of all) {
      if (e.status === 'running' && e.pgid && ranHere({ host }, e)) {
        const n = killStaleGroup(e.pgid, `AUTORESEARCH_RUN=${runMarker(config, e.number)}`);
        if (n)
          emit({
            type: 'notice',
            t: Date.now(),
            level: 'warn',
            message: `killed ${n} process(es) left by interrupted experiment ${e.number}`,
          });
      }
    }
    frontier = new Frontier(study, all, ledger, workspace);
    await restoreRemeasured(ledger, study.id, frontier);
    const paired = pairedOf(config) ? await PairedSeeds.load(ledger, study.id, pairedCount(config)) : null;
    const results = openResultsFiles(config);
    held.push(results.files);
    if (results.notice) emit({ type: 'notice', t: Date.now(), level: 'info', message: results.notice });
    const programPath = join(config.root, config.files.program);
    const changed = new Notifier(); // wakes the proposal workers when an experiment finishes
    const pusher = branchPusher(workspace, config.study.remote, study.branch, emit);
    const ctx: LoopContext = {
      config,
      workspace,
      ledger,
      proposer: deps.proposer,
      proposerLock: new Semaphore(concurrency),
      runner: deps.runner,
      sandbox: deps.sandbox,
      secrets: deps.secrets ?? [],
      judge: deps.judge,
      emit: (e) => {
        emit(e);
        if (e.type === 'experiment-finished') changed.notify();
        if (e.type === 'experiment-finished' && e.status === 'keep') pusher.push();
      },
      frontier,
      paired,
      host,
      ...(leases ? { leases } : {}),
      logDir: join(workspace.stateDir, 'logs', config.study.tag),
      machine: {
        host: hostname(),
        cpus: cpus().length,
        ...gpuFacts(gpus, config.run.env.CUDA_VISIBLE_DEVICES ?? process.env.CUDA_VISIBLE_DEVICES),
      },
      signal: controller.signal,
      program: existsSync(programPath) ? readFileSync(programPath, 'utf8') : null,
      results: results.files,
      ...(deps.pause ? { pause: deps.pause } : {}),
      ...(deps.between ? { between: deps.between } : {}),
    };
    emit({
      type: 'study-started',
      t: Date.now(),
      tag: study.tag,
      branch: study.branch,
      resumed,
      proposer: deps.proposer.name,
      judge: deps.judge.name,
      metric: study.metric,
      direction: study.direction,
      slots: slots.map((s) => ({ index: s.index, label: s.label, gpu: s.gpu?.name ?? null })),
      finished: tally(all).ran,
      maxExperiments: limits.maxExperiments ?? null,
      maxHours: limits.maxHours ?? null,
      timeoutS: config.run.timeout_s,
      best: frontier.bestSoFar(),
    });
    if (config.run.evaluate === undefined)
      emit({ type: 'notice', t: Date.now(), level: 'warn', message: noEvaluateWarning(hasOriginalFiles(config.root)) });

    // Slots and their worktrees; an experiment holds one, and borrows free ones for repeat runs.
    const pool = new SlotPool(slots.map((slot, i) => ({ slot, worktree: slotWorktrees[i]! })));
    // Several hosts: the running experiments this host drives (all of them with one host), then
    // the heartbeat that keeps their leases and takes over those of hosts that stopped.
    const mine = await claimOnStart(ctx, all);
    const queue = new AsyncQueue<Experiment>(config.slots.prefetch);
    const heartbeat = startHeartbeat(ctx, study.id, (e) => queue.push(e), deps.ledger);
    try {
      for (let pending = mine; !frontier.current; pending = []) {
        const waited = await awaitBaseline(ctx, study.id, pending);
        if (waited === 'interrupted')
          return await stop('interrupted', 'stopped by the user; `autoresearch run` resumes the study');
        const b = waited === 'ready' ? 'ready' : await runBaseline(ctx, waited.pending, pool);
        // interrupted without Ctrl-C: this host lost the baseline's lease (cut off from the
        // ledger); wait for it again (another host's, or claimed again here)
        if (b === 'interrupted' && !controller.signal.aborted) continue;
        if (b === 'interrupted')
          return await stop('interrupted', 'stopped by the user; `autoresearch run` resumes the study');
        if (b !== 'ready' && b.status !== 'keep' && !frontier.current) {
          return await stop(
            'baseline-failed',
            `the baseline (unchanged code) ended as ${b.status}: ${b.reason}. Log: ${b.logPath}. Fix the command or the code, commit, and run again.`,
          );
        }
      }

      const deadline = limits.maxHours != null ? started + limits.maxHours * 3600_000 : null;
      for (const e of mine) if (!e.baseline) queue.push(e); // resumed, in number order
      const pipelineLimits = {
        maxExperiments: limits.maxExperiments ?? null,
        deadline,
        startedAt: started,
        maxCostUsd: limits.maxCostUsd ?? null,
        maxTokens: limits.maxTokens ?? null,
      };
      const errors: unknown[] = [];
      const guard = <T>(p: Promise<T>): Promise<T> =>
        p.catch((err: unknown) => {
          errors.push(err);
          controller.abort(); // a bug in one part stops the others cleanly before it surfaces
          throw err;
        });
      // allSettled: every part has stopped (its runs killed and awaited) before the finally
      // blocks remove worktrees and release the lock; then the first error surfaces.
      const proposing = guard(runProposalPipeline(ctx, proposeWorktrees, queue, pipelineLimits, changed, slots.length));
      const workers = runSlotWorkers(ctx, pool, queue, pipelineLimits).map(guard);
      // Slots stop taking at the deadline; then nothing makes room in a full queue: close it, so
      // that the pipeline stops waiting (what it queued stays `running` with no slot: queued).
      void Promise.allSettled(workers).then(() => queue.close());
      const [pipeline] = await Promise.allSettled([proposing, ...workers]);
      if (errors.length || pipeline!.status === 'rejected') throw errors[0];
      const why = pipeline!.value;
      busy = pool.stats().map((s) => ({ slot: s.slot.index, fraction: busyFraction(s.stats) }));
      if (userSignal.aborted)
        return await stop('interrupted', 'stopped by the user; `autoresearch run` resumes the study');
      const messages: Record<StopReason, string> = {
        'max-experiments': `reached ${limits.maxExperiments} experiments`,
        'max-hours': `reached the time limit of ${limits.maxHours} h`,
        exhausted: 'the proposer has nothing left to try',
        'max-cost': `the proposer spent the --max-cost-usd budget ($${limits.maxCostUsd})`,
        'max-tokens': `the proposer used the --max-tokens budget (${limits.maxTokens} tokens)`,
        rejections: `the last ${config.proposer.max_rejections} proposals in a row ended without running (see \`autoresearch results\` for why); fix the proposer, or raise [proposer] max_rejections`,
        failures: failuresMessage(await ledger.listExperiments(study.id), failureSettings(config), started),
        interrupted: 'stopped',
        'baseline-failed': '',
        error: '',
      };
      return await stop(why, messages[why]);
    } finally {
      await heartbeat.stop();
      leases?.close();
      await pusher.settle();
      await workspace.removeWorktreesUnder(workspace.worktreeDir(config.study.tag));
    }
  } finally {
    userSignal.removeEventListener('abort', onUserAbort);
    for (const h of held) h.release();
    acquired.lock.release();
  }
}
