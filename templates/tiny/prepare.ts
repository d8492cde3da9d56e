// prepare.ts: the fixed harness of the tiny workload. READ-ONLY: experiments edit train.ts only.
//
// Everything that must stay the same from one experiment to the next lives here (and in
// evaluate.ts, the evaluation), so that two runs of train.ts can be compared by one number:
//   - constants: the training time budget, the longest training window, the vocabulary, and the
//     evaluation's own context length and size;
//   - the data: a built-in synthetic language (the default: no download, no network) or your own
//     text through AUTORESEARCH_DATA, written once into data/ as train.bin and val.bin;
//   - the tokenizer: raw UTF-8 bytes (see "Tokenizer" below for why);
//   - a dataloader of random training windows;
//   - the model's interface (ForwardFn): what train.ts's loadModel returns and evaluate.ts scores.
// The evaluation itself is evaluate.ts (`tsx evaluate.ts`), run by the harness in a fresh process
// after training: it feeds the model the validation bytes in windows of EVAL_SEQ_LEN and computes
// the cross-entropy itself, in bits per byte.
//
// Usage:
//   tsx prepare.ts             write data/ once (train.bin, val.bin, heldout.bin, meta.json), then describe it
//   tsx prepare.ts evaluate    the same as `tsx evaluate.ts` (kept for existing workspaces)
//
// Environment:
//   AUTORESEARCH_TIME_BUDGET  training budget in seconds (float; default 60)
//   AUTORESEARCH_DATA         (prepare) a .txt / .jsonl / .jsonl.gz file, or a directory of them
//                             (.jsonl lines are objects with a "text" string)
//   AUTORESEARCH_VAL_DATA     (prepare) validation file or directory (default: the last 10%)
//   AUTORESEARCH_SEED         added to train.ts's SEED (integer; default 0): the harness changes it
//                             between repeated runs of one commit to measure the noise
//   AUTORESEARCH_OUTPUT       where train.ts saves the model and the evaluation reads it
//   AUTORESEARCH_SPLIT        (evaluate) "heldout": score data/heldout.bin instead of val.bin. Only
//                             the harness sets it, for analysis runs (ablate, transfer, heldout):
//                             no decision of a study is ever made on that split

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';

// ---------------------------------------------------------------------------------------------
// Constants (fixed: changing them makes results incomparable)
// ---------------------------------------------------------------------------------------------

export const TIME_BUDGET = readBudget(); // seconds of training (wall clock), not counting eval
export const RUN_SEED = readSeed(); // from AUTORESEARCH_SEED: train.ts adds it to its SEED
export const MAX_SEQ_LEN = 256; // longest training window train.ts may use (its SEQ_LEN <= this)
export const EVAL_SEQ_LEN = 64; // the metric's context: validation windows of this many bytes, whatever SEQ_LEN is
export const EVAL_BATCH = 8; // windows per forward call of the evaluation
export const VOCAB_SIZE = 256; // byte-level: one token per byte value
export const EVAL_BYTES = 32_768; // size of the fixed validation set the metric is computed on
export const VAL_FRACTION = 0.1; // share of the data held out when no AUTORESEARCH_VAL_DATA
export const DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'data'); // written by `tsx prepare.ts`

// ---------------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------------
// Byte-level: a token is one byte of UTF-8, so the vocabulary is 256 and nothing has to be
// trained, cached or shipped. On a couple of CPU cores this is the right trade: the embedding
// and output layers stay tiny (256 x width), so nearly all compute goes to the transformer
// itself, and bits per token IS bits per byte. A BPE would shorten sequences ~3-4x but its
// 4k-32k vocabulary would make the output layer dominate a model this small.

