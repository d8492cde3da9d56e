// prepare.ts: the fixed harness of the tiny workload. READ-ONLY: experiments edit train.ts only.
//
// Everything that must stay the same from one experiment to the next lives here, so that two
// runs of train.ts can be compared by one number:
//   - constants: the training time budget, the longest context, the vocabulary, the eval size;
//   - the data: a built-in synthetic language (the default: no download, no network) or your own
//     text through AUTORESEARCH_DATA, split deterministically into train and validation;
//   - the tokenizer: raw UTF-8 bytes (see "Tokenizer" below for why);
//   - a dataloader of random training windows;
//   - evaluateBpb: the metric. It feeds validation bytes to the model's forward function, gets
//     logits back and computes the cross-entropy itself, against targets train.ts never sees, in
//     bits per byte.
//
// Environment:
//   AUTORESEARCH_TIME_BUDGET  training budget in seconds (float; default 60)
//   AUTORESEARCH_DATA         a .txt / .jsonl / .jsonl.gz file, or a directory of them
//                             (.jsonl lines are objects with a "text" string)
//   AUTORESEARCH_VAL_DATA     validation file or directory (default: the last 10% of the data)
//   AUTORESEARCH_SEED         added to train.ts's SEED (integer; default 0): the harness changes it
//                             between repeated runs of one commit to measure the noise
//
// Run it alone to see what train.ts will get:   node --import tsx prepare.ts

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// ---------------------------------------------------------------------------------------------
// Constants (fixed: changing them makes results incomparable)
// ---------------------------------------------------------------------------------------------

export const TIME_BUDGET = readBudget(); // seconds of training (wall clock), not counting eval
export const RUN_SEED = readSeed(); // from AUTORESEARCH_SEED: train.ts adds it to its SEED
export const MAX_SEQ_LEN = 256; // longest context a model may use (train.ts picks SEQ_LEN <= this)
export const VOCAB_SIZE = 256; // byte-level: one token per byte value
export const EVAL_BYTES = 32_768; // size of the fixed validation set the metric is computed on
export const VAL_FRACTION = 0.1; // share of the data held out when no AUTORESEARCH_VAL_DATA

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

export interface Dataset {
  train: Uint8Array; // training bytes
  val: Uint8Array; // the EVAL_BYTES validation bytes the metric is computed on (a copy)
  source: string; // one line saying where the data came from
  entropyRate: number | null; // true entropy of the source in bits/byte (synthetic data only)
}

/** A problem with the user's data: reported as one line on stderr, exit code 2. */
export class DataError extends Error {}

let evalBytes: Uint8Array | null = null; // the metric's private copy of the validation bytes

