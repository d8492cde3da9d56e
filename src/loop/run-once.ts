/**
 * One run of an experiment in a slot's worktree: the training command, then — when
 * `[run].evaluate` is set — the protected evaluate step, which alone produces the objective.
 *
 * The evaluate step runs in a fresh process, after the worktree was put back exactly at the
 * experiment's commit (whatever training wrote into the worktree, tracked or not, is gone: it
 * can't swap the evaluator's code or plant a module it would import), with protected files
 * checked before and after each step, on what training left in the run's output directory
 * (`AUTORESEARCH_OUTPUT`). Training's own metric lines are kept as diagnostics, renamed
 * `train/<metric>` for the objective; evaluation time is counted apart (`evaluate_seconds`).
 *
 * Contract: never throws for anything the commands do. 'interrupted' means the signal aborted
 * the run (the experiment stays `running`, to be re-run on resume).
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import type { CurveReference, WorseComparison } from '../judge/curves.js';
import type { Experiment, ExperimentPatch, Study } from '../ledger/types.js';
import type { RunResult, RunSpec } from '../runner/types.js';
import type { Slot } from '../scheduler/slots.js';
import { hashFiles } from '../workspace/protected-files.js';
import type { Worktree } from '../workspace/worktree.js';
import type { LoopContext } from './context.js';
import { RunWatch, storeCurve } from './early-stop.js';
import { isLeaseStop } from './lease-keeper.js';
import { runEnv } from './run-env.js';
import { sandboxView } from './sandbox-view.js';

export type RunOnceResult =
  /** `stopped`: training was stopped early, its curve clearly worse than the reference's (./early-stop.ts). */
  | { kind: 'ran'; result: RunResult; heldout?: HeldoutScore; stopped?: WorseComparison }
  | { kind: 'tampered'; files: string[]; result: RunResult }
  | { kind: 'interrupted' };

/**
 * The held-out split's score of a run (analysis runs only, `RunRequest.heldout`): the objective
 * from a second evaluate step told AUTORESEARCH_SPLIT=heldout, or null with the reason (the
 * step failed, or did not confirm with a `heldout_split: 1` line that it scored that split).
 */
export interface HeldoutScore {
  value: number | null;
  reason?: string;
  /** The evaluate step ran fine but scores no held-out split (the template has none). */
  unsupported?: true;
}

/** The line a template's evaluate step prints to confirm that it scored the held-out split. */
export const HELDOUT_CONFIRM = 'heldout_split';

/** What `runOnce` needs of the loop's context (analysis runs build this much, no proposer). */
export type RunContext = Pick<
  LoopContext,
  'config' | 'ledger' | 'emit' | 'logDir' | 'runner' | 'sandbox' | 'secrets' | 'signal' | 'workspace'
> &
  Partial<Pick<LoopContext, 'leases'>>;

export interface RunRequest {
  /** With its status when known: only a `running` experiment's runs hold its lease. */
  exp: Pick<Experiment, 'id' | 'number'> & Partial<Pick<Experiment, 'status'>>;
  study: Study;
  worktree: Worktree;
  slot: Slot;
  /** 0 for the first run of an experiment, 1.. for repeats (baseline noise, confirmations). */
  runIndex: number;
  commit: string;
  /** Experiment attempt (1 normally; +1 per resume), for distinct log names. */
  attempt: number;
  /** AUTORESEARCH_SEED of this run (default: `seedFor`: drawn at run time, or as [judge] seeds says). */
  seed?: number;
  /** Record `seed` as a 'seed' record like a drawn one (paired seeds: ./paired-seeds.ts). */
  recordSeed?: true;
  /**
   * Also score the held-out split: a second evaluate step with AUTORESEARCH_SPLIT=heldout.
   * Analysis runs only (ablate, transfer, heldout): a study's decisions never see that split.
   */
  heldout?: boolean;
  /** Where the log path and process group are recorded (default: the experiment, in the ledger). */
  record?: (patch: Pick<ExperimentPatch, 'logPath' | 'pgid'>) => Promise<unknown>;
  /**
   * Stop training early when its progress lines are clearly worse than these curves (a
   * candidate's first run, against its base's curves: ./early-stop.ts). Study runs only.
   */
  watchAgainst?: CurveReference | null;
}

