/**
 * The limits of the `run` driving a study (`-n`, `--max-hours`), kept as a study record so that a
 * dashboard in another process can show what is left. Written once when the run starts; read by
 * the feed only while that same process (pid) holds the study lock.
 */
import type { Ledger } from '../ledger/types.js';
import type { StudyEvent } from '../loop/events.js';
import type { RunLimits } from './snapshot.js';

export const RUN_LIMITS_KIND = 'run-limits';
const KEY = 'current';

export interface StoredRunLimits extends RunLimits {
  pid: number;
}

/** Records the limits of this process's run (from its study-started event). Never throws. */
export async function recordRunLimits(
  ledger: Ledger,
  e: Extract<StudyEvent, { type: 'study-started' }>,
  pid: number,
): Promise<string | null> {
  try {
    const study = await ledger.getStudy(e.tag);
    if (!study) return null;
    const value: StoredRunLimits = { maxExperiments: e.maxExperiments, maxHours: e.maxHours, since: e.t, pid };
    await ledger.putRecord(study.id, RUN_LIMITS_KIND, KEY, value);
    return null;
  } catch (err) {
    return `could not record the run's limits for the dashboard: ${(err as Error).message}`;
  }
}

/** The limits of the run held by `pid`, when that run recorded them. */
export async function readRunLimits(ledger: Ledger, studyId: number, pid: number): Promise<RunLimits | null> {
  const r = await ledger.getRecord(studyId, RUN_LIMITS_KIND, KEY);
  const v = r?.value as Partial<StoredRunLimits> | undefined;
  if (!v || v.pid !== pid || typeof v.since !== 'number') return null;
  return { maxExperiments: v.maxExperiments ?? null, maxHours: v.maxHours ?? null, since: v.since };
}
