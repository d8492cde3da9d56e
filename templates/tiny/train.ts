// train.ts: the one file experiments edit. A small byte-level GPT trained on the CPU for a fixed
// wall-clock budget; it saves the model, and evaluate.ts (read-only) scores it in a separate step,
// in validation bits per byte on windows of EVAL_SEQ_LEN bytes (whatever SEQ_LEN is here).
// Forward and backward are written out by hand over Float32Arrays: no autograd, no dependencies.
//
//   tsx prepare.ts                    once: writes data/
//   tsx train.ts                      trains, saves the model in $AUTORESEARCH_OUTPUT (default out/)
//   tsx evaluate.ts                   scores it (what the harness runs after training)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ForwardFn, loadData, makeDataLoader, makeRng, MAX_SEQ_LEN, RUN_SEED, TIME_BUDGET, VOCAB_SIZE } from './prepare.ts';

// ---- Hyperparameters --------------------------------------------------------------------------

const DEPTH = 1; // transformer blocks
const N_EMBD = 48; // model width (a multiple of 4 and of N_HEAD)
const N_HEAD = 4; // attention heads; head size = N_EMBD / N_HEAD
const MLP_RATIO = 4; // MLP hidden width = MLP_RATIO * N_EMBD
const SEQ_LEN = 32; // training window in bytes (a multiple of 4, <= MAX_SEQ_LEN); the evaluation's is EVAL_SEQ_LEN
const BATCH_SIZE = 8; // sequences per step
const MATRIX_LR = 0.01; // peak AdamW learning rate of the attention and MLP matrices
const EMBED_LR = 0.03; // peak learning rate of the embeddings and the output head
const NORM_LR = 0.01; // peak learning rate of the RMSNorm gains
const WARMUP_RATIO = 0.02; // share of the time budget spent ramping the learning rate up
const WARMDOWN_RATIO = 0.3; // share of the time budget spent decaying it linearly to zero
const WEIGHT_DECAY = 0.0; // decoupled weight decay (matrices only)
const BETA1 = 0.9; // Adam first-moment decay
const BETA2 = 0.99; // Adam second-moment decay
const ADAM_EPS = 1e-8; // Adam denominator epsilon
const GRAD_CLIP = 1.0; // clip the global gradient norm to this (0 = off)
const SEED = 42; // parameter init and data order (the harness adds AUTORESEARCH_SEED to it)
const LOG_EVERY = 5; // seconds between the step lines
const PROGRESS_EVERY = Math.max(0.2, TIME_BUDGET / 50); // seconds between "progress: elapsed=S loss=L" lines (the harness may stop a clearly worse run early)

// ---- Model ------------------------------------------------------------------------------------
// Token embeddings, DEPTH blocks of (RMSNorm -> causal self-attention -> residual, RMSNorm -> MLP
// with ReLU^2 -> residual), final RMSNorm, linear head to 256 logits. Positions enter through
// ALiBi: head h adds -slope_h * (distance to the key) to its attention scores, slopes 2^(-8(h+1)/H).
// No parameter depends on the window length, so a model trained on SEQ_LEN runs on any window
// (the evaluation uses EVAL_SEQ_LEN). A Linear layer's weight is stored [in, out], so y = x W is
// matmul(y, x, W).

export type Floats = Float32Array | Float64Array;
export interface Config { depth: number; width: number; heads: number; mlpRatio: number; seqLen: number; batchSize: number }
interface Scratch { q: Floats; k: Floats; v: Floats; y: Floats; dq: Floats; dk: Floats; dv: Floats; dp: Floats }
export interface Tensor { name: string; data: Floats; grad: Floats; group: 'matrix' | 'embed' | 'norm'; offset: number }

