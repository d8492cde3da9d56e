/**
 * Study records of extra repeated measurements of one commit (kind `measurement`): the
 * re-measurements of a new best (./remeasure.ts), ablation and transfer runs. Read by the noise
 * estimate (./noise-estimate.ts) and, for re-measurements, by every host's frontier (./frontier.ts).
 */

/** The record kind that holds extra repeated measurements of one commit. */
export const MEASUREMENT = 'measurement';

export interface MeasurementRecord {
  commit: string;
  /** The experiment whose commit it is, when there is one. */
  number: number | null;
  runs: number[];
  /** What measured it: 'remeasure', 'ablation', ... */
  source: string;
}
