// Count-based baselines for the tiny template's metric: unigram, bigram and trigram byte models
// estimated on the training bytes, scored in bits per byte on exactly the bytes the evaluation
// scores (every byte of data/val.bin after the first). val_bpb of a trained model should be
// clearly below these. Not a test: a benchmark to read.
//
//   node --import tsx bench/tiny/baselines.ts [DATA_DIR]
//
// DATA_DIR is a prepared data/ folder (`tsx prepare.ts` writes one); without it the data are
// prepared into a temp folder from AUTORESEARCH_DATA / AUTORESEARCH_VAL_DATA (or the built-in).
//
// Smoothing: add-one (Laplace), and add-k with the best k of a small grid (chosen on the
// validation bytes themselves, so that baseline is if anything optimistic).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareData, readTrainData, readValidation } from '../../templates/tiny/prepare.ts';

const dataDir = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'tiny-baselines-')), 'data');
if (!process.argv[2]) prepareData(dataDir);
const data = readTrainData(dataDir);
const train = data.train;
const val = readValidation(dataDir);
const V = 256;

const uni = new Float64Array(V);
const bi = new Float64Array(V * V);
const tri = new Float64Array(V * V * V);
for (let i = 0; i < train.length; i++) {
  uni[train[i]!]!++;
  if (i >= 1) bi[train[i - 1]! * V + train[i]!]!++;
  if (i >= 2) tri[(train[i - 2]! * V + train[i - 1]!) * V + train[i]!]!++;
}
const uniCtx = train.length;
const biCtx = new Float64Array(V); // count of each byte as a context
const triCtx = new Float64Array(V * V);
for (let a = 0; a < V; a++)
  for (let b = 0; b < V; b++) {
    biCtx[a]! += bi[a * V + b]!;
    for (let c = 0; c < V; c++) triCtx[a * V + b]! += tri[(a * V + b) * V + c]!;
  }

/** Bits per byte over val[1..] with add-k smoothing of an order-n model (n = 0, 1, 2 bytes of context). */
function bpb(order: 0 | 1 | 2, k: number): number {
  let bits = 0;
  for (let i = 1; i < val.length; i++) {
    const b = val[i]!;
    let count: number, ctx: number;
    if (order === 0) {
      count = uni[b]!;
      ctx = uniCtx;
    } else if (order === 1 || i < 2) {
      const a = val[i - 1]!;
      count = bi[a * V + b]!;
      ctx = biCtx[a]!;
    } else {
      const c = val[i - 2]! * V + val[i - 1]!;
      count = tri[c * V + b]!;
      ctx = triCtx[c]!;
    }
    bits -= Math.log2((count + k) / (ctx + k * V));
  }
  return bits / (val.length - 1);
}

const grid = [1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.001];
const best = (order: 0 | 1 | 2) =>
  grid.map((k) => ({ k, bpb: bpb(order, k) })).reduce((a, b) => (b.bpb < a.bpb ? b : a));
console.log(`data: ${data.source}; ${train.length} train bytes, ${val.length} val bytes (${val.length - 1} scored)`);
if (data.entropyRate !== null) console.log(`true entropy rate of the source: ${data.entropyRate.toFixed(4)} bits/byte`);
for (const [name, order] of [
  ['unigram', 0],
  ['bigram', 1],
  ['trigram', 2],
] as const) {
  const b = best(order);
  console.log(
    `${name.padEnd(8)} add-one ${bpb(order, 1).toFixed(4)} bpb   best add-k ${b.bpb.toFixed(4)} bpb (k=${b.k})`,
  );
}
