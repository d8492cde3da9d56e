/**
 * The process runner: runs a study's command in its own process group, with a hard timeout,
 * abort, capped log capture, metric parsing and outcome classification.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { classifyRun, type RunFacts } from './classify.js';
import { LogCapture } from './log-capture.js';
import { parseMetrics } from './metrics.js';
import { GroupRegistry, killGroup } from './process-group.js';
import { scrub, type Secret } from './secrets.js';
import type { RunResult, RunSpec, Runner } from './types.js';

export const DEFAULT_KILL_GRACE_MS = 5000;
export const DEFAULT_LOG_CAP_BYTES = 50 * 1024 * 1024;
/** Longest delay Node's timers accept; longer timeouts are clamped to it (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Tunables of the runner itself (the per-run settings are in `RunSpec`). */
export interface ProcessRunnerOptions {
  /**
   * After the main process exited and its group was SIGKILLed, how long to wait for stdout and
   * stderr to close (a process that escaped the group may hold them open). Default 2000.
   */
  pipeDrainMs?: number;
  /** After SIGKILL, how long to wait for the exit before giving up on the process. Default 10000. */
  killWaitMs?: number;
}

/** What supervising the child found out. */
interface Outcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  spawnError?: string;
  endedAt: number;
}

/**
 * Runs commands with `/bin/sh -c` in their own process group (see the `Runner` contract in
 * types.ts). `run` never throws for anything the command does; it throws only when the log file
 * cannot be created or the spec is invalid (a negative or NaN timeout). Several runs may be in
 * flight at once on one instance. If Node exits while runs are in flight, their groups are
 * SIGKILLed by an exit hook.
 */
export class ProcessRunner implements Runner {
  private readonly pipeDrainMs: number;
  private readonly killWaitMs: number;
  private readonly groups = new GroupRegistry();

  constructor(options: ProcessRunnerOptions = {}) {
    this.pipeDrainMs = options.pipeDrainMs ?? 2000;
    this.killWaitMs = options.killWaitMs ?? 10_000;
  }

  async run(spec: RunSpec, signal?: AbortSignal): Promise<RunResult> {
    if (Number.isNaN(spec.timeoutMs) || spec.timeoutMs < 0) {
      throw new Error(`RunSpec.timeoutMs must be >= 0, got ${spec.timeoutMs}`);
    }
    const startedAt = Date.now();
    const capture = LogCapture.open(spec.logPath, spec.logCapBytes ?? DEFAULT_LOG_CAP_BYTES);

    let outcome: Outcome;
    if (signal?.aborted) {
      outcome = { exitCode: null, signal: null, timedOut: false, aborted: true, endedAt: Date.now() };
    } else {
      const child = startChild(spec);
      outcome = typeof child === 'string' ? notStarted(child) : await this.supervise(child, spec, capture, signal);
    }

    capture.close();
    const output = await capturedText(capture);
    scrubLogFile(capture, output, spec.secrets);
    const metrics = parseMetrics(output);
    const facts: RunFacts = {
      metric: spec.metric,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      timedOut: outcome.timedOut,
      aborted: outcome.aborted,
      timeoutMs: spec.timeoutMs,
      output,
      metrics,
    };
    if (outcome.spawnError !== undefined) facts.spawnError = outcome.spawnError;
    const c = classifyRun(facts);
    const result: RunResult = {
      kind: c.kind,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      metrics,
      value: c.value,
      startedAt,
      endedAt: outcome.endedAt,
      durationMs: outcome.endedAt - startedAt,
      logPath: spec.logPath,
      logTail: scrub(capture.tail(), spec.secrets),
      outputBytes: capture.totalBytes,
      truncated: capture.truncated,
    };
    if (c.failure !== undefined) result.failure = c.failure;
    if (c.reason !== undefined) result.reason = scrub(c.reason, spec.secrets);
    return result;
  }

  /** Streams the child's output, enforces the timeout and abort, reaps its group. Never rejects. */
  private supervise(
    child: ChildProcess,
    spec: RunSpec,
    capture: LogCapture,
    signal: AbortSignal | undefined,
  ): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const pgid = child.pid; // == the group id (detached: the child leads its own group)
      const grace = spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
      const pipes = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
      const timers = new Set<NodeJS.Timeout>();
      const later = (ms: number, fn: () => void): void => {
        const t = setTimeout(() => {
          timers.delete(t);
          fn();
        }, Math.min(ms, MAX_TIMER_MS));
        timers.add(t);
      };
      let killedFor: 'timeout' | 'abort' | null = null;
      let exited = false;
      let settled = false;

