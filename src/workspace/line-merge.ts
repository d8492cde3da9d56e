/**
 * A line-level three-way merge that lets two changes sit on neighbouring lines.
 *
 * Git's merge calls two edits a conflict when they touch adjacent lines (a hyper-parameter block
 * edited by two experiments, one line each), so a stale experiment would be recorded as
 * `conflict` without ever being judged. This merge places each change exactly — by its line
 * numbers in the common base, shifted by what the other side inserted or removed above it —
 * and refuses what is ambiguous: both sides changing the same base line, an insertion inside or
 * right next to a range the other side rewrote, or two different insertions at the same place.
 * It never guesses a position (unlike a zero-context patch, which lands at the old line number).
 *
 * Pure; never throws. Hunks come from `git diff -U0` of one file (`parseZeroContextHunks`).
 */

/** Base lines [start, start + count) (0-based) replaced by `lines`; count 0 = insert before `start`. */
export interface Hunk {
  start: number;
  count: number;
  lines: string[];
}

export type LineMerge = { ok: true; text: string } | { ok: false; reason: string };

/** Hunks of a `git diff -U0` of one file; null when the diff is not plain text (binary, no newline at EOF). */
export function parseZeroContextHunks(diff: string): Hunk[] | null {
  const hunks: Hunk[] = [];
  let current: Hunk | null = null;
  for (const line of diff.split('\n')) {
    const h = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/.exec(line);
    if (h) {
      const a = Number(h[1]);
      const b = h[2] === undefined ? 1 : Number(h[2]);
      current = { start: b === 0 ? a : a - 1, count: b, lines: [] };
      hunks.push(current);
      continue;
    }
    if (line.startsWith('Binary files') || line.startsWith('\\')) return null;
    if (current && line.startsWith('+') && !line.startsWith('+++')) current.lines.push(line.slice(1));
  }
  return hunks;
}

function same(a: Hunk, b: Hunk): boolean {
  return (
    a.start === b.start &&
    a.count === b.count &&
    a.lines.length === b.lines.length &&
    a.lines.every((l, i) => l === b.lines[i])
  );
}

/** Why `a` (ours) and `b` (theirs) can't both apply, or null. */
function clash(a: Hunk, b: Hunk): string | null {
  if (same(a, b)) return null;
  const line = Math.min(a.start, b.start) + 1;
  if (a.count > 0 && b.count > 0) {
    return a.start < b.start + b.count && b.start < a.start + a.count ? `both changed line ${line}` : null;
  }
  if (a.count === 0 && b.count === 0) return a.start === b.start ? `both inserted lines at line ${line}` : null;
  const [ins, range] = a.count === 0 ? [a, b] : [b, a];
  // An insertion touching a rewritten range (right before, inside or right after it) is too
  // close to know which version it belongs with: refused. Rewrites of neighbouring lines are not.
  return range.start <= ins.start && ins.start <= range.start + range.count
    ? `an insertion next to lines the other change rewrote (line ${line})`
    : null;
}

/** Merges `theirs` into a base text already changed by `ours`; both are hunks against `base`. */
export function mergeLines(base: string, ours: Hunk[], theirs: Hunk[]): LineMerge {
  for (const a of ours) {
    for (const b of theirs) {
      const why = clash(a, b);
      if (why) return { ok: false, reason: why };
    }
  }
  const all = [...ours, ...theirs.filter((b) => !ours.some((a) => same(a, b)))];
  // At one base position, insertions go before a replacement of the lines that start there.
  all.sort((x, y) => x.start - y.start || (x.count === 0 ? 0 : 1) - (y.count === 0 ? 0 : 1));
  const lines = base.split('\n');
  const out: string[] = [];
  let at = 0;
  for (const h of all) {
    if (h.start < at) return { ok: false, reason: `overlapping changes at line ${h.start + 1}` };
    out.push(...lines.slice(at, h.start), ...h.lines);
    at = h.start + h.count;
  }
  out.push(...lines.slice(at));
  return { ok: true, text: out.join('\n') };
}
