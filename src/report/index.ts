/** Reports: the progress chart (SVG/PNG) and its data preparation. */
export {
  DEFAULT_PNG_WIDTH,
  progressChartPng,
  progressChartSpec,
  progressChartSvg,
  writeProgressChart,
  type ProgressChartInput,
} from './progress-chart.js';
export {
  LABEL_MAX_CHARS,
  POINT_KINDS,
  prepareProgress,
  robustDomain,
  truncateLabel,
  type PlotPoint,
  type PointKind,
  type ProgressData,
  type StepPoint,
} from './progress-data.js';
export { FONT_STACK, resvgFontOptions, type ResvgFontOptions } from './fonts.js';
export { KIND_STYLE, LINE_STYLE, type KindStyle, type XAxis } from './chart-style.js';
export { hoursByNumber, logDomain, logScaleProblem, onTimeAxis, timeUnit, type TimeUnit } from './progress-axes.js';