      const settle = (o: Omit<Outcome, 'timedOut' | 'aborted'>): void => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        signal?.removeEventListener('abort', onAbort);
        if (pgid !== undefined) this.groups.delete(pgid);
        for (const p of pipes) p.destroy();
        flushDecoders();
        resolve({ ...o, timedOut: killedFor === 'timeout', aborted: killedFor === 'abort' });
      };

      // Output: both pipes into the capture (arrival order), and decoded to onOutput.
      const decoders: StringDecoder[] = [];
      const emit = (text: string): void => {
        if (text === '' || !spec.onOutput) return;
        try {
          spec.onOutput(scrub(text, spec.secrets));
        } catch {
          // onOutput must not throw; if it does, the run goes on regardless.
        }
      };
      const flushDecoders = (): void => {
        for (const d of decoders) emit(d.end());
      };
      let openPipes = pipes.length;
      let onPipesClosed: (() => void) | null = null;
      for (const pipe of pipes) {
        const decoder = new StringDecoder('utf8');
        decoders.push(decoder);
        pipe.on('data', (chunk: Buffer) => {
          capture.write(chunk);
          if (spec.onOutput) emit(decoder.write(chunk));
        });
        pipe.on('error', () => {
          // A read error on a pipe ends it; the exit status still decides the outcome.
        });
        pipe.once('close', () => {
          openPipes -= 1;
          if (openPipes === 0) onPipesClosed?.();
        });
      }

      // Kill sequence shared by the timeout and abort: SIGTERM the group, SIGKILL after grace.
      const startKill = (why: 'timeout' | 'abort'): void => {
        if (killedFor !== null || exited || settled || pgid === undefined) return;
        killedFor = why;
        killGroup(pgid, 'SIGTERM');
        later(grace, () => {
          killGroup(pgid, 'SIGKILL');
          // An unkillable process (stuck in the kernel) must not hang the study forever.
          later(this.killWaitMs, () =>
            settle({ exitCode: null, signal: null, endedAt: Date.now() }),
          );
        });
      };
      const onAbort = (): void => startKill('abort');

      child.on('error', (err) => {
        // Emitted without an 'exit' when the spawn itself failed (no pid).
        if (child.pid === undefined) settle({ ...notStarted(errorMessage(err)) });
      });

      child.once('exit', (code, sig) => {
        exited = true;
        const endedAt = Date.now();
        // Whatever the main process left behind in its group dies with it.
        if (pgid !== undefined) killGroup(pgid, 'SIGKILL');
        for (const t of timers) clearTimeout(t);
        timers.clear();
        const done = (): void => settle({ exitCode: code, signal: sig, endedAt });
        if (openPipes === 0) return done();
        onPipesClosed = done;
        later(this.pipeDrainMs, done);
      });

      if (pgid === undefined) return; // the 'error' event follows
      this.groups.add(pgid);
      try {
        spec.onSpawn?.(pgid);
      } catch {
        // onSpawn is the caller's; a throw there must not leave the command unsupervised.
      }
      if (Number.isFinite(spec.timeoutMs)) later(spec.timeoutMs, () => startKill('timeout'));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
    });
  }
}

/** A runner with default options. */
export function createRunner(options: ProcessRunnerOptions = {}): Runner {
  return new ProcessRunner(options);
}

function notStarted(why: string): Outcome & { spawnError: string } {
  return { exitCode: null, signal: null, timedOut: false, aborted: false, spawnError: why, endedAt: Date.now() };
}

/**
 * Spawns `[...wrapper] /bin/sh -c command` as the leader of a new process group; a string says
 * why not.
 */
function startChild(spec: RunSpec): ChildProcess | string {
  const cwdProblem = checkDirectory(spec.cwd);
  if (cwdProblem !== undefined) return cwdProblem;
  try {
    const [exe, ...prefix] = [...(spec.wrapper ?? []), '/bin/sh'];
    return spawn(exe!, [...prefix, '-c', spec.command], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    // e.g. an environment value with a NUL byte
    return errorMessage(err);
  }
}

/** Why `dir` cannot be a working directory, or undefined when it can. */
function checkDirectory(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return `working directory is not a directory: ${dir}`;
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `working directory does not exist: ${dir}`;
    return `working directory is not usable: ${dir} (${errorMessage(err)})`;
  }
}

/** The log as it ended up on disk (head + marker + tail); the in-memory tail if the disk failed. */
async function capturedText(capture: LogCapture): Promise<string> {
  let text = '';
  try {
    text = await readFile(capture.path, 'utf8');
  } catch {
    return capture.tail();
  }
  // After a disk error the file is incomplete; the in-memory tail holds the last words.
  return capture.writeError ? `${text}\n${capture.tail()}` : text;
}

/** Rewrites the log file without the secret values when it holds any (never throws). */
function scrubLogFile(capture: LogCapture, output: string, secrets: readonly Secret[] | undefined): void {
  if (!secrets?.length || capture.writeError) return;
  const clean = scrub(output, secrets);
  if (clean === output) return;
  try {
    writeFileSync(capture.path, clean);
  } catch {
    // The tail in the ledger is scrubbed regardless.
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