export type RunPhase = 'train' | 'evaluate';

/** Where a slot's runs leave their output (a checkpoint for the evaluate step); emptied per run. */
export function outputDir(ctx: Pick<LoopContext, 'workspace' | 'config'>, slot: Slot): string {
  return join(ctx.workspace.stateDir, 'outputs', ctx.config.study.tag, `slot-${slot.index}`);
}

export async function runOnce(ctx: RunContext, req: RunRequest): Promise<RunOnceResult> {
  // Several hosts: the run holds its experiment's lease; when this host can't renew it in time
  // (./lease-keeper.ts), the run is stopped as by Ctrl-C ('interrupted': it stays `running`).
  // A finished one (a kept best re-measured, ./remeasure.ts) has no lease left to lose.
  if (!ctx.leases || req.record || req.exp.status !== 'running') return runWatched(ctx, req);
  const held = ctx.leases.hold(req.exp);
  try {
    return await runWatched({ ...ctx, signal: AbortSignal.any([ctx.signal, held.signal]) }, req);
  } finally {
    held.release();
  }
}

async function runWatched(ctx: RunContext, req: RunRequest): Promise<RunOnceResult> {
  // A study run (no `record` of its own) keeps its training curve; analysis runs keep none.
  const watch =
    req.record === undefined
      ? new RunWatch(req.watchAgainst ?? null, ctx.config, ctx.emit, {
          number: req.exp.number,
          slot: req.slot.index,
          run: req.runIndex,
        })
      : undefined;
  const r = await runSteps(ctx, req, watch);
  if (watch && r.kind === 'ran' && r.stopped === undefined && r.result.kind === 'ok')
    await storeCurve(ctx.ledger, req.study.id, runKey(req), req.commit, watch.curve());
  return r;
}

/** `<number>.r<run>.a<attempt>`: one run of one experiment in the study's records. */
function runKey(req: Pick<RunRequest, 'exp' | 'runIndex' | 'attempt'>): string {
  return `${req.exp.number}.r${req.runIndex}.a${req.attempt}`;
}

