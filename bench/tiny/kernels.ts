// GFLOPS of train.ts's matmul kernels (4x4 register tiles) against the plain i-k-j loop, at the
// shapes the default model uses. Timed in process CPU time, best of a few repeats, so that other
// load on a shared machine distorts it less. Not a test: a benchmark to read.
//
//   node --import tsx bench/tiny/kernels.ts
import { matmul, matmulAT, matmulBT } from '../../templates/tiny/train.ts';

type Kernel = (C: Float32Array, A: Float32Array, B: Float32Array, M: number, K: number, N: number) => void;

/** C[M,N] += A[M,K] B[K,N], the textbook cache-friendly loop order. */
const naiveIKJ: Kernel = (C, A, B, M, K, N) => {
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++) {
      const a = A[i * K + k]!;
      for (let j = 0; j < N; j++) C[i * N + j]! += a * B[k * N + j]!;
    }
};

function gflops(f: Kernel, M: number, K: number, N: number): number {
  const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
  const A = rand(M * K),
    B = rand(K * N),
    C = new Float32Array(M * N);
  const reps = Math.max(1, Math.ceil(2e7 / (2 * M * K * N)));
  let best = 0;
  for (let r = 0; r < 6; r++) {
    const t0 = process.cpuUsage().user;
    for (let i = 0; i < reps; i++) f(C, A, B, M, K, N);
    const us = process.cpuUsage().user - t0;
    best = Math.max(best, (2 * M * K * N * reps) / us / 1e3);
  }
  return best;
}

// [name, M, K, N] as C[M,N] += A[M,K] B[K,N] (for AT and BT the same product, other layouts).
const N = 8 * 32,
  D = 48;
const shapes: [string, number, number, number][] = [
  ['qkv   x W', N, D, 3 * D],
  ['fc    x W', N, D, 4 * D],
  ['proj  x W', N, 4 * D, D],
  ['head  x W', N, D, 256],
];
console.log('shape         M    K    N   i-k-j  matmul  matmulAT  matmulBT   (GFLOPS)');
for (const [name, m, k, n] of shapes) {
  const row = [
    naiveIKJ,
    matmul,
    (C: Float32Array, A: Float32Array, B: Float32Array) => matmulAT(C, A, B, m, k, n),
    (C: Float32Array, A: Float32Array, B: Float32Array) => matmulBT(C, A, B, m, k, n),
  ].map((f) => gflops(f as Kernel, m, k, n));
  console.log(
    `${name} ${String(m).padStart(5)}${String(k).padStart(5)}${String(n).padStart(5)}  ${row.map((g) => g.toFixed(2).padStart(7)).join('   ')}`,
  );
}
