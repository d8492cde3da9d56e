/**
 * The progress chart (as in the original autoresearch): x = experiment number, y = the objective
 * metric; discarded runs as faint grey points, kept ones as green points joined by the running-best
 * step line and labelled with their description; crashes, timeouts and rejected changes (no value)
 * as markers on the "worse" edge; diverged values clipped to the edge as triangles.
 *
 * Rendering: vega-lite spec -> vega -> SVG (headless, renderer 'none'), SVG -> PNG with resvg.
 * No network, no browser, no canvas.
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { Direction, Experiment } from '../ledger/types.js';
import { FONT_STACK, resvgFontOptions } from './fonts.js';
import { fitLabels, labelPriority, thinLabels, type Plot } from './label-layout.js';
import { KIND_STYLE as STYLE, LINE_STYLE, type XAxis } from './chart-style.js';
import { logDomain, onTimeAxis, timeUnit } from './progress-axes.js';
import { POINT_KINDS, prepareProgress, type ProgressData } from './progress-data.js';

export interface ProgressChartInput {
  /** The study's experiments, any order; 'running' ones are ignored. */
  experiments: Experiment[];
  /** Objective metric name, e.g. "val_bpb" (the y-axis title). */
  metric: string;
  direction: Direction;
  /** Optional prefix of the title, e.g. the study tag. */
  title?: string;
  /** x axis: experiment number (default) or hours since the study's first experiment started. */
  x?: XAxis;
  /** y on a log scale; every value must be > 0 (check with `logScaleProblem` first). */
  logY?: boolean;
}

/** Default PNG width in pixels. */
export const DEFAULT_PNG_WIDTH = 1200;

type VegaModules = { vega: typeof import('vega'); vl: typeof import('vega-lite') };
/**
 * Lazily imported vega + vega-lite (~0.5 s to import), shared by every call in the process.
 * A cache of immutable modules, not state: the only module-level mutable here.
 */
let vegaModules: Promise<VegaModules> | undefined;
function loadVega(): Promise<VegaModules> {
  vegaModules ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({
    vega,
    vl,
  }));
  return vegaModules;
}

function fmt(v: number): string {
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4)) return v.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(6)));
}

function titleText(input: ProgressChartInput, d: ProgressData): { text: string; subtitle: string } {
  const counts = `${d.total} experiment${d.total === 1 ? '' : 's'}, ${d.kept} kept`;
  const text = input.title ? `${input.title}: ${counts}` : counts;
  const parts: string[] = [];
  if (d.best && d.kept > 0) parts.push(`best ${input.metric} ${fmt(d.best.value)} (#${d.best.n})`);
  if (d.baselineValue !== null) {
    let base = `baseline ${fmt(d.baselineValue)}`;
    if (d.best && d.baselineValue !== 0 && d.best.n !== 0) {
      const pct = ((d.best.value - d.baselineValue) / Math.abs(d.baselineValue)) * 100;
      base += ` (${pct >= 0 ? '+' : '−'}${Math.abs(pct).toFixed(2)}%)`;
    }
    parts.push(base);
  }
  return { text, subtitle: parts.join(' · ') };
}

const WIDTH = 1000;
const HEIGHT = 500;
const LABEL_FONT = 11;
const LABEL_ANGLE = 30; // degrees from horizontal
const LABEL_DX = 8;

