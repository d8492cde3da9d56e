/**
 * One experiment: propose -> check files -> record -> commit -> run -> judge -> record -> keep/reset.
 * Also the baseline (the unchanged code) and the resumption of an experiment a kill interrupted.
 *
 * Contract: never throws for anything a proposer or a training run does; those end as recorded
 * statuses. Write order everywhere: the ledger first, then git, so that after a `kill -9` the
 * ledger is never behind git (setup resets the worktree to the ledger's best on the next run).
 * An experiment interrupted by Ctrl-C is left `running` with its diff, and is re-run on resume.
 */
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import type { Judge } from '../judge/types.js';
import type { Experiment, ExperimentResult, FinalStatus, Ledger, Study } from '../ledger/types.js';
import type { ProposalContext, Proposer } from '../proposer/types.js';
import type { RunResult, Runner } from '../runner/types.js';
import type { Worktree } from '../workspace/worktree.js';
import type { BestSoFar, EmitEvent } from './events.js';
import { runEnv } from './run-env.js';
import { hashFiles } from './setup.js';

export interface ExperimentDeps {
  config: Config;
  ledger: Ledger;
  proposer: Proposer;
  runner: Runner;
  judge: Judge;
  worktree: Worktree;
  emit: EmitEvent;
  /** Absolute directory for this study's logs. */
  logDir: string;
  /** Facts about where runs happen (host, GPU name and count), recorded with every experiment. */
  machine: Record<string, unknown>;
}

export type StepOutcome =
  | { kind: 'finished'; experiment: Experiment }
  | { kind: 'interrupted' }
  | { kind: 'exhausted'; reason: string };

export function bestOf(study: Study): BestSoFar | null {
  return study.bestCommit && study.bestValue !== null && study.bestNumber !== null
    ? { commit: study.bestCommit, value: study.bestValue, number: study.bestNumber }
    : null;
}

/** Runs the unchanged code at the study's base commit. */
export async function runBaseline(deps: ExperimentDeps, study: Study, existing: Experiment | null, signal: AbortSignal): Promise<StepOutcome> {
  const { ledger, worktree, emit } = deps;
  await worktree.resetHard(study.baseCommit);
  const exp =
    existing ??
    (await ledger.createExperiment(study.id, { baseline: true, parentCommit: study.baseCommit, proposer: 'baseline' }));
  if (existing) await ledger.updateExperiment(exp.id, { attempts: existing.attempts + 1 });
  await ledger.updateExperiment(exp.id, { description: 'baseline' });
  emit({ type: 'experiment-started', t: Date.now(), number: exp.number, baseline: true, parentCommit: study.baseCommit, resumed: !!existing });
  return runAndRecord(deps, study, { ...exp, description: 'baseline' }, study.baseCommit, signal);
}

/** Proposes a change on the current best and runs it. */
export async function runNewExperiment(
  deps: ExperimentDeps,
  study: Study,
  history: Experiment[],
  budget: ProposalContext['budget'],
  program: string | null,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const { config, ledger, proposer, worktree, emit } = deps;
  const best = bestOf(study)!;
  await worktree.resetHard(best.commit);
  const number = history.length === 0 ? 0 : Math.max(...history.map((e) => e.number)) + 1;
  emit({ type: 'experiment-started', t: Date.now(), number, baseline: false, parentCommit: best.commit, resumed: false });

  const ignoredBefore = await worktree.ignoredFiles();
  const t0 = Date.now();
  const proposal = await proposer.propose(
    {
      worktree: worktree.path,
      editable: [...config.files.editable],
      protected: [...config.files.protected],
      objective: { metric: study.metric, direction: study.direction },
      parentCommit: best.commit,
      best,
      number,
      history,
      program,
      budget,
    },
    signal,
  );
  const proposeMs = Date.now() - t0;
  if (signal.aborted) {
    await worktree.resetHard(best.commit);
    return { kind: 'interrupted' };
  }
  if (proposal.kind === 'exhausted') {
    await worktree.resetHard(best.commit);
    return { kind: 'exhausted', reason: proposal.reason };
  }

  const check = await worktree.checkChanges(config.files.editable, ignoredBefore);
  const diff = await worktree.diff(check.changed);
  const description = proposal.kind === 'ok' ? oneLine(proposal.description) : `proposal failed: ${oneLine(proposal.reason)}`;
  const exp = await ledger.createExperiment(study.id, { baseline: false, parentCommit: best.commit, proposer: proposer.name });
  await ledger.updateExperiment(exp.id, {
    description,
    diff,
    proposeMs,
    change: proposal.kind === 'ok' ? (proposal.change ?? null) : null,
    usage: proposal.usage ?? null,
  });
  emit({ type: 'proposal', t: Date.now(), number: exp.number, description, proposeMs });

  let rejection: string | null = null;
  if (proposal.kind === 'failed') rejection = `the proposer failed: ${oneLine(proposal.reason)}`;
  else if (check.changed.length === 0) rejection = 'the proposal changed no file';
  else if (check.forbidden.length) {
    rejection = `the proposal touched file(s) outside [files].editable: ${check.forbidden.join(', ')}`;
  }
  if (rejection) {
    const done = await finish(deps, study, { ...exp, description }, { status: 'rejected', value: null, metrics: {}, reason: rejection });
    await worktree.removeNewIgnored(ignoredBefore);
    await worktree.resetHard(best.commit);
    return done;
  }

  const commit = await worktree.commit(check.changed, description);
  await ledger.updateExperiment(exp.id, { commit });
  return runAndRecord(deps, study, { ...exp, description, commit }, commit, signal);
}

