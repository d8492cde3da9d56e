/**
 * The one chart style shared by `plot`, `report` and the dashboard: colour, marker and opacity per
 * kind of point, the running-best line and the noise band. The dashboard receives it as JSON
 * (GET /api/style), so its uPlot chart looks like the SVG/PNG one.
 */
import type { PointKind } from './progress-data.js';

export interface KindStyle {
  label: string;
  color: string;
  /** vega shape name or SVG path in vega's unit box. */
  shape: string;
  size: number;
  opacity: number;
}

/** A filled "×" as a polygon path in vega's unit symbol box (a stroked path can't be filled). */
function crossPath(): string {
  const a = 0.28; // arm half-width
  const plus: [number, number][] = [
    [a, -1],
    [a, -a],
    [1, -a],
    [1, a],
    [a, a],
    [a, 1],
    [-a, 1],
    [-a, a],
    [-1, a],
    [-1, -a],
    [-a, -a],
    [-a, -1],
  ];
  const c = Math.SQRT1_2;
  const pts = plus.map(([x, y]) => [(x - y) * c, (x + y) * c].map((v) => v.toFixed(3)).join(','));
  return `M${pts.join('L')}Z`;
}

export const KIND_STYLE: Record<PointKind, KindStyle> = {
  kept: { label: 'kept', color: '#2ca02c', shape: 'circle', size: 70, opacity: 1 },
  discarded: { label: 'discarded', color: '#9e9e9e', shape: 'circle', size: 36, opacity: 0.55 },
  'off-scale': { label: 'off-scale (clipped)', color: '#757575', shape: 'triangle', size: 60, opacity: 0.8 },
  crash: { label: 'crash (no value)', color: '#d62728', shape: crossPath(), size: 70, opacity: 0.9 },
  timeout: { label: 'timeout (no value)', color: '#ff7f0e', shape: crossPath(), size: 70, opacity: 0.9 },
  rejected: { label: 'rejected', color: '#a8a8a8', shape: 'square', size: 24, opacity: 0.7 },
};

/** The running-best step line, kept labels and the noise band around the best. */
export const LINE_STYLE = {
  bestColor: '#2ca02c',
  bestWidth: 2,
  bestOpacity: 0.8,
  labelColor: '#1b5e20',
  /** Fill of the band best ± noise sigma. */
  noiseFill: 'rgba(44, 160, 44, 0.12)',
} as const;

/** x axis of the progress chart: experiment number, or hours since the study's first experiment. */
export type XAxis = 'experiment' | 'time';