/** Builds the vega-lite spec (exported for tests and for the dashboard). */
export function progressChartSpec(input: ProgressChartInput): Record<string, unknown> {
  const prepared = prepareProgress(input.experiments, input.direction);
  const { text, subtitle } = titleText(input, prepared);
  const unit = timeUnit(input.experiments);
  const d = input.x === 'time' ? onTimeAxis(prepared, input.experiments, input.direction, unit) : prepared;
  if (input.logY) d.domain = logDomain(d);
  const better = input.direction === 'minimize' ? 'lower' : 'higher';
  const config = {
    font: FONT_STACK,
    background: 'white',
    padding: { left: 10, top: 10, right: 30, bottom: 10 },
    view: { stroke: '#cfcfcf' },
    axis: {
      labelFontSize: 12,
      titleFontSize: 13,
      titleFontWeight: 'normal',
      gridColor: '#ececec',
      domainColor: '#888',
      tickColor: '#888',
      labelColor: '#333',
      titleColor: '#333',
    },
    title: {
      fontSize: 18,
      fontWeight: 'bold',
      subtitleFontSize: 13,
      subtitleColor: '#555',
      anchor: 'start',
      offset: 14,
      color: '#222',
    },
    legend: {
      labelFontSize: 12,
      labelLimit: 400,
      symbolStrokeWidth: 0,
      symbolOpacity: 0.9,
      orient: 'bottom',
      direction: 'horizontal',
      columnPadding: 18,
    },
  };
  const title = subtitle ? { text, subtitle } : { text };
  if (d.points.length === 0) {
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: WIDTH,
      height: HEIGHT,
      config,
      title,
      data: { values: [{ msg: 'no experiments yet' }] },
      mark: { type: 'text', fontSize: 22, color: '#888' },
      encoding: { text: { field: 'msg' }, x: { value: WIDTH / 2 }, y: { value: HEIGHT / 2 } },
    };
  }
  const kinds = POINT_KINDS.filter((k) => d.points.some((p) => p.kind === k));
  const labels = kinds.map((k) => STYLE[k].label);
  // size/opacity read a copy of the field: sharing it with color/shape would merge (and so drop)
  // their `legend: null` into the one legend.
  const legend = (key: 'color' | 'shape' | 'size' | 'opacity') => ({
    field: key === 'color' || key === 'shape' ? 'kindLabel' : 'kindStyle',
    type: 'nominal',
    sort: labels,
    scale: { type: 'ordinal', domain: labels, range: kinds.map((k) => STYLE[k][key]) },
  });
  // Labels rise away from the staircase (up-right when minimizing, down-right when maximizing),
  // so consecutive labels run parallel; a white halo keeps them readable over grey points.
  const style = {
    fontSize: LABEL_FONT,
    angle: input.direction === 'minimize' ? -LABEL_ANGLE : LABEL_ANGLE,
    dx: LABEL_DX,
  };
  const xPad = input.x === 'time' ? Math.max(d.lastN, 1e-3) * 0.02 : 0.5;
  const xMax = input.x === 'time' ? Math.max(d.lastN, 1e-3) : Math.max(d.lastN, 1);
  const base: Plot = { width: WIDTH, height: HEIGHT, x: [-xPad, xMax + xPad], y: d.domain };
  const roomy = { ...base, ...fitLabels(d.labels, base, style) };
  const shown = thinLabels(d.labels, labelPriority(d.labels), roomy, style);
  const dom = fitLabels(shown, base, style);
  const [lo, hi] = dom.y;
  const worseEdge = input.direction === 'minimize' ? hi : lo;
  const points = d.points.map((p) => ({
    ...p,
    // Markers on an edge move with it when labels made room.
    y: p.value === null ? worseEdge : p.kind === 'off-scale' ? (p.value > d.domain[1] ? hi : lo) : p.y,
    kindLabel: STYLE[p.kind].label,
    kindStyle: STYLE[p.kind].label,
    // Triangles point the way the value went off-scale.
    angle: p.kind === 'off-scale' && p.value! < d.domain[0] ? 180 : 0,
    tip: `#${p.number} ${p.kind}${p.value !== null ? ` ${fmt(p.value)}` : ''}: ${p.description}`,
  }));
  const x = {
    field: 'n',
    type: 'quantitative',
    title: input.x === 'time' ? `${unit} since the study started` : 'experiment #',
    scale: { domain: dom.x, nice: false, zero: false },
    axis: input.x === 'time' ? { grid: false } : { tickMinStep: 1, format: 'd', grid: false },
  };
  const hasValues = d.points.some((p) => p.value !== null);
  const y = {
    field: 'y',
    type: 'quantitative',
    title: `${input.metric} (${better} is better)`,
    scale: input.logY
      ? { type: 'log', domain: dom.y, nice: false }
      : { type: 'linear', domain: dom.y, nice: false, zero: false },
    // Without a single value the y scale means nothing: show the axis title only.
    axis: hasValues ? {} : { labels: false, ticks: false, grid: false },
  };
  const offScale = points.filter((p) => p.kind === 'off-scale').map((p) => ({ n: p.n, y: p.y, text: fmt(p.value!) }));
  const notes = hasValues ? [] : [{ x: WIDTH / 2, y: HEIGHT / 2, text: 'no successful runs yet' }];
  // Clipped to the plot (fitLabels made room): vega's headless text-width estimate (0.8 em)
  // would otherwise pad the SVG for text that isn't there.
  const label = { type: 'text', align: 'left', baseline: 'middle', clip: true, ...style };
  const labelEnc = { x, y, text: { field: 'text' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    height: HEIGHT,
    config,
    title,
    layer: [
      {
        data: { values: d.steps },
        mark: {
          type: 'line',
          interpolate: 'step-after',
          color: LINE_STYLE.bestColor,
          strokeWidth: LINE_STYLE.bestWidth,
          opacity: LINE_STYLE.bestOpacity,
        },
        encoding: { x, y },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, strokeWidth: 0 },
        encoding: {
          x,
          y,
          color: { ...legend('color'), title: null },
          shape: { ...legend('shape'), title: null },
          size: { ...legend('size'), legend: null },
          opacity: { ...legend('opacity'), legend: null },
          angle: { field: 'angle', type: 'quantitative', scale: null },
          order: { field: 'n', type: 'quantitative' },
          tooltip: { field: 'tip' },
        },
      },
      {
        data: { values: offScale },
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 7, fontSize: 10, color: '#616161' },
        encoding: { x, y, text: { field: 'text' } },
      },
      {
        data: { values: notes },
        mark: { type: 'text', fontSize: 20, color: '#888' },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: null },
          y: { field: 'y', type: 'quantitative', scale: null },
          text: { field: 'text' },
        },
      },
      {
        data: { values: shown },
        layer: [
          {
            mark: { ...label, stroke: 'white', strokeWidth: 3, strokeOpacity: 0.85, strokeJoin: 'round' },
            encoding: labelEnc,
          },
          { mark: { ...label, color: LINE_STYLE.labelColor }, encoding: labelEnc },
        ],
      },
    ],
  };
}

