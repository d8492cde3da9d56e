import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeLines, parseZeroContextHunks, type Hunk } from './line-merge.js';

const BASE = ['A = 1', 'B = 2', 'C = 3', 'D = 4', ''].join('\n');
const set = (start: number, ...lines: string[]): Hunk => ({ start, count: lines.length, lines });

describe('mergeLines', () => {
  it('merges rewrites of neighbouring lines (git calls this a conflict)', () => {
    const m = mergeLines(BASE, [set(1, 'B = 20')], [set(2, 'C = 30')]);
    assert.deepEqual(m, { ok: true, text: 'A = 1\nB = 20\nC = 30\nD = 4\n' });
  });

  it('places a change by its base line, shifted by what the other side inserted above it', () => {
    const ours: Hunk[] = [{ start: 0, count: 0, lines: ['import os', 'import sys'] }];
    const m = mergeLines(BASE, ours, [set(3, 'D = 40')]);
    assert.deepEqual(m, { ok: true, text: 'import os\nimport sys\nA = 1\nB = 2\nC = 3\nD = 40\n' });
  });

  it('refuses the same line changed twice, insertions at one place and insertions next to a rewrite', () => {
    assert.deepEqual(mergeLines(BASE, [set(1, 'B = 20')], [set(1, 'B = 21')]), {
      ok: false,
      reason: 'both changed line 2',
    });
    assert.equal(
      mergeLines(BASE, [{ start: 2, count: 0, lines: ['x'] }], [{ start: 2, count: 0, lines: ['y'] }]).ok,
      false,
    );
    assert.equal(
      mergeLines(BASE, [set(1, 'B = 20')], [{ start: 2, count: 0, lines: ['E = 5'] }]).ok,
      false,
      'right after the rewrite',
    );
    assert.equal(
      mergeLines(BASE, [set(1, 'B = 20')], [{ start: 1, count: 0, lines: ['E = 5'] }]).ok,
      false,
      'right before it',
    );
    assert.deepEqual(mergeLines(BASE, [set(0, 'A = 10')], [{ start: 3, count: 0, lines: ['E = 5'] }]), {
      ok: true,
      text: 'A = 10\nB = 2\nC = 3\nE = 5\nD = 4\n',
    });
  });

  it('takes a change both sides made once', () => {
    assert.deepEqual(mergeLines(BASE, [set(1, 'B = 20')], [set(1, 'B = 20'), set(3, 'D = 40')]), {
      ok: true,
      text: 'A = 1\nB = 20\nC = 3\nD = 40\n',
    });
  });
});

describe('parseZeroContextHunks', () => {
  it('reads git -U0 hunk headers: replacements, insertions (after line a) and deletions', () => {
    const diff = [
      'diff --git a/t b/t',
      '--- a/t',
      '+++ b/t',
      '@@ -2 +2 @@',
      '-B = 2',
      '+B = 20',
      '@@ -3,0 +4,2 @@',
      '+x',
      '+y',
      '@@ -4,1 +5,0 @@',
      '-D = 4',
    ].join('\n');
    assert.deepEqual(parseZeroContextHunks(diff), [
      set(1, 'B = 20'),
      { start: 3, count: 0, lines: ['x', 'y'] },
      { start: 3, count: 1, lines: [] },
    ]);
    assert.equal(parseZeroContextHunks('@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file'), null);
  });
});
