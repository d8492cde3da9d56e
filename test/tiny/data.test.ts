// The tiny template's data side (templates/tiny/prepare.ts): loaders for every format, clear
// errors for bad input, the deterministic split, the synthetic default and its entropy rate, and
// data/ written once by `tsx prepare.ts` (train.bin for training, val.bin for the evaluation).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DataError,
  decode,
  encode,
  EVAL_BYTES,
  makeDataLoader,
  MAX_SEQ_LEN,
  prepareData,
  readDataset,
  readDocs,
  readTrainData,
  readValidation,
  syntheticLanguage,
  VAL_FRACTION,
} from '../../templates/tiny/prepare.ts';
import { tsx, Workspaces } from './workspace.ts';

/** Runs `make` (a side effect) and returns `path`. */
function made(make: () => unknown, path: string): string {
  make();
  return path;
}

const tmp = mkdtempSync(join(tmpdir(), 'tiny-data-'));
const ws = new Workspaces();
after(() => {
  rmSync(tmp, { recursive: true, force: true });
  ws.cleanup();
});
const file = (name: string, content: string | Uint8Array) => {
  const p = join(tmp, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
};
const jsonl = (texts: string[]) => texts.map((text) => JSON.stringify({ text, source: 'test' })).join('\n') + '\n';
const text = (seed: number, n: number) =>
  Array.from({ length: n }, (_, i) => `line ${seed}-${i}: the quick brown fox, café ☕\n`).join('');

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
    [
      file('truncated.jsonl.gz', gzipSync(jsonl(['x'.repeat(5000)])).subarray(0, 40)),
      /truncated\.jsonl\.gz: corrupt gzip file/,
    ],
    [file('badjson.jsonl', jsonl(['ok']) + '{"text": oops}\n'), /badjson\.jsonl:2: line is not valid JSON/],
    [file('notext.jsonl', '{"title": "x"}\n'), /notext\.jsonl:1: line has no "text" string/],
    [file('numtext.jsonl', '{"text": 5}\n'), /numtext\.jsonl:1: line has no "text" string/],
    [file('data.csv', 'a,b'), /data\.csv: unsupported file type/],
    [
      made(() => mkdirSync(join(tmp, 'emptydir')), join(tmp, 'emptydir')),
      /emptydir: no \.txt, \.jsonl or \.jsonl\.gz files/,
    ],
    [made(() => file('blankdir/a.txt', ''), join(tmp, 'blankdir')), /blankdir: no text in any file/],
  ];
  for (const [path, re] of cases) {
    assert.throws(
      () => readDocs(path),
      (err: Error) => err instanceof DataError && re.test(err.message) && !err.message.includes('\n'),
      path,
    );
  }
});

test('the train/val split is deterministic: the last VAL_FRACTION of the bytes is held out', () => {
  const p = file('split.txt', text(1, 400));
  const all = encode(text(1, 400));
  const env = { AUTORESEARCH_DATA: p };
  const a = readDataset(env),
    b = readDataset(env);
  assert.deepEqual(a.train, b.train);
  assert.deepEqual(a.val, b.val);
  const cut = Math.floor(all.length * (1 - VAL_FRACTION));
  assert.deepEqual(a.train, all.subarray(0, cut));
  const n = Math.min(EVAL_BYTES, Math.floor((all.length - cut) / 2)); // half when short: the rest is the held-out split
  assert.deepEqual(a.val, all.subarray(cut, cut + n));
  assert.deepEqual(a.heldout, all.subarray(cut + n, cut + n + EVAL_BYTES));
  assert.equal(a.entropyRate, null);
});

test('AUTORESEARCH_VAL_DATA names the validation data; it needs AUTORESEARCH_DATA', () => {
  const train = file('t.jsonl', jsonl([text(2, 200)]));
  const val = file('v.txt', text(3, 100));
  const d = readDataset({ AUTORESEARCH_DATA: train, AUTORESEARCH_VAL_DATA: val });
  assert.equal(decode(d.train), text(2, 200));
  // shorter than 2 x EVAL_BYTES: the first half validates, the second half is the held-out split
  const v = encode(text(3, 100));
  assert.deepEqual(d.val, v.subarray(0, Math.floor(v.length / 2)));
  assert.deepEqual(d.heldout, v.subarray(Math.floor(v.length / 2)));
  assert.throws(
    () => readDataset({ AUTORESEARCH_VAL_DATA: val }),
    /AUTORESEARCH_VAL_DATA is set but AUTORESEARCH_DATA is not/,
  );
  assert.throws(() => readDataset({ AUTORESEARCH_DATA: file('tiny.txt', 'too short') }), /too little training text/);
});

test('the synthetic default: the training text is fixed, the validation sample drawn from a seed no code holds', () => {
  const a = readDataset({}),
    b = readDataset({});
  assert.deepEqual(a.train, b.train);
  assert.notDeepEqual(a.val, b.val); // random at prepare time: training cannot regenerate it
  assert.deepEqual(readDataset({}, 99).val, readDataset({}, 99).val);
  assert.equal(a.val.length, EVAL_BYTES);
  const train = Buffer.from(a.train);
  assert.equal(
    train.indexOf(Buffer.from(a.val.subarray(1000, 1064))),
    -1,
    'the validation sample is not part of the training text',
  );
});