/** Loads the data named by the environment (or the built-in default). Throws DataError. */
export function readDataset(env: NodeJS.ProcessEnv = process.env): Dataset {
  const dataPath = env.AUTORESEARCH_DATA?.trim();
  const valPath = env.AUTORESEARCH_VAL_DATA?.trim();
  if (!dataPath) {
    if (valPath) throw new DataError('AUTORESEARCH_VAL_DATA is set but AUTORESEARCH_DATA is not');
    return syntheticDataset();
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
  if (val.length < 2 * MAX_SEQ_LEN) {
    throw new DataError(`${valPath ?? dataPath}: too little validation text (${val.length} bytes; need at least ${2 * MAX_SEQ_LEN})`);
  }
  val = val.slice(0, EVAL_BYTES);
  const split = valPath ? `val from ${valPath}` : `last ${VAL_FRACTION * 100}% held out`;
  return { train, val, source: `${dataPath} (${split})`, entropyRate: null };
}

/** readDataset for scripts: a data problem ends the process with one clear line and exit 2. */
export function loadData(env: NodeJS.ProcessEnv = process.env): Dataset {
  try {
    const data = readDataset(env);
    evalBytes ??= data.val.slice(); // evaluateBpb's private copy (spares it reading the data again)
    return data;
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

const SYN_SEED = 20260301; // fixed: the same text on every machine
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

function syntheticDataset(): Dataset {
  const lang = syntheticLanguage();
  return {
    train: generateText(lang, SYN_TRAIN_BYTES, SYN_SEED + 1),
    val: generateText(lang, EVAL_BYTES, SYN_SEED + 2), // an independent stream of the same language
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
// Evaluation: the fixed metric
// ---------------------------------------------------------------------------------------------

/**
 * The model as evaluateBpb sees it: tokens (batchSize * seqLen, row-major) in, logits
 * (batchSize * seqLen * VOCAB_SIZE) out, where the logits at position t may depend only on
 * tokens at positions <= t of the same row. The returned array may be reused between calls.
 */
export type ForwardFn = (tokens: Int32Array, batchSize: number, seqLen: number) => Float32Array | Float64Array;

/**
 * Bits per byte of the model on the fixed validation set: every validation byte after the first
 * is predicted exactly once, from the bytes before it in its window of seqLen. The windows are
 * cut by this function (the last one padded, its padding not scored), the cross-entropy computed
 * here in float64. Lower is better. Throws if the model is not causal or returns the wrong shape.
 */
export function evaluateBpb(forward: ForwardFn, batchSize: number, seqLen: number): number {
  if (!(seqLen >= 1 && seqLen <= MAX_SEQ_LEN)) throw new Error(`seqLen must be in 1..${MAX_SEQ_LEN}`);
  evalBytes ??= readDataset().val.slice();
  const data = evalBytes;
  const V = VOCAB_SIZE;
  const nTargets = data.length - 1;
  const nWindows = Math.ceil(nTargets / seqLen);
  const tokens = new Int32Array(batchSize * seqLen);
  let nats = 0;
  let scored = 0;
  for (let w0 = 0; w0 < nWindows; w0 += batchSize) {
    tokens.fill(0);
    for (let b = 0; b < batchSize && w0 + b < nWindows; b++) {
      const start = (w0 + b) * seqLen;
      for (let t = 0; t < seqLen && start + t < nTargets; t++) tokens[b * seqLen + t] = data[start + t]!;
    }
    const logits = forward(tokens, batchSize, seqLen);
    if (logits.length !== batchSize * seqLen * V) {
      throw new Error(`forward returned ${logits.length} logits, expected ${batchSize * seqLen * V}`);
    }
    for (let b = 0; b < batchSize && w0 + b < nWindows; b++) {
      const start = (w0 + b) * seqLen;
      for (let t = 0; t < seqLen && start + t < nTargets; t++) {
        const o = (b * seqLen + t) * V;
        let max = -Infinity;
        for (let v = 0; v < V; v++) if (logits[o + v]! > max) max = logits[o + v]!;
        let sum = 0;
        for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v]! - max);
        nats += Math.log(sum) + max - logits[o + data[start + t + 1]!]!;
        scored++;
      }
    }
    if (w0 === 0) checkCausal(forward, tokens, logits, batchSize, seqLen); // after scoring: it calls forward again
  }
  // One token is one byte, so nats per token / ln 2 is bits per byte.
  return nats / Math.LN2 / scored;
}

/** Changing the second half of every window must not change the logits of its first half. */
function checkCausal(forward: ForwardFn, tokens: Int32Array, logits: ArrayLike<number>, B: number, T: number): void {
  if (T < 2) return;
  const half = T >> 1;
  const before = Float64Array.from(logits);
  const altered = tokens.slice();
  for (let b = 0; b < B; b++) for (let t = half; t < T; t++) altered[b * T + t] = (altered[b * T + t]! + 97) % VOCAB_SIZE;
  const after = forward(altered, B, T);
  for (let b = 0; b < B; b++) {
    for (let i = b * T * VOCAB_SIZE; i < (b * T + half) * VOCAB_SIZE; i++) {
      const x = before[i]!;
      const y = after[i]!;
      if (Math.abs(x - y) > 1e-4 * (1 + Math.abs(x))) {
        throw new Error('the model is not causal: its logits at a position depend on later tokens');
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
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

// Run directly: describe the data.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t0 = performance.now();
  const d = loadData();
  console.log(`data:          ${d.source}`);
  console.log(`train bytes:   ${d.train.length}`);
  console.log(`val bytes:     ${d.val.length} (the metric's fixed set)`);
  if (d.entropyRate !== null) console.log(`entropy rate:  ${d.entropyRate.toFixed(6)} bits/byte (no model can beat this on average)`);
  console.log(`time budget:   ${TIME_BUDGET} s`);
  console.log(`sample:        ${JSON.stringify(decode(d.train.subarray(0, 120)))}`);
  console.log(`loaded in      ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}
