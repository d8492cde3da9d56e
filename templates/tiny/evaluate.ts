// evaluate.ts: the evaluation of the tiny workload, the one source of val_bpb. READ-ONLY, like
// prepare.ts: experiments edit train.ts only.
//
// `tsx evaluate.ts` is the evaluate step the harness runs in a fresh process after training. It
// loads the model train.ts saved, feeds it the validation bytes (data/val.bin) in windows of
// EVAL_SEQ_LEN, gets logits back and computes the cross-entropy itself, in bits per byte. The
// constants and the data it uses are prepare.ts's (`tsx prepare.ts evaluate` is the same command).
//
// Usage:
//   tsx evaluate.ts            score the checkpoint in $AUTORESEARCH_OUTPUT (default ./out) and
//                              print the `---` block with val_bpb
//   AUTORESEARCH_SPLIT=heldout score the held-out split (data/heldout.bin) instead; the block then
//                              says `heldout_split: 1`. Set by the harness for analysis runs only.
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
  closeSync, constants as fsConstants, existsSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync,
  statSync, writeFileSync,
} from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DataError, EVAL_BATCH, EVAL_SEQ_LEN, type ForwardFn, MAX_SEQ_LEN, readValidation, VOCAB_SIZE } from './prepare.ts';

// ---------------------------------------------------------------------------------------------
// Evaluation: the fixed metric
// ---------------------------------------------------------------------------------------------

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
  throw new EvalError('esbuild (installed with tsx) was not found: run the evaluation with tsx ("tsx evaluate.ts")');
}

/**
 * Writes work/model.mjs (train.ts, prepare.ts and this file's serveModel as one module) and
 * work/worker.mjs (its entry). train.ts may import only ./prepare.ts and node: built-ins; the
 * protected files import each other.
 */
export async function bundleModel(root: string, work: string): Promise<void> {
  const [train, prepare, evaluate] = ['train.ts', 'prepare.ts', 'evaluate.ts'].map((f) => join(root, f));
  let result: { outputFiles: { text: string }[] };
  try {
    result = await findEsbuild().build({
      stdin: { contents: "export { loadModel } from './train.ts';\nexport { serveModel } from './evaluate.ts';\n", resolveDir: root, sourcefile: 'model-worker.ts', loader: 'ts' },
      bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent',
      plugins: [{
        name: 'only-prepare-and-builtins',
        setup(b: { onResolve(o: { filter: RegExp }, f: (a: { path: string; importer: string; resolveDir: string }) => unknown): void }) {
          b.onResolve({ filter: /.*/ }, (a) => {
            if (isBuiltin(a.path)) return { path: a.path, external: true };
            const p = resolve(a.resolveDir, a.path);
            if (a.importer === train ? p === train || p === prepare : p === train || p === prepare || p === evaluate) return { path: p };
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
// The command line
// ---------------------------------------------------------------------------------------------

/** `tsx evaluate.ts`: scores the checkpoint in $AUTORESEARCH_OUTPUT and prints the `---` block. */
export async function evaluateMain(): Promise<number> {
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
    const split = process.env.AUTORESEARCH_SPLIT?.trim() || 'val';
    if (split !== 'val' && split !== 'heldout') throw new DataError(`AUTORESEARCH_SPLIT must be "heldout" (or unset), got "${split}"`);
    const val = readValidation(undefined, split);
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
    if (split === 'heldout') console.log('heldout_split:    1');
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
  evaluateMain().then((code) => process.exit(code), (err) => { throw err; });
}
