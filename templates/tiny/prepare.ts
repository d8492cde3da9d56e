// prepare.ts: the fixed harness of the tiny workload. READ-ONLY: experiments edit train.ts only.
//
// Everything that must stay the same from one experiment to the next lives here, so that two
// runs of train.ts can be compared by one number:
//   - constants: the training time budget, the longest training window, the vocabulary, and the
//     evaluation's own context length and size;
//   - the data: a built-in synthetic language (the default: no download, no network) or your own
//     text through AUTORESEARCH_DATA, written once into data/ as train.bin and val.bin;
//   - the tokenizer: raw UTF-8 bytes (see "Tokenizer" below for why);
//   - a dataloader of random training windows;
//   - the evaluation: `tsx prepare.ts evaluate`, run by the harness in a fresh process after
//     training. It loads the model train.ts saved, feeds it the validation bytes in windows of
//     EVAL_SEQ_LEN, gets logits back and computes the cross-entropy itself, in bits per byte.
//
// Usage:
//   tsx prepare.ts             write data/ once (train.bin, val.bin, meta.json), then describe it
//   tsx prepare.ts evaluate    score the checkpoint in $AUTORESEARCH_OUTPUT (default ./out) and
//                              print the `---` block with val_bpb
//
// Environment:
//   AUTORESEARCH_TIME_BUDGET  training budget in seconds (float; default 60)
//   AUTORESEARCH_DATA         (prepare) a .txt / .jsonl / .jsonl.gz file, or a directory of them
//                             (.jsonl lines are objects with a "text" string)
//   AUTORESEARCH_VAL_DATA     (prepare) validation file or directory (default: the last 10%)
//   AUTORESEARCH_SEED         added to train.ts's SEED (integer; default 0): the harness changes it
//                             between repeated runs of one commit to measure the noise
//   AUTORESEARCH_OUTPUT       where train.ts saves the model and the evaluation reads it
//
// Why the evaluation is built this way: whoever edits train.ts is optimising val_bpb, so nothing
// in train.ts's control may produce or bend it. The model's code (train.ts's loadModel and
// forward) runs in a child process started with Node's permission model: it can read only its
// own code and a copy of the checkpoint (not data/val.bin), cannot write files, start processes
// or threads. Its output is never passed through as is. The evaluator picks the windows, their
// order and length, checks the logits (shape, finite, causal, independent of the other rows of the
// batch, the same from a fresh copy of the model: no learning on the validation text), and does
// the scoring. With the harness's sandbox, training cannot read data/val.bin either.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync, constants as fsConstants, existsSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync,
  statSync, writeFileSync,
} from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
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
// harness hides it from training runs) and data/meta.json. It never rewrites them: a study keeps
// one validation set. Delete data/ to prepare other data.

/** The data as read from its source (prepare only; training and evaluation read data/). */
export interface Dataset {
  train: Uint8Array; // training bytes
  val: Uint8Array; // the EVAL_BYTES validation bytes the metric is computed on
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
  if (val.length < 2 * EVAL_SEQ_LEN) {
    throw new DataError(`${valPath ?? dataPath}: too little validation text (${val.length} bytes; need at least ${2 * EVAL_SEQ_LEN})`);
  }
  val = val.slice(0, EVAL_BYTES);
  const split = valPath ? `val from ${valPath}` : `last ${VAL_FRACTION * 100}% held out`;
  return { train, val, source: `${dataPath} (${split})`, entropyRate: null };
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
  if (existsSync(metaPath) && existsSync(join(dir, 'train.bin')) && existsSync(join(dir, 'val.bin'))) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as DataMeta;
    if (meta.key !== key) {
      throw new DataError(`${dir} was prepared from ${meta.source}, not from the data named now; delete ${dir} to prepare again`);
    }
    return { meta, created: false };
  }
  const d = readDataset(env);
  mkdirSync(dir, { recursive: true });
  const meta: DataMeta = { key, source: d.source, trainBytes: d.train.length, valBytes: d.val.length, entropyRate: d.entropyRate };
  const put = (name: string, bytes: Uint8Array | string) => {
    writeFileSync(join(dir, `${name}.tmp`), bytes);
    renameSync(join(dir, `${name}.tmp`), join(dir, name)); // whole files only, even if killed
  };
  put('train.bin', d.train);
  put('val.bin', d.val);
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