/** A model for batches of cfg.batchSize x cfg.seqLen; F = Float64Array makes a float64 copy for gradient checks. */
export function createModel(cfg: Config, F: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array, seed = SEED) {
  const { depth: L, width: D, heads: H, seqLen: T, batchSize: B } = cfg;
  const N = B * T, M = cfg.mlpRatio * D, V = VOCAB_SIZE;
  if (D % 4 || D % H || T % 4 || !Number.isInteger(M / 4)) {
    throw new Error('width, seqLen and MLP width must be multiples of 4, and width a multiple of heads');
  }
  if (T > MAX_SEQ_LEN) throw new Error(`seqLen ${T} > MAX_SEQ_LEN ${MAX_SEQ_LEN}`);

  // Parameters: views into one flat array (and one for gradients), so the optimizer is one loop.
  const size = 2 * V * D + D + L * (2 * D + 4 * D * D + 2 * D * M);
  const params = new F(size), grads = new F(size), tensors: Tensor[] = [];
  const rng = makeRng(seed);
  const randn = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const param = (name: string, n: number, group: Tensor['group'], std: number): Tensor => {
    const offset = tensors.reduce((o, t) => o + t.data.length, 0);
    const t: Tensor = { name, data: params.subarray(offset, offset + n), grad: grads.subarray(offset, offset + n), group, offset };
    for (let i = 0; i < n; i++) t.data[i] = group === 'norm' ? 1 : std * randn(); // norm gains start at 1
    tensors.push(t);
    return t;
  };
  const wte = param('wte', V * D, 'embed', 1);
  const blocks = Array.from({ length: L }, (_, l) => ({ // output projections start at 0: each block starts as the identity
    norm1: param(`h${l}.norm1`, D, 'norm', 1),
    wqkv: param(`h${l}.wqkv`, D * 3 * D, 'matrix', 1 / Math.sqrt(D)),
    wo: param(`h${l}.wo`, D * D, 'matrix', 0),
    norm2: param(`h${l}.norm2`, D, 'norm', 1),
    wfc: param(`h${l}.wfc`, D * M, 'matrix', 1 / Math.sqrt(D)),
    wproj: param(`h${l}.wproj`, M * D, 'matrix', 0),
  }));
  const normf = param('normf', D, 'norm', 1), head = param('head', D * V, 'embed', 0); // zero head: the first prediction is uniform

  // Activations, kept for the backward pass: all allocated once, nothing is allocated per step.
  const layers = Array.from({ length: L }, () => ({
    xIn: new F(N * D), h1: new F(N * D), rstd1: new F(N), qkv: new F(N * 3 * D),
    att: Array.from({ length: B * H }, () => new F(T * T)), // softmax probabilities, one T x T per (sequence, head)
    y: new F(N * D), xMid: new F(N * D), h2: new F(N * D), rstd2: new F(N), f: new F(N * M), a: new F(N * M),
  }));
  const xOut = new F(N * D), hf = new F(N * D), rstdf = new F(N), logits = new F(N * V);
  const dx = new F(N * D), dh = new F(N * D), dy = new F(N * D), dqkv = new F(N * 3 * D), da = new F(N * M);
  const hs = D / H, perHead = () => new F(T * hs); // one head of one sequence: T x hs
  const slopes = Array.from({ length: H }, (_, h) => 2 ** (-8 * (h + 1) / H)); // ALiBi
  const scratch: Scratch = { q: perHead(), k: perHead(), v: perHead(), y: perHead(), dq: perHead(), dk: perHead(), dv: perHead(), dp: new F(T * T) };
  let lastTokens: Int32Array = new Int32Array(N);

  function forward(tokens: Int32Array): Floats {
    lastTokens = tokens;
    const x0 = L > 0 ? layers[0]!.xIn : xOut;
    for (let n = 0; n < N; n++) {
      const tok = tokens[n]! * D;
      for (let i = 0; i < D; i++) x0[n * D + i] = wte.data[tok + i]!;
    }
    for (let l = 0; l < L; l++) {
      const a = layers[l]!, w = blocks[l]!, out = l + 1 < L ? layers[l + 1]!.xIn : xOut;
      rmsnorm(a.h1, a.rstd1, a.xIn, w.norm1.data, N, D);
      a.qkv.fill(0); matmul(a.qkv, a.h1, w.wqkv.data, N, D, 3 * D);
      attention(a.y, a.att, a.qkv, scratch, slopes, B, T, H, D);
      a.xMid.set(a.xIn); matmul(a.xMid, a.y, w.wo.data, N, D, D);
      rmsnorm(a.h2, a.rstd2, a.xMid, w.norm2.data, N, D);
      a.f.fill(0); matmul(a.f, a.h2, w.wfc.data, N, D, M);
      for (let i = 0; i < N * M; i++) { const v = a.f[i]!; a.a[i] = v > 0 ? v * v : 0; } // ReLU^2
      out.set(a.xMid); matmul(out, a.a, w.wproj.data, N, M, D);
    }
    rmsnorm(hf, rstdf, xOut, normf.data, N, D);
    logits.fill(0); matmul(logits, hf, head.data, N, D, V);
    return logits;
  }

  /** Loss of the last forward against `targets`; fills every .grad (overwriting). */
  function backward(targets: Int32Array): number {
    grads.fill(0);
    const loss = crossEntropy(logits, targets, N, V); // logits now hold dLoss/dlogits
    matmulAT(head.grad, hf, logits, D, N, V);
    dh.fill(0); matmulBT(dh, logits, head.data, N, V, D);
    dx.fill(0); rmsnormBackward(dx, normf.grad, dh, xOut, rstdf, normf.data, N, D);
    for (let l = L - 1; l >= 0; l--) {
      const a = layers[l]!, w = blocks[l]!;
      matmulAT(w.wproj.grad, a.a, dx, M, N, D); // MLP: out = xMid + relu(h2 wfc)^2 wproj
      da.fill(0); matmulBT(da, dx, w.wproj.data, N, D, M);
      for (let i = 0; i < N * M; i++) { const v = a.f[i]!; da[i] = v > 0 ? 2 * v * da[i]! : 0; }
      matmulAT(w.wfc.grad, a.h2, da, D, N, M);
      dh.fill(0); matmulBT(dh, da, w.wfc.data, N, M, D);
      rmsnormBackward(dx, w.norm2.grad, dh, a.xMid, a.rstd2, w.norm2.data, N, D);
      matmulAT(w.wo.grad, a.y, dx, D, N, D); // attention: xMid = xIn + attn(h1) wo
      dy.fill(0); matmulBT(dy, dx, w.wo.data, N, D, D);
      attentionBackward(dqkv, dy, a.att, a.qkv, scratch, B, T, H, D);
      matmulAT(w.wqkv.grad, a.h1, dqkv, D, N, 3 * D);
      dh.fill(0); matmulBT(dh, dqkv, w.wqkv.data, N, 3 * D, D);
      rmsnormBackward(dx, w.norm1.grad, dh, a.xIn, a.rstd1, w.norm1.data, N, D);
    }
    const gte = wte.grad;
    for (let n = 0; n < N; n++) {
      const tok = lastTokens[n]! * D;
      for (let i = 0; i < D; i++) gte[tok + i]! += dx[n * D + i]!;
    }
    return loss;
  }

  if (tensors.reduce((o, t) => o + t.data.length, 0) !== size) throw new Error('parameter count mismatch');
  return { cfg, tensors, params, grads, forward, backward, numParams: size };
}