async function runSteps(ctx: RunContext, req: RunRequest, watch: RunWatch | undefined): Promise<RunOnceResult> {
  const { config, ledger, emit } = ctx;
  const { exp, study, worktree, slot } = req;
  // Every run starts from the commit exactly: nothing an earlier run left (ignored files too).
  await worktree.resetHard(req.commit);
  const tampered = changedProtected(worktree.path, config.files.protected, study.protectedHashes);
  if (tampered.length) {
    await worktree.restoreFiles(study.baseCommit, tampered);
    emit({
      type: 'notice',
      t: Date.now(),
      level: 'warn',
      message: `restored protected file(s) ${tampered.join(', ')} before run #${exp.number}`,
    });
  }
  const suffix = `${req.runIndex > 0 ? `.r${req.runIndex}` : ''}${req.attempt > 1 ? `.a${req.attempt}` : ''}`;
  const logBase = join(ctx.logDir, `${String(exp.number).padStart(4, '0')}${suffix}`);
  const logPath = `${logBase}.log`;
  const record = req.record ?? ((patch) => ledger.updateExperiment(exp.id, patch));
  if (req.runIndex === 0 || req.record) await record({ logPath });
  emit({
    type: 'run-started',
    t: Date.now(),
    number: exp.number,
    slot: slot.index,
    run: req.runIndex,
    commit: req.commit,
    timeoutS: config.run.timeout_s,
    logPath,
  });

  // Drawn now, after the change was made and committed: nothing the proposer saw could name it.
  // (An analysis run names its own seed: ../analysis/.)
  const seed = req.seed ?? seedFor(config, req.runIndex);
  if ((req.seed === undefined && config.judge.vary_seed && config.judge.seeds === 'drawn') || req.recordSeed)
    await ledger.putRecord(study.id, 'seed', runKey(req), {
      seed,
      commit: req.commit,
    });
  const out = outputDir(ctx, slot);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const evaluate = config.run.evaluate;
  const train = await step(
    ctx,
    req,
    seed,
    'train',
    {
      command: config.run.command,
      timeoutMs: config.run.timeout_s * 1000,
      logPath,
      ...(evaluate === undefined ? { metric: study.metric } : {}),
    },
    watch,
  );
  if (ctx.signal.aborted && train.kind !== 'ok') return { kind: 'interrupted' };
  const afterTrain = changedProtected(worktree.path, config.files.protected, study.protectedHashes);
  if (afterTrain.length) {
    await worktree.restoreFiles(study.baseCommit, afterTrain);
    return { kind: 'tampered', files: afterTrain, result: train };
  }
  // Stopped early (a run that ended by itself as the stop came is judged as usual).
  if (watch?.stopped && train.failure === 'aborted') return { kind: 'ran', result: train, stopped: watch.stopped };
  if (evaluate === undefined || train.kind !== 'ok')
    return { kind: 'ran', result: evaluate === undefined ? train : asTraining(train, study.metric) };

  // The evaluate step sees the commit as it is, not what training made of the worktree.
  await worktree.resetHard(req.commit);
  const evaluated = await step(ctx, req, seed, 'evaluate', {
    command: evaluate,
    timeoutMs: config.run.evaluate_timeout_s * 1000,
    logPath: `${logBase}.eval.log`,
    metric: study.metric,
  });
  if (ctx.signal.aborted && evaluated.kind !== 'ok') return { kind: 'interrupted' };
  const result = combine(train, evaluated, study.metric);
  const afterEval = changedProtected(worktree.path, config.files.protected, study.protectedHashes);
  if (afterEval.length) {
    await worktree.restoreFiles(study.baseCommit, afterEval);
    return { kind: 'tampered', files: afterEval, result };
  }
  if (!req.heldout || result.kind !== 'ok') return { kind: 'ran', result };

  await worktree.resetHard(req.commit);
  const held = await step(
    ctx,
    req,
    seed,
    'evaluate',
    {
      command: evaluate,
      timeoutMs: config.run.evaluate_timeout_s * 1000,
      logPath: `${logBase}.heldout.log`,
      metric: study.metric,
    },
    undefined,
    'heldout',
  );
  if (ctx.signal.aborted && held.kind !== 'ok') return { kind: 'interrupted' };
  const afterHeld = changedProtected(worktree.path, config.files.protected, study.protectedHashes);
  if (afterHeld.length) {
    await worktree.restoreFiles(study.baseCommit, afterHeld);
    return { kind: 'tampered', files: afterHeld, result };
  }
  const heldout: HeldoutScore =
    held.kind !== 'ok'
      ? { value: null, reason: `held-out evaluate step: ${held.reason ?? held.kind}` }
      : held.metrics[HELDOUT_CONFIRM] !== 1
        ? {
            value: null,
            unsupported: true,
            reason: `the evaluate step does not score a held-out split (it did not print "${HELDOUT_CONFIRM}: 1" when run with AUTORESEARCH_SPLIT=heldout)`,
          }
        : { value: held.value };
  return { kind: 'ran', result, heldout };
}

