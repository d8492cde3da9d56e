/**
 * The study's noise estimate, learnt as the study goes (with the sequential judge; the `noise`
 * judge keeps the baseline's estimate, as it always did): after every decision that ran a commit
 * more than once and every re-measurement, the standard deviation is pooled again over every
 * commit measured more than once (../judge/pooled-noise.ts), stored as the study's noise floor
 * (Ledger.setStudyNoise) and announced as a `noise-floor` event when it changed.
 *
 * Where repeated measurements come from: the baseline's runs, each experiment's runs
 * (`evidence.runs`, first run and confirmations), the runs of a change before it was re-applied
 * onto a newer best (`evidence.rebased`), and study records of kind `measurement`
 * (`{commit, runs}`: re-measurements of a new best, ./remeasure.ts; ablation and transfer runs
 * may add theirs the same way).
 *
 * Contract: call inside `frontier.lock` (it refreshes the frontier's study). Never throws for
 * what runs did; ledger failures propagate.
 */
import { poolNoise, type Measured } from '../judge/pooled-noise.js';
import type { Experiment, Ledger, NoiseFloor } from '../ledger/types.js';
import type { LoopContext } from './context.js';
import { MEASUREMENT, type MeasurementRecord } from './measurement.js';

export { MEASUREMENT, type MeasurementRecord } from './measurement.js';

/** Every repeated measurement of one commit in a study (groups of one commit are merged later). */
export async function measuredGroups(ledger: Ledger, studyId: number, all: Experiment[]): Promise<Measured[]> {
  const groups: Measured[] = [];
  for (const e of all) {
    const ev = e.evidence;
    if (!ev) continue;
    const commit = e.baseline ? e.parentCommit : e.commit;
    if (commit && ev.runs.length) groups.push({ commit, runs: ev.runs });
    if (ev.rebased?.fromCommit && ev.rebased.runs.length)
      groups.push({ commit: ev.rebased.fromCommit, runs: ev.rebased.runs });
  }
  for (const r of await ledger.listRecords(studyId, MEASUREMENT)) {
    const m = r.value as Partial<MeasurementRecord>;
    if (typeof m.commit === 'string' && Array.isArray(m.runs))
      groups.push({ commit: m.commit, runs: m.runs.filter((x) => typeof x === 'number' && Number.isFinite(x)) });
  }
  return groups;
}

/** Pools the estimate again; stores and announces it when it changed. Returns the estimate in use. */
export async function learnNoise(ctx: LoopContext): Promise<NoiseFloor | null> {
  const { ledger, frontier } = ctx;
  const study = frontier.currentStudy;
  // Only the sequential judge learns: `noise` keeps the baseline's estimate (the earlier rule, as it was).
  if (ctx.config.judge.kind !== 'sequential') return study.noise;
  const all = await ledger.listExperiments(study.id);
  const baseline = all.find((e) => e.baseline && e.status === 'keep');
  const pooled = poolNoise(
    baseline?.evidence?.runs ?? study.noise?.runs ?? [],
    await measuredGroups(ledger, study.id, all),
  );
  if (!pooled) return study.noise;
  const old = study.noise;
  if (old && old.sigma === pooled.sigma && (old.df ?? old.runs.length - 1) === pooled.df) return old;
  await ledger.setStudyNoise(study.id, pooled);
  await frontier.refresh();
  ctx.emit({ type: 'noise-floor', t: Date.now(), ...pooled });
  return pooled;
}
