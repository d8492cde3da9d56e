import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LogCapture, TAIL_BYTES, omittedMarker } from './log-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-logcap-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `log-${n++}.txt`);

/** What the file must hold after writing `data` with cap `cap`. */
function expected(data: Buffer, cap: number): Buffer {
  if (data.length <= cap) return data;
  const head = Math.floor(cap / 2);
  const tail = cap - head;
  const omitted = data.length - head - tail;
  return Buffer.concat([
    data.subarray(0, head),
    Buffer.from(omittedMarker(omitted)),
    data.subarray(data.length - tail),
  ]);
}

function capture(chunks: Buffer[], cap: number): { path: string; log: LogCapture } {
  const path = fresh();
  const log = LogCapture.open(path, cap);
  for (const c of chunks) log.write(c);
  log.close();
  return { path, log };
}

describe('LogCapture', () => {
  it('writes output that fits the cap unchanged, without a marker', () => {
    const data = Buffer.from('hello\nworld\n');
    const { path, log } = capture([data.subarray(0, 3), data.subarray(3)], 100);
    assert.deepEqual(readFileSync(path), data);
    assert.equal(log.totalBytes, data.length);
    assert.equal(log.truncated, false);
    assert.equal(log.omittedBytes, 0);
  });

  it('keeps output of exactly the cap unchanged', () => {
    const data = Buffer.from('0123456789');
    const { path, log } = capture([data], 10);
    assert.deepEqual(readFileSync(path), data);
    assert.equal(log.truncated, false);
  });

  it('keeps the head and the tail around a marker when over the cap', () => {
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    const { path, log } = capture(
      [...data].map((b) => Buffer.from([b])),
      10,
    );
    assert.equal(readFileSync(path, 'utf8'), 'abcde\n[autoresearch: 16 bytes of output omitted]\nvwxyz');
    assert.equal(log.truncated, true);
    assert.equal(log.omittedBytes, 16);
    assert.equal(log.totalBytes, 26);
  });

  it('handles chunks larger than the whole cap, and odd caps', () => {
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    assert.deepEqual(readFileSync(capture([data], 7).path), expected(data, 7));
    assert.deepEqual(readFileSync(capture([data.subarray(0, 2), data.subarray(2)], 7).path), expected(data, 7));
  });

  it('matches a reference model for random chunk sizes and caps', () => {
    let seed = 12345;
    const rand = (k: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    for (let round = 0; round < 200; round++) {
      const size = rand(3000);
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = 32 + rand(90);
      const cap = rand(1500);
      const chunks: Buffer[] = [];
      for (let at = 0; at < size; ) {
        const len = Math.min(size - at, 1 + rand(700));
        chunks.push(data.subarray(at, at + len));
        at += len;
      }
      const { path, log } = capture(chunks, cap);
      assert.deepEqual(readFileSync(path), expected(data, cap), `round ${round} size ${size} cap ${cap}`);
      assert.equal(log.totalBytes, size);
    }
  });

  it('keeps the file within the cap while running (live view of the head)', () => {
    const path = fresh();
    const log = LogCapture.open(path, 100);
    log.write(Buffer.alloc(60, 'a'));
    assert.equal(statSync(path).size, 60);
    log.write(Buffer.alloc(60, 'b'));
    assert.equal(statSync(path).size, 100);
    log.close();
    assert.deepEqual(readFileSync(path), expected(Buffer.concat([Buffer.alloc(60, 'a'), Buffer.alloc(60, 'b')]), 100));
  });

  it('always has the last ~4 KiB in tail()', () => {
    const path = fresh();
    const log = LogCapture.open(path, 50);
    assert.equal(log.tail(), '');
    log.write(Buffer.from('x'.repeat(10_000)));
    log.write(Buffer.from('\nthe end\n'));
    const tail = log.tail();
    assert.equal(Buffer.byteLength(tail), TAIL_BYTES);
    assert.ok(tail.endsWith('x\nthe end\n'));
    log.close();
    assert.equal(log.tail(), tail);
  });

  it('drops a split multi-byte character at the start of tail()', () => {
    const log = LogCapture.open(fresh(), 10);
    // 6001 bytes in all: the last 4096 start at byte 1905, inside a 2-byte 'é'.
    log.write(Buffer.from('é'.repeat(3000)));
    log.write(Buffer.from('a'));
    const tail = log.tail();
    assert.ok(!tail.startsWith('\uFFFD'));
    assert.ok(tail.endsWith('éa'));
    log.close();
  });

  it('ignores writes after close; close is idempotent', () => {
    const { path, log } = capture([Buffer.from('abc')], 100);
    log.write(Buffer.from('def'));
    log.close();
    assert.equal(readFileSync(path, 'utf8'), 'abc');
    assert.equal(log.totalBytes, 3);
  });

  it('creates parent directories and truncates an old file', () => {
    const path = join(dir, 'a', 'b', 'log.txt');
    const first = LogCapture.open(path, 100);
    first.write(Buffer.from('old old old'));
    first.close();
    const second = LogCapture.open(path, 100);
    second.write(Buffer.from('new'));
    second.close();
    assert.equal(readFileSync(path, 'utf8'), 'new');
  });

  it('throws when the file cannot be created', () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    assert.throws(() => LogCapture.open(join(blocker, 'log.txt'), 100));
    assert.throws(() => LogCapture.open(fresh(), -1));
  });

  it('stays bounded in memory and fast for 200 MB of output with a 1 MiB cap', () => {
    const path = fresh();
    const log = LogCapture.open(path, 1 << 20);
    const chunk = Buffer.alloc(64 * 1024, 'y');
    const before = process.memoryUsage().arrayBuffers;
    const t = performance.now();
    for (let i = 0; i < 3200; i++) log.write(chunk);
    log.write(Buffer.from('\nMETRIC x=1\n'));
    const grown = process.memoryUsage().arrayBuffers - before;
    log.close();
    const ms = performance.now() - t;
    assert.ok(grown < 4 << 20, `arrayBuffers grew by ${grown} bytes`);
    assert.ok(ms < 2000, `took ${ms} ms`);
    const size = statSync(path).size;
    assert.equal(size, (1 << 20) + Buffer.byteLength(omittedMarker(log.omittedBytes)));
    assert.ok(readFileSync(path, 'utf8').endsWith('y\nMETRIC x=1\n'));
  });
});