/** Runs one step (training or evaluation) with the run's environment; records its process group. */
async function step(
  ctx: RunContext,
  req: RunRequest,
  seed: number,
  phase: RunPhase,
  spec: Pick<RunSpec, 'command' | 'timeoutMs' | 'logPath' | 'metric'>,
  watch?: RunWatch,
  split: 'heldout' | null = null,
): Promise<RunResult> {
  const { config, runner } = ctx;
  const { exp, worktree, slot } = req;
  const env = runEnv(config, { number: exp.number, worktree: worktree.path, seed, extra: slot.env });
  // Only with an evaluate step: a template then saves a checkpoint instead of scoring itself.
  if (config.run.evaluate !== undefined) {
    env.AUTORESEARCH_OUTPUT = outputDir(ctx, slot);
    env.AUTORESEARCH_PHASE = phase;
  }
  // Only the evaluate step of an analysis run is ever told to score the held-out split.
  if (split === 'heldout' && phase === 'evaluate') env.AUTORESEARCH_SPLIT = 'heldout';
  const record = req.record ?? ((patch) => ctx.ledger.updateExperiment(exp.id, patch));
  const pgidWrites: Promise<unknown>[] = [];
  const view = sandboxView(config, { worktree: worktree.path, outputDir: outputDir(ctx, slot), phase, env });
  const result = await runner.run(
    ctx.sandbox.wrap(
      {
        ...spec,
        cwd: worktree.path,
        env,
        killGraceMs: config.run.kill_grace_s * 1000,
        ...(config.run.stall_timeout_s !== undefined ? { stallTimeoutMs: config.run.stall_timeout_s * 1000 } : {}),
        logCapBytes: Math.round(config.run.log_cap_mb * 1024 * 1024),
        onSpawn: (pgid) => pgidWrites.push(record({ pgid })),
        ...(watch ? { onOutput: (chunk: string) => watch.onOutput(chunk) } : {}),
        secrets: ctx.secrets,
      },
      view,
    ),
    watch ? AbortSignal.any([ctx.signal, watch.signal]) : ctx.signal,
  );
  await Promise.all(pgidWrites);
  // A run stopped because the lease was lost: the experiment is another host's now, leave its row alone.
  if (!isLeaseStop(ctx.signal.reason)) await record({ pgid: null });
  return result;
}

/**
 * AUTORESEARCH_SEED of one run. `[judge] seeds = "drawn"` (default): a seed drawn at random when
 * the run starts, so that no proposer can know or pick the seed a measurement will use (it is
 * recorded in the ledger as a 'seed' record, never put into a prompt); "indexed": [study].seed +
 * run index; vary_seed = false: [study].seed for every run. Training and its evaluate step share it.
 */
export function seedFor(config: Config, runIndex: number): number {
  if (!config.judge.vary_seed) return config.study.seed;
  if (config.judge.seeds === 'indexed') return config.study.seed + runIndex;
  return randomInt(1, 2 ** 31 - 1);
}

/** Training's metrics as diagnostics: the objective it printed (if any) is renamed `train/<metric>`. */
function diagnostics(metrics: Record<string, number>, metric: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) out[k === metric ? `train/${metric}` : k] = v;
  return out;
}

/** A failed training step when an evaluate step is configured (no objective either way). */
function asTraining(train: RunResult, metric: string): RunResult {
  return { ...train, metrics: diagnostics(train.metrics, metric), value: null };
}

/**
 * One result from both steps: outcome, objective and reason from the evaluate step; metrics of
 * both (evaluation's win, training's objective renamed); the log tail of both; the duration of
 * both (evaluation also as `evaluate_seconds`).
 */
function combine(train: RunResult, evaluated: RunResult, metric: string): RunResult {
  const metrics = {
    ...diagnostics(train.metrics, metric),
    ...evaluated.metrics,
    evaluate_seconds: evaluated.durationMs / 1000,
  };
  const result: RunResult = {
    ...evaluated,
    metrics,
    startedAt: train.startedAt,
    durationMs: evaluated.endedAt - train.startedAt,
    logTail: `${train.logTail.slice(-1500)}\n[autoresearch: evaluate step]\n${evaluated.logTail}`,
    outputBytes: train.outputBytes + evaluated.outputBytes,
    truncated: train.truncated || evaluated.truncated,
  };
  if (evaluated.kind !== 'ok') result.reason = `evaluate step: ${evaluated.reason ?? evaluated.kind}`;
  return result;
}

function changedProtected(dir: string, files: readonly string[], expected: Record<string, string>): string[] {
  const now = hashFiles(dir, files);
  return files.filter((f) => expected[f] !== undefined && now[f] !== expected[f]);
}
