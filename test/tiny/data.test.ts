// The tiny template's data side (templates/tiny/prepare.ts): loaders for every format, clear
// errors for bad input, the deterministic split, the synthetic default and its entropy rate.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  DataError, decode, encode, EVAL_BYTES, makeDataLoader, MAX_SEQ_LEN, readDataset, readDocs, syntheticLanguage, VAL_FRACTION,
} from '../../templates/tiny/prepare.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tiny-data-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, content: string | Uint8Array) => {
  const p = join(tmp, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
};
const jsonl = (texts: string[]) => texts.map((text) => JSON.stringify({ text, source: 'test' })).join('\n') + '\n';
const text = (seed: number, n: number) => Array.from({ length: n }, (_, i) => `line ${seed}-${i}: the quick brown fox, café ☕\n`).join('');

test('a .txt file is one document', () => {
  const p = file('a.txt', 'hello\nworld\n');
  assert.deepEqual(readDocs(p), ['hello\nworld\n']);
});

test('.jsonl and .jsonl.gz give one document per line (blank lines skipped)', () => {
  const content = jsonl(['first doc', 'second \u00e9 doc']) + '\n';
  assert.deepEqual(readDocs(file('b.jsonl', content)), ['first doc', 'second \u00e9 doc']);
  assert.deepEqual(readDocs(file('b.jsonl.gz', gzipSync(content))), ['first doc', 'second \u00e9 doc']);
});

test('a directory is read recursively in sorted order, other files ignored', () => {
  file('dir/2.txt', 'two');
  file('dir/1.jsonl', jsonl(['one']));
  file('dir/sub/3.jsonl.gz', gzipSync(jsonl(['three', 'four'])));
  file('dir/notes.md', 'ignored');
  assert.deepEqual(readDocs(join(tmp, 'dir')), ['one', 'two', 'three', 'four']);
});

test('bad input gives a one-line DataError naming the problem', () => {
  const cases: [string, RegExp][] = [
    [join(tmp, 'missing.txt'), /missing\.txt: no such file or directory/],
    [file('empty.txt', ''), /empty\.txt: no text/],
    [file('empty.jsonl', '\n\n'), /empty\.jsonl: no text/],
    [file('corrupt.jsonl.gz', Buffer.from('this is not gzip at all')), /corrupt\.jsonl\.gz: corrupt gzip file/],
    [file('truncated.jsonl.gz', gzipSync(jsonl(['x'.repeat(5000)])).subarray(0, 40)), /truncated\.jsonl\.gz: corrupt gzip file/],
    [file('badjson.jsonl', jsonl(['ok']) + '{"text": oops}\n'), /badjson\.jsonl:2: line is not valid JSON/],
    [file('notext.jsonl', '{"title": "x"}\n'), /notext\.jsonl:1: line has no "text" string/],
    [file('numtext.jsonl', '{"text": 5}\n'), /numtext\.jsonl:1: line has no "text" string/],
    [file('data.csv', 'a,b'), /data\.csv: unsupported file type/],
    [(mkdirSync(join(tmp, 'emptydir')), join(tmp, 'emptydir')), /emptydir: no \.txt, \.jsonl or \.jsonl\.gz files/],
    [(file('blankdir/a.txt', ''), join(tmp, 'blankdir')), /blankdir: no text in any file/],
  ];
  for (const [path, re] of cases) {
    assert.throws(() => readDocs(path), (err: Error) => err instanceof DataError && re.test(err.message) && !err.message.includes('\n'), path);
  }
});

test('the train/val split is deterministic: the last VAL_FRACTION of the bytes is held out', () => {
  const p = file('split.txt', text(1, 400));
  const all = encode(text(1, 400));
  const env = { AUTORESEARCH_DATA: p };
  const a = readDataset(env), b = readDataset(env);
  assert.deepEqual(a.train, b.train);
  assert.deepEqual(a.val, b.val);
  const cut = Math.floor(all.length * (1 - VAL_FRACTION));
  assert.deepEqual(a.train, all.subarray(0, cut));
  assert.deepEqual(a.val, all.subarray(cut, cut + EVAL_BYTES));
  assert.equal(a.entropyRate, null);
});

