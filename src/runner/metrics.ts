/**
 * Metric parsing for training logs.
 *
 * Two formats are recognised (see DESIGN.md §4):
 * - the summary block: a line that is exactly `---` (surrounding whitespace ignored) followed by
 *   `key: value` lines, ending at the first line that is not `key: value`;
 * - `METRIC name=value` lines anywhere in the log (several pairs per line allowed).
 *
 * Later values win, whichever format they come from. Lines are cleaned first: `\r\n` endings,
 * ANSI escape sequences and progress-bar prefixes carried by `\r` (only the text after the last
 * `\r` of a line counts) do not get in the way.
 */

/** Metric names: a letter or underscore, then word characters, `.`, `-` or `/`. */
const KEY = '[A-Za-z_][\\w.\\-/]*';
const BLOCK_LINE = new RegExp(`^(${KEY})\\s*:\\s*(.*)$`);
const METRIC_WORD = /(?:^|[^\w])METRIC\s+(.*)$/;
const METRIC_PAIR = new RegExp(`^(${KEY})=(\\S*)$`);
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** CSI sequences (colours, cursor moves) and OSC sequences (titles, links). */
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/**
 * Parses one metric value: decimal or scientific numbers, `nan` (any case) as NaN,
 * `inf`/`infinity` with an optional sign as ±Infinity. Returns undefined for anything else.
 * Never throws.
 */
export function parseMetricValue(text: string): number | undefined {
  const s = text.trim();
  if (NUMBER.test(s)) return Number(s);
  const lower = s.toLowerCase();
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return Number.NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') {
    return Number.POSITIVE_INFINITY;
  }
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  return undefined;
}

/**
 * Cleans one raw line (without its `\n`): drops a trailing `\r`, keeps only the text after the
 * last remaining `\r` (progress bars redraw with `\r`), strips ANSI escape sequences.
 */
export function cleanLine(raw: string): string {
  let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const cr = line.lastIndexOf('\r');
  if (cr >= 0) line = line.slice(cr + 1);
  if (line.includes('\x1b')) line = line.replace(ANSI, '');
  return line;
}

/** Splits `text` into cleaned lines (see `cleanLine`). */
export function cleanLines(text: string): string[] {
  return text.split('\n').map(cleanLine);
}

/**
 * Parses every metric in a log (summary blocks and METRIC lines), finite or not.
 * Non-numeric values are skipped. Never throws; returns an empty record when nothing is found.
 * The returned object has only own, enumerable properties (a key such as `__proto__` is a plain key).
 */
export function parseMetrics(log: string): Record<string, number> {
  const found = new Map<string, number>();
  const set = (key: string, value: number): void => {
    // Delete first so that insertion order follows "last written", like the values do.
    found.delete(key);
    found.set(key, value);
  };
  let inBlock = false;
  for (const raw of log.split('\n')) {
    // Fast path: most log lines are neither a block separator, a block line, nor a METRIC line.
    const maybeMetric = raw.includes('METRIC');
    if (!inBlock && !maybeMetric && !raw.includes('---')) continue;
    const line = cleanLine(raw);
    const trimmed = line.trim();
    if (trimmed === '---') {
      inBlock = true;
      continue;
    }
    if (inBlock) {
      const m = BLOCK_LINE.exec(trimmed);
      if (m) {
        const value = parseMetricValue(m[2] ?? '');
        if (value !== undefined) set(m[1] ?? '', value);
        continue;
      }
      inBlock = false;
    }
    if (maybeMetric) parseMetricLine(trimmed, set);
  }
  return Object.fromEntries(found);
}

function parseMetricLine(line: string, set: (key: string, value: number) => void): void {
  const m = METRIC_WORD.exec(line);
  if (!m) return;
  for (const token of (m[1] ?? '').split(/\s+/)) {
    if (token === '') continue;
    const pair = METRIC_PAIR.exec(token);
    if (!pair) break;
    const value = parseMetricValue(pair[2] ?? '');
    if (value !== undefined) set(pair[1] ?? '', value);
  }
}

/**
 * The end of `text`, at most `maxBytes` bytes of UTF-8, starting at a line boundary when the
 * cut falls inside a line and a later line exists. Never throws; `maxBytes <= 0` gives ''.
 */
export function lastLines(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  // Only the last maxBytes characters can matter (each is at least one byte).
  const window = Buffer.from(text.slice(-maxBytes), 'utf8');
  let tail = window.subarray(window.length - Math.min(window.length, maxBytes)).toString('utf8');
  // A cut inside a multi-byte character decodes as U+FFFD at the start: drop it.
  tail = tail.replace(/^\uFFFD+/, '');
  if (text.length > tail.length && text[text.length - tail.length - 1] !== '\n') {
    const nl = tail.indexOf('\n');
    if (nl >= 0 && nl < tail.length - 1) tail = tail.slice(nl + 1);
  }
  return tail;
}