/**
 * Re-runs an experiment that a kill or Ctrl-C left `running`: its stored diff is applied again on
 * its parent (which is still the best, as only a finished keep moves the best).
 */
export async function resumeExperiment(deps: ExperimentDeps, study: Study, exp: Experiment, signal: AbortSignal): Promise<StepOutcome> {
  const { ledger, worktree, emit } = deps;
  const best = bestOf(study)!;
  await ledger.updateExperiment(exp.id, { attempts: exp.attempts + 1 });
  emit({ type: 'experiment-started', t: Date.now(), number: exp.number, baseline: false, parentCommit: exp.parentCommit, resumed: true });
  await worktree.resetHard(best.commit);
  const problem =
    exp.parentCommit !== best.commit
      ? `interrupted on ${exp.parentCommit.slice(0, 7)}, which is no longer the best`
      : !exp.diff.trim()
        ? 'interrupted before its change was recorded'
        : await worktree.applyDiff(exp.diff);
  if (problem) {
    await worktree.resetHard(best.commit);
    return finish(deps, study, exp, { status: 'crash', value: null, metrics: {}, reason: `could not resume: ${problem}` });
  }
  const check = await worktree.checkChanges(deps.config.files.editable, new Set());
  const commit = await worktree.commit(check.changed, exp.description);
  await ledger.updateExperiment(exp.id, { commit });
  return runAndRecord(deps, study, { ...exp, commit }, commit, signal);
}

async function runAndRecord(deps: ExperimentDeps, study: Study, exp: Experiment, commit: string, signal: AbortSignal): Promise<StepOutcome> {
  const { config, ledger, runner, worktree, emit } = deps;
  const protectedFiles = config.files.protected;
  const tampered = changedProtected(worktree.path, protectedFiles, study.protectedHashes);
  if (tampered.length) {
    await worktree.restoreFiles(study.baseCommit, tampered);
    emit({ type: 'notice', t: Date.now(), level: 'warn', message: `restored protected file(s) ${tampered.join(', ')} before the run` });
  }
  const attempt = exp.attempts > 1 ? `.${exp.attempts}` : '';
  const logPath = join(deps.logDir, `${String(exp.number).padStart(4, '0')}${attempt}.log`);
  await ledger.updateExperiment(exp.id, { logPath });
  emit({ type: 'run-started', t: Date.now(), number: exp.number, commit, timeoutS: config.run.timeout_s, logPath });

  const pgidWrites: Promise<unknown>[] = [];
  const result: RunResult = await runner.run(
    {
      command: config.run.command,
      cwd: worktree.path,
      env: runEnv(config, { number: exp.number, worktree: worktree.path }),
      timeoutMs: config.run.timeout_s * 1000,
      killGraceMs: config.run.kill_grace_s * 1000,
      logPath,
      logCapBytes: Math.round(config.run.log_cap_mb * 1024 * 1024),
      metric: study.metric,
      onSpawn: (pgid) => pgidWrites.push(ledger.updateExperiment(exp.id, { pgid })),
    },
    signal,
  );
  await Promise.all(pgidWrites);
  await ledger.updateExperiment(exp.id, { pgid: null });
  if (signal.aborted && result.kind !== 'ok') {
    // Ctrl-C killed the run: leave the experiment `running` so that resume re-runs it.
    await worktree.resetHard(exp.baseline ? study.baseCommit : bestOf(study)!.commit);
    return { kind: 'interrupted' };
  }

  const base: Omit<ExperimentResult, 'status'> = {
    value: result.value,
    metrics: result.metrics,
    logTail: result.logTail,
    exitCode: result.exitCode,
    runMs: result.durationMs,
    endedAt: result.endedAt,
    env: deps.machine,
  };
  const afterRun = changedProtected(worktree.path, protectedFiles, study.protectedHashes);
  let status: FinalStatus;
  let reason: string;
  if (afterRun.length) {
    status = 'rejected';
    reason = `the run modified protected file(s) ${afterRun.join(', ')}`;
    await worktree.restoreFiles(study.baseCommit, afterRun);
  } else if (result.kind !== 'ok') {
    status = result.kind === 'timeout' ? 'timeout' : 'crash';
    reason = result.reason ?? result.kind;
  } else if (exp.baseline) {
    status = 'keep';
    reason = 'baseline';
  } else {
    const d = deps.judge.decide({ direction: study.direction, best: study.bestValue!, candidate: result.value! });
    status = d.decision;
    reason = d.reason;
  }
  return finish(deps, study, exp, { ...base, status, reason });
}

async function finish(deps: ExperimentDeps, study: Study, exp: Experiment, result: ExperimentResult): Promise<StepOutcome> {
  const done = await deps.ledger.finishExperiment(exp.id, { endedAt: Date.now(), ...result });
  const fresh = (await deps.ledger.getStudy(study.tag))!;
  if (result.status !== 'keep') {
    const back = fresh.bestCommit ?? study.baseCommit;
    await deps.worktree.resetHard(back);
  }
  const finished = (await deps.ledger.listExperiments(study.id)).filter((e) => !e.baseline && e.status !== 'running').length;
  deps.emit({
    type: 'experiment-finished',
    t: Date.now(),
    number: done.number,
    baseline: done.baseline,
    status: result.status,
    value: done.value,
    description: done.description,
    reason: done.reason,
    commit: done.commit ?? (done.baseline ? done.parentCommit : null),
    runMs: done.runMs,
    best: bestOf(fresh),
    finished,
  });
  return { kind: 'finished', experiment: done };
}

function changedProtected(dir: string, files: readonly string[], expected: Record<string, string>): string[] {
  const now = hashFiles(dir, files);
  return files.filter((f) => expected[f] !== undefined && now[f] !== expected[f]);
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