// ---- Kernels ----------------------------------------------------------------------------------
// Row-major matrices. The matmuls ACCUMULATE into C (C += ...), like BLAS gemm with beta = 1.
// They work on 4x4 register tiles, ~5x faster in V8 than the plain i-k-j loop, so
// M and K must be multiples of 4 (matmul, matmulAT), or M and N (matmulBT).

/** C[M,N] += A[M,K] B[K,N] */
export function matmul(C: Floats, A: Floats, B: Floats, M: number, K: number, N: number): void {
  for (let i = 0; i < M; i += 4) {
    const c0 = i * N, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
    for (let k = 0; k < K; k += 4) {
      const r0 = i * K + k, r1 = r0 + K, r2 = r1 + K, r3 = r2 + K, b0 = k * N, b1 = b0 + N, b2 = b1 + N, b3 = b2 + N;
      const a00 = A[r0]!, a01 = A[r0 + 1]!, a02 = A[r0 + 2]!, a03 = A[r0 + 3]!, a10 = A[r1]!, a11 = A[r1 + 1]!, a12 = A[r1 + 2]!, a13 = A[r1 + 3]!;
      const a20 = A[r2]!, a21 = A[r2 + 1]!, a22 = A[r2 + 2]!, a23 = A[r2 + 3]!, a30 = A[r3]!, a31 = A[r3 + 1]!, a32 = A[r3 + 2]!, a33 = A[r3 + 3]!;
      for (let j = 0; j < N; j++) {
        const x0 = B[b0 + j]!, x1 = B[b1 + j]!, x2 = B[b2 + j]!, x3 = B[b3 + j]!;
        C[c0 + j]! += a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3;
        C[c1 + j]! += a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3;
        C[c2 + j]! += a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3;
        C[c3 + j]! += a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3;
      }
    }
  }
}