/** Renders the chart to an SVG document (a string starting with `<svg`). Never throws for data. */
export async function progressChartSvg(input: ProgressChartInput): Promise<string> {
  const { vega, vl } = await loadVega();
  const spec = vl.compile(progressChartSpec(input) as never).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Rasterises an SVG (e.g. from progressChartSvg) to PNG bytes, `opts.width` pixels wide
 * (default 1200; height keeps the aspect ratio). Text needs a system font (see fonts.ts).
 */
export function progressChartPng(svg: string, opts: { width?: number } = {}): Buffer {
  const width = Math.round(opts.width ?? DEFAULT_PNG_WIDTH);
  const { font } = resvgFontOptions();
  const r = new Resvg(svg, { font, fitTo: { mode: 'width', value: width }, background: 'white' });
  return r.render().asPng();
}

/**
 * Writes the chart to `path`: SVG for `.svg`, PNG (1200 px wide) for `.png` (case-insensitive).
 * Throws a plain Error with a usage message for any other extension, before rendering; I/O errors
 * from writing propagate as they are.
 */
export async function writeProgressChart(path: string, input: ProgressChartInput): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.svg' && ext !== '.png') {
    throw new Error(`cannot write chart to "${path}": the file name must end in .svg or .png`);
  }
  const svg = await progressChartSvg(input);
  await writeFile(path, ext === '.svg' ? svg : progressChartPng(svg));
}
