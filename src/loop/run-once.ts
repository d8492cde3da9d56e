/**
 * One run of the command for an experiment in a slot's worktree: protected files checked before
 * and after, its own log file, the slot's environment and the run's seed.
 *
 * Contract: never throws for anything the command does. 'interrupted' means the signal aborted
 * the run (the experiment stays `running`, to be re-run on resume).
 */
import { join } from 'node:path';
import type { Experiment, Study } from '../ledger/types.js';
import type { RunResult } from '../runner/types.js';
import type { Slot } from '../scheduler/slots.js';
import type { Worktree } from '../workspace/worktree.js';
import type { LoopContext } from './context.js';
import { runEnv } from './run-env.js';
import { sandboxView } from './sandbox-view.js';
import { hashFiles } from './setup.js';

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

export async function runOnce(ctx: LoopContext, req: RunRequest): Promise<RunOnceResult> {
  const { config, ledger, runner, emit } = ctx;
  const { exp, study, worktree, slot } = req;
  const tampered = changedProtected(worktree.path, config.files.protected, study.protectedHashes);
  if (tampered.length) {
    await worktree.restoreFiles(study.baseCommit, tampered);
    emit({ type: 'notice', t: Date.now(), level: 'warn', message: `restored protected file(s) ${tampered.join(', ')} before run #${exp.number}` });
  }
  const suffix = `${req.runIndex > 0 ? `.r${req.runIndex}` : ''}${req.attempt > 1 ? `.a${req.attempt}` : ''}`;
  const logPath = join(ctx.logDir, `${String(exp.number).padStart(4, '0')}${suffix}.log`);
  if (req.runIndex === 0) await ledger.updateExperiment(exp.id, { logPath });
  emit({ type: 'run-started', t: Date.now(), number: exp.number, slot: slot.index, run: req.runIndex, commit: req.commit, timeoutS: config.run.timeout_s, logPath });

  const env = runEnv(config, { number: exp.number, worktree: worktree.path, seed: config.study.seed + (config.judge.vary_seed ? req.runIndex : 0), extra: slot.env });
  const pgidWrites: Promise<unknown>[] = [];
  const view = sandboxView(config, { worktree: worktree.path, phase: 'train', env });
  const result = await runner.run(
    ctx.sandbox.wrap({
      command: config.run.command,
      cwd: worktree.path,
      env,
      timeoutMs: config.run.timeout_s * 1000,
      killGraceMs: config.run.kill_grace_s * 1000,
      logPath,
      logCapBytes: Math.round(config.run.log_cap_mb * 1024 * 1024),
      metric: study.metric,
      onSpawn: (pgid) => pgidWrites.push(ledger.updateExperiment(exp.id, { pgid })),
      secrets: ctx.secrets,
    }, view),
    ctx.signal,
  );
  await Promise.all(pgidWrites);
  await ledger.updateExperiment(exp.id, { pgid: null });
  if (ctx.signal.aborted && result.kind !== 'ok') return { kind: 'interrupted' };
  const after = changedProtected(worktree.path, config.files.protected, study.protectedHashes);
  if (after.length) {
    await worktree.restoreFiles(study.baseCommit, after);
    return { kind: 'tampered', files: after, result };
  }
  return { kind: 'ran', result };
}

function changedProtected(dir: string, files: readonly string[], expected: Record<string, string>): string[] {
  const now = hashFiles(dir, files);
  return files.filter((f) => expected[f] !== undefined && now[f] !== expected[f]);
}