/** C[M,N] += A[K,M]^T B[K,N]  (weight gradients: dW += x^T dy) */
export function matmulAT(C: Floats, A: Floats, B: Floats, M: number, K: number, N: number): void {
  for (let i = 0; i < M; i += 4) {
    const c0 = i * N, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
    for (let k = 0; k < K; k += 4) {
      const r0 = k * M + i, r1 = r0 + M, r2 = r1 + M, r3 = r2 + M, b0 = k * N, b1 = b0 + N, b2 = b1 + N, b3 = b2 + N;
      const a00 = A[r0]!, a01 = A[r1]!, a02 = A[r2]!, a03 = A[r3]!, a10 = A[r0 + 1]!, a11 = A[r1 + 1]!, a12 = A[r2 + 1]!, a13 = A[r3 + 1]!;
      const a20 = A[r0 + 2]!, a21 = A[r1 + 2]!, a22 = A[r2 + 2]!, a23 = A[r3 + 2]!, a30 = A[r0 + 3]!, a31 = A[r1 + 3]!, a32 = A[r2 + 3]!, a33 = A[r3 + 3]!;
      for (let j = 0; j < N; j++) {
        const x0 = B[b0 + j]!, x1 = B[b1 + j]!, x2 = B[b2 + j]!, x3 = B[b3 + j]!;
        C[c0 + j]! += a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3;
        C[c1 + j]! += a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3;
        C[c2 + j]! += a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3;
        C[c3 + j]! += a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3;
      }
    }
  }
}

/** C[M,N] += A[M,K] B[N,K]^T  (input gradients: dx += dy W^T); dot products on 4x4 tiles */
export function matmulBT(C: Floats, A: Floats, B: Floats, M: number, K: number, N: number): void {
  for (let i = 0; i < M; i += 4) {
    const r0 = i * K, r1 = r0 + K, r2 = r1 + K, r3 = r2 + K;
    for (let j = 0; j < N; j += 4) {
      const q0 = j * K, q1 = q0 + K, q2 = q1 + K, q3 = q2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const y0 = B[q0 + k]!, y1 = B[q1 + k]!, y2 = B[q2 + k]!, y3 = B[q3 + k]!;
        let x = A[r0 + k]!; s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
        x = A[r1 + k]!; s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
        x = A[r2 + k]!; s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
        x = A[r3 + k]!; s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
      }
      const c = i * N + j;
      C[c]! += s00; C[c + 1]! += s01; C[c + 2]! += s02; C[c + 3]! += s03;
      C[c + N]! += s10; C[c + N + 1]! += s11; C[c + N + 2]! += s12; C[c + N + 3]! += s13;
      C[c + 2 * N]! += s20; C[c + 2 * N + 1]! += s21; C[c + 2 * N + 2]! += s22; C[c + 2 * N + 3]! += s23;
      C[c + 3 * N]! += s30; C[c + 3 * N + 1]! += s31; C[c + 3 * N + 2]! += s32; C[c + 3 * N + 3]! += s33;
    }
  }
}

/** out = x / rms(x) * g per row; keeps 1/rms for the backward pass. */
function rmsnorm(out: Floats, rstd: Floats, x: Floats, g: Floats, N: number, D: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * D;
    let ss = 0;
    for (let i = 0; i < D; i++) ss += x[o + i]! * x[o + i]!;
    const r = 1 / Math.sqrt(ss / D + 1e-5);
    rstd[n] = r;
    for (let i = 0; i < D; i++) out[o + i] = x[o + i]! * r * g[i]!;
  }
}

