// prepare.mjs — the fixed evaluation of the synthetic landscape (read-only for experiments).
//
// A stand-in for a training run, for trying search strategies and testing the harness: the
// metric is a KNOWN function of the knobs in train.mjs plus controlled noise, so the true
// optimum is known and every keep can be checked against the truth.
//
//   true_val_bpb = 1.0 at the optimum; each knob away from its optimum adds a penalty
// The metric comes from the evaluate step (`node prepare.mjs evaluate`), which scores the
// checkpoint (the knobs) that train.mjs saved in AUTORESEARCH_OUTPUT.
//
//   val_bpb      = true_val_bpb + noise, noise ~ Normal(0, NOISE_SIGMA), seeded by
//                  (AUTORESEARCH_SEED, the knobs): the same code and seed give the same value,
//                  like a deterministic training run; another seed gives another draw.
//
// Knobs the harness controls through the environment:
//   LANDSCAPE_NOISE    noise standard deviation (default 0.002, about the run-to-run spread of
//                      the original's 5-minute GPU runs)
//   LANDSCAPE_SEED_NOISE standard deviation of a seed effect shared by all code (default 0): like
//                      a GPU run's initialisation and data order, the same seed shifts every
//                      version of the code alike (LANDSCAPE_NOISE is then the part a change
//                      scrambles); the spread over seeds is sqrt(SEED_NOISE^2 + NOISE^2)
//   LANDSCAPE_SLEEP_S  seconds each "training run" takes (default 0)
//   LANDSCAPE_PROGRESS progress lines a run of LANDSCAPE_SLEEP_S > 0 prints (default 10; 0: none):
//                      `progress: elapsed=S loss=L`, a made-up training curve that decays to the
//                      true value (+ a run-level and a per-line noise draw, each NOISE_SIGMA)
//   LANDSCAPE_FLAT     "1": every knob setting has the same true value 1.0 (every change is a
//                      no-op; for measuring how often a judge keeps pure noise)
//   AUTORESEARCH_SPLIT "heldout" (set by the harness for analysis runs' evaluate steps only):
//                      score the held-out split, here another noise draw around the same truth;
//                      the block then says `heldout_split: 1`

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// ---- Fixed constants ----------------------------------------------------------------------------

export const NOISE_SIGMA = Number(process.env.LANDSCAPE_NOISE ?? 0.002);
export const SEED_NOISE = Number(process.env.LANDSCAPE_SEED_NOISE ?? 0);
export const SLEEP_S = Number(process.env.LANDSCAPE_SLEEP_S ?? 0);
export const FLAT = process.env.LANDSCAPE_FLAT === '1';
export const PROGRESS_LINES = Math.max(0, Math.floor(Number(process.env.LANDSCAPE_PROGRESS ?? 10) || 0));

/** The optimum of every knob (what a perfect search finds). */
export const OPTIMUM = {
  LR: 0.04, // learning rate
  WIDTH: 256, // model width
  DEPTH: 6, // layers
  WARMUP_RATIO: 0.05, // fraction of the budget spent warming up
  WEIGHT_DECAY: 0.1, // weight decay
  USE_BIAS: false, // biases in linear layers
  ACTIVATION: 'relu2', // MLP non-linearity
};

// ---- The landscape ------------------------------------------------------------------------------

/** The noise-free metric of a set of knobs (1.0 at the optimum; lower is better). */
export function trueValue(k) {
  const sq = (x) => x * x;
  let v = 1.0;
  v += 0.08 * sq(Math.log2(k.LR / OPTIMUM.LR)); // a bowl in log-learning-rate
  v += 0.02 * sq(Math.log2(k.WIDTH / OPTIMUM.WIDTH)); // width: wider helps up to a point
  v += 0.01 * sq(k.DEPTH - OPTIMUM.DEPTH); // depth
  v += 0.3 * sq(k.WARMUP_RATIO - OPTIMUM.WARMUP_RATIO); // a little warmup helps
  v += 0.05 * Math.abs(Math.log10((k.WEIGHT_DECAY + 1e-3) / (OPTIMUM.WEIGHT_DECAY + 1e-3))); // decay
  v += k.USE_BIAS === OPTIMUM.USE_BIAS ? 0 : 0.01;
  v += { relu2: 0, gelu: 0.004, relu: 0.012 }[k.ACTIVATION] ?? 0.05;
  return v;
}

