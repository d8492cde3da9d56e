import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanLine, lastLines, parseMetricValue, parseMetrics } from './metrics.js';

describe('parseMetrics', () => {
  it('parses the original autoresearch summary block', () => {
    const log = [
      'step 00953 (100.0%) | loss: 3.123',
      '---',
      'val_bpb:          0.997900',
      'training_seconds: 300.1',
      'peak_vram_mb:     45060.2',
      'mfu_percent:      39.80',
      'num_steps:        953',
      'depth:            8',
      '',
    ].join('\n');
    assert.deepEqual(parseMetrics(log), {
      val_bpb: 0.9979,
      training_seconds: 300.1,
      peak_vram_mb: 45060.2,
      mfu_percent: 39.8,
      num_steps: 953,
      depth: 8,
    });
  });

  it('ignores key: value lines that are not in a block, and ends a block at a non key line', () => {
    const log = 'loss: 5\n---\na: 1\nsomething else\nb: 2\n';
    assert.deepEqual(parseMetrics(log), { a: 1 });
  });

  it('lets later blocks and METRIC lines win', () => {
    const log = '---\na: 1\nb: 2\n\nMETRIC a=3\n---\nb: 4\n';
    assert.deepEqual(parseMetrics(log), { a: 3, b: 4 });
  });

  it('parses METRIC lines with several pairs, anywhere in the log', () => {
    const log = 'noise\nMETRIC a=1 b=2.5e-3\nINFO:root:METRIC c=-4 d=x e=5\n  METRIC f=1e3  \n';
    // `d=x` is not a number: skipped; parsing goes on with the next pair.
    assert.deepEqual(parseMetrics(log), { a: 1, b: 0.0025, c: -4, e: 5, f: 1000 });
  });

  it('stops a METRIC line at a token that is not name=value', () => {
    assert.deepEqual(parseMetrics('METRIC a=1 then b=2\n'), { a: 1 });
    assert.deepEqual(parseMetrics('NOMETRIC a=1\nMETRICS a=1\n'), {});
  });

  it('reads nan and infinities, skips non-numeric values', () => {
    const m = parseMetrics('---\na: nan\nb: NaN\nc: inf\nd: -inf\ne: hello\nf: 12 MB\ng: 1.5E+2\n');
    assert.ok(Number.isNaN(m.a));
    assert.ok(Number.isNaN(m.b));
    assert.equal(m.c, Infinity);
    assert.equal(m.d, -Infinity);
    assert.equal('e' in m, false);
    assert.equal('f' in m, false);
    assert.equal(m.g, 150);
  });

  it('accepts keys with dots, dashes and slashes', () => {
    assert.deepEqual(parseMetrics('---\neval/loss: 1\nacc.top-1: 0.5\n_x: 2\n'), {
      'eval/loss': 1,
      'acc.top-1': 0.5,
      _x: 2,
    });
  });

  it('tolerates CRLF, ANSI colours and progress-bar prefixes carried by \\r', () => {
    const log =
      'epoch 1\r\n' +
      '\x1b[32m---\x1b[0m\r\n' +
      '\x1b[1mval_bpb:\x1b[0m 1.25\r\n' +
      'progress 10%\rprogress 100%\rMETRIC tokens=7\r\n' +
      '50%|#####     |\r---\n' +
      'loss: 2\n';
    assert.deepEqual(parseMetrics(log), { val_bpb: 1.25, tokens: 7, loss: 2 });
  });

  it('returns {} for empty or metric-free logs, and treats __proto__ as a plain key', () => {
    assert.deepEqual(parseMetrics(''), {});
    assert.deepEqual(parseMetrics('hello\nworld'), {});
    const m = parseMetrics('METRIC __proto__=1\n');
    assert.equal(Object.getPrototypeOf(m), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(m, '__proto__')?.value, 1);
  });

  it('is fast on a large log', () => {
    const line = 'step 123 | loss 2.345 | lr 0.001 | tok/s 12345\n';
    const log = line.repeat(200_000) + '---\nval_bpb: 0.5\n';
    const t = performance.now();
    assert.equal(parseMetrics(log).val_bpb, 0.5);
    assert.ok(performance.now() - t < 1000);
  });
});

describe('parseMetricValue', () => {
  it('parses numbers and rejects the rest', () => {
    assert.equal(parseMetricValue(' 42 '), 42);
    assert.equal(parseMetricValue('-.5'), -0.5);
    assert.equal(parseMetricValue('+3.'), 3);
    assert.equal(parseMetricValue('1e-3'), 0.001);
    assert.equal(parseMetricValue('Infinity'), Infinity);
    assert.equal(parseMetricValue(''), undefined);
    assert.equal(parseMetricValue('0x10'), undefined);
    assert.equal(parseMetricValue('1,000'), undefined);
    assert.equal(parseMetricValue('.'), undefined);
  });
});

describe('cleanLine', () => {
  it('keeps the text after the last \\r and strips ANSI', () => {
    assert.equal(cleanLine('a\rb\r'), 'b');
    assert.equal(cleanLine('\x1b[31mred\x1b[0m'), 'red');
  });
});

describe('lastLines', () => {
  it('returns short text as is', () => {
    assert.equal(lastLines('a\nb\n', 100), 'a\nb\n');
  });
  it('cuts at a line boundary within the byte budget', () => {
    const text = 'first line\nsecond line\nthird\n';
    const tail = lastLines(text, 15);
    assert.equal(tail, 'third\n');
    assert.ok(Buffer.byteLength(tail) <= 15);
  });
  it('keeps a partial line when it is the only one, and never splits a character', () => {
    const tail = lastLines('ééééé', 5);
    assert.ok(Buffer.byteLength(tail) <= 5);
    assert.match(tail, /^é+$/);
    assert.equal(lastLines('abc', 0), '');
  });
});