/** dx += d(out)/dx^T dout, dg += d(out)/dg^T dout */
function rmsnormBackward(dx: Floats, dg: Floats, dout: Floats, x: Floats, rstd: Floats, g: Floats, N: number, D: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * D, r = rstd[n]!;
    let s = 0;
    for (let i = 0; i < D; i++) s += dout[o + i]! * g[i]! * x[o + i]!;
    const c = (r * r * r * s) / D;
    for (let i = 0; i < D; i++) {
      dx[o + i]! += r * dout[o + i]! * g[i]! - c * x[o + i]!;
      dg[i]! += dout[o + i]! * x[o + i]! * r;
    }
  }
}

/** Copies head `col..col+hs` of sequence b between a [B*T, stride] activation and a [T, hs] block. */
function gather(dst: Floats, src: Floats, b: number, col: number, stride: number, T: number, hs: number): void {
  for (let t = 0; t < T; t++) for (let e = 0; e < hs; e++) dst[t * hs + e] = src[(b * T + t) * stride + col + e]!;
}
function scatter(dst: Floats, src: Floats, b: number, col: number, stride: number, T: number, hs: number): void {
  for (let t = 0; t < T; t++) for (let e = 0; e < hs; e++) dst[(b * T + t) * stride + col + e] = src[t * hs + e]!;
}

/** Causal self-attention, one (sequence, head) at a time: P = softmax(Q K^T / sqrt(hs) - slope (t - j)),
 * Y = P V. qkv rows are [q | k | v]; att[b * H + h] keeps P (T x T, zero above the diagonal). */
function attention(y: Floats, att: Floats[], qkv: Floats, s: Scratch, slopes: number[], B: number, T: number, H: number, D: number): void {
  const hs = D / H, scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    gather(s.q, qkv, b, h * hs, 3 * D, T, hs); gather(s.k, qkv, b, D + h * hs, 3 * D, T, hs); gather(s.v, qkv, b, 2 * D + h * hs, 3 * D, T, hs);
    const P = att[b * H + h]!, m = slopes[h]!;
    P.fill(0); matmulBT(P, s.q, s.k, T, hs, T);
    for (let t = 0; t < T; t++) {
      const r = t * T;
      let max = -Infinity, sum = 0;
      for (let j = 0; j <= t; j++) max = Math.max(max, (P[r + j] = P[r + j]! * scale - m * (t - j)));
      for (let j = 0; j <= t; j++) sum += P[r + j] = Math.exp(P[r + j]! - max);
      for (let j = 0; j <= t; j++) P[r + j] = P[r + j]! / sum;
      for (let j = t + 1; j < T; j++) P[r + j] = 0; // the causal mask
    }
    s.y.fill(0); matmul(s.y, P, s.v, T, T, hs);
    scatter(y, s.y, b, h * hs, D, T, hs);
  }
}

function attentionBackward(dqkv: Floats, dy: Floats, att: Floats[], qkv: Floats, s: Scratch, B: number, T: number, H: number, D: number): void {
  const hs = D / H, scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    gather(s.q, qkv, b, h * hs, 3 * D, T, hs); gather(s.k, qkv, b, D + h * hs, 3 * D, T, hs); gather(s.v, qkv, b, 2 * D + h * hs, 3 * D, T, hs);
    gather(s.y, dy, b, h * hs, D, T, hs); // s.y holds dY here
    const P = att[b * H + h]!, dP = s.dp;
    dP.fill(0); matmulBT(dP, s.y, s.v, T, hs, T); // dP = dY V^T
    s.dv.fill(0); matmulAT(s.dv, P, s.y, T, T, hs); // dV = P^T dY
    for (let t = 0; t < T; t++) { // through the softmax: dS = P * (dP - rowsum(P * dP)), times the scale
      const r = t * T;
      let dot = 0;
      for (let j = 0; j <= t; j++) dot += P[r + j]! * dP[r + j]!;
      for (let j = 0; j < T; j++) dP[r + j] = P[r + j]! * (dP[r + j]! - dot) * scale;
    }
    s.dq.fill(0); matmul(s.dq, dP, s.k, T, T, hs); // dQ = dS K
    s.dk.fill(0); matmulAT(s.dk, dP, s.q, T, T, hs); // dK = dS^T Q
    scatter(dqkv, s.dq, b, h * hs, 3 * D, T, hs); scatter(dqkv, s.dk, b, D + h * hs, 3 * D, T, hs); scatter(dqkv, s.dv, b, 2 * D + h * hs, 3 * D, T, hs);
  }
}