/** The validation bytes (the evaluation's only; hidden from training by the sandbox). Throws DataError. */
export function readValidation(dir = DATA_DIR): Uint8Array {
  const p = join(dir, 'val.bin');
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
 * The model as the evaluation sees it; train.ts's `loadModel(dir)` returns one. Tokens
 * (batchSize * seqLen, row-major) in, logits (batchSize * seqLen * VOCAB_SIZE) out, where the
 * logits at position t of a row may depend only on the tokens at positions <= t of that row.
 * The evaluation calls it with seqLen = EVAL_SEQ_LEN, whatever SEQ_LEN the model was trained
 * with. The returned array may be reused between calls.
 */
export type ForwardFn = (tokens: Int32Array, batchSize: number, seqLen: number) => Float32Array | Float64Array;

/** A model under evaluation as the evaluator talks to it: a worker process (or in-process, in tests). */
export interface ModelSession {
  forward(tokens: Int32Array, batchSize: number, seqLen: number): Promise<ArrayLike<number>>;
  close(): void;
}

/** The model broke a rule of the evaluation: the run is a crash, with this reason. */
export class EvalError extends Error {}

export interface EvalResult {
  bpb: number; // bits per byte, the metric
  scored: number; // bytes scored (every validation byte after the first)
  windows: number; // windows of EVAL_SEQ_LEN
  calls: number; // forward calls, checks included
}

const VERIFY_EVERY = 4; // batches between two verification batches
const FRESH_CHECK_BATCHES = 2; // batches asked again of a fresh copy of the model at the end
const TOLERANCE = 1e-4; // relative difference allowed between logits that must be equal

/**
 * Bits per byte of a model on `val`. The bytes are cut into windows of EVAL_SEQ_LEN (window w
 * starts at byte w * EVAL_SEQ_LEN); every byte after the first is predicted exactly once, from the
 * bytes before it in its window; the cross-entropy is computed here, in float64. The windows go
 * to the model in a random order, EVAL_BATCH at a time, and the answers are checked:
 *  - every answer: the right number of logits, all finite;
 *  - after every VERIFY_EVERY batches, some of their windows again, in other rows, each cut at a
 *    random point after which its bytes are replaced by random ones: the logits before the cut
 *    must not change (a model that reads later bytes, or other rows of the batch, fails);
 *  - at the end the first batch again, which must give the same logits, then a fresh session (a
 *    new process, so no state) asked windows from the second half of the order: the same logits,
 *    so the model did not learn from the validation bytes it was shown.
 * Throws EvalError with the reason when a check fails. `random(n)` gives an integer in [0, n);
 * crypto-random by default, so the model cannot predict the order, the cuts or the checks.
 */
export async function scoreModel(open: () => Promise<ModelSession>, val: Uint8Array, random: (n: number) => number = cryptoInt): Promise<EvalResult> {
  const T = EVAL_SEQ_LEN, B = EVAL_BATCH, V = VOCAB_SIZE;
  const nTargets = val.length - 1;
  const nWin = Math.ceil(nTargets / T);
  const order = shuffle(Array.from({ length: nWin }, (_, i) => i), random);
  const batches: number[][] = [];
  for (let i = 0; i < nWin; i += B) batches.push(order.slice(i, i + B));
  const late = shuffle(order.slice(Math.floor(nWin / 2)), random).slice(0, FRESH_CHECK_BATCHES * B); // chosen now, checked at the end
  const lateLogits = new Map<number, Float32Array>();
  const nats = new Float64Array(nWin);
  let calls = 0;

  /** Logits of the model for these windows (at most B; spare rows repeat the first window). */
  const ask = async (session: ModelSession, windows: number[], edit?: (row: number, tokens: Int32Array) => void): Promise<Float32Array> => {
    const tokens = new Int32Array(B * T);
    for (let r = 0; r < B; r++) {
      const start = (windows[r] ?? windows[0]!) * T;
      for (let t = 0; t < T && start + t < val.length; t++) tokens[r * T + t] = val[start + t]!;
      edit?.(r, tokens);
    }
    const out = await session.forward(tokens, B, T);
    calls++;
    if (out.length !== B * T * V) throw new EvalError(`the model returned ${out.length} logits for a batch of ${B} x ${T}, expected ${B * T * V}`);
    const logits = Float32Array.from(out);
    for (let i = 0; i < logits.length; i++) {
      if (!Number.isFinite(logits[i]!)) throw new EvalError(`the model returned a non-finite logit (${logits[i]}) at row ${Math.floor(i / (T * V))}, position ${Math.floor(i / V) % T}`);
    }
    return logits;
  };
  const row = (logits: Float32Array, r: number) => logits.slice(r * T * V, (r + 1) * T * V);
  /** First position < `upTo` where two rows of logits differ beyond TOLERANCE, or -1. */
  const differ = (a: Float32Array, b: Float32Array, upTo = T) => {
    for (let i = 0; i < upTo * V; i++) if (Math.abs(a[i]! - b[i]!) > TOLERANCE * (1 + Math.abs(a[i]!))) return Math.floor(i / V);
    return -1;
  };

  const main = await open();
  let first: Float32Array | undefined;
  try {
    let pool: { w: number; logits: Float32Array }[] = [];
    for (let k = 0; k < batches.length; k++) {
      const windows = batches[k]!;
      const logits = await ask(main, windows);
      first ??= logits;
      windows.forEach((w, r) => {
        const o = r * T * V, start = w * T;
        let sum = 0;
        for (let t = 0; t < T && start + t < nTargets; t++) {
          const p = o + t * V;
          let max = -Infinity, z = 0;
          for (let v = 0; v < V; v++) if (logits[p + v]! > max) max = logits[p + v]!;
          for (let v = 0; v < V; v++) z += Math.exp(logits[p + v]! - max);
          sum += Math.log(z) + max - logits[p + val[start + t + 1]!]!;
        }
        nats[w] = sum;
        const kept = row(logits, r);
        pool.push({ w, logits: kept });
        if (late.includes(w)) lateLogits.set(w, kept);
      });
      if ((k + 1) % VERIFY_EVERY === 0 || k === batches.length - 1) {
        const picked = shuffle(pool, random).slice(0, B);
        const cuts = picked.map(() => 1 + random(T - 1));
        const noise = randomBytes(B * T);
        const again = await ask(main, picked.map((p) => p.w), (r, tokens) => {
          if (r >= picked.length) return;
          for (let t = cuts[r]!; t < T; t++) tokens[r * T + t] = noise[r * T + t]!;
        });
        picked.forEach((p, r) => {
          const t = differ(p.logits, row(again, r), cuts[r]!);
          if (t >= 0) {
            throw new EvalError(`the model is not causal: its logits at position ${t} changed when only the bytes from position ${cuts[r]} on (and the other rows of the batch) changed; a model may not read later bytes, other rows, or learn from earlier calls`);
          }
        });
        pool = [];
      }
    }
    const repeat = await ask(main, batches[0]!);
    if (differ(first!, repeat) >= 0) {
      throw new EvalError('the model is not stateless: the first batch asked again at the end gave other logits (a model must not learn from the validation bytes)');
    }
  } finally {
    main.close();
  }
  const fresh = await open();
  try {
    for (let i = 0; i < late.length; i += B) {
      const windows = late.slice(i, i + B);
      const logits = await ask(fresh, windows);
      windows.forEach((w, r) => {
        if (differ(lateLogits.get(w)!, row(logits, r)) >= 0) {
          throw new EvalError('the model is not stateless: a fresh copy of it gives other logits for windows shown late in the evaluation (a model must not learn from the validation bytes)');
        }
      });
    }
  } finally {
    fresh.close();
  }
  let total = 0;
  for (let w = 0; w < nWin; w++) total += nats[w]!; // in window order: the sum does not depend on the random order
  // One token is one byte, so nats per token / ln 2 is bits per byte.
  return { bpb: total / Math.LN2 / nTargets, scored: nTargets, windows: nWin, calls };
}

function cryptoInt(n: number): number {
  return randomBytes(4).readUInt32LE(0) % n; // n is small: the modulo bias is negligible
}

function shuffle<X>(xs: X[], random: (n: number) => number): X[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// The model worker: train.ts's code, run apart
// ---------------------------------------------------------------------------------------------
// The evaluator bundles train.ts (which may import only ./prepare.ts and node: built-ins) into
// one plain JavaScript module, copies the checkpoint, and starts `node <permission flag>
// --allow-fs-read=<that folder> worker.mjs` with an empty environment. Node's permission model
// then refuses the worker any other file (data/val.bin included), any write, child process,
// worker thread, native addon or inspector. The evaluator ignores SIGUSR1 so that the worker
// cannot open an inspector into it. Protocol, binary, little-endian: requests on the worker's
// stdin (int32 batchSize, int32 seqLen, then the tokens as int32), answers on its fd 3 (uint32
// byte length, then the logits as float32); an empty answer first says the model is loaded.
// The worker's stdout and stderr reach the log only as `[model] ` lines, cleaned, capped.

const CHECKPOINT_CAP = 1 << 30; // bytes of checkpoint the evaluator copies at most
const WORKER_TIMEOUT_MS = 300_000; // for loading the model, and for each forward call

/** The worker's main loop (runs inside the worker, on train.ts's loadModel). */
export async function serveModel(loadModel: (dir: string) => ForwardFn | Promise<ForwardFn>, dir: string): Promise<void> {
  const { Socket } = await import('node:net');
  const out = new Socket({ fd: 3, readable: false, writable: true });
  const send = (bytes: Uint8Array) => {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(bytes.byteLength, 0);
    out.write(head);
    out.write(Buffer.from(bytes)); // a copy: forward may reuse its array
  };
  const forward = await loadModel(dir);
  send(new Uint8Array(0));
  let buf = Buffer.alloc(0);
  process.stdin.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const B = buf.readInt32LE(0), T = buf.readInt32LE(4), need = 8 + B * T * 4;
      if (buf.length < need) break;
      const tokens = new Int32Array(B * T);
      new Uint8Array(tokens.buffer).set(buf.subarray(8, need));
      buf = buf.subarray(need);
      const logits = forward(tokens, B, T);
      const f32 = logits instanceof Float32Array ? logits : Float32Array.from(logits);
      send(new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength));
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

/** A log line from the model's code, made harmless: printable ASCII, no `METRIC`, prefixed. */
export function cleanModelLine(line: string): string {
  return `[model] ${line.replace(/[^\x20-\x7e]/g, '?').replace(/METRIC/gi, 'metric').slice(0, 300)}`;
}

/** Starts a model worker on the bundle and checkpoint in `work` (see above). */
export function openWorker(work: string, log: (line: string) => void): Promise<ModelSession> {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const flag = major > 22 || (major === 22 && minor >= 13) ? '--permission' : '--experimental-permission';
  // One folder grant (Node 20 aborts when given the same folder twice, e.g. as `work` and `work/*`).
  const child = spawn(process.execPath, [flag, `--allow-fs-read=${work}`, join(work, 'worker.mjs'), join(work, 'checkpoint')], {
    cwd: work,
    env: {},
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = []; // the last few, for the reason when it dies
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      const parts = (rest + s).split('\n');
      rest = parts.pop()!.slice(-10_000); // a line without end is cut, not kept whole
      for (const l of parts) {
        if (/ExperimentalWarning|--trace-warnings/.test(l)) continue;
        lines.push(l);
        if (lines.length > 5) lines.shift();
        log(cleanModelLine(l));
      }
    });
  }
  let buf = Buffer.alloc(0);
  let waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; bytes: number } | null = null;
  let dead: Error | null = null;
  const fail = (e: Error) => {
    dead ??= e;
    if (waiting) { clearTimeout(waiting.timer); waiting.reject(dead); waiting = null; }
  };
  const pump = () => {
    if (!waiting || buf.length < 4) return;
    const n = buf.readUInt32LE(0);
    if (n !== waiting.bytes) return fail(new EvalError(`the model worker sent an answer of ${n} bytes, expected ${waiting.bytes}`));
    if (buf.length < 4 + n) return;
    const frame = buf.subarray(4, 4 + n);
    buf = buf.subarray(4 + n);
    clearTimeout(waiting.timer);
    const w = waiting;
    waiting = null;
    w.resolve(frame);
  };
  child.stdio[3]!.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (buf.length > 4 + 4 * EVAL_BATCH * MAX_SEQ_LEN * VOCAB_SIZE + 4) { fail(new EvalError('the model worker sent more than it was asked for')); child.kill('SIGKILL'); return; }
    pump();
  });
  child.on('error', (e) => fail(new EvalError(`could not start the model worker: ${e.message}`)));
  child.on('exit', (code, signal) => {
    const tail = lines.slice(-5).map((l) => cleanModelLine(l).slice(8)).join(' | ');
    fail(new EvalError(`the model worker exited (${signal ?? `code ${code}`}) before answering${tail ? `; its last lines: ${tail}` : ''}`));
  });
  child.stdin!.on('error', () => {}); // a dead worker is reported by 'exit'
  const next = (what: string, bytes: number) => new Promise<Buffer>((resolve, reject) => {
    if (dead) return reject(dead);
    const timer = setTimeout(() => { fail(new EvalError(`the model worker did not answer within ${WORKER_TIMEOUT_MS / 1000} s (${what})`)); child.kill('SIGKILL'); }, WORKER_TIMEOUT_MS);
    waiting = { resolve, reject, timer, bytes };
    pump();
  });
  const session: ModelSession = {
    async forward(tokens, batchSize, seqLen) {
      const head = Buffer.alloc(8);
      head.writeInt32LE(batchSize, 0);
      head.writeInt32LE(seqLen, 4);
      child.stdin!.write(head);
      child.stdin!.write(Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength));
      const frame = await next('forward', 4 * batchSize * seqLen * VOCAB_SIZE);
      const logits = new Float32Array(frame.length / 4);
      new Uint8Array(logits.buffer).set(frame);
      return logits;
    },
    close() {
      child.stdin!.end();
      child.kill('SIGKILL');
    },
  };
  return next('loading the model', 0).then(() => session).catch((e) => { child.kill('SIGKILL'); throw e; });
}