export function encode(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

export function decode(tokens: ArrayLike<number>): string {
  return Buffer.from(Uint8Array.from(tokens)).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------
// `tsx prepare.ts` reads the source once and writes data/train.bin (what training reads),
// data/val.bin (the EVAL_BYTES the metric is computed on; only the evaluation reads it: the
// harness hides it from training runs), data/heldout.bin (a third split of EVAL_BYTES that no
// decision ever sees: only the analyses score it, hidden from training like val.bin) and
// data/meta.json. It never rewrites them: a study keeps
// one validation set. Delete data/ to prepare other data.

/** The data as read from its source (prepare only; training and evaluation read data/). */
export interface Dataset {
  train: Uint8Array; // training bytes
  val: Uint8Array; // the EVAL_BYTES validation bytes the metric is computed on
  heldout: Uint8Array; // up to EVAL_BYTES more, disjoint from both: the held-out confirmation split
  source: string; // one line saying where the data came from
  entropyRate: number | null; // true entropy of the source in bits/byte (synthetic data only)
}

/** What training gets: the training bytes and their description (never the validation bytes). */
export interface TrainData {
  train: Uint8Array;
  source: string;
  entropyRate: number | null;
}

interface DataMeta {
  key: string; // the source as named by the environment (to refuse stale data)
  source: string;
  trainBytes: number;
  valBytes: number;
  entropyRate: number | null;
}

/** A problem with the user's data: reported as one line on stderr, exit code 2. */
export class DataError extends Error {}

/**
 * Loads the data named by the environment (or the built-in default). Throws DataError.
 * `valSeed` draws the built-in language's validation sample: random by default, so that no code
 * training can see regenerates it (it exists only in data/val.bin).
 */
export function readDataset(env: NodeJS.ProcessEnv = process.env, valSeed = randomBytes(4).readUInt32LE(0)): Dataset {
  const dataPath = env.AUTORESEARCH_DATA?.trim();
  const valPath = env.AUTORESEARCH_VAL_DATA?.trim();
  if (!dataPath) {
    if (valPath) throw new DataError('AUTORESEARCH_VAL_DATA is set but AUTORESEARCH_DATA is not');
    return syntheticDataset(valSeed);
  }
  let train = joinDocs(readDocs(dataPath), dataPath);
  let val: Uint8Array;
  if (valPath) {
    val = joinDocs(readDocs(valPath), valPath);
  } else {
    // Deterministic split: the last VAL_FRACTION of the bytes is held out.
    const cut = Math.floor(train.length * (1 - VAL_FRACTION));
    val = train.subarray(cut);
    train = train.subarray(0, cut);
  }
  if (train.length < 4 * MAX_SEQ_LEN) {
    throw new DataError(`${dataPath}: too little training text (${train.length} bytes; need at least ${4 * MAX_SEQ_LEN})`);
  }
  if (val.length < 4 * EVAL_SEQ_LEN) {
    throw new DataError(`${valPath ?? dataPath}: too little validation text (${val.length} bytes; need at least ${4 * EVAL_SEQ_LEN})`);
  }
  // The held-out split: the EVAL_BYTES after the validation bytes, or the second half when short.
  const cut = Math.min(EVAL_BYTES, Math.floor(val.length / 2));
  const heldout = val.slice(cut, cut + EVAL_BYTES);
  val = val.slice(0, cut);
  const split = valPath ? `val from ${valPath}` : `last ${VAL_FRACTION * 100}% held out`;
  return { train, val, heldout, source: `${dataPath} (${split})`, entropyRate: null };
}

function sourceKey(env: NodeJS.ProcessEnv): string {
  return JSON.stringify({ data: env.AUTORESEARCH_DATA?.trim() || null, val: env.AUTORESEARCH_VAL_DATA?.trim() || null });
}

/**
 * Writes dir/train.bin, dir/val.bin and dir/meta.json from the environment's data unless they
 * are there already (then checks they come from the same source). Throws DataError.
 */
export function prepareData(dir = DATA_DIR, env: NodeJS.ProcessEnv = process.env): { meta: DataMeta; created: boolean } {
  const key = sourceKey(env);
  const metaPath = join(dir, 'meta.json');
  const put = (name: string, bytes: Uint8Array | string) => {
    writeFileSync(join(dir, `${name}.tmp`), bytes);
    renameSync(join(dir, `${name}.tmp`), join(dir, name)); // whole files only, even if killed
  };
  if (existsSync(metaPath) && existsSync(join(dir, 'train.bin')) && existsSync(join(dir, 'val.bin'))) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as DataMeta;
    if (meta.key !== key) {
      throw new DataError(`${dir} was prepared from ${meta.source}, not from the data named now; delete ${dir} to prepare again`);
    }
    // Data prepared before the held-out split existed: add it when the validation bytes are
    // those the source gives now (so it is disjoint from them); the study's val.bin never changes.
    if (!existsSync(join(dir, 'heldout.bin'))) {
      const d = readDataset(env);
      if (meta.entropyRate !== null || Buffer.from(d.val).equals(readFileSync(join(dir, 'val.bin')))) put('heldout.bin', d.heldout);
    }
    return { meta, created: false };
  }
  const d = readDataset(env);
  mkdirSync(dir, { recursive: true });
  const meta: DataMeta = { key, source: d.source, trainBytes: d.train.length, valBytes: d.val.length, entropyRate: d.entropyRate };
  put('train.bin', d.train);
  put('val.bin', d.val);
  put('heldout.bin', d.heldout);
  put('meta.json', `${JSON.stringify(meta, null, 2)}\n`); // last: marks the data complete
  return { meta, created: true };
}

/** The training bytes written by prepareData. Throws DataError when they are missing. */
export function readTrainData(dir = DATA_DIR): TrainData {
  const metaPath = join(dir, 'meta.json');
  if (!existsSync(metaPath) || !existsSync(join(dir, 'train.bin'))) {
    throw new DataError(`${join(dir, 'train.bin')} not found: run "tsx prepare.ts" once to prepare the data`);
  }
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as DataMeta;
  return { train: new Uint8Array(readFileSync(join(dir, 'train.bin'))), source: meta.source, entropyRate: meta.entropyRate };
}

/**
 * The bytes the evaluation scores (hidden from training by the sandbox): val.bin, or heldout.bin
 * for the held-out split (AUTORESEARCH_SPLIT=heldout, analysis runs only). Throws DataError.
 */
export function readValidation(dir = DATA_DIR, split: 'val' | 'heldout' = 'val'): Uint8Array {
  const p = join(dir, `${split}.bin`);
  if (!existsSync(p)) throw new DataError(`${p} not found: run "tsx prepare.ts" once to prepare the data`);
  const val = new Uint8Array(readFileSync(p));
  if (val.length < 2 * EVAL_SEQ_LEN || val.length > EVAL_BYTES) throw new DataError(`${p}: ${val.length} bytes, expected ${2 * EVAL_SEQ_LEN}..${EVAL_BYTES}`);
  return val;
}

/** readTrainData for train.ts: a data problem ends the process with one clear line and exit 2. */
export function loadData(dir = DATA_DIR): TrainData {
  try {
    return readTrainData(dir);
  } catch (err) {
    if (err instanceof DataError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** The documents (texts) of a file or of every .txt/.jsonl/.jsonl.gz under a directory. */
export function readDocs(path: string): string[] {
  if (!existsSync(path)) throw new DataError(`${path}: no such file or directory`);
  if (statSync(path).isDirectory()) {
    const files = listDataFiles(path);
    if (files.length === 0) throw new DataError(`${path}: no .txt, .jsonl or .jsonl.gz files in this directory`);
    const docs = files.flatMap(readFileDocs);
    if (!docs.some((d) => d.length > 0)) throw new DataError(`${path}: no text in any file of this directory`);
    return docs;
  }
  const docs = readFileDocs(path);
  if (!docs.some((d) => d.length > 0)) throw new DataError(`${path}: no text (empty file)`);
  return docs;
}

function listDataFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listDataFiles(p));
    else if (/\.(txt|jsonl|jsonl\.gz)$/.test(name)) out.push(p);
  }
  return out;
}

function readFileDocs(path: string): string[] {
  if (path.endsWith('.txt')) return [readFileSync(path, 'utf8')];
  if (path.endsWith('.jsonl')) return parseJsonl(readFileSync(path, 'utf8'), path);
  if (path.endsWith('.jsonl.gz')) {
    let text: string;
    try {
      text = gunzipSync(readFileSync(path)).toString('utf8');
    } catch (err) {
      throw new DataError(`${path}: corrupt gzip file (${(err as Error).message})`);
    }
    return parseJsonl(text, path);
  }
  throw new DataError(`${path}: unsupported file type (use .txt, .jsonl or .jsonl.gz)`);
}

function parseJsonl(text: string, path: string): string[] {
  const docs: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new DataError(`${path}:${i + 1}: line is not valid JSON`);
    }
    const t = (row as { text?: unknown } | null)?.text;
    if (typeof t !== 'string') throw new DataError(`${path}:${i + 1}: line has no "text" string`);
    docs.push(t);
  }
  return docs;
}