/** Mean cross-entropy; overwrites logits with dLoss/dlogits. */
function crossEntropy(logits: Floats, targets: Int32Array, N: number, V: number): number {
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const o = n * V, y = targets[n]!;
    let max = -Infinity, sum = 0;
    for (let v = 0; v < V; v++) if (logits[o + v]! > max) max = logits[o + v]!;
    loss += max - logits[o + y]!;
    for (let v = 0; v < V; v++) sum += logits[o + v] = Math.exp(logits[o + v]! - max);
    loss += Math.log(sum);
    for (let v = 0; v < V; v++) logits[o + v] = logits[o + v]! / (sum * N);
    logits[o + y]! -= 1 / N;
  }
  return loss / N;
}

// ---- Optimizer: AdamW with global-norm clipping -----------------------------------------------

function makeOptimizer(model: ReturnType<typeof createModel>) {
  const m = new Float32Array(model.numParams), v = new Float32Array(model.numParams);
  let t = 0;
  return function step(lrMult: number): number {
    const g = model.grads, w = model.params;
    let norm = 0;
    for (let i = 0; i < g.length; i++) norm += g[i]! * g[i]!;
    norm = Math.sqrt(norm);
    const clip = GRAD_CLIP > 0 && norm > GRAD_CLIP ? GRAD_CLIP / norm : 1;
    t++;
    const bc1 = 1 - BETA1 ** t, bc2 = 1 - BETA2 ** t;
    for (const tensor of model.tensors) {
      const lr = lrMult * (tensor.group === 'matrix' ? MATRIX_LR : tensor.group === 'embed' ? EMBED_LR : NORM_LR);
      const decay = tensor.group === 'matrix' ? 1 - lr * WEIGHT_DECAY : 1;
      for (let i = tensor.offset; i < tensor.offset + tensor.data.length; i++) {
        const gi = g[i]! * clip;
        m[i] = BETA1 * m[i]! + (1 - BETA1) * gi;
        v[i] = BETA2 * v[i]! + (1 - BETA2) * gi * gi;
        w[i] = w[i]! * decay - (lr * m[i]! / bc1) / (Math.sqrt(v[i]! / bc2) + ADAM_EPS);
      }
    }
    return norm;
  };
}

/** Learning-rate multiplier at a point of the budget (0..1): linear warmup, flat, linear warmdown. */
function lrSchedule(progress: number): number {
  if (progress < WARMUP_RATIO) return (progress + 1e-3) / WARMUP_RATIO;
  if (progress > 1 - WARMDOWN_RATIO) return Math.max(0, (1 - progress) / WARMDOWN_RATIO);
  return 1;
}

// ---- Training ---------------------------------------------------------------------------------