/** Copies the plain files of `src` (the checkpoint) into `dst`; symbolic links and other special files are refused. */
export function copyCheckpoint(src: string, dst: string): void {
  if (!existsSync(src) || !statSync(src).isDirectory()) throw new EvalError(`no checkpoint: ${src} is not a directory (train.ts saves the model in $AUTORESEARCH_OUTPUT)`);
  let total = 0, files = 0;
  const walk = (from: string, to: string, depth: number) => {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      const p = join(from, name);
      const st = lstatSync(p);
      if (st.isDirectory() && depth < 8) { walk(p, join(to, name), depth + 1); continue; }
      if (!st.isFile()) throw new EvalError(`the checkpoint may hold plain files only: ${relative(src, p)} is not one`);
      let fd: number;
      try {
        fd = openSync(p, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW); // no link swapped in since the lstat
      } catch {
        throw new EvalError(`the checkpoint may hold plain files only: ${relative(src, p)} is not one`);
      }
      try {
        if (!fstatSync(fd).isFile()) throw new EvalError(`the checkpoint may hold plain files only: ${relative(src, p)} is not one`);
        const bytes = readFileSync(fd);
        total += bytes.length;
        if (total > CHECKPOINT_CAP) throw new EvalError(`the checkpoint is larger than ${CHECKPOINT_CAP / 2 ** 20} MiB`);
        writeFileSync(join(to, name), bytes);
        files++;
      } finally {
        closeSync(fd);
      }
    }
  };
  walk(src, dst, 0);
  if (files === 0) throw new EvalError(`no checkpoint: ${src} is empty (train.ts saves the model there)`);
}

interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
}

/** esbuild, found next to the tsx this process runs under (tsx depends on it), or next to this file. */
function findEsbuild(): Esbuild {
  const bases = [...process.execArgv, fileURLToPath(import.meta.url), join(process.cwd(), 'x')]
    .filter((a) => a.includes('/'))
    .map((a) => (a.startsWith('file:') ? fileURLToPath(a) : a));
  for (const base of bases) {
    try {
      return createRequire(base)('esbuild') as Esbuild;
    } catch {
      // next candidate
    }
  }
  throw new EvalError('esbuild (installed with tsx) was not found: run the evaluation with tsx ("tsx prepare.ts evaluate")');
}

/** Writes work/model.mjs (train.ts + prepare.ts as one module) and work/worker.mjs (its entry). */
export async function bundleModel(root: string, work: string): Promise<void> {
  const allowed = new Set([join(root, 'train.ts'), join(root, 'prepare.ts')]);
  let result: { outputFiles: { text: string }[] };
  try {
    result = await findEsbuild().build({
      stdin: { contents: "export { loadModel } from './train.ts';\nexport { serveModel } from './prepare.ts';\n", resolveDir: root, sourcefile: 'model-worker.ts', loader: 'ts' },
      bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent',
      plugins: [{
        name: 'only-prepare-and-builtins',
        setup(b: { onResolve(o: { filter: RegExp }, f: (a: { path: string; resolveDir: string }) => unknown): void }) {
          b.onResolve({ filter: /.*/ }, (a) => {
            if (isBuiltin(a.path)) return { path: a.path, external: true };
            const p = resolve(a.resolveDir, a.path);
            if (allowed.has(p)) return { path: p };
            return { errors: [{ text: `train.ts may import only ./prepare.ts and node: built-ins, not "${a.path}"` }] };
          });
        },
      }],
    });
  } catch (err) {
    if (err instanceof EvalError) throw err;
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
    const what = errors?.length ? errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('; ') : (err as Error).message;
    throw new EvalError(`could not build the model's code (train.ts must export loadModel(dir)): ${what}`);
  }
  writeFileSync(join(work, 'model.mjs'), result.outputFiles[0]!.text);
  writeFileSync(join(work, 'worker.mjs'), "import { loadModel, serveModel } from './model.mjs';\nawait serveModel(loadModel, process.argv[2]);\n");
}

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

