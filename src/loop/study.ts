/**
 * The study loop: baseline first, then experiments until a budget is reached, the proposer is
 * exhausted, or the signal aborts. Resumes a stopped or killed study where it stopped.
 *
 * Contract: `runStudy` never throws for user-level problems (they come back as a
 * `study-stopped` event with reason 'error' and a message saying what to do); it throws only for
 * bugs and unexpected git/ledger failures. It holds the study lock for its whole duration.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, hostname } from 'node:os';
import { gpuFacts, listGpus } from '../scheduler/gpus.js';
import type { Config } from '../config/load.js';
import type { Judge } from '../judge/types.js';
import { formatResultsTsv } from '../ledger/results-tsv.js';
import type { Experiment, Ledger, Study } from '../ledger/types.js';
import type { Proposer } from '../proposer/types.js';
import type { Runner } from '../runner/types.js';
import type { Workspace } from '../workspace/workspace.js';
import type { EmitEvent, StopReason, StudyEvent } from './events.js';
import { bestOf, resumeExperiment, runBaseline, runNewExperiment, type ExperimentDeps } from './experiment.js';
import { acquireStudyLock, studyLockPath } from './lock.js';
import { openSession } from './setup.js';
import { killStaleGroup } from './stale-process.js';

export interface StudyDeps {
  config: Config;
  workspace: Workspace;
  ledger: Ledger;
  proposer: Proposer;
  runner: Runner;
  judge: Judge;
  emit: EmitEvent;
}

export interface StudyLimits {
  /** Stop when the study has this many finished experiments (baseline not counted). */
  maxExperiments?: number | null;
  /** Stop starting new experiments after this many hours of this invocation. */
  maxHours?: number | null;
}

export type StudyOutcome = Extract<StudyEvent, { type: 'study-stopped' }>;

export async function runStudy(deps: StudyDeps, limits: StudyLimits, signal: AbortSignal): Promise<StudyOutcome> {
  const { config, workspace, ledger, emit } = deps;
  const started = Date.now();
  let lastStudy: Study | null = null;
  const stop = async (reason: StopReason, message: string): Promise<StudyOutcome> => {
    const all = lastStudy ? await ledger.listExperiments(lastStudy.id) : [];
    const event: StudyOutcome = {
      type: 'study-stopped',
      t: Date.now(),
      reason,
      message,
      finished: countFinished(all),
      kept: all.filter((e) => !e.baseline && e.status === 'keep').length,
      best: lastStudy ? bestOf(lastStudy) : null,
    };
    emit(event);
    return event;
  };

  const acquired = acquireStudyLock(studyLockPath(workspace.stateDir, config.study.tag));
  if (!acquired.ok) {
    const h = acquired.holder;
    return stop('error', `study "${config.study.tag}" is already running (pid ${h.pid} on ${h.host}, since ${new Date(h.startedAt).toISOString()}). Stop it first (Ctrl-C in its terminal, or kill ${h.pid}).`);
  }
  try {
    const opened = await openSession(config, workspace, ledger, emit);
    if (!opened.ok) return await stop('error', opened.message);
    const { worktree, resumed } = opened.session;
    let study = opened.session.study;
    lastStudy = study;
    const exDeps: ExperimentDeps = {
      config,
      ledger,
      proposer: deps.proposer,
      runner: deps.runner,
      judge: deps.judge,
      worktree,
      emit,
      logDir: join(workspace.stateDir, 'logs', config.study.tag),
      machine: {
        host: hostname(),
        cpus: cpus().length,
        ...gpuFacts(await listGpus(), config.run.env.CUDA_VISIBLE_DEVICES ?? process.env.CUDA_VISIBLE_DEVICES),
      },
    };
    const programPath = join(config.root, config.files.program);
    const program = existsSync(programPath) ? readFileSync(programPath, 'utf8') : null;

    let all = await ledger.listExperiments(study.id);
    for (const e of all) {
      if (e.status === 'running' && e.pgid) {
        const n = killStaleGroup(e.pgid, `AUTORESEARCH_WORKTREE=${worktree.path}`);
        if (n) emit({ type: 'notice', t: Date.now(), level: 'warn', message: `killed ${n} process(es) left by interrupted experiment ${e.number}` });
      }
    }
    emit({
      type: 'study-started',
      t: Date.now(),
      tag: study.tag,
      branch: study.branch,
      worktree: worktree.path,
      resumed,
      proposer: deps.proposer.name,
      judge: deps.judge.name,
      metric: study.metric,
      direction: study.direction,
      finished: countFinished(all),
      maxExperiments: limits.maxExperiments ?? null,
      maxHours: limits.maxHours ?? null,
      timeoutS: config.run.timeout_s,
      best: bestOf(study),
    });

    const refresh = async () => {
      study = (await ledger.getStudy(study.tag))!;
      lastStudy = study;
      all = await ledger.listExperiments(study.id);
      writeResults(config, all);
    };

    while (true) {
      if (signal.aborted) return await stop('interrupted', 'stopped by the user; `autoresearch run` resumes the study');
      const best = bestOf(study);
      const pending = all.find((e) => e.status === 'running' && (best ? true : e.baseline));
      if (!best) {
        const outcome = await runBaseline(exDeps, study, pending ?? null, signal);
        await refresh();
        if (outcome.kind === 'interrupted') continue;
        if (outcome.kind === 'finished' && outcome.experiment.status !== 'keep') {
          const e = outcome.experiment;
          return await stop('baseline-failed', `the baseline (unchanged code) ended as ${e.status}: ${e.reason}. Log: ${e.logPath}. Fix the command or the code, commit, and run again.`);
        }
        continue;
      }
      const finished = countFinished(all);
      if (limits.maxExperiments != null && finished >= limits.maxExperiments && !pending) {
        return await stop('max-experiments', `reached ${limits.maxExperiments} experiments`);
      }
      if (limits.maxHours != null && Date.now() - started >= limits.maxHours * 3600_000) {
        return await stop('max-hours', `reached the time limit of ${limits.maxHours} h`);
      }
      const outcome = pending
        ? await resumeExperiment(exDeps, study, pending, signal)
        : await runNewExperiment(
            exDeps,
            study,
            all.filter((e) => e.status !== 'running'),
            {
              experimentsLeft: limits.maxExperiments != null ? limits.maxExperiments - finished : null,
              secondsLeft: limits.maxHours != null ? Math.max(0, limits.maxHours * 3600 - (Date.now() - started) / 1000) : null,
            },
            program,
            signal,
          );
      await refresh();
      if (outcome.kind === 'exhausted') return await stop('exhausted', `the proposer has nothing left to try: ${outcome.reason}`);
    }
  } finally {
    acquired.lock.release();
  }
}

function countFinished(all: Experiment[]): number {
  return all.filter((e) => !e.baseline && e.status !== 'running').length;
}

/** Keeps results.tsv at the workspace root current (untracked, like the original's). */
export function writeResults(config: Config, all: Experiment[]): void {
  const tsv = formatResultsTsv(all, {
    metric: config.objective.metric,
    memoryMetric: config.results.memory_metric,
    memoryScale: config.results.memory_scale,
  });
  writeFileSync(join(config.root, 'results.tsv'), tsv);
}