/** A deterministic standard normal draw for (seed, knobs). */
function noiseFor(seed, knobs) {
  let h = 2166136261 >>> 0;
  for (const ch of `${seed}|${JSON.stringify(knobs)}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const rand = () => {
    h = (h + 0x6d2b79f5) >>> 0;
    let t = h;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * The made-up training loss at `progress` (0..1) of a run: decays to the true value, with a draw
 * per run and a smaller one per line (independent of the evaluation's draw, as a real training
 * loss is only a guess at the validation score).
 */
export function trainingLoss(knobs, progress, line) {
  const seed = process.env.AUTORESEARCH_SEED ?? '0';
  const truth = FLAT ? 1.0 : trueValue(knobs);
  const run = NOISE_SIGMA * noiseFor(`${seed}|curve`, knobs);
  const jitter = 0.5 * NOISE_SIGMA * noiseFor(`${seed}|curve|${line}`, knobs);
  return truth + 0.5 * (1 - progress) ** 2 + run + jitter;
}

/** Scores knobs: the summary block, as a training run's evaluation would print it. */
export function score(knobs) {
  const heldout = process.env.AUTORESEARCH_SPLIT === 'heldout';
  const seed = `${process.env.AUTORESEARCH_SEED ?? '0'}${heldout ? '|heldout' : ''}`;
  const truth = FLAT ? 1.0 : trueValue(knobs);
  const value = truth + NOISE_SIGMA * noiseFor(seed, knobs) + (SEED_NOISE > 0 ? SEED_NOISE * noiseFor(seed, 'seed') : 0);
  return { value, truth };
}

/**
 * "Trains": takes SLEEP_S seconds, then saves the knobs (the "model") as the checkpoint in
 * AUTORESEARCH_OUTPUT for the evaluate step. Without AUTORESEARCH_OUTPUT (run by hand), it
 * prints the score itself.
 */
export async function train(knobs) {
  const t0 = Date.now();
  const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
  if (SLEEP_S > 0 && PROGRESS_LINES > 0) {
    for (let i = 1; i <= PROGRESS_LINES; i++) {
      await sleep(SLEEP_S / PROGRESS_LINES);
      const elapsed = (Date.now() - t0) / 1000; // the loss follows the clock, as in a time-budgeted run
      const loss = trainingLoss(knobs, Math.min(1, elapsed / SLEEP_S), i);
      console.log(`progress: elapsed=${elapsed.toFixed(3)} step=${i} loss=${loss.toFixed(6)}`);
    }
  } else if (SLEEP_S > 0) await sleep(SLEEP_S);
  const out = process.env.AUTORESEARCH_OUTPUT;
  console.log('---');
  console.log(`training_seconds: ${((Date.now() - t0) / 1000).toFixed(1)}`);
  if (out) {
    writeFileSync(join(out, 'knobs.json'), JSON.stringify(knobs));
  } else {
    const { value, truth } = score(knobs);
    console.log(`val_bpb:          ${value.toFixed(6)}`);
    console.log(`true_val_bpb:     ${truth.toFixed(6)}`);
  }
}

// ---- The evaluate step (`node prepare.mjs evaluate`) ------------------------------------------

const KNOB_TYPES = { LR: 'number', WIDTH: 'number', DEPTH: 'number', WARMUP_RATIO: 'number', WEIGHT_DECAY: 'number', USE_BIAS: 'boolean', ACTIVATION: 'string' };

/** Reads the checkpoint training left and prints the summary block with the metric. */
function evaluateCheckpoint() {
  const file = join(process.env.AUTORESEARCH_OUTPUT ?? '.', 'knobs.json');
  const knobs = JSON.parse(readFileSync(file, 'utf8'));
  for (const [k, type] of Object.entries(KNOB_TYPES)) {
    if (typeof knobs[k] !== type || (type === 'number' && !Number.isFinite(knobs[k]))) {
      console.log(`FAIL: checkpoint knob ${k} is ${JSON.stringify(knobs[k])}, expected a ${type}`);
      process.exit(1);
    }
  }
  const { value, truth } = score(knobs);
  console.log('---');
  console.log(`val_bpb:          ${value.toFixed(6)}`);
  console.log(`true_val_bpb:     ${truth.toFixed(6)}`);
  if (process.env.AUTORESEARCH_SPLIT === 'heldout') console.log('heldout_split:    1');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'evaluate') evaluateCheckpoint();