/** `tsx prepare.ts evaluate`: scores the checkpoint in $AUTORESEARCH_OUTPUT and prints the `---` block. */
async function evaluateMain(): Promise<number> {
  process.on('SIGUSR1', () => {}); // the model worker may send it: no inspector opens into this process
  const t0 = performance.now();
  const outDir = resolve(process.env.AUTORESEARCH_OUTPUT?.trim() || 'out');
  const root = dirname(fileURLToPath(import.meta.url));
  let shown = 0, dropped = 0, quiet = false;
  const log = (line: string) => {
    if (quiet) return; // nothing from the model after the summary block
    if (shown++ < 50) process.stdout.write(`${line}\n`);
    else dropped++;
  };
  const work = mkdtempSync(join(tmpdir(), 'tiny-eval-'));
  try {
    const val = readValidation();
    copyCheckpoint(outDir, join(work, 'checkpoint'));
    await bundleModel(root, work);
    const r = await scoreModel(() => openWorker(work, log), val);
    quiet = true;
    if (dropped) console.log(`[model] (${dropped} more lines not shown)`);
    console.log('---');
    console.log(`val_bpb:          ${r.bpb.toFixed(6)}`);
    console.log(`eval_seconds:     ${((performance.now() - t0) / 1000).toFixed(1)}`);
    console.log(`eval_seq_len:     ${EVAL_SEQ_LEN}`);
    console.log(`eval_bytes:       ${r.scored + 1}`);
    return 0;
  } catch (err) {
    if (err instanceof DataError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof EvalError) {
      console.log(`FAIL: ${err.message.replace(/[^\x20-\x7e]/g, '?')}`);
      return 1;
    }
    throw err;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const command = process.argv[2];
  const done = (code: number) => process.exit(code);
  try {
    if (command === 'evaluate') evaluateMain().then(done, (err) => { throw err; });
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