/** Documents joined by a blank line, as bytes. */
function joinDocs(docs: string[], path: string): Uint8Array {
  const bytes = encode(docs.filter((d) => d.length > 0).join('\n\n'));
  if (bytes.length === 0) throw new DataError(`${path}: no text`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// The built-in synthetic language (default data)
// ---------------------------------------------------------------------------------------------
// Text made of pseudo-words ("tabo kel rimu ...") separated by spaces. Each word is drawn given
// the previous one: with probability SYN_STICKY from that word's few favourite followers, else
// from a Zipf distribution over the whole lexicon. It is a Markov chain over words, so its exact
// entropy rate is known (computed below), which gives val_bpb a floor to be read against. A model
// has to learn the spellings (byte level), the word frequencies and the word-to-word transitions.

const SYN_SEED = 20260301; // fixed: the same language and training text on every machine
const SYN_WORDS = 512; // lexicon size
const SYN_ZIPF = 1.1; // Zipf exponent of the background word distribution
const SYN_FOLLOWERS = 4; // favourite followers per word
const SYN_STICKY = 0.6; // chance the next word is one of the current word's favourites
const SYN_TRAIN_BYTES = 4_000_000; // size of the generated training text

export interface SynLanguage {
  words: Uint8Array[];
  P: Float64Array; // P[i * SYN_WORDS + j] = probability that word j follows word i
  zipfCdf: Float64Array;
  followers: Int32Array; // SYN_FOLLOWERS per word
  entropyRate: number; // bits per byte
}

/** A small deterministic PRNG (mulberry32): uniform floats in [0, 1). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The synthetic language itself (its words, transition matrix and entropy rate). */
export function syntheticLanguage(): SynLanguage {
  const rng = makeRng(SYN_SEED);
  const consonants = 'bdfgklmnprstvz';
  const vowels = 'aeiou';
  const seen = new Set<string>();
  const words: Uint8Array[] = [];
  while (words.length < SYN_WORDS) {
    let w = '';
    const syllables = 1 + Math.floor(rng() * 3);
    for (let s = 0; s < syllables; s++) {
      w += consonants[Math.floor(rng() * consonants.length)]! + vowels[Math.floor(rng() * vowels.length)]!;
      if (rng() < 0.3) w += consonants[Math.floor(rng() * consonants.length)]!;
    }
    if (!seen.has(w)) {
      seen.add(w);
      words.push(encode(w));
    }
  }
  const V = SYN_WORDS;
  const zipf = new Float64Array(V);
  let z = 0;
  for (let i = 0; i < V; i++) z += zipf[i] = 1 / Math.pow(i + 1, SYN_ZIPF);
  const zipfCdf = new Float64Array(V);
  let acc = 0;
  for (let i = 0; i < V; i++) zipfCdf[i] = acc += zipf[i]! /= z;
  const followers = new Int32Array(V * SYN_FOLLOWERS);
  for (let i = 0; i < V; i++) {
    for (let f = 0; f < SYN_FOLLOWERS; f++) {
      let j: number;
      do j = Math.floor(rng() * V);
      while (followers.subarray(i * SYN_FOLLOWERS, i * SYN_FOLLOWERS + f).includes(j));
      followers[i * SYN_FOLLOWERS + f] = j;
    }
  }
  // Transition matrix P(j | i) = (1 - STICKY) zipf(j) + STICKY / FOLLOWERS [j is a favourite of i].
  const P = new Float64Array(V * V);
  for (let i = 0; i < V; i++) {
    for (let j = 0; j < V; j++) P[i * V + j] = (1 - SYN_STICKY) * zipf[j]!;
    for (let f = 0; f < SYN_FOLLOWERS; f++) P[i * V + followers[i * SYN_FOLLOWERS + f]!]! += SYN_STICKY / SYN_FOLLOWERS;
  }
  // Stationary distribution by power iteration (the error shrinks by SYN_STICKY per step).
  let pi = Float64Array.from(zipf);
  for (let it = 0; it < 80; it++) {
    const next = new Float64Array(V);
    for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) next[j]! += pi[i]! * P[i * V + j]!;
    pi = next;
  }
  // Entropy rate per byte = E_pi[H(next word | word)] / E_pi[bytes per word incl. the space].
  // (The bytes determine the words and vice versa, so bits per word / bytes per word is exact.)
  let bitsPerWord = 0;
  let bytesPerWord = 0;
  for (let i = 0; i < V; i++) {
    let h = 0;
    for (let j = 0; j < V; j++) {
      const p = P[i * V + j]!;
      if (p > 0) h -= p * Math.log2(p);
    }
    bitsPerWord += pi[i]! * h;
    bytesPerWord += pi[i]! * (words[i]!.length + 1);
  }
  return { words, P, zipfCdf, followers, entropyRate: bitsPerWord / bytesPerWord };
}

function generateText(lang: SynLanguage, nBytes: number, seed: number): Uint8Array {
  const rng = makeRng(seed);
  const out = new Uint8Array(nBytes);
  const zipfWord = (): number => {
    const u = rng();
    let lo = 0;
    let hi = lang.zipfCdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (lang.zipfCdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let w = zipfWord();
  let n = 0;
  while (n < nBytes) {
    const word = lang.words[w]!;
    for (let k = 0; k < word.length && n < nBytes; k++) out[n++] = word[k]!;
    if (n < nBytes) out[n++] = 32; // space
    w = rng() < SYN_STICKY ? lang.followers[w * SYN_FOLLOWERS + Math.floor(rng() * SYN_FOLLOWERS)]! : zipfWord();
  }
  return out;
}

function syntheticDataset(valSeed: number): Dataset {
  const lang = syntheticLanguage();
  return {
    train: generateText(lang, SYN_TRAIN_BYTES, SYN_SEED + 1),
    val: generateText(lang, EVAL_BYTES, valSeed), // an independent stream of the same language, from a seed no code holds
    heldout: generateText(lang, EVAL_BYTES, randomBytes(4).readUInt32LE(0)), // and another
    source: `built-in synthetic language (${SYN_WORDS} pseudo-words, word-bigram Markov chain)`,
    entropyRate: lang.entropyRate,
  };
}

// ---------------------------------------------------------------------------------------------
// Dataloader
// ---------------------------------------------------------------------------------------------

/**
 * Returns nextBatch(x, y): fills x and y (batchSize * seqLen tokens, row-major) with random
 * windows of `tokens`; y is x shifted by one (the next byte). Deterministic given `seed`.
 */
export function makeDataLoader(tokens: Uint8Array, batchSize: number, seqLen: number, seed: number) {
  if (seqLen > MAX_SEQ_LEN) throw new Error(`seqLen ${seqLen} exceeds MAX_SEQ_LEN ${MAX_SEQ_LEN}`);
  if (tokens.length <= seqLen + 1) throw new Error(`only ${tokens.length} tokens for windows of ${seqLen}`);
  const rng = makeRng(seed);
  const span = tokens.length - seqLen - 1;
  return function nextBatch(x: Int32Array, y: Int32Array): void {
    for (let b = 0; b < batchSize; b++) {
      const start = Math.floor(rng() * span);
      const row = b * seqLen;
      for (let t = 0; t < seqLen; t++) {
        x[row + t] = tokens[start + t]!;
        y[row + t] = tokens[start + t + 1]!;
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The model's interface (evaluate.ts scores it)
// ---------------------------------------------------------------------------------------------

/**
 * The model as the evaluation sees it; train.ts's `loadModel(dir)` returns one. Tokens
 * (batchSize * seqLen, row-major) in, logits (batchSize * seqLen * VOCAB_SIZE) out, where the
 * logits at position t of a row may depend only on the tokens at positions <= t of that row.
 * The evaluation calls it with seqLen = EVAL_SEQ_LEN, whatever SEQ_LEN the model was trained
 * with. The returned array may be reused between calls.
 */
export type ForwardFn = (tokens: Int32Array, batchSize: number, seqLen: number) => Float32Array | Float64Array;

// ---------------------------------------------------------------------------------------------
// Helpers and the command line
// ---------------------------------------------------------------------------------------------

function readBudget(): number {
  const raw = process.env.AUTORESEARCH_TIME_BUDGET;
  if (raw === undefined || raw.trim() === '') return 60;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`error: AUTORESEARCH_TIME_BUDGET must be a positive number of seconds, got "${raw}"\n`);
    process.exit(2);
  }
  return v;
}

function readSeed(): number {
  const raw = process.env.AUTORESEARCH_SEED;
  if (raw === undefined || raw.trim() === '') return 0;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 0) {
    process.stderr.write(`error: AUTORESEARCH_SEED must be a non-negative integer, got "${raw}"\n`);
    process.exit(2);
  }
  return v;
}

/** `tsx prepare.ts`: writes data/ once and describes it. */
function prepareMain(): number {
  const t0 = performance.now();
  const { meta, created } = prepareData();
  const train = readTrainData();
  console.log(`data:          ${meta.source}`);
  console.log(`data dir:      ${DATA_DIR} (${created ? 'written now' : 'already prepared; delete it to prepare again'})`);
  console.log(`train bytes:   ${meta.trainBytes} (train.bin)`);
  console.log(`val bytes:     ${meta.valBytes} (val.bin: the metric's fixed set, read by the evaluation only)`);
  if (meta.entropyRate !== null) console.log(`entropy rate:  ${meta.entropyRate.toFixed(6)} bits/byte (no model can beat this on average)`);
  console.log(`eval context:  ${EVAL_SEQ_LEN} bytes per window`);
  console.log(`time budget:   ${TIME_BUDGET} s`);
  console.log(`sample:        ${JSON.stringify(decode(train.train.subarray(0, 120)))}`);
  console.log(`took           ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const command = process.argv[2];
  const done = (code: number) => process.exit(code);
  try {
    // The evaluation is evaluate.ts; `tsx prepare.ts evaluate` (the command of older workspaces) runs it.
    if (command === 'evaluate') import('./evaluate.ts').then((e) => e.evaluateMain()).then(done, (err) => { throw err; });
    else if (command === undefined) done(prepareMain());
    else {
      process.stderr.write(`error: unknown command "${command}" (use: tsx prepare.ts [evaluate])\n`);
      done(2);
    }
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    done(2);
  }
}
