import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAtomic } from './write-atomic.js';

/** Reads `file` in a loop until `stop` exists; prints how many reads were not one whole version. */
const READER = `
const { readFileSync, existsSync } = require('node:fs');
const [file, stop, size] = process.argv.slice(-3);
let reads = 0, torn = 0;
console.log('reading');
while (!existsSync(stop)) {
  let s;
  try { s = readFileSync(file, 'utf8'); } catch { continue; }
  reads++;
  if (s.length !== Number(size) || (s[0] !== s[s.length - 1])) torn++;
}
console.log(JSON.stringify({ reads, torn }));
`;

async function race(write: (path: string, content: string) => void): Promise<{ reads: number; torn: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ar-atomic-'));
  const file = join(dir, 'results.tsv');
  const size = 1 << 20;
  write(file, 'a'.repeat(size));
  const child = spawn(process.execPath, ['-e', READER, file, join(dir, 'stop'), String(size)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((r) => child.stdout.once('data', () => r()));
  for (let i = 0; i < 150; i++) {
    write(file, (i % 2 ? 'a' : 'b').repeat(size));
    await new Promise((r) => setImmediate(r));
  }
  writeFileSync(join(dir, 'stop'), '');
  await new Promise((r) => child.on('exit', r));
  assert.deepEqual(readdirSync(dir).sort(), ['results.tsv', 'stop'], 'no temporary file left');
  return JSON.parse(out.trim().split('\n').at(-1)!) as { reads: number; torn: number };
}

describe('writeAtomic', () => {
  it('a concurrent reader sees one whole version or the other, never a part', async () => {
    const r = await race(writeAtomic);
    assert.ok(r.reads > 10, `reader read ${r.reads} times`);
    assert.equal(r.torn, 0);
  });

  it('the test can fail: plain writeFileSync tears', async () => {
    const r = await race((p, c) => writeFileSync(p, c));
    assert.ok(r.torn > 0, `${r.reads} reads, none torn`);
  });

  it('leaves no temporary file when the write fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ar-atomic-'));
    assert.throws(() => writeAtomic(join(dir, 'missing', 'x.tsv'), 'x'));
    assert.ok(!existsSync(join(dir, 'missing')));
    assert.deepEqual(readdirSync(dir), []);
  });
});