function main(): void {
  const t0 = performance.now();
  const data = loadData();
  const cfg: Config = { depth: DEPTH, width: N_EMBD, heads: N_HEAD, mlpRatio: MLP_RATIO, seqLen: SEQ_LEN, batchSize: BATCH_SIZE };
  const model = createModel(cfg, Float32Array, SEED + RUN_SEED);
  const optimizerStep = makeOptimizer(model);
  const nextBatch = makeDataLoader(data.train, BATCH_SIZE, SEQ_LEN, SEED + RUN_SEED);
  const x = new Int32Array(BATCH_SIZE * SEQ_LEN), y = new Int32Array(BATCH_SIZE * SEQ_LEN);
  console.log(`data: ${data.source}, ${data.train.length} train bytes`);
  if (data.entropyRate !== null) console.log(`entropy floor: ${data.entropyRate.toFixed(4)} bits/byte`);
  console.log(`model: depth ${DEPTH}, width ${N_EMBD}, ${N_HEAD} heads, ${(model.numParams / 1e6).toFixed(3)}M params`);
  console.log(`batch ${BATCH_SIZE} x ${SEQ_LEN} bytes, time budget ${TIME_BUDGET}s`);

  let step = 0, trainSeconds = 0, nextLog = 0, nextProgress = 0, smooth = 0;
  while (trainSeconds < TIME_BUDGET) {
    const start = performance.now();
    nextBatch(x, y);
    model.forward(x);
    const loss = model.backward(y);
    if (!Number.isFinite(loss) || loss > 100) {
      console.log(`FAIL: training diverged (loss ${loss}) at step ${step}`);
      process.exit(1);
    }
    optimizerStep(lrSchedule(trainSeconds / TIME_BUDGET));
    step++;
    trainSeconds += (performance.now() - start) / 1000;
    smooth = 0.9 * smooth + 0.1 * loss; // an EMA of the loss, debiased when printed
    if (step === 1 || trainSeconds >= nextLog || trainSeconds >= TIME_BUDGET) {
      const tps = Math.round((step * BATCH_SIZE * SEQ_LEN) / trainSeconds);
      console.log(`step ${step} | loss ${(smooth / (1 - 0.9 ** step)).toFixed(4)} | ${trainSeconds.toFixed(1)}/${TIME_BUDGET}s | ${tps} tok/s`);
      nextLog = trainSeconds + LOG_EVERY;
    }
    if (trainSeconds >= nextProgress) {
      console.log(`progress: elapsed=${trainSeconds.toFixed(2)} step=${step} loss=${(smooth / (1 - 0.9 ** step)).toFixed(5)}`);
      nextProgress = trainSeconds + PROGRESS_EVERY;
    }
  }

  const outDir = resolve(process.env.AUTORESEARCH_OUTPUT?.trim() || 'out');
  saveModel(outDir, model);
  if (!process.env.AUTORESEARCH_OUTPUT) console.log(`saved the model in ${outDir}; score it with: tsx evaluate.ts`);
  console.log('---');
  console.log(`train_loss:       ${(smooth / (1 - 0.9 ** step)).toFixed(6)}`);
  console.log(`training_seconds: ${trainSeconds.toFixed(1)}`);
  console.log(`total_seconds:    ${((performance.now() - t0) / 1000).toFixed(1)}`);
  console.log(`num_steps:        ${step}`);
  console.log(`num_params_M:     ${(model.numParams / 1e6).toFixed(2)}`);
  console.log(`tokens_per_second: ${Math.round((step * BATCH_SIZE * SEQ_LEN) / trainSeconds)}`);
  console.log(`peak_memory_mb:   ${(process.resourceUsage().maxRSS / 1024).toFixed(1)}`);
}

// ---- Checkpoint ---------------------------------------------------------------------------------
// What the evaluation runs: evaluate.ts calls loadModel(dir) in a separate process that may read
// only this file, prepare.ts and the checkpoint. Change the format freely; keep the two in step.

function saveModel(dir: string, model: ReturnType<typeof createModel>): void {
  const { depth, width, heads, mlpRatio } = model.cfg;
  mkdirSync(dir, { recursive: true });
  const weights = Float32Array.from(model.params);
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(weights.buffer));
  writeFileSync(join(dir, 'model.json'), `${JSON.stringify({ config: { depth, width, heads, mlpRatio }, numParams: model.numParams }, null, 2)}\n`);
}

/** The saved model's forward pass, for batches of any shape (one model per shape, sharing the weights). */
export function loadModel(dir: string): ForwardFn {
  const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { config: Omit<Config, 'seqLen' | 'batchSize'>; numParams: number };
  const bytes = readFileSync(join(dir, 'weights.bin'));
  const weights = new Float32Array(bytes.length / 4);
  new Uint8Array(weights.buffer).set(bytes);
  const models = new Map<string, ReturnType<typeof createModel>>();
  return (tokens, batchSize, seqLen) => {
    const key = `${batchSize}x${seqLen}`;
    let model = models.get(key);
    if (!model) {
      model = createModel({ ...meta.config, batchSize, seqLen });
      if (model.numParams !== weights.length) throw new Error(`weights.bin holds ${weights.length} numbers, the model has ${model.numParams}`);
      model.params.set(weights);
      models.set(key, model);
    }
    return model.forward(tokens);
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