test('AUTORESEARCH_VAL_DATA names the validation data; it needs AUTORESEARCH_DATA', () => {
  const train = file('t.jsonl', jsonl([text(2, 200)]));
  const val = file('v.txt', text(3, 100));
  const d = readDataset({ AUTORESEARCH_DATA: train, AUTORESEARCH_VAL_DATA: val });
  assert.equal(decode(d.train), text(2, 200));
  assert.equal(decode(d.val), text(3, 100)); // shorter than EVAL_BYTES: all of it
  assert.throws(() => readDataset({ AUTORESEARCH_VAL_DATA: val }), /AUTORESEARCH_VAL_DATA is set but AUTORESEARCH_DATA is not/);
  assert.throws(() => readDataset({ AUTORESEARCH_DATA: file('tiny.txt', 'too short') }), /too little training text/);
});

test('the synthetic default is deterministic, and its stated entropy rate is right', () => {
  const a = readDataset({}), b = readDataset({});
  assert.deepEqual(a.train.subarray(0, 100_000), b.train.subarray(0, 100_000));
  assert.deepEqual(a.val, b.val);
  assert.equal(a.val.length, EVAL_BYTES);
  assert.ok(a.entropyRate !== null && a.entropyRate > 0.3 && a.entropyRate < 2, `entropy rate ${a.entropyRate}`);
  // Shannon-McMillan-Breiman: the average surprisal of a long sample under the true model converges
  // to the entropy rate. Parse the training text back into words and score it with the true P.
  const lang = syntheticLanguage();
  const index = new Map(lang.words.map((w, i) => [decode(w), i]));
  const words = decode(a.train).split(' ');
  words.pop(); // the last word may be cut
  let bits = 0, bytes = 0;
  for (let t = 1; t < words.length; t++) {
    const i = index.get(words[t - 1]!), j = index.get(words[t]!);
    assert.ok(i !== undefined && j !== undefined, `unknown word at ${t}`);
    bits -= Math.log2(lang.P[i * lang.words.length + j]!);
    bytes += words[t]!.length + 1;
  }
  const empirical = bits / bytes;
  assert.ok(Math.abs(empirical - a.entropyRate!) / a.entropyRate! < 0.01, `empirical ${empirical} vs stated ${a.entropyRate}`);
});

test('the dataloader gives shifted windows, deterministically', () => {
  const tokens = encode(text(4, 50));
  const B = 3, T = 16;
  const x1 = new Int32Array(B * T), y1 = new Int32Array(B * T), x2 = new Int32Array(B * T), y2 = new Int32Array(B * T);
  const next1 = makeDataLoader(tokens, B, T, 5), next2 = makeDataLoader(tokens, B, T, 5);
  for (let k = 0; k < 3; k++) {
    next1(x1, y1);
    next2(x2, y2);
    assert.deepEqual(x1, x2);
    for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) assert.equal(y1[b * T + t], x1[b * T + t + 1]);
  }
  assert.throws(() => makeDataLoader(tokens, B, MAX_SEQ_LEN + 1, 1), /MAX_SEQ_LEN/);
});

test('scripts exit with code 2 and one line on stderr for bad data, budget or seed', () => {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const prepare = new URL('../../templates/tiny/prepare.ts', import.meta.url).pathname;
  const train = new URL('../../templates/tiny/train.ts', import.meta.url).pathname;
  const runs: [string, Record<string, string>, RegExp][] = [
    [prepare, { AUTORESEARCH_DATA: join(tmp, 'nope') }, /^error: .*nope: no such file or directory\n$/],
    [train, { AUTORESEARCH_DATA: join(tmp, 'corrupt.jsonl.gz') }, /^error: .*corrupt gzip file.*\n$/],
    [train, { AUTORESEARCH_TIME_BUDGET: 'soon' }, /^error: AUTORESEARCH_TIME_BUDGET must be a positive number/],
    [train, { AUTORESEARCH_SEED: '-1' }, /^error: AUTORESEARCH_SEED must be a non-negative integer/],
  ];
  for (const [script, env, re] of runs) {
    const r = spawnSync(process.execPath, ['--import', tsx, script], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
