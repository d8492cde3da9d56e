/**
 * Layout of the rotated labels of kept experiments: room for them inside the plot (so they don't
 * widen the SVG or run into the title), and thinning where they would overlap each other or a
 * kept point. Pure geometry on estimated text widths (vega measures text the same rough way
 * when it renders headless).
 */

export interface LabelStyle {
  fontSize: number;
  /** Screen angle in degrees (vega's: positive turns clockwise; -30 rises to the right). */
  angle: number;
  /** Gap between the point and the start of its text, px. */
  dx: number;
}

export interface Plot {
  width: number;
  height: number;
  x: [number, number];
  y: [number, number];
}

export interface Label {
  n: number;
  y: number;
  text: string;
}

/** Estimated text width: DejaVu Sans / Arial average 0.55-0.6 em per character; a bit more to be safe. */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.62;
}

const rad = (deg: number): number => (deg * Math.PI) / 180;

/**
 * Grows the x domain to the right and the y domain on the side the labels run to (top when they
 * rise, bottom when they fall) until every label fits inside the plot. Each label may claim at
 * most 40% of the plot on an axis; longer ones are left to overflow.
 */
export function fitLabels(labels: Label[], plot: Plot, style: LabelStyle): Pick<Plot, 'x' | 'y'> {
  let [x0, x1] = plot.x;
  let [lo, hi] = plot.y;
  const cos = Math.abs(Math.cos(rad(style.angle)));
  const sin = Math.abs(Math.sin(rad(style.angle)));
  const rises = style.angle < 0;
  for (const l of labels) {
    const len = style.dx + textWidth(l.text, style.fontSize);
    const rx = (len * cos + style.fontSize / 2) / plot.width;
    if (rx < 0.4) x1 = Math.max(x1, (l.n - x0 * rx) / (1 - rx));
    // Vertical room, as a fraction of the plot height, the label needs beyond its point.
    const ry = (len * sin + style.fontSize) / plot.height;
    if (ry >= 0.4) continue;
    if (rises) hi = Math.max(hi, (l.y - ry * lo) / (1 - ry));
    else lo = Math.min(lo, (l.y - ry * hi) / (1 - ry));
  }
  return { x: [x0, x1], y: [lo, hi] };
}

/**
 * Picks the labels to draw: greedily by priority (higher first), a label is dropped when it
 * would overlap an accepted label or cross a kept point other than its own. `priority[i]` belongs
 * to `labels[i]`; Infinity = always drawn. Returns the kept labels in their original order.
 */
export function thinLabels(labels: Label[], priority: number[], plot: Plot, style: LabelStyle): Label[] {
  const px = (l: Label): [number, number] => [
    ((l.n - plot.x[0]) / (plot.x[1] - plot.x[0])) * plot.width,
    ((plot.y[1] - l.y) / (plot.y[1] - plot.y[0])) * plot.height,
  ];
  const a = rad(style.angle);
  const u: [number, number] = [Math.cos(a), Math.sin(a)];
  const nrm: [number, number] = [-Math.sin(a), Math.cos(a)];
  const pos = labels.map(px);
  const len = labels.map((l) => textWidth(l.text, style.fontSize));
  /** Offset of point j in label i's frame: [along the text, across it]. */
  const rel = (i: number, j: number): [number, number] => {
    const d = [pos[j]![0] - pos[i]![0], pos[j]![1] - pos[i]![1]];
    return [d[0]! * u[0] + d[1]! * u[1], d[0]! * nrm[0] + d[1]! * nrm[1]];
  };
  const lineGap = style.fontSize * 1.2;
  const clashes = (i: number, j: number): boolean => {
    const [s, perp] = rel(i, j);
    // Parallel texts [dx, dx+len_i] and [s+dx, s+dx+len_j] along the same direction.
    return Math.abs(perp) < lineGap && s < len[i]! + 4 && -s < len[j]! + 4;
  };
  const crossesPoint = (i: number, j: number): boolean => {
    const [s, perp] = rel(i, j);
    return Math.abs(perp) < style.fontSize / 2 + 4 && s > 0 && s < style.dx + len[i]! + 4;
  };
  const order = labels.map((_, i) => i).sort((p, q) => priority[q]! - priority[p]!);
  const accepted: number[] = [];
  for (const i of order) {
    const must = priority[i] === Infinity;
    const ok = must || (!accepted.some((j) => clashes(i, j)) && !labels.some((_, j) => j !== i && crossesPoint(i, j)));
    if (ok) accepted.push(i);
  }
  return accepted.sort((p, q) => p - q).map((i) => labels[i]!);
}

/**
 * Priority of each kept label: the first (baseline) and the last (current best) always show,
 * the others by the size of their improvement over the previous keep.
 */
export function labelPriority(labels: Label[]): number[] {
  return labels.map((l, i) => (i === 0 || i === labels.length - 1 ? Infinity : Math.abs(labels[i - 1]!.y - l.y)));
}