test("the synthetic language's stated entropy rate is right", () => {
  const a = readDataset({});
  assert.ok(a.entropyRate !== null && a.entropyRate > 0.3 && a.entropyRate < 2, `entropy rate ${a.entropyRate}`);
  // Shannon-McMillan-Breiman: the average surprisal of a long sample under the true model converges
  // to the entropy rate. Parse the training text back into words and score it with the true P.
  const lang = syntheticLanguage();
  const index = new Map(lang.words.map((w, i) => [decode(w), i]));
  const words = decode(a.train).split(' ');
  words.pop(); // the last word may be cut
  let bits = 0,
    bytes = 0;
  for (let t = 1; t < words.length; t++) {
    const i = index.get(words[t - 1]!),
      j = index.get(words[t]!);
    assert.ok(i !== undefined && j !== undefined, `unknown word at ${t}`);
    bits -= Math.log2(lang.P[i * lang.words.length + j]!);
    bytes += words[t]!.length + 1;
  }
  const empirical = bits / bytes;
  assert.ok(
    Math.abs(empirical - a.entropyRate!) / a.entropyRate! < 0.01,
    `empirical ${empirical} vs stated ${a.entropyRate}`,
  );
});

test('the dataloader gives shifted windows, deterministically', () => {
  const tokens = encode(text(4, 50));
  const B = 3,
    T = 16;
  const x1 = new Int32Array(B * T),
    y1 = new Int32Array(B * T),
    x2 = new Int32Array(B * T),
    y2 = new Int32Array(B * T);
  const next1 = makeDataLoader(tokens, B, T, 5),
    next2 = makeDataLoader(tokens, B, T, 5);
  for (let k = 0; k < 3; k++) {
    next1(x1, y1);
    next2(x2, y2);
    assert.deepEqual(x1, x2);
    for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) assert.equal(y1[b * T + t], x1[b * T + t + 1]);
  }
  assert.throws(() => makeDataLoader(tokens, B, MAX_SEQ_LEN + 1, 1), /MAX_SEQ_LEN/);
});

test('prepareData writes train.bin, val.bin and meta.json once, and refuses data from another source', () => {
  const dir = join(tmp, 'prepared');
  const first = prepareData(dir, {});
  assert.equal(first.created, true);
  const val = readValidation(dir);
  assert.equal(val.length, EVAL_BYTES);
  const again = prepareData(dir, {});
  assert.equal(again.created, false);
  assert.deepEqual(readValidation(dir), val); // the study keeps one validation set
  const t = readTrainData(dir);
  assert.equal(t.train.length, first.meta.trainBytes);
  assert.ok(t.entropyRate !== null);
  assert.equal('val' in t, false); // training gets no validation bytes
  const p = file('other.txt', text(5, 400));
  assert.throws(
    () => prepareData(dir, { AUTORESEARCH_DATA: p }),
    (e: Error) => e instanceof DataError && /was prepared from .*delete/.test(e.message),
  );
  assert.throws(() => readTrainData(join(tmp, 'none')), /train\.bin not found: run "tsx prepare\.ts" once/);
  assert.throws(() => readValidation(join(tmp, 'none')), /val\.bin not found/);
});

test('user data: prepare writes the held-out split to val.bin only', () => {
  const p = file('own.txt', text(6, 800));
  const dir = join(tmp, 'own');
  prepareData(dir, { AUTORESEARCH_DATA: p });
  const all = encode(text(6, 800));
  const cut = Math.floor(all.length * (1 - VAL_FRACTION));
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'train.bin'))), all.subarray(0, cut));
  // validation: the first EVAL_BYTES held out (half of them when short); held-out split: the next ones
  const n = Math.min(EVAL_BYTES, Math.floor((all.length - cut) / 2));
  assert.deepEqual(readValidation(dir), all.subarray(cut, cut + n));
  assert.deepEqual(readValidation(dir, 'heldout'), all.subarray(cut + n, cut + n + EVAL_BYTES));
  assert.ok(readValidation(dir, 'heldout').length >= 2 * 64, 'a held-out split worth scoring');
});

test('data prepared before the held-out split gets one, disjoint from the validation bytes it keeps', () => {
  const p = file('old.txt', text(7, 800));
  const dir = join(tmp, 'old');
  prepareData(dir, { AUTORESEARCH_DATA: p });
  const val = readFileSync(join(dir, 'val.bin'));
  rmSync(join(dir, 'heldout.bin'));
  assert.equal(prepareData(dir, { AUTORESEARCH_DATA: p }).created, false);
  assert.deepEqual(readFileSync(join(dir, 'val.bin')), val, 'val.bin is never rewritten');
  const held = readFileSync(join(dir, 'heldout.bin'));
  assert.ok(held.length > 0 && !val.includes(held.subarray(0, 64)), 'the held-out bytes are not validation bytes');
});

test('scripts exit with code 2 and one line on stderr for bad data, budget or seed', () => {
  const dir = ws.make(undefined, false);
  const runs: [string, Record<string, string>, RegExp][] = [
    ['prepare.ts', { AUTORESEARCH_DATA: join(tmp, 'nope') }, /^error: .*nope: no such file or directory\n$/],
    ['prepare.ts', { AUTORESEARCH_DATA: join(tmp, 'corrupt.jsonl.gz') }, /^error: .*corrupt gzip file.*\n$/],
    ['train.ts', { AUTORESEARCH_TIME_BUDGET: 'soon' }, /^error: AUTORESEARCH_TIME_BUDGET must be a positive number/],
    ['train.ts', { AUTORESEARCH_SEED: '-1' }, /^error: AUTORESEARCH_SEED must be a non-negative integer/],
  ];
  for (const [script, env, re] of runs) {
    const r = tsx(dir, [script], env);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
