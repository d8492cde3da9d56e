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
import type { Experiment, Study } from '../ledger/types.js';
import type { RunResult, RunSpec } from '../runner/types.js';
import type { Slot } from '../scheduler/slots.js';
import { hashFiles } from '../workspace/protected-files.js';
import type { Worktree } from '../workspace/worktree.js';
import type { LoopContext } from './context.js';
import { runEnv } from './run-env.js';
import { sandboxView } from './sandbox-view.js';

export type RunOnceResult =
  | { kind: 'ran'; result: RunResult }
  | { kind: 'tampered'; files: string[]; result: RunResult }
  | { kind: 'interrupted' };

export interface RunRequest {
  exp: Experiment;
  study: Study;
  worktree: Worktree;
  slot: Slot;
  /** 0 for the first run of an experiment, 1.. for repeats (baseline noise, confirmations). */
  runIndex: number;
  commit: string;
  /** Experiment attempt (1 normally; +1 per resume), for distinct log names. */
  attempt: number;
}

export type RunPhase = 'train' | 'evaluate';

/** Where a slot's runs leave their output (a checkpoint for the evaluate step); emptied per run. */
export function outputDir(ctx: LoopContext, slot: Slot): string {
  return join(ctx.workspace.stateDir, 'outputs', ctx.config.study.tag, `slot-${slot.index}`);
}

export async function runOnce(ctx: LoopContext, req: RunRequest): Promise<RunOnceResult> {
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
  if (req.runIndex === 0) await ledger.updateExperiment(exp.id, { logPath });
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
  const seed = seedFor(config, req.runIndex);
  if (config.judge.vary_seed && config.judge.seeds === 'drawn')
    await ledger.putRecord(study.id, 'seed', `${exp.number}.r${req.runIndex}.a${req.attempt}`, {
      seed,
      commit: req.commit,
    });
  const out = outputDir(ctx, slot);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const evaluate = config.run.evaluate;
  const train = await step(ctx, req, seed, 'train', {
    command: config.run.command,
    timeoutMs: config.run.timeout_s * 1000,
    logPath,
    ...(evaluate === undefined ? { metric: study.metric } : {}),
  });
  if (ctx.signal.aborted && train.kind !== 'ok') return { kind: 'interrupted' };
  const afterTrain = changedProtected(worktree.path, config.files.protected, study.protectedHashes);
  if (afterTrain.length) {
    await worktree.restoreFiles(study.baseCommit, afterTrain);
    return { kind: 'tampered', files: afterTrain, result: train };
  }
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
  return { kind: 'ran', result };
}

/** Runs one step (training or evaluation) with the run's environment; records its process group. */
async function step(
  ctx: LoopContext,
  req: RunRequest,
  seed: number,
  phase: RunPhase,
  spec: Pick<RunSpec, 'command' | 'timeoutMs' | 'logPath' | 'metric'>,
): Promise<RunResult> {
  const { config, ledger, runner } = ctx;
  const { exp, worktree, slot } = req;
  const env = runEnv(config, { number: exp.number, worktree: worktree.path, seed, extra: slot.env });
  // Only with an evaluate step: a template then saves a checkpoint instead of scoring itself.
  if (config.run.evaluate !== undefined) {
    env.AUTORESEARCH_OUTPUT = outputDir(ctx, slot);
    env.AUTORESEARCH_PHASE = phase;
  }
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
        onSpawn: (pgid) => pgidWrites.push(ledger.updateExperiment(exp.id, { pgid })),
        secrets: ctx.secrets,
      },
      view,
    ),
    ctx.signal,
  );
  await Promise.all(pgidWrites);
  await ledger.updateExperiment(exp.id, { pgid: null });
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
